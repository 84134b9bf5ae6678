# Copyright 2026 The HGGT-ROS Authors
# SPDX-License-Identifier: Apache-2.0
"""FrameSet -> HandResult with the landmark engine: landmarks, cameras from the hand, MANO.

Per view, a landmark source (MediaPipe's hand landmarker) gives each hand's 21 image landmarks
and 21 metric world landmarks. Per hand (at most one per side), the views that see it are fused:
the cameras are estimated from the hand itself, the joints triangulated and refined
(:func:`hggt_core.geometry.hand_cameras.fuse_views`), and MANO is fitted to the fused joints and
the landmarks (:class:`hggt_core.mano.fit.ManoFitter`), warm-started from the previous
frameset. The result is the HGGT engine's :class:`~hggt_core.pipeline.types.HandResult`, in the
frame of the first view (in frameset order) that sees the hand, so every sink, topic and filter
serves both engines unchanged.

Intrinsics: a view's known K (``View.intrinsics``, from camera_info) is used in the solve;
otherwise a pinhole with the principal point at the image centre and the configured horizontal
field of view. Lens distortion (``View.distortion``): the landmarks are read off the raw
image, so they are undistorted first (:func:`undistort_landmarks`) and everything after works
in ideal pinhole pixels of K (the reported ``ViewCamera.joints_2d`` included).

Extrinsics: when at least two of a hand's views have a known pose (``View.cam_from_world``, from
a calibration), the first of them (in frameset order) becomes the hand's reference view and the
known poses relative to it go into the fusion (:func:`known_poses`): the joints are
triangulated with those cameras at the baseline's metric scale and only the other cameras are
estimated. The result stays in the reference camera's frame, with the known views' cameras
exactly the known relative poses, so expressing it in the world afterwards
(:func:`hggt_core.calibration.express_in_world`) is exact.
"""

from __future__ import annotations

import dataclasses
import logging
import math
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Protocol

import numpy as np

from hggt_core.geometry.distortion import undistort_pixels
from hggt_core.geometry.hand_cameras import FusedHand, FusionConfig, ViewObservation, fuse_views
from hggt_core.geometry.numpy_transforms import invert_rigid
from hggt_core.landmarks.landmarker import HandLandmarks
from hggt_core.mano.fit import ManoFit, ManoFitConfig, ManoFitter, ProjectedView
from hggt_core.mano.layer import ManoLayer
from hggt_core.pipeline.boxes import HAND_SIDES, box_around_points
from hggt_core.pipeline.crop import square_crop_transform
from hggt_core.pipeline.filters import FilterConfig, HandFilter
from hggt_core.pipeline.shared_cameras import share_cameras
from hggt_core.pipeline.types import FloatArray, FrameSet, HandResult, HandSide, View, ViewCamera

_LOG = logging.getLogger(__name__)
# MediaPipe's landmark model reads a 224-pixel square around the hand; the reported crop (for
# the pose encoding of exports) is that square, with the model's own margin.
_CROP_SIZE = 224
_CROP_MARGIN = 1.5


class LandmarkSource(Protocol):
    """Hand landmarks of every view of a frameset (e.g. :class:`MultiViewLandmarker`)."""

    @property
    def tracking(self) -> bool:
        """Whether hands are tracked from frameset to frameset (MediaPipe's VIDEO mode)."""
        ...

    def detect(self, frameset: FrameSet) -> Mapping[str, Sequence[HandLandmarks]]:
        """View name -> the hands found in it (at most one per side)."""
        ...

    def close(self) -> None:
        """Release the detector."""
        ...


