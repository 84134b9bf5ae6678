# Copyright 2026 The HGGT-ROS Authors
# SPDX-License-Identifier: Apache-2.0
"""The bundled demo example exists, is consistent, and is what the generator renders."""

from __future__ import annotations

import json
from pathlib import Path

import cv2
import numpy as np
import pytest
import torch

from hggt_core.mano.layer import ManoLayer
from hggt_core.mano.synthetic import make_synthetic_mano
from hggt_core.render.demo import (
    CAMERAS_FILE,
    DEMO_JPEG_QUALITY,
    DEMO_NUM_VIEWS,
    GROUND_TRUTH_FILE,
    ExampleGroundTruth,
    demo_example_dir,
    load_ground_truth,
    make_demo_example,
    save_example,
)
from hggt_core.render.scene import render_multiview_example
from hggt_core.render.scene_config import SceneConfig

NAMES = [f"view_{i:02d}" for i in range(DEMO_NUM_VIEWS)]


def _read_rgb(path: Path) -> np.ndarray:
    image = cv2.imread(str(path), cv2.IMREAD_COLOR)
    assert image is not None, path
    return np.asarray(image[:, :, ::-1])


@pytest.fixture(scope="module")
def truth() -> ExampleGroundTruth:
    return load_ground_truth(demo_example_dir())


def test_bundled_files_exist_and_are_small() -> None:
    folder = demo_example_dir()
    files = [folder / f"{name}.jpg" for name in NAMES] + [
        folder / CAMERAS_FILE,
        folder / GROUND_TRUTH_FILE,
    ]
    assert all(path.is_file() for path in files)
    assert sum(path.stat().st_size for path in files) < 500 * 1024
    for name in NAMES:
        assert _read_rgb(folder / f"{name}.jpg").shape == (518, 518, 3)


def test_cameras_json_matches_the_ground_truth(truth: ExampleGroundTruth) -> None:
    cameras = json.loads((demo_example_dir() / CAMERAS_FILE).read_text(encoding="utf-8"))
    assert list(cameras) == NAMES == list(truth.view_names)
    for index, name in enumerate(NAMES):
        np.testing.assert_array_equal(np.array(cameras[name]["K"]), truth.intrinsics[index])


def test_ground_truth_is_self_consistent(truth: ExampleGroundTruth) -> None:
    assert truth.intrinsics.shape == (4, 3, 3) and truth.cam_from_ref.shape == (4, 4, 4)
    np.testing.assert_array_equal(truth.cam_from_ref[0], np.eye(4))
    for index in range(DEMO_NUM_VIEWS):
        cam = truth.joints @ truth.cam_from_ref[index, :3, :3].T + truth.cam_from_ref[index, :3, 3]
        uv = (cam / cam[:, 2:]) @ truth.intrinsics[index].T
        np.testing.assert_allclose(uv[:, :2], truth.joints_2d[index], atol=1e-3)
        assert np.all((truth.joints_2d[index] > 0) & (truth.joints_2d[index] < 518))
    layer = ManoLayer(make_synthetic_mano())
    with torch.no_grad():
        out = layer.forward_theta(
            torch.tensor(truth.hand_pose, dtype=torch.float32)[None],
            torch.tensor(truth.betas, dtype=torch.float32)[None],
            torch.tensor(truth.transl, dtype=torch.float32)[None],
        )
    np.testing.assert_allclose(out.joints[0].numpy(), truth.joints, atol=1e-5)
    np.testing.assert_allclose(out.vertices[0].numpy(), truth.vertices, atol=1e-5)


def test_generator_reproduces_the_bundled_images() -> None:
    example = make_demo_example()
    for view in example.views:
        saved = _read_rgb(demo_example_dir() / f"{view.name}.jpg").astype(float)
        # JPEG at quality 90 drops the background's pixel noise: a few grey levels on average.
        error = np.abs(saved - view.image)
        assert error.mean() < 5.0, view.name
        assert np.quantile(error, 0.99) < 25.0, view.name
        # Encoded the same way, the fresh render gives (nearly) the same file.
        bgr = np.ascontiguousarray(view.image[:, :, ::-1])
        encoded = cv2.imencode(".jpg", bgr, [cv2.IMWRITE_JPEG_QUALITY, DEMO_JPEG_QUALITY])[1]
        again = cv2.imdecode(encoded, cv2.IMREAD_COLOR)[:, :, ::-1].astype(float)
        assert np.abs(saved - again).mean() < 0.5, view.name


def test_save_and_load_round_trip(tmp_path: Path) -> None:
    layer = ManoLayer(make_synthetic_mano())
    config = SceneConfig(image_size_hw=(120, 160), crop_size=56, supersample=1)
    example = render_multiview_example(layer, np.random.default_rng(0), 2, config)
    written = save_example(example, tmp_path / "out", seed=0, config=config)
    assert sorted(path.name for path in written) == [
        CAMERAS_FILE,
        GROUND_TRUTH_FILE,
        "view_00.jpg",
        "view_01.jpg",
    ]
    loaded = load_ground_truth(tmp_path / "out")
    np.testing.assert_allclose(loaded.cam_from_ref[1], example.views[1].cam_from_ref, atol=1e-7)
    np.testing.assert_allclose(loaded.hand_pose, example.hand_pose, atol=1e-7)
    document = json.loads((tmp_path / "out" / GROUND_TRUTH_FILE).read_text(encoding="utf-8"))
    assert document["generator"]["seed"] == 0
    assert document["generator"]["scene_config"]["crop_size"] == 56
    document["schema"] = "something-else"
    (tmp_path / "out" / GROUND_TRUTH_FILE).write_text(json.dumps(document), encoding="utf-8")
    with pytest.raises(ValueError, match="schema"):
        load_ground_truth(tmp_path / "out")
