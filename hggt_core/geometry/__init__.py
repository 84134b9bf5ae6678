# Copyright 2026 The HGGT-ROS Authors
# SPDX-License-Identifier: Apache-2.0
"""Pure geometry functions (torch, batched over leading axes, no learned state).

- ``rotations``: axis-angle, quaternion (XYZW, w >= 0), 6-D and matrix conversions, geodesic
  angle.
- ``pose_encoding``: VGGT's 9-D camera encoding <-> extrinsics and intrinsics.
- ``projection``: rigid transforms named by frames, pinhole projection.
- ``procrustes``: similarity (Umeyama) alignment.
"""

from hggt_core.geometry.pose_encoding import (
    POSE_ENCODING_DIM,
    extrinsics_intrinsics_to_pose_encoding,
    intrinsics_crop_to_image,
    pose_encoding_to_extrinsics_intrinsics,
)
from hggt_core.geometry.procrustes import similarity_procrustes
from hggt_core.geometry.projection import (
    compose_rigid,
    invert_rigid,
    project_points,
    to_homogeneous_4x4,
    transform_points,
)
from hggt_core.geometry.rotations import (
    axis_angle_to_matrix,
    axis_angle_to_quaternion,
    geodesic_angle,
    matrix_to_axis_angle,
    matrix_to_quaternion,
    matrix_to_rotation_6d,
    quaternion_to_axis_angle,
    quaternion_to_matrix,
    rotation_6d_to_matrix,
    standardize_quaternion,
)

__all__ = [
    "POSE_ENCODING_DIM",
    "axis_angle_to_matrix",
    "axis_angle_to_quaternion",
    "compose_rigid",
    "extrinsics_intrinsics_to_pose_encoding",
    "geodesic_angle",
    "intrinsics_crop_to_image",
    "invert_rigid",
    "matrix_to_axis_angle",
    "matrix_to_quaternion",
    "matrix_to_rotation_6d",
    "pose_encoding_to_extrinsics_intrinsics",
    "project_points",
    "quaternion_to_axis_angle",
    "quaternion_to_matrix",
    "rotation_6d_to_matrix",
    "similarity_procrustes",
    "standardize_quaternion",
    "to_homogeneous_4x4",
    "transform_points",
]