@dataclass(frozen=True)
class LandmarkPredictorConfig:
    """Settings of :class:`LandmarkPredictor`."""

    fov_deg: float = 60.0
    """Horizontal field of view assumed for a view without known intrinsics (degrees)."""
    min_hand_views: int = 1
    """Hands seen in fewer views are skipped."""
    fusion: FusionConfig = field(default_factory=FusionConfig)
    """Camera estimation, triangulation and refinement settings."""
    fit: ManoFitConfig = field(default_factory=ManoFitConfig)
    """MANO fitting settings."""
    temporal_filter: FilterConfig | None = None
    """One-Euro smoothing of the results (for teleoperation); None disables it."""

    def __post_init__(self) -> None:
        if not 1.0 <= self.fov_deg <= 170.0:
            raise ValueError(f"fov_deg must lie in [1, 170], got {self.fov_deg}")
        if self.min_hand_views < 1:
            raise ValueError(f"min_hand_views must be at least 1, got {self.min_hand_views}")


@dataclass
class _Track:
    """What one side's previous frameset left for warm starts."""

    views: tuple[str, ...]
    fused: FusedHand
    fit: ManoFit


def prior_intrinsics(width: int, height: int, fov_deg: float) -> FloatArray:
    """[3, 3] K of a W x H image with the given horizontal field of view, centred."""
    focal = 0.5 * width / math.tan(math.radians(fov_deg) / 2.0)
    return np.array([[focal, 0.0, 0.5 * width], [0.0, focal, 0.5 * height], [0.0, 0.0, 1.0]])


class LandmarkPredictor:
    """Reconstructs every hand of a frameset from landmarks (see the module docstring).

    Args:
        landmarks: the per-view landmark source; closed by :meth:`close`.
        mano_right: right-hand MANO layer (``use_pca=False``, ``flat_hand_mean=False``).
        mano_left: left-hand MANO layer, the mirror of the right one.
        config: settings (defaults: :class:`LandmarkPredictorConfig`).
    """

    def __init__(
        self,
        landmarks: LandmarkSource,
        mano_right: ManoLayer,
        mano_left: ManoLayer,
        config: LandmarkPredictorConfig | None = None,
    ) -> None:
        self.config = config or LandmarkPredictorConfig()
        self.landmarks = landmarks
        self.mano_right = mano_right
        self.mano_left: ManoLayer | None = mano_left
        self._fitters = {
            "right": ManoFitter(mano_right, self.config.fit),
            "left": ManoFitter(mano_left, self.config.fit),
        }
        filter_config = self.config.temporal_filter
        self._filter = HandFilter(filter_config) if filter_config is not None else None
        self._tracks: dict[HandSide, _Track] = {}
        # The last frameset's view count and, per side, the views its hand was found in.
        self._found: tuple[int, dict[HandSide, int]] | None = None

    @property
    def tracker_state(self) -> str:
        """Per side, how MediaPipe finds the hand next, and in how many views it was found.

        ``"tracking"`` when the source tracks (VIDEO mode) and the last frameset showed the hand
        in at least one view, else ``"re-detecting"`` (IMAGE mode, or the hand was not found),
        e.g. ``"right tracking (3/4 views), left re-detecting (0/4 views)"``.
        """
        if self._found is None:
            return "no frameset yet"
        views, found = self._found
        tracking = self.landmarks.tracking
        return ", ".join(
            f"{side} {'tracking' if tracking and found.get(side) else 're-detecting'} "
            f"({found.get(side, 0)}/{views} views)"
            for side in HAND_SIDES
        )

    def reset(self) -> None:
        """Forget the warm starts and the filter history."""
        self._tracks = {}
        if self._filter is not None:
            self._filter.reset()

    def close(self) -> None:
        """Release the landmark detector."""
        self.landmarks.close()

    def __call__(self, frameset: FrameSet) -> list[HandResult]:
        """Reconstruct every hand of a frameset.

        Returns:
            One result per hand seen in at least ``min_hand_views`` views (right first), in one set
            of cameras (:func:`~hggt_core.pipeline.shared_cameras.share_cameras`); each
            carries ``frameset.stamp_ns``. ``timings_s`` has "landmarks" (the whole frameset),
            "fusion", "fit" and "filter" (0 when off), in seconds.
        """
        start = time.perf_counter()
        found = undistort_landmarks(frameset.views, self.landmarks.detect(frameset))
        landmarks_s = time.perf_counter() - start
        results = []
        hands = group_by_hand(frameset.views, found)
        self._found = len(frameset.views), {side: len(seen) for side, seen in hands.items()}
        for side in HAND_SIDES:
            result = self._reconstruct(frameset, side, hands.get(side, []), landmarks_s)
            if result is None:
                self._tracks.pop(side, None)
            else:
                results.append(result)
        return share_cameras(results)

    def _reconstruct(
        self,
        frameset: FrameSet,
        side: HandSide,
        seen: Sequence[tuple[View, HandLandmarks]],
        landmarks_s: float,
    ) -> HandResult | None:
        """One hand: fuse its views, fit MANO, assemble the result (None: too few views)."""
        if len(seen) < self.config.min_hand_views:
            return None
        clock = time.perf_counter()
        seen, known = known_poses(seen)
        observations = [self._observation(view, hand) for view, hand in seen]
        names = tuple(view.name for view, _ in seen)
        track = self._tracks.get(side)
        previous_fused = track.fused if track is not None and track.views == names else None
        fused = fuse_views(observations, self.config.fusion, previous_fused, known)
        fusion_s, clock = _lap(clock)
        kept = [index for index, inlier in enumerate(fused.inliers) if inlier]
        if len(kept) < self.config.min_hand_views:
            return None
        projected = [
            ProjectedView(
                observations[i].uv, observations[i].intrinsics, fused.cam_from_ref[i], np.ones(21)
            )
            for i in kept
        ]
        previous_fit = track.fit if track is not None else None
        fit = self._fitters[side].fit(fused.joints_m, previous=previous_fit, views=projected)
        fit_s, clock = _lap(clock)
        self._tracks[side] = _Track(names, fused, fit)
        cameras = tuple(
            _view_camera(names[i], observations[i], fused.cam_from_ref[i], fit.joints)
            for i in kept
        )
        score = float(np.mean([seen[i][1].handedness_score for i in kept]))
        result = _hand_result(frameset.stamp_ns, side, score, fit, cameras)
        if self._filter is not None:
            result = self._filter(result)
        filter_s, _ = _lap(clock)
        timings = {"landmarks": landmarks_s, "fusion": fusion_s, "fit": fit_s, "filter": filter_s}
        return dataclasses.replace(result, timings_s=timings)

    def _observation(self, view: View, hand: HandLandmarks) -> ViewObservation:
        height, width = view.image.shape[:2]
        known = view.intrinsics
        intrinsics = (
            np.asarray(known, dtype=np.float64)
            if known is not None
            else prior_intrinsics(width, height, self.config.fov_deg)
        )
        return ViewObservation(uv=hand.uv, world_m=hand.world_m, intrinsics=intrinsics)


