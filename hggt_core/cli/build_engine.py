# Copyright 2026 The HGGT-ROS Authors
# SPDX-License-Identifier: Apache-2.0
"""``hggt build-engine``: build a TensorRT engine from an ``hggt export-onnx`` file."""

from __future__ import annotations

import argparse
from pathlib import Path

from hggt_core.engine.tensorrt_build import PRECISIONS, build_engine
from hggt_core.engine.tensorrt_metadata import read_sidecar


def add_build_engine_parser(
    commands: argparse._SubParsersAction[argparse.ArgumentParser],
) -> None:
    """Register ``hggt build-engine``."""
    parser = commands.add_parser(
        "build-engine",
        help="build a TensorRT engine (for --engine tensorrt) from an ONNX export",
        description=(
            "Build a TensorRT engine for this GPU and TensorRT version. The file name says "
            "both (engines only run where they were built); a JSON sidecar keeps the settings."
        ),
    )
    parser.add_argument("--onnx", type=Path, required=True, help="the hggt export-onnx file")
    parser.add_argument("-o", "--output-dir", type=Path, required=True, help="engine folder")
    parser.add_argument("--precision", choices=PRECISIONS, default="fp16")
    parser.add_argument("--min-views", type=int, default=1, help="smallest view count S")
    parser.add_argument(
        "--opt-views", type=int, help="S to tune the kernels for (default: 4 or max)"
    )
    parser.add_argument("--max-views", type=int, help="largest S (default: the export's)")
    parser.add_argument("--workspace-gb", type=float, default=8.0, help="builder scratch, GiB")
    parser.add_argument(
        "--timing-cache", type=Path, help="timing cache file (default: in the engine folder)"
    )
    parser.add_argument("--device-index", type=int, default=0, help="CUDA device to build on")
    parser.add_argument("-v", "--verbose", action="store_true", help="log progress details")
    parser.set_defaults(run=run_build_engine, pipeline=False)


def run_build_engine(args: argparse.Namespace) -> int:
    """Build and report what was written."""
    engine = build_engine(
        args.onnx,
        args.output_dir,
        precision=args.precision,
        min_views=args.min_views,
        opt_views=args.opt_views,
        max_views=args.max_views,
        workspace_gb=args.workspace_gb,
        timing_cache=args.timing_cache,
        device_index=args.device_index,
    )
    metadata = read_sidecar(engine)
    details = ""
    if metadata is not None:
        details = (
            f"\n  {metadata.crop_size} px crops, {metadata.min_views}..{metadata.max_views} views "
            f"(tuned for {metadata.opt_views}), {metadata.precision}, TensorRT "
            f"{metadata.tensorrt_version} on {metadata.gpu_name}, {metadata.build_s:.0f} s"
        )
    print(
        f"hggt build-engine: wrote {engine} ({engine.stat().st_size / 2**20:.0f} MiB){details}\n"
        f"  run it with: hggt infer --engine tensorrt --device cuda --checkpoint {engine} ..."
    )
    return 0
