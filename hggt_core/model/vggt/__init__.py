# Copyright 2026 The HGGT-ROS Authors
# SPDX-License-Identifier: Apache-2.0
"""VGGT backbone parts used by HGGT: the alternating-attention aggregator and the camera head."""

from hggt_core.model.vggt.aggregator import Aggregator
from hggt_core.model.vggt.camera_head import CameraHead, activate_pose_encoding

__all__ = ["Aggregator", "CameraHead", "activate_pose_encoding"]
