# Copyright 2026 The HGGT-ROS Authors
# SPDX-License-Identifier: Apache-2.0
"""Tests of the ROS-free output schema: JointState names and decoder, joint poses, TF specs."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pytest
import torch

from hggt_core.geometry.rotations import quaternion_to_matrix
from hggt_core.io.ros_schema import (
    camera_transforms,
    decode_mano_joint_state,
    hand_joint_poses,
    hand_transforms,
    joints_topic,
    mano_joint_names,
    mano_joint_state,
)
from hggt_core.pipeline.types import HandResult

MakeHandResult = Callable[..., HandResult]


def test_joint_state_names_follow_the_schema() -> None:
    names = mano_joint_names("left")
    assert len(names) == 62 == len(set(names))
    assert names[:4] == ["left_wrist_rx", "left_wrist_ry", "left_wrist_rz", "left_index1_rx"]
    assert names[45:48] == ["left_thumb3_rx", "left_thumb3_ry", "left_thumb3_rz"]
    assert names[48] == "left_beta_0" and names[57] == "left_beta_9"
    assert names[58:] == ["left_transl_x", "left_transl_y", "left_transl_z", "left_score"]
    assert joints_topic("right") == "/hand/right/joints"


def test_joint_state_values_are_the_raw_parameters_right_first(
    make_hand_result: MakeHandResult,
) -> None:
    left, right = make_hand_result("left", seed=1), make_hand_result("right", seed=2)
    names, positions = mano_joint_state([left, right])
    assert names == mano_joint_names("right") + mano_joint_names("left")
    assert all(isinstance(value, float) for value in positions)
    values = dict(zip(names, positions, strict=True))
    assert values["right_index1_ry"] == right.hand_pose[4]
    assert values["left_wrist_rz"] == left.hand_pose[2]
    assert values["right_beta_3"] == right.betas[3]
    assert values["left_transl_z"] == left.transl[2]
    assert values["right_score"] == right.score
    assert mano_joint_state([]) == ([], [])


def test_decoder_round_trips_in_any_order(make_hand_result: MakeHandResult) -> None:
    results = {side: make_hand_result(side, seed=i) for i, side in enumerate(("right", "left"))}
    names, positions = mano_joint_state(list(results.values()))
    order = np.random.default_rng(3).permutation(len(names))
    shuffled_names = [names[i] for i in order] + ["gripper_joint"]
    shuffled_positions = [positions[i] for i in order] + [0.7]
    decoded = decode_mano_joint_state(shuffled_names, shuffled_positions)
    assert set(decoded) == {"right", "left"}
    for side, result in results.items():
        np.testing.assert_allclose(decoded[side].hand_pose, result.hand_pose, rtol=0, atol=1e-12)
        np.testing.assert_allclose(decoded[side].betas, result.betas, rtol=0, atol=1e-12)
        np.testing.assert_allclose(decoded[side].transl, result.transl, rtol=0, atol=1e-12)
        assert decoded[side].score == pytest.approx(result.score, abs=1e-12)
    one_hand = mano_joint_state([results["left"]])
    assert list(decode_mano_joint_state(*one_hand)) == ["left"]
    assert decode_mano_joint_state([], []) == {}


def test_decoder_rejects_incomplete_or_inconsistent_messages(
    make_hand_result: MakeHandResult,
) -> None:
    names, positions = mano_joint_state([make_hand_result("right")])
    with pytest.raises(ValueError, match=r"right hand is missing 1 of 62 names: right_beta_4"):
        index = names.index("right_beta_4")
        decode_mano_joint_state(names[:index] + names[index + 1 :], positions[:-1])
    with pytest.raises(ValueError, match="62 names but 61 positions"):
        decode_mano_joint_state(names, positions[:-1])
    with pytest.raises(ValueError, match=r"repeated JointState names: \['right_score'\]"):
        decode_mano_joint_state([*names, "right_score"], [*positions, 1.0])
    with pytest.raises(ValueError, match="one hand per side"):
        mano_joint_state([make_hand_result("right"), make_hand_result("right", seed=4)])


def test_joint_poses_carry_positions_and_global_rotations(
    make_hand_result: MakeHandResult,
) -> None:
    result = make_hand_result("left")
    poses = hand_joint_poses(result)
    assert poses.shape == (21, 7)
    np.testing.assert_array_equal(poses[:, :3], result.joints)
    np.testing.assert_allclose(np.linalg.norm(poses[:, 3:], axis=1), 1.0, atol=1e-12)
    assert (poses[:, 6] >= 0).all()
    rotations = quaternion_to_matrix(torch.from_numpy(poses[:, 3:])).numpy()
    np.testing.assert_allclose(rotations, result.joint_rotations, atol=1e-6)


def test_camera_transforms_give_each_camera_pose_in_the_reference_frame(
    make_hand_result: MakeHandResult,
) -> None:
    result = make_hand_result("right")
    specs = camera_transforms(result, "cam0_optical", "hggt/", {"cam2": "side_camera_optical"})
    assert [s.child for s in specs] == ["hggt/cam0", "hggt/rig/cam1", "hggt/side_camera_optical"]
    assert {s.parent for s in specs} == {"cam0_optical"}
    assert {s.stamp_ns for s in specs} == {12_500_000_000}
    points_ref = np.array([[0.1, -0.2, 0.6], [0.0, 0.0, 0.0], [-0.3, 0.1, 1.2]])
    for spec, camera in zip(specs, result.cameras, strict=True):
        points_cam = points_ref @ camera.cam_from_ref[:3, :3].T + camera.cam_from_ref[:3, 3]
        rotation = quaternion_to_matrix(torch.from_numpy(spec.quaternion_xyzw)).numpy()
        # TF semantics: p_parent = R p_child + t, so the camera coordinates map back.
        np.testing.assert_allclose(
            points_cam @ rotation.T + spec.translation, points_ref, atol=1e-12
        )
    np.testing.assert_allclose(specs[0].quaternion_xyzw, [0, 0, 0, 1], atol=1e-12)


def test_hand_frames(make_hand_result: MakeHandResult) -> None:
    result = make_hand_result("left")
    wrist_only = hand_transforms(result, "ref", "hggt/")
    assert [s.child for s in wrist_only] == ["hggt/left_wrist"]
    np.testing.assert_array_equal(wrist_only[0].translation, result.joints[0])
    every = hand_transforms(result, "ref", "", all_joints=True)
    assert len(every) == 21 and every[4].child == "left_thumb_tip"
    np.testing.assert_array_equal(every[20].translation, result.joints[20])
