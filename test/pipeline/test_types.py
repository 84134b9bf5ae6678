# Copyright 2026 The HGGT-ROS Authors
# SPDX-License-Identifier: Apache-2.0
"""Pipeline types: integer-nanosecond stamps, their float view, and frameset checks."""

from __future__ import annotations

import math

import numpy as np
import pytest

from hggt_core.geometry.distortion import LensDistortion
from hggt_core.pipeline.types import NS_PER_S, FrameSet, View, checked_stamp_ns, seconds_to_ns

EPOCH_NS = 1_700_000_000_123_456_789
"""A realistic ROS stamp: float64 seconds hold it only to ~0.24 us."""
IMAGE = np.zeros((4, 4, 3), dtype=np.uint8)


def test_stamps_are_exact_integers_with_a_float_view() -> None:
    view = View("cam0", np.int64(EPOCH_NS), IMAGE)  # as read back from an npz file
    frameset = FrameSet(EPOCH_NS, (view,))
    assert type(view.stamp_ns) is int and view.stamp_ns == EPOCH_NS
    assert frameset.stamp_ns == EPOCH_NS
    assert frameset.stamp_s == EPOCH_NS / NS_PER_S
    # The float view is the nearest double, which is not the stamp: never stamp with it.
    assert seconds_to_ns(frameset.stamp_s) != EPOCH_NS
    assert abs(seconds_to_ns(frameset.stamp_s) - EPOCH_NS) < 120


@pytest.mark.parametrize("stamp", [1.5, 1_700_000_000.0, True, "1", None])
def test_a_stamp_that_is_not_integer_nanoseconds_is_a_clear_error(stamp: object) -> None:
    with pytest.raises(TypeError, match=r"^view 'cam0': stamp_ns must be integer nanoseconds"):
        View("cam0", stamp, IMAGE)  # type: ignore[arg-type]
    with pytest.raises(TypeError, match=r"^frameset: stamp_ns must be integer nanoseconds"):
        FrameSet(stamp, (View("cam0", 0, IMAGE),))  # type: ignore[arg-type]
    assert checked_stamp_ns(np.uint32(7), "x") == 7


def test_seconds_convert_to_the_nearest_nanosecond_of_the_exact_float() -> None:
    assert seconds_to_ns(0.1) == 100_000_000  # 0.1 is 0.1000000000000000055... exactly
    assert seconds_to_ns(1e-9) == 1 and seconds_to_ns(-0.25) == -250_000_000
    assert seconds_to_ns(1 / 30) == 33_333_333
    with pytest.raises(ValueError, match="cannot convert nan s to nanoseconds"):
        seconds_to_ns(math.nan)


def test_lens_distortion_needs_intrinsics() -> None:
    lens = LensDistortion("equidistant", (0.01, 0.0, 0.0, 0.0))
    view = View("cam", 0, IMAGE, np.eye(3), lens)
    assert view.distortion is lens and View("cam", 0, IMAGE).distortion is None
    with pytest.raises(ValueError, match="view 'cam': lens distortion without intrinsics"):
        View("cam", 0, IMAGE, None, lens)


def test_frameset_checks_its_views() -> None:
    with pytest.raises(ValueError, match="at least one view"):
        FrameSet(0, ())
    with pytest.raises(ValueError, match="unique"):
        FrameSet(0, (View("a", 0, IMAGE), View("a", 1, IMAGE)))
