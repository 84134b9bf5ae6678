# Copyright 2026 The HGGT-ROS Authors
# SPDX-License-Identifier: Apache-2.0
"""bench/retarget.py runs and reports every row (a few frames only)."""

from __future__ import annotations

import pytest


def test_retarget_benchmark_reports_every_row(load_bench_script, capsys) -> None:
    pytest.importorskip("dex_retargeting", reason="the retarget extra is not installed")
    pytest.importorskip("ghand", reason="the retarget extra (ghand's URDF) is not installed")
    bench = load_bench_script("retarget")
    joints, pinch = bench.hand_sequence(30, 30)
    assert len(joints) == 30 and any(pinch) and joints[0].shape == (21, 3)
    assert bench.main(["--frames", "4", "--cycle", "4", "--repeats", "1"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert len(lines) == 2 + 9 and lines[2].startswith("dexpilot, numpy, warm")
    assert lines[-1].startswith("gripper")
