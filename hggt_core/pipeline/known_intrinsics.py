# Copyright 2026 The HGGT-ROS Authors
# SPDX-License-Identifier: Apache-2.0
"""Correct an HGGT estimate to the views' known intrinsics, rigidly and per camera.

HGGT predicts each view's focal length together with the hand, and a hand of a given size
that fills a given part of the image lies at a depth proportional to that focal length: a
focal length that is 10 % too long puts the hand 10 % too far away. The released evaluation
therefore compares a prediction with the ground truth only after reprojecting it to the true
intrinsics (:func:`hggt_core.metrics.reproject_to_intrinsics`): every point keeps its pixel
under the predicted K, its depth is scaled by s = f_x(known) / f_x(predicted), and it is
back-projected with the known K. For points in front of the camera that map is linear,
``p' = A p`` with ``A = s K_known^-1 K_pred``, but it stretches the hand's depth, so MANO
parameters could no longer reproduce the corrected mesh. Here the correction is kept rigid:

* Hand centre ``c`` = the mean of the 21 joints (reference frame). Because ``A`` is linear,
  the centre of the reprojected joints is the reprojected centre, and moving the hand by
  ``A c - c`` is the translation closest (least squares over the 21 joints) to the release's
  per-point correction; what is dropped is only its stretch about the centre. The root alone
  would match one joint and leave the error on the fingertips.
* Reference view (``cameras[0]``, pose ``R_0, t_0``): its centre ``c_0 = R_0 c + t_0`` goes
  to ``c_0' = A_0 c_0``; the hand moves by ``d = R_0^T (c_0' - c_0)`` in the reference frame
  (joints, vertices and MANO ``transl``: a translation keeps it a MANO hand), so the
  reference camera keeps its pose.
* Every view ``i`` keeps its rotation ``R_i`` and takes the translation that puts the moved
  centre where the same reprojection (its predicted K to its known K) puts its predicted
  centre: ``t_i' = A_i (R_i c + t_i) - R_i (c + d)``. Seen from camera ``i`` the hand has
  moved rigidly; its centre keeps its pixel (now under the known K) and its depth is scaled
  by ``s_i``. A view without a known K has ``A_i = I``: the hand in its frame, its K and its
  2-D joints stay as they were (its ``cam_from_ref`` absorbs ``d``).

Closed form, no optimisation. Known K replaces the predicted one in the corrected views and
the 2-D joints are projected again. The predictor corrects each hand against its own cameras
*before* the hands share one set of cameras (:mod:`hggt_core.pipeline.shared_cameras`), which
then moves the other hands into the best hand's corrected cameras. The other order would
re-anchor the shared cameras on each hand's own centre and split them again.
"""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Mapping

import numpy as np
import torch

from hggt_core.geometry.projection import project_points
from hggt_core.metrics import reproject_to_intrinsics
from hggt_core.pipeline.types import FloatArray, HandResult, ViewCamera

_LOG = logging.getLogger(__name__)


def correct_to_known_intrinsics(
    result: HandResult, known_intrinsics: Mapping[str, FloatArray]
) -> HandResult:
    """Move the hand and the cameras so that every view with a known K uses it.

    Args:
        result: one hand as estimated, with its per-view cameras (predicted K [3, 3] in
            full-image pixels, ``cam_from_ref`` [4, 4], ``joints_2d`` [21, 2]).
        known_intrinsics: view name -> known K [3, 3] in that view's full-image pixels;
            views of ``result`` missing here keep their predicted K.

    Returns:
        The corrected result (see the module docstring); ``result`` itself when no view
        changes (no known K, or known K equal to the predicted one). A view whose predicted
        hand centre is not in front of its camera has no pixel to keep and is left as
        predicted.

    Raises:
        ValueError: a known K that is not [3, 3] with finite, positive focal lengths.
    """
    centre = result.joints.mean(axis=0)
    corrections = [
        _centre_correction(camera, centre, known_intrinsics.get(camera.name))
        for camera in result.cameras
    ]
    if all(correction is None for correction in corrections):
        return result
    deltas = [np.zeros(3) if c is None else c[0] for c in corrections]
    shift = result.cameras[0].cam_from_ref[:3, :3].T @ deltas[0]
    joints = result.joints + shift
    cameras = tuple(
        _moved_camera(camera, delta, shift, joints, None if c is None else c[1])
        for camera, delta, c in zip(result.cameras, deltas, corrections, strict=True)
    )
    return dataclasses.replace(
        result,
        transl=result.transl + shift,
        vertices=result.vertices + shift,
        joints=joints,
        cameras=cameras,
    )


