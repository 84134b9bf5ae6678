# Copyright 2026 The HGGT-ROS Authors
# SPDX-License-Identifier: Apache-2.0
"""Hand localisation backends: where each hand is in each view of a frameset.

Every backend implements :class:`~hggt_core.pipeline.types.HandLocaliser`:

* :class:`GivenBoxes` returns the caller's boxes ("boxes").
* :class:`WholeImageCrops` treats every view as a hand crop already ("crop"), as in the
  released 518 x 518 examples.
* :class:`ReprojectionTracker` ("tracker") projects the previous result's 3-D joints into each
  view with that result's cameras, and falls back to another localiser (the detector) when a
  hand is lost or a camera comes back.
* :class:`~hggt_core.pipeline.mediapipe_detector.MediaPipeHandDetector` ("mediapipe", on
  MediaPipe's hand landmarker) detects hands and their side in each view.

Boxes are in full-image pixels with the axes of :mod:`hggt_core.pipeline.types`.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal

import numpy as np

from hggt_core.pipeline.types import (
    Box,
    FloatArray,
    FrameSet,
    HandBoxes,
    HandLocaliser,
    HandResult,
    HandSide,
    ViewCamera,
)

if TYPE_CHECKING:
    from hggt_core.pipeline.mediapipe_detector import DetectorConfig

_LOG = logging.getLogger(__name__)

LOCALISER_NAMES = ("boxes", "crop", "tracker", "mediapipe")
HAND_SIDES: tuple[HandSide, ...] = ("right", "left")
_MIN_DEPTH_M = 1e-3


def box_around_points(
    points_uv: FloatArray,
    expand: float,
    *,
    square: bool,
    score: float = 1.0,
    min_side_px: float = 1.0,
) -> Box:
    """The bounding box of 2-D points, scaled about its centre.

    Args:
        points_uv: [N, 2] pixel coordinates (u, v), N >= 1.
        expand: factor applied to the box's width and height (1 = tight).
        square: make both sides equal to the longer one before expanding.
        score: the box's score.
        min_side_px: lower bound on each side after expanding, so a single point or a
            degenerate set still gives a non-empty box.

    Returns:
        The box, possibly reaching outside the image (the crop pads).
    """
    lower = points_uv.min(axis=0)
    upper = points_uv.max(axis=0)
    centre = 0.5 * (lower + upper)
    size = upper - lower
    if square:
        size = np.full(2, size.max())
    half = 0.5 * np.maximum(size * expand, min_side_px)
    return Box(
        x_min=float(centre[0] - half[0]),
        y_min=float(centre[1] - half[1]),
        x_max=float(centre[0] + half[0]),
        y_max=float(centre[1] + half[1]),
        score=score,
    )


def overlap_fraction(box: Box, width: int, height: int) -> float:
    """Fraction of the box's area that lies inside a ``width`` x ``height`` image."""
    inside_w = max(0.0, min(box.x_max, width) - max(box.x_min, 0.0))
    inside_h = max(0.0, min(box.y_max, height) - max(box.y_min, 0.0))
    area = (box.x_max - box.x_min) * (box.y_max - box.y_min)
    return inside_w * inside_h / area


class GivenBoxes:
    """The caller's boxes, the same for every frameset (e.g. from the command line).

    Args:
        boxes: one entry per hand, at most one per side.

    Raises:
        ValueError: if a side appears twice.
    """

    def __init__(self, boxes: Sequence[HandBoxes]) -> None:
        sides = [hand.side for hand in boxes]
        if len(set(sides)) != len(sides):
            raise ValueError(f"at most one hand per side, got sides {sides}")
        self._boxes = tuple(boxes)

    def locate(self, frameset: FrameSet, previous: Sequence[HandResult]) -> list[HandBoxes]:
        """The given boxes; ``previous`` is ignored.

        Raises:
            ValueError: if a box names a view that the frameset does not have.
        """
        names = {view.name for view in frameset.views}
        for hand in self._boxes:
            unknown = sorted(set(hand.boxes) - names)
            if unknown:
                raise ValueError(
                    f"boxes given for unknown view(s) {unknown}; the frameset's views are "
                    f"{[view.name for view in frameset.views]}"
                )
        return list(self._boxes)


