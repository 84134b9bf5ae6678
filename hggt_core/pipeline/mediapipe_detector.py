# Copyright 2026 The HGGT-ROS Authors
# SPDX-License-Identifier: Apache-2.0
"""Hand detector backend on MediaPipe Hands (optional extra: ``pip install hggt_ros[detector]``).

It runs the legacy ``mediapipe.solutions.hands.Hands`` graph of ``mediapipe==0.10.14`` in
static-image mode: palm detection, then 21 landmarks and a handedness label per hand. The
models (``palm_detection_*.tflite``, ``hand_landmark_*.tflite``) ship inside the wheel, so
nothing is downloaded and no network access happens. ``mediapipe`` is imported only when a
detector is built, so the core imports without it.

Handedness: MediaPipe labels hands as if the image were mirrored (a selfie camera). For a
normal camera image, such as a robot's, its "Left" is the subject's right hand and "Right"
the left hand (the upstream ``Hands`` docstring says so; on the bundled right-hand examples
it answers "Left"). The detector swaps the label unless ``mirrored_input`` is set.

mediapipe 0.10.14 needs protobuf < 5: with protobuf 5 or later its graph set-up fails, which
the detector reports as an ImportError at construction.
"""

from __future__ import annotations

import importlib
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from hggt_core.closeable import Closeable
from hggt_core.pipeline.localise import HAND_SIDES, box_around_points
from hggt_core.pipeline.types import (
    Box,
    FloatArray,
    FrameSet,
    HandBoxes,
    HandResult,
    HandSide,
    ImageArray,
)

INSTALL_HINT = "install the detector extra: pip install 'hggt_ros[detector]' (mediapipe==0.10.14)"
_NUM_LANDMARKS = 21


@dataclass(frozen=True)
class DetectorConfig:
    """Settings of :class:`MediaPipeHandDetector`.

    Attributes:
        max_hands: most hands reported per view (MediaPipe's ``max_num_hands``).
        min_detection_confidence: palm detection score threshold in [0, 1].
        model_complexity: landmark model, 0 (lite) or 1 (full).
        box_expand: factor on the landmarks' bounding box (1 = tight around the joints, as
            the predictor expects: its crop adds the margin).
        min_box_px: lower bound on each box side, pixels.
        mirrored_input: the images are mirrored (selfie cameras), so MediaPipe's handedness
            labels are taken as they are instead of being swapped.
    """

    max_hands: int = 2
    min_detection_confidence: float = 0.5
    model_complexity: int = 1
    box_expand: float = 1.0
    min_box_px: float = 16.0
    mirrored_input: bool = False

    def __post_init__(self) -> None:
        if self.max_hands < 1:
            raise ValueError(f"max_hands must be >= 1, got {self.max_hands}")
        if not 0.0 <= self.min_detection_confidence <= 1.0:
            raise ValueError("min_detection_confidence must lie in [0, 1]")
        if self.model_complexity not in (0, 1):
            raise ValueError(f"model_complexity must be 0 or 1, got {self.model_complexity}")
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


def _import_hands_module() -> Any:
    """``mediapipe.python.solutions.hands``, or an ImportError that says how to install it."""
    try:
        hands_module = importlib.import_module("mediapipe.python.solutions.hands")
        protobuf = importlib.import_module("google.protobuf")
    except ImportError as exc:
        raise ImportError(
            f"the MediaPipe hand detector is unavailable ({exc}); {INSTALL_HINT}"
        ) from exc
    protobuf_major = int(str(protobuf.__version__).split(".")[0])
    if protobuf_major >= 5:
        raise ImportError(
            f"mediapipe 0.10.14 needs protobuf < 5, found {protobuf.__version__}; "
            "install 'protobuf>=4.25.3,<5' (note that onnx >= 1.23 requires protobuf >= 6)"
        )
    return hands_module


class MediaPipeHandDetector(Closeable):
    """Detects hands and their side in every view with MediaPipe Hands.

    Views are processed one by one (static-image mode: no state between calls). Within a
    view, two detections of the same side keep the more confident one. Across views, the
    detections of one side form one hand, whose score is the mean of its views' scores.
    Not thread-safe: use one detector per thread. Call :meth:`close` (or use ``with``) to
    free the MediaPipe graph.

    Args:
        config: detector settings (defaults: two hands, threshold 0.5, full landmark model).

    Raises:
        ImportError: if ``mediapipe`` (or a protobuf it works with) is not installed.
    """

    def __init__(self, config: DetectorConfig | None = None) -> None:
        self._config = config if config is not None else DetectorConfig()
        hands_module = _import_hands_module()
        self._hands: Any = hands_module.Hands(
            static_image_mode=True,
            max_num_hands=self._config.max_hands,
            model_complexity=self._config.model_complexity,
            min_detection_confidence=self._config.min_detection_confidence,
        )

    @property
    def config(self) -> DetectorConfig:
        """The detector's settings."""
        return self._config

    def close(self) -> None:
        """Free the MediaPipe graph; the detector cannot be used afterwards."""
        if self._hands is not None:
            self._hands.close()
            self._hands = None

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
        if image.ndim != 3 or image.shape[2] != 3 or image.dtype != np.uint8:
            raise ValueError(f"expected an [H, W, 3] uint8 RGB image, got {image.shape}")
        if self._hands is None:
            raise RuntimeError("the detector was closed")
        output = self._hands.process(np.ascontiguousarray(image))
        if not output.multi_hand_landmarks:
            return []
        best: dict[HandSide, Detection] = {}
        for landmarks, handedness in zip(
            output.multi_hand_landmarks, output.multi_handedness, strict=True
        ):
            detection = self._to_detection(landmarks, handedness, image.shape[1], image.shape[0])
            kept = best.get(detection.side)
            if kept is None or detection.score > kept.score:
                best[detection.side] = detection
        return sorted(best.values(), key=lambda found: -found.score)

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

    def _to_detection(self, landmarks: Any, handedness: Any, width: int, height: int) -> Detection:
        """One MediaPipe hand (normalised landmarks, handedness) as a :class:`Detection`."""
        uv = np.array([[point.x * width, point.y * height] for point in landmarks.landmark])
        if uv.shape != (_NUM_LANDMARKS, 2):
            raise RuntimeError(f"MediaPipe returned {uv.shape[0]} landmarks, expected 21")
        category = handedness.classification[0]
        label = str(category.label).lower()
        if not self._config.mirrored_input:
            label = "right" if label == "left" else "left"
        side: HandSide = "right" if label == "right" else "left"
        score = float(category.score)
        box = box_around_points(
            uv,
            self._config.box_expand,
            square=False,
            score=score,
            min_side_px=self._config.min_box_px,
        )
        return Detection(side=side, score=score, landmarks_uv=uv, box=box)
