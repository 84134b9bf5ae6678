# Copyright 2026 The HGGT-ROS Authors
# SPDX-License-Identifier: Apache-2.0
"""Hand localisers: given boxes, crop mode, the reprojection tracker and the factory."""

from __future__ import annotations

import dataclasses
import math
import sys
from collections.abc import Sequence

import numpy as np
import pytest
import torch

from hggt_core.assembly.localisers import LOCALISER_NAMES, localiser_from_name
from hggt_core.geometry.distortion import LensDistortion, distort_pixels
from hggt_core.geometry.projection import project_points
from hggt_core.pipeline.boxes import box_around_points, overlap_fraction
from hggt_core.pipeline.localise import GivenBoxes, WholeImageCrops
from hggt_core.pipeline.tracker import ReprojectionTracker, TrackerConfig
from hggt_core.pipeline.types import (
    Box,
    CropTransform,
    FrameSet,
    HandBoxes,
    HandLocaliser,
    HandResult,
    HandSide,
    View,
    ViewCamera,
)

WIDTH, HEIGHT = 640, 480
K = np.array([[500.0, 0.0, 320.0], [0.0, 500.0, 240.0], [0.0, 0.0, 1.0]])
STAMP_NS = 1_700_000_000_123_456_789
"""A realistic stamp with odd nanoseconds."""
MS = 1_000_000
"""Nanoseconds per millisecond."""


def _rigid(yaw_rad: float, translation: Sequence[float]) -> np.ndarray:
    """[4, 4] cam_from_ref: rotation about the camera's y axis, then translation (metres)."""
    c, s = math.cos(yaw_rad), math.sin(yaw_rad)
    transform = np.eye(4)
    transform[:3, :3] = [[c, 0.0, s], [0.0, 1.0, 0.0], [-s, 0.0, c]]
    transform[:3, 3] = translation
    return transform


# cam0 is the reference; cam1 looks at the hand from the side; cam2 faces away from it.
CAMS = {
    "cam0": np.eye(4),
    "cam1": _rigid(-math.radians(30.0), [0.25, 0.0, 0.07]),
    "cam2": _rigid(math.pi, [0.0, 0.0, 0.0]),
}


def _joints(centre: Sequence[float] = (0.0, 0.0, 0.5), seed: int = 0) -> np.ndarray:
    """[21, 3] joints spread over about +-5 cm around ``centre`` (metres, reference frame)."""
    rng = np.random.default_rng(seed)
    return np.asarray(centre) + rng.uniform(-0.05, 0.05, size=(21, 3))


def _camera(name: str, joints: np.ndarray) -> ViewCamera:
    points_cam = joints @ CAMS[name][:3, :3].T + CAMS[name][:3, 3]
    uv = points_cam[:, :2] / points_cam[:, 2:] * 500.0 + [320.0, 240.0]
    return ViewCamera(name, K, CAMS[name], uv, CropTransform(0.0, 0.0, 1.0, 518))


def _result(
    joints: np.ndarray,
    views: Sequence[str] = ("cam0", "cam1"),
    side: HandSide = "right",
    stamp_ns: int = STAMP_NS - 50 * MS,
    score: float = 0.9,
) -> HandResult:
    return HandResult(
        stamp_ns=stamp_ns,
        side=side,
        score=score,
        hand_pose=np.zeros(48),
        betas=np.zeros(10),
        transl=np.zeros(3),
        vertices=np.zeros((778, 3)),
        joints=joints,
        joint_rotations=np.tile(np.eye(3), (21, 1, 1)),
        cameras=tuple(_camera(name, joints) for name in views),
        views_used=tuple(views),
    )


def _frameset(names: Sequence[str] = ("cam0", "cam1"), stamp_ns: int = STAMP_NS) -> FrameSet:
    image = np.zeros((HEIGHT, WIDTH, 3), dtype=np.uint8)
    return FrameSet(stamp_ns, tuple(View(name, stamp_ns, image) for name in names))