def undistort_landmarks(
    views: Sequence[View], found: Mapping[str, Sequence[HandLandmarks]]
) -> dict[str, list[HandLandmarks]]:
    """The landmarks of views with lens distortion moved to ideal pinhole pixels of their K.

    Views without distortion keep theirs. A hand with a landmark the lens model cannot undo
    (beyond the fold of its polynomial, i.e. outside any calibrated image) is dropped from
    that view.

    Args:
        views: the frameset's views (their ``intrinsics`` and ``distortion``).
        found: view name -> hands found in its raw image.

    Returns:
        View name -> the hands, ``uv`` [21, 2] in undistorted pixels where the view has
        distortion (``world_m`` unchanged).
    """
    lenses = {view.name: view for view in views}
    undistorted: dict[str, list[HandLandmarks]] = {}
    for name, hands in found.items():
        view = lenses.get(name)
        if view is None or view.distortion is None or view.intrinsics is None:
            undistorted[name] = list(hands)
            continue
        undistorted[name] = []
        for hand in hands:
            uv = undistort_pixels(hand.uv, view.intrinsics, view.distortion)
            if np.all(np.isfinite(uv)):
                undistorted[name].append(dataclasses.replace(hand, uv=uv))
            else:
                _LOG.debug("view %s: landmarks beyond the lens model's range, dropped", name)
    return undistorted


