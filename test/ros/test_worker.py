# Copyright 2026 The HGGT-ROS Authors
# SPDX-License-Identifier: Apache-2.0
"""The node's ROS-free runtime state: latest-wins worker, rate meter, camera monitors."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

import pytest

from hggt_core.pipeline.sync_types import ViewStats
from hggt_ros.worker import CameraMonitor, LatestWinsWorker, RateMeter


def _wait_for(condition: Callable[[], bool], timeout_s: float = 5.0) -> None:
    deadline = time.monotonic() + timeout_s
    while not condition() and time.monotonic() < deadline:
        time.sleep(0.005)
    assert condition(), "timed out"


def test_worker_processes_only_the_newest_pending_item() -> None:
    release = threading.Event()
    started = threading.Event()
    seen: list[int] = []

    def handler(item: int) -> None:
        started.set()
        release.wait(5.0)
        seen.append(item)

    worker: LatestWinsWorker[int] = LatestWinsWorker(handler)
    worker.start()
    try:
        assert not worker.submit(0)
        assert started.wait(5.0)  # item 0 is running, the queue is empty
        replaced = [worker.submit(item) for item in range(1, 101)]
        assert replaced == [False] + [True] * 99  # only one item ever waits
        stats = worker.stats()
        assert (stats.submitted, stats.dropped, stats.pending, stats.busy) == (101, 99, 1, True)
        release.set()
        _wait_for(lambda: worker.stats().processed == 2)
    finally:
        release.set()
        assert worker.stop()
    assert seen == [0, 100]
    assert worker.stats().failed == 0


def test_worker_survives_a_failing_handler_and_reports_it() -> None:
    errors: list[Exception] = []

    def handler(item: int) -> None:
        if item == 1:
            raise RuntimeError("bad frameset")

    worker: LatestWinsWorker[int] = LatestWinsWorker(handler, on_error=errors.append)
    worker.start()
    try:
        worker.submit(1)
        _wait_for(lambda: worker.stats().processed == 1)
        worker.submit(2)
        _wait_for(lambda: worker.stats().processed == 2)
    finally:
        assert worker.stop()
    stats = worker.stats()
    assert (stats.failed, stats.processed) == (1, 2)
    assert [str(error) for error in errors] == ["bad frameset"]
    assert stats.max_duration_s >= stats.mean_duration_s > 0


def test_stop_drops_the_pending_item() -> None:
    release = threading.Event()
    worker: LatestWinsWorker[int] = LatestWinsWorker(lambda item: release.wait(5.0) and None)
    worker.start()
    worker.submit(0)
    _wait_for(lambda: worker.stats().busy)
    worker.submit(1)
    release.set()
    assert worker.stop()
    stats = worker.stats()
    assert stats.dropped == 1 and stats.processed == 1 and stats.pending == 0


def test_rate_meter_measures_between_events_in_the_window() -> None:
    meter = RateMeter(window_s=1.0)
    assert meter.rate_hz(0.0) == 0.0
    for k in range(31):  # 30 Hz for one second
        meter.record(10.0 + k / 30)
    assert meter.rate_hz(11.0) == pytest.approx(30.0)
    assert meter.count == 31 and meter.last_s == pytest.approx(11.0)
    assert meter.rate_hz(11.5) == pytest.approx(30.0)  # events of [10.5, 11] remain
    assert meter.rate_hz(12.1) == 0.0  # the camera stopped
    with pytest.raises(ValueError):
        RateMeter(0.0)


def _view_stats(name: str = "cam1") -> ViewStats:
    return ViewStats(
        name, received=5, duplicates=0, dropped_stale=1, dropped_overflow=0, buffered=2
    )


def test_camera_monitor_reports_silence_stops_and_bad_input() -> None:
    camera = CameraMonitor("cam1", "cam1/image_raw", rate_window_s=1.0)
    health = camera.health(0.0, 1.0, _view_stats())
    assert (health.level, health.message) == ("warn", "no image received yet")
    for k in range(11):
        camera.rate.record(1.0 + k / 10)
    health = camera.health(2.0, 1.0, _view_stats())
    assert (health.level, health.message) == ("ok", "10.0 Hz")
    assert health.values["rate (Hz)"] == pytest.approx(10.0)
    assert health.values["received"] == 11 and health.values["buffered"] == 2
    camera.problem("image dropped: unsupported image encoding '32FC1'")
    health = camera.health(2.0, 1.0, _view_stats())
    assert health.level == "warn" and "32FC1" in health.message
    assert camera.health(2.0, 1.0, _view_stats()).level == "ok"  # reported once
    assert health.values["bad images"] == 1
    health = camera.health(3.5, 1.0, _view_stats())
    assert (health.level, health.message) == ("warn", "stopped: no image for 1.5 s")
