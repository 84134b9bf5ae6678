# Copyright 2026 The HGGT-ROS Authors
# SPDX-License-Identifier: Apache-2.0
"""Reports of ``hggt bench`` (and ``bench/*.py``): markdown tables, notes, JSON, the host."""

from __future__ import annotations

import json
import os
import platform
from collections.abc import Sequence
from dataclasses import asdict
from pathlib import Path
from typing import Any

import torch

from hggt_core.bench.measure import BenchResult, Parity, Row

ROW_HEADER = "config engine precision crop S latency_ms framesets/s peak_MiB GFLOP TFLOPS of_peak"
RATIO_HEADER = "config crop S torch_ms onnx_ms onnx/torch"
RATIO_KEYS = ("torch_s", "onnx_s")
PARITY_HEADER = "config engine precision crop S vertices_max_mm rotation_max_deg <=1mm,0.5deg"
NOTES = (
    "model only: one engine.run(crops) call, host crops in, host outputs out; medians over "
    "the repeats after the warm-up calls.",
    "GFLOP: analytic matmul FLOPs of one forward (multiply-add = 2); TFLOPS = FLOPs / latency; "
    "of peak: against the device's dense peak for that precision (n/a when unknown: pass "
    "--peak-tflops).",
    "peak MiB: CUDA = torch peak allocation (torch) or device memory growth (onnx, tensorrt); "
    "CPU = the process's peak resident set during the row.",
)
"""What the latency tables' columns mean, printed under them."""


def host_info() -> dict[str, Any]:
    """The machine and interpreter the numbers were measured on (threads, load, platform)."""
    return {
        "torch_threads": torch.get_num_threads(),
        "cpu_count": os.cpu_count(),
        "load_avg_1min_at_start": round(os.getloadavg()[0], 2),
        "platform": platform.platform(),
        "python": platform.python_version(),
    }


def markdown_table(columns: Sequence[str], body: Sequence[Sequence[object]]) -> list[str]:
    """The lines of a markdown table: the column names, the rule, one line per row of cells."""
    lines = ["| " + " | ".join(columns) + " |", "|" + "---|" * len(columns)]
    return lines + ["| " + " | ".join(map(str, cells)) + " |" for cells in body]


def header_line(title: str, info: dict[str, Any]) -> str:
    """The benchmark's title and its environment as ``key=value`` pairs, on one line."""
    pairs = ", ".join(f"{key}={value}" for key, value in info.items())
    return f"{title} benchmark: {pairs}"


def report_text(table: str, notes: Sequence[str]) -> str:
    """The tables, a blank line, then the notes as a markdown list."""
    return table + "\n\n" + "\n".join(f"- {note}" for note in notes)


def write_json_report(
    path: Path,
    info: dict[str, Any],
    notes: Sequence[str],
    rows: list[dict[str, Any]],
    **extra: Any,
) -> None:
    """Write ``environment`` (``info``), ``notes``, ``rows`` and then ``extra`` as JSON."""
    report = {"environment": info, "notes": list(notes), "rows": rows, **extra}
    path.write_text(json.dumps(report, indent=1) + "\n", encoding="utf-8")


def ratios(rows: Sequence[Row]) -> list[dict[str, Any]]:
    """ONNX Runtime / torch latency for every (config, crop, S) measured with both in fp32."""
    torch_rows = {
        (r.config, r.crop_size, r.views): r
        for r in rows
        if (r.engine, r.precision) == ("torch", "fp32")
    }
    result = []
    for row in rows:
        base = torch_rows.get((row.config, row.crop_size, row.views))
        if row.engine == "onnx" and base is not None:
            result.append(
                {
                    "config": row.config,
                    "crop_size": row.crop_size,
                    "views": row.views,
                    "torch_s": base.latency_s,
                    "onnx_s": row.latency_s,
                    "onnx_over_torch": row.latency_s / base.latency_s,
                }
            )
    return result


def _row_cells(row: Row) -> list[object]:
    memory = row.peak_memory_bytes
    fraction = row.peak_fraction
    return [
        *(row.config, row.engine, row.precision, row.crop_size, row.views),
        *(f"{1e3 * row.latency_s:.2f}", f"{1 / row.latency_s:.2f}"),
        "n/a" if memory is None else f"{memory / 2**20:.0f}",
        *(f"{row.flops / 1e9:.4g}", f"{row.achieved_tflops:.3g}"),
        "n/a" if fraction is None else f"{100 * fraction:.1f} %",
    ]


def _ratio_cells(ratio: dict[str, Any]) -> list[object]:
    return [
        *(ratio["config"], ratio["crop_size"], ratio["views"]),
        *(f"{1e3 * ratio[key]:.2f}" for key in RATIO_KEYS),
        f"{ratio['onnx_over_torch']:.2f}",
    ]


def _parity_cells(check: Parity) -> list[object]:
    return [
        *(check.config, check.engine, check.precision, check.crop_size, check.views),
        *(f"{check.vertex_max_mm:.4f}", f"{check.rotation_max_deg:.4f}"),
        "PASS" if check.passes else "FAIL",
    ]


def format_tables(result: BenchResult) -> str:
    """Markdown tables: the measurements, the onnx/torch ratios, the parity checks."""
    lines = _markdown(ROW_HEADER, [_row_cells(row) for row in result.rows])
    ratio_rows = ratios(result.rows)
    if ratio_rows:
        lines += ["", *_markdown(RATIO_HEADER, [_ratio_cells(r) for r in ratio_rows])]
    if result.parities:
        lines += ["", *_markdown(PARITY_HEADER, [_parity_cells(p) for p in result.parities])]
    return "\n".join(lines)


def _markdown(header: str, body: Sequence[Sequence[object]]) -> list[str]:
    """A table from a space-separated header (underscores shown as spaces) and its rows."""
    return markdown_table([name.replace("_", " ") for name in header.split()], body)


def write_bench_json(path: Path, result: BenchResult) -> None:
    """The run as JSON: environment, notes, rows, onnx_over_torch ratios, parity checks."""
    write_json_report(
        path,
        result.environment,
        NOTES,
        [row.as_json() for row in result.rows],
        onnx_over_torch=ratios(result.rows),
        parity=[{**asdict(p), "passes": p.passes} for p in result.parities],
    )
