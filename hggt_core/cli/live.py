# Copyright 2026 The HGGT-ROS Authors
# SPDX-License-Identifier: Apache-2.0
"""``hggt live``: hands from live cameras, streamed to JSON lines, overlays on screen or saved."""

from __future__ import annotations

import argparse
import json
from collections.abc import Sequence
from contextlib import closing
from pathlib import Path
from typing import IO

import cv2
import numpy as np
import numpy.typing as npt

from hggt_core.assembly.factory import Pipeline, PipelineSpec, build_pipeline
from hggt_core.calibration import WorldAlignment, WorldResults
from hggt_core.cli.calibrated import CalibratedRun, add_calibration_option, per_result_alignments
from hggt_core.cli.frameset_run import describe, faces_of
from hggt_core.cli.report import RunStats
from hggt_core.io.camera_source import CameraSource, parse_camera
from hggt_core.io.exports import result_to_json, save_npz
from hggt_core.io.images import write_rgb
from hggt_core.io.world_record import WorldRecord, alignment_to_json
from hggt_core.pipeline.types import FrameSet, HandResult
from hggt_core.render.overlay import mosaic, overlay_results

RESULTS_JSONL = "results.jsonl"
_WINDOW = "hggt live"


def add_live_parser(
    commands: argparse._SubParsersAction[argparse.ArgumentParser],
    common: argparse.ArgumentParser,
) -> None:
    """Register ``hggt live``."""
    parser = commands.add_parser(
        "live",
        parents=[common],
        help="reconstruct hands from live cameras (device indices, stream URLs or files)",
        description="Grabs one frameset at a time from every camera, reconstructs the hands "
        "and appends them to OUTPUT/results.jsonl as they come (one JSON object per "
        "frameset); OUTPUT/results.npz is written at the end (Ctrl-C ends the run).",
    )
    parser.add_argument(
        "--camera",
        action="append",
        required=True,
        help="a camera: device index (0), URL or video file; repeat for more views, "
        "reference first",
    )
    parser.add_argument("--name", action="append", help="view names, one per --camera")
    parser.add_argument("--frames", type=int, help="stop after this many framesets")
    parser.add_argument("-o", "--output", type=Path, default=Path("hggt_live_output"))
    parser.add_argument(
        "--save-overlays", action="store_true", help="write OUTPUT/overlays/<frameset>.jpg"
    )
    parser.add_argument(
        "--show", action="store_true", help="show the overlays in a window (GUI OpenCV)"
    )
    add_calibration_option(parser)
    parser.set_defaults(run=run_live, pipeline=True)


def run_live(args: argparse.Namespace, spec: PipelineSpec) -> int:
    """Run the cameras until they stop, ``--frames`` is reached or Ctrl-C.

    The cameras (and the window) are opened before the engine loads, so a missing device is
    reported at once.
    """
    cameras = [parse_camera(camera) for camera in args.camera]
    if args.show:
        _open_window()
    with CameraSource(cameras, args.name, args.frames) as source:
        world = CalibratedRun.from_args(args, {name: name for name in source.view_names})
        pipeline = build_pipeline(spec)
        with closing(pipeline.predictor):
            stats, results, alignments = _stream(args, pipeline, source, world)
    record = None if world.world_frame is None else WorldRecord(world.world_frame, alignments)
    save_npz(args.output / "results.npz", results, record)
    print(f"hggt live: {', '.join(map(str, cameras))}\n{describe(pipeline)}\n{stats.table()}")
    print(f"  outputs: {args.output}/ ({RESULTS_JSONL}, results.npz)")
    if (line := world.summary()) is not None:
        print(line)
    return 0


def _stream(
    args: argparse.Namespace, pipeline: Pipeline, source: CameraSource, world: CalibratedRun
) -> tuple[RunStats, list[HandResult], tuple[WorldAlignment | None, ...]]:
    """Every frameset through the engine, each appended to the JSON lines as it comes."""
    stats = RunStats()
    collected: list[HandResult] = []
    alignments: list[WorldAlignment | None] = []
    faces = faces_of(pipeline)
    args.output.mkdir(parents=True, exist_ok=True)
    with (args.output / RESULTS_JSONL).open("w", encoding="utf-8") as stream:
        try:
            for index, frameset in enumerate(world.framesets(source)):
                results = pipeline.predictor(frameset)
                stats.add(results)
                placed = world.express(frameset, results)
                collected.extend(placed.results)
                alignments.extend(per_result_alignments(placed))
                _append_line(stream, index, frameset, placed)
                if args.save_overlays or args.show:
                    _overlay(args, index, frameset, placed.results, faces)
        except KeyboardInterrupt:
            pass
    return stats, collected, tuple(alignments)


def _append_line(stream: IO[str], index: int, frameset: FrameSet, placed: WorldResults) -> None:
    """One frameset's hands as one JSON line (no mesh vertices), flushed at once.

    With a world frame the line has ``"world_frame"`` and each hand a ``"world"`` entry
    (:func:`hggt_core.io.world_record.alignment_to_json`).
    """
    hands = [result_to_json(result, include_vertices=False) for result in placed.results]
    line: dict[str, object] = {
        "frameset": index,
        "stamp_ns": frameset.stamp_ns,
        "stamp_s": frameset.stamp_s,
        "views": [view.name for view in frameset.views],
        "hands": hands,
    }
    if placed.world_frame is not None:
        line["world_frame"] = placed.world_frame
        for hand, alignment in zip(hands, per_result_alignments(placed), strict=True):
            hand["world"] = alignment_to_json(alignment)
    stream.write(json.dumps(line, allow_nan=False) + "\n")
    stream.flush()


def _overlay(
    args: argparse.Namespace,
    index: int,
    frameset: FrameSet,
    results: Sequence[HandResult],
    faces: npt.NDArray[np.int64],
) -> None:
    images = overlay_results(frameset, list(results), faces)
    tiled = mosaic(images, labels=[view.name for view in frameset.views])
    if args.save_overlays:
        folder = args.output / "overlays"
        folder.mkdir(exist_ok=True)
        write_rgb(folder / f"{index:05d}.jpg", tiled)
    if args.show:
        cv2.imshow(_WINDOW, cv2.cvtColor(tiled, cv2.COLOR_RGB2BGR))
        if cv2.waitKey(1) & 0xFF in (ord("q"), 27):
            raise KeyboardInterrupt


def _open_window() -> None:
    try:
        cv2.namedWindow(_WINDOW, cv2.WINDOW_NORMAL)
    except cv2.error as error:
        raise ValueError(
            "--show needs an OpenCV build with GUI support (this one is headless); use "
            "--save-overlays instead"
        ) from error
