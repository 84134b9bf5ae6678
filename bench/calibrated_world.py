# Copyright 2026 The HGGT-ROS Authors
# SPDX-License-Identifier: Apache-2.0
"""Metric accuracy in the user's world frame with 0, 1, 2 or all cameras known.

Usage (from the repository root)::

    python bench/calibrated_world.py [--scenes 50] [--views 4] [--rig sphere|palm]
        [--centre-sigma-m 0.02] [--rotation-sigma-deg 2] [--json out.json]

The scenes and the MediaPipe-like noise are ``bench/landmark_fusion.py``'s; each scene's rig is
placed in a world frame at a random pose (camera 0 anywhere within 1 m of the origin, any
orientation), and the first ``known`` cameras are given to
:func:`hggt_core.calibration.align_to_world` as a calibration (their true world poses). The
hand is the landmark engine's fusion (:func:`hggt_core.geometry.hand_cameras.fuse_views`) in
one of two modes:

* ``after``: every camera estimated from the hand, its scale set by the hand alone; with >= 2
  known cameras the alignment rescales it from the known baseline;
* ``fusion``: the known cameras go into the fusion (``known_cam_from_ref``): the joints are
  triangulated with them (metric from the baseline), only the other cameras are estimated, and
  the alignment that follows is exact (residual ~0).

Columns (means over the scenes):

* ``abs``: MPJPE in the world frame, mm (0 known: the reference-frame estimate against the
  truth in camera 0's frame, i.e. metric only through the hand's own scale).
* ``scale %``: |estimated / true hand size - 1| (hand size: the bone lengths summed), percent.
* ``cam``: error of the camera centres (views 1..S-1) in the world frame (0 known: in the
  reference frame), mm.
* ``res mm`` / ``res deg``: the alignment's RMS residuals (centres, orientations).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

import numpy as np
from bench_common import write_header, write_report
from landmark_fusion import NOISE_LEVELS, RIGS, Scene, make_scenes

from hggt_core.base.hand_skeleton import OPENPOSE_PARENTS
from hggt_core.bench.report import host_info, markdown_table
from hggt_core.calibration import (
    AlignmentConfig,
    Calibration,
    KnownCamera,
    align_to_world,
    to_world,
)
from hggt_core.geometry.hand_cameras import fuse_views
from hggt_core.geometry.numpy_transforms import invert_rigid
from hggt_core.pipeline.types import CropTransform, HandResult, ViewCamera
from hggt_core.render.landmark_views import simulated_landmarks

KNOWN_COUNTS = (0, 1, 2, 4)
"""How many cameras are known (the first ones of each scene), aligned after the fusion."""
FUSION_COUNTS = (2, 4)
"""How many cameras are known and used in the fusion."""


def _random_world_from_ref(rng: np.random.Generator) -> np.ndarray:
    quat = rng.normal(size=4)
    x, y, z, w = quat / np.linalg.norm(quat)
    transform = np.eye(4)
    transform[:3, :3] = [
        [1 - 2 * (y * y + z * z), 2 * (x * y - z * w), 2 * (x * z + y * w)],
        [2 * (x * y + z * w), 1 - 2 * (x * x + z * z), 2 * (y * z - x * w)],
        [2 * (x * z - y * w), 2 * (y * z + x * w), 1 - 2 * (x * x + y * y)],
    ]
    transform[:3, 3] = rng.uniform(-1.0, 1.0, size=3)
    return transform


def _hand_size_m(joints: np.ndarray) -> float:
    parents = np.asarray(OPENPOSE_PARENTS[1:])
    return float(np.linalg.norm(joints[1:] - joints[parents], axis=-1).sum())


def _result(joints: np.ndarray, cam_from_ref: np.ndarray, intrinsics: np.ndarray) -> HandResult:
    """The fused hand as a result (only the joints and cameras matter here)."""
    crop = CropTransform(0.0, 0.0, 1.0, 224)
    cameras = tuple(
        ViewCamera(f"cam{index}", k, transform, np.zeros((21, 2)), crop)
        for index, (transform, k) in enumerate(zip(cam_from_ref, intrinsics, strict=True))
    )
    return HandResult(
        stamp_ns=0,
        side="right",
        score=1.0,
        hand_pose=np.zeros(48),
        betas=np.zeros(10),
        transl=np.zeros(3),
        vertices=np.zeros((778, 3)),
        joints=joints,
        joint_rotations=np.tile(np.eye(3), (21, 1, 1)),
        cameras=cameras,
        views_used=tuple(camera.name for camera in cameras),
    )


def _errors(
    scene: Scene,
    estimate: HandResult,
    known: int,
    world_from_ref: np.ndarray,
    cfg: AlignmentConfig,
) -> dict[str, float]:
    """One scene's errors with the first ``known`` cameras known."""
    world_from_cam = world_from_ref @ invert_rigid(scene.cam_from_ref)
    if known == 0:
        world_from_ref = np.eye(4)
        world_from_cam = invert_rigid(scene.cam_from_ref)
        aligned, residual = estimate, (0.0, 0.0)
    else:
        calibration = Calibration(
            "world", {f"cam{i}": KnownCamera(f"cam{i}", world_from_cam[i]) for i in range(known)}
        )
        alignment = align_to_world(estimate, calibration, cfg)
        assert alignment is not None
        aligned, residual = (
            to_world(estimate, alignment),
            (
                alignment.residual_m,
                alignment.residual_deg,
            ),
        )
    truth = scene.joints @ world_from_ref[:3, :3].T + world_from_ref[:3, 3]
    centres = invert_rigid(np.stack([c.cam_from_ref for c in aligned.cameras]))[1:, :3, 3]
    return {
        "abs_mm": 1e3 * float(np.linalg.norm(aligned.joints - truth, axis=-1).mean()),
        "scale_pct": 100 * abs(_hand_size_m(aligned.joints) / _hand_size_m(truth) - 1),
        "cam_mm": 1e3 * float(np.linalg.norm(centres - world_from_cam[1:, :3, 3], axis=-1).mean()),
        "residual_mm": 1e3 * residual[0],
        "residual_deg": residual[1],
    }


