# Copyright 2026 The HGGT-ROS Authors
# SPDX-License-Identifier: Apache-2.0
"""Turning a right-hand prediction made on mirrored crops back into a left hand.

HGGT only knows right hands. A left hand is therefore shown to it in horizontally flipped crops,
where it looks like a right hand; everything the network then predicts lives in *mirrored*
camera frames. Flipping every crop about its vertical axis is, in 3-D, the reflection
``M = diag(-1, 1, 1)`` of the x axis of every camera frame (a pinhole camera maps the reflected
scene ``M X`` to the flipped image, its principal point flipped too; see
:mod:`hggt_core.pipeline.crop`). Undoing it means conjugating every quantity by ``M``:

* points (vertices, joints, translations): ``X -> M X``, i.e. x negated;
* rotations: ``R -> M R M``. For an axis-angle vector ``w`` (a pseudo-vector),
  ``M exp([w]) M = exp([det(M) M w]) = exp([-M w])``, so ``(x, y, z) -> (x, -y, -z)``. Applied
  to every MANO joint rotation (global orientation and the 15 local finger rotations alike,
  since both the parent frames and the rest pose of the left model are the mirror images of
  the right's);
* rigid transforms ``cam_from_ref = [R | t]`` between two mirrored frames:
  ``[M R M | M t]``;
* VGGT pose encodings: t x negated; quaternion (x, y, z, w) -> (x, -y, -z, w); fields of view
  unchanged.

The mirrored parameters reproduce the mirrored mesh exactly with a left MANO model that is the
mirror image of the right one (the synthetic model; the official ``MANO_LEFT.pkl`` once its
shapedirs are fixed, ``load_mano_model(..., fix_left_shapedirs=True)``): the left model's rest
joints are the mirrored right ones, so rotating about them commutes with the reflection and
no joint needs a correction.
"""

from __future__ import annotations

from typing import Any, TypeVar

import numpy as np
import numpy.typing as npt

from hggt_core.engine.base import RawPrediction

MIRROR_X = np.diag([-1.0, 1.0, 1.0])
"""The reflection of the x axis, M = diag(-1, 1, 1)."""

_Float = TypeVar("_Float", bound=np.floating[Any])

_AXIS_ANGLE_SIGN = np.array([1.0, -1.0, -1.0])
_POSE_ENC_SIGN = np.array([-1.0, 1.0, 1.0, 1.0, -1.0, -1.0, 1.0, 1.0, 1.0])


def _with_signs(array: npt.NDArray[_Float], signs: npt.NDArray[np.float64]) -> npt.NDArray[_Float]:
    """``array * signs`` (broadcast over leading axes) in the array's own dtype."""
    signed: npt.NDArray[_Float] = (array * signs).astype(array.dtype, copy=False)
    return signed


def mirror_axis_angle(axis_angle: npt.NDArray[_Float]) -> npt.NDArray[_Float]:
    """Mirror rotation vectors: (x, y, z) -> (x, -y, -z) (i.e. R -> M R M).

    Args:
        axis_angle: [..., 3k] concatenated rotation vectors (radians), e.g. MANO's [48] pose.

    Returns:
        Same shape and dtype.
    """
    signs = np.tile(_AXIS_ANGLE_SIGN, axis_angle.shape[-1] // 3)
    return _with_signs(axis_angle, signs)


def mirror_points(points: npt.NDArray[_Float]) -> npt.NDArray[_Float]:
    """Mirror points (or translations) of a camera frame: x -> -x.

    Args:
        points: [..., 3].

    Returns:
        Same shape and dtype.
    """
    return _with_signs(points, np.array([-1.0, 1.0, 1.0]))


def mirror_rotations(rotations: npt.NDArray[_Float]) -> npt.NDArray[_Float]:
    """Mirror rotation matrices: R -> M R M (still proper rotations).

    Args:
        rotations: [..., 3, 3].

    Returns:
        Same shape and dtype.
    """
    return _with_signs(rotations, np.outer([-1.0, 1.0, 1.0], [-1.0, 1.0, 1.0]))


def mirror_cam_from_ref(
    cam_from_ref: npt.NDArray[_Float],
) -> npt.NDArray[_Float]:
    """Mirror rigid transforms between mirrored frames: [R | t] -> [M R M | M t].

    Args:
        cam_from_ref: [..., 3, 4] or [..., 4, 4] transforms (metres).

    Returns:
        Same shape and dtype; a 4 x 4 input keeps its last row [0, 0, 0, 1].
    """
    rows = cam_from_ref.shape[-2]
    row_sign = np.array([-1.0, 1.0, 1.0, 1.0][:rows])
    col_sign = np.array([-1.0, 1.0, 1.0, 1.0])
    return _with_signs(cam_from_ref, np.outer(row_sign, col_sign))


def mirror_pose_encoding(pose_enc: npt.NDArray[_Float]) -> npt.NDArray[_Float]:
    """Mirror VGGT camera encodings [t, quat XYZW, fov_h, fov_w] (see the module docstring).

    Args:
        pose_enc: [..., 9].

    Returns:
        Same shape and dtype.
    """
    return _with_signs(pose_enc, _POSE_ENC_SIGN)


def mirror_raw_prediction(raw: RawPrediction) -> RawPrediction:
    """Mirror a whole network prediction (pose, translation, cameras; betas are unchanged).

    Args:
        raw: a prediction in mirrored frames (or in real frames: the map is an involution).

    Returns:
        The prediction in the other frames (same dtypes).
    """
    return RawPrediction(
        hand_pose=mirror_axis_angle(raw.hand_pose),
        betas=raw.betas.copy(),
        transl=mirror_points(raw.transl),
        pose_enc=mirror_pose_encoding(raw.pose_enc),
    )
