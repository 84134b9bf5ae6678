# Copyright 2026 The HGGT-ROS Authors
# SPDX-License-Identifier: Apache-2.0
"""Offline inputs (results .npz, /hand/mano bags) and outputs (.npz, .csv, JointState bags)."""

from __future__ import annotations

import csv
from pathlib import Path

import numpy as np
import pytest
from rosbags.rosbag2 import Reader, Writer
from rosbags.typesys import Stores, get_typestore
from rosbags.typesys.stores import ros2_jazzy as msgs

from hggt_core.io.ros_schema import mano_joint_names
from hggt_core.mano.layer import ManoLayer
from hggt_core.mano.synthetic import make_synthetic_mano
from hggt_core.retarget import demo_hands
from hggt_core.retarget.gripper import GripperConfig, GripperRetargeter
from hggt_core.retarget.stream import ManoJoints, RetargetStream
from hggt_core.retarget.trajectory import (
    JOINT_STATE_TYPE,
    hands_from_bag,
    retarget_frames,
    save_csv,
    save_npz,
    write_bag,
)

STAMPS = (1_700_000_000_123_456_789, 1_700_000_000_156_789_123, 1_700_000_000_190_000_001)


def _mano_bag(path: Path, joint_models) -> None:
    """Frameset 0: right pinch; 1: no hands; 2: right open hand, score 0.2, and a left hand."""
    typestore = get_typestore(Stores.ROS2_JAZZY)

    def hand(side: str, theta: np.ndarray, score: float) -> tuple[list[str], list[float]]:
        values = [*theta, *np.zeros(10), 0.0, 0.0, 0.5, score]
        return mano_joint_names(side), [float(v) for v in values]

    right, left = joint_models["right"], joint_models["left"]
    contents = [
        hand("right", demo_hands.pinch(right), 0.9),
        ([], []),
        tuple(a + b for a, b in zip(hand("right", demo_hands.open_hand(right), 0.2),
                                    hand("left", demo_hands.open_hand(left), 0.9), strict=True)),
    ]  # fmt: skip
    with Writer(path, version=8) as writer:
        connection = writer.add_connection("/hand/mano", JOINT_STATE_TYPE, typestore=typestore)
        for stamp, (names, positions) in zip(STAMPS, contents, strict=True):
            sec, nanosec = divmod(stamp, 1_000_000_000)
            message = msgs.sensor_msgs__msg__JointState(
                header=msgs.std_msgs__msg__Header(
                    msgs.builtin_interfaces__msg__Time(sec, nanosec), "cam0_optical_frame"
                ),
                name=names, position=np.array(positions), velocity=np.zeros(0),
                effort=np.zeros(0),
            )  # fmt: skip
            writer.write(connection, stamp, typestore.serialize_cdr(message, JOINT_STATE_TYPE))


@pytest.fixture(scope="module")
def mano() -> ManoJoints:
    return ManoJoints({side: ManoLayer(make_synthetic_mano(side)) for side in ("right", "left")})


def test_bag_to_trajectory_and_back(tmp_path: Path, joint_models, mano) -> None:
    bag = tmp_path / "in_bag"
    _mano_bag(bag, joint_models)
    frames = list(hands_from_bag(bag, "right", mano, min_score=0.5))
    assert [stamp for stamp, _ in frames] == list(STAMPS)
    assert frames[0][1] is not None and frames[1][1] is None and frames[2][1] is None
    left = list(hands_from_bag(bag, "left", mano))
    assert [joints is None for _, joints in left] == [True, True, False]

    stream = RetargetStream(GripperRetargeter(GripperConfig(joint_names=("g",))), "open")
    trajectory = retarget_frames(stream, frames)
    assert trajectory.states == ("tracking", "open", "open")
    np.testing.assert_allclose(trajectory.positions[:, 0], [0.0, 0.08, 0.08])  # pinch, open
    assert trajectory.stamps_ns.tolist() == list(STAMPS)

    out = tmp_path / "out_bag"
    write_bag(out, trajectory, "/robot/joint_states")
    typestore = get_typestore(Stores.ROS2_JAZZY)
    with Reader(out) as reader:
        (connection,) = reader.connections
        assert (connection.topic, connection.msgtype) == ("/robot/joint_states", JOINT_STATE_TYPE)
        messages = [
            typestore.deserialize_cdr(raw, JOINT_STATE_TYPE) for _, _, raw in reader.messages()
        ]
    stamps = [m.header.stamp.sec * 1_000_000_000 + m.header.stamp.nanosec for m in messages]
    assert stamps == list(STAMPS)  # exact to the nanosecond
    assert [list(m.name) for m in messages] == [["g"]] * 3
    np.testing.assert_allclose([m.position[0] for m in messages], [0.0, 0.08, 0.08])
    with pytest.raises(ValueError, match="exists"):
        write_bag(out, trajectory, "/robot/joint_states")


def test_npz_and_csv(tmp_path: Path, joint_models, mano) -> None:
    bag = tmp_path / "in_bag"
    _mano_bag(bag, joint_models)
    stream = RetargetStream(GripperRetargeter(GripperConfig(joint_names=("a", "b"))), "hold")
    trajectory = retarget_frames(stream, hands_from_bag(bag, "right", mano))
    save_npz(tmp_path / "t.npz", trajectory)
    with np.load(tmp_path / "t.npz") as data:
        assert str(data["format"]) == "hggt_ros.joint_trajectory/1"
        assert data["joint_names"].tolist() == ["a", "b"]
        assert data["stamps_ns"].tolist() == list(STAMPS)
        assert data["states"].tolist() == ["tracking", "held", "tracking"]
        assert data["positions"].shape == (3, 2) and np.isnan(data["solve_time_s"][1])
    save_csv(tmp_path / "t.csv", trajectory)
    rows = list(csv.reader((tmp_path / "t.csv").open()))
    assert rows[0] == ["stamp_ns", "state", "a", "b", "solve_time_s", "residual_m"]
    assert rows[2][:2] == [str(STAMPS[1]), "held"] and rows[2][4:] == ["", ""]
    assert len(rows) == 4


def test_bag_errors(tmp_path: Path, joint_models, mano) -> None:
    with pytest.raises(ValueError, match="no rosbag2"):
        list(hands_from_bag(tmp_path / "missing", "right", mano))
    bag = tmp_path / "in_bag"
    _mano_bag(bag, joint_models)
    with pytest.raises(ValueError, match=r"no /hand/other topic; it has \['/hand/mano'\]"):
        list(hands_from_bag(bag, "right", mano, topic="/hand/other"))