class WholeImageCrops:
    """Every view already is a crop of one hand: its box is the whole image.

    Args:
        side: which hand the crops show.
    """

    def __init__(self, side: HandSide = "right") -> None:
        if side not in HAND_SIDES:
            raise ValueError(f"side must be one of {HAND_SIDES}, got {side!r}")
        self._side: HandSide = side

    def locate(self, frameset: FrameSet, previous: Sequence[HandResult]) -> list[HandBoxes]:
        """One hand whose box in every view is ``[0, W] x [0, H]``; ``previous`` is ignored."""
        boxes = {
            view.name: Box(0.0, 0.0, float(view.image.shape[1]), float(view.image.shape[0]))
            for view in frameset.views
        }
        return [HandBoxes(side=self._side, boxes=boxes)]


@dataclass(frozen=True)
class TrackerConfig:
    """Settings of :class:`ReprojectionTracker`.

    Attributes:
        max_age_s: a previous result older than this (stamp difference) is not tracked.
        expand: box side = ``expand`` x the longer side of the projected joints' bounding box
            (1 = tight like the detector's boxes; the predictor's crop adds the margin; raise
            it for fast motion without ``extrapolate``).
        min_box_px: lower bound on the box side, pixels.
        min_overlap: a view keeps the hand if at least this fraction of its box lies inside
            the image (and every joint is in front of the camera); otherwise it is lost.
        min_views: fewer views keeping the hand than this and the hand is re-localised by
            the fallback.
        score_decay: the hand's score is the previous score times this for each tracked
            frameset (1 carries it unchanged); a detection resets it.
        min_score: a hand whose decayed score falls below this is re-localised by the
            fallback (so ``score_decay < 1`` forces periodic re-detection).
        new_view_retry_s: a view that the previous result did not use (a camera that came
            back) is sent to the fallback at most once per this many seconds.
        extrapolate: move the joints with the constant velocity of the last two results
            (same reference view) to the new stamp before projecting.
    """

    max_age_s: float = 0.5
    expand: float = 1.0
    min_box_px: float = 16.0
    min_overlap: float = 0.25
    min_views: int = 1
    score_decay: float = 1.0
    min_score: float = 0.0
    new_view_retry_s: float = 0.5
    extrapolate: bool = False

    def __post_init__(self) -> None:
        if self.max_age_s < 0 or self.new_view_retry_s < 0:
            raise ValueError("max_age_s and new_view_retry_s must be >= 0")
        if self.expand <= 0 or self.min_box_px <= 0:
            raise ValueError("expand and min_box_px must be > 0")
        if not 0.0 <= self.min_overlap <= 1.0 or not 0.0 < self.score_decay <= 1.0:
            raise ValueError("min_overlap must lie in [0, 1] and score_decay in (0, 1]")
        if self.min_views < 1:
            raise ValueError(f"min_views must be >= 1, got {self.min_views}")


def project_joints(joints_ref: FloatArray, camera: ViewCamera) -> tuple[FloatArray, FloatArray]:
    """Pinhole projection of reference-frame points into a view.

    Args:
        joints_ref: [N, 3] points in the reference camera frame, metres.
        camera: the view's camera (``cam_from_ref`` [4, 4], ``intrinsics`` [3, 3]).

    Returns:
        uv: [N, 2] full-image pixels; depth: [N] camera-frame z, metres.
    """
    points_cam = joints_ref @ camera.cam_from_ref[:3, :3].T + camera.cam_from_ref[:3, 3]
    depth = points_cam[:, 2]
    normalised = points_cam[:, :2] / np.maximum(depth, _MIN_DEPTH_M)[:, None]
    uv = normalised @ camera.intrinsics[:2, :2].T + camera.intrinsics[:2, 2]
    return uv, depth


