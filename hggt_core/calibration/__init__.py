# Copyright 2026 The HGGT-ROS Authors
# SPDX-License-Identifier: Apache-2.0
"""A calibrated world: known cameras, a TF buffer, alignment, results in the world frame.

Known cameras and their YAML file: :mod:`.rig`; a minimal TF buffer: :mod:`.tf_tree`; the
similarity aligning an estimate to known cameras: :mod:`.align`; one frameset's hands in the
world frame: :mod:`.world`.

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
from hggt_core.calibration.tf_tree import TransformTree, TransformTreeError
from hggt_core.calibration.world import (
    WorldResults,
    calibration_for_views,
    calibration_from_tree,
    express_in_world,
)

__all__ = [
    "AlignmentConfig",
    "Calibration",
    "CalibrationError",
    "KnownCamera",
    "TransformTree",
    "TransformTreeError",
    "WorldAlignment",
    "WorldResults",
    "align_to_world",
    "calibration_for_views",
    "calibration_from_tree",
    "express_in_world",
    "load_calibration",
    "rigid_from_translation_quaternion",
    "to_world",
]
