# Copyright 2026 The HGGT-ROS Authors
# SPDX-License-Identifier: Apache-2.0
"""``hggt retarget``: hand results or a bag's ``/hand/mano`` -> robot joint trajectory.

Examples:
    hggt retarget hggt_output/results.npz --config config/retarget/ghand_right_dexpilot.yaml
    hggt retarget out_bag --config my_hand.yaml --urdf my_hand.urdf -o joints.csv
    hggt retarget out_bag --mode gripper --gripper-joints panda_finger_joint1 -o joints_bag
"""

from __future__ import annotations

import argparse
import logging
from pathlib import Path

import numpy as np

from hggt_core.retarget.dexterous import DexRetargetConfig, DexRetargeter
from hggt_core.retarget.gripper import GripperConfig, GripperRetargeter
from hggt_core.retarget.stream import LOST_POLICIES, ManoJoints, RetargetStream
from hggt_core.retarget.trajectory import (
    HandFrame,
    hands_from_bag,
    hands_from_npz,
    retarget_frames,
    save_csv,
    save_npz,
    write_bag,
)
from hggt_core.retarget.types import Retargeter

_LOG = logging.getLogger(__name__)
_GRIPPER = GripperConfig()


def add_retarget_parser(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Register ``hggt retarget``."""
    parser = commands.add_parser(
        "retarget",
        help="robot hand (or gripper) joint targets from hand results or a bag",
        description="Input: an `hggt infer` results.npz, or a rosbag2 with /hand/mano. "
        "Output by its name: .npz, .csv, or else a new rosbag2 with the JointState topic.",
    )
    parser.add_argument("input", type=Path, help="results .npz or rosbag2 (folder or file)")
    parser.add_argument("-o", "--output", type=Path, default=Path("joint_trajectory.npz"))
    parser.add_argument("--mode", choices=("dexterous", "gripper"), default="dexterous")
    parser.add_argument("--config", type=Path, help="retargeting config (dexterous mode)")
    parser.add_argument(
        "--urdf", help="robot URDF (path or pkg://package/path); default: config's"
    )
    parser.add_argument("--side", choices=("right", "left"), default="right", help="human hand")
    parser.add_argument("--scaling", type=float, help="robot / human size; default: config's")
    parser.add_argument("--low-pass-alpha", type=float, help="(0, 1], 1: off; default: config's")
    parser.add_argument("--no-warm-start", action="store_true", help="solve each frame afresh")
    parser.add_argument("--lost-policy", choices=LOST_POLICIES, default="hold")
    parser.add_argument("--min-score", type=float, default=0.0, help="bag: weaker hands are lost")
    parser.add_argument("--mano-dir", type=Path, help="bag: MANO_RIGHT/LEFT folder")
    parser.add_argument("--topic", default="/retarget/joint_states", help="output bag topic")
    group = parser.add_argument_group("gripper mode")
    group.add_argument("--gripper-joints", nargs="+", default=list(_GRIPPER.joint_names))
    group.add_argument("--gripper-open-m", type=float, default=_GRIPPER.open_m)
    group.add_argument("--gripper-closed-m", type=float, default=_GRIPPER.closed_m)
    group.add_argument("--pinch-open-m", type=float, default=_GRIPPER.pinch_open_m)
    group.add_argument("--pinch-closed-m", type=float, default=_GRIPPER.pinch_closed_m)
    group.add_argument("--joint-scale", type=float, default=_GRIPPER.joint_scale)
    parser.add_argument("-v", "--verbose", action="store_true", help="log progress details")
    parser.set_defaults(run=run_retarget, pipeline=False)


def build_retargeter(args: argparse.Namespace) -> Retargeter:
    """The retargeter the arguments ask for."""
    if args.mode == "gripper":
        return GripperRetargeter(
            GripperConfig(
                joint_names=tuple(args.gripper_joints),
                closed_m=args.gripper_closed_m,
                open_m=args.gripper_open_m,
                pinch_closed_m=args.pinch_closed_m,
                pinch_open_m=args.pinch_open_m,
                joint_scale=args.joint_scale,
                low_pass_alpha=args.low_pass_alpha or 1.0,
            )
        )
    if args.config is None:
        raise ValueError("dexterous mode needs --config (e.g. config/retarget/*.yaml)")
    return DexRetargeter(
        DexRetargetConfig(
            config=args.config,
            urdf=args.urdf,
            hand_side=args.side,
            scaling=args.scaling,
            low_pass_alpha=args.low_pass_alpha,
            warm_start=not args.no_warm_start,
        )
    )


def _frames(args: argparse.Namespace) -> list[HandFrame]:
    if args.input.suffix == ".npz":
        return hands_from_npz(args.input, args.side)
    # Imported here: the MANO layers need torch, which an npz input does not.
    from hggt_core.mano.layer import ManoLayer, mano_layers_from_dir
    from hggt_core.mano.synthetic import make_synthetic_mano

    if args.mano_dir is not None:
        right, left = mano_layers_from_dir(args.mano_dir)
    else:
        _LOG.warning("no --mano-dir: posing /hand/mano with the procedural stand-in hand")
        right, left = (ManoLayer(make_synthetic_mano(side)) for side in ("right", "left"))
    mano = ManoJoints({"right": right, "left": left})
    return list(hands_from_bag(args.input, args.side, mano, args.min_score))


def run_retarget(args: argparse.Namespace) -> int:
    """Retarget every frame of the input and write the trajectory; returns 0."""
    output: Path = args.output
    if output.exists() and output.suffix not in (".npz", ".csv"):
        raise ValueError(f"{output} exists; choose another output bag")
    stream = RetargetStream(build_retargeter(args), args.lost_policy)
    trajectory = retarget_frames(stream, _frames(args))
    if output.suffix == ".npz":
        save_npz(output, trajectory)
    elif output.suffix == ".csv":
        save_csv(output, trajectory)
    else:
        write_bag(output, trajectory, args.topic)
    stats = stream.stats()
    solved = trajectory.solve_time_s[~np.isnan(trajectory.solve_time_s)]
    median_ms = 1e3 * float(np.median(solved)) if solved.size else 0.0
    print(
        f"{len(trajectory.stamps_ns)} frames ({stats.solved} solved, {stats.lost} without the "
        f"{args.side} hand), median solve {median_ms:.2f} ms -> {output}"
    )
    return 0
