# Copyright 2026 The HGGT-ROS Authors
# SPDX-License-Identifier: Apache-2.0
"""The tracker's health check: size against the anchor, jumps, forgetting, limits."""

from __future__ import annotations

import pytest

from hggt_core.pipeline.crop_health import CropHealth, box_side_px
from hggt_core.pipeline.types import Box

KEY = ("right", "cam0")


def _square(u: float, v: float, side_px: float) -> Box:
    """A square box of side ``side_px`` centred at (u, v)."""
    half = side_px / 2
    return Box(u - half, v - half, u + half, v + half)


def test_the_first_box_anchors_and_shrinking_below_the_ratio_is_reported() -> None:
    health = CropHealth(min_size_ratio=0.6, max_size_ratio=1.8, max_jump=0.5)
    # The weak model: 309 px after the detection, 158 px four framesets later.
    sides_px = [309.0, 260.0, 220.0, 186.0, 158.0]
    verdicts = [health.judge(KEY, _square(320.0, 240.0, side)) for side in sides_px]
    assert verdicts[:4] == [None] * 4  # 186 / 309 = 0.602
    assert verdicts[4] == (
        "box shrank to 158 px, 0.51 of its 309 px after the last detection (min_size_ratio 0.6)"
    )
    # The key was forgotten: the next box (after the re-detection) anchors anew.
    assert health.anchor_side_px(KEY) is None
    assert health.judge(KEY, _square(320.0, 240.0, 150.0)) is None
    assert health.anchor_side_px(KEY) == 150.0


def test_growth_and_jumps_are_reported_and_keys_are_independent() -> None:
    health = CropHealth(min_size_ratio=0.6, max_size_ratio=1.8, max_jump=0.5)
    other = ("left", "cam0")
    assert health.judge(KEY, _square(100.0, 100.0, 100.0)) is None
    assert health.judge(other, _square(400.0, 100.0, 100.0)) is None
    # 40 px per frameset for three framesets (120 px of drift): each step is small.
    for step in range(1, 4):
        assert health.judge(KEY, _square(100.0 + 40.0 * step, 100.0, 100.0)) is None
    reason = health.judge(KEY, _square(220.0 + 30.0, 100.0 + 40.0, 100.0))  # 50 px: fine
    assert reason is None
    reason = health.judge(KEY, _square(250.0, 140.0 + 51.0, 100.0))  # 51 px: 0.51 sides
    assert reason == "box centre jumped 0.51 box sides in one frameset (max_jump 0.5)"
    grown = health.judge(other, _square(400.0, 100.0, 181.0))
    assert grown == (
        "box grew to 181 px, 1.81 of its 100 px after the last detection (max_size_ratio 1.8)"
    )
    assert box_side_px(Box(0.0, 0.0, 30.0, 50.0)) == 50.0


def test_keep_only_forgets_the_other_keys() -> None:
    health = CropHealth(min_size_ratio=0.6, max_size_ratio=0.0, max_jump=0.0)
    for key in (KEY, ("right", "cam1"), ("left", "cam0")):
        health.judge(key, _square(100.0, 100.0, 100.0))
    health.keep_only([KEY])
    assert health.anchor_side_px(KEY) == 100.0
    assert health.anchor_side_px(("right", "cam1")) is None
    assert health.anchor_side_px(("left", "cam0")) is None
    # max_size_ratio 0 and max_jump 0 are off.
    assert health.judge(KEY, _square(900.0, 100.0, 1000.0)) is None


@pytest.mark.parametrize(
    ("limits", "message"),
    [
        ((1.0, 1.8, 0.5), r"min_size_ratio must lie in \[0, 1\), got 1\.0"),
        ((-0.1, 1.8, 0.5), "min_size_ratio must lie in"),
        ((0.6, 1.0, 0.5), r"max_size_ratio must be 0 \(off\) or > 1, got 1\.0"),
        ((0.6, float("nan"), 0.5), "max_size_ratio must be"),
        ((0.6, 1.8, -0.5), "max_jump must be >= 0, got -0.5"),
    ],
)
def test_limits_out_of_range_are_named(limits: tuple[float, float, float], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        CropHealth(*limits)
