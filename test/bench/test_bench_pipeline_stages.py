# Copyright 2026 The HGGT-ROS Authors
# SPDX-License-Identifier: Apache-2.0
"""Smoke test of bench/pipeline_stages.py: smallest grid, report structure, positive numbers."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from types import ModuleType

import pytest


@pytest.fixture(scope="module")
def bench(load_bench_script: Callable[[str], ModuleType]) -> ModuleType:
    return load_bench_script("pipeline_stages")


def test_main_writes_table_and_json(
    bench: ModuleType, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    report_path = tmp_path / "report.json"
    argv = ["--configs", "tiny", "--views", "1", "4", "--crop-sizes", "56"]
    argv += ["--repeats", "2", "--warmup", "1", "--threads", "1", "--json", str(report_path)]
    assert bench.main(argv) == 0

    report = json.loads(report_path.read_text(encoding="utf-8"))
    assert report["environment"]["torch_threads"] == 1
    assert report["environment"]["target_ratio"] == pytest.approx(0.1)
    rows = report["rows"]
    assert [(row["config"], row["crop_size"], row["views"]) for row in rows] == [
        ("tiny", 56, 1),
        ("tiny", 56, 4),
    ]
    for row in rows:
        assert set(row["stages_s"]) == set(bench.STAGES)
        assert row["repeats"] == 2
        assert row["model_s"] > 0 and row["overhead_s"] > 0 and row["framesets_per_s"] > 0
        assert all(value >= 0 for value in row["stages_s"].values())
        assert row["stages_s"]["crop"] > 0 and row["stages_s"]["mano"] > 0
        assert row["overhead_ratio"] == pytest.approx(row["overhead_s"] / row["model_s"])
        assert row["framesets_per_s"] == pytest.approx(1 / row["wall_s"])
        assert row["wall_min_s"] <= row["wall_s"] <= row["wall_max_s"]
        assert row["passes_target"] == (row["overhead_ratio"] < 0.1)
        assert row["wall_s"] >= row["model_s"]

    table = capsys.readouterr().out
    assert "| config | crop | S |" in table
    assert table.count("| tiny | 56 |") == 2
    assert "pessimistic" in table
    assert ("PASS" in table) or ("FAIL" in table)


def test_demo_frameset_repeats_the_example_views(bench: ModuleType) -> None:
    frameset = bench.demo_frameset(6)
    names = [view.name for view in frameset.views]
    assert names == [f"view_{index:02d}" for index in range(6)]
    # The bundled example has 4 views: view 4 is view 0's image again.
    assert frameset.views[4].image is frameset.views[0].image
    assert frameset.views[1].image is not frameset.views[0].image
    assert frameset.views[0].image.ndim == 3 and frameset.views[0].image.dtype.name == "uint8"


def test_bad_options_are_rejected(bench: ModuleType) -> None:
    with pytest.raises(SystemExit):
        bench.main(["--repeats", "0"])
    with pytest.raises(SystemExit):
        bench.main(["--views", "0"])
