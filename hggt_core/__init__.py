# Copyright 2026 The HGGT-ROS Authors
# SPDX-License-Identifier: Apache-2.0
"""ROS-free core of HGGT-ROS: the HGGT network, MANO, geometry, metrics.

Nothing here imports ROS; the `hggt_ros` package is a thin adapter around this library.
"""

__version__ = "0.1.0"
