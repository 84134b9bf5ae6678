# Copyright 2026 The HGGT-ROS Authors
# SPDX-License-Identifier: Apache-2.0
"""A calibrated world: known cameras (:mod:`.rig`) and aligning results to them (:mod:`.align`).

ROS-free: the node's TF buffer and anchor build a :class:`Calibration` the same way the YAML
loader does.
"""

from hggt_core.calibration.align import (
    AlignmentConfig,
    WorldAlignment,
    align_to_world,
    to_world,
)
from hggt_core.calibration.rig import (
    Calibration,
    CalibrationError,
    KnownCamera,
    load_calibration,
    rigid_from_translation_quaternion,
)

__all__ = [
    "AlignmentConfig",
    "Calibration",
    "CalibrationError",
    "KnownCamera",
    "WorldAlignment",
    "align_to_world",
    "load_calibration",
    "rigid_from_translation_quaternion",
    "to_world",
]
