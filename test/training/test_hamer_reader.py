# Copyright 2026 The HGGT-ROS Authors
# SPDX-License-Identifier: Apache-2.0
"""Tests of the HaMeR single-view tar reader on small shards written here."""

from __future__ import annotations

import pickle
import tarfile
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import torch

from hggt_core.pipeline.mirror import mirror_axis_angle
from training.data.augment import AugmentConfig
from training.data.hamer import HamerDataset, HamerReaderConfig, parse_hamer_sample
from training.data.shards import UnsafeLabelError, encode_jpeg, write_tar_sample

_HEIGHT, _WIDTH = 240, 320
_AUGMENT = AugmentConfig(crop_size=112, jitter_prob=0.0, blur_prob=0.0, grayscale_prob=0.0)


def _keypoints(rng: np.random.Generator) -> np.ndarray:
    """21 well-separated points on pixel centres inside the box around (160, 120)."""
    cols, rows = np.meshgrid(np.arange(7) * 16.0 + 112.0, np.arange(3) * 25.0 + 95.0)
    grid = np.stack([cols.ravel(), rows.ravel()], axis=1)
    return grid[rng.permutation(21)] + 0.5


def _hand(rng: np.random.Generator, keypoints: np.ndarray, right: bool) -> dict[str, Any]:
    return {
        "center": np.array([160.0, 120.0], dtype=np.float32),
        "scale": np.array([0.6], dtype=np.float32),
        "keypoints_2d": np.concatenate([keypoints, np.ones((21, 1))], axis=1).astype(np.float32),
        "keypoints_3d": np.concatenate(
            [rng.normal(0, 0.05, size=(21, 3)), np.ones((21, 1))], axis=1
        ).astype(np.float32),
        "hand_pose": rng.normal(0, 0.3, size=48).astype(np.float32),
        "betas": rng.normal(0, 0.5, size=10).astype(np.float32),
        "has_hand_pose": np.array(1.0, dtype=np.float32),
        "has_betas": np.array(1.0, dtype=np.float32),
        "right": np.array(1.0 if right else 0.0, dtype=np.float32),
        "extra_info": {"dataset": "test"},
    }


def _image_with_dots(points: np.ndarray) -> np.ndarray:
    # PNG-free on purpose: the reader must cope with JPEG, so keep dots large and bright.
    image = np.zeros((_HEIGHT, _WIDTH, 3), dtype=np.uint8)
    for u, v in points:
        image[int(v) - 1 : int(v) + 2, int(u) - 1 : int(u) + 2] = 255
    return image


def _blob_centre(image: np.ndarray, near: np.ndarray, radius: int = 3) -> np.ndarray:
    grey = image.astype(np.float64).mean(axis=-1)
    col, row = round(near[0] - 0.5), round(near[1] - 0.5)
    rows = slice(row - radius, row + radius + 1)
    cols = slice(col - radius, col + radius + 1)
    window = grey[rows, cols]
    v, u = np.mgrid[rows, cols]
    weight = window / window.sum()
    return np.array([(weight * (u + 0.5)).sum(), (weight * (v + 0.5)).sum()])


@pytest.fixture
def shard(tmp_path: Path) -> tuple[Path, list[dict[str, Any]]]:
    rng = np.random.default_rng(0)
    keypoints = _keypoints(rng)
    hands = [_hand(rng, keypoints, right=True), _hand(rng, keypoints, right=False)]
    partial = _hand(rng, keypoints, right=True)
    partial["keypoints_2d"][5, 2] = 0.0
    partial["has_betas"] = np.array(0.0, dtype=np.float32)
    image = _image_with_dots(keypoints)
    path = tmp_path / "hamer-000000.tar"
    with tarfile.open(path, "w") as archive:
        members = {"jpg": encode_jpeg(image, 100), "data.pyd": pickle.dumps(hands)}
        write_tar_sample(archive, "img0001", members)
        members = {"jpg": encode_jpeg(image, 100), "data.pyd": pickle.dumps([partial])}
        write_tar_sample(archive, "img0002", members)
    return path, [*hands, partial]


def test_every_hand_becomes_a_single_view_sample(shard: tuple[Path, list]) -> None:
    path, hands = shard
    samples = list(HamerDataset([path], _AUGMENT, shuffle_shards=False))
    assert len(samples) == 3
    for sample in samples:
        assert sample.num_views == 1 and not sample.has_cameras
        torch.testing.assert_close(sample.cam_from_ref[0], torch.eye(4))
        height, width = sample.images.shape[-2:]
        focal = 5000.0 / 256.0 * max(height, width)
        expected_k = torch.tensor([[focal, 0, width / 2], [0, focal, height / 2], [0, 0, 1]])
        torch.testing.assert_close(sample.intrinsics[0], expected_k)
    right, left, partial = samples
    assert right.has_mano and left.has_mano and not partial.has_mano
    assert bool(right.has_joints_2d[0]) and not bool(partial.has_joints_2d[0])
    assert right.has_joints_3d
    np.testing.assert_allclose(right.hand_pose.numpy(), hands[0]["hand_pose"], atol=1e-6)
    np.testing.assert_allclose(
        left.hand_pose.numpy(), mirror_axis_angle(hands[1]["hand_pose"]), atol=1e-6
    )
    np.testing.assert_allclose(
        left.joints_3d[:, 0].numpy(), -hands[1]["keypoints_3d"][:, 0], atol=1e-6
    )
    np.testing.assert_allclose(left.betas.numpy(), hands[1]["betas"], atol=1e-6)


def test_crop_labels_follow_the_image_for_right_and_mirrored_hands(
    shard: tuple[Path, list],
) -> None:
    path, _ = shard
    for sample in list(HamerDataset([path], _AUGMENT, seed=3))[:2]:
        image = (sample.images[0].permute(1, 2, 0).numpy() * 255.0).astype(np.uint8)
        height, width = image.shape[:2]
        checked = 0
        for uv in sample.joints_2d[0].numpy():
            if 5 < uv[0] < width - 5 and 5 < uv[1] < height - 5:
                found = _blob_centre(image, uv)
                assert np.linalg.norm(found - uv) < 0.5
                checked += 1
        assert checked >= 10


def test_unsafe_or_malformed_data_is_refused() -> None:
    class Evil:
        def __reduce__(self) -> tuple[Any, ...]:
            return (eval, ("1 + 1",))

    image = encode_jpeg(np.zeros((8, 8, 3), dtype=np.uint8))
    config = HamerReaderConfig()
    with pytest.raises(UnsafeLabelError):
        parse_hamer_sample("k", {"jpg": image, "data.pyd": pickle.dumps([Evil()])}, config)
    with pytest.raises(ValueError, match="expected 'jpg'"):
        parse_hamer_sample("k", {"data.pyd": pickle.dumps([])}, config)
    with pytest.raises(ValueError, match="center"):
        parse_hamer_sample("k", {"jpg": image, "data.pyd": pickle.dumps([{"scale": 1}])}, config)