class CountingLocaliser:
    """A fallback that records the views it was asked about and boxes every one of them."""

    def __init__(self, sides: Sequence[HandSide] = ("right",)) -> None:
        self.calls: list[tuple[str, ...]] = []
        self.sides = tuple(sides)

    def locate(self, frameset: FrameSet, previous: Sequence[HandResult]) -> list[HandBoxes]:
        assert not previous
        self.calls.append(tuple(view.name for view in frameset.views))
        box = Box(10.0, 20.0, 110.0, 120.0, score=0.6)
        return [
            HandBoxes(side, {view.name: box for view in frameset.views}, score=0.6)
            for side in self.sides
        ]


def _contains(box: Box, uv: np.ndarray) -> bool:
    return bool(
        np.all(uv[:, 0] > box.x_min)
        and np.all(uv[:, 0] < box.x_max)
        and np.all(uv[:, 1] > box.y_min)
        and np.all(uv[:, 1] < box.y_max)
    )


def test_box_around_points_known_answers() -> None:
    points = np.array([[10.0, 20.0], [30.0, 60.0]])
    tight = box_around_points(points, 1.0, square=False)
    assert (tight.x_min, tight.y_min, tight.x_max, tight.y_max) == (10.0, 20.0, 30.0, 60.0)
    square = box_around_points(points, 1.5, square=True, score=0.3)
    assert (square.x_min, square.y_min, square.x_max, square.y_max) == (-10.0, 10.0, 50.0, 70.0)
    assert square.score == 0.3
    single = box_around_points(np.array([[5.0, 5.0]]), 2.0, square=True, min_side_px=4.0)
    assert (single.x_min, single.y_min, single.x_max, single.y_max) == (3.0, 3.0, 7.0, 7.0)


def test_overlap_fraction_known_answers() -> None:
    assert overlap_fraction(Box(10, 10, 20, 20), 100, 50) == 1.0
    assert overlap_fraction(Box(-10, 0, 10, 10), 100, 50) == 0.5
    assert overlap_fraction(Box(90, 40, 110, 60), 100, 50) == 0.25
    assert overlap_fraction(Box(200, 0, 210, 10), 100, 50) == 0.0


def test_given_boxes_are_returned_and_checked_against_view_names() -> None:
    hands = [
        HandBoxes("right", {"cam0": Box(1, 2, 3, 4)}),
        HandBoxes("left", {"cam1": Box(5, 6, 7, 8)}, 0.5),
    ]
    localiser: HandLocaliser = GivenBoxes(hands)
    assert localiser.locate(_frameset(), []) == hands
    with pytest.raises(ValueError, match=r"unknown view\(s\) \['cam9'\].*'cam0', 'cam1'"):
        GivenBoxes([HandBoxes("right", {"cam9": Box(1, 2, 3, 4)})]).locate(_frameset(), [])
    with pytest.raises(ValueError, match="one hand per side"):
        GivenBoxes([HandBoxes("left", {}), HandBoxes("left", {})])


def test_crop_mode_boxes_the_whole_image_of_every_view() -> None:
    views = (
        View("a", STAMP_NS, np.zeros((518, 518, 3), dtype=np.uint8)),
        View("b", STAMP_NS, np.zeros((240, 320, 3), dtype=np.uint8)),
    )
    localiser: HandLocaliser = WholeImageCrops("left")
    (hand,) = localiser.locate(FrameSet(STAMP_NS, views), [])
    assert hand.side == "left"
    assert hand.boxes == {"a": Box(0.0, 0.0, 518.0, 518.0), "b": Box(0.0, 0.0, 320.0, 240.0)}
    with pytest.raises(ValueError, match="side"):
        WholeImageCrops("both")  # type: ignore[arg-type]


