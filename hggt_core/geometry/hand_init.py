# Copyright 2026 The HGGT-ROS Authors
# SPDX-License-Identifier: Apache-2.0
"""Initial cameras, joints and metric priors of a hand seen by S views, from its landmarks.

The first steps of :func:`hggt_core.geometry.hand_cameras.fuse_views` (numpy float64):

- :func:`stack_views`: validation (one clear error naming the view) and stacking.
- :func:`shared_hand_shape`: one hand shape H for all views, from the views' world landmarks
  (hand-centred, camera-aligned axes): robust rotation-only Procrustes of each view onto H,
  then H = the robust average of the views' landmarks rotated back. The rotations A_s
  (world_s ~ A_s H) are the cameras' rotations relative to H.
- :func:`initial_cameras`: ``cam_from_ref`` from A_s and the translation that best explains
  each view's pixels given A_s (linear least squares; metric because H is); the fit residuals
  tell how well a rigid H explains each view. (Refining these poses by PnP was measured to
  bring no accuracy once the joint refinement has run, so they are not refined here.)
- :func:`initial_joints`: weighted DLT triangulation with those cameras.
- :func:`hand_priors`: bone lengths and hand size, medians over the views.

With two or more cameras known (a calibrated rig), the joints come from those cameras instead:
:func:`known_camera_joints` triangulates them (metric from the known baseline) and
:func:`shape_priors` scales the world-landmark priors to that hand, without the size term.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from hggt_core.base.hand_skeleton import NUM_JOINTS_WITH_TIPS, OPENPOSE_BONES
from hggt_core.geometry.hand_bundle import HandPriors
from hggt_core.geometry.numpy_transforms import invert_rigid
from hggt_core.geometry.pnp import (
    MIN_DEPTH_M,
    cauchy_weights,
    initial_translation,
    project_pinhole,
)
from hggt_core.geometry.triangulation import triangulate_homogeneous

FloatArray = npt.NDArray[np.float64]

_SHAPE_ROUNDS = 2
_MIN_LANDMARKS = 4
# Second / first singular value of the centred landmarks below which they count as collinear.
_COLLINEAR_RATIO = 1e-3
_BONES = np.array(OPENPOSE_BONES)
# The hand's size: the summed distances from the wrist to every other joint. Long distances
# measured on noisy landmarks are far less biased (upwards) than short bones.
_SIZE_PAIRS = tuple((joint, 0) for joint in range(1, NUM_JOINTS_WITH_TIPS))


@dataclass(frozen=True)
class HandViews:
    """Validated landmarks of one hand in V views (float64)."""

    uv: FloatArray
    """[V, N, 2] image landmarks, pixels."""
    world: FloatArray
    """[V, N, 3] world landmarks, metres, camera-aligned, centred on their weighted centroid."""
    intrinsics: FloatArray
    """[V, 3, 3] K of each view."""
    weights: FloatArray
    """[V, N] landmark confidences in [0, 1]."""

    def select(self, views: list[int]) -> HandViews:
        """The given views only, in that order."""
        return HandViews(
            self.uv[views], self.world[views], self.intrinsics[views], self.weights[views]
        )


@dataclass(frozen=True)
class InitialCameras:
    """Cameras and joints to start the refinement from."""

    cam_from_ref: FloatArray
    """[V, 4, 4] reference (view 0) -> view v, metres."""
    world_cam_from_ref: FloatArray
    """[V, 3, 3] the rotations of ``cam_from_ref`` (those the world landmarks give)."""
    placed_joints: FloatArray
    """[N, 3] the shared shape placed in view 0 (a fallback for triangulated joints), metres."""
    residual_px: FloatArray
    """[V, N, 2] projection of the placed shape minus the landmarks in each view, pixels."""


def _as_array(
    value: npt.ArrayLike | None, name: str, shape: tuple[int, ...], index: int
) -> FloatArray:
    array = np.ones(shape) if value is None else np.asarray(value, dtype=np.float64)
    if array.shape != shape:
        raise ValueError(f"view {index}: {name} must be {shape}, got {array.shape}")
    return array


def _first_failing(failing: npt.ArrayLike, problem: str) -> None:
    """Raise ValueError naming the first view flagged in ``failing`` [S] (booleans)."""
    flags = np.asarray(failing, dtype=bool)
    if flags.any():
        raise ValueError(f"view {int(np.argmax(flags))}: {problem}")


def stack_views(
    uv: Sequence[npt.ArrayLike],
    world_m: Sequence[npt.ArrayLike],
    intrinsics: Sequence[npt.ArrayLike],
    weights: Sequence[npt.ArrayLike | None],
) -> HandViews:
    """Validate S views' landmarks and stack them (world landmarks centred).

    Args:
        uv: S arrays [21, 2] of image landmarks, pixels.
        world_m: S arrays [21, 3] of world landmarks, metres, camera-aligned axes.
        intrinsics: S arrays [3, 3], K.
        weights: S arrays [21] of confidences in [0, 1], or None for all ones.

    Returns:
        The stacked float64 views.

    Raises:
        ValueError: naming the first bad view: no views, wrong shapes, NaN or infinite values,
            weights outside [0, 1] or fewer than 4 positive ones, invalid intrinsics, collinear
            or coincident landmarks.
    """
    if len(uv) == 0:
        raise ValueError("fuse_views needs at least one observation")
    joints = NUM_JOINTS_WITH_TIPS
    pixels, world, k, w = (
        np.stack([_as_array(value, name, shape, i) for i, value in enumerate(values)])
        for name, shape, values in (
            ("uv", (joints, 2), uv),
            ("world_m", (joints, 3), world_m),
            ("intrinsics", (3, 3), intrinsics),
            ("weights", (joints,), weights),
        )
    )
    for name, array in (("uv", pixels), ("world_m", world), ("intrinsics", k), ("weights", w)):
        finite = np.isfinite(array).reshape(len(array), -1).all(-1)
        _first_failing(~finite, f"{name} holds NaN or infinite values")
    _first_failing(~((w >= 0) & (w <= 1)).all(-1), "weights must lie in [0, 1]")
    too_few = (w > 0).sum(-1) < _MIN_LANDMARKS
    _first_failing(too_few, f"fewer than {_MIN_LANDMARKS} landmarks with weight > 0")
    valid_k = (k[:, 0, 0] > 0) & (k[:, 1, 1] > 0) & (k[:, 1, 0] == 0)
    valid_k &= (k[:, 2] == (0.0, 0.0, 1.0)).all(-1)
    _first_failing(~valid_k, "intrinsics must be [[fx, s, cx], [0, fy, cy], [0, 0, 1]]")
    seen = (w > 0)[..., None]
    for name, points in (("uv", pixels), ("world_m", world)):
        mean = (points * seen).sum(1, keepdims=True) / seen.sum(1, keepdims=True)
        spread = np.linalg.svd((points - mean) * seen, compute_uv=False)
        collinear = spread[:, 1] <= _COLLINEAR_RATIO * spread[:, 0]
        _first_failing(collinear, f"the {name} landmarks are collinear or coincide")
    centroid = (w[..., None] * world).sum(1) / w.sum(1)[:, None]
    return HandViews(pixels, world - centroid[:, None], k, w)


def robust_rotations(
    shape: FloatArray, targets: FloatArray, weights: FloatArray, scale_m: float, rounds: int
) -> tuple[FloatArray, FloatArray]:
    """Rotation-only Procrustes of one shape onto V point sets, reweighted with a Cauchy loss.

    Args:
        shape: [N, 3] points, metres.
        targets: [V, N, 3] points, metres.
        weights: [V, N] non-negative confidences (each row with a positive sum).
        scale_m: Cauchy scale of the point residuals, metres.
        rounds: weighted Kabsch solves (>= 1), each reweighting from the last one's residuals.

    Returns:
        Rotations [V, 3, 3] with targets_v ~ A_v shape + offset_v, and the final weights [V, N].
    """
    robust = weights
    rotations = np.broadcast_to(np.eye(3), (len(targets), 3, 3))
    for _ in range(rounds):
        share = robust / robust.sum(-1, keepdims=True)
        source = shape - (share[..., None] * shape).sum(-2, keepdims=True)
        target = targets - (share[..., None] * targets).sum(-2, keepdims=True)
        u, _, vh = np.linalg.svd(np.swapaxes(target * share[..., None], -1, -2) @ source)
        flip = np.ones((len(targets), 3))
        flip[:, 2] = np.sign(np.linalg.det(u @ vh))
        rotations = (u * flip[:, None]) @ vh
        error = np.sqrt(((source @ np.swapaxes(rotations, -1, -2) - target) ** 2).sum(-1))
        robust = weights * cauchy_weights(error, scale_m)
    return np.asarray(rotations), robust


def shared_hand_shape(
    views: HandViews, scale_m: float, rounds: int
) -> tuple[FloatArray, FloatArray]:
    """One hand shape for all views and each view's rotation relative to it.

    Args:
        views: the landmarks.
        scale_m: Cauchy scale of the Procrustes residuals, metres.
        rounds: reweighting rounds of each Procrustes fit.

    Returns:
        H [N, 3] (centred, metres, in view 0's axes up to the averaging) and A [V, 3, 3] with
        world_v ~ A_v H.
    """
    shape = views.world[0]
    for _ in range(_SHAPE_ROUNDS):
        rotations, robust = robust_rotations(shape, views.world, views.weights, scale_m, rounds)
        rotated_back = views.world @ rotations  # rows A_v^T w_vn
        total = robust.sum(0)[:, None]
        weighted = (robust[..., None] * rotated_back).sum(0) / np.maximum(total, 1e-12)
        shape = np.where(total > 1e-9, weighted, rotated_back.mean(0))
        shape = shape - shape.mean(0)
    rotations, _ = robust_rotations(shape, views.world, views.weights, scale_m, rounds)
    return shape, rotations


def initial_cameras(views: HandViews, scale_m: float, rounds: int) -> InitialCameras:
    """Cameras relative to view 0 from the world landmarks and the pixels (no iterations).

    Args:
        views: the landmarks (view 0 is the reference).
        scale_m: Cauchy scale of the Procrustes residuals, metres.
        rounds: reweighting rounds of each Procrustes fit.

    Returns:
        ``cam_from_ref`` of every view, the shared shape placed in view 0 and the fit residuals.
    """
    shape, rotations = shared_hand_shape(views, scale_m, rounds)
    count = len(views.uv)
    model = np.broadcast_to(shape, (count, *shape.shape))
    cam_from_shape = np.broadcast_to(np.eye(4), (count, 4, 4)).copy()
    cam_from_shape[:, :3, :3] = rotations
    cam_from_shape[:, :3, 3] = initial_translation(
        model, views.uv, views.intrinsics, views.weights, rotations
    )
    points_cam = model @ np.swapaxes(rotations, -1, -2) + cam_from_shape[:, None, :3, 3]
    points_cam[..., 2] = np.maximum(points_cam[..., 2], MIN_DEPTH_M)
    return InitialCameras(
        cam_from_shape @ invert_rigid(cam_from_shape[0]),
        rotations @ rotations[0].T,
        points_cam[0],
        project_pinhole(points_cam, views.intrinsics) - views.uv,
    )


def initial_joints(
    views: HandViews, cam_from_ref: FloatArray, fallback: FloatArray, max_offset_m: float
) -> FloatArray:
    """Triangulated joints, or ``fallback``'s where triangulation is not sensible.

    Args:
        views: the landmarks.
        cam_from_ref: [V, 4, 4] cameras.
        fallback: [N, 3] joints to use for a point seen by fewer than two weighted views, at
            infinity, behind a camera or farther than ``max_offset_m`` from its fallback.
        max_offset_m: metres.

    Returns:
        [N, 3] joints in the reference frame, metres.
    """
    # No depth reweighting: the refinement that follows minimises the pixel errors anyway.
    homogeneous = triangulate_homogeneous(
        views.uv, views.intrinsics, cam_from_ref, views.weights, depth_reweighting=0
    )
    finite = homogeneous[:, 3] > 1e-9
    points = homogeneous[:, :3] / np.where(finite, homogeneous[:, 3], 1.0)[:, None]
    depth = points @ cam_from_ref[:, 2, :3].T + cam_from_ref[:, 2, 3]
    near = np.sqrt(((points - fallback) ** 2).sum(-1)) < max_offset_m
    good = finite & (depth.min(1) > MIN_DEPTH_M) & near & ((views.weights > 0).sum(0) >= 2)
    return np.asarray(np.where(good[:, None], points, fallback))


def hand_priors(views: HandViews) -> HandPriors:
    """Metric priors from the views' world landmarks.

    Bone lengths and hand size (wrist to every joint) are medians over the views; the
    landmarks themselves feed the refinement's shape term.
    """
    bones = views.world[:, _BONES[:, 0]] - views.world[:, _BONES[:, 1]]
    spokes = views.world[:, 1:] - views.world[:, :1]
    return HandPriors(
        OPENPOSE_BONES,
        np.median(np.sqrt((bones**2).sum(-1)), axis=0),
        _SIZE_PAIRS,
        float(np.median(np.sqrt((spokes**2).sum(-1)).sum(-1))),
        views.world,
    )


def _scale_and_offset(shape: FloatArray, points: FloatArray) -> tuple[float, FloatArray]:
    """Least-squares s, t with points ~ s shape + t (no rotation): [M, 3] each."""
    centred_shape, centred = shape - shape.mean(0), points - points.mean(0)
    scale = float((centred_shape * centred).sum() / max((centred_shape**2).sum(), 1e-12))
    return scale, np.asarray(points.mean(0) - scale * shape.mean(0))


def known_camera_joints(
    views: HandViews, cam_from_ref: FloatArray, placed: FloatArray, max_offset_m: float
) -> tuple[FloatArray, float] | None:
    """Joints triangulated with known cameras, and the scale of the hand's shape they imply.

    The shape (``placed``, in the reference axes) is scaled and shifted onto the triangulated
    joints (no rotation: its axes are right already); a joint farther than ``max_offset_m``
    from that fit is not used, and it and the joints seen by fewer than two weighted views,
    at infinity or behind a camera take the fitted shape's place.

    Args:
        views: the landmarks of V >= 2 views whose cameras are known.
        cam_from_ref: [V, 4, 4] their known cameras, metres.
        placed: [N, 3] the world landmarks' shared shape in the reference axes, metres.
        max_offset_m: metres.

    Returns:
        ([N, 3] joints in the reference frame, metres; triangulated size / shape size), or
        None when fewer than 4 joints triangulate sensibly.
    """
    homogeneous = triangulate_homogeneous(
        views.uv, views.intrinsics, cam_from_ref, views.weights, depth_reweighting=0
    )
    finite = homogeneous[:, 3] > 1e-9
    points = homogeneous[:, :3] / np.where(finite, homogeneous[:, 3], 1.0)[:, None]
    depth = points @ cam_from_ref[:, 2, :3].T + cam_from_ref[:, 2, 3]
    good = finite & (depth.min(1) > MIN_DEPTH_M) & ((views.weights > 0).sum(0) >= 2)
    while good.sum() >= _MIN_LANDMARKS:
        scale, offset = _scale_and_offset(placed[good], points[good])
        fitted = scale * placed + offset
        near = good & (np.sqrt(((points - fitted) ** 2).sum(-1)) < max_offset_m)
        if scale <= 0.0 or near.sum() < _MIN_LANDMARKS:
            return None
        if (near == good).all():
            return np.asarray(np.where(good[:, None], points, fitted)), scale
        good = near
    return None


def shape_priors(views: HandViews, scale: float) -> HandPriors:
    """:func:`hand_priors` scaled by ``scale`` (bones, world landmarks), without a size term.

    For known cameras: the metric scale then comes from their baseline, so the world
    landmarks (whose size is the landmarker's guess) may only shape the hand, not size it.
    """
    priors = hand_priors(views)
    world = None if priors.world_m is None else priors.world_m * scale
    return HandPriors(priors.bones, priors.bone_lengths_m * scale, (), 0.0, world)
