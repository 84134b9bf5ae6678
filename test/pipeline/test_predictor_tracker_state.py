# Copyright 2026 The HGGT-ROS Authors
# SPDX-License-Identifier: Apache-2.0
"""The HGGT predictor reports its localiser's tracker state (the node's diagnostics show it)."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pytest
import torch

from hggt_core.engine.base import Float32Array, RawPrediction
from hggt_core.geometry.pose_encoding import extrinsics_intrinsics_to_pose_encoding
from hggt_core.mano.layer import ManoLayer
from hggt_core.mano.synthetic import make_synthetic_mano
from hggt_core.pipeline.localise import WholeImageCrops
from hggt_core.pipeline.predictor import Predictor, PredictorConfig
from hggt_core.pipeline.tracker import ReprojectionTracker
from hggt_core.pipeline.types import Box, FrameSet, HandBoxes, HandLocaliser, HandResult, View

SIZE = 28
BOX = Box(260.0, 180.0, 380.0, 300.0, score=0.8)
"""The scripted detector's right hand in cam0 (640 x 480)."""


class CentredHandEngine:
    """A hand 0.5 m in front of the crop camera, which looks straight at the crop's centre."""

    name = "centred"
    device = "cpu"
    crop_size = SIZE

    def run(self, crops: Float32Array) -> RawPrediction:
        views = crops.shape[0]
        k_crop = np.array([[30.0, 0.0, SIZE / 2], [0.0, 30.0, SIZE / 2], [0.0, 0.0, 1.0]])
        encoding = extrinsics_intrinsics_to_pose_encoding(
            torch.from_numpy(np.tile(np.eye(4)[:3], (views, 1, 1))),
            torch.from_numpy(np.tile(k_crop, (views, 1, 1))),
            (SIZE, SIZE),
        )
        return RawPrediction(
            np.zeros(48, np.float32),
            np.zeros(10, np.float32),
            np.array([0.0, 0.0, 0.5], np.float32),
            encoding.numpy().astype(np.float32),
        )


class ScriptedDetector:
    """Finds the right hand at :data:`BOX` while ``present`` is True; counts its calls."""

    def __init__(self) -> None:
        self.present = True
        self.calls = 0

    def locate(self, frameset: FrameSet, previous: Sequence[HandResult]) -> list[HandBoxes]:
        self.calls += 1
        return [HandBoxes("right", {"cam0": BOX}, 0.8)] if self.present else []


@pytest.fixture(scope="module")
def layers() -> tuple[ManoLayer, ManoLayer]:
    return ManoLayer(make_synthetic_mano("right")), ManoLayer(make_synthetic_mano("left"))


def _predictor(localiser: HandLocaliser, layers: tuple[ManoLayer, ManoLayer]) -> Predictor:
    return Predictor(CentredHandEngine(), *layers, localiser, PredictorConfig(crop_size=SIZE))


def _frameset(stamp_s: float) -> FrameSet:
    image = np.zeros((480, 640, 3), dtype=np.uint8)
    stamp_ns = round(stamp_s * 1e9)
    return FrameSet(stamp_ns, (View("cam0", stamp_ns, image),))


def test_the_state_follows_the_reprojection_tracker(layers: tuple[ManoLayer, ManoLayer]) -> None:
    detector = ScriptedDetector()
    predictor = _predictor(ReprojectionTracker(detector), layers)
    assert predictor.tracker_state == "lost"  # before the first frameset
    # Nothing to track yet: the detector searches the frameset and finds the hand.
    assert len(predictor(_frameset(1.0))) == 1
    assert (predictor.tracker_state, detector.calls) == ("re-detecting", 1)
    # The previous hand projects into cam0: its box comes from the tracker, not the detector.
    assert len(predictor(_frameset(1.1))) == 1
    assert predictor.tracker_state == "tracking" and detector.calls == 1
    # reset() forgets the hand: the detector runs again, and now finds nothing.
    predictor.reset()
    detector.present = False
    assert predictor(_frameset(1.2)) == []
    assert (predictor.tracker_state, detector.calls) == ("lost", 2)


def test_the_state_is_off_without_a_tracker(layers: tuple[ManoLayer, ManoLayer]) -> None:
    predictor = _predictor(WholeImageCrops("right"), layers)
    assert predictor.tracker_state == "off"
    assert len(predictor(_frameset(1.0))) == 1
    assert predictor.tracker_state == "off"
    predictor = _predictor(ScriptedDetector(), layers)  # a detector alone does not track
    predictor(_frameset(1.0))
    assert predictor.tracker_state == "off"
