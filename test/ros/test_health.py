# Copyright 2026 The HGGT-ROS Authors
# SPDX-License-Identifier: Apache-2.0
"""The pipeline's diagnostics: output rate, age at publish, tracker state (no ROS needed)."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pytest

from hggt_core.pipeline.localise import WholeImageCrops
from hggt_core.pipeline.sync_types import SyncedSet, SyncStats, ViewStats
from hggt_core.pipeline.tracker import ReprojectionTracker
from hggt_core.pipeline.types import (
    Box,
    CropTransform,
    FrameSet,
    HandBoxes,
    HandResult,
    View,
    ViewCamera,
)
from hggt_ros.health import (
    TRACKER_STATES,
    FramesetOutcome,
    OutputMonitor,
    OutputStats,
    pipeline_health,
    tracker_state,
)
from hggt_ros.worker import WorkerStats

WIDTH, HEIGHT = 640, 480
K = np.array([[500.0, 0.0, 320.0], [0.0, 500.0, 240.0], [0.0, 0.0, 1.0]])


def test_output_monitor_measures_rate_and_age_at_publish() -> None:
    monitor = OutputMonitor(window_s=1.0, history=3)
    assert monitor.stats(0.0) == OutputStats(0, 0.0, None, 0.0, 0.0)
    for k, age_s in enumerate((0.040, 0.050, 0.060, 0.110)):
        now_s = 10.0 + 0.1 * k
        monitor.record(now_s, now_s - age_s)
    stats = monitor.stats(10.35)
    assert stats.published == 4
    assert stats.rate_hz == pytest.approx(10.0)  # 4 outputs 0.1 s apart
    assert stats.age_last_s == pytest.approx(0.110)
    assert stats.age_mean_s == pytest.approx((0.050 + 0.060 + 0.110) / 3)  # the last 3
    assert stats.age_max_s == pytest.approx(0.110)
    later = monitor.stats(20.0)  # all outside the window: no rate, the ages stay
    assert later.rate_hz == 0.0 and later.published == 4
    assert later.age_last_s == pytest.approx(0.110)
    with pytest.raises(ValueError, match="window_s"):
        OutputMonitor(window_s=0.0)


def _view_stats(name: str) -> ViewStats:
    return ViewStats(
        name, received=5, duplicates=0, dropped_stale=1, dropped_overflow=0, buffered=2
    )


def _worker_stats(failed: int = 0) -> WorkerStats:
    return WorkerStats(10, 8, 2, failed, 0, False, 0.05, 0.09)


def test_pipeline_health_reports_times_rates_views_tracker_and_problems() -> None:
    sync = SyncStats((_view_stats("cam0"), _view_stats("cam1")), 9, 3, 0)
    synced: SyncedSet[None] = SyncedSet(10**9, (("cam0", 10**9, None),), ("cam1",), 0.004)
    last = FramesetOutcome(synced, 1, "tracking")
    outputs = OutputStats(8, 12.5, 0.080, 0.070, 0.120)
    identity = {"engine": "torch", "device": "cpu"}
    health = pipeline_health(_worker_stats(), sync, last, outputs, 4, True, identity)
    assert (health.level, health.message) == ("ok", "8 framesets processed, 12.5 Hz out")
    values = health.values
    assert values["engine"] == "torch" and values["device"] == "cpu"
    assert values["inference time mean (ms)"] == pytest.approx(50.0)
    assert values["inference time max (ms)"] == pytest.approx(90.0)
    assert values["age at publish last (ms)"] == pytest.approx(80.0)
    assert values["age at publish mean (ms)"] == pytest.approx(70.0)
    assert values["age at publish max (ms)"] == pytest.approx(120.0)
    assert values["output rate (Hz)"] == pytest.approx(12.5)
    assert values["framesets published"] == 8
    assert values["framesets dropped (latest wins)"] == 2
    assert values["framesets dropped (rate limit)"] == 4
    assert values["views used"] == "cam0" and values["views missing"] == "cam1"
    assert values["sync spread (ms)"] == pytest.approx(4.0)
    assert values["hands"] == 1 and values["tracker"] == "tracking"
    assert values["sync buffered images"] == 4 and values["sync partial sets"] == 3
    idle = OutputStats(0, 0.0, None, 0.0, 0.0)
    before = pipeline_health(_worker_stats(), sync, None, idle, 0, False, identity)
    assert before.level == "warn" and before.values["age at publish last (ms)"] == "none yet"
    assert "tracker" not in before.values
    failed = pipeline_health(_worker_stats(1), sync, None, idle, 0, True, identity)
    assert failed.level == "error"


def _frameset(stamp_s: float) -> FrameSet:
    image = np.zeros((HEIGHT, WIDTH, 3), dtype=np.uint8)
    stamp_ns = round(stamp_s * 10**9)
    return FrameSet(stamp_ns, (View("cam0", stamp_ns, image),))


def _result(stamp_s: float) -> HandResult:
    """A right hand 0.5 m in front of cam0 (the reference), seen by cam0 only."""
    joints = np.array([0.0, 0.0, 0.5]) + np.random.default_rng(0).uniform(-0.05, 0.05, (21, 3))
    uv = joints[:, :2] / joints[:, 2:] * 500.0 + [320.0, 240.0]
    camera = ViewCamera("cam0", K, np.eye(4), uv, CropTransform(0.0, 0.0, 1.0, 518))
    return HandResult(
        stamp_ns=round(stamp_s * 10**9), side="right", score=0.9, hand_pose=np.zeros(48),
        betas=np.zeros(10), transl=np.zeros(3), vertices=np.zeros((778, 3)), joints=joints,
        joint_rotations=np.tile(np.eye(3), (21, 1, 1)), cameras=(camera,), views_used=("cam0",),
    )  # fmt: skip


class ScriptedDetector:
    """A fallback localiser that finds a right hand only while ``present`` is True."""

    def __init__(self) -> None:
        self.present = True

    def locate(self, frameset: FrameSet, previous: Sequence[HandResult]) -> list[HandBoxes]:
        if not self.present:
            return []
        return [HandBoxes("right", {"cam0": Box(200.0, 150.0, 400.0, 350.0, score=0.8)})]


def test_tracker_state_follows_the_reprojection_tracker() -> None:
    detector = ScriptedDetector()
    tracker = ReprojectionTracker(detector)
    # No previous hand: the detector searches the whole frameset and finds one.
    assert tracker.locate(_frameset(1.0), [])
    assert tracker_state(tracker) == "re-detecting"
    # The previous result projects into the image: boxes come from the tracker.
    assert tracker.locate(_frameset(1.1), [_result(1.0)])
    assert tracker_state(tracker) == "tracking"
    # The previous hand is too old to track and the detector finds nothing.
    detector.present = False
    assert tracker.locate(_frameset(5.0), [_result(1.1)]) == []
    assert tracker_state(tracker) == "lost"
    assert set(TRACKER_STATES) == {"tracking", "re-detecting", "lost"}


def test_tracker_state_is_none_without_a_tracker() -> None:
    assert tracker_state(WholeImageCrops("right")) is None
    assert tracker_state(None) is None
