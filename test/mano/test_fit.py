# Copyright 2026 The HGGT-ROS Authors
# SPDX-License-Identifier: Apache-2.0
"""MANO fitting to 3-D joints (and 2-D landmarks) on the procedural right and left hands."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest
import torch

from hggt_core.mano.fit import ManoFit, ManoFitConfig, ManoFitter, ProjectedView
from hggt_core.mano.fit_kinematics import ManoJointModel, hand_axes, so3_exp, so3_log
from hggt_core.mano.io import ManoModelData
from hggt_core.mano.layer import ManoLayer
from hggt_core.mano.pose_sampling import sample_betas, sample_hand_theta

K = np.array([[600.0, 0.0, 320.0], [0.0, 600.0, 240.0], [0.0, 0.0, 1.0]])
DEPTH = np.array([0.0, 0.0, 0.5])
MIRROR_AXIS = np.tile([1.0, -1.0, -1.0], 16)


@pytest.fixture(scope="module")
def right(right_model: ManoModelData) -> ManoFitter:
    return ManoFitter(ManoLayer(right_model))


@pytest.fixture(scope="module")
def left(left_model: ManoModelData) -> ManoFitter:
    return ManoFitter(ManoLayer(left_model))


def _pose(layer: ManoLayer, theta: np.ndarray, betas: np.ndarray, transl: np.ndarray) -> tuple:
    with torch.inference_mode():
        out = layer.forward_theta(
            *(torch.tensor(a[None], dtype=torch.float32) for a in (theta, betas, transl))
        )
    return out.joints[0].double().numpy(), out.vertices[0].double().numpy()


def _random_hand(fitter: ManoFitter, rng: np.random.Generator) -> tuple:
    theta, betas = sample_hand_theta(fitter.model, rng), sample_betas(rng)
    return (theta, betas, *_pose(fitter.layer, theta, betas, DEPTH + rng.normal(0, 0.05, 3)))


def _rms(a: np.ndarray, b: np.ndarray) -> float:
    return float(np.sqrt(np.mean(np.sum((a - b) ** 2, axis=-1))))


def _project(cam_from_ref: np.ndarray, points: np.ndarray) -> np.ndarray:
    pixels = (points @ cam_from_ref[:3, :3].T + cam_from_ref[:3, 3]) @ K.T
    return pixels[:, :2] / pixels[:, 2:]


@pytest.mark.parametrize("side", ["right", "left"])
def test_joints_only_forward_equals_the_layer(
    side: str, right: ManoFitter, left: ManoFitter
) -> None:
    fitter = right if side == "right" else left
    rng = np.random.default_rng(0)
    for _ in range(3):
        params = np.concatenate([rng.normal(0, 0.6, 48), rng.normal(0, 1.5, 10), DEPTH])
        joints, _ = _pose(fitter.layer, params[:48], params[48:58], params[58:])
        assert np.abs(fitter.model.pose(params).points - joints).max() < 1e-6


def test_jacobian_matches_finite_differences(right: ManoFitter) -> None:
    params = np.concatenate([np.random.default_rng(1).normal(0, 0.5, 58), DEPTH])
    model = right.model
    analytic = model.jacobian(model.pose(params))
    eps = 1e-6
    numeric = np.stack(
        [
            (model.pose(params + eps * e).points - model.pose(params - eps * e).points) / (2 * eps)
            for e in np.eye(61)
        ],
        axis=-1,
    )
    assert np.abs(analytic - numeric).max() < 1e-8


def test_so3_log_inverts_exp_up_to_a_half_turn() -> None:
    rotvecs = np.array([[0.0, 0.0, 0.0], [1e-9, 0, 0], [0.3, -2.0, 1.0], [0, 0, np.pi - 1e-7]])
    rotvecs = np.concatenate([rotvecs, np.random.default_rng(2).normal(0, 1, (20, 3))])
    rotvecs = rotvecs * np.minimum(1.0, 3.1 / np.linalg.norm(rotvecs + 1e-12, axis=1))[:, None]
    matrices, _ = so3_exp(rotvecs)
    assert np.abs(so3_exp(so3_log(matrices))[0] - matrices).max() < 1e-9
    assert np.abs(so3_log(matrices) - rotvecs).max() < 1e-6


@pytest.mark.parametrize("side", ["right", "left"])
def test_cold_fit_recovers_exact_joints(side: str, right: ManoFitter, left: ManoFitter) -> None:
    fitter = right if side == "right" else left
    rng = np.random.default_rng(3)
    for _ in range(4):
        _, _, joints, vertices = _random_hand(fitter, rng)
        fit = fitter.fit(joints)
        assert fit.residual_m < 2e-3
        assert _rms(fit.joints, joints) == pytest.approx(fit.residual_m)
        assert np.linalg.norm(fit.vertices - vertices, axis=-1).mean() < 4e-3
        assert 1 <= fit.iterations <= fitter.config.cold_iterations


def test_result_fields_agree_with_the_layer(right: ManoFitter) -> None:
    _, _, joints, _ = _random_hand(right, np.random.default_rng(4))
    fit = right.fit(joints)
    assert fit.hand_pose.shape == (48,) and fit.betas.shape == (10,) and fit.transl.shape == (3,)
    again, vertices = _pose(right.layer, fit.hand_pose, fit.betas, fit.transl)
    np.testing.assert_allclose(fit.joints, again, atol=1e-7)
    np.testing.assert_allclose(fit.vertices, vertices, atol=1e-7)
    rotations = fit.joint_rotations
    assert rotations.shape == (21, 3, 3)
    np.testing.assert_allclose(
        rotations @ rotations.transpose(0, 2, 1), np.eye(3)[None].repeat(21, 0), atol=1e-5
    )
    np.testing.assert_allclose(rotations[4], rotations[3])  # thumb tip takes thumb3's
    np.testing.assert_allclose(rotations[0], so3_exp(fit.hand_pose[:3])[0], atol=1e-6)


def test_warm_fit_tracks_a_moving_hand_within_its_budget(right: ManoFitter) -> None:
    rng = np.random.default_rng(5)
    start, end = sample_hand_theta(right.model, rng), sample_hand_theta(right.model, rng)
    end[:3] = start[:3] + 0.2
    betas = sample_betas(rng)
    previous: ManoFit | None = None
    for blend in np.linspace(0, 1, 12):
        joints, vertices = _pose(right.layer, (1 - blend) * start + blend * end, betas, DEPTH)
        fit = right.fit(joints, previous=previous)
        config = right.config
        assert fit.iterations <= (config.cold_iterations if previous is None else 3)
        assert fit.residual_m < 2e-3
        assert np.linalg.norm(fit.vertices - vertices, axis=-1).mean() < 4e-3
        previous = fit


def test_warm_start_recovers_from_a_jump(right: ManoFitter) -> None:
    rng = np.random.default_rng(6)
    _, _, first, _ = _random_hand(right, rng)
    _, _, second, _ = _random_hand(right, rng)
    fit = right.fit(second, previous=right.fit(first))
    assert fit.iterations <= right.config.warm_iterations
    assert fit.residual_m < 3e-3


def test_open_hand_fits_near_the_mean_pose(right: ManoFitter) -> None:
    theta = np.zeros(48)
    theta[:3] = [0.4, -1.0, 2.0]
    joints, _ = _pose(right.layer, theta, np.zeros(10), DEPTH)
    fit = right.fit(joints)
    assert fit.residual_m < 5e-4
    assert np.abs(fit.hand_pose[3:]).max() < 0.05
    np.testing.assert_allclose(fit.hand_pose[:3], theta[:3], atol=1e-3)
    assert np.abs(fit.betas).max() < 0.1


def test_noise_gives_a_plausible_fit(right: ManoFitter) -> None:
    rng = np.random.default_rng(7)
    noise_rms = 0.005 * np.sqrt(3)
    for _ in range(4):
        _, _, joints, _ = _random_hand(right, rng)
        fit = right.fit(joints + rng.normal(0, 0.005, joints.shape))
        assert 0.4 * noise_rms < fit.residual_m < 1.2 * noise_rms
        assert _rms(fit.joints, joints) < noise_rms  # closer to the truth than the targets
        assert np.abs(fit.betas).max() < 3.0


def test_outlier_joint_is_down_weighted(right: ManoFitter) -> None:
    _, _, joints, _ = _random_hand(right, np.random.default_rng(8))
    corrupted = joints.copy()
    corrupted[5] += [0.04, 0.0, 0.0]  # index knuckle 4 cm off: pulls palm and shape
    others = np.arange(21) != 5
    robust = _rms(right.fit(corrupted).joints[others], joints[others])
    quadratic = ManoFitter(right.layer, replace(right.config, robust_scale_m=1.0))
    assert robust < 3e-3
    assert robust < 0.7 * _rms(quadratic.fit(corrupted).joints[others], joints[others])


def test_missing_joints_may_be_nan(right: ManoFitter) -> None:
    _, _, joints, _ = _random_hand(right, np.random.default_rng(9))
    missing = [6, 14]  # index2, ring2: placed by the bones around them
    weights = np.ones(21)
    weights[missing] = 0.0
    targets = joints.copy()
    targets[missing] = np.nan
    fit = right.fit(targets, weights)
    assert np.isfinite(fit.vertices).all()
    assert fit.residual_m < 2e-3
    assert np.linalg.norm(fit.joints[missing] - joints[missing], axis=-1).max() < 5e-3


def test_left_fit_mirrors_the_right_fit(right: ManoFitter, left: ManoFitter) -> None:
    _, _, joints, _ = _random_hand(right, np.random.default_rng(10))
    mirror = np.array([-1.0, 1.0, 1.0])
    targets = joints + np.random.default_rng(11).normal(0, 0.003, joints.shape)
    fit_right, fit_left = right.fit(targets), left.fit(targets * mirror)
    np.testing.assert_allclose(fit_left.joints, fit_right.joints * mirror, atol=5e-4)
    np.testing.assert_allclose(fit_left.hand_pose, fit_right.hand_pose * MIRROR_AXIS, atol=0.05)
    np.testing.assert_allclose(fit_left.betas, fit_right.betas, atol=0.05)


def test_two_d_term_corrects_a_depth_bias(left: ManoFitter) -> None:
    rng = np.random.default_rng(12)
    cam_from_ref = np.eye(4)
    gains = []
    for _ in range(3):
        _, _, joints, _ = _random_hand(left, rng)
        biased = joints + np.outer(rng.normal(0.01, 0.01, 21), [0.0, 0.0, 1.0])
        view = ProjectedView(_project(cam_from_ref, joints), K, cam_from_ref, np.ones(21))
        errors = [
            np.linalg.norm(_project(cam_from_ref, fit.joints) - view.uv, axis=-1).mean()
            for fit in (left.fit(biased), left.fit(biased, views=[view]))
        ]
        gains.append(errors[1] / errors[0])
    assert max(gains) < 0.75


def test_hyperextension_is_penalised(right: ManoFitter) -> None:
    axes = hand_axes(right.model)
    joint = 5  # middle2, the middle finger's middle joint (MANO order, 1-based)
    theta = np.zeros(48)
    theta[3 * joint : 3 * joint + 3] = -0.8 * axes.flexion[joint - 1]
    theta[3 * joint : 3 * joint + 3] -= right.model.hand_mean[joint - 1]
    joints, _ = _pose(right.layer, theta, np.zeros(10), DEPTH)

    def flexion(fitter: ManoFitter) -> float:
        offset = fitter.fit(joints).hand_pose[3 * joint : 3 * joint + 3]
        return float((offset + right.model.hand_mean[joint - 1]) @ axes.flexion[joint - 1])

    free = ManoFitter(right.layer, replace(right.config, hyperextension_weight=0.0))
    assert flexion(free) == pytest.approx(-0.8, abs=0.05)
    assert flexion(right) > -0.55


def test_iteration_budget_is_respected(right: ManoFitter) -> None:
    _, _, joints, _ = _random_hand(right, np.random.default_rng(13))
    one = ManoFitter(right.layer, ManoFitConfig(cold_iterations=1, warm_iterations=1))
    cold = one.fit(joints + 0.002)
    assert cold.iterations == 1
    assert one.fit(joints, previous=cold).iterations == 1
    assert right.fit(joints).iterations <= right.config.cold_iterations


def test_hand_axes_flex_towards_the_palm(right: ManoFitter, left: ManoFitter) -> None:
    for fitter in (right, left):
        axes = hand_axes(fitter.model)
        fingers = ~axes.is_thumb
        assert np.count_nonzero(fingers) == 12
        flexion = np.einsum("ki,ki->k", axes.flexion, fitter.model.hand_mean)
        assert (flexion[fingers] > 0).all()  # the relaxed mean pose curls every finger joint
    mirrored = hand_axes(right.model).flexion * [1.0, -1.0, -1.0]  # an axial vector's mirror
    np.testing.assert_allclose(hand_axes(left.model).flexion, mirrored, atol=1e-6)


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda f: f.fit(np.zeros((20, 3))), r"joints: expected shape \[21, 3\]"),
        (lambda f: f.fit(np.full((21, 3), np.nan)), "joints: NaN or inf at rows"),
        (lambda f: f.fit(np.zeros((21, 3)), np.ones(20)), r"weights: expected shape \[21\]"),
        (lambda f: f.fit(np.zeros((21, 3)), -np.ones(21)), "weights: must be >= 0"),
        (lambda f: f.fit(np.zeros((21, 3)), np.eye(21)[0]), "at least 3 joints"),
        (lambda f: f.fit(np.zeros((21, 3)), views=[np.eye(4)]), r"views\[0\]"),
    ],
)
def test_bad_input_is_a_clear_error(right: ManoFitter, call, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        call(right)


def test_bad_view_config_and_layer_are_clear_errors(right_model: ManoModelData) -> None:
    uv = np.zeros((21, 2))
    uv[3] = np.nan
    with pytest.raises(ValueError, match=r"ProjectedView.uv: NaN or inf at rows \[3\]"):
        ProjectedView(uv, K, np.eye(4), np.ones(21))
    ProjectedView(uv, K, np.eye(4), 1.0 - np.eye(21)[3])  # NaN where unused is fine
    with pytest.raises(ValueError, match=r"ProjectedView.intrinsics: expected shape \[3, 3\]"):
        ProjectedView(np.zeros((21, 2)), np.eye(4), np.eye(4), np.ones(21))
    with pytest.raises(ValueError, match="iterations must be >= 1"):
        ManoFitConfig(cold_iterations=0)
    with pytest.raises(ValueError, match="shape_prior_weight must be >= 0"):
        ManoFitConfig(shape_prior_weight=-1.0)
    with pytest.raises(ValueError, match="use_pca=False"):
        ManoJointModel(ManoLayer(right_model, use_pca=True))


def test_sampled_poses_are_plausible(left: ManoFitter) -> None:
    rng = np.random.default_rng(14)
    axes = hand_axes(left.model)
    thetas = np.stack([sample_hand_theta(left.model, rng) for _ in range(50)])
    local = thetas[:, 3:].reshape(50, 15, 3) + left.model.hand_mean
    flexion = np.einsum("nki,ki->nk", local, axes.flexion)[:, ~axes.is_thumb]
    assert flexion.min() >= -0.2 - 1e-9 and flexion.max() <= 1.5 + 1e-9
    assert flexion.std() > 0.3  # poses vary
    assert np.abs(sample_betas(rng, limit=2.0)).max() <= 2.0