def known_poses(
    seen: Sequence[tuple[View, HandLandmarks]],
) -> tuple[list[tuple[View, HandLandmarks]], dict[int, FloatArray]]:
    """A hand's views, reference first, and the known poses relative to that reference.

    Args:
        seen: the views that see the hand with its landmarks, in frameset order.

    Returns:
        With at least two views of known ``cam_from_world``: the views with the first known one
        moved to the front (the rest in frameset order), and index -> [4, 4]
        ``cam_from_world @ inv(reference's cam_from_world)`` for every known view (metres).
        Otherwise ``seen`` unchanged and no poses (one known camera adds nothing here).
    """
    known = [index for index, (view, _) in enumerate(seen) if view.cam_from_world is not None]
    if len(known) < 2:
        return list(seen), {}
    order = [known[0], *(index for index in range(len(seen)) if index != known[0])]
    ordered = [seen[index] for index in order]
    ref_from_world = np.asarray(ordered[0][0].cam_from_world, dtype=np.float64)
    world_from_ref = invert_rigid(ref_from_world)
    poses = {
        position: np.asarray(view.cam_from_world, dtype=np.float64) @ world_from_ref
        for position, (view, _) in enumerate(ordered)
        if view.cam_from_world is not None
    }
    return ordered, poses


def group_by_hand(
    views: Sequence[View], found: Mapping[str, Sequence[HandLandmarks]]
) -> dict[HandSide, list[tuple[View, HandLandmarks]]]:
    """The detections of each hand, in frameset order.

    MediaPipe reads handedness per image, and one view can get it wrong (a hand seen edge-on).
    When no view sees two hands, the frameset holds one hand: every detection belongs to it and
    its side is the vote of the views, weighted by their handedness scores. When a view sees
    two, the labels tell the hands apart.
    """
    detections = [(view, hand) for view in views for hand in found.get(view.name, ())]
    if any(len(found.get(view.name, ())) > 1 for view in views):
        grouped: dict[HandSide, list[tuple[View, HandLandmarks]]] = {}
        for view, hand in detections:
            grouped.setdefault(hand.side, []).append((view, hand))
        return grouped
    if not detections:
        return {}
    votes = {side: 0.0 for side in HAND_SIDES}
    for _, hand in detections:
        votes[hand.side] += hand.handedness_score
    side: HandSide = max(HAND_SIDES, key=lambda candidate: votes[candidate])
    return {side: detections}


def _hand_result(
    stamp_ns: int, side: HandSide, score: float, fit: ManoFit, cameras: tuple[ViewCamera, ...]
) -> HandResult:
    return HandResult(
        stamp_ns=stamp_ns,
        side=side,
        score=score,
        hand_pose=fit.hand_pose,
        betas=fit.betas,
        transl=fit.transl,
        vertices=fit.vertices,
        joints=fit.joints,
        joint_rotations=fit.joint_rotations,
        cameras=cameras,
        views_used=tuple(camera.name for camera in cameras),
    )


def _view_camera(
    name: str, observation: ViewObservation, cam_from_ref: FloatArray, joints: FloatArray
) -> ViewCamera:
    """The view's camera, the fitted joints projected into it, and MediaPipe's hand square."""
    in_camera = joints @ cam_from_ref[:3, :3].T + cam_from_ref[:3, 3]
    homogeneous = in_camera @ observation.intrinsics.T
    joints_2d = homogeneous[:, :2] / np.maximum(homogeneous[:, 2:], 1e-9)
    box = box_around_points(observation.uv, 1.0, square=True)
    crop = square_crop_transform(box, _CROP_SIZE, _CROP_MARGIN, mirrored=False)
    return ViewCamera(name, observation.intrinsics, cam_from_ref, joints_2d, crop)


def _lap(since: float) -> tuple[float, float]:
    """Seconds elapsed since ``since``, and the current perf_counter reading."""
    now = time.perf_counter()
    return now - since, now
