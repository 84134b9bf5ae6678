# Copyright 2026 The HGGT-ROS Authors
# SPDX-License-Identifier: Apache-2.0
"""HGGT's metric errors with its own intrinsics and once corrected to the known ones.

Usage (from the repository root)::

    OMP_NUM_THREADS=1 python bench/known_intrinsics.py [--scenes 256] [--views 4]
        [--seed 5000] [--threads 1] [--json out.json]

The defaults reproduce the README's known-intrinsics table (about 20 s on a 2-core CPU). The
bundled demo model runs as ``hggt infer --checkpoint <bundled> --no-known-intrinsics`` would
(crop mode, the procedural MANO hand) on synthetic scenes of its training distribution
(:data:`hggt_core.render.demo.DEMO_SCENE` rendered at the model's crop size with 2x
supersampling; scene ``i`` drawn with seed ``--seed + i``). Each estimate is reported three
ways:

* ``estimated``: as the network gives it, with its own focal lengths
  (``PredictorConfig.use_known_intrinsics=False``).
* ``corrected``: moved rigidly to the views' true K by
  :func:`hggt_core.pipeline.known_intrinsics.correct_to_known_intrinsics`, which is what the
  predictor does by default (``use_known_intrinsics=True``).
* ``release``: the released evaluation's per-point reprojection of the joints from camera 0's
  predicted K to its true K (:func:`hggt_core.metrics.reproject_to_intrinsics`); a metric only,
  not a MANO hand, and it leaves the cameras as they were.

Columns (means over the scenes; 3-D in camera 0's frame):

* ``RR-MPJPE``: joints relative to the wrist, mm.
* ``MPJPE``: joints, mm.
* ``root``: the wrist, mm.
* ``centre``: the hand centre (mean of the joints) in each camera's frame, mean over the
  cameras, mm.
* ``2-D px``: the joints projected into each view against the true ones, mean over the views,
  pixels of the input images.
"""

from __future__ import annotations

import argparse
import dataclasses
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import torch
from bench_common import write_header, write_report

from hggt_core.assembly.factory import PipelineSpec, build_pipeline
from hggt_core.bench.report import host_info, markdown_table
from hggt_core.engine.registry import BUNDLED_MODEL
from hggt_core.metrics import reproject_to_intrinsics
from hggt_core.pipeline.known_intrinsics import correct_to_known_intrinsics
from hggt_core.pipeline.predictor import Predictor
from hggt_core.pipeline.types import HandResult
from hggt_core.render.demo import DEMO_SCENE
from hggt_core.render.scene import SyntheticExample, render_multiview_example
from hggt_core.render.scene_config import SceneConfig

ESTIMATES = ("estimated", "corrected", "release")
"""The rows, in table order (see the module docstring)."""
ERROR_KEYS = ("rr_mpjpe_mm", "mpjpe_mm", "root_mm", "centre_mm", "px")
"""The error of each column, as named in the rows and the JSON report."""
COLUMNS = ("intrinsics", "RR-MPJPE mm", "MPJPE mm", "root mm", "centre mm", "2-D px")
"""Table column titles."""
NOTES = (
    "estimated: the network's own K; corrected: correct_to_known_intrinsics (the predictor's "
    "default); release: per-point reprojection of camera 0's joints (evaluation only).",
    "centre: hand centre in each camera's frame; 2-D px: joints in each view's image.",
)
"""Printed under the table."""


def load_predictor(use_known_intrinsics: bool) -> Predictor:
    """The bundled demo model in crop mode with the procedural MANO hand (CPU, fp32)."""
    spec = PipelineSpec(
        checkpoint=BUNDLED_MODEL, engine="torch", use_known_intrinsics=use_known_intrinsics
    )
    predictor = build_pipeline(spec).predictor
    assert isinstance(predictor, Predictor)
    return predictor


def scene_config(crop_size: int) -> SceneConfig:
    """The demo model's training scenes (``training/configs/demo_model.yaml``)."""
    return dataclasses.replace(DEMO_SCENE, crop_size=crop_size, supersample=2)


def hand_errors(joints: np.ndarray, truth: np.ndarray) -> dict[str, float]:
    """RR-MPJPE, MPJPE and wrist error (mm) of [21, 3] joints against the truth (metres)."""
    relative = (joints - joints[0]) - (truth - truth[0])
    return {
        "rr_mpjpe_mm": 1e3 * float(np.linalg.norm(relative, axis=-1).mean()),
        "mpjpe_mm": 1e3 * float(np.linalg.norm(joints - truth, axis=-1).mean()),
        "root_mm": 1e3 * float(np.linalg.norm(joints[0] - truth[0])),
    }


def camera_errors(result: HandResult, example: SyntheticExample) -> dict[str, float]:
    """Hand-centre error in each camera (mm) and 2-D joint error (px), means over the views."""
    centre, truth = result.joints.mean(axis=0), example.joints.mean(axis=0)
    centre_m, px = [], []
    for camera, view in zip(result.cameras, example.views, strict=True):
        predicted = camera.cam_from_ref[:3, :3] @ centre + camera.cam_from_ref[:3, 3]
        true = view.cam_from_ref[:3, :3] @ truth + view.cam_from_ref[:3, 3]
        centre_m.append(np.linalg.norm(predicted - true))
        px.append(np.linalg.norm(camera.joints_2d - view.joints_2d, axis=-1).mean())
    return {"centre_mm": 1e3 * float(np.mean(centre_m)), "px": float(np.mean(px))}


