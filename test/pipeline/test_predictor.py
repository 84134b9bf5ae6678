# Copyright 2026 The HGGT-ROS Authors
# SPDX-License-Identifier: Apache-2.0
"""The predictor: decoding a known raw prediction, left hands, reference views, skipping."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import replace
from typing import Any

import numpy as np
import pytest
import torch

from hggt_core.engine.base import Float32Array, RawPrediction
from hggt_core.engine.torch_engine import TorchEngine
from hggt_core.geometry.pose_encoding import (
    extrinsics_intrinsics_to_pose_encoding,
    pose_encoding_to_extrinsics_intrinsics,
)
from hggt_core.geometry.rotations import axis_angle_to_matrix
from hggt_core.mano.layer import ManoLayer
from hggt_core.mano.synthetic import make_synthetic_mano
from hggt_core.model import HGGT, HGGTConfig
from hggt_core.pipeline.crop import crop_image, image_to_crop_points, square_crop_transform
from hggt_core.pipeline.filters import FilterConfig
from hggt_core.pipeline.mirror import MIRROR_X, mirror_raw_prediction
from hggt_core.pipeline.predictor import Predictor, PredictorConfig
from hggt_core.pipeline.types import Box, FrameSet, HandBoxes, HandResult, HandSide, View

SIZE = 28
STAMP = 1_700_000_000_123_456_789
"""A realistic stamp with odd nanoseconds, carried to every result exactly."""
STAGES = {"localise", "crop", "model", "mano", "cameras", "filter"}
BOXES = {
    "cam0": Box(300.0, 200.0, 380.0, 260.0, score=0.8),
    "cam1": Box(100.0, 60.0, 140.0, 100.0),
    "cam2": Box(20.0, 30.0, 60.0, 90.0),
}
# Crop cameras in crop pixels; the principal point is central, as decoding assumes.
K_CROP = np.array([[40.0, 0.0, 14.0], [0.0, 42.0, 14.0], [0.0, 0.0, 1.0]])


class FakeEngine:
    """Returns a fixed prediction (its first S cameras) and records the crops it was given."""

    name = "fake"
    device = "cpu"

    def __init__(self, raw: RawPrediction, crop_size: int = SIZE) -> None:
        self.raw = raw
        self.crop_size = crop_size
        self.calls: list[Float32Array] = []

    def run(self, crops: Float32Array) -> RawPrediction:
        self.calls.append(crops.copy())
        views = crops.shape[0]
        return RawPrediction(
            self.raw.hand_pose, self.raw.betas, self.raw.transl, self.raw.pose_enc[:views]
        )


class FixedBoxes:
    """A localiser that always returns the same hands and records what it was given."""

    def __init__(self, hands: Sequence[HandBoxes]) -> None:
        self.hands = list(hands)
        self.previous_seen: list[list[HandResult]] = []

    def locate(self, frameset: FrameSet, previous: Sequence[HandResult]) -> list[HandBoxes]:
        self.previous_seen.append(list(previous))
        return list(self.hands)


@pytest.fixture(scope="module")
def layers() -> tuple[ManoLayer, ManoLayer]:
    return ManoLayer(make_synthetic_mano("right")), ManoLayer(make_synthetic_mano("left"))


@pytest.fixture(scope="module")
def cam_from_ref() -> np.ndarray:
    """[3, 3, 4] known extrinsics: the reference camera and two others."""
    transforms = [np.eye(4)[:3]]
    for axis_angle, t in (
        ((0.1, -0.4, 0.05), (0.2, -0.05, 0.1)),
        ((-0.3, 0.2, 0.1), (-0.1, 0, 0.3)),
    ):
        rotation = axis_angle_to_matrix(torch.tensor(axis_angle, dtype=torch.float64)).numpy()
        transforms.append(np.concatenate([rotation, np.array(t)[:, None]], axis=1))
    return np.stack(transforms)


def _frameset(intrinsics: np.ndarray | None = None) -> FrameSet:
    rng = np.random.default_rng(0)
    sizes = {"cam0": (480, 640), "cam1": (240, 320), "cam2": (200, 200)}
    views = tuple(
        View(
            name,
            STAMP - 1_000_000 * k,
            rng.integers(0, 256, size=(*hw, 3), dtype=np.uint8),
            intrinsics if name == "cam1" else None,
        )
        for k, (name, hw) in enumerate(sizes.items())
    )
    return FrameSet(STAMP, views)


def _raw(cam_from_ref: np.ndarray, seed: int = 1) -> RawPrediction:
    rng = np.random.default_rng(seed)
    enc = extrinsics_intrinsics_to_pose_encoding(
        torch.from_numpy(cam_from_ref), torch.from_numpy(np.tile(K_CROP, (3, 1, 1))), (SIZE, SIZE)
    )
    return RawPrediction(
        hand_pose=rng.normal(scale=0.3, size=48).astype(np.float32),
        betas=rng.normal(size=10).astype(np.float32),
        transl=np.array([0.02, -0.01, 0.6], dtype=np.float32),
        pose_enc=enc.numpy().astype(np.float32),
    )


def _predictor(
    raw: RawPrediction,
    hands: Sequence[HandBoxes],
    layers: tuple[ManoLayer, ManoLayer | None],
    **config: Any,
) -> tuple[Predictor, FakeEngine, FixedBoxes]:
    engine, localiser = FakeEngine(raw), FixedBoxes(hands)
    predictor = Predictor(
        engine,
        layers[0],
        layers[1],
        localiser,
        PredictorConfig(crop_size=SIZE, **config),
    )
    return predictor, engine, localiser


def _hand(side: HandSide, *names: str, score: float = 0.9) -> HandBoxes:
    return HandBoxes(side, {name: BOXES[name] for name in names}, score)


def _decoded(pose_enc: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    extrinsics, k_crop = pose_encoding_to_extrinsics_intrinsics(
        torch.from_numpy(pose_enc.astype(np.float64)), (SIZE, SIZE)
    )
    return extrinsics.numpy(), k_crop.numpy()


def _project(points: np.ndarray, cam_from_ref: np.ndarray, intrinsics: np.ndarray) -> np.ndarray:
    in_camera = points @ cam_from_ref[:3, :3].T + cam_from_ref[:3, 3]
    return in_camera[:, :2] / in_camera[:, 2:] @ intrinsics[:2, :2].T + intrinsics[:2, 2]


def _posed(layer: ManoLayer, raw: RawPrediction) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    out = layer.forward_theta(
        torch.from_numpy(raw.hand_pose[None]),
        torch.from_numpy(raw.betas[None]),
        torch.from_numpy(raw.transl[None]),
    )
    return out.vertices[0].numpy(), out.joints[0].numpy(), out.global_rotations[0].numpy()


def test_decoding_path_with_a_known_prediction(
    layers: tuple[ManoLayer, ManoLayer], cam_from_ref: np.ndarray
) -> None:
    raw = _raw(cam_from_ref)
    predictor, engine, _ = _predictor(raw, [_hand("right", "cam0", "cam1")], layers)
    frameset = _frameset()
    (result,) = predictor(frameset)

    assert (result.stamp_ns, result.side, result.score) == (STAMP, "right", 0.9)
    assert result.views_used == ("cam0", "cam1")
    assert set(result.timings_s) == STAGES and min(result.timings_s.values()) >= 0.0
    vertices, joints, rotations = _posed(layers[0], raw)
    np.testing.assert_allclose(result.vertices, vertices, atol=1e-7)
    np.testing.assert_allclose(result.joints, joints, atol=1e-7)
    np.testing.assert_array_equal(result.hand_pose, raw.hand_pose.astype(np.float64))
    # Joint rotations: OpenPose order, fingertips carry their distal joint's rotation.
    np.testing.assert_allclose(result.joint_rotations[:4], rotations[[0, 13, 14, 15]], atol=1e-7)
    for tip in (4, 8, 12, 16, 20):
        np.testing.assert_array_equal(result.joint_rotations[tip], result.joint_rotations[tip - 1])

    crops = [square_crop_transform(BOXES[n], SIZE, 1.3) for n in ("cam0", "cam1")]
    (sent,) = engine.calls
    for index, (camera, crop) in enumerate(zip(result.cameras, crops, strict=True)):
        assert camera.crop == crop and camera.name == f"cam{index}"
        np.testing.assert_array_equal(sent[index], crop_image(frameset.views[index].image, crop))
        # Full-image K by hand from the float32 encoding: f = (size / 2) / tan(fov / 2).
        fov_h, fov_w = raw.pose_enc[index, 7:].astype(np.float64)
        fx, fy = (SIZE / 2) / np.tan(fov_w / 2), (SIZE / 2) / np.tan(fov_h / 2)
        s = crop.scale
        expected_k = [[s * fx, 0, crop.x0 + s * SIZE / 2], [0, s * fy, crop.y0 + s * SIZE / 2]]
        np.testing.assert_allclose(camera.intrinsics[:2], expected_k, rtol=1e-12)
        np.testing.assert_allclose(camera.intrinsics[:2, :2], s * K_CROP[:2, :2], rtol=1e-5)
        np.testing.assert_allclose(camera.cam_from_ref[:3], cam_from_ref[index], atol=1e-6)
        np.testing.assert_array_equal(camera.cam_from_ref[3], [0, 0, 0, 1])
        expected_uv = _project(result.joints, camera.cam_from_ref, camera.intrinsics)
        np.testing.assert_allclose(camera.joints_2d, expected_uv, atol=1e-9)


def test_left_hand_round_trip(
    layers: tuple[ManoLayer, ManoLayer], cam_from_ref: np.ndarray
) -> None:
    """A right-hand network seeing the mirrored crops predicts the mirrored left hand."""
    truth = _raw(cam_from_ref, seed=2)  # a left hand and the real cameras
    network_output = mirror_raw_prediction(truth)
    predictor, engine, _ = _predictor(network_output, [_hand("left", "cam0", "cam1")], layers)
    frameset = _frameset()
    (result,) = predictor(frameset)

    np.testing.assert_array_equal(result.hand_pose, truth.hand_pose.astype(np.float64))
    np.testing.assert_array_equal(result.transl, truth.transl.astype(np.float64))
    vertices, joints, _ = _posed(layers[1], truth)
    np.testing.assert_allclose(result.vertices, vertices, atol=1e-7)
    np.testing.assert_allclose(result.joints, joints, atol=1e-7)
    network_cameras, network_k = _decoded(network_output.pose_enc)
    for index, camera in enumerate(result.cameras):
        assert camera.crop.mirrored
        np.testing.assert_allclose(camera.cam_from_ref[:3], cam_from_ref[index], atol=1e-6)
        # Where the network saw the (mirrored) joints in its crop is where the reported joints
        # land in the full image.
        seen = _project(result.joints @ MIRROR_X, network_cameras[index], network_k[index])
        np.testing.assert_allclose(
            image_to_crop_points(camera.joints_2d, camera.crop), seen, atol=1e-6
        )

    # The engine was fed the flipped crops of the right-hand run.
    right_predictor, right_engine, _ = _predictor(truth, [_hand("right", "cam0", "cam1")], layers)
    right_predictor(frameset)
    # Same sampling positions in reverse order; OpenCV's 1/32-pixel rounding of them may differ
    # by one grey level in a few pixels.
    flipped = right_engine.calls[0][:, :, :, ::-1]
    np.testing.assert_allclose(engine.calls[0], flipped, rtol=0, atol=1.0 / 255.0 + 1e-6)
    assert np.mean(engine.calls[0] != flipped) < 0.01


def test_left_hand_without_left_layer_mirrors_the_right_output(
    layers: tuple[ManoLayer, ManoLayer], cam_from_ref: np.ndarray
) -> None:
    raw = _raw(cam_from_ref, seed=3)
    hands = [_hand("left", "cam0", "cam1")]
    with_left = _predictor(raw, hands, layers)[0](_frameset())[0]
    without = _predictor(raw, hands, (layers[0], None))[0](_frameset())[0]
    for name in ("vertices", "joints", "joint_rotations", "hand_pose", "transl"):
        np.testing.assert_allclose(getattr(without, name), getattr(with_left, name), atol=1e-6)


def test_hand_missing_in_view_0_makes_the_next_view_the_reference(
    layers: tuple[ManoLayer, ManoLayer], cam_from_ref: np.ndarray
) -> None:
    predictor, engine, _ = _predictor(_raw(cam_from_ref), [_hand("right", "cam2", "cam1")], layers)
    frameset = _frameset()
    (result,) = predictor(frameset)
    assert result.views_used == ("cam1", "cam2")  # frameset order, not box order
    assert [camera.name for camera in result.cameras] == ["cam1", "cam2"]
    np.testing.assert_allclose(result.cameras[0].cam_from_ref, np.eye(4), atol=1e-6)
    crop = square_crop_transform(BOXES["cam1"], SIZE, 1.3)
    np.testing.assert_array_equal(engine.calls[0][0], crop_image(frameset.views[1].image, crop))


def test_min_hand_views_skips_hands_and_no_hand_gives_nothing(
    layers: tuple[ManoLayer, ManoLayer], cam_from_ref: np.ndarray, caplog: pytest.LogCaptureFixture
) -> None:
    hands = [_hand("right", "cam0", "cam1"), _hand("left", "cam2")]
    predictor, engine, _ = _predictor(_raw(cam_from_ref), hands, layers, min_hand_views=2)
    with caplog.at_level(logging.DEBUG, logger="hggt_core.pipeline.predictor"):
        results = predictor(_frameset())
    assert [result.side for result in results] == ["right"]
    assert len(engine.calls) == 1
    assert "skipping the left hand" in caplog.text
    empty, empty_engine, _ = _predictor(_raw(cam_from_ref), [], layers)
    assert empty(_frameset()) == [] and empty_engine.calls == []


def test_previous_results_reach_the_localiser(
    layers: tuple[ManoLayer, ManoLayer], cam_from_ref: np.ndarray
) -> None:
    predictor, _, localiser = _predictor(_raw(cam_from_ref), [_hand("right", "cam0")], layers)
    first = predictor(_frameset())
    predictor(_frameset())
    assert localiser.previous_seen[0] == []
    assert localiser.previous_seen[1] == first
    predictor.reset()
    predictor(_frameset())
    assert localiser.previous_seen[2] == []


def test_known_intrinsics(layers: tuple[ManoLayer, ManoLayer], cam_from_ref: np.ndarray) -> None:
    """On by default, the estimate is corrected to cam1's K; False ignores it.

    cam0, the reference, has no K, so the hand stays (test_known_intrinsics.py: the geometry).
    """
    known = np.array([[300.0, 0.0, 160.0], [0.0, 300.0, 120.0], [0.0, 0.0, 1.0]])
    hands = [_hand("right", "cam0", "cam1")]
    frameset = _frameset(intrinsics=known)
    (used,) = _predictor(_raw(cam_from_ref), hands, layers)[0](frameset)
    (ignored,) = _predictor(_raw(cam_from_ref), hands, layers, use_known_intrinsics=False)[0](
        frameset
    )
    np.testing.assert_array_equal(used.cameras[1].intrinsics, known)
    assert not np.allclose(ignored.cameras[1].intrinsics, known)
    np.testing.assert_array_equal(used.joints, ignored.joints)
    for name in ("intrinsics", "cam_from_ref", "joints_2d"):
        np.testing.assert_array_equal(
            getattr(used.cameras[0], name), getattr(ignored.cameras[0], name)
        )
    rotation = used.cameras[1].cam_from_ref[:3, :3]
    np.testing.assert_array_equal(rotation, ignored.cameras[1].cam_from_ref[:3, :3])
    assert not np.allclose(used.cameras[1].cam_from_ref, ignored.cameras[1].cam_from_ref)
    centre = used.joints.mean(axis=0, keepdims=True)
    np.testing.assert_allclose(
        _project(centre, used.cameras[1].cam_from_ref, known),
        _project(centre, ignored.cameras[1].cam_from_ref, ignored.cameras[1].intrinsics),
        atol=1e-6,
    )
    expected_uv = _project(used.joints, used.cameras[1].cam_from_ref, known)
    np.testing.assert_allclose(used.cameras[1].joints_2d, expected_uv, atol=1e-9)


def test_filter_and_fingertip_settings(
    layers: tuple[ManoLayer, ManoLayer], cam_from_ref: np.ndarray
) -> None:
    raw = _raw(cam_from_ref)
    predictor, _, _ = _predictor(
        raw, [_hand("right", "cam0")], layers, temporal_filter=FilterConfig(), fingertips="smplx"
    )
    first = predictor(_frameset())[0]
    second = predictor(FrameSet(STAMP + 100_000_000, _frameset().views))[0]
    assert second.stamp_ns == STAMP + 100_000_000
    np.testing.assert_allclose(second.joints, first.joints, atol=1e-12)  # a still hand stays
    assert second.timings_s["filter"] > 0.0
    assert predictor.config.fingertips == "smplx"
    np.testing.assert_array_equal(first.joints[16], first.vertices[554])  # smplx ring tip
    np.testing.assert_array_equal(first.joints[0], first.joints[0])
    freihand = _predictor(raw, [_hand("right", "cam0")], layers)[0](_frameset())[0]
    np.testing.assert_array_equal(freihand.joints[16], freihand.vertices[555])


def test_configuration_errors(
    layers: tuple[ManoLayer, ManoLayer], cam_from_ref: np.ndarray
) -> None:
    with pytest.raises(ValueError, match="multiple of 14"):
        PredictorConfig(crop_size=30)
    with pytest.raises(ValueError, match="min_hand_views"):
        PredictorConfig(min_hand_views=0)
    with pytest.raises(ValueError, match="box_scale"):
        PredictorConfig(box_scale=0.0)
    right, left = layers
    engine = FakeEngine(_raw(cam_from_ref))
    with pytest.raises(ValueError, match="28-pixel crops"):
        Predictor(engine, right, left, FixedBoxes([]), PredictorConfig(crop_size=518))
    config = PredictorConfig(crop_size=SIZE)
    with pytest.raises(ValueError, match="right-hand MANO layer"):
        Predictor(engine, left, left, FixedBoxes([]), config)
    flat = ManoLayer(make_synthetic_mano("right"), flat_hand_mean=True)
    with pytest.raises(ValueError, match="flat_hand_mean=False"):
        Predictor(engine, flat, None, FixedBoxes([]), config)


def test_end_to_end_with_a_tiny_random_network(
    layers: tuple[ManoLayer, ManoLayer], tiny_config: HGGTConfig
) -> None:
    torch.manual_seed(0)
    config = replace(tiny_config, img_size=SIZE)
    hands = [_hand("right", "cam0", "cam1", "cam2"), _hand("left", "cam1")]
    predictor = Predictor(
        TorchEngine(HGGT(config)), *layers, FixedBoxes(hands), PredictorConfig(crop_size=SIZE)
    )
    results = predictor(_frameset())
    assert [(r.side, r.views_used) for r in results] == [
        ("right", ("cam0", "cam1", "cam2")),
        ("left", ("cam1",)),
    ]
    for result in results:
        assert result.vertices.shape == (778, 3) and result.joints.shape == (21, 3)
        assert result.joint_rotations.shape == (21, 3, 3)
        assert result.hand_pose.shape == (48,) and result.betas.shape == (10,)
        assert all(camera.intrinsics.shape == (3, 3) for camera in result.cameras)
        assert all(camera.cam_from_ref.shape == (4, 4) for camera in result.cameras)
        assert all(camera.joints_2d.shape == (21, 2) for camera in result.cameras)
        assert np.all(np.isfinite(result.vertices)) and result.stamp_ns == STAMP
        # Finite even where the untrained camera head outputs a zero field of view.
        for camera in result.cameras:
            assert np.all(np.isfinite(camera.intrinsics)) and np.all(np.isfinite(camera.joints_2d))
