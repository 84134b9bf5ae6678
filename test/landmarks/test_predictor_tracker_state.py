# Copyright 2026 The HGGT-ROS Authors
# SPDX-License-Identifier: Apache-2.0
"""The landmark predictor's tracker state: per side, MediaPipe tracking or re-detecting.

Synthetic scenes give the landmarks (the source below reads them off the rendered views and
hides the hand in the views it is told to), so the state is checked against known counts; one
test runs the real MediaPipe landmarker on an example's crops.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from pathlib import Path

import numpy as np
import pytest

from hggt_core.io.images import read_rgb
from hggt_core.landmarks.landmarker import HandLandmarks, LandmarkerConfig, MultiViewLandmarker
from hggt_core.landmarks.predictor import LandmarkPredictor
from hggt_core.mano.layer import ManoLayer
from hggt_core.mano.synthetic import make_synthetic_mano
from hggt_core.pipeline.types import FrameSet, View
from hggt_core.render.scene import SyntheticExample, render_multiview_example
from hggt_core.render.scene_config import SceneConfig

SCENE = SceneConfig(crop_size=224, supersample=1, view_cone_deg=60.0)


class HidingLandmarks:
    """The scene's exact landmarks of a right hand, except in the views named in ``hidden``."""

    def __init__(self, example: SyntheticExample, tracking: bool) -> None:
        self.example = example
        self.tracking = tracking
        self.hidden: set[str] = set()

    def detect(self, frameset: FrameSet) -> Mapping[str, Sequence[HandLandmarks]]:
        found: dict[str, list[HandLandmarks]] = {}
        for view in self.example.views:
            in_camera = self.example.joints @ view.cam_from_ref[:3, :3].T
            world_m = in_camera - in_camera.mean(axis=0)
            hand = HandLandmarks("right", 0.9, view.joints_2d, world_m)
            found[view.name] = [] if view.name in self.hidden else [hand]
        return found

    def close(self) -> None:
        """Nothing to release."""


@pytest.fixture(scope="module")
def layers() -> tuple[ManoLayer, ManoLayer]:
    return ManoLayer(make_synthetic_mano("right")), ManoLayer(make_synthetic_mano("left"))


@pytest.fixture(scope="module")
def example(layers: tuple[ManoLayer, ManoLayer]) -> SyntheticExample:
    return render_multiview_example(layers[0], np.random.default_rng(2), 4, SCENE)


def test_video_mode_tracks_the_sides_it_found(
    layers: tuple[ManoLayer, ManoLayer], example: SyntheticExample
) -> None:
    source = HidingLandmarks(example, tracking=True)
    predictor = LandmarkPredictor(source, *layers)
    assert predictor.tracker_state == "no frameset yet"
    source.hidden = {example.views[1].name}
    assert len(predictor(example.frameset(0, with_intrinsics=True))) == 1
    assert predictor.tracker_state == "right tracking (3/4 views), left re-detecting (0/4 views)"
    # The hand gone from every view: MediaPipe searches for it again.
    source.hidden = {view.name for view in example.views}
    assert predictor(example.frameset(33_000_000, with_intrinsics=True)) == []
    assert (
        predictor.tracker_state == "right re-detecting (0/4 views), left re-detecting (0/4 views)"
    )


def test_image_mode_always_re_detects(
    layers: tuple[ManoLayer, ManoLayer], example: SyntheticExample
) -> None:
    predictor = LandmarkPredictor(HidingLandmarks(example, tracking=False), *layers)
    assert len(predictor(example.frameset(0, with_intrinsics=True))) == 1
    assert (
        predictor.tracker_state == "right re-detecting (4/4 views), left re-detecting (0/4 views)"
    )


def test_mediapipe_video_mode_tracks_the_example_hand(
    mediapipe_ready: None, examples_dir: Path, layers: tuple[ManoLayer, ManoLayer]
) -> None:
    crops = [
        read_rgb(path) for path in sorted((examples_dir / "Oakink/sample_0000").glob("*.jpg"))
    ]
    views = tuple(View(f"cam{index}", 0, crop) for index, crop in enumerate(crops[:2]))
    for mode, word in (("video", "tracking"), ("image", "re-detecting")):
        with MultiViewLandmarker(LandmarkerConfig(mode=mode, max_hands=1)) as landmarker:
            assert landmarker.tracking == (mode == "video")
            predictor = LandmarkPredictor(landmarker, *layers)
            assert len(predictor(FrameSet(0, views))) == 1
            state = predictor.tracker_state
        assert re.fullmatch(
            rf"right {word} \([12]/2 views\), left re-detecting \(0/2 views\)", state
        )