def test_tracker_boxes_contain_the_projected_joints() -> None:
    joints = _joints()
    previous = _result(joints)
    fallback = CountingLocaliser()
    tracker = ReprojectionTracker(fallback, TrackerConfig(expand=1.2))
    (hand,) = tracker.locate(_frameset(), [previous])
    assert fallback.calls == []
    assert hand.side == "right"
    assert hand.score == pytest.approx(0.9)
    assert set(hand.boxes) == {"cam0", "cam1"}
    for name, box in hand.boxes.items():
        # Independent projection path (torch, geometry.projection).
        uv_t, _ = project_points(
            torch.from_numpy(joints), torch.from_numpy(CAMS[name]), torch.from_numpy(K)
        )
        uv = uv_t.numpy()
        np.testing.assert_allclose(uv, previous.cameras[list(CAMS).index(name)].joints_2d)
        assert _contains(box, uv)
        side = box.x_max - box.x_min
        assert side == pytest.approx(box.y_max - box.y_min)
        assert side == pytest.approx(1.2 * np.ptp(uv, axis=0).max())
        centre = 0.5 * (uv.min(axis=0) + uv.max(axis=0))
        np.testing.assert_allclose([box.x_min + side / 2, box.y_min + side / 2], centre)


def test_tracker_boxes_are_in_raw_pixels_of_a_distorted_view() -> None:
    # Joints off to one side, where a wide-angle lens moves them by tens of pixels.
    joints = _joints(centre=(0.25, 0.15, 0.5))
    lens = LensDistortion("plumb_bob", (-0.3, 0.1, 0.0, 0.0, 0.0))
    image = np.zeros((HEIGHT, WIDTH, 3), dtype=np.uint8)
    frameset = FrameSet(STAMP_NS, (View("cam0", STAMP_NS, image, K, lens),))
    tracker = ReprojectionTracker(CountingLocaliser(), TrackerConfig(expand=1.2))
    (hand,) = tracker.locate(frameset, [_result(joints, views=("cam0",))])
    box = hand.boxes["cam0"]
    ideal = _camera("cam0", joints).joints_2d
    raw = distort_pixels(ideal, K, lens)
    assert np.max(np.linalg.norm(raw - ideal, axis=1)) > 20.0
    assert _contains(box, raw)
    centre = 0.5 * (raw.min(axis=0) + raw.max(axis=0))
    np.testing.assert_allclose([(box.x_min + box.x_max) / 2, (box.y_min + box.y_max) / 2], centre)


def test_tracker_drops_views_behind_or_outside_and_keeps_the_hand() -> None:
    # cam2 faces away from the hand (all joints behind it).
    joints = _joints(centre=(0.0, 0.0, 0.5))
    previous = _result(joints, views=("cam0", "cam1", "cam2"))
    fallback = CountingLocaliser()
    tracker = ReprojectionTracker(fallback)
    (hand,) = tracker.locate(_frameset(("cam0", "cam1", "cam2")), [previous])
    assert set(hand.boxes) == {"cam0", "cam1"}
    assert fallback.calls == []

    # Moved 0.4 m to the left at 0.5 m depth, the hand leaves cam0's image.
    far_left = _result(joints + np.array([-0.4, 0.0, 0.0]), views=("cam0",))
    (unchecked,) = _boxes(far_left)
    assert overlap_fraction(unchecked, WIDTH, HEIGHT) < 0.25
    assert tracker.locate(_frameset(("cam0",)), [far_left]) == [
        HandBoxes("right", {"cam0": Box(10.0, 20.0, 110.0, 120.0, 0.6)}, 0.6)
    ]
    assert fallback.calls == [("cam0",)]


def _boxes(result: HandResult) -> list[Box]:
    """The tracker's boxes before the overlap test (min_overlap 0 keeps every view)."""
    tracker = ReprojectionTracker(None, TrackerConfig(min_overlap=0.0))
    (hand,) = tracker.locate(_frameset(result.views_used), [result])
    return list(hand.boxes.values())


