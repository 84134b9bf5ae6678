# Copyright 2026 The HGGT-ROS Authors
# SPDX-License-Identifier: Apache-2.0
"""The landmark engine end to end on the real example crops (real MediaPipe, no ground truth).

Bounds come from ``bench/landmark_examples.py`` on this project's CPU (medians: reprojection
5.6-8.0 px = 1.9-3.1 % of the hand's size; leave-one-view-out 1.1-2.8 mm and 2.1-4.5 degrees),
with margin. All example hands are right hands.
"""

from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest

from hggt_core.io.folder_source import ImageFolderSource
from hggt_core.landmarks.consistency import leave_one_view_out, reprojection_agreement
from hggt_core.landmarks.landmarker import LandmarkerConfig, MultiViewLandmarker
from hggt_core.landmarks.predictor import LandmarkPredictor
from hggt_core.mano.layer import ManoLayer
from hggt_core.mano.synthetic import make_synthetic_mano
from hggt_core.pipeline.types import FrameSet, HandResult

# Views MediaPipe finds the hand in: DexYCB 4 of 8, the others all.
SETS = {"DexYCB": 4, "Freihand": 1, "HO3D": 3, "Oakink": 4}


@pytest.fixture(scope="module")
def predictor(mediapipe_ready: None) -> Iterator[LandmarkPredictor]:
    layers = ManoLayer(make_synthetic_mano("right")), ManoLayer(make_synthetic_mano("left"))
    built = LandmarkPredictor(MultiViewLandmarker(LandmarkerConfig(mode="image")), *layers)
    yield built
    built.close()


def _frameset(examples_dir: Path, name: str) -> FrameSet:
    return next(iter(ImageFolderSource(examples_dir / name / "sample_0000")))


def _fresh(predictor: LandmarkPredictor, frameset: FrameSet) -> list[HandResult]:
    predictor.reset()
    return predictor(frameset)


@pytest.mark.parametrize("name", sorted(SETS))
def test_one_right_hand_that_lies_on_its_landmarks(
    predictor: LandmarkPredictor, examples_dir: Path, name: str
) -> None:
    frameset = _frameset(examples_dir, name)
    [result] = _fresh(predictor, frameset)
    assert result.side == "right" and len(result.views_used) >= SETS[name]
    assert result.vertices.shape == (778, 3) and np.isfinite(result.vertices).all()
    # In front of the cameras, at arm's length.
    assert 0.05 < result.joints[:, 2].mean() < 2.0
    found = predictor.landmarks.detect(frameset)
    agreement = reprojection_agreement(
        result, {view: hands[0] for view, hands in found.items() if hands}
    )
    assert len(agreement) == len(result.views_used)
    assert np.median([view.median_of_hand for view in agreement]) < 0.06
    assert max(view.median_of_hand for view in agreement) < 0.12


@pytest.mark.parametrize("name", ["DexYCB", "HO3D", "Oakink"])
def test_leaving_one_view_out_barely_moves_the_hand_and_cameras(
    predictor: LandmarkPredictor, examples_dir: Path, name: str
) -> None:
    left_out = leave_one_view_out(
        lambda frameset: _fresh(predictor, frameset), _frameset(examples_dir, name), "right"
    )
    assert len(left_out) >= 3
    assert np.median([entry.joints_mm for entry in left_out]) < 8.0
    rotations = [entry.rotation_deg for entry in left_out if np.isfinite(entry.rotation_deg)]
    assert rotations and np.median(rotations) < 10.0
