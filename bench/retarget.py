# Copyright 2026 The HGGT-ROS Authors
# SPDX-License-Identifier: Apache-2.0
"""Solve time of grasp retargeting per hand (:mod:`hggt_core.retarget`).

Usage (from the repository root)::

    OMP_NUM_THREADS=1 python bench/retarget.py [--frames 120] [--cycle 30] [--repeats 3]

A procedural right hand (:mod:`hggt_core.retarget.demo_hands`) moves smoothly open -> fist ->
pinch -> open, one cycle per ``--cycle`` frames (30: a full grasp a second at 30 Hz, a fast
hand), seen from a fixed camera. Each row retargets the whole sequence onto the LEAP V1
KAIZEN hand (ghand's URDF) and reports the wall time per solve (median, p90, max), the RMS
residual and the largest thumb-index tip gap in the pinch frames, for: the DexPilot and
vector configs; our numpy objective or dex-retargeting's torch one; warm start (the previous
solution, as the node runs) or cold (every frame from the open pose); and the gripper mode.
Target on this project's 2-core CPU: < 5 ms median per hand with warm start.
"""

from __future__ import annotations

import argparse
import statistics
import sys
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from hggt_core.mano.fit_kinematics import FloatArray, ManoJointModel
from hggt_core.mano.layer import ManoLayer
from hggt_core.mano.synthetic import make_synthetic_mano
from hggt_core.retarget import demo_hands
from hggt_core.retarget.dexterous import DexRetargetConfig, DexRetargeter
from hggt_core.retarget.gripper import GripperConfig, GripperRetargeter
from hggt_core.retarget.types import Retargeter

CONFIGS = Path(__file__).resolve().parents[1] / "config" / "retarget"
TIPS = ["hggt_thumb_tip", "hggt_index_tip"]


@dataclass(frozen=True)
class Row:
    """One benchmark row."""

    name: str
    median_ms: float
    p90_ms: float
    max_ms: float
    residual_mm: float
    pinch_gap_mm: float


def hand_sequence(frames: int, cycle: int) -> tuple[list[FloatArray], list[bool]]:
    """[21, 3] joints per frame (camera frame, m) and whether the frame is a pinch."""
    model = ManoJointModel(ManoLayer(make_synthetic_mano("right")))
    keys = [demo_hands.open_hand(model), demo_hands.fist(model), demo_hands.pinch(model)]
    orient, transl = np.array([0.3, -1.2, 2.0]), np.array([0.05, -0.02, 0.5])
    joints, pinch = [], []
    for frame in range(frames):
        phase = 3.0 * (frame % cycle) / cycle
        index = int(phase)
        weight = 0.5 - 0.5 * np.cos(np.pi * (phase - index))  # ease in and out of each key
        theta = (1 - weight) * keys[index] + weight * keys[(index + 1) % 3]
        params = np.concatenate([theta, np.zeros(10), transl])
        params[:3] = orient
        joints.append(model.pose(params).points)
        pinch.append((index == 1 and weight > 0.95) or (index == 2 and weight < 0.05))
    return joints, pinch


def run_row(name: str, retargeter: Retargeter, joints: list[FloatArray], pinch: list[bool],
            repeats: int) -> Row:  # fmt: skip
    """Time one retargeter over the sequence ``repeats`` times (reset before each)."""
    times, residuals, gaps = [], [], []
    for _ in range(repeats):
        retargeter.reset()
        for frame, is_pinch in zip(joints, pinch, strict=True):
            solution = retargeter(frame)
            times.append(solution.solve_time_s)
            residuals.append(solution.residual_m)
            if is_pinch and isinstance(retargeter, DexRetargeter):
                tips = retargeter.link_positions(solution.positions, TIPS)
                gaps.append(float(np.linalg.norm(tips[0] - tips[1])))
    ms = sorted(1e3 * t for t in times)
    return Row(
        name=name,
        median_ms=statistics.median(ms),
        p90_ms=ms[int(0.9 * (len(ms) - 1))],
        max_ms=ms[-1],
        residual_mm=1e3 * float(np.sqrt(np.mean(np.square(residuals)))),
        pinch_gap_mm=1e3 * max(gaps) if gaps else float("nan"),
    )


def main(argv: list[str] | None = None) -> int:
    """Run the benchmark and print its table; returns 0."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--frames", type=int, default=120)
    parser.add_argument("--cycle", type=int, default=30, help="frames per open-fist-pinch cycle")
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args(argv)
    joints, pinch = hand_sequence(args.frames, args.cycle)
    rows = []
    for kind in ("dexpilot", "vector"):
        for numpy_objective in (True, False):
            for warm in (True, False):
                config = DexRetargetConfig(
                    CONFIGS / f"ghand_right_{kind}.yaml", low_pass_alpha=1.0,
                    warm_start=warm, numpy_objective=numpy_objective,
                )  # fmt: skip
                name = f"{kind}, {'numpy' if numpy_objective else 'torch'}, "
                name += "warm" if warm else "cold"
                rows.append(run_row(name, DexRetargeter(config), joints, pinch, args.repeats))
    gripper = GripperRetargeter(GripperConfig())
    rows.append(run_row("gripper", gripper, joints, pinch, args.repeats))
    sys.stdout.write(
        f"retargeting {args.frames} frames x {args.repeats}, cycle {args.cycle} frames\n"
        f"{'row':<26}{'median ms':>10}{'p90 ms':>9}{'max ms':>9}{'RMS res mm':>11}"
        f"{'pinch gap mm':>13}\n"
    )
    for row in rows:
        sys.stdout.write(
            f"{row.name:<26}{row.median_ms:>10.2f}{row.p90_ms:>9.2f}{row.max_ms:>9.2f}"
            f"{row.residual_mm:>11.1f}{row.pinch_gap_mm:>13.1f}\n"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