def measure(
    scenes: list[Scene], level: str, seed: int, cfg: AlignmentConfig
) -> list[dict[str, Any]]:
    """One row per mode and known-camera count at one noise level."""
    rng = np.random.default_rng(seed)
    grid = [("after", known) for known in KNOWN_COUNTS]
    grid += [("fusion", known) for known in FUSION_COUNTS]
    per_row: dict[tuple[str, int], list[dict[str, float]]] = {row: [] for row in grid}
    for scene in scenes:
        observations = simulated_landmarks(scene, NOISE_LEVELS[level], rng)
        world_from_ref = _random_world_from_ref(rng)
        estimated = fuse_views(observations)
        for mode, known in grid:
            if known > len(scene.cam_from_ref):
                continue
            poses = {view: scene.cam_from_ref[view] for view in range(known)}
            fused = estimated if mode == "after" else fuse_views(observations, None, None, poses)
            estimate = _result(fused.joints_m, fused.cam_from_ref, scene.intrinsics)
            per_row[mode, known].append(_errors(scene, estimate, known, world_from_ref, cfg))
    return [
        {
            "noise": level,
            "mode": mode,
            "known": known,
            **{k: float(np.mean([e[k] for e in rows])) for k in rows[0]},
        }
        for (mode, known), rows in per_row.items()
        if rows
    ]


COLUMNS = (
    ("noise", "noise", "{}"),
    ("known", "known", "{}"),
    ("mode", "mode", "{}"),
    ("abs", "abs_mm", "{:.1f}"),
    ("scale %", "scale_pct", "{:.2f}"),
    ("cam", "cam_mm", "{:.1f}"),
    ("res mm", "residual_mm", "{:.1f}"),
    ("res deg", "residual_deg", "{:.2f}"),
)
"""Table columns: (title, row key, format)."""


def main(argv: list[str] | None = None) -> int:
    """Run the grid and print the table (and write the JSON report when asked)."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scenes", type=int, default=50, help="scenes per row")
    parser.add_argument("--views", type=int, default=4)
    parser.add_argument("--rig", choices=sorted(RIGS), default="sphere")
    parser.add_argument("--centre-sigma-m", type=float, default=AlignmentConfig.centre_sigma_m)
    parser.add_argument(
        "--rotation-sigma-deg", type=float, default=AlignmentConfig.rotation_sigma_deg
    )
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--json", type=Path, default=None, help="also write the report here")
    args = parser.parse_args(argv)
    cfg = AlignmentConfig(args.centre_sigma_m, args.rotation_sigma_deg)
    info = {**host_info(), "scenes": args.scenes, "views": args.views, "rig": args.rig}
    info |= {"centre_sigma_m": cfg.centre_sigma_m, "rotation_sigma_deg": cfg.rotation_sigma_deg}
    write_header("calibrated world", info)
    scenes = make_scenes(args.scenes, args.views, RIGS[args.rig], args.seed)
    rows = [row for level in NOISE_LEVELS for row in measure(scenes, level, args.seed, cfg)]
    body = [[fmt.format(row[key]) for _, key, fmt in COLUMNS] for row in rows]
    table = "\n".join(markdown_table([title for title, _, _ in COLUMNS], body))
    notes = [
        "noise levels as bench/landmark_fusion.py (px / world mm / depth squash): "
        + ", ".join(f"{name} {u:g}/{w * 1e3:g}/{q:g}" for name, (u, w, q) in NOISE_LEVELS.items()),
        "known: the first cameras of each scene (0: reference-frame estimate, hand scale only).",
        "mode: after = all cameras estimated, then aligned; fusion = known cameras in the fusion.",
    ]
    write_report(table, notes, args.json, info, rows)
    return 0


if __name__ == "__main__":
    sys.exit(main())