class ReprojectionTracker:
    """Places this frameset's boxes where the previous result's joints project.

    For each hand of ``previous`` no older than ``max_age_s`` (and not in the future), the 21
    joints (optionally moved at constant velocity) are projected into every view that the
    result has a camera for; the square, expanded bounding box of the 2-D joints is that
    view's box unless it falls (mostly) outside the image or behind the camera, in which case
    the view has lost the hand. The fallback is called, at most once per frameset:

    * on the whole frameset when there is no recent previous hand, or a hand kept fewer than
      ``min_views`` views or decayed below ``min_score``; the fallback's hand of the same side
      replaces it (no such hand: it is dropped), and the fallback's hands of sides not
      tracked are added;
    * otherwise on the views that a tracked hand's result did not use (cameras that came
      back), rate-limited by ``new_view_retry_s``; the fallback's boxes of the same side are
      added for those views.

    Scores: a tracked hand carries the previous result's score times ``score_decay``; boxes
    from the fallback keep the fallback's scores. The fallback receives an empty ``previous``.
    Cameras are assumed static between framesets (the previous extrinsics are reused).

    Args:
        fallback: the localiser used when tracking is not possible (usually the detector),
            or None to drop lost hands.
        config: tracker settings.
    """

    def __init__(
        self, fallback: HandLocaliser | None = None, config: TrackerConfig | None = None
    ) -> None:
        self._fallback = fallback
        self._config = config if config is not None else TrackerConfig()
        self._prior: dict[HandSide, HandResult] = {}
        self._last_retry_s: dict[str, float] = {}
        self._state: Literal["tracking", "re-detecting", "lost"] = "lost"

    @property
    def config(self) -> TrackerConfig:
        """The tracker's settings."""
        return self._config

    @property
    def state(self) -> Literal["tracking", "re-detecting", "lost"]:
        """What the last :meth:`locate` did (``"lost"`` before the first call).

        ``"tracking"``: boxes from the previous hands (the fallback at most completed views
        that came back); ``"re-detecting"``: the fallback searched the whole frameset and found
        a hand; ``"lost"``: no hand boxes.
        """
        return self._state

    def close(self) -> None:
        """Release the fallback's resources if it has any (e.g. a detector's graph)."""
        closer: Any = getattr(self._fallback, "close", None)
        if callable(closer):
            closer()

    def locate(self, frameset: FrameSet, previous: Sequence[HandResult]) -> list[HandBoxes]:
        """Boxes for ``frameset`` from ``previous`` (the last frameset's results)."""
        recent = self._recent(frameset.stamp_s, previous)
        tracked: list[HandBoxes] = []
        needs_detection = not recent
        retry_views: set[str] = set()
        for result in recent:
            hand = self._track(frameset, result)
            if hand is None:
                needs_detection = True
                continue
            tracked.append(hand)
            retry_views |= self._views_to_retry(frameset, result)
        self._prior = {result.side: result for result in recent}
        if self._fallback is None or not (needs_detection or retry_views):
            self._state = "tracking" if tracked else "lost"
            return tracked
        if needs_detection:
            retry_views = {view.name for view in frameset.views}
        for name in retry_views:
            self._last_retry_s[name] = frameset.stamp_s
        views = tuple(view for view in frameset.views if view.name in retry_views)
        detected = self._fallback.locate(FrameSet(frameset.stamp_s, views), ())
        merged = _merge(tracked, detected, add_new_sides=needs_detection)
        self._state = ("re-detecting" if needs_detection else "tracking") if merged else "lost"
        return merged

    def _recent(self, stamp_s: float, previous: Sequence[HandResult]) -> list[HandResult]:
        """The newest previous result per side, if at most ``max_age_s`` old."""
        newest: dict[HandSide, HandResult] = {}
        for result in previous:
            age_s = stamp_s - result.stamp_s
            if not 0.0 <= age_s <= self._config.max_age_s:
                continue
            kept = newest.get(result.side)
            if kept is None or result.stamp_s > kept.stamp_s:
                newest[result.side] = result
        return list(newest.values())

    def _track(self, frameset: FrameSet, result: HandResult) -> HandBoxes | None:
        """The hand's boxes from reprojection, or None when it must be re-localised."""
        score = result.score * self._config.score_decay
        if score < self._config.min_score:
            return None
        joints = self._predicted_joints(frameset.stamp_s, result)
        cameras = {camera.name: camera for camera in result.cameras}
        boxes: dict[str, Box] = {}
        for view in frameset.views:
            camera = cameras.get(view.name)
            if camera is None:
                continue
            uv, depth = project_joints(joints, camera)
            if np.any(depth < _MIN_DEPTH_M):
                continue
            box = box_around_points(
                uv,
                self._config.expand,
                square=True,
                score=score,
                min_side_px=self._config.min_box_px,
            )
            height, width = view.image.shape[:2]
            if overlap_fraction(box, width, height) >= self._config.min_overlap:
                boxes[view.name] = box
        if len(boxes) < self._config.min_views:
            return None
        return HandBoxes(side=result.side, boxes=boxes, score=score)

    def _predicted_joints(self, stamp_s: float, result: HandResult) -> FloatArray:
        """[21, 3] joints at ``stamp_s``: extrapolated when enabled and possible."""
        prior = self._prior.get(result.side)
        if not self._config.extrapolate or prior is None:
            return result.joints
        dt_s = result.stamp_s - prior.stamp_s
        if dt_s <= 0.0 or prior.views_used[:1] != result.views_used[:1]:
            return result.joints
        velocity = (result.joints - prior.joints) / dt_s
        return result.joints + velocity * (stamp_s - result.stamp_s)

    def _views_to_retry(self, frameset: FrameSet, result: HandResult) -> set[str]:
        """Views absent from the result whose last fallback attempt is old enough."""
        retry: set[str] = set()
        for view in frameset.views:
            if view.name in result.views_used:
                continue
            last_s = self._last_retry_s.get(view.name)
            elapsed_s = None if last_s is None else frameset.stamp_s - last_s
            if elapsed_s is None or not 0.0 <= elapsed_s < self._config.new_view_retry_s:
                retry.add(view.name)
        return retry


