# Copyright 2026 The HGGT-ROS Authors
# SPDX-License-Identifier: Apache-2.0
"""``hggt bench``: the table on stdout and the numbers in the JSON report (tiny config, CPU)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from hggt_core.bench.flops import forward_flops
from hggt_core.cli import main
from hggt_core.cli.bench import default_engines
from hggt_core.engine.registry import UNTRAINED_CONFIG

FAST = ["--configs", "tiny", "--crop-sizes", "28", "--repeats", "2", "--warmup", "0"]
FAST += ["--threads", "1"]


def test_bench_prints_a_row_per_view_count_and_writes_the_numbers(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    report_path = tmp_path / "latency.json"
    argv = ["bench", *FAST, "--engines", "torch", "--views", "1", "3", "--peak-tflops", "0.5"]
    assert main([*argv, "--json", str(report_path)]) == 0

    captured = capsys.readouterr()
    lines = captured.out.splitlines()
    assert lines[0].startswith("latency benchmark: device=cpu, torch=")
    assert "torch_threads=1" in lines[0]
    assert "| config | engine | precision | crop | S | latency ms |" in captured.out
    table_rows = [line for line in lines if line.startswith("| tiny | torch | fp32 | 28 |")]
    assert [line.split(" | ")[4] for line in table_rows] == ["1", "3"]
    assert "onnx/torch" not in captured.out  # no onnx rows, no ratio table
    assert "tiny torch fp32 crop 28 S=3" in captured.err  # progress

    report = json.loads(report_path.read_text(encoding="utf-8"))
    assert report["environment"]["repeats"] == 2 and report["environment"]["warmup"] == 0
    rows = report["rows"]
    assert [(row["engine"], row["views"]) for row in rows] == [("torch", 1), ("torch", 3)]
    for row, cells in zip(rows, table_rows, strict=True):
        assert row["flops"] == forward_flops(UNTRAINED_CONFIG, row["views"], 28).total
        assert len(row["latencies_s"]) == 2 and all(value > 0 for value in row["latencies_s"])
        assert row["latency_s"] == pytest.approx(sum(row["latencies_s"]) / 2)  # median of 2
        assert row["peak_fraction"] == pytest.approx(row["flops"] / row["latency_s"] / 0.5e12)
        assert f"| {1e3 * row['latency_s']:.2f} |" in cells
    assert report["onnx_over_torch"] == [] and report["parity"] == []


@pytest.mark.parametrize(
    ("options", "message"),
    [
        (["--repeats", "0"], "repeats >= 1"),
        (["--views", "0"], "view counts must be >= 1"),
        (["--crop-sizes", "100"], "multiples of 14"),
        (["--engines", "tensorrt"], "needs a CUDA device"),
    ],
)
def test_bad_options_are_one_line_errors(
    options: list[str], message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["bench", *options]) == 1
    err = capsys.readouterr().err
    assert err.startswith("hggt bench: error: ") and message in err
    assert len(err.strip().splitlines()) == 1


def test_default_engines_follow_the_onnx_extra(monkeypatch: pytest.MonkeyPatch) -> None:
    installed = {"onnx", "onnxruntime", "onnxscript"}
    monkeypatch.setattr("importlib.util.find_spec", lambda name: name in installed or None)
    assert default_engines() == ["torch", "onnx"]
    installed.discard("onnxscript")
    assert default_engines() == ["torch"]
