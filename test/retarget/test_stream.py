# Copyright 2026 The HGGT-ROS Authors
# SPDX-License-Identifier: Apache-2.0
"""A hand side over time: stamps kept, lost hands held or opened, statistics."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from hggt_core.io.ros_schema import ManoParameters
from hggt_core.mano.fit_kinematics import ManoJointModel
from hggt_core.mano.layer import ManoLayer
from hggt_core.mano.synthetic import make_synthetic_mano
from hggt_core.retarget import demo_hands
from hggt_core.retarget.stream import ManoJoints, RetargetStream
from hggt_core.retarget.types import RetargetSolution


class Recorder:
    """A retargeter whose targets are the wrist's x, solved in 2 ms."""

    joint_names = ("a", "b")
    open_pose = np.array([0.5, -0.5])

    def __init__(self) -> None:
        self.resets = 0

    def __call__(self, joints: np.ndarray) -> RetargetSolution:
        return RetargetSolution(np.full(2, joints[0, 0]), 0.002, 0.001)

    def reset(self) -> None:
        self.resets += 1


def _hand(x: float) -> np.ndarray:
    return np.full((21, 3), x)


def test_hold_repeats_the_last_targets_with_the_new_stamp() -> None:
    stream = RetargetStream(Recorder(), "hold")
    first = stream.lose(10)  # nothing seen yet: the open pose
    assert first.state == "open" and first.stamp_ns == 10
    np.testing.assert_array_equal(first.positions, [0.5, -0.5])
    tracked = stream.update(20, _hand(0.25))
    assert (tracked.state, tracked.stamp_ns, tracked.solve_time_s) == ("tracking", 20, 0.002)
    held = stream.update(30, None)
    assert held.state == "held" and held.stamp_ns == 30 and held.solve_time_s is None
    np.testing.assert_array_equal(held.positions, [0.25, 0.25])
    stats = stream.stats()
    assert (stats.solved, stats.lost, stats.state) == (1, 2, "held")
    assert stats.median_solve_time_s == 0.002 and stats.last_residual_m == 0.001


def test_open_sends_the_open_pose_and_restarts_once() -> None:
    recorder = Recorder()
    stream = RetargetStream(recorder, "open")
    stream.update(1, _hand(0.3))
    for stamp in (2, 3):
        lost = stream.update(stamp, None)
        assert lost.state == "open" and lost.stamp_ns == stamp
        np.testing.assert_array_equal(lost.positions, [0.5, -0.5])
    assert recorder.resets == 1  # once per loss, not per frameset
    assert stream.update(4, _hand(0.1)).state == "tracking"


def test_unknown_policy() -> None:
    with pytest.raises(ValueError, match="lost_policy"):
        RetargetStream(Recorder(), "drop")  # type: ignore[arg-type]


def test_mano_joints_equal_the_layer() -> None:
    layers = {side: ManoLayer(make_synthetic_mano(side)) for side in ("right", "left")}
    mano = ManoJoints(layers)
    theta = demo_hands.fist(ManoJointModel(layers["left"])) + 0.05
    hand = ManoParameters(theta, np.linspace(-1, 1, 10), np.array([0.1, 0.0, 0.5]), 0.9)
    expected = (
        layers["left"]
        .forward_theta(
            torch.tensor(theta[None], dtype=torch.float32),
            torch.tensor(hand.betas[None], dtype=torch.float32),
            torch.tensor(hand.transl[None], dtype=torch.float32),
        )
        .joints[0]
    )
    np.testing.assert_allclose(mano("left", hand), expected.numpy(), atol=1e-5)
    with pytest.raises(ValueError, match="no MANO layer"):
        ManoJoints({"right": layers["right"]})("left", hand)
