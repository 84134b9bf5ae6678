# Copyright 2026 The HGGT-ROS Authors
# SPDX-License-Identifier: Apache-2.0
"""The model-latency benchmark (``hggt bench``'s core) on the tiny config, CPU, torch + onnx."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch

from hggt_core.bench.flops import forward_flops
from hggt_core.bench.latency import BenchSettings, engine_runs, run_benchmark
from hggt_core.bench.measure import BenchResult, Row, peak_tflops
from hggt_core.bench.report import format_tables, ratios, write_bench_json
from hggt_core.engine.registry import UNTRAINED_CONFIG

EXPORT_WARNINGS = (
    "ignore::FutureWarning",
    "ignore::UserWarning",
    "ignore::DeprecationWarning:torch.*",
)
"""The ONNX exporter's warnings about torch internals, which do not concern the export."""
FAST = {"configs": ("tiny",), "crop_sizes": (28,), "repeats": 2, "warmup": 1, "threads": 1}


@pytest.fixture(scope="module")
def onnx_result(tmp_path_factory: pytest.TempPathFactory) -> tuple[BenchResult, Path]:
    pytest.importorskip("onnxruntime")
    pytest.importorskip("onnxscript")
    work_dir = tmp_path_factory.mktemp("work")
    settings = BenchSettings(
        engines=("torch", "onnx"),
        views=(1, 2),
        peak_tflops=2.0,
        parity=True,
        work_dir=work_dir,
        **FAST,
    )
    progress: list[str] = []
    result = run_benchmark(settings, progress.append)
    assert progress == [
        "tiny torch fp32 crop 28 S=1",
        "tiny torch fp32 crop 28 S=2",
        "tiny onnx fp32 crop 28 S=1",
        "tiny onnx fp32 crop 28 S=2",
    ]
    return result, work_dir


@pytest.mark.slow
@pytest.mark.filterwarnings(*EXPORT_WARNINGS)
def test_torch_and_onnx_rows_ratios_and_parity(
    onnx_result: tuple[BenchResult, Path], tmp_path: Path
) -> None:
    result, work_dir = onnx_result
    report_path = tmp_path / "report.json"
    write_bench_json(report_path, result)

    report = json.loads(report_path.read_text(encoding="utf-8"))
    assert report["environment"]["torch_threads"] == 1
    assert report["environment"]["onnxruntime"]
    rows = report["rows"]
    keys = [(r["config"], r["engine"], r["precision"], r["crop_size"], r["views"]) for r in rows]
    assert keys == [
        ("tiny", "torch", "fp32", 28, 1),
        ("tiny", "torch", "fp32", 28, 2),
        ("tiny", "onnx", "fp32", 28, 1),
        ("tiny", "onnx", "fp32", 28, 2),
    ]
    for row in rows:
        assert row["flops"] == forward_flops(UNTRAINED_CONFIG, row["views"], 28).total
        assert len(row["latencies_s"]) == 2 and row["latency_s"] > 0
        assert row["latency_min_s"] <= row["latency_s"] <= row["latency_max_s"]
        assert row["framesets_per_s"] == pytest.approx(1 / row["latency_s"])
        assert row["achieved_tflops"] == pytest.approx(row["flops"] / row["latency_s"] / 1e12)
        assert row["peak_fraction"] == pytest.approx(row["achieved_tflops"] / 2.0)
        assert row["peak_memory_bytes"] is None or row["peak_memory_bytes"] > 2**20

    onnx_over_torch = report["onnx_over_torch"]
    assert [(r["views"], r["crop_size"]) for r in onnx_over_torch] == [(1, 28), (2, 28)]
    for ratio, onnx_row in zip(onnx_over_torch, rows[2:], strict=True):
        assert ratio["onnx_s"] == pytest.approx(onnx_row["latency_s"])
        assert ratio["onnx_over_torch"] == pytest.approx(ratio["onnx_s"] / ratio["torch_s"])

    (parity,) = report["parity"]
    assert (parity["engine"], parity["views"], parity["passes"]) == ("onnx", 2, True)
    assert parity["vertex_max_mm"] < 0.01 and parity["rotation_max_deg"] < 0.01
    assert len(list(work_dir.glob("*.onnx"))) == 1  # exported once, reused

    tables = format_tables(result)
    assert "| config | engine | precision | crop | S | latency ms |" in tables
    assert tables.count("| tiny | torch | fp32 | 28 |") == 2
    assert "onnx/torch" in tables and "PASS" in tables