def _merge(
    tracked: Iterable[HandBoxes], detected: Sequence[HandBoxes], *, add_new_sides: bool
) -> list[HandBoxes]:
    """Tracked hands completed with detected boxes for views they lack, per side."""
    by_side = {hand.side: hand for hand in detected}
    merged: list[HandBoxes] = []
    for hand in tracked:
        found = by_side.pop(hand.side, None)
        if found is None:
            merged.append(hand)
            continue
        extra = {name: box for name, box in found.boxes.items() if name not in hand.boxes}
        merged.append(HandBoxes(hand.side, {**hand.boxes, **extra}, hand.score))
    if add_new_sides:
        merged.extend(by_side.values())
    return merged


def localiser_from_name(
    name: str,
    *,
    side: HandSide = "right",
    boxes: Sequence[HandBoxes] | None = None,
    tracker: TrackerConfig | None = None,
    detector: DetectorConfig | None = None,
) -> HandLocaliser:
    """Build a localiser by name (the CLI's ``--detector`` and the node's parameter).

    Args:
        name: ``"boxes"`` (needs ``boxes``), ``"crop"`` (every view is a crop of a ``side``
            hand), ``"tracker"`` (reprojection tracker over the MediaPipe detector when it is
            installed and its model file built, else over crop mode) or ``"mediapipe"`` (the
            detector alone).
        side: the hand side of crop mode.
        boxes: the caller's boxes for ``"boxes"``.
        tracker: tracker settings for ``"tracker"``.
        detector: a :class:`~hggt_core.pipeline.mediapipe_detector.DetectorConfig` for the
            MediaPipe detector, or None for its defaults.

    Returns:
        The localiser; the detector and the tracker have a ``close()`` method.

    Raises:
        ValueError: for an unknown name (the message lists the choices), or ``"boxes"``
            without boxes.
        ImportError: for ``"mediapipe"`` without a working ``mediapipe`` (says how to install).
        LandmarkerModelError: for ``"mediapipe"`` without the model file (says how to get it).
    """
    if name == "boxes":
        if boxes is None:
            raise ValueError("localiser 'boxes' needs the hand boxes")
        return GivenBoxes(boxes)
    if name == "crop":
        return WholeImageCrops(side)
    if name in ("mediapipe", "tracker"):
        from hggt_core.landmarks.model_file import LandmarkerModelError
        from hggt_core.pipeline.mediapipe_detector import MediaPipeHandDetector

        if name == "mediapipe":
            return MediaPipeHandDetector(detector)
        fallback: HandLocaliser
        try:
            fallback = MediaPipeHandDetector(detector)
        except (ImportError, LandmarkerModelError) as exc:
            _LOG.warning("tracker falls back to crop mode (%s hand): %s", side, exc)
            fallback = WholeImageCrops(side)
        return ReprojectionTracker(fallback, tracker)
    raise ValueError(f"unknown hand localiser {name!r}; choose one of {list(LOCALISER_NAMES)}")
