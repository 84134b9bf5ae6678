# Copyright 2026 The HGGT-ROS Authors
# SPDX-License-Identifier: Apache-2.0
"""MediaPipe's hand landmarker (Task API) per view: image landmarks, world landmarks, side.

:class:`HandLandmarker` wraps ``mediapipe.tasks.python.vision.HandLandmarker`` for one image
stream, in IMAGE mode (every image on its own: palm detection, then landmarks) or VIDEO mode
(landmarks tracked from the previous frame; palm detection runs only while fewer than
``max_hands`` hands are tracked).
:class:`MultiViewLandmarker` keeps one per camera of a frameset, so VIDEO mode tracks each
stream. ``mediapipe`` is imported only when a landmarker is built, so the core imports
without it; the model file comes from :mod:`hggt_core.landmarks.model_file`.

Conventions, checked on the real example crops (``test/landmarks/test_landmarker.py``):

* Handedness: the Task API labels the subject's hand of a normal, non-mirrored camera image
  ("Right" on 13 of the 14 right hands it finds among the examples; a horizontally flipped
  image flips the label). ``mirrored_input`` swaps the labels for selfie-style images.
* ``uv``: MediaPipe's normalised x, y times the image width and height, i.e. full-image
  pixels with u right, v down and the top-left pixel's centre at (0.5, 0.5), the axes of
  :mod:`hggt_core.pipeline.types`.
* ``world_m``: MediaPipe's world landmarks as they are: metres, origin near the hand's
  centre, axes aligned with the camera's optical axes (x right, y down, z forward). The z
  sign was verified: with R = I and the translation fitted by least squares, these points
  project onto ``uv`` better than with z negated, and their z grows with MediaPipe's image
  depth (whose documented convention is "smaller is closer to the camera").
"""

from __future__ import annotations

import dataclasses
import importlib
import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import numpy as np

from hggt_core.base.closeable import Closeable
from hggt_core.landmarks.model_file import find_landmarker_model
from hggt_core.pipeline.types import FloatArray, FrameSet, HandSide, ImageArray

_LOG = logging.getLogger(__name__)

MEDIAPIPE_VERSION = "1.2.3"
INSTALL_HINT = (
    "run tools/setup_venv.sh, or: pip install 'hggt_ros[detector]' && "
    f"pip install --no-deps mediapipe=={MEDIAPIPE_VERSION} (no opencv-contrib-python: "
    "opencv-python-headless provides cv2)"
)
NUM_LANDMARKS = 21
LandmarkerMode = Literal["image", "video"]


@dataclass(frozen=True)
class LandmarkerConfig:
    """Settings of :class:`HandLandmarker` (MediaPipe 1.2's Task API has no thread count).

    Attributes:
        model_path: the ``.task`` bundle, or None for the built one in the cache folder.
        max_hands: most hands detected per image (MediaPipe's ``num_hands``). In VIDEO mode
            1 skips palm detection while the hand is tracked (measured on 640 x 480 on the
            2-core CPU: 9.5 ms per frame instead of 20 ms).
        min_detection_confidence: palm detection score threshold in [0, 1].
        min_presence_confidence: hand presence score threshold of the landmark model in [0, 1].
        min_tracking_confidence: VIDEO mode: below this the hand is detected again, in [0, 1].
        mirrored_input: the images are mirrored (selfie cameras), so the labels are swapped.
        mode: ``"image"`` (independent images) or ``"video"`` (tracking across frames).
    """

    model_path: Path | None = None
    max_hands: int = 2
    min_detection_confidence: float = 0.5
    min_presence_confidence: float = 0.5
    min_tracking_confidence: float = 0.5
    mirrored_input: bool = False
    mode: LandmarkerMode = "image"

    def __post_init__(self) -> None:
        if self.max_hands < 1:
            raise ValueError(f"max_hands must be >= 1, got {self.max_hands}")
        for name in ("min_detection_confidence", "min_presence_confidence"):
            value = getattr(self, name)
            if not 0.0 <= value <= 1.0:
                raise ValueError(f"{name} must lie in [0, 1], got {value}")
        if not 0.0 <= self.min_tracking_confidence <= 1.0:
            raise ValueError(
                f"min_tracking_confidence must lie in [0, 1], got {self.min_tracking_confidence}"
            )
        if self.mode not in ("image", "video"):
            raise ValueError(f"mode must be 'image' or 'video', got {self.mode!r}")


