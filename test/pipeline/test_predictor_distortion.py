# Copyright 2026 The HGGT-ROS Authors
# SPDX-License-Identifier: Apache-2.0
"""The HGGT predictor crops a view with lens distortion as an undistorted pinhole view."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pytest
import torch

from hggt_core.engine.base import Float32Array, RawPrediction
from hggt_core.geometry.distortion import LensDistortion
from hggt_core.geometry.pose_encoding import extrinsics_intrinsics_to_pose_encoding
from hggt_core.mano.layer import ManoLayer
from hggt_core.mano.synthetic import make_synthetic_mano
from hggt_core.pipeline.crop import crop_view, square_crop_transform
from hggt_core.pipeline.predictor import Predictor, PredictorConfig
from hggt_core.pipeline.types import Box, FrameSet, HandBoxes, HandResult, HandSide, View

SIZE = 56
K_VGA = np.array([[400.0, 0.0, 320.0], [0.0, 400.0, 240.0], [0.0, 0.0, 1.0]])
LENS = LensDistortion("plumb_bob", (-0.3, 0.1, 0.001, -0.001, 0.0))
BOXES = {"lens": Box(40.0, 30.0, 160.0, 150.0), "pinhole": Box(300.0, 200.0, 380.0, 260.0)}


class RecordingEngine:
    """A fixed prediction; keeps the crops it was given."""

    name = "recording"
    device = "cpu"
    crop_size = SIZE

    def __init__(self) -> None:
        self.crops: list[Float32Array] = []
        k_crop = np.array([[60.0, 0.0, SIZE / 2], [0.0, 60.0, SIZE / 2], [0.0, 0.0, 1.0]])
        encoding = extrinsics_intrinsics_to_pose_encoding(
            torch.from_numpy(np.tile(np.eye(4)[:3], (2, 1, 1))),
            torch.from_numpy(np.tile(k_crop, (2, 1, 1))),
            (SIZE, SIZE),
        )
        self.raw = RawPrediction(
            np.zeros(48, np.float32),
            np.zeros(10, np.float32),
            np.array([0.0, 0.0, 0.5], np.float32),
            encoding.numpy().astype(np.float32),
        )

    def run(self, crops: Float32Array) -> RawPrediction:
        self.crops.append(crops.copy())
        views = crops.shape[0]
        raw = self.raw
        return RawPrediction(raw.hand_pose, raw.betas, raw.transl, raw.pose_enc[:views])


class Boxes:
    def __init__(self, side: HandSide) -> None:
        self.side = side

    def locate(self, frameset: FrameSet, previous: Sequence[HandResult]) -> list[HandBoxes]:
        return [HandBoxes(self.side, BOXES)]


@pytest.mark.parametrize("side", ["right", "left"])
def test_a_distorted_view_is_cropped_through_its_lens(side: HandSide) -> None:
    rng = np.random.default_rng(0)
    image = rng.integers(0, 256, (480, 640, 3), dtype=np.uint8)
    views = (View("lens", 0, image, K_VGA, LENS), View("pinhole", 0, image, K_VGA))
    engine = RecordingEngine()
    layers = ManoLayer(make_synthetic_mano("right")), ManoLayer(make_synthetic_mano("left"))
    config = PredictorConfig(crop_size=SIZE)
    predictor = Predictor(engine, *layers, Boxes(side), config)
    [result] = predictor(FrameSet(0, views))
    [crops] = engine.crops
    mirrored = side == "left"
    for index, view in enumerate(views):
        transform, expected = crop_view(
            view, BOXES[view.name], SIZE, config.box_scale, mirrored=mirrored
        )
        np.testing.assert_array_equal(crops[index], expected)
        assert result.cameras[index].crop == transform
    # The distorted view's crop is placed in ideal pixels: barrel distortion had squeezed
    # the box, so its pinhole box is larger; the pinhole view's crop is the plain one.
    plain = square_crop_transform(BOXES["lens"], SIZE, config.box_scale, mirrored)
    assert result.cameras[0].crop.scale > 1.2 * plain.scale
    assert result.cameras[1].crop == square_crop_transform(
        BOXES["pinhole"], SIZE, config.box_scale, mirrored
    )