def release_joints(estimate: HandResult, example: SyntheticExample) -> np.ndarray:
    """[21, 3] joints reprojected from camera 0's predicted K to its true K (metres)."""
    moved = reproject_to_intrinsics(
        torch.from_numpy(estimate.joints),
        torch.from_numpy(estimate.cameras[0].intrinsics),
        torch.from_numpy(example.views[0].intrinsics),
    )
    return np.asarray(moved.numpy(), dtype=np.float64)


def scene_errors(
    predictor: Predictor, example: SyntheticExample
) -> tuple[dict[str, dict[str, float | None]], float]:
    """One scene's errors per row of ESTIMATES, and its mean f_x(predicted) / f_x(true)."""
    frameset = example.frameset(with_intrinsics=True)
    predictor.reset()
    (estimate,) = predictor(frameset)
    known = {view.name: view.intrinsics for view in example.views}
    corrected = correct_to_known_intrinsics(estimate, known)
    truth = example.joints
    errors: dict[str, dict[str, float | None]] = {
        "estimated": {**hand_errors(estimate.joints, truth), **camera_errors(estimate, example)},
        "corrected": {**hand_errors(corrected.joints, truth), **camera_errors(corrected, example)},
        "release": {
            **hand_errors(release_joints(estimate, example), truth),
            "centre_mm": None,
            "px": None,
        },
    }
    pairs = zip(estimate.cameras, example.views, strict=True)
    focal_ratio = np.mean([cam.intrinsics[0, 0] / view.intrinsics[0, 0] for cam, view in pairs])
    return errors, float(focal_ratio)


def measure(
    predictor: Predictor, scenes: int, views: int, seed: int, config: SceneConfig
) -> tuple[list[dict[str, Any]], list[float]]:
    """Mean errors per row over ``scenes`` scenes, and each scene's focal-length ratio."""
    per_row: dict[str, list[dict[str, float | None]]] = {name: [] for name in ESTIMATES}
    ratios = []
    for index in range(scenes):
        rng = np.random.default_rng(seed + index)
        example = render_multiview_example(predictor.mano_right, rng, views, config)
        errors, ratio = scene_errors(predictor, example)
        for name in ESTIMATES:
            per_row[name].append(errors[name])
        ratios.append(ratio)
    rows = []
    for name, errors_list in per_row.items():
        row: dict[str, Any] = {"intrinsics": name}
        for key in ERROR_KEYS:
            values = [errors[key] for errors in errors_list]
            row[key] = None if None in values else float(np.mean(values))
        rows.append(row)
    return rows, ratios


def format_table(rows: Sequence[dict[str, Any]]) -> str:
    """The rows as a markdown table ("-" where a row has no such error)."""
    body = [
        [row["intrinsics"], *("-" if row[k] is None else f"{row[k]:.1f}" for k in ERROR_KEYS)]
        for row in rows
    ]
    return "\n".join(markdown_table(COLUMNS, body))


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    """The command line (defaults: the README's table)."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scenes", type=int, default=256)
    parser.add_argument("--views", type=int, default=4, help="views per scene")
    parser.add_argument("--seed", type=int, default=5000, help="scene i uses seed + i")
    parser.add_argument("--threads", type=int, default=1, help="torch.set_num_threads")
    parser.add_argument("--json", type=Path, default=None, help="also write the report here")
    args = parser.parse_args(argv)
    for name in ("scenes", "views", "threads"):
        if getattr(args, name) < 1:
            parser.error(f"--{name} must be at least 1")
    return args


def main(argv: Sequence[str] | None = None) -> int:
    """Run the scenes, print the table (and write the JSON report when asked)."""
    args = parse_args(argv)
    threads = torch.get_num_threads()
    torch.set_num_threads(args.threads)
    try:
        predictor = load_predictor(use_known_intrinsics=False)
        config = scene_config(predictor.config.crop_size)
        info = {**host_info(), "scenes": args.scenes, "views": args.views, "seed": args.seed}
        info["crop_size"] = config.crop_size
        write_header("known intrinsics", info)
        start = time.perf_counter()
        rows, ratios = measure(predictor, args.scenes, args.views, args.seed, config)
        wall_s = time.perf_counter() - start
    finally:
        torch.set_num_threads(threads)
    ratio_mean = float(np.mean(ratios))
    ratio_error = float(np.mean(np.abs(np.array(ratios) - 1)))
    notes = [
        *NOTES,
        f"predicted / true focal length: mean {ratio_mean:.3f}, mean |ratio - 1| "
        f"{ratio_error:.3f}; {args.scenes} scenes in {wall_s:.0f} s.",
    ]
    table = format_table(rows)
    write_report(table, notes, args.json, info, rows, wall_s=wall_s, focal_ratios=ratios)
    return 0


if __name__ == "__main__":
    sys.exit(main())
