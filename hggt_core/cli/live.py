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
from hggt_core.cli.frameset_run import describe, faces_of
from hggt_core.cli.report import RunStats
from hggt_core.io.camera_source import CameraSource, parse_camera
from hggt_core.io.exports import result_to_json, save_npz
from hggt_core.io.images import write_rgb
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
        pipeline = build_pipeline(spec)
        with closing(pipeline.predictor):
            stats, results = _stream(args, pipeline, source)
    save_npz(args.output / "results.npz", results)
    print(f"hggt live: {', '.join(map(str, cameras))}\n{describe(pipeline)}\n{stats.table()}")
    print(f"  outputs: {args.output}/ ({RESULTS_JSONL}, results.npz)")
    return 0


def _stream(
    args: argparse.Namespace, pipeline: Pipeline, source: CameraSource
) -> tuple[RunStats, list[HandResult]]:
    """Every frameset through the engine, each appended to the JSON lines as it comes."""
    stats = RunStats()
    collected: list[HandResult] = []
    faces = faces_of(pipeline)
    args.output.mkdir(parents=True, exist_ok=True)
    with (args.output / RESULTS_JSONL).open("w", encoding="utf-8") as stream:
        try:
            for index, frameset in enumerate(source):
                results = pipeline.predictor(frameset)
                stats.add(results)
                collected.extend(results)
                _append_line(stream, index, frameset, results)
                if args.save_overlays or args.show:
                    _overlay(args, index, frameset, results, faces)
        except KeyboardInterrupt:
            pass
    return stats, collected


def _append_line(
    stream: IO[str], index: int, frameset: FrameSet, results: Sequence[HandResult]
) -> None:
    """One frameset's hands as one JSON line (no mesh vertices), flushed at once."""
    line = {
        "frameset": index,
        "stamp_ns": frameset.stamp_ns,
        "stamp_s": frameset.stamp_s,
        "views": [view.name for view in frameset.views],
        "hands": [result_to_json(result, include_vertices=False) for result in results],
    }
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
