# Copyright 2026 The HGGT-ROS Authors
# SPDX-License-Identifier: Apache-2.0
"""The minimal TF buffer: chains, inverses, static + dynamic edges, replacement, errors."""

import numpy as np
import pytest

from hggt_core.calibration import TransformTree, TransformTreeError
from hggt_core.calibration.rig import CalibrationError


def _rigid(axis: str, angle: float, shift: list[float]) -> np.ndarray:
    cos, sin = np.cos(angle), np.sin(angle)
    i, j = {"x": (1, 2), "y": (2, 0), "z": (0, 1)}[axis]
    transform = np.eye(4)
    transform[[i, i, j, j], [i, j, i, j]] = [cos, -sin, sin, cos]
    transform[:3, 3] = shift
    return transform


BASE_FROM_ARM = _rigid("z", 0.7, [0.3, 0.0, 0.5])
ARM_FROM_CAM0 = _rigid("x", -1.2, [0.0, 0.1, 0.05])
BASE_FROM_CAM1 = _rigid("y", 2.0, [-0.4, 0.6, 1.1])


@pytest.fixture
def tree() -> TransformTree:
    """base_link -> arm -> cam0 (static, dynamic) and base_link -> cam1 (static)."""
    tree = TransformTree()
    tree.set_transform("base_link", "arm", BASE_FROM_ARM, static=False)
    tree.set_transform("/arm", "cam0", ARM_FROM_CAM0, static=True)
    tree.set_transform("base_link", "cam1", BASE_FROM_CAM1, static=True)
    return tree


def test_chains_and_inverse_lookups_compose_the_edges(tree: TransformTree) -> None:
    base_from_cam0 = BASE_FROM_ARM @ ARM_FROM_CAM0
    np.testing.assert_allclose(tree.lookup("base_link", "cam0"), base_from_cam0, atol=1e-12)
    np.testing.assert_allclose(
        tree.lookup("cam0", "base_link"), np.linalg.inv(base_from_cam0), atol=1e-12
    )
    # Across branches: through the common ancestor base_link.
    cam1_from_cam0 = np.linalg.inv(BASE_FROM_CAM1) @ base_from_cam0
    np.testing.assert_allclose(tree.lookup("/cam1", "cam0"), cam1_from_cam0, atol=1e-12)
    # Between a frame and its own descendant the root is not needed.
    np.testing.assert_allclose(tree.lookup("arm", "cam0"), ARM_FROM_CAM0, atol=1e-12)
    np.testing.assert_allclose(tree.lookup("cam0", "cam0"), np.eye(4), atol=1e-12)
    assert tree.frames == frozenset({"base_link", "arm", "cam0", "cam1"})
    assert tree.can_transform("cam1", "cam0") and not tree.can_transform("cam1", "nowhere")


def test_static_and_dynamic_edges_share_the_tree_and_the_latest_replaces(
    tree: TransformTree,
) -> None:
    assert tree.is_static("cam0") and not tree.is_static("arm")
    moved = _rigid("z", -0.2, [0.1, 0.2, 0.3])
    tree.set_transform("base_link", "arm", moved, static=False)  # the arm moves
    np.testing.assert_allclose(tree.lookup("base_link", "cam0"), moved @ ARM_FROM_CAM0, atol=1e-12)
    # A new parent replaces the edge (tf2: one parent per child); cam0 now hangs from cam1.
    tree.set_transform("cam1", "cam0", np.eye(4), static=False)
    np.testing.assert_allclose(tree.lookup("base_link", "cam0"), BASE_FROM_CAM1, atol=1e-12)
    assert not tree.is_static("cam0")
    with pytest.raises(TransformTreeError, match="'base_link' is a root"):
        tree.is_static("base_link")


def test_disconnected_frames_name_their_roots(tree: TransformTree) -> None:
    tree.set_transform("odom", "hand_cam", np.eye(4), static=False)
    assert not tree.can_transform("base_link", "hand_cam")
    with pytest.raises(TransformTreeError) as error:
        tree.lookup("cam0", "hand_cam")
    assert str(error.value) == (
        "frames 'cam0' and 'hand_cam' are not connected: 'cam0' hangs from 'base_link', "
        "'hand_cam' from 'odom'"
    )
    assert isinstance(error.value, CalibrationError)  # the CLI reports it in one line


def test_an_unknown_frame_is_named(tree: TransformTree) -> None:
    with pytest.raises(TransformTreeError, match=r"^unknown frame 'camX' \(known: arm, "):
        tree.lookup("base_link", "/camX")
    assert not TransformTree().can_transform("a", "a")


@pytest.mark.parametrize(
    ("matrix", "message"),
    [
        (np.eye(3), "must be 4x4, got shape \\(3, 3\\)"),
        (np.diag([1.0, 1.0, -1.0, 1.0]), "is not a rigid transform"),
        (np.diag([2.0, 1.0, 1.0, 1.0]), "is not a rigid transform"),
        (np.vstack([np.eye(4)[:3], [0.0, 0.0, 1.0, 1.0]]), "is not a rigid transform"),
        (np.full((4, 4), np.nan), "has non-finite values"),
    ],
    ids=["3x3", "reflection", "scaled", "bottom-row", "nan"],
)
def test_only_rigid_4x4_transforms_are_accepted(matrix: np.ndarray, message: str) -> None:
    with pytest.raises(TransformTreeError, match=f"transform 'base' -> 'cam' {message}"):
        TransformTree().set_transform("base", "cam", matrix, static=True)


def test_loops_self_parents_and_empty_ids_are_refused(tree: TransformTree) -> None:
    with pytest.raises(TransformTreeError, match="would close a loop"):
        tree.set_transform("cam0", "base_link", np.eye(4), static=False)
    with pytest.raises(TransformTreeError, match="its own parent"):
        tree.set_transform("/cam0", "cam0", np.eye(4), static=False)
    with pytest.raises(TransformTreeError, match="is empty"):
        tree.set_transform("/", "cam0", np.eye(4), static=False)
    np.testing.assert_allclose(  # the refused edges left the tree as it was
        tree.lookup("base_link", "cam0"), BASE_FROM_ARM @ ARM_FROM_CAM0, atol=1e-12
    )
