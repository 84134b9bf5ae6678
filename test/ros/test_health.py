# Copyright 2026 The HGGT-ROS Authors
# SPDX-License-Identifier: Apache-2.0
"""The pipeline's diagnostics: output rate, age at publish, views, tracker (no ROS needed).

The tracker state itself is the predictors' (test/pipeline and test/landmarks
``test_predictor_tracker_state.py``); here it is only reported.
"""

from __future__ import annotations

import pytest

from hggt_core.pipeline.sync_types import SyncedSet, SyncStats, ViewStats
from hggt_ros.health import FramesetOutcome, OutputMonitor, OutputStats, pipeline_health
from hggt_ros.worker import WorkerStats


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
