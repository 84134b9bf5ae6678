# Copyright 2026 The HGGT-ROS Authors
# SPDX-License-Identifier: Apache-2.0
"""The hand localisers by name (the CLI's ``--localiser``, the node's ``localiser.mode``).

It sits above both :mod:`hggt_core.pipeline` (boxes, crop mode, the tracker) and
:mod:`hggt_core.landmarks` (the MediaPipe detector), which it chooses between.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence

from hggt_core.landmarks.detector import DetectorConfig, MediaPipeHandDetector
from hggt_core.landmarks.model_file import LandmarkerModelError
from hggt_core.pipeline.localise import GivenBoxes, WholeImageCrops
from hggt_core.pipeline.tracker import ReprojectionTracker, TrackerConfig
from hggt_core.pipeline.types import HandBoxes, HandLocaliser, HandSide

_LOG = logging.getLogger(__name__)

LOCALISER_NAMES = ("boxes", "crop", "tracker", "mediapipe")


def localiser_from_name(
    name: str,
    *,
    side: HandSide = "right",
    boxes: Sequence[HandBoxes] | None = None,
    tracker: TrackerConfig | None = None,
    detector: DetectorConfig | None = None,
) -> HandLocaliser:
    """Build a localiser by name (the CLI's ``--detector`` and the node's parameter).

    Args:
        name: ``"boxes"`` (needs ``boxes``), ``"crop"`` (every view is a crop of a ``side``
            hand), ``"tracker"`` (reprojection tracker over the MediaPipe detector when it is
            installed and its model file built, else over crop mode) or ``"mediapipe"`` (the
            detector alone).
        side: the hand side of crop mode.
        boxes: the caller's boxes for ``"boxes"``.
        tracker: tracker settings for ``"tracker"``.
        detector: a :class:`~hggt_core.landmarks.detector.DetectorConfig` for the
            MediaPipe detector, or None for its defaults.

    Returns:
        The localiser; the detector and the tracker have a ``close()`` method.

    Raises:
        ValueError: for an unknown name (the message lists the choices), or ``"boxes"``
            without boxes.
        ImportError: for ``"mediapipe"`` without a working ``mediapipe`` (says how to install).
        LandmarkerModelError: for ``"mediapipe"`` without the model file (says how to get it).
    """
    if name == "boxes":
        if boxes is None:
            raise ValueError("localiser 'boxes' needs the hand boxes")
        return GivenBoxes(boxes)
    if name == "crop":
        return WholeImageCrops(side)
    if name in ("mediapipe", "tracker"):
        if name == "mediapipe":
            return MediaPipeHandDetector(detector)
        fallback: HandLocaliser
        try:
            fallback = MediaPipeHandDetector(detector)
        except (ImportError, LandmarkerModelError) as exc:
            _LOG.warning("tracker falls back to crop mode (%s hand): %s", side, exc)
            fallback = WholeImageCrops(side)
        return ReprojectionTracker(fallback, tracker)
    raise ValueError(f"unknown hand localiser {name!r}; choose one of {list(LOCALISER_NAMES)}")
