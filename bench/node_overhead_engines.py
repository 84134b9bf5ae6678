# Copyright 2026 The HGGT-ROS Authors
# SPDX-License-Identifier: Apache-2.0
"""The engine side of bench/node_overhead.py: the images and hand it replays, the engine's time.

* ``torch``: the bundled demo example's views resized to the frame size; one untimed run of the
  HGGT pipeline in crop mode (the bundled model, else the untrained tiny network, 112-pixel
  crops) gives the hand. Its time is not measured (a tiny or demo network says nothing about
  the released model's).
* ``landmarks``: OakInk's four example crops, each scaled to 300 px on a grey frame
  (:func:`landmark_speed.frame_from_crop`, the frames of bench/landmark_speed.py); the node's
  default landmark pipeline (MediaPipe in VIDEO mode, fusion, MANO fit) runs a 30 Hz stream of
  framesets, each call timed (``time.perf_counter``), and its last hand is replayed.

Both use the procedural MANO (MANO's 778 vertices and 1538 triangles), as the node does
without a MANO folder. Imported by the script from its own folder (``bench/`` on sys.path).
"""

from __future__ import annotations

import os
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import cv2
import numpy as np
from bench_common import demo_images
from landmark_speed import EXAMPLES, frame_from_crop

from hggt_core.assembly.factory import HandPredictor, PipelineSpec, build_pipeline
from hggt_core.io.images import read_rgb
from hggt_core.pipeline.types import FrameSet, HandResult, View

ENGINES = ("torch", "landmarks")
"""The engines the benchmark can take the hand from."""
LANDMARK_SAMPLE = "Oakink/sample_0000"
"""The example whose crops the landmark engine reads (MediaPipe finds the hand in all four)."""
MIN_LANDMARK_SIZE = (380, 300)
"""Smallest frame (width, height) that holds frame_from_crop's 300-pixel crop."""
_CROP_SIZE = 112  # HGGT's output sizes do not depend on it, and it keeps the setup quick
_PERIOD_NS = 1_000_000_000 // 30


@dataclass(frozen=True)
class EngineRun:
    """What one engine did on the benchmark's views.

    Attributes:
        images: the views, [H, W, 3] uint8 RGB each, in camera order.
        hand: the hand that the node's stages replay.
        faces: side -> [F, 3] MANO triangles (the mesh markers).
        times_ms: the engine's time per timed frameset (ms); empty when not measured.
        framesets_with_hand: timed framesets in which the engine found a hand.
        tracker_state: the predictor's ``tracker_state`` after the last frameset.
    """

    images: list[np.ndarray]
    hand: HandResult
    faces: dict[str, np.ndarray]
    times_ms: list[float]
    framesets_with_hand: int
    tracker_state: str


def run_engine(
    engine: str, names: Sequence[str], size: tuple[int, int], warmup: int, framesets: int
) -> EngineRun:
    """The images and hand of ``engine`` (landmarks: ``framesets`` timed after ``warmup``).

    Progress goes to stderr; the landmark line says whether this thread is pinned to a CPU.
    """
    if engine == "torch":
        sys.stderr.write("  one predictor run for a realistic hand (not timed) ...\n")
        return torch_run(names, size)
    pinned = os.sched_getaffinity(0) != set(range(os.cpu_count() or 1))
    sys.stderr.write(f"  landmark engine, {warmup + framesets} framesets, pinned={pinned} ...\n")
    return landmark_run(names, landmark_images(len(names), size), warmup, framesets)


def _cycled(images: Sequence[np.ndarray], views: int) -> list[np.ndarray]:
    return [images[index % len(images)] for index in range(views)]


def torch_run(names: Sequence[str], size: tuple[int, int]) -> EngineRun:
    """One untimed crop-mode HGGT run on the demo views resized to ``size`` (width, height)."""
    resized = [cv2.resize(image, size, interpolation=cv2.INTER_AREA) for image in demo_images()]
    images = _cycled(resized, len(names))
    pipeline = build_pipeline(PipelineSpec(engine="torch", crop_size=_CROP_SIZE))
    views = tuple(View(name, 0, image) for name, image in zip(names, images, strict=True))
    predictor = pipeline.predictor
    results = predictor(FrameSet(0, views))
    if len(results) != 1:
        raise RuntimeError(f"expected one hand from the crop-mode predictor, got {len(results)}")
    return EngineRun(images, results[0], _faces(predictor), [], 0, predictor.tracker_state)