def test_fallback_replaces_a_hand_seen_in_fewer_than_min_tracked_views() -> None:
    previous = _result(_joints(), views=("cam0", "cam2"))
    fallback = CountingLocaliser()
    tracker = ReprojectionTracker(fallback, TrackerConfig(min_tracked_views=2))
    (hand,) = tracker.locate(_frameset(("cam0", "cam2")), [previous])
    assert fallback.calls == [("cam0", "cam2")]
    assert hand.score == 0.6
    assert set(hand.boxes) == {"cam0", "cam2"}
    assert (
        ReprojectionTracker(None, TrackerConfig(min_tracked_views=2)).locate(
            _frameset(("cam0", "cam2")), [previous]
        )
        == []
    )


def test_fallback_is_used_without_recent_results() -> None:
    fallback = CountingLocaliser(sides=("right", "left"))
    tracker = ReprojectionTracker(fallback, TrackerConfig(max_age_s=0.2))
    assert [hand.side for hand in tracker.locate(_frameset(), [])] == ["right", "left"]
    stale = _result(_joints(), stamp_ns=STAMP_NS - 300 * MS)
    future = _result(_joints(), stamp_ns=STAMP_NS + 10 * MS)
    tracker.locate(_frameset(), [stale])
    tracker.locate(_frameset(), [future])
    assert fallback.calls == [("cam0", "cam1")] * 3
    fresh = _result(_joints(), stamp_ns=STAMP_NS - 190 * MS)
    tracker.locate(_frameset(), [fresh])
    assert len(fallback.calls) == 3
    assert ReprojectionTracker(None).locate(_frameset(), []) == []


def test_full_detection_adds_new_sides_and_completes_tracked_hands() -> None:
    right = _result(_joints(), views=("cam0",))
    left = _result(_joints(), views=("cam2",), side="left")
    fallback = CountingLocaliser(sides=("right", "left"))
    hands = ReprojectionTracker(fallback).locate(
        _frameset(("cam0", "cam1", "cam2")), [right, left]
    )
    # The left hand is lost (cam2 faces away), so the whole frameset goes to the fallback.
    assert fallback.calls == [("cam0", "cam1", "cam2")]
    by_side = {hand.side: hand for hand in hands}
    assert by_side["right"].score == pytest.approx(0.9)
    assert by_side["right"].boxes["cam0"].score == pytest.approx(0.9)
    assert by_side["right"].boxes["cam1"].score == 0.6
    assert by_side["left"].score == 0.6


def test_camera_that_comes_back_is_detected_at_the_retry_rate() -> None:
    previous = _result(_joints(), views=("cam0",))
    fallback = CountingLocaliser(sides=("right", "left"))
    tracker = ReprojectionTracker(fallback, TrackerConfig(new_view_retry_s=0.5))
    for stamp_ns in (STAMP_NS, STAMP_NS + 200 * MS, STAMP_NS + 500 * MS):
        (hand,) = tracker.locate(
            _frameset(stamp_ns=stamp_ns), [_result(previous.joints, ("cam0",), stamp_ns=stamp_ns)]
        )
        assert hand.side == "right"  # the sub-frameset call never adds sides
    assert fallback.calls == [("cam1",), ("cam1",)]
    assert set(hand.boxes) == {"cam0", "cam1"}
    assert hand.boxes["cam1"] == Box(10.0, 20.0, 110.0, 120.0, 0.6)
    no_fallback = ReprojectionTracker(None).locate(_frameset(), [previous])
    assert set(no_fallback[0].boxes) == {"cam0"}


def test_score_decays_and_forces_redetection() -> None:
    config = TrackerConfig(score_decay=0.5, min_score=0.4)
    fallback = CountingLocaliser()
    tracker = ReprojectionTracker(fallback, config)
    (hand,) = tracker.locate(_frameset(), [_result(_joints(), score=1.0)])
    assert hand.score == 0.5
    assert all(box.score == 0.5 for box in hand.boxes.values())
    assert fallback.calls == []
    (hand,) = tracker.locate(_frameset(), [_result(_joints(), score=0.7)])
    assert fallback.calls == [("cam0", "cam1")]
    assert hand.score == 0.6


