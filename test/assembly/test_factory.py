# Copyright 2026 The HGGT-ROS Authors
# SPDX-License-Identifier: Apache-2.0
"""build_pipeline: the landmark engine gets the spec's landmarker settings."""

from __future__ import annotations

import pytest

from hggt_core.assembly.factory import PipelineSpec, build_pipeline
from hggt_core.landmarks.predictor import LandmarkPredictor


@pytest.mark.parametrize(("max_hands", "tracking"), [(1, True), (2, False)])
def test_landmark_pipeline_takes_max_hands_and_tracking(
    mediapipe_ready: None, max_hands: int, tracking: bool
) -> None:
    spec = PipelineSpec(engine="landmarks", max_hands=max_hands, tracking=tracking, fov_deg=75.0)
    pipeline = build_pipeline(spec)
    try:
        predictor = pipeline.predictor
        assert isinstance(predictor, LandmarkPredictor)
        config = predictor.landmarks.config
        assert (config.max_hands, config.mode) == (max_hands, "video" if tracking else "image")
        assert predictor.config.fov_deg == 75.0
    finally:
        pipeline.predictor.close()


def test_spec_refuses_no_hands() -> None:
    with pytest.raises(ValueError, match="max_hands must be at least 1, got 0"):
        PipelineSpec(max_hands=0)
