# Copyright 2026 The HGGT-ROS Authors
# SPDX-License-Identifier: Apache-2.0
"""The procedural MANO model: counts, mesh quality, normalisation, tips, size, determinism."""

from __future__ import annotations

from collections import Counter

import numpy as np
import pytest

from hggt_core.base.hand_skeleton import MANO_PARENTS, FingertipConvention, fingertip_vertex_ids
from hggt_core.mano.io import ManoModelData
from hggt_core.mano.synthetic import make_synthetic_mano
from hggt_core.mano.synthetic_mesh import FINGERS_MANO_ORDER, build_right_hand_mesh


@pytest.fixture(scope="module")
def right() -> ManoModelData:
    return make_synthetic_mano("right")


def _directed_edges(faces: np.ndarray) -> Counter[tuple[int, int]]:
    return Counter(
        (int(a), int(b)) for f in faces for a, b in ((f[0], f[1]), (f[1], f[2]), (f[2], f[0]))
    )


def test_shapes_and_counts(right: ManoModelData) -> None:
    assert right.v_template.shape == (778, 3)
    assert right.faces.shape == (1538, 3)
    assert right.shapedirs.shape == (778, 3, 10)
    assert right.posedirs.shape == (778, 3, 135)
    assert right.J_regressor.shape == (16, 778)
    assert right.weights.shape == (778, 16)
    assert right.hands_components.shape == (45, 45)
    assert right.hands_mean.shape == (45,)
    assert tuple(right.kintree_table[0, 1:]) == MANO_PARENTS[1:]
    assert tuple(right.kintree_table[1]) == tuple(range(16))


def test_mesh_is_a_clean_surface_open_only_at_the_wrist(right: ManoModelData) -> None:
    faces = right.faces
    assert faces.min() == 0 and faces.max() == 777
    assert len(np.unique(faces)) == 778  # every vertex is used
    assert np.all(faces[:, 0] != faces[:, 1]) and np.all(faces[:, 1] != faces[:, 2])
    assert np.all(faces[:, 0] != faces[:, 2])
    v = right.v_template
    areas = 0.5 * np.linalg.norm(
        np.cross(v[faces[:, 1]] - v[faces[:, 0]], v[faces[:, 2]] - v[faces[:, 0]]), axis=1
    )
    assert areas.min() > 1e-6  # > 1 mm^2
    directed = _directed_edges(faces)
    assert max(directed.values()) == 1  # consistently oriented, manifold
    boundary = [e for e in directed if (e[1], e[0]) not in directed]
    assert len(boundary) == 16  # the wrist opening, like real MANO
    # Outward normals: the volume enclosed (wrist capped at its centroid) is positive.
    centre = v[np.unique(np.array(boundary))].mean(axis=0)
    a, b, c = (v[faces[:, k]] - centre for k in range(3))
    volume = np.einsum("ij,ij->i", a, np.cross(b, c)).sum() / 6.0
    assert 1e-4 < volume < 6e-4  # 100..600 cm^3


def test_weights_and_regressor_are_normalised(right: ManoModelData) -> None:
    np.testing.assert_allclose(right.weights.sum(axis=1), 1.0, atol=1e-12)
    assert right.weights.min() >= 0.0
    np.testing.assert_allclose(right.J_regressor.sum(axis=1), 1.0, atol=1e-12)
    assert right.J_regressor.min() >= 0.0


def test_regressor_reproduces_the_skeleton_from_nearby_vertices(right: ManoModelData) -> None:
    skeleton = build_right_hand_mesh().joints
    np.testing.assert_allclose(right.J_regressor @ right.v_template, skeleton, atol=1e-9)
    for joint in range(16):
        used = right.J_regressor[joint] > 0
        distance = np.linalg.norm(right.v_template[used] - skeleton[joint], axis=1)
        assert distance.max() < 0.06


def test_skinning_falls_off_smoothly_along_a_finger(right: ManoModelData) -> None:
    mesh = build_right_hand_mesh()
    index = FINGERS_MANO_ORDER.index("index")
    on_index = np.flatnonzero(mesh.finger == index)
    s = (right.v_template[on_index] - mesh.joints[1]) @ mesh.directions[index]
    order = np.argsort(s)
    w = right.weights[on_index[order]]
    # Joint 1's influence rises then falls; joint 3 increases monotonically to the tip.
    assert np.all(np.diff(w[:, 3]) >= -1e-12)
    peak = np.argmax(w[:, 1])
    assert w[peak, 1] == pytest.approx(1.0)
    assert w[0, 1] > 0.0 and w[-1, 1] == 0.0
    assert np.all(w[:, 4:].sum(axis=1) == 0.0)  # no other finger moves it


@pytest.mark.parametrize("convention", list(FingertipConvention))
def test_tips_are_the_extreme_ends_of_their_fingers(
    right: ManoModelData, convention: FingertipConvention
) -> None:
    mesh = build_right_hand_mesh()
    names = ("thumb", "index", "middle", "ring", "pinky")
    for name, tip in zip(names, fingertip_vertex_ids(convention), strict=True):
        f = FINGERS_MANO_ORDER.index(name)
        assert mesh.finger[tip] == f, name
        s = (right.v_template - mesh.joints[1 + 3 * f]) @ mesh.directions[f]
        finger_s = s[mesh.finger == f]
        assert finger_s.max() - s[tip] < 0.0015, name  # within 1.5 mm of the very tip


def test_hand_size_is_plausible(right: ManoModelData) -> None:
    wrist = right.J_regressor[0] @ right.v_template
    middle_tip = right.v_template[fingertip_vertex_ids()[2]]
    assert 0.15 < np.linalg.norm(middle_tip - wrist) < 0.20
    extent = np.ptp(right.v_template, axis=0)
    assert np.all(extent > 0.04) and np.all(extent < 0.25)


def test_pose_space(right: ManoModelData) -> None:
    components = right.hands_components
    np.testing.assert_allclose(components @ components.T, np.eye(45), atol=1e-12)
    mean = right.hands_mean.reshape(15, 3)
    assert np.all(np.linalg.norm(mean, axis=1) < 0.5)
    assert np.all(mean[:12, 2] > 0.0)  # relaxed fingers flex towards the palm


def test_blend_shapes_are_small_and_meaningful(right: ManoModelData) -> None:
    assert 0.001 < np.abs(right.shapedirs).max() < 0.02
    assert 0.0 < np.abs(right.posedirs).max() < 0.01
    wrist = right.J_regressor[0] @ right.v_template
    np.testing.assert_allclose(
        right.shapedirs[:, :, 0], 0.03 * (right.v_template - wrist), atol=1e-15
    )


def test_left_is_the_mirror_of_the_right(right: ManoModelData) -> None:
    left = make_synthetic_mano("left")
    np.testing.assert_array_equal(left.v_template, right.v_template * [-1.0, 1.0, 1.0])
    np.testing.assert_array_equal(left.faces, right.faces[:, ::-1])
    np.testing.assert_array_equal(left.shapedirs[:, 0], -right.shapedirs[:, 0])
    np.testing.assert_array_equal(left.weights, right.weights)
    assert left.side == "left"
    buggy = make_synthetic_mano("left", left_shapedirs_bug=True)
    np.testing.assert_array_equal(buggy.shapedirs, right.shapedirs)


def test_deterministic(right: ManoModelData) -> None:
    again = make_synthetic_mano("right")
    for field in ("v_template", "shapedirs", "posedirs", "J_regressor", "hands_components"):
        np.testing.assert_array_equal(getattr(again, field), getattr(right, field))
