# Copyright 2026 The HGGT-ROS Authors
# SPDX-License-Identifier: Apache-2.0
"""dex-retargeting on the LEAP V1 KAIZEN hand (ghand's URDF) with hands of our MANO layer.

Joint semantics of that hand (ghand's ``GHAND_HAND_JOINTS``): ring id0-3, middle id4-7,
index id8-11, thumb id12-15; per finger the knuckle's side joint, then the knuckle, middle
and distal flexion joints, which flex negatively (towards the palm, -z).
"""

from __future__ import annotations

import dataclasses
from pathlib import Path

import numpy as np
import pytest

from hggt_core.retarget import demo_hands
from hggt_core.retarget.dexterous import DexRetargetConfig, DexRetargeter
from hggt_core.retarget.robot_config import RetargetConfigError
from hggt_core.retarget.robot_model import resolve_urdf, urdf_joints

CONFIGS = Path(__file__).resolve().parents[2] / "config" / "retarget"
DEXPILOT, VECTOR = CONFIGS / "ghand_right_dexpilot.yaml", CONFIGS / "ghand_right_vector.yaml"
FLEXION = {"index": ("id9", "id10", "id11"), "middle": ("id5", "id6", "id7"),
           "ring": ("id1", "id2", "id3")}  # fmt: skip
THUMB = ("id13", "id14", "id15")
TIPS = ["hggt_thumb_tip", "hggt_index_tip", "hggt_middle_tip", "hggt_ring_tip"]
ORIENT = np.array([0.4, -1.1, 2.3])
TRANSL = np.array([0.12, -0.05, 0.63])


@pytest.fixture(scope="module")
def retargeters(dex_available: None) -> dict[str, DexRetargeter]:
    """DexPilot for each human side (the left one mirrored onto the right robot), vector."""
    base = DexRetargetConfig(DEXPILOT, low_pass_alpha=1.0)
    return {
        "right": DexRetargeter(base),
        "left": DexRetargeter(dataclasses.replace(base, hand_side="left")),
        "vector": DexRetargeter(dataclasses.replace(base, config=VECTOR)),
    }


def _solve(retargeter: DexRetargeter, joints: np.ndarray, repeats: int = 3) -> np.ndarray:
    retargeter.reset()
    for _ in range(repeats):  # a few frames of a still hand, as a stream would give
        solution = retargeter(joints)
    return solution.positions


def _flexion(retargeter: DexRetargeter, positions: np.ndarray, joints: tuple[str, ...]) -> float:
    return float(sum(positions[retargeter.joint_names.index(name)] for name in joints))


def test_joint_names_are_the_urdfs(retargeters) -> None:
    right = retargeters["right"]
    urdf = "pkg://ghand/assets/models/urdf/ghand_right.urdf"
    assert sorted(right.joint_names) == sorted(j.name for j in urdf_joints(resolve_urdf(urdf)))
    assert right.joint_limits.shape == (16, 2)
    np.testing.assert_array_equal(right.open_pose, np.zeros(16))


# Vector retargeting matches wrist-to-fingertip vectors only: its fists may swing a finger
# sideways and leave the thumb where it reaches the target.
@pytest.mark.parametrize(
    ("kind", "fist_rad", "reach"), [("right", -2.2, 0.6), ("vector", -1.8, 0.7)]
)
def test_open_hand_is_open_and_fist_closes_every_finger(
    retargeters, joint_models, posed, kind, fist_rad, reach
):
    retargeter = retargeters[kind]
    model = joint_models["right"]
    open_q = _solve(retargeter, posed("right", demo_hands.open_hand(model), ORIENT, TRANSL))
    fist_q = _solve(retargeter, posed("right", demo_hands.fist(model), ORIENT, TRANSL))
    for finger, joints in FLEXION.items():
        assert abs(_flexion(retargeter, open_q, joints)) < 0.3, finger  # near zero, radians
        assert _flexion(retargeter, fist_q, joints) < fist_rad, finger  # over 100 degrees
    if kind == "right":
        assert _flexion(retargeter, fist_q, THUMB) - _flexion(retargeter, open_q, THUMB) < -1.5
    reach_open = retargeter.link_positions(open_q, [*TIPS, "hggt_wrist"])
    reach_fist = retargeter.link_positions(fist_q, [*TIPS, "hggt_wrist"])
    open_m = np.linalg.norm(reach_open[:4] - reach_open[4], axis=1)
    fist_m = np.linalg.norm(reach_fist[:4] - reach_fist[4], axis=1)
    assert np.all(fist_m[1:] < reach * open_m[1:])  # the fingertips come back to the palm