def _centre_correction(
    camera: ViewCamera, centre: FloatArray, known: FloatArray | None
) -> tuple[FloatArray, FloatArray] | None:
    """How the release's reprojection moves the hand centre in this camera, and the K.

    Args:
        camera: the predicted camera.
        centre: [3] hand centre, reference frame (metres).
        known: the view's known K [3, 3], or None.

    Returns:
        ([3] displacement of the centre in the camera frame (metres), the checked known K
        [3, 3]), or None when there is nothing to correct: no known K, one equal to the
        predicted K, or a centre that is not in front of the camera.
    """
    if known is None:
        return None
    checked = _checked_intrinsics(camera.name, known)
    if np.array_equal(checked, camera.intrinsics):
        return None
    rotation, translation = camera.cam_from_ref[:3, :3], camera.cam_from_ref[:3, 3]
    centre_cam = rotation @ centre + translation
    if not centre_cam[2] > 0:
        # An untrained or failed prediction: there is no pixel to keep.
        _LOG.debug("view %r: hand centre not in front of the camera, not corrected", camera.name)
        return None
    moved = reproject_to_intrinsics(
        torch.from_numpy(centre_cam[None]),
        torch.from_numpy(camera.intrinsics.astype(np.float64)),
        torch.from_numpy(checked),
    )
    return np.asarray(moved[0].numpy(), dtype=np.float64) - centre_cam, checked


def _moved_camera(
    camera: ViewCamera,
    delta: FloatArray,
    shift: FloatArray,
    joints: FloatArray,
    known: FloatArray | None,
) -> ViewCamera:
    """The camera once the hand has moved: ``t' = t + delta - R shift``.

    Args:
        camera: the predicted camera.
        delta: [3] displacement of the hand centre in this camera's frame (metres).
        shift: [3] displacement of the hand in the reference frame (metres).
        joints: [21, 3] moved joints, reference frame, projected into the new camera.
        known: the K to report instead of the predicted one, or None.
    """
    if known is None and not shift.any():
        return camera
    cam_from_ref = camera.cam_from_ref.copy()
    cam_from_ref[:3, 3] += delta - cam_from_ref[:3, :3] @ shift
    intrinsics = camera.intrinsics if known is None else known
    uv, _ = project_points(
        torch.from_numpy(joints), torch.from_numpy(cam_from_ref), torch.from_numpy(intrinsics)
    )
    return dataclasses.replace(
        camera,
        intrinsics=intrinsics,
        cam_from_ref=cam_from_ref,
        joints_2d=np.asarray(uv.numpy(), dtype=np.float64),
    )


def _checked_intrinsics(name: str, known: FloatArray) -> FloatArray:
    """``known`` as float64 [3, 3], or ValueError naming the view."""
    intrinsics = np.asarray(known, dtype=np.float64)
    usable = intrinsics.shape == (3, 3) and bool(np.all(np.isfinite(intrinsics)))
    if not (usable and intrinsics[0, 0] > 0 and intrinsics[1, 1] > 0):
        raise ValueError(
            f"view {name!r}: known intrinsics must be a finite [3, 3] K with positive focal "
            f"lengths, got {intrinsics.tolist()}"
        )
    return intrinsics
