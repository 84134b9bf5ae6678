# Copyright 2026 The HGGT-ROS Authors
# SPDX-License-Identifier: Apache-2.0
"""ROS-free core of HGGT-ROS: both engines, the pipeline, MANO, geometry, I/O, the CLI.

Nothing here imports ROS; the `hggt_ros` package is a thin adapter around this library. The
subpackages are layered (``base`` at the bottom, ``cli`` on top; docs/DESIGN.md, "Layers").
"""

__version__ = "0.1.0"
