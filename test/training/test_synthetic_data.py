# Copyright 2026 The HGGT-ROS Authors
# SPDX-License-Identifier: Apache-2.0
"""Tests of the synthetic multi-view set: writer -> POEM reader round trip, seeding, shards."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch

from hggt_core.mano.layer import ManoLayer
from hggt_core.mano.synthetic import make_synthetic_mano
from hggt_core.render.scene_config import SceneConfig
from training.data.augment import AugmentConfig
from training.data.poem import PoemReaderConfig, parse_poem_sample
from training.data.shards import iter_tar_samples, load_label
from training.data.synthetic import (
    render_synthetic_sample,
    synthetic_dataset,
    write_synthetic_shards,
)
from training.data.views import build_sample

_SCENE = SceneConfig(image_size_hw=(96, 128), crop_size=56, supersample=1)
_RANGE = (2, 4)


@pytest.fixture(scope="module")
def layer() -> ManoLayer:
    return ManoLayer(make_synthetic_mano("right"))


@pytest.fixture(scope="module")
def shards(tmp_path_factory: pytest.TempPathFactory, layer: ManoLayer) -> list[Path]:
    out = tmp_path_factory.mktemp("synthetic")
    return write_synthetic_shards(out, 5, _RANGE, 7, layer, 2, _SCENE)


def _labels(paths: list[Path]) -> dict[str, bytes]:
    return {key: members["label.pyd"] for path in paths for key, members in iter_tar_samples(path)}


def test_shards_hold_the_requested_samples(shards: list[Path]) -> None:
    assert [p.name for p in shards] == [f"synthetic-{i:06d}.tar" for i in range(3)]
    labels = _labels(shards)
    assert sorted(labels) == [f"{i:08d}" for i in range(5)]
    for path in shards:
        for _, members in iter_tar_samples(path):
            label = load_label(members["label.pyd"])
            views = len(label["cam_intr"])
            assert _RANGE[0] <= views <= _RANGE[1]
            assert sorted(members) == sorted(
                ["label.pyd", *(f"image_{i}.jpg" for i in range(views))]
            )


def test_samples_depend_only_on_seed_and_index(
    shards: list[Path], layer: ManoLayer, tmp_path: Path
) -> None:
    again = write_synthetic_shards(tmp_path, 4, _RANGE, 7, layer, 3, _SCENE)
    first, second = _labels(shards), _labels(again)
    for key in second:
        assert first[key] == second[key]
    other = write_synthetic_shards(tmp_path / "other", 1, _RANGE, 8, layer, 3, _SCENE)
    assert _labels(other)["00000000"] != first["00000000"]


def test_reader_recovers_the_rendered_scene(shards: list[Path], layer: ManoLayer) -> None:
    key, members = next(iter_tar_samples(shards[0]))
    example = render_synthetic_sample(int(key), 7, _RANGE, layer, _SCENE)
    record = parse_poem_sample(key, members, PoemReaderConfig("synthetic"))
    sample = build_sample(
        record,
        np.random.default_rng(0),
        AugmentConfig.evaluation(56),
        views=record.num_views,
        random_first_view=False,
    )
    cams = np.stack([view.cam_from_ref for view in example.views])
    np.testing.assert_allclose(record.cam_from_ref, cams, atol=1e-5)
    # View 0 stays the reference; the other views come in random order.
    assert sample.num_views == len(example.views)
    np.testing.assert_allclose(sample.joints_3d.numpy(), example.joints, atol=1e-5)
    np.testing.assert_allclose(sample.hand_pose.numpy(), example.hand_pose, atol=1e-5)


def test_round_trip_keeps_labels_consistent_after_augmentation(
    shards: list[Path], layer: ManoLayer
) -> None:
    dataset = synthetic_dataset(shards, AugmentConfig(crop_size=112), seed=1)
    samples = list(dataset)
    assert len(samples) == 5
    for sample in samples:
        assert _RANGE[0] <= sample.num_views <= _RANGE[1]
        assert sample.dataset == "synthetic" and sample.has_mano and sample.has_cameras
        height, width = sample.images.shape[-2:]
        assert max(height, width) == 112 and height % 14 == 0 and width % 14 == 0
        k, t = sample.intrinsics.double(), sample.cam_from_ref.double()
        cam = sample.joints_3d.double() @ t[:, :3, :3].transpose(1, 2) + t[:, None, :3, 3]
        uv = (cam[..., :2] / cam[..., 2:]) @ k[:, :2, :2].transpose(1, 2) + k[:, None, :2, 2]
        assert float((uv - sample.joints_2d.double()).abs().max()) < 0.5
        posed = layer.forward_theta(
            sample.hand_pose[None], sample.betas[None], sample.transl[None]
        ).joints[0]
        torch.testing.assert_close(posed, sample.joints_3d, atol=5e-5, rtol=0)


def test_writer_rejects_bad_arguments(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="positive"):
        write_synthetic_shards(tmp_path, 0)
    with pytest.raises(ValueError, match="views_range"):
        write_synthetic_shards(tmp_path, 1, views_range=(3, 2))
