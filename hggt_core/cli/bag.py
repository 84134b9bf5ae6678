# Copyright 2026 The HGGT-ROS Authors
# SPDX-License-Identifier: Apache-2.0
"""``hggt bag``: camera topics of a rosbag2 -> the node's output topics in a new rosbag2."""

from __future__ import annotations

import argparse
from contextlib import closing
from pathlib import Path

from hggt_core.assembly.factory import PipelineSpec, build_pipeline
from hggt_core.cli import frameset_run
from hggt_core.cli.calibrated import CalibratedRun, add_calibration_option
from hggt_core.cli.frameset_run import describe, faces_of
from hggt_core.io.output_plan import frame_of
from hggt_core.io.rosbag_sink import RosbagSink, RosbagSinkConfig
from hggt_core.io.rosbag_source import RosbagSource
from hggt_core.pipeline.types import FrameSet, HandResult


def add_bag_parser(
    commands: argparse._SubParsersAction[argparse.ArgumentParser],
    common: argparse.ArgumentParser,
) -> None:
    """Register ``hggt bag``."""
    parser = commands.add_parser(
        "bag",
        parents=[common],
        help="read camera topics from a rosbag2, write the node's output topics to a new one",
    )
    parser.add_argument("bag", type=Path, help="input rosbag2 (folder, .db3 or .mcap)")
    parser.add_argument(
        "--topics",
        nargs="+",
        required=True,
        help="image topics, reference first; the camera_info topic beside each (e.g. "
        "/cam0/camera_info for /cam0/image_raw) gives its known intrinsics",
    )
    parser.add_argument("-o", "--output", type=Path, required=True, help="output rosbag2 folder")
    parser.add_argument("--storage", choices=("sqlite3", "mcap"), default="sqlite3")
    parser.add_argument("--overwrite", action="store_true")
    add_calibration_option(parser)
    parser.set_defaults(run=run_bag, pipeline=True)


def run_bag(args: argparse.Namespace, spec: PipelineSpec) -> int:
    """``hggt bag``: the node's topics, computed offline, into a new rosbag2.

    Each image topic's camera_info beside it (``/cam0/camera_info`` for ``/cam0/image_raw``)
    gives the view's known intrinsics, as in the node; the estimate is corrected to them
    unless ``--no-known-intrinsics`` is given.
    """
    source = RosbagSource(args.bag, args.topics)
    frame_ids = {view: frame_of(view, source.frame_ids) for view in source.views}
    world = CalibratedRun.from_args(args, frame_ids)
    pipeline = build_pipeline(spec)
    config = RosbagSinkConfig(storage=args.storage, overwrite=args.overwrite)
    with (
        closing(pipeline.predictor),
        RosbagSink(args.output, faces_of(pipeline), source.frame_ids, config) as sink,
    ):

        def write(_: int, frameset: FrameSet, results: list[HandResult]) -> None:
            placed = world.express(frameset, results)
            sink.write(frameset, placed.results, placed.world_frame)

        stats = frameset_run.run_framesets(
            pipeline, world.framesets(source), write, source.reference_message_count
        )
    skipped = f", {source.skipped_messages} unreadable messages skipped"
    print(f"hggt bag: wrote {args.output}{skipped if source.skipped_messages else ''}")
    print(f"{describe(pipeline)}\n{camera_info_summary(source, spec.use_known_intrinsics)}")
    print(stats.table())
    if (line := world.summary()) is not None:
        print(line)
    return 0


def camera_info_summary(source: RosbagSource, known_intrinsics: bool) -> str:
    """Which views had camera_info, and whether the estimate was corrected to them."""
    found = source.camera_info_topics
    if not found:
        effect = ", so --known-intrinsics has no effect" if known_intrinsics else ""
        return f"  camera_info: none in the bag{effect}"
    line = "  camera_info: " + ", ".join(found.values())
    missing = [view for view in source.views if view not in found]
    if missing:
        line += f" (none for {', '.join(missing)})"
    if known_intrinsics:
        return f"{line}; the estimate is corrected to these known intrinsics"
    return f"{line}; HGGT keeps its own (--no-known-intrinsics)"
