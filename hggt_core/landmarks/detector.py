# Copyright 2026 The HGGT-ROS Authors
# SPDX-License-Identifier: Apache-2.0
"""Hand detector backend on MediaPipe's hand landmarker (the ``mediapipe`` localiser).

It runs :class:`~hggt_core.landmarks.landmarker.HandLandmarker` (MediaPipe's Task API) in
IMAGE mode: palm detection, then 21 landmarks and the hand's side, per view; the boxes are the
landmarks' bounding boxes. It needs ``mediapipe`` (``tools/setup_venv.sh`` installs it) and the
landmarker's model file (see :mod:`hggt_core.landmarks.model_file`); nothing is downloaded at
run time. ``mediapipe`` is imported only when a detector is built, so the core imports
without it.

Handedness: the side is the subject's hand for a normal, non-mirrored camera (the Task API's
convention); ``mirrored_input`` swaps it for selfie-style images.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from hggt_core.base.closeable import Closeable
from hggt_core.landmarks.landmarker import HandLandmarker, HandLandmarks, LandmarkerConfig
from hggt_core.pipeline.boxes import HAND_SIDES, box_around_points
from hggt_core.pipeline.types import (
    Box,
    FloatArray,
    FrameSet,
    HandBoxes,
    HandResult,
    HandSide,
    ImageArray,
)


@dataclass(frozen=True)
class DetectorConfig:
    """Settings of :class:`MediaPipeHandDetector`.

    Attributes:
        max_hands: most hands reported per view (MediaPipe's ``num_hands``).
        min_detection_confidence: palm detection score threshold in [0, 1].
        model_path: the hand landmarker's ``.task`` bundle, or None for the built one in the
            cache folder.
        box_expand: factor on the landmarks' bounding box (1 = tight around the joints, as
            the predictor expects: its crop adds the margin).
        min_box_px: lower bound on each box side, pixels.
        mirrored_input: the images are mirrored (selfie cameras), so MediaPipe's handedness
            labels are swapped.
    """

    max_hands: int = 2
    min_detection_confidence: float = 0.5
    model_path: Path | None = None
    box_expand: float = 1.0
    min_box_px: float = 16.0
    mirrored_input: bool = False

    def __post_init__(self) -> None:
        if self.max_hands < 1:
            raise ValueError(f"max_hands must be >= 1, got {self.max_hands}")
        if not 0.0 <= self.min_detection_confidence <= 1.0:
            raise ValueError("min_detection_confidence must lie in [0, 1]")
        if self.box_expand <= 0 or self.min_box_px <= 0:
            raise ValueError("box_expand and min_box_px must be > 0")


@dataclass(frozen=True)
class Detection:
    """One hand found in one view.

    Attributes:
        side: the subject's hand (after the mirroring convention is resolved).
        score: MediaPipe's handedness confidence in [0.5, 1].
        landmarks_uv: [21, 2] landmarks in full-image pixels (MediaPipe's order, the same as
            OpenPose's 21 joints).
        box: the landmarks' expanded bounding box.
    """

    side: HandSide
    score: float
    landmarks_uv: FloatArray
    box: Box


class MediaPipeHandDetector(Closeable):
    """Detects hands and their side in every view with MediaPipe's hand landmarker.

    Views are processed one by one (IMAGE mode: no state between calls). Within a view, two
    hands of the same side keep the more confident one. Across views, the detections of one
    side form one hand, whose score is the mean of its views' scores. Not thread-safe: use
    one detector per thread. Call :meth:`close` (or use ``with``) to free the MediaPipe graph.

    Args:
        config: detector settings (defaults: two hands, threshold 0.5, the cached model).

    Raises:
        ImportError: if ``mediapipe`` is not installed (the message says how to install it).
        LandmarkerModelError: if the model file is missing (the message says how to get it).
    """

    def __init__(self, config: DetectorConfig | None = None) -> None:
        self._config = config if config is not None else DetectorConfig()
        self._landmarker = HandLandmarker(
            LandmarkerConfig(
                model_path=self._config.model_path,
                max_hands=self._config.max_hands,
                min_detection_confidence=self._config.min_detection_confidence,
                mirrored_input=self._config.mirrored_input,
                mode="image",
            )
        )

    @property
    def config(self) -> DetectorConfig:
        """The detector's settings."""
        return self._config

    def close(self) -> None:
        """Free the MediaPipe graph; the detector cannot be used afterwards."""
        self._landmarker.close()

    def detect(self, image: ImageArray) -> list[Detection]:
        """The hands in one image, at most one per side.

        Args:
            image: [H, W, 3] uint8 RGB.

        Returns:
            Detections, most confident first.

        Raises:
            ValueError: if the image is not [H, W, 3] uint8.
            RuntimeError: if the detector was closed.
        """
        return [self._to_detection(hand) for hand in self._landmarker.detect(image)]

    def locate(self, frameset: FrameSet, previous: Sequence[HandResult]) -> list[HandBoxes]:
        """One :class:`HandBoxes` per side found in any view; ``previous`` is ignored."""
        per_side: dict[HandSide, dict[str, Box]] = {}
        for view in frameset.views:
            for detection in self.detect(view.image):
                per_side.setdefault(detection.side, {})[view.name] = detection.box
        hands = []
        for side in HAND_SIDES:
            boxes = per_side.get(side)
            if boxes:
                score = float(np.mean([box.score for box in boxes.values()]))
                hands.append(HandBoxes(side=side, boxes=boxes, score=score))
        return hands

    def _to_detection(self, hand: HandLandmarks) -> Detection:
        """One landmarked hand as a :class:`Detection` with its box."""
        box = box_around_points(
            hand.uv,
            self._config.box_expand,
            square=False,
            score=hand.handedness_score,
            min_side_px=self._config.min_box_px,
        )
        return Detection(
            side=hand.side, score=hand.handedness_score, landmarks_uv=hand.uv, box=box
        )
