# Copyright 2026 The HGGT-ROS Authors
# SPDX-License-Identifier: Apache-2.0
"""``hggt infer`` (images, folders, videos -> files) and ``hggt bag`` (rosbag2 -> rosbag2)."""

from __future__ import annotations

import argparse
from collections.abc import Callable, Iterable, Sequence
from contextlib import ExitStack, closing
from pathlib import Path

import numpy as np
import numpy.typing as npt
from tqdm import tqdm

from hggt_core.cli.outputs import FileOutputs, check_output_folder
from hggt_core.cli.report import RunStats
from hggt_core.io.folder_source import IMAGE_SUFFIXES, ImageFolderSource
from hggt_core.io.rosbag_sink import RosbagSink, RosbagSinkConfig
from hggt_core.io.rosbag_source import RosbagSource
from hggt_core.io.video_source import VideoSource
from hggt_core.pipeline.factory import Pipeline, PipelineSpec, build_pipeline
from hggt_core.pipeline.types import FrameSet, HandResult

VIDEO_SUFFIXES = (".mp4", ".avi", ".mkv", ".mov", ".webm")

FrameSetSink = Callable[[int, FrameSet, list[HandResult]], None]


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
    parser.set_defaults(run=run_infer, pipeline=True)


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
    parser.set_defaults(run=run_bag, pipeline=True)


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


def run_framesets(
    pipeline: Pipeline, framesets: Iterable[FrameSet], sink: FrameSetSink, total: int | None
) -> RunStats:
    """Run every frameset through the predictor into ``sink``, with a progress bar."""
    stats = RunStats()
    progress = tqdm(framesets, total=total, unit="frameset", disable=None, leave=False)
    for index, frameset in enumerate(progress):
        results = pipeline.predictor(frameset)
        sink(index, frameset, results)
        stats.add(results)
    return stats


def describe(pipeline: Pipeline) -> str:
    """Which engine, weights and hand model a run used."""
    return (
        f"  engine: {pipeline.engine}\n  model:  {pipeline.model_source}\n"
        f"  MANO:   {pipeline.mano_source}"
    )


def run_infer(args: argparse.Namespace, spec: PipelineSpec) -> int:
    """``hggt infer``: write results, meshes and overlays under ``--output``, all or nothing.

    The outputs go to a hidden folder beside ``--output`` that is renamed into place at the
    end (:class:`FileOutputs`), so a failure on any frameset leaves no partial output.
    """
    source = image_source(args.inputs, args.period)
    check_output_folder(args.output)  # before the model loads
    pipeline = build_pipeline(spec)
    with ExitStack() as stack:
        stack.enter_context(closing(pipeline.predictor))
        outputs = stack.enter_context(
            FileOutputs(args.output, faces_of(pipeline), overlays=not args.no_overlays)
        )
        if isinstance(source, VideoSource):
            stack.enter_context(source)
        total = source.frame_count if isinstance(source, VideoSource) else len(source)
        stats = run_framesets(pipeline, source, outputs.write, total)
        written = outputs.close()
    print(f"hggt infer: done\n{describe(pipeline)}\n{stats.table()}")
    print("  wrote: " + ", ".join(str(path) for path in written) + f" (+ files in {args.output})")
    return 0


def run_bag(args: argparse.Namespace, spec: PipelineSpec) -> int:
    """``hggt bag``: the node's topics, computed offline, into a new rosbag2.

    Each image topic's camera_info beside it (``/cam0/camera_info`` for ``/cam0/image_raw``)
    gives the view's known intrinsics, as in the node; ``--known-intrinsics`` reports them.
    """
    source = RosbagSource(args.bag, args.topics)
    pipeline = build_pipeline(spec)
    config = RosbagSinkConfig(storage=args.storage, overwrite=args.overwrite)
    with (
        closing(pipeline.predictor),
        RosbagSink(args.output, faces_of(pipeline), source.frame_ids, config) as sink,
    ):
        stats = run_framesets(
            pipeline,
            source,
            lambda _, frameset, results: sink.write(frameset, results),
            source.reference_message_count,
        )
    skipped = f", {source.skipped_messages} unreadable messages skipped"
    print(f"hggt bag: wrote {args.output}{skipped if source.skipped_messages else ''}")
    print(f"{describe(pipeline)}\n{camera_info_summary(source, spec.use_known_intrinsics)}")
    print(stats.table())
    return 0


def camera_info_summary(source: RosbagSource, known_intrinsics: bool) -> str:
    """Which views had camera_info, and whether their intrinsics were reported."""
    found = source.camera_info_topics
    if not found:
        effect = ", so --known-intrinsics has no effect" if known_intrinsics else ""
        return f"  camera_info: none in the bag{effect}"
    line = "  camera_info: " + ", ".join(found.values())
    missing = [view for view in source.views if view not in found]
    if missing:
        line += f" (none for {', '.join(missing)})"
    if known_intrinsics:
        return f"{line}; reported as known intrinsics"
    return f"{line}; not used (--known-intrinsics reports them)"


def faces_of(pipeline: Pipeline) -> npt.NDArray[np.int64]:
    """The MANO triangles [F, 3] of the pipeline's hand model."""
    faces: npt.NDArray[np.int64] = pipeline.predictor.mano_right.faces.cpu().numpy()
    return faces
