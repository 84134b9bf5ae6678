# Copyright 2026 The HGGT-ROS Authors
# SPDX-License-Identifier: Apache-2.0
"""``hggt infer``: image folders, image files or videos -> results, meshes and overlays."""

from __future__ import annotations

import argparse
from collections.abc import Sequence
from contextlib import ExitStack, closing
from pathlib import Path

from hggt_core.assembly.factory import PipelineSpec, build_pipeline
from hggt_core.cli import frameset_run
from hggt_core.cli.calibrated import CalibratedRun, add_calibration_option, per_result_alignments
from hggt_core.cli.frameset_run import describe, faces_of
from hggt_core.cli.outputs import FileOutputs, check_output_folder
from hggt_core.io.folder_source import IMAGE_SUFFIXES, ImageFolderSource
from hggt_core.io.video_source import VideoSource
from hggt_core.pipeline.types import FrameSet, HandResult

VIDEO_SUFFIXES = (".mp4", ".avi", ".mkv", ".mov", ".webm")
"""Inputs read as one video per view."""


def add_infer_parser(
    commands: argparse._SubParsersAction[argparse.ArgumentParser],
    common: argparse.ArgumentParser,
) -> None:
    """Register ``hggt infer``."""
    parser = commands.add_parser(
        "infer",
        parents=[common],
        help="reconstruct hands from image folders, image files or videos",
        description="Inputs: one folder of per-view images (view_00.jpg ...) or a folder of "
        "such folders (one frameset each); or image files (one frameset); or one video per "
        "view (frames matched by index).",
    )
    parser.add_argument("inputs", nargs="+", type=Path)
    parser.add_argument(
        "-o",
        "--output",
        type=Path,
        default=Path("hggt_output"),
        help="output folder, moved into place whole when the run succeeds (replacing an "
        "earlier output; a folder of other files is refused)",
    )
    parser.add_argument("--no-overlays", action="store_true", help="skip overlay images")
    parser.add_argument("--period", type=float, default=0.0, help="seconds between framesets")
    add_calibration_option(parser)
    parser.set_defaults(run=run_infer, pipeline=True)


def image_source(inputs: Sequence[Path], period_s: float) -> ImageFolderSource | VideoSource:
    """The source for ``hggt infer``'s inputs (see its description)."""
    if len(inputs) == 1 and inputs[0].is_dir():
        return ImageFolderSource(inputs[0], period_s)
    for path in inputs:
        if not path.is_file():
            raise FileNotFoundError(f"input not found: {path}")
    suffixes = {path.suffix.lower() for path in inputs}
    if suffixes <= set(VIDEO_SUFFIXES):
        return VideoSource(inputs)
    if suffixes <= set(IMAGE_SUFFIXES):
        return ImageFolderSource.from_files(inputs, period_s)
    raise ValueError(
        "give one folder, image files, or one video per view (not a mix): "
        + ", ".join(str(path) for path in inputs)
    )


def run_infer(args: argparse.Namespace, spec: PipelineSpec) -> int:
    """``hggt infer``: write results, meshes and overlays under ``--output``, all or nothing.

    The outputs go to a hidden folder beside ``--output`` that is renamed into place at the
    end (:class:`FileOutputs`), so a failure on any frameset leaves no partial output.
    """
    source = image_source(args.inputs, args.period)
    check_output_folder(args.output)  # before the model loads
    views = source.view_names if isinstance(source, VideoSource) else None
    world = CalibratedRun.from_args(args, None if views is None else {v: v for v in views})
    pipeline = build_pipeline(spec)
    with ExitStack() as stack:
        stack.enter_context(closing(pipeline.predictor))
        outputs = stack.enter_context(
            FileOutputs(args.output, faces_of(pipeline), not args.no_overlays, world.world_frame)
        )
        if isinstance(source, VideoSource):
            stack.enter_context(source)
        total = source.frame_count if isinstance(source, VideoSource) else len(source)

        def write(index: int, frameset: FrameSet, results: list[HandResult]) -> None:
            placed = world.express(frameset, results)
            outputs.write(index, frameset, placed.results, per_result_alignments(placed))

        stats = frameset_run.run_framesets(pipeline, world.framesets(source), write, total)
        written = outputs.close()
    print(f"hggt infer: done\n{describe(pipeline)}\n{stats.table()}")
    print("  wrote: " + ", ".join(str(path) for path in written) + f" (+ files in {args.output})")
    if (line := world.summary()) is not None:
        print(line)
    return 0