def test_torch_threads_are_restored_after_the_run() -> None:
    before = torch.get_num_threads()
    settings = BenchSettings(engines=("torch",), views=(1,), **{**FAST, "repeats": 1})
    result = run_benchmark(settings)
    assert torch.get_num_threads() == before
    assert result.environment["torch_threads"] == 1
    (row,) = result.rows
    assert row.flops == forward_flops(UNTRAINED_CONFIG, 1, 28).total
    assert row.peak_tflops is None and row.peak_fraction is None and row.latency_s > 0
    assert "n/a |" in format_tables(result)  # unknown peak on a CPU


def test_ratios_pair_onnx_rows_with_torch_fp32() -> None:
    def row(engine: str, views: int, latency_s: float) -> Row:
        return Row("tiny", engine, "fp32", 224, views, (latency_s,), None, 10**9, None)

    rows = [row("torch", 1, 0.02), row("torch", 2, 0.04), row("onnx", 2, 0.01)]
    (ratio,) = ratios(rows)
    assert (ratio["views"], ratio["torch_s"], ratio["onnx_s"]) == (2, 0.04, 0.01)
    assert ratio["onnx_over_torch"] == pytest.approx(0.25)
    assert rows[0].achieved_tflops == pytest.approx(1e9 / 0.02 / 1e12)


def test_peak_table() -> None:
    h100 = "NVIDIA H100 80GB HBM3"
    assert peak_tflops(h100, "tensorrt", "fp16") == pytest.approx(989.4)
    assert peak_tflops(h100, "tensorrt", "fp32") == pytest.approx(494.7)  # TF32
    assert peak_tflops(h100, "torch", "fp32") == pytest.approx(66.9)
    assert peak_tflops("NVIDIA H100 PCIe", "torch", "bf16") == pytest.approx(756.0)
    assert peak_tflops("NVIDIA H200", "tensorrt", "fp8") == pytest.approx(1978.9)
    assert peak_tflops("Orin (nvgpu)", "tensorrt", "fp8") == pytest.approx(42.5)
    assert peak_tflops("Some GPU", "torch", "fp16") is None
    assert peak_tflops(None, "torch", "fp32") is None


def test_engine_runs_keep_supported_precisions() -> None:
    settings = BenchSettings(engines=("torch", "onnx"), precisions=("fp32", "fp16"))
    assert engine_runs(settings) == [("torch", "fp32"), ("onnx", "fp32")]  # fp16: CUDA only


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"engines": ("tensorrt",)}, "needs a CUDA device"),
        ({"device": "cuda"}, "CUDA is not available"),
        ({"repeats": 0}, "repeats >= 1"),
        ({"warmup": -1}, "warmup >= 0"),
        ({"views": (0, 2)}, "view counts must be >= 1"),
        ({"views": ()}, "view counts must be >= 1"),
        ({"crop_sizes": (30,)}, "multiples of 14"),
        ({"configs": ("huge",)}, "config huge: choose one or more of tiny, reduced, full"),
        ({"threads": 0}, "threads must be >= 1"),
        ({"peak_tflops": -1.0}, "must be positive"),
        ({"engines": ("onnx",), "precisions": ("fp16",)}, "none of the engines runs"),
    ],
)
def test_bad_settings_are_rejected(changes: dict[str, object], message: str) -> None:
    if changes.get("device") == "cuda" and torch.cuda.is_available():
        pytest.skip("CUDA is available here")
    with pytest.raises(ValueError, match=message):
        BenchSettings(**changes)
