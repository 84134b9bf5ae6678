# Copyright 2026 The HGGT-ROS Authors
# SPDX-License-Identifier: Apache-2.0
"""``hggt export-onnx``: write HGGT as an ONNX graph with a dynamic view count."""

from __future__ import annotations

import argparse
from pathlib import Path

from hggt_core.engine.export import export_from_checkpoint


def add_export_parser(
    commands: argparse._SubParsersAction[argparse.ArgumentParser],
) -> None:
    """Register ``hggt export-onnx``."""
    parser = commands.add_parser(
        "export-onnx",
        help="export a checkpoint to ONNX (input for the onnx engine and TensorRT)",
    )
    parser.add_argument("--checkpoint", type=Path, required=True, help="HGGT weights")
    parser.add_argument("-o", "--output", type=Path, required=True, help="the .onnx file")
    parser.add_argument("--crop-size", type=int, help="input side; default: training size")
    parser.add_argument("--max-views", type=int, default=8, help="largest view count")
    parser.add_argument("--mano-dir", type=Path, help="bake the right-hand MANO layer in")
    parser.add_argument("--opset", type=int, default=18)
    parser.add_argument("-v", "--verbose", action="store_true", help="log progress details")
    parser.set_defaults(run=run_export, pipeline=False)


def run_export(args: argparse.Namespace) -> int:
    """Export and report what was written."""
    export = export_from_checkpoint(
        args.checkpoint, args.output, args.crop_size, args.max_views, args.mano_dir, args.opset
    )
    data = f" + {export.data_path}" if export.data_path else ""
    print(
        f"hggt export-onnx: wrote {export.path}{data}\n"
        f"  crop {export.crop_size} px, 1..{export.max_views} views, opset {export.opset}, "
        f"{export.parameter_bytes / 2**20:.1f} MiB of weights, {export.export_s:.1f} s"
    )
    return 0
