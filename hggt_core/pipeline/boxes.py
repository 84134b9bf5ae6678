# Copyright 2026 The HGGT-ROS Authors
# SPDX-License-Identifier: Apache-2.0
"""Hand boxes from points and how much of a box lies in its image (pixels, types' axes)."""

from __future__ import annotations

import numpy as np

from hggt_core.pipeline.types import Box, FloatArray, HandSide

HAND_SIDES: tuple[HandSide, ...] = ("right", "left")
"""Both sides, in the order results are reported."""


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