@dataclass(frozen=True)
class HandLandmarks:
    """One hand found in one image.

    Attributes:
        side: the subject's hand (after the mirroring convention is resolved).
        handedness_score: MediaPipe's confidence in ``side``, in [0.5, 1].
        uv: [21, 2] float64 image landmarks in full-image pixels (u right, v down, the
            top-left pixel's centre at (0.5, 0.5)); MediaPipe's joint order (wrist, then four
            joints per finger from the thumb), the same as OpenPose's.
        world_m: [21, 3] float64 world landmarks in metres, hand-centred, axes of the
            camera's optical frame (x right, y down, z forward); same joint order.
    """

    side: HandSide
    handedness_score: float
    uv: FloatArray
    world_m: FloatArray

    def __post_init__(self) -> None:
        if self.uv.shape != (NUM_LANDMARKS, 2) or self.world_m.shape != (NUM_LANDMARKS, 3):
            raise ValueError(
                f"expected uv [21, 2] and world_m [21, 3], got {self.uv.shape} and "
                f"{self.world_m.shape}"
            )


class HandLandmarker(Closeable):
    """MediaPipe's hand landmarker for one image stream.

    Not thread-safe: use one per thread. Call :meth:`close` (or use ``with``) to free the
    MediaPipe graph.

    Args:
        config: settings (defaults: IMAGE mode, two hands, thresholds 0.5, cached model).

    Raises:
        ImportError: if ``mediapipe`` is not installed (the message says how to install it).
        LandmarkerModelError: if the model file is missing (the message says how to get it).
        RuntimeError: if MediaPipe cannot load the model file.
    """

    def __init__(self, config: LandmarkerConfig | None = None) -> None:
        config = config if config is not None else LandmarkerConfig()
        self._mediapipe, self._vision = _import_mediapipe()
        self._config = dataclasses.replace(
            config, model_path=find_landmarker_model(config.model_path)
        )
        self._task: Any = self._create_task()
        self._last_timestamp_ms: int | None = None

    @property
    def config(self) -> LandmarkerConfig:
        """The settings, with ``model_path`` resolved to the file in use."""
        return self._config

    def close(self) -> None:
        """Free the MediaPipe graph; the landmarker cannot be used afterwards."""
        if self._task is not None:
            self._task.close()
            self._task = None

    def detect(self, image: ImageArray, timestamp_ms: int | None = None) -> list[HandLandmarks]:
        """The hands in one image, at most one per side.

        Args:
            image: [H, W, 3] uint8 RGB.
            timestamp_ms: VIDEO mode: the frame's time in milliseconds, increasing from call
                to call (a value that does not increase starts a new stream: the graph is
                rebuilt and tracking restarts); None for 1 ms after the previous frame.
                Ignored in IMAGE mode.

        Returns:
            The hands found, most confident first.

        Raises:
            ValueError: if the image is not [H, W, 3] uint8 with H, W > 0.
            RuntimeError: if the landmarker was closed.
        """
        check_image(image)
        if self._task is None:
            raise RuntimeError("the hand landmarker was closed")
        frame = self._mediapipe.Image(
            image_format=self._mediapipe.ImageFormat.SRGB, data=np.ascontiguousarray(image)
        )
        if self._config.mode == "image":
            result = self._task.detect(frame)
        else:
            # The timestamp first: when time goes back it replaces the task.
            video_timestamp_ms = self._next_timestamp(timestamp_ms)
            result = self._task.detect_for_video(frame, video_timestamp_ms)
        height, width = image.shape[:2]
        return self._to_hands(result, width, height)

    def _create_task(self) -> Any:
        """A MediaPipe HandLandmarker built from the configuration."""
        config = self._config
        base_options = self._mediapipe.tasks.BaseOptions(model_asset_path=str(config.model_path))
        running_mode = (
            self._vision.RunningMode.IMAGE
            if config.mode == "image"
            else self._vision.RunningMode.VIDEO
        )
        options = self._vision.HandLandmarkerOptions(
            base_options=base_options,
            running_mode=running_mode,
            num_hands=config.max_hands,
            min_hand_detection_confidence=config.min_detection_confidence,
            min_hand_presence_confidence=config.min_presence_confidence,
            min_tracking_confidence=config.min_tracking_confidence,
        )
        try:
            return self._vision.HandLandmarker.create_from_options(options)
        except (RuntimeError, ValueError) as exc:
            raise RuntimeError(
                f"cannot load the hand landmarker model {config.model_path}: {exc}"
            ) from exc

    def _next_timestamp(self, timestamp_ms: int | None) -> int:
        """The VIDEO-mode timestamp to send, rebuilding the graph when time goes back."""
        last = self._last_timestamp_ms
        if timestamp_ms is None:
            timestamp_ms = 0 if last is None else last + 1
        elif last is not None and timestamp_ms <= last:
            _LOG.debug(
                "timestamp %d ms does not follow %d ms: restarting the hand landmarker",
                timestamp_ms,
                last,
            )
            self._task.close()
            self._task = self._create_task()
        self._last_timestamp_ms = timestamp_ms
        return timestamp_ms

    def _to_hands(self, result: Any, width: int, height: int) -> list[HandLandmarks]:
        """MediaPipe's result as :class:`HandLandmarks`, the best one per side."""
        best: dict[HandSide, HandLandmarks] = {}
        for categories, image_points, world_points in zip(
            result.handedness, result.hand_landmarks, result.hand_world_landmarks, strict=True
        ):
            side = self._side(str(categories[0].category_name))
            if side is None:
                continue
            uv = np.array([[point.x * width, point.y * height] for point in image_points])
            world_m = np.array([[point.x, point.y, point.z] for point in world_points])
            if uv.shape != (NUM_LANDMARKS, 2) or world_m.shape != (NUM_LANDMARKS, 3):
                raise RuntimeError(f"MediaPipe returned {len(image_points)} landmarks, not 21")
            hand = HandLandmarks(side, float(categories[0].score), uv, world_m)
            kept = best.get(side)
            if kept is None or hand.handedness_score > kept.handedness_score:
                best[side] = hand
        return sorted(best.values(), key=lambda hand: -hand.handedness_score)

    def _side(self, label: str) -> HandSide | None:
        """The subject's side for a MediaPipe label, or None for an unknown label."""
        sides: dict[str, HandSide] = {"right": "right", "left": "left"}
        side = sides.get(label.lower())
        if side is None:
            _LOG.warning("ignoring a hand with the unknown handedness label %r", label)
            return None
        if self._config.mirrored_input:
            return "left" if side == "right" else "right"
        return side


