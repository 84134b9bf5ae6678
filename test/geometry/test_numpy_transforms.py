# Copyright 2026 The HGGT-ROS Authors
# SPDX-License-Identifier: Apache-2.0
"""The numpy twins in hggt_core.geometry.numpy_transforms agree with the torch functions."""

from __future__ import annotations

import cv2
import numpy as np
import pytest
import torch

from hggt_core.geometry import numpy_transforms
from hggt_core.geometry.projection import invert_rigid
from hggt_core.geometry.rotations import matrix_to_quaternion, quaternion_to_matrix


def _random_rotations(rng: np.random.Generator, count: int) -> np.ndarray:
    """[count, 3, 3] float64 rotations, orthonormal to rounding (from unit quaternions)."""
    quaternions = torch.from_numpy(rng.normal(size=(count, 4)))
    return quaternion_to_matrix(quaternions / quaternions.norm(dim=-1, keepdim=True)).numpy()


def _half_turns(rng: np.random.Generator, count: int) -> np.ndarray:
    """[count + 3, 3, 3] rotations by pi: about random axes (2 n n^T - I), then x, y, z."""
    axes = rng.normal(size=(count, 3))
    axes /= np.linalg.norm(axes, axis=-1, keepdims=True)
    random = 2.0 * axes[:, :, None] * axes[:, None, :] - np.eye(3)
    aligned = np.stack([np.diag([1.0, -1.0, -1.0]), np.diag([-1.0, 1.0, -1.0])])
    return np.concatenate([random, aligned, np.diag([-1.0, -1.0, 1.0])[None]])


def test_quaternions_of_rotation_matrices() -> None:
    half_turns = np.stack([np.diag([1.0, -1.0, -1.0]), np.diag([-1.0, 1.0, -1.0]), np.eye(3)])
    np.testing.assert_allclose(
        numpy_transforms.matrix_to_quaternion(half_turns),
        [[1, 0, 0, 0], [0, 1, 0, 0], [0, 0, 0, 1]],
        atol=1e-15,
    )
    vectors = np.random.default_rng(5).normal(scale=1.5, size=(2, 5, 3))
    rotations = np.stack([[cv2.Rodrigues(v)[0] for v in row] for row in vectors])
    quaternions = numpy_transforms.matrix_to_quaternion(rotations)
    assert quaternions.shape == (2, 5, 4) and (quaternions[..., 3] >= 0).all()
    back = quaternion_to_matrix(torch.from_numpy(quaternions)).numpy()
    np.testing.assert_allclose(back, rotations, atol=1e-12)


@pytest.mark.parametrize("kind", ["random", "half_turn"])
def test_matrix_to_quaternion_matches_torch(kind: str) -> None:
    rng = np.random.default_rng(11)
    rotations = _random_rotations(rng, 200) if kind == "random" else _half_turns(rng, 50)
    expected = matrix_to_quaternion(torch.from_numpy(rotations)).numpy()
    actual = numpy_transforms.matrix_to_quaternion(rotations)
    assert actual.dtype == np.float64 and actual.shape == expected.shape
    np.testing.assert_allclose(actual, expected, rtol=0, atol=1e-12)
    assert (actual[:, 3] >= 0).all()
    if kind == "half_turn":
        np.testing.assert_array_equal(actual[:, 3], 0.0)


@pytest.mark.parametrize("rows", [3, 4])
def test_invert_rigid_matches_torch(rows: int) -> None:
    rng = np.random.default_rng(12)
    rotations = np.concatenate([_random_rotations(rng, 20), _half_turns(rng, 2)])  # 25
    transforms = np.zeros((len(rotations), rows, 4))
    transforms[:, :3, :3] = rotations
    transforms[:, :3, 3] = rng.normal(scale=2.0, size=(len(rotations), 3))
    if rows == 4:
        transforms[:, 3, 3] = 1.0
    batched = transforms.reshape(5, 5, rows, 4)
    expected = invert_rigid(torch.from_numpy(batched)).numpy()
    actual = numpy_transforms.invert_rigid(batched)
    assert actual.dtype == np.float64 and actual.shape == (5, 5, rows, 4)
    np.testing.assert_allclose(actual, expected, rtol=0, atol=1e-12)
    single = numpy_transforms.invert_rigid(transforms[7])
    np.testing.assert_allclose(single, expected.reshape(-1, rows, 4)[7], rtol=0, atol=1e-12)
    if rows == 4:
        identities = np.broadcast_to(np.eye(4), actual.shape)
        np.testing.assert_allclose(actual @ batched, identities, rtol=0, atol=1e-12)


def test_shapes_are_checked() -> None:
    with pytest.raises(ValueError, match=r"expected \[\.\.\., 3, 3\] rotation matrices"):
        numpy_transforms.matrix_to_quaternion(np.eye(4))
    with pytest.raises(ValueError, match=r"expected \[\.\.\., 3, 4\] or \[\.\.\., 4, 4\]"):
        numpy_transforms.invert_rigid(np.eye(3))
