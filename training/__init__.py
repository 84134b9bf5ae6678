# Copyright 2026 The HGGT-ROS Authors
# SPDX-License-Identifier: Apache-2.0
"""Training and evaluation of HGGT on top of :mod:`hggt_core` (never imports the ROS node)."""
