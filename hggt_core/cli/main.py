# Copyright 2026 The HGGT-ROS Authors
# SPDX-License-Identifier: Apache-2.0
"""Argument parsing, logging and error reporting of the ``hggt`` command."""

from __future__ import annotations

import argparse
import logging
import sys
from collections.abc import Sequence
from pathlib import Path

from hggt_core.assembly.factory import ENGINE_NAMES, PipelineSpec
from hggt_core.assembly.localisers import LOCALISER_NAMES
from hggt_core.base.hand_skeleton import FingertipConvention
from hggt_core.cli import (
    bag,
    bench,
    build_engine,
    demo,
    export,
    infer,
    live,
    retarget,
    training_commands,
)
from hggt_core.engine.export import OnnxExportError
from hggt_core.engine.onnx_engine import OnnxModelError
from hggt_core.engine.registry import PRECISIONS
from hggt_core.engine.tensorrt_metadata import TensorRTError
from hggt_core.io.images import ImageReadError
from hggt_core.io.rosbag_sink import RosbagSinkError
from hggt_core.io.rosbag_source import RosbagSourceError
from hggt_core.mano.io import ManoFileError
from hggt_core.model.checkpoint import CheckpointError

# Errors that describe bad input: reported in one line, exit status 1, no traceback.
_USER_ERRORS = (
    CheckpointError,
    OnnxExportError,
    OnnxModelError,
    TensorRTError,
    ManoFileError,
    ImageReadError,
    RosbagSourceError,
    RosbagSinkError,
    FileNotFoundError,
    NotADirectoryError,
    ImportError,
    ValueError,
)


def _common_options() -> argparse.ArgumentParser:
    common = argparse.ArgumentParser(add_help=False)
    group = common.add_argument_group("model and pipeline")
    group.add_argument("--checkpoint", type=Path, help="HGGT weights (.pt, .pth, .safetensors)")
    group.add_argument("--mano-dir", type=Path, help="folder with MANO_RIGHT.pkl, MANO_LEFT.pkl")
    group.add_argument(
        "--engine",
        choices=ENGINE_NAMES,
        default="auto",
        help='"auto" (default): HGGT ("torch") with --checkpoint, else "landmarks" '
        "(MediaPipe landmarks, cameras from the hand, MANO fit; any CPU)",
    )
    group.add_argument("--device", default="cpu", help='torch device, e.g. "cuda:0"')
    group.add_argument("--precision", choices=tuple(PRECISIONS), default="fp32")
    group.add_argument(
        "--localiser",
        choices=LOCALISER_NAMES,
        default="crop",
        help='hand localisation: "crop" when the views already are hand crops (default)',
    )
    # The earlier names of --localiser and --min-hand-views keep working, unlisted.
    group.add_argument(
        "--detector",
        dest="localiser",
        choices=LOCALISER_NAMES,
        default=argparse.SUPPRESS,
        help=argparse.SUPPRESS,
    )
    group.add_argument("--side", choices=("right", "left"), default="right", help="crop mode")
    group.add_argument("--crop-size", type=int, help="model input side (multiple of 14)")
    group.add_argument(
        "--min-hand-views", type=int, default=1, help="hands seen in fewer views are skipped"
    )
    group.add_argument(
        "--min-views",
        dest="min_hand_views",
        type=int,
        default=argparse.SUPPRESS,
        help=argparse.SUPPRESS,
    )
    group.add_argument(
        "--fingertips", choices=[c.value for c in FingertipConvention], default="freihand"
    )
    group.add_argument("--smooth", action="store_true", help="One-Euro temporal filter")
    group.add_argument("--landmark-model", type=Path, help="landmarks: hand_landmarker .task file")
    group.add_argument(
        "--fov-deg",
        type=float,
        default=60.0,
        help="landmarks: horizontal field of view of cameras without known intrinsics",
    )
    group.add_argument(
        "--max-hands",
        type=int,
        default=2,
        help="landmarks: most hands per image (1: about twice as fast while one hand is tracked)",
    )
    group.add_argument(
        "--no-tracking",
        action="store_true",
        help="landmarks: treat framesets as unrelated images (no tracking across them)",
    )
    group.add_argument(
        "--known-intrinsics",
        action=argparse.BooleanOptionalAction,
        default=True,
        help="HGGT: correct the estimate to the known K of views that have one (a bag's "
        "camera_info, cameras.json); on by default, --no-known-intrinsics keeps the network's",
    )
    common.add_argument("-v", "--verbose", action="store_true", help="log progress details")
    return common


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="hggt", description="Multi-view 3D hand meshes and cameras (HGGT)."
    )
    commands_parser = parser.add_subparsers(dest="command", required=True)
    common = _common_options()
    infer.add_infer_parser(commands_parser, common)
    bag.add_bag_parser(commands_parser, common)
    live.add_live_parser(commands_parser, common)
    demo.add_demo_parser(commands_parser, common)
    export.add_export_parser(commands_parser)
    build_engine.add_build_engine_parser(commands_parser)
    bench.add_bench_parser(commands_parser)
    retarget.add_retarget_parser(commands_parser)
    training_commands.add_training_parsers(commands_parser)
    return parser


def spec_from_args(args: argparse.Namespace) -> PipelineSpec:
    """The pipeline settings given on the command line."""
    return PipelineSpec(
        checkpoint=args.checkpoint,
        mano_dir=args.mano_dir,
        engine=args.engine,
        device=args.device,
        precision=args.precision,
        localiser=args.localiser,
        side=args.side,
        crop_size=args.crop_size,
        min_hand_views=args.min_hand_views,
        fingertips=args.fingertips,
        temporal_filter=args.smooth,
        use_known_intrinsics=args.known_intrinsics,
        landmark_model=args.landmark_model,
        tracking=not args.no_tracking,
        fov_deg=args.fov_deg,
        max_hands=args.max_hands,
    )


def main(argv: Sequence[str] | None = None) -> int:
    """Run the ``hggt`` command; returns the exit status (0 ok, 1 bad input, 2 usage)."""
    parser = _parser()
    args, forwarded = parser.parse_known_args(argv)
    if getattr(args, "forwards_arguments", False):
        args.forwarded = forwarded
    elif forwarded:
        parser.error(f"unrecognized arguments: {' '.join(forwarded)}")
    logging.basicConfig(
        level=logging.INFO if args.verbose else logging.WARNING,
        format="%(levelname)s %(name)s: %(message)s",
    )
    try:
        if args.pipeline:
            status: int = args.run(args, spec_from_args(args))
        else:
            status = args.run(args)
    except _USER_ERRORS as error:
        print(f"hggt {args.command}: error: {error}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print(f"hggt {args.command}: interrupted", file=sys.stderr)
        return 130
    return status
