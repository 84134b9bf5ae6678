# Copyright 2026 The HGGT-ROS Authors
# SPDX-License-Identifier: Apache-2.0
"""The reprojection tracker: boxes where the previous result's joints project.

:class:`ReprojectionTracker` ("tracker") projects the previous result's 3-D joints into each view
with that result's cameras, and falls back to another localiser (the detector) when a hand is
lost, a camera comes back, or a box no longer holds its hand
(:mod:`hggt_core.pipeline.crop_health`). Boxes are in full-image pixels with the axes of
:mod:`hggt_core.pipeline.types`.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np

from hggt_core.geometry.distortion import distort_pixels
from hggt_core.pipeline.boxes import box_around_points, overlap_fraction
from hggt_core.pipeline.crop_health import CropHealth, check_health_limits
from hggt_core.pipeline.types import (
    NS_PER_S,
    Box,
    FloatArray,
    FrameSet,
    HandBoxes,
    HandLocaliser,
    HandResult,
    HandSide,
    ViewCamera,
)

_LOG = logging.getLogger(__name__)
_MIN_DEPTH_M = 1e-3


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
        min_tracked_views: fewer views keeping the hand than this and the hand is re-localised by
            the fallback.
        score_decay: the hand's score is the previous score times this for each tracked
            frameset (1 carries it unchanged); a detection resets it.
        min_score: a hand whose decayed score falls below this is re-localised by the
            fallback (so ``score_decay < 1`` forces periodic re-detection).
        new_view_retry_s: a view that the previous result did not use (a camera that came
            back) is sent to the fallback at most once per this many seconds.
        extrapolate: move the joints with the constant velocity of the last two results
            (same reference view) to the new stamp before projecting.
        min_size_ratio: a view's box smaller than this times its side after the last
            detection (the crop collapsed) is detected again, in [0, 1) (0: off).
        max_size_ratio: a view's box larger than this times its side after the last
            detection is detected again, 0 (off) or > 1.
        max_jump: a view's box whose centre moved more than this times the previous box side
            in one frameset is detected again, >= 0 (0: off).
    """

    max_age_s: float = 0.5
    expand: float = 1.0
    min_box_px: float = 16.0
    min_overlap: float = 0.25
    min_tracked_views: int = 1
    score_decay: float = 1.0
    min_score: float = 0.0
    new_view_retry_s: float = 0.5
    extrapolate: bool = False
    min_size_ratio: float = 0.6
    max_size_ratio: float = 1.8
    max_jump: float = 0.5

    def __post_init__(self) -> None:
        if self.max_age_s < 0 or self.new_view_retry_s < 0:
            raise ValueError("max_age_s and new_view_retry_s must be >= 0")
        if self.expand <= 0 or self.min_box_px <= 0:
            raise ValueError("expand and min_box_px must be > 0")
        if not 0.0 <= self.min_overlap <= 1.0 or not 0.0 < self.score_decay <= 1.0:
            raise ValueError("min_overlap must lie in [0, 1] and score_decay in (0, 1]")
        if self.min_tracked_views < 1:
            raise ValueError(f"min_tracked_views must be >= 1, got {self.min_tracked_views}")
        check_health_limits(self.min_size_ratio, self.max_size_ratio, self.max_jump)


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
      ``min_tracked_views`` views or decayed below ``min_score``; the fallback's hand of the
      same side replaces it (no such hand: it is dropped), and the fallback's hands of sides
      not tracked are added;
    * otherwise on the views that a tracked hand's result did not use (cameras that came
      back), rate-limited by ``new_view_retry_s``, and at once on the views whose box failed
      the health check (:mod:`~hggt_core.pipeline.crop_health`: the box collapsed or grew
      against its size after the last detection, or jumped); the fallback's boxes of the
      same side are added for those views. A hand left with fewer than ``min_tracked_views``
      healthy boxes is re-localised on the whole frameset.

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
        self._last_retry_ns: dict[str, int] = {}
        self._state: Literal["tracking", "re-detecting", "lost"] = "lost"
        self._health = CropHealth(
            self._config.min_size_ratio, self._config.max_size_ratio, self._config.max_jump
        )
        self._unhealthy = 0

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

    @property
    def unhealthy_boxes(self) -> int:
        """Tracked boxes sent back to the fallback by the health check so far."""
        return self._unhealthy

    def close(self) -> None:
        """Release the fallback's resources if it has any (e.g. a detector's graph)."""
        closer: Any = getattr(self._fallback, "close", None)
        if callable(closer):
            closer()

    def locate(self, frameset: FrameSet, previous: Sequence[HandResult]) -> list[HandBoxes]:
        """Boxes for ``frameset`` from ``previous`` (the last frameset's results)."""
        recent = self._recent(frameset.stamp_ns, previous)
        tracked: list[HandBoxes] = []
        needs_detection = not recent
        retry_views: set[str] = set()
        for result in recent:
            hand, unhealthy = self._track(frameset, result)
            if hand is None:
                needs_detection = True
                continue
            tracked.append(hand)
            retry_views |= self._views_to_retry(frameset, result) | unhealthy
        self._prior = {result.side: result for result in recent}
        # Health records live only as long as their box is tracked: a view detected again
        # (or a hand lost) anchors anew on the next tracked box.
        self._health.keep_only((hand.side, name) for hand in tracked for name in hand.boxes)
        if self._fallback is None or not (needs_detection or retry_views):
            self._state = "tracking" if tracked else "lost"
            return tracked
        if needs_detection:
            retry_views = {view.name for view in frameset.views}
        for name in retry_views:
            self._last_retry_ns[name] = frameset.stamp_ns
        views = tuple(view for view in frameset.views if view.name in retry_views)
        detected = self._fallback.locate(FrameSet(frameset.stamp_ns, views), ())
        merged = _merge(tracked, detected, add_new_sides=needs_detection)
        self._state = ("re-detecting" if needs_detection else "tracking") if merged else "lost"
        return merged

    def _recent(self, stamp_ns: int, previous: Sequence[HandResult]) -> list[HandResult]:
        """The newest previous result per side, if at most ``max_age_s`` old."""
        newest: dict[HandSide, HandResult] = {}
        for result in previous:
            age_s = (stamp_ns - result.stamp_ns) / NS_PER_S
            if not 0.0 <= age_s <= self._config.max_age_s:
                continue
            kept = newest.get(result.side)
            if kept is None or result.stamp_ns > kept.stamp_ns:
                newest[result.side] = result
        return list(newest.values())

    def _track(self, frameset: FrameSet, result: HandResult) -> tuple[HandBoxes | None, set[str]]:
        """Boxes for one previous hand.

        Returns:
            The hand's healthy boxes from reprojection (None: re-localise the whole hand), and
            the views whose box failed the health check.
        """
        score = result.score * self._config.score_decay
        if score < self._config.min_score:
            return None, set()
        joints = self._predicted_joints(frameset.stamp_ns, result)
        cameras = {camera.name: camera for camera in result.cameras}
        boxes: dict[str, Box] = {}
        unhealthy: set[str] = set()
        for view in frameset.views:
            camera = cameras.get(view.name)
            if camera is None:
                continue
            uv, depth = project_joints(joints, camera)
            if np.any(depth < _MIN_DEPTH_M):
                continue
            if view.distortion is not None and view.intrinsics is not None:
                uv = distort_pixels(uv, view.intrinsics, view.distortion)  # boxes: raw pixels
            box = box_around_points(
                uv,
                self._config.expand,
                square=True,
                score=score,
                min_side_px=self._config.min_box_px,
            )
            height, width = view.image.shape[:2]
            if overlap_fraction(box, width, height) < self._config.min_overlap:
                continue
            problem = self._health.judge((result.side, view.name), box)
            if problem is None:
                boxes[view.name] = box
                continue
            self._unhealthy += 1
            unhealthy.add(view.name)
            _LOG.debug("re-detecting the %s hand in %s: %s", result.side, view.name, problem)
        if len(boxes) < self._config.min_tracked_views:
            return None, unhealthy
        return HandBoxes(side=result.side, boxes=boxes, score=score), unhealthy

    def _predicted_joints(self, stamp_ns: int, result: HandResult) -> FloatArray:
        """[21, 3] joints at ``stamp_ns``: extrapolated when enabled and possible."""
        prior = self._prior.get(result.side)
        if not self._config.extrapolate or prior is None:
            return result.joints
        dt_s = (result.stamp_ns - prior.stamp_ns) / NS_PER_S
        if dt_s <= 0.0 or prior.views_used[:1] != result.views_used[:1]:
            return result.joints
        velocity = (result.joints - prior.joints) / dt_s
        return result.joints + velocity * ((stamp_ns - result.stamp_ns) / NS_PER_S)

    def _views_to_retry(self, frameset: FrameSet, result: HandResult) -> set[str]:
        """Views absent from the result whose last fallback attempt is old enough."""
        retry: set[str] = set()
        for view in frameset.views:
            if view.name in result.views_used:
                continue
            last_ns = self._last_retry_ns.get(view.name)
            elapsed_s = None if last_ns is None else (frameset.stamp_ns - last_ns) / NS_PER_S
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
