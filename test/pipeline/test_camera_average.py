# Copyright 2026 The HGGT-ROS Authors
# SPDX-License-Identifier: Apache-2.0
"""Tests of the converged camera-pose averager behind the node's /tf_static."""

import math

import numpy as np
import pytest

from hggt_core.pipeline.camera_average import (
    AverageConfig,
    CameraPoseAverager,
    mean_quaternion,
    quaternion_angles,
)


def _z_rotation(angle_rad: float) -> np.ndarray:
    """Quaternion (x, y, z, w) of a rotation by ``angle_rad`` about z."""
    return np.array([0.0, 0.0, math.sin(angle_rad / 2), math.cos(angle_rad / 2)])


def test_mean_quaternion_of_symmetric_rotations_is_their_midpoint() -> None:
    mean = mean_quaternion([_z_rotation(0.3 + 0.1), -_z_rotation(0.3 - 0.1)])
    np.testing.assert_allclose(mean, _z_rotation(0.3), atol=1e-12)
    assert mean[3] >= 0


def test_quaternion_angles_ignore_sign() -> None:
    angles = quaternion_angles(np.stack([_z_rotation(0.5), -_z_rotation(0.5)]), _z_rotation(0.2))
    np.testing.assert_allclose(angles, [0.3, 0.3], atol=1e-12)


def test_constant_pose_converges_once_the_window_is_full() -> None:
    averager = CameraPoseAverager(AverageConfig(window=4))
    q = _z_rotation(1.0)
    states = [averager.add("hggt/cam1", [0.1, -0.2, 0.3], q) for _ in range(4)]
    assert [s.converged for s in states] == [False, False, False, True]
    final = states[-1]
    np.testing.assert_allclose(final.translation, [0.1, -0.2, 0.3], atol=1e-15)
    np.testing.assert_allclose(final.quaternion_xyzw, q, atol=1e-12)
    assert final.samples == 4
    assert final.translation_spread_m == pytest.approx(0.0, abs=1e-12)
    assert final.rotation_spread_rad == pytest.approx(0.0, abs=1e-6)


def test_noise_within_tolerance_converges_to_the_mean() -> None:
    rng = np.random.default_rng(0)
    config = AverageConfig(window=50, max_translation_spread_m=0.01, max_rotation_spread_rad=0.05)
    averager = CameraPoseAverager(config)
    for _ in range(50):
        translation = np.array([0.5, 0.0, 0.1]) + rng.uniform(-0.004, 0.004, 3)
        quaternion = _z_rotation(0.7 + rng.uniform(-0.02, 0.02)) * rng.choice([-1.0, 1.0])
        state = averager.add("cam", translation, quaternion)
    assert state.converged
    np.testing.assert_allclose(state.translation, [0.5, 0.0, 0.1], atol=0.002)
    assert quaternion_angles(state.quaternion_xyzw[None], _z_rotation(0.7))[0] < 0.01


def test_an_outlier_blocks_convergence_until_it_leaves_the_window() -> None:
    averager = CameraPoseAverager(AverageConfig(window=3, max_translation_spread_m=0.01))
    q = _z_rotation(0.0)
    averager.add("cam", [1.0, 0.0, 0.0], q)  # outlier, 0.5 m away
    assert not averager.add("cam", [0.5, 0.0, 0.0], q).converged
    state = averager.add("cam", [0.5, 0.0, 0.0], q)
    assert not state.converged
    assert state.translation_spread_m == pytest.approx(1.0 / 3.0)
    assert averager.add("cam", [0.5, 0.0, 0.0], q).converged


def test_rotation_spread_blocks_convergence() -> None:
    averager = CameraPoseAverager(AverageConfig(window=2, max_rotation_spread_rad=0.01))
    averager.add("cam", [0.0, 0.0, 0.0], _z_rotation(0.0))
    state = averager.add("cam", [0.0, 0.0, 0.0], _z_rotation(0.1))
    assert state.rotation_spread_rad == pytest.approx(0.05, abs=1e-9)
    assert not state.converged


def test_cameras_are_independent_and_reset() -> None:
    averager = CameraPoseAverager(AverageConfig(window=1))
    averager.add("a", [0.0, 0.0, 0.0], _z_rotation(0.0))
    averager.add("b", [1.0, 0.0, 0.0], _z_rotation(0.0))
    assert averager.cameras == ("a", "b")
    assert averager.average("b") is not None
    averager.reset("a")
    assert averager.average("a") is None
    assert averager.cameras == ("b",)
    averager.reset()
    assert averager.cameras == ()


@pytest.mark.parametrize(
    ("translation", "quaternion"),
    [([0.0, 0.0], [0.0, 0.0, 0.0, 1.0]), ([0.0, 0.0, math.nan], [0.0, 0.0, 0.0, 1.0]),
     ([0.0, 0.0, 0.0], [0.0, 0.0, 0.0, 0.0])],
)  # fmt: skip
def test_bad_samples_are_rejected(translation: list[float], quaternion: list[float]) -> None:
    with pytest.raises(ValueError):
        CameraPoseAverager().add("cam", translation, quaternion)


@pytest.mark.parametrize(
    "kwargs",
    [{"window": 0}, {"window": 2.0}, {"max_translation_spread_m": -1.0},
     {"max_rotation_spread_rad": "x"}],
)  # fmt: skip
def test_config_rejects_bad_values(kwargs: dict[str, object]) -> None:
    with pytest.raises(ValueError, match="AverageConfig"):
        AverageConfig(**kwargs)  # type: ignore[arg-type]