def test_pinch_closes_thumb_and_index_on_the_robot(retargeters, joint_models, posed) -> None:
    retargeter = retargeters["right"]
    model = joint_models["right"]
    pinch = posed("right", demo_hands.pinch(model), ORIENT, TRANSL)
    assert np.linalg.norm(pinch[4] - pinch[8]) < 1e-3  # the human pinch
    tips = retargeter.link_positions(_solve(retargeter, pinch), TIPS)
    assert np.linalg.norm(tips[0] - tips[1]) < 0.005  # within 5 mm on the robot
    assert np.linalg.norm(tips[0] - tips[2]) > 0.03  # the middle finger stays out
    open_tips = retargeter.link_positions(
        _solve(retargeter, posed("right", demo_hands.open_hand(model))), TIPS
    )
    assert np.linalg.norm(open_tips[0] - open_tips[1]) > 0.08


def test_left_hand_is_mirrored_onto_the_right_robot(retargeters, joint_models, posed) -> None:
    for make in (demo_hands.open_hand, demo_hands.fist, demo_hands.pinch):
        right = _solve(retargeters["right"], posed("right", make(joint_models["right"])))
        left_hand = posed("left", make(joint_models["left"]), ORIENT, TRANSL)
        np.testing.assert_allclose(_solve(retargeters["left"], left_hand), right, atol=0.02)


def test_warm_start_filter_and_reset(dex_available, joint_models, posed) -> None:
    model = joint_models["right"]
    fist, flat = (posed("right", make(model)) for make in (demo_hands.fist, demo_hands.open_hand))
    cold = DexRetargeter(DexRetargetConfig(DEXPILOT, low_pass_alpha=1.0, warm_start=False))
    fresh = cold(flat).positions
    cold(fist)
    np.testing.assert_allclose(cold(flat).positions, fresh, atol=1e-9)  # no memory

    smooth = DexRetargeter(DexRetargetConfig(DEXPILOT, low_pass_alpha=0.5))
    sharp = DexRetargeter(DexRetargetConfig(DEXPILOT, low_pass_alpha=1.0))
    first = smooth(flat).positions  # the first sample passes unfiltered
    np.testing.assert_allclose(first, sharp(flat).positions, atol=1e-9)
    second, raw = smooth(fist), sharp(fist)  # the same warm-started solve, filtered or not
    np.testing.assert_allclose(second.positions, first + 0.5 * (raw.positions - first), atol=1e-9)
    assert 0 < second.residual_m < 0.05 and 0 < second.solve_time_s < 1.0
    smooth.reset()
    np.testing.assert_allclose(smooth(flat).positions, fresh, atol=1e-6)  # from the open pose


def test_scaling_override_changes_the_reference(retargeters, joint_models, posed) -> None:
    right = retargeters["right"]
    assert right.scaling == 1.25 and right.kind == "dexpilot"
    joints = posed("right", demo_hands.open_hand(joint_models["right"]))
    reference = right.reference(joints)
    assert reference.shape == (10, 3)  # 6 finger pairs + 4 wrist-to-tip vectors
    np.testing.assert_allclose(
        reference[-3], joints[12] - joints[0] @ np.eye(3) * 0 - joints[0], atol=0.5
    )
    assert reference[-3][0] > 0.15  # wrist -> middle tip along the robot's +x (unscaled)


def test_position_configs_are_supported(retargeters, tmp_path, joint_models, posed) -> None:
    text = (
        DEXPILOT.read_text()
        .replace("type: DexPilot", "type: position\n  target_link_human_indices: [4, 8, 12, 16]")
        .replace("finger_tip_link_names", "target_link_names")
    )
    config = tmp_path / "position.yaml"
    config.write_text(text)
    retargeter = DexRetargeter(DexRetargetConfig(config, low_pass_alpha=1.0))
    joints = posed("right", demo_hands.open_hand(joint_models["right"]))
    reference = retargeter.reference(joints)
    wrist = retargeter.link_positions(retargeter.open_pose, ["hggt_wrist"])[0]
    vectors = retargeters["right"].reference(joints)  # unscaled wrist -> tip vectors
    np.testing.assert_allclose(reference - wrist, 1.25 * vectors[6:], atol=1e-12)
    assert np.isfinite(retargeter(joints).residual_m)


def test_config_errors_are_one_line(dex_available, tmp_path) -> None:
    bad_link = tmp_path / "bad.yaml"
    bad_link.write_text(
        DEXPILOT.read_text().replace("wrist_link_name: hggt_wrist", "wrist_link_name: elbow")
    )
    with pytest.raises(RetargetConfigError, match="elbow") as caught:
        DexRetargeter(DexRetargetConfig(bad_link))
    assert "\n" not in str(caught.value)
    bad_pose = tmp_path / "pose.yaml"
    bad_pose.write_text(DEXPILOT.read_text().replace("open_pose: {}", "open_pose: {knee: 1.0}"))
    with pytest.raises(RetargetConfigError, match="knee"):
        DexRetargeter(DexRetargetConfig(bad_pose))
    with pytest.raises(ValueError, match="low_pass_alpha"):
        DexRetargetConfig(DEXPILOT, low_pass_alpha=0.0)
