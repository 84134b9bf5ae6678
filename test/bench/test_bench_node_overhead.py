# Copyright 2026 The HGGT-ROS Authors
# SPDX-License-Identifier: Apache-2.0
"""Smoke test of bench/node_overhead.py: tiny settings, report structure (not timings).

The landmark engine's run also needs mediapipe, its model file and the example crops.

The run needs rclpy and the message packages (tools/setup_ros_env.sh, then
``. .ros-install/env.sh``); without them it is skipped, and the benchmark's main must exit
with status 2 and a clear message.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from pathlib import Path
from types import ModuleType

import numpy as np
import pytest
import torch


@pytest.fixture(scope="module")
def bench(load_bench_script: Callable[[str], ModuleType]) -> ModuleType:
    return load_bench_script("node_overhead")


@pytest.fixture
def ros(bench: ModuleType) -> None:
    reason = bench.ros_unavailable()
    if reason is not None:
        if os.environ.get("HGGT_ROS_ENV"):
            pytest.fail(f"inside the ROS test environment (HGGT_ROS_ENV is set): {reason}")
        pytest.skip(reason)


def test_main_writes_table_and_json(
    bench: ModuleType, ros: None, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    affinity, threads = os.sched_getaffinity(0), torch.get_num_threads()
    report_path = tmp_path / "report.json"
    argv = ["--framesets", "3", "--warmup", "1", "--views", "2", "--size", "64x48"]
    argv += ["--rate", "0", "--json", str(report_path)]
    assert bench.main(argv) == 0
    # Pinning and the torch threads are restored for the rest of the session.
    assert os.sched_getaffinity(0) == affinity and torch.get_num_threads() == threads

    report = json.loads(report_path.read_text(encoding="utf-8"))
    environment = report["environment"]
    assert environment["torch_threads"] == 1
    assert environment["pinned_cpu"] in affinity
    assert (environment["views"], environment["size"]) == (2, "64x48")
    assert environment["target_ms"] == pytest.approx(2.0)
    rows = report["rows"]
    variants = [(row["markers"], row["subscriber"]) for row in rows]
    assert variants == [(True, False), (False, False), (True, True), (False, True)]
    for row in rows:
        assert row["framesets"] == 3
        assert set(row["stages_ms"]) == set(bench.STAGES)
        for summary in [*row["stages_ms"].values(), row["total_ms"]]:
            assert 0 <= summary["median"] <= summary["p95"] <= summary["max"]
        median_sum = sum(row["stages_ms"][stage]["median"] for stage in bench.TIMED_STAGES)
        assert row["total_ms"]["median"] > 0 and median_sum > 0
        assert row["total_with_take_ms"]["median"] >= row["total_ms"]["median"]
        assert row["passes_target"] == (row["total_ms"]["median"] < 2.0)
        # 4 framesets (warm-up included): mano, right joints, tf, and markers when on.
        assert row["published"] == 4 * (4 if row["markers"] else 3)
        if row["subscriber"]:
            assert 0 < row["received"] <= row["published"]
        else:
            assert row["received"] == 0
    # The procedural MANO has MANO's 1538 triangles: 4614 mesh points of 24 bytes, and more.
    assert rows[0]["marker_bytes"] > 1538 * 3 * 24
    assert rows[1]["marker_bytes"] == 0

    table = capsys.readouterr().out
    assert "| markers | subscriber | take ms |" in table
    assert table.count("| on | ") == 2 and table.count("| off | ") == 2
    assert ("PASS" in table) or ("FAIL" in table)


def test_landmark_engine_times_itself_and_gives_the_overhead_share(
    bench: ModuleType,
    ros: None,
    mediapipe_ready: None,
    examples_dir: Path,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    report_path = tmp_path / "report.json"
    argv = ["--engine", "landmarks", "--framesets", "3", "--warmup", "1", "--views", "2"]
    argv += ["--rate", "0", "--json", str(report_path)]
    assert bench.main(argv) == 0
    report = json.loads(report_path.read_text(encoding="utf-8"))
    assert report["environment"]["engine"] == "landmarks"
    engine, rows = report["engine"], report["rows"]
    for key in ("unpinned", "pinned"):
        time_ms = engine[f"engine_ms_{key}"]
        assert 0 < time_ms["median"] <= time_ms["p95"]
        assert engine[f"framesets_with_hand_{key}"] == 3
        # MediaPipe found the right hand in both views and tracks it (VIDEO mode).
        expected = "right tracking (2/2 views), left re-detecting (0/2 views)"
        assert engine[f"tracker_state_{key}"] == expected
        shares = [row["total_ms"]["median"] / time_ms["median"] for row in rows]
        assert engine[f"overhead_share_{key}"] == pytest.approx(shares)
    assert engine["load_avg_1min_at_end"] >= 0
    out = capsys.readouterr().out
    assert "| total / engine |" in out and out.count(" % |") == 4
    assert "engine: landmarks (MediaPipe VIDEO" in out and "load average (1 min)" in out


def test_stamps_are_jittered_around_the_rate(bench: ModuleType) -> None:
    stamps = bench.stamps_ns(5, 3, 30.0)
    assert stamps.shape == (5, 3) and stamps.dtype.kind == "i"
    grid = bench.EPOCH_NS + 33_333_333 * np.arange(5)[:, None]
    offsets = stamps - grid
    assert abs(offsets).max() <= bench.JITTER_S * 1e9
    assert len(np.unique(offsets)) == offsets.size  # jittered, not on the grid


def test_missing_ros_exits_with_status_2(
    bench: ModuleType, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    reason = "bench/node_overhead.py needs ROS 2: no rclpy"
    monkeypatch.setattr(bench, "ros_unavailable", lambda: reason)
    assert bench.main(["--framesets", "1"]) == 2
    assert "needs ROS 2" in capsys.readouterr().err


def test_bad_options_are_rejected(bench: ModuleType, capsys: pytest.CaptureFixture[str]) -> None:
    for argv in (["--framesets", "0"], ["--size", "640"], ["--size", "0x480"], ["--rate", "-1"]):
        with pytest.raises(SystemExit):
            bench.main(argv)
    with pytest.raises(SystemExit):
        bench.main(["--engine", "hggt"])
    with pytest.raises(SystemExit):
        bench.main(["--engine", "landmarks", "--size", "320x240"])
    assert "--engine landmarks needs --size of at least 380x300" in capsys.readouterr().err
