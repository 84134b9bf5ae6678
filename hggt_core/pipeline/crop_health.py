# Copyright 2026 The HGGT-ROS Authors
# SPDX-License-Identifier: Apache-2.0
"""Does a tracked box still hold its hand? The reprojection tracker's health check.

The reprojection tracker places a view's box where the previous result's joints project. A
weak or confused model can feed on its own output: each crop slightly off gives a result
slightly off, so boxes shrink or wander away from the hand over a few framesets (seen: 309 ->
158 px and 60-100 px of drift in four framesets). This module watches every tracked box of
every (hand side, view) and names the reason when it should be detected again:

* *size*: the box side against its *anchor*, the side of the first tracked box after the last
  detection (the box the detected crop led to; tracked boxes are compared like for like, so
  the detector's own box conventions do not matter). Below ``min_size_ratio`` the crop
  collapsed; above ``max_size_ratio`` it blew up.
* *jump*: the box centre moved more than ``max_jump`` times the previous box side in one
  frameset, further than a hand moves between frames.

A ratio of 0 switches its check off. Boxes are in full-image pixels; the tracker's are square.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass

from hggt_core.pipeline.types import Box, HandSide

TrackKey = tuple[HandSide, str]
"""(hand side, view name)."""


def box_side_px(box: Box) -> float:
    """The longer side of a box, pixels."""
    return max(box.x_max - box.x_min, box.y_max - box.y_min)


def _centre(box: Box) -> tuple[float, float]:
    return 0.5 * (box.x_min + box.x_max), 0.5 * (box.y_min + box.y_max)


@dataclass
class _Track:
    """One tracked (side, view): its anchor side and its latest healthy box."""

    anchor_side_px: float
    last: Box


class CropHealth:
    """Judges tracked boxes per (hand side, view) against their anchor and previous box.

    Args:
        min_size_ratio: a box side below this times the anchor side is a collapse, in
            [0, 1) (0: off).
        max_size_ratio: a box side above this times the anchor side is a blow-up, 0 (off)
            or > 1.
        max_jump: a centre moving more than this times the previous box side in one frameset
            is a jump, >= 0 (0: off).

    Raises:
        ValueError: a limit out of its range (the message names it).
    """

    def __init__(self, min_size_ratio: float, max_size_ratio: float, max_jump: float) -> None:
        check_health_limits(min_size_ratio, max_size_ratio, max_jump)
        self._min_size_ratio = min_size_ratio
        self._max_size_ratio = max_size_ratio
        self._max_jump = max_jump
        self._tracks: dict[TrackKey, _Track] = {}

    def judge(self, key: TrackKey, box: Box) -> str | None:
        """Why ``box`` (tracked, for ``key``) no longer holds the hand, or None when healthy.

        A healthy box becomes the key's latest box (and its anchor when the key has none); an
        unhealthy one forgets the key, so the box after the re-detection anchors it again.
        """
        track = self._tracks.get(key)
        if track is None:
            self._tracks[key] = _Track(box_side_px(box), box)
            return None
        reason = self._problem(track, box)
        if reason is None:
            track.last = box
        else:
            del self._tracks[key]
        return reason

    def keep_only(self, keys: Iterable[TrackKey]) -> None:
        """Forget every key not in ``keys`` (views re-detected or lost since)."""
        kept = set(keys)
        for key in [key for key in self._tracks if key not in kept]:
            del self._tracks[key]

    def anchor_side_px(self, key: TrackKey) -> float | None:
        """The key's anchor side in pixels, or None when it has none."""
        track = self._tracks.get(key)
        return None if track is None else track.anchor_side_px

    def _problem(self, track: _Track, box: Box) -> str | None:
        side_px = box_side_px(box)
        ratio = side_px / track.anchor_side_px
        if self._min_size_ratio > 0 and ratio < self._min_size_ratio:
            return (
                f"box shrank to {side_px:.0f} px, {ratio:.2f} of its {track.anchor_side_px:.0f}"
                f" px after the last detection (min_size_ratio {self._min_size_ratio:g})"
            )
        if self._max_size_ratio > 0 and ratio > self._max_size_ratio:
            return (
                f"box grew to {side_px:.0f} px, {ratio:.2f} of its {track.anchor_side_px:.0f}"
                f" px after the last detection (max_size_ratio {self._max_size_ratio:g})"
            )
        (u0, v0), (u1, v1) = _centre(track.last), _centre(box)
        jump = math.hypot(u1 - u0, v1 - v0) / box_side_px(track.last)
        if self._max_jump > 0 and jump > self._max_jump:
            return (
                f"box centre jumped {jump:.2f} box sides in one frameset "
                f"(max_jump {self._max_jump:g})"
            )
        return None


def check_health_limits(min_size_ratio: float, max_size_ratio: float, max_jump: float) -> None:
    """Raise ValueError naming the first health limit out of its range."""
    if not 0.0 <= min_size_ratio < 1.0:
        raise ValueError(f"min_size_ratio must lie in [0, 1), got {min_size_ratio!r}")
    if not (max_size_ratio == 0.0 or max_size_ratio > 1.0):
        raise ValueError(f"max_size_ratio must be 0 (off) or > 1, got {max_size_ratio!r}")
    if not max_jump >= 0.0:
        raise ValueError(f"max_jump must be >= 0, got {max_jump!r}")
