# Copyright 2026 The HGGT-ROS Authors
# SPDX-License-Identifier: Apache-2.0
"""Tests of view sampling, re-referencing to the chosen view 0, mirroring and sample building."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from hggt_core.mano.layer import ManoLayer
from hggt_core.mano.synthetic import make_synthetic_mano
from hggt_core.render.scene import render_multiview_example
from hggt_core.render.scene_config import SceneConfig
from training.data.augment import AugmentConfig
from training.data.sample import collate
from training.data.views import (
    VIEW_RANGES,
    MultiViewRecord,
    build_sample,
    choose_views,
    mirror_record,
    rereference,
    view_range,
)

_SCENE = SceneConfig(image_size_hw=(96, 128), crop_size=56, supersample=1)


@pytest.fixture(scope="module")
def right_layer() -> ManoLayer:
    return ManoLayer(make_synthetic_mano("right"))


@pytest.fixture(scope="module")
def record(right_layer: ManoLayer) -> MultiViewRecord:
    example = render_multiview_example(right_layer, np.random.default_rng(4), 5, _SCENE)
    boxes = []
    for view in example.views:
        low, high = view.joints_2d.min(axis=0), view.joints_2d.max(axis=0)
        centre, half = (low + high) / 2, (high - low).max() * 0.7
        boxes.append(np.concatenate([centre - half, centre + half]))
    return MultiViewRecord(
        images=tuple(view.image for view in example.views),
        intrinsics=np.stack([view.intrinsics for view in example.views]),
        cam_from_ref=np.stack([view.cam_from_ref for view in example.views]),
        boxes=np.stack(boxes),
        dataset="DexYCB",
        hand_pose=example.hand_pose,
        betas=example.betas,
        transl=example.transl,
        joints_3d=example.joints,
    )


def _mano_joints(layer: ManoLayer, pose: np.ndarray, betas: np.ndarray, transl: np.ndarray):
    tensors = [torch.as_tensor(a, dtype=torch.float32)[None] for a in (pose, betas, transl)]
    return layer.forward_theta(*tensors).joints[0].double().numpy()


def test_view_ranges_follow_the_paper() -> None:
    assert VIEW_RANGES["synthetic"] == (2, 10)
    assert VIEW_RANGES["ho3d"] == (2, 5)
    for name in ("dexycb", "arctic", "interhand"):
        assert VIEW_RANGES[name] == (2, 8)
    assert VIEW_RANGES["oakink"] == (2, 4)
    assert view_range("HO3D") == (2, 5)
    with pytest.raises(KeyError, match="no view range"):
        view_range("unknown")


def test_choose_views_respects_range_availability_and_first_view() -> None:
    rng = np.random.default_rng(0)
    counts, firsts = set(), set()
    for _ in range(200):
        picked = choose_views(rng, 6, (2, 8))
        assert len(set(picked)) == len(picked) and all(0 <= i < 6 for i in picked)
        counts.add(len(picked))
        firsts.add(picked[0])
    assert counts == {2, 3, 4, 5, 6}
    assert firsts == set(range(6))
    for _ in range(50):
        fixed = choose_views(rng, 6, (2, 4), random_first_view=False)
        assert fixed[0] == 0 and 2 <= len(fixed) <= 4
    assert len(choose_views(rng, 6, 3)) == 3
    with pytest.raises(ValueError, match="at least"):
        choose_views(rng, 2, 3)


def test_rereference_keeps_world_geometry(record: MultiViewRecord, right_layer: ManoLayer) -> None:
    indices = (3, 0, 4)
    moved = rereference(record, indices)
    np.testing.assert_allclose(moved.cam_from_ref[0], np.eye(4), atol=1e-12)
    new_from_old = record.cam_from_ref[3]
    expected = record.joints_3d @ new_from_old[:3, :3].T + new_from_old[:3, 3]
    np.testing.assert_allclose(moved.joints_3d, expected, atol=1e-12)
    for new_index, old_index in enumerate(indices):
        new_cam = moved.cam_from_ref[new_index]
        old_cam = record.cam_from_ref[old_index]
        in_new = moved.joints_3d @ new_cam[:3, :3].T + new_cam[:3, 3]
        in_old = record.joints_3d @ old_cam[:3, :3].T + old_cam[:3, 3]
        np.testing.assert_allclose(in_new, in_old, atol=1e-9)
    # MANO rotates about the rest root: the moved parameters pose the moved joints.
    posed = _mano_joints(right_layer, moved.hand_pose, moved.betas, moved.transl)
    np.testing.assert_allclose(posed, moved.joints_3d, atol=2e-5)


def test_mirror_record_matches_the_left_model_and_is_an_involution(
    record: MultiViewRecord,
) -> None:
    left_layer = ManoLayer(make_synthetic_mano("left"))
    mirrored = mirror_record(record)
    assert mirrored.is_left
    np.testing.assert_allclose(mirrored.joints_3d[:, 0], -record.joints_3d[:, 0])
    posed_left = _mano_joints(left_layer, mirrored.hand_pose, mirrored.betas, mirrored.transl)
    np.testing.assert_allclose(posed_left, mirrored.joints_3d, atol=2e-5)
    width = record.images[1].shape[1]
    np.testing.assert_array_equal(mirrored.images[1], record.images[1][:, ::-1])
    np.testing.assert_allclose(mirrored.intrinsics[1, 0, 2], width - record.intrinsics[1, 0, 2])
    back = mirror_record(mirrored)
    for name in ("intrinsics", "cam_from_ref", "boxes", "hand_pose", "transl", "joints_3d"):
        np.testing.assert_allclose(getattr(back, name), getattr(record, name), atol=1e-12)


def test_build_sample_is_consistent_and_collates(record: MultiViewRecord) -> None:
    augment = AugmentConfig(crop_size=112)
    rng = np.random.default_rng(7)
    samples = [build_sample(record, rng, augment, views=3, crop_hw=(84, 112)) for _ in range(4)]
    for sample in samples:
        assert sample.images.shape == (3, 3, 84, 112)
        assert float(sample.images.min()) >= 0.0 and float(sample.images.max()) <= 1.0
        assert sample.has_mano and sample.has_joints_3d and sample.has_cameras
        assert bool(sample.has_joints_2d.all())
        torch.testing.assert_close(sample.cam_from_ref[0], torch.eye(4))
        k, t = sample.intrinsics.double(), sample.cam_from_ref.double()
        cam = sample.joints_3d.double() @ t[:, :3, :3].transpose(1, 2) + t[:, None, :3, 3]
        uv = (cam[..., :2] / cam[..., 2:]) @ k[:, :2, :2].transpose(1, 2) + k[:, None, :2, 2]
        assert float((uv - sample.joints_2d.double()).abs().max()) < 0.5
    batch = collate(samples)
    assert batch.images.shape == (4, 3, 3, 84, 112)
    drawn = build_sample(record, np.random.default_rng(1), augment)
    assert 2 <= drawn.num_views <= 5
    assert drawn.dataset == "DexYCB"


def test_build_sample_is_reproducible_from_the_seed(record: MultiViewRecord) -> None:
    augment = AugmentConfig(crop_size=56)
    first = build_sample(record, np.random.default_rng(11), augment)
    second = build_sample(record, np.random.default_rng(11), augment)
    torch.testing.assert_close(first.images, second.images)
    torch.testing.assert_close(first.joints_2d, second.joints_2d)