def test_constant_velocity_extrapolation() -> None:
    step_m = np.array([0.02, 0.0, 0.0])
    joints = _joints()
    results = [
        _result(joints + k * step_m, views=("cam0",), stamp_ns=STAMP_NS + 100 * MS * k)
        for k in range(2)
    ]
    moving = ReprojectionTracker(None, TrackerConfig(expand=1.2, extrapolate=True))
    still = ReprojectionTracker(None, TrackerConfig(expand=1.2))
    for tracker in (moving, still):
        tracker.locate(_frameset(("cam0",), STAMP_NS + 50 * MS), [results[0]])
    stamp_ns = STAMP_NS + 200 * MS
    (moved,) = moving.locate(_frameset(("cam0",), stamp_ns), [results[1]])
    (kept,) = still.locate(_frameset(("cam0",), stamp_ns), [results[1]])
    expected = _camera("cam0", joints + 2 * step_m).joints_2d
    assert _contains(moved.boxes["cam0"], expected)
    centre_shift = moved.boxes["cam0"].x_min - kept.boxes["cam0"].x_min
    assert centre_shift == pytest.approx(500.0 * 0.02 / 0.5, rel=0.2)  # ~20 px at 0.5 m


def test_factory_builds_each_localiser_and_explains_errors(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    hands = [HandBoxes("right", {"cam0": Box(1, 2, 3, 4)})]
    assert isinstance(localiser_from_name("boxes", boxes=hands), GivenBoxes)
    crop = localiser_from_name("crop", side="left")
    assert crop.locate(_frameset(), [])[0].side == "left"
    with pytest.raises(ValueError, match="needs the hand boxes"):
        localiser_from_name("boxes")
    with pytest.raises(ValueError, match=r"'yolo'.*\['boxes', 'crop', 'tracker', 'mediapipe'\]"):
        localiser_from_name("yolo")
    assert LOCALISER_NAMES == ("boxes", "crop", "tracker", "mediapipe")
    # As if MediaPipe were not installed (even when another test imported it already).
    for module in ("mediapipe", "mediapipe.python.solutions.hands"):
        monkeypatch.setitem(sys.modules, module, None)
    with pytest.raises(ImportError, match=r"pip install 'hggt_ros\[detector\]'"):
        localiser_from_name("mediapipe")
    tracker = localiser_from_name(
        "tracker", side="left", tracker=TrackerConfig(min_tracked_views=2)
    )
    assert isinstance(tracker, ReprojectionTracker)
    assert tracker.config.min_tracked_views == 2
    (hand,) = tracker.locate(_frameset(), [])  # crop mode is the fallback without MediaPipe
    assert hand.side == "left"
    assert hand.boxes["cam1"] == Box(0.0, 0.0, WIDTH, HEIGHT)


def test_tracker_config_rejects_bad_values() -> None:
    for bad in (
        {"min_tracked_views": 0},
        {"expand": 0.0},
        {"score_decay": 0.0},
        {"min_overlap": 1.5},
    ):
        with pytest.raises(ValueError):
            TrackerConfig(**bad)  # type: ignore[arg-type]


def _scaled(joints: np.ndarray, factor: float) -> np.ndarray:
    """Joints shrunk (factor < 1) about their centroid, as a weak model's results drift."""
    centre = joints.mean(axis=0)
    return centre + factor * (joints - centre)


def test_a_collapsing_crop_is_detected_again_then_tracked_from_the_new_detection() -> None:
    # A weak model's results shrink by 0.8 per frameset (issue 11: 309 -> 158 px in four).
    fallback = CountingLocaliser()
    tracker = ReprojectionTracker(fallback)  # the defaults: min_size_ratio 0.6
    joints, states, sides_px = _joints(), [], []
    for k in range(6):
        stamp_ns = STAMP_NS + 33 * MS * k
        previous = _result(_scaled(joints, 0.8**k), ("cam0",), stamp_ns=stamp_ns - 33 * MS)
        (hand,) = tracker.locate(_frameset(("cam0",), stamp_ns), [previous])
        states.append(tracker.state)
        sides_px.append(hand.boxes["cam0"].x_max - hand.boxes["cam0"].x_min)
    # Frameset 3 is 0.8^3 = 0.51 of the size after the detection: below 0.6, so the detector
    # boxes the hand; frameset 4 anchors anew on the box its result leads to.
    assert states == ["tracking"] * 3 + ["re-detecting"] + ["tracking"] * 2
    assert fallback.calls == [("cam0",)]
    assert sides_px[3] == 100.0  # the detector's box
    assert sides_px[2] / sides_px[0] == pytest.approx(0.64, abs=0.02)
    assert tracker.unhealthy_boxes == 1


def test_a_jumping_or_growing_box_is_detected_again_in_that_view_only() -> None:
    joints = _joints()
    fallback = CountingLocaliser()
    tracker = ReprojectionTracker(fallback)
    (first,) = tracker.locate(_frameset(), [_result(joints)])
    # The result's cam1 camera slides 9 cm sideways (~90 px, 0.7 of its ~126 px box).
    slid = _result(joints).cameras[1].cam_from_ref.copy()
    slid[0, 3] += 0.09
    jumped = _replace_camera(_result(joints), 1, slid)
    (hand,) = tracker.locate(_frameset(), [jumped])
    assert fallback.calls == [("cam1",)]
    assert tracker.state == "tracking"
    assert hand.boxes["cam0"] == first.boxes["cam0"]
    assert hand.boxes["cam1"] == Box(10.0, 20.0, 110.0, 120.0, 0.6)  # detected again
    # Growing past max_size_ratio (1.8) against the box after the detection: 2x the joints.
    grown = ReprojectionTracker(fallback, TrackerConfig(max_jump=0.0))
    grown.locate(_frameset(("cam0",)), [_result(joints, ("cam0",))])
    grown.locate(_frameset(("cam0",)), [_result(_scaled(joints, 1.7), ("cam0",))])
    assert fallback.calls == [("cam1",)]  # 1.7x: still healthy
    grown.locate(_frameset(("cam0",)), [_result(_scaled(joints, 2.0), ("cam0",))])
    assert fallback.calls == [("cam1",), ("cam0",)]
    assert grown.state == "re-detecting"


def test_health_checks_switched_off_keep_tracking() -> None:
    fallback = CountingLocaliser()
    config = TrackerConfig(min_size_ratio=0.0, max_size_ratio=0.0, max_jump=0.0)
    tracker = ReprojectionTracker(fallback, config)
    joints = _joints()
    for factor, shift in ((1.0, 0.0), (0.3, 0.0), (0.3, 0.2), (3.0, -0.2)):
        moved = _scaled(joints, factor) + np.array([shift, 0.0, 0.0])
        tracker.locate(_frameset(("cam0",)), [_result(moved, ("cam0",))])
    assert fallback.calls == [] and tracker.state == "tracking"
    with pytest.raises(ValueError, match="min_size_ratio must lie in"):
        TrackerConfig(min_size_ratio=1.0)
    with pytest.raises(ValueError, match=r"max_size_ratio must be 0 \(off\) or > 1"):
        TrackerConfig(max_size_ratio=0.5)
    with pytest.raises(ValueError, match="max_jump must be >= 0"):
        TrackerConfig(max_jump=-1.0)


def _replace_camera(result: HandResult, index: int, cam_from_ref: np.ndarray) -> HandResult:
    cameras = list(result.cameras)
    cameras[index] = dataclasses.replace(cameras[index], cam_from_ref=cam_from_ref)
    return dataclasses.replace(result, cameras=tuple(cameras))