def landmark_images(views: int, size: tuple[int, int]) -> list[np.ndarray]:
    """The example's crops on ``size`` (width, height) grey frames, cycled over ``views``."""
    paths = sorted((EXAMPLES / LANDMARK_SAMPLE).glob("*.jpg"))
    if not paths:
        raise FileNotFoundError(f"no example crops in {EXAMPLES / LANDMARK_SAMPLE}")
    frames = [frame_from_crop(read_rgb(path), (size[1], size[0])) for path in paths]
    return _cycled(frames, views)


def landmark_run(
    names: Sequence[str], images: Sequence[np.ndarray], warmup: int, framesets: int
) -> EngineRun:
    """The node's default landmark pipeline on a 30 Hz stream of the images, timed per call.

    Raises:
        RuntimeError: if the last frameset has no hand (nothing realistic to replay).
    """
    pipeline = build_pipeline(PipelineSpec(engine="landmarks"))
    predictor = pipeline.predictor
    times_ms, found, results = [], 0, []
    try:
        for index in range(warmup + framesets):
            stamp_ns = index * _PERIOD_NS
            views = tuple(
                View(name, stamp_ns, image) for name, image in zip(names, images, strict=True)
            )
            start = time.perf_counter()
            results = predictor(FrameSet(stamp_ns, views))
            if index >= warmup:
                times_ms.append(1e3 * (time.perf_counter() - start))
                found += bool(results)
        state = predictor.tracker_state
    finally:
        predictor.close()
    if not results:
        raise RuntimeError(f"the landmark engine found no hand in {LANDMARK_SAMPLE}'s views")
    return EngineRun(list(images), results[0], _faces(predictor), times_ms, found, state)


def _faces(predictor: HandPredictor) -> dict[str, np.ndarray]:
    right = predictor.mano_right.faces.numpy()
    left = predictor.mano_left
    return {"right": right, "left": left.faces.numpy() if left is not None else right}


def engine_report(
    unpinned: EngineRun, pinned: EngineRun, overhead_ms: Sequence[float]
) -> dict[str, Any]:
    """The engine's time per frameset, unpinned and pinned, and the overhead as its share.

    Args:
        unpinned: the run with MediaPipe's threads on every CPU (as the node runs it).
        pinned: the run pinned to the node overhead's core.
        overhead_ms: the node's median overhead per frameset of each variant (ms).

    Returns:
        ``engine_ms_<key>`` (median, p95), ``framesets_with_hand_<key>``,
        ``tracker_state_<key>`` (after the last frameset) and ``overhead_share_<key>`` (per
        variant, overhead / median engine time), key ``unpinned`` or ``pinned``.
    """
    report: dict[str, Any] = {}
    for key, run in (("unpinned", unpinned), ("pinned", pinned)):
        median = float(np.median(run.times_ms))
        p95 = float(np.percentile(run.times_ms, 95))
        report[f"engine_ms_{key}"] = {"median": median, "p95": p95}
        report[f"framesets_with_hand_{key}"] = run.framesets_with_hand
        report[f"tracker_state_{key}"] = run.tracker_state
        report[f"overhead_share_{key}"] = [value / median for value in overhead_ms]
    return report


def engine_note(report: dict[str, Any], framesets: int) -> str:
    """One line for the benchmark's notes: the engine's time and the overhead's share of it."""
    parts = []
    for key in ("pinned", "unpinned"):
        time_ms, shares = report[f"engine_ms_{key}"], report[f"overhead_share_{key}"]
        parts.append(
            f"{key} {time_ms['median']:.1f} ms (p95 {time_ms['p95']:.1f}; hand in "
            f"{report[f'framesets_with_hand_{key}']}/{framesets}), total / engine "
            f"{100 * min(shares):.1f}-{100 * max(shares):.1f} %"
        )
    return (
        f"engine: landmarks (MediaPipe VIDEO, fusion, MANO fit) on {LANDMARK_SAMPLE}'s crops, "
        "median per frameset pinned to the node's core / unpinned (MediaPipe's threads on "
        f"every CPU): {'; '.join(parts)}. Last frameset: {report['tracker_state_pinned']}."
    )
