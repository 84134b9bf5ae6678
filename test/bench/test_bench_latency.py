# Copyright 2026 The HGGT-ROS Authors
# SPDX-License-Identifier: Apache-2.0
"""Smoke test of bench/latency.py on the tiny config (CPU, torch + onnx): report structure."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from types import ModuleType

import pytest

from hggt_core.engine.flops import forward_flops
from hggt_core.pipeline.factory import UNTRAINED_CONFIG


@pytest.fixture(scope="module")
def bench(load_bench_script: Callable[[str], ModuleType]) -> ModuleType:
    return load_bench_script("latency")


@pytest.mark.slow
@pytest.mark.filterwarnings("ignore::FutureWarning", "ignore::UserWarning")
def test_torch_and_onnx_rows_ratios_and_parity(
    bench: ModuleType, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    pytest.importorskip("onnxruntime")
    pytest.importorskip("onnxscript")
    report_path = tmp_path / "report.json"
    argv = ["--configs", "tiny", "--engines", "torch", "onnx", "--views", "1", "2"]
    argv += ["--crop-sizes", "28", "--repeats", "2", "--warmup", "1", "--threads", "1"]
    argv += ["--peak-tflops", "2.0", "--parity", "--work-dir", str(tmp_path / "work")]
    assert bench.main([*argv, "--json", str(report_path)]) == 0

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

    ratios = report["onnx_over_torch"]
    assert [(r["views"], r["crop_size"]) for r in ratios] == [(1, 28), (2, 28)]
    for ratio, onnx_row in zip(ratios, rows[2:], strict=True):
        assert ratio["onnx_s"] == pytest.approx(onnx_row["latency_s"])
        assert ratio["onnx_over_torch"] == pytest.approx(ratio["onnx_s"] / ratio["torch_s"])

    (parity,) = report["parity"]
    assert (parity["engine"], parity["views"], parity["passes"]) == ("onnx", 2, True)
    assert parity["vertex_max_mm"] < 0.01 and parity["rotation_max_deg"] < 0.01
    assert len(list((tmp_path / "work").glob("*.onnx"))) == 1  # exported once, reused

    out = capsys.readouterr().out
    assert "| config | engine | precision | crop | S | latency ms |" in out
    assert out.count("| tiny | torch | fp32 | 28 |") == 2
    assert "onnx/torch" in out and "PASS" in out


def test_peak_table(bench: ModuleType) -> None:
    h100 = "NVIDIA H100 80GB HBM3"
    assert bench.peak_tflops(h100, "tensorrt", "fp16") == pytest.approx(989.4)
    assert bench.peak_tflops(h100, "tensorrt", "fp32") == pytest.approx(494.7)  # TF32
    assert bench.peak_tflops(h100, "torch", "fp32") == pytest.approx(66.9)
    assert bench.peak_tflops("NVIDIA H100 PCIe", "torch", "bf16") == pytest.approx(756.0)
    assert bench.peak_tflops("NVIDIA H200", "tensorrt", "fp8") == pytest.approx(1978.9)
    assert bench.peak_tflops("Orin (nvgpu)", "tensorrt", "fp8") == pytest.approx(42.5)
    assert bench.peak_tflops("Some GPU", "torch", "fp16") is None
    assert bench.peak_tflops(None, "torch", "fp32") is None


def test_bad_options_are_rejected(bench: ModuleType) -> None:
    with pytest.raises(SystemExit):
        bench.main(["--engines", "tensorrt"])  # TensorRT needs --device cuda
    with pytest.raises(SystemExit):
        bench.main(["--repeats", "0"])
    with pytest.raises(SystemExit):
        bench.main(["--views", "0"])
