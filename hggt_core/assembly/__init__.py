# Copyright 2026 The HGGT-ROS Authors
# SPDX-License-Identifier: Apache-2.0
"""Assembly: builds ready predictors of either engine from one settings object.

The top of the computational layers: it chooses between the HGGT path (:mod:`hggt_core.engine`,
:mod:`hggt_core.pipeline`) and the landmark engine (:mod:`hggt_core.landmarks`), so the CLI and
the ROS node build identical pipelines (``factory``), and names the hand localisers
(``localisers``).
"""
