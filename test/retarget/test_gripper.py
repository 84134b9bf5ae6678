# Copyright 2026 The HGGT-ROS Authors
# SPDX-License-Identifier: Apache-2.0
"""Pinch distance -> parallel gripper opening, within its limits."""

from __future__ import annotations

import numpy as np
import pytest

from hggt_core.retarget import demo_hands
from hggt_core.retarget.gripper import (
    GripperConfig,
    GripperRetargeter,
    gripper_opening,
    pinch_distance,
)

CONFIG = GripperConfig(
    joint_names=("finger_left", "finger_right"), closed_m=0.002, open_m=0.082,
    pinch_closed_m=0.01, pinch_open_m=0.09, joint_scale=0.5,
)  # fmt: skip


def _hand(gap_m: float) -> np.ndarray:
    joints = np.zeros((21, 3))
    joints[:, 0] = np.linspace(0.0, 0.1, 21)
    joints[4] = [0.05, 0.0, 0.0]
    joints[8] = [0.05, gap_m, 0.0]
    return joints


def test_opening_is_linear_between_the_limits() -> None:
    assert gripper_opening(0.01, CONFIG) == pytest.approx(0.002)
    assert gripper_opening(0.05, CONFIG) == pytest.approx(0.042)
    assert gripper_opening(0.09, CONFIG) == pytest.approx(0.082)
    assert gripper_opening(0.0, CONFIG) == pytest.approx(0.002)  # never below closed
    assert gripper_opening(0.3, CONFIG) == pytest.approx(0.082)  # never beyond open


def test_joint_targets_limits_and_residual() -> None:
    gripper = GripperRetargeter(CONFIG)
    assert gripper.joint_names == ("finger_left", "finger_right")
    np.testing.assert_allclose(gripper.joint_limits, [[0.001, 0.041]] * 2)
    np.testing.assert_allclose(gripper.open_pose, [0.041, 0.041])
    middle = gripper(_hand(0.05))
    np.testing.assert_allclose(middle.positions, [0.021, 0.021])  # half of 0.042 per finger
    assert middle.residual_m == pytest.approx(0.0)
    wide = gripper(_hand(0.15))
    np.testing.assert_allclose(wide.positions, [0.041, 0.041])
    assert wide.residual_m == pytest.approx(0.06)  # how far the request left the limits


def test_pinch_of_mano_hands(joint_models, posed) -> None:
    model = joint_models["right"]
    gripper = GripperRetargeter(GripperConfig())
    assert pinch_distance(posed("right", demo_hands.pinch(model))) < 1e-3
    assert gripper(posed("right", demo_hands.pinch(model))).positions[0] == 0.0
    assert gripper(posed("right", demo_hands.open_hand(model))).positions[0] > 0.05


def test_low_pass_filter_and_reset() -> None:
    gripper = GripperRetargeter(GripperConfig(low_pass_alpha=0.25))
    assert gripper(_hand(0.09)).positions[0] == pytest.approx(0.08)
    assert gripper(_hand(0.0)).positions[0] == pytest.approx(0.06)
    gripper.reset()
    assert gripper(_hand(0.0)).positions[0] == pytest.approx(0.0)


@pytest.mark.parametrize(
    ("changes", "message"),
    [({"joint_names": ()}, "joint_names"), ({"joint_names": ("a", "a")}, "joint_names"),
     ({"closed_m": 0.1}, "closed_m < open_m"), ({"pinch_open_m": 0.0}, "pinch_closed_m"),
     ({"joint_scale": 0.0}, "joint_scale"), ({"low_pass_alpha": 1.5}, "low_pass_alpha")],
)  # fmt: skip
def test_bad_settings_are_named(changes, message) -> None:
    with pytest.raises(ValueError, match=message):
        GripperConfig(**changes)
    with pytest.raises(ValueError, match=r"\[21, 3\]"):
        pinch_distance(np.zeros((5, 3)))
