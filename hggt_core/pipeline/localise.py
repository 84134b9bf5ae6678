# Copyright 2026 The HGGT-ROS Authors
# SPDX-License-Identifier: Apache-2.0
"""Hand localisation backends: where each hand is in each view of a frameset.

Every backend implements :class:`~hggt_core.pipeline.types.HandLocaliser`:

* :class:`GivenBoxes` returns the caller's boxes ("boxes").
* :class:`WholeImageCrops` treats every view as a hand crop already ("crop"), as in the
  released 518 x 518 examples.
* :class:`~hggt_core.pipeline.tracker.ReprojectionTracker` ("tracker") follows the previous
  result and falls back to the detector.
* :class:`~hggt_core.landmarks.detector.MediaPipeHandDetector` ("mediapipe", on
  MediaPipe's hand landmarker) detects hands and their side in each view.

:func:`hggt_core.assembly.localisers.localiser_from_name` builds any of them by name.

Boxes are in full-image pixels with the axes of :mod:`hggt_core.pipeline.types`.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence

from hggt_core.pipeline.boxes import HAND_SIDES
from hggt_core.pipeline.types import Box, FrameSet, HandBoxes, HandResult, HandSide

_LOG = logging.getLogger(__name__)


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
