# Copyright 2026 The HGGT-ROS Authors
# SPDX-License-Identifier: Apache-2.0
"""``hggt bench``: model latency, peak memory and FLOPs per engine, precision, crop and S.

What is measured, and how, is :mod:`hggt_core.bench.latency`'s docstring.
"""

from __future__ import annotations

import argparse
import importlib.util
import sys
from pathlib import Path

from hggt_core.bench.latency import (
    CONFIGS,
    ENGINES,
    PRECISION_NAMES,
    BenchSettings,
    run_benchmark,
)
from hggt_core.bench.report import (
    NOTES,
    format_tables,
    header_line,
    report_text,
    write_bench_json,
)

_ONNX_EXTRA = ("onnx", "onnxruntime", "onnxscript")
"""The packages of ``hggt_ros[onnx]``: exporting and running ONNX."""


def default_engines() -> list[str]:
    """Torch, and onnx when ``hggt_ros[onnx]`` is installed."""
    if all(importlib.util.find_spec(name) is not None for name in _ONNX_EXTRA):
        return ["torch", "onnx"]
    return ["torch"]


def add_bench_parser(
    commands: argparse._SubParsersAction[argparse.ArgumentParser],
) -> None:
    """Register ``hggt bench``."""
    parser = commands.add_parser(
        "bench",
        help="time the model per engine, precision, crop size and view count",
        description=(
            "Model-only latency, peak memory, analytic FLOPs and fraction of the device's "
            "peak, per engine, precision, crop size and view count S. The defaults (tiny "
            "network, 224 px) take about half a minute on a CPU, most of it the ONNX export; "
            "on a CPU shared with other jobs pass --threads 1."
        ),
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
    )
    parser.add_argument(
        "--configs",
        nargs="+",
        choices=tuple(CONFIGS),
        default=["tiny"],
        help="networks: untrained demo, ViT-S-sized, released",
    )
    parser.add_argument(
        "--engines",
        nargs="+",
        choices=ENGINES,
        default=default_engines(),
        help="onnx needs hggt_ros[onnx], tensorrt hggt_ros[trt] and --device cuda",
    )
    parser.add_argument(
        "--precisions",
        nargs="+",
        choices=PRECISION_NAMES,
        default=["fp32"],
        help="each engine runs those it supports: torch fp32 (bf16, fp16 on CUDA), onnx fp32",
    )
    parser.add_argument("--crop-sizes", nargs="+", type=int, default=[224], help="pixels")
    parser.add_argument("--views", nargs="+", type=int, default=[1, 2, 4, 8], help="S values")
    parser.add_argument("--repeats", type=int, default=5, help="timed calls per row")
    parser.add_argument("--warmup", type=int, default=1, help="untimed calls per row first")
    parser.add_argument("--device", default="cpu", help='"cpu" or a CUDA device, e.g. "cuda"')
    parser.add_argument("--threads", type=int, help="torch and onnxruntime CPU threads")
    parser.add_argument("--peak-tflops", type=float, help="device peak, overrides the table")
    parser.add_argument("--checkpoint", type=Path, help="weights of the full config")
    parser.add_argument("--parity", action="store_true", help="compare engines with torch fp32")
    parser.add_argument("--work-dir", type=Path, help="ONNX exports and engines (reused)")
    parser.add_argument("--json", type=Path, help="also write the report here")
    parser.add_argument("-v", "--verbose", action="store_true", help="log progress details")
    parser.set_defaults(run=run_bench, pipeline=False)


def run_bench(args: argparse.Namespace) -> int:
    """Run the benchmark, print its tables (and write the JSON report); 0 on success."""
    settings = BenchSettings(
        configs=tuple(args.configs),
        engines=tuple(args.engines),
        precisions=tuple(args.precisions),
        crop_sizes=tuple(args.crop_sizes),
        views=tuple(args.views),
        device=args.device,
        threads=args.threads,
        warmup=args.warmup,
        repeats=args.repeats,
        peak_tflops=args.peak_tflops,
        checkpoint=args.checkpoint,
        parity=args.parity,
        work_dir=args.work_dir,
    )
    result = run_benchmark(settings, progress=_print_progress)
    print(header_line("latency", result.environment))
    print(report_text(format_tables(result), NOTES))
    if args.json is not None:
        write_bench_json(args.json, result)
    return 0


def _print_progress(line: str) -> None:
    print(f"  {line}", file=sys.stderr)
