# Copyright 2026 The HGGT-ROS Authors
# SPDX-License-Identifier: Apache-2.0
"""``hggt retarget``: results .npz and /hand/mano bags in; .csv, .npz and JointState bags out."""

from __future__ import annotations

import csv
from pathlib import Path

import numpy as np
import pytest
from rosbags.rosbag2 import Reader, Writer
from rosbags.typesys import Stores, get_typestore
from rosbags.typesys.stores import ros2_jazzy as msgs

from hggt_core.cli import main
from hggt_core.io.exports import save_npz
from hggt_core.io.ros_schema import mano_joint_names
from hggt_core.mano.fit_kinematics import ManoJointModel
from hggt_core.mano.layer import ManoLayer
from hggt_core.mano.synthetic import make_synthetic_mano
from hggt_core.pipeline.types import CropTransform, HandResult, ViewCamera
from hggt_core.retarget import demo_hands

CONFIG = Path(__file__).resolve().parents[2] / "config" / "retarget" / "ghand_right_dexpilot.yaml"
TYPESTORE = get_typestore(Stores.ROS2_JAZZY)
JOINT_STATE = "sensor_msgs/msg/JointState"
CAMERA = ViewCamera("cam0", np.eye(3), np.eye(4), np.zeros((21, 2)), CropTransform(0, 0, 1, 112))
STAMPS = [1_700_000_000_000_000_001 + k * 33_333_333 for k in range(4)]


@pytest.fixture(scope="module")
def model() -> ManoJointModel:
    return ManoJointModel(ManoLayer(make_synthetic_mano("right")))


def _thetas(model: ManoJointModel) -> list[np.ndarray | None]:
    return [demo_hands.open_hand(model), demo_hands.fist(model), None, demo_hands.pinch(model)]


def _results_npz(path: Path, model: ManoJointModel) -> Path:
    results = []
    for stamp, theta in zip(STAMPS, _thetas(model), strict=True):
        if theta is None:
            continue
        params = np.concatenate([theta, np.zeros(13)])
        results.append(
            HandResult(
                stamp_ns=stamp, side="right", score=0.9, hand_pose=theta, betas=np.zeros(10),
                transl=np.zeros(3), vertices=np.zeros((778, 3)),
                joints=model.pose(params).points, joint_rotations=np.tile(np.eye(3), (21, 1, 1)),
                cameras=(CAMERA,), views_used=("cam0",),
            )
        )  # fmt: skip
    save_npz(path, results)
    return path


def _mano_bag(path: Path, model: ManoJointModel) -> Path:
    with Writer(path, version=8) as writer:
        connection = writer.add_connection("/hand/mano", JOINT_STATE, typestore=TYPESTORE)
        for stamp, theta in zip(STAMPS, _thetas(model), strict=True):
            names = [] if theta is None else mano_joint_names("right")
            values = [] if theta is None else [*theta, *np.zeros(13), 0.9]
            sec, nanosec = divmod(stamp, 10**9)
            message = msgs.sensor_msgs__msg__JointState(
                header=msgs.std_msgs__msg__Header(
                    msgs.builtin_interfaces__msg__Time(sec, nanosec), "cam0"
                ),
                name=names, position=np.array(values, dtype=np.float64), velocity=np.zeros(0),
                effort=np.zeros(0),
            )  # fmt: skip
            writer.write(connection, stamp, TYPESTORE.serialize_cdr(message, JOINT_STATE))
    return path


def test_results_npz_to_csv(tmp_path: Path, model, capsys) -> None:
    results = _results_npz(tmp_path / "results.npz", model)
    out = tmp_path / "joints.csv"
    arguments = ["retarget", str(results), "--config", str(CONFIG), "--low-pass-alpha", "1"]
    assert main([*arguments, "-o", str(out)]) == 0
    assert "3 frames (3 solved, 0 without the right hand)" in capsys.readouterr().out
    rows = list(csv.DictReader(out.open()))
    assert [int(row["stamp_ns"]) for row in rows] == [STAMPS[0], STAMPS[1], STAMPS[3]]
    assert {row["state"] for row in rows} == {"tracking"}
    fist = rows[1]
    assert sum(float(fist[j]) for j in ("id9", "id10", "id11")) < -2.2  # index closed
    assert 0 < float(fist["solve_time_s"]) < 1.0 and 0 < float(fist["residual_m"]) < 0.05


def test_bag_to_npz_with_the_lost_policy(tmp_path: Path, model, capsys) -> None:
    bag = _mano_bag(tmp_path / "in_bag", model)
    out = tmp_path / "joints.npz"
    arguments = ["retarget", str(bag), "--config", str(CONFIG), "--lost-policy", "open",
                 "--low-pass-alpha", "1", "-o", str(out)]  # fmt: skip
    assert main(arguments) == 0
    assert "1 without the right hand" in capsys.readouterr().out
    with np.load(out) as data:
        assert data["stamps_ns"].tolist() == STAMPS
        assert data["states"].tolist() == ["tracking", "tracking", "open", "tracking"]
        np.testing.assert_array_equal(data["positions"][2], np.zeros(16))


def test_gripper_mode_into_a_bag(tmp_path: Path, model) -> None:
    bag = _mano_bag(tmp_path / "in_bag", model)
    out = tmp_path / "out_bag"
    arguments = ["retarget", str(bag), "--mode", "gripper", "--gripper-joints", "f1", "f2",
                 "--joint-scale", "0.5", "--topic", "/gripper/joint_states",
                 "-o", str(out)]  # fmt: skip
    assert main(arguments) == 0
    with Reader(out) as reader:
        messages = [TYPESTORE.deserialize_cdr(raw, JOINT_STATE) for _, _, raw in reader.messages()]
        assert reader.connections[0].topic == "/gripper/joint_states"
    assert [m.header.stamp.sec * 10**9 + m.header.stamp.nanosec for m in messages] == STAMPS
    assert list(messages[0].name) == ["f1", "f2"]
    openings = [m.position[0] for m in messages]
    assert openings[0] > 0.025 and openings[2] == openings[1]  # held while lost
    assert openings[3] == 0.0  # the pinch closes it


def test_errors_are_one_line(tmp_path: Path, model, capsys) -> None:
    bag = _mano_bag(tmp_path / "in_bag", model)
    assert main(["retarget", str(bag), "-o", str(tmp_path / "a.csv")]) == 1
    assert "dexterous mode needs --config" in capsys.readouterr().err
    (tmp_path / "taken").mkdir()
    assert main(["retarget", str(bag), "--mode", "gripper", "-o", str(tmp_path / "taken")]) == 1
    assert "exists" in capsys.readouterr().err
    bad = ["retarget", str(bag), "--config", str(CONFIG), "--urdf", "/no/hand.urdf"]
    assert main(bad) == 1
    assert "robot URDF /no/hand.urdf: no such file" in capsys.readouterr().err