class MultiViewLandmarker(Closeable):
    """One :class:`HandLandmarker` per view name, fed with each view's stamp.

    In VIDEO mode each camera's stream is tracked on its own. Landmarkers are built when a
    view name first appears and kept until :meth:`close`.

    Args:
        config: settings shared by every view's landmarker.

    Raises:
        ImportError: if ``mediapipe`` is not installed (the message says how to install it).
        LandmarkerModelError: if the model file is missing (the message says how to get it).
    """

    def __init__(self, config: LandmarkerConfig | None = None) -> None:
        config = config if config is not None else LandmarkerConfig()
        _import_mediapipe()
        self._config = dataclasses.replace(
            config, model_path=find_landmarker_model(config.model_path)
        )
        self._per_view: dict[str, HandLandmarker] = {}
        self._closed = False

    @property
    def config(self) -> LandmarkerConfig:
        """The settings, with ``model_path`` resolved to the file in use."""
        return self._config

    @property
    def tracking(self) -> bool:
        """Whether hands are tracked from frameset to frameset (VIDEO mode), not detected anew."""
        return self._config.mode == "video"

    @property
    def view_names(self) -> tuple[str, ...]:
        """The views that have a landmarker, in order of first appearance."""
        return tuple(self._per_view)

    def close(self) -> None:
        """Free every view's landmarker; this object cannot be used afterwards."""
        for landmarker in self._per_view.values():
            landmarker.close()
        self._per_view.clear()
        self._closed = True

    def detect(self, frameset: FrameSet) -> dict[str, list[HandLandmarks]]:
        """The hands in every view of a frameset.

        Args:
            frameset: the views; each view's ``stamp_s`` (seconds) becomes its landmarker's
                timestamp in whole milliseconds.

        Returns:
            View name -> the hands found in it (at most one per side, most confident first),
            for every view of the frameset.

        Raises:
            ValueError: if a view's image is not [H, W, 3] uint8 (the message names the view).
            RuntimeError: if the landmarker was closed.
        """
        if self._closed:
            raise RuntimeError("the multi-view hand landmarker was closed")
        found: dict[str, list[HandLandmarks]] = {}
        for view in frameset.views:
            try:
                check_image(view.image)
            except ValueError as exc:
                raise ValueError(f"view {view.name!r}: {exc}") from exc
            landmarker = self._per_view.get(view.name)
            if landmarker is None:
                landmarker = HandLandmarker(self._config)
                self._per_view[view.name] = landmarker
            found[view.name] = landmarker.detect(view.image, round(view.stamp_s * 1000.0))
        return found


def check_image(image: ImageArray) -> None:
    """Raise ValueError unless ``image`` is a non-empty [H, W, 3] uint8 array."""
    shape = getattr(image, "shape", None)
    dtype = getattr(image, "dtype", None)
    if shape is None or len(shape) != 3 or shape[2] != 3 or min(shape) == 0 or dtype != np.uint8:
        raise ValueError(
            f"expected an [H, W, 3] uint8 RGB image, got shape {shape} and dtype {dtype}"
        )


def _import_mediapipe() -> tuple[Any, Any]:
    """``mediapipe`` and its Task API vision module, or an ImportError with the install hint."""
    try:
        mediapipe = importlib.import_module("mediapipe")
        vision = importlib.import_module("mediapipe.tasks.python.vision")
    except ImportError as exc:
        raise ImportError(
            f"the MediaPipe hand landmarker is unavailable ({exc}); {INSTALL_HINT}"
        ) from exc
    return mediapipe, vision
