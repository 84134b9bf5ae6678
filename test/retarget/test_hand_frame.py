# Copyright 2026 The HGGT-ROS Authors
# SPDX-License-Identifier: Apache-2.0
"""The wrist frame from the joints, the MANO -> operator -> robot palm rotations, mirroring."""

from __future__ import annotations

import numpy as np
import pytest

from hggt_core.mano.fit_kinematics import so3_exp
from hggt_core.retarget import demo_hands
from hggt_core.retarget.hand_frame import (
    MANO_FROM_OPERATOR,
    PALM_FROM_OPERATOR,
    joints_in_operator_frame,
    joints_in_robot_frame,
    palm_frame,
    robot_from_operator,
)

GHAND_AXES = ("-z", "+y", "+x")
ORIENT = np.array([0.4, -1.1, 2.3])
TRANSL = np.array([0.12, -0.05, 0.63])


def _angle_deg(a: np.ndarray, b: np.ndarray) -> float:
    cos = (np.trace(a.T @ b) - 1.0) / 2.0
    return float(np.degrees(np.arccos(np.clip(cos, -1.0, 1.0))))


def test_mano_hand_at_rest_has_the_documented_operator_axes(joint_models, posed) -> None:
    for side in ("right", "left"):
        points = posed(side, demo_hands.open_hand(joint_models[side]))
        mano_from_op = palm_frame(points) @ PALM_FROM_OPERATOR[side]
        # The documented rotation, up to the fit of the palm plane through 3 joints.
        assert _angle_deg(mano_from_op, MANO_FROM_OPERATOR[side]) < 6.0
        rotated = posed(side, demo_hands.open_hand(joint_models[side]), ORIENT)
        expected = so3_exp(ORIENT)[0] @ MANO_FROM_OPERATOR[side]
        assert _angle_deg(palm_frame(rotated) @ PALM_FROM_OPERATOR[side], expected) < 6.0
        operator = joints_in_operator_frame(points, side)
        assert operator[12, 2] > 0.15  # middle tip: fingers along +z
        assert abs(operator[12, 0]) < 0.02 and abs(operator[9, 1]) < 0.01
        thumb_side = 1.0 if side == "right" else -1.0  # left: y towards the little finger
        assert thumb_side * (operator[8, 1] - operator[20, 1]) > 0.04  # index vs pinky tip


def test_a_fist_curls_out_of_the_palm_along_operator_x(joint_models, posed) -> None:
    operator = joints_in_operator_frame(
        posed("right", demo_hands.fist(joint_models["right"])), "right"
    )
    assert np.all(operator[[8, 12, 16, 20], 0] > 0.03)  # fingertips in front of the palm
    assert np.all(operator[[8, 12, 16, 20], 2] < 0.12)  # and pulled back towards the wrist


def test_operator_frame_ignores_global_pose(joint_models, posed) -> None:
    theta = demo_hands.pinch(joint_models["right"])
    still = joints_in_operator_frame(posed("right", theta), "right")
    moved = joints_in_operator_frame(posed("right", theta, ORIENT, TRANSL), "right")
    np.testing.assert_allclose(moved, still, atol=1e-9)
    rotation = so3_exp(ORIENT)[0]
    camera = posed("right", theta) @ rotation.T + TRANSL  # the same hand seen by a camera
    np.testing.assert_allclose(joints_in_operator_frame(camera, "right"), still, atol=1e-9)


def test_a_left_hand_mirrors_onto_a_right_robot_hand(joint_models, posed) -> None:
    robot_from_op = robot_from_operator(GHAND_AXES)
    for make in (demo_hands.open_hand, demo_hands.fist, demo_hands.pinch):
        right = posed("right", make(joint_models["right"]))
        left = posed("left", make(joint_models["left"]), ORIENT, TRANSL)
        as_right = joints_in_robot_frame(left, "left", robot_from_op, mirror=True)
        np.testing.assert_allclose(
            as_right, joints_in_robot_frame(right, "right", robot_from_op), atol=1e-6
        )
        # Unmirrored, the left hand keeps its own handedness: y (the thumb side) flips.
        own = joints_in_robot_frame(left, "left", robot_from_op)
        np.testing.assert_allclose(own * [1, -1, 1], as_right, atol=1e-6)


def test_robot_from_operator_maps_the_ghand_palm() -> None:
    rotation = robot_from_operator(GHAND_AXES)
    np.testing.assert_array_equal(rotation @ [1, 0, 0], [0, 0, -1])  # out of the palm: -z
    np.testing.assert_array_equal(rotation @ [0, 1, 0], [0, 1, 0])  # thumb side: +y
    np.testing.assert_array_equal(rotation @ [0, 0, 1], [1, 0, 0])  # fingers: +x
    np.testing.assert_array_equal(robot_from_operator(("x", "y", "z")), np.eye(3))


@pytest.mark.parametrize(
    ("axes", "message"),
    [(("+x", "+y"), "3 entries"), (("+x", "+w", "+z"), r"\+x, -x"),
     (("+x", "+x", "+z"), "rotation"), (("-x", "+y", "+z"), "rotation")],
)  # fmt: skip
def test_bad_palm_axes_are_named(axes, message) -> None:
    with pytest.raises(ValueError, match=message):
        robot_from_operator(axes)


def test_palm_frame_rejects_bad_joints() -> None:
    with pytest.raises(ValueError, match=r"\[21, 3\]"):
        palm_frame(np.zeros((20, 3)))
    with pytest.raises(ValueError, match="degenerate"):
        palm_frame(np.zeros((21, 3)))
