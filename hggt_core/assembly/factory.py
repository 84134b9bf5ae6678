# Copyright 2026 The HGGT-ROS Authors
# SPDX-License-Identifier: Apache-2.0
"""Build a ready predictor (HGGT or landmarks) from one settings object.

:class:`PipelineSpec` is the single description of "what to run" shared by the CLI and the ROS
node (whose parameters map onto it in one function), so both build identical pipelines. Two
engines answer the same question (FrameSet -> HandResults): HGGT (torch, onnx, tensorrt), the
accurate one when its weights are given, and the landmark engine (MediaPipe landmarks per view,
cameras from the hand, MANO fit), which runs on any CPU and is the default without weights.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

from hggt_core.assembly.localisers import LOCALISER_NAMES, localiser_from_name
from hggt_core.base.hand_skeleton import FingertipConvention
from hggt_core.engine.registry import HGGT_ENGINES, PRECISIONS, load_hggt_engine
from hggt_core.landmarks.landmarker import LandmarkerConfig, MultiViewLandmarker
from hggt_core.landmarks.predictor import LandmarkPredictor, LandmarkPredictorConfig
from hggt_core.mano.layer import ManoLayer, mano_layers_from_dir
from hggt_core.mano.synthetic import make_synthetic_mano
from hggt_core.pipeline.filters import FilterConfig
from hggt_core.pipeline.predictor import Predictor, PredictorConfig
from hggt_core.pipeline.tracker import TrackerConfig
from hggt_core.pipeline.types import FrameSet, HandResult, HandSide

_LOG = logging.getLogger(__name__)

ENGINE_NAMES = ("auto", "landmarks", *HGGT_ENGINES)
"""Engines: "landmarks" (MediaPipe hand landmarks + multi-view fusion + MANO fit, any CPU),
"torch" the HGGT network in PyTorch, "onnx" an `hggt export-onnx` file with ONNX Runtime,
"tensorrt" an `hggt build-engine` .engine file (CUDA; its precision was fixed when it was
built); "auto" picks "torch" when a checkpoint is given and "landmarks" otherwise."""


@dataclass(frozen=True)
class PipelineSpec:
    """What to run; every field has a safe default for a quick start."""

    checkpoint: Path | None = None
    """HGGT weights (.pt/.pth/.safetensors), the .onnx export for the "onnx" engine or the
    .engine file for "tensorrt"; None with "torch" uses the bundled demo model if present,
    else an untrained tiny network (results are then meaningless, and a warning says so)."""
    mano_dir: Path | None = None
    """Folder with MANO_RIGHT.pkl / MANO_LEFT.pkl; None uses the procedural stand-in hand."""
    engine: str = "auto"
    """Engine, one of ENGINE_NAMES; "auto": "torch" with a checkpoint, else "landmarks"."""
    device: str = "cpu"
    """Torch device, e.g. "cpu" or "cuda:0"."""
    precision: str = "fp32"
    """Backbone weight precision, a key of PRECISIONS (bf16/fp16 need CUDA)."""
    localiser: str = "crop"
    """HGGT's hand localisation, one of hggt_core.assembly.localisers.LOCALISER_NAMES (the
    landmark engine finds the hands itself)."""
    side: HandSide = "right"
    """The hand side assumed by "crop" mode (the detector finds the side itself)."""
    crop_size: int | None = None
    """Model input side in pixels; None uses the network's training size."""
    box_scale: float | None = None
    """Crop side / hand-box side; None picks 1.0 for "crop" mode (the views already are
    framed crops) and the predictor's default otherwise."""
    min_hand_views: int = 1
    """Hands seen in fewer views are skipped (the predictors' ``min_hand_views``; not the
    synchroniser's, the tracker's or a TensorRT profile's)."""
    fingertips: str = FingertipConvention.FREIHAND.value
    """Fingertip vertex convention: "freihand", "smplx" or "manopth"."""
    temporal_filter: bool = False
    """One-Euro smoothing of the results (teleoperation)."""
    use_known_intrinsics: bool = True
    """HGGT: correct the estimate to the known camera intrinsics of the views that have them
    (camera_info, cameras.json); False keeps the network's own (the landmark engine always
    solves with the known ones)."""
    landmark_model: Path | None = None
    """Landmarks: the hand landmarker .task file; None uses the one the set-up step built."""
    tracking: bool = True
    """Landmarks: track hands across the framesets of a stream (MediaPipe's VIDEO mode);
    False treats every frameset as independent images."""
    fov_deg: float = 60.0
    """Landmarks: horizontal field of view assumed for views without known intrinsics."""
    max_hands: int = 2
    """Landmarks: most hands per image. 1 (one-hand teleoperation) lets MediaPipe skip palm
    detection while it tracks the hand, about twice the frame rate."""
    tracker: TrackerConfig = field(default_factory=TrackerConfig)
    """The "tracker" localiser's settings, its re-detection policy included."""

    def __post_init__(self) -> None:
        if self.engine not in ENGINE_NAMES:
            raise ValueError(f"unknown engine {self.engine!r}; choose from {ENGINE_NAMES}")
        if self.precision not in PRECISIONS:
            raise ValueError(
                f"unknown precision {self.precision!r}; choose from {tuple(PRECISIONS)}"
            )
        if self.localiser not in LOCALISER_NAMES:
            raise ValueError(
                f"unknown localiser {self.localiser!r}; choose from {LOCALISER_NAMES}"
            )
        FingertipConvention(self.fingertips)
        if self.max_hands < 1:
            raise ValueError(f"max_hands must be at least 1, got {self.max_hands}")
        if self.resolved_engine == "landmarks" and self.precision != "fp32":
            raise ValueError("the landmarks engine runs fp32 on the CPU; drop --precision")
        if self.engine == "onnx" and (self.checkpoint is None or self.precision != "fp32"):
            raise ValueError(
                "the onnx engine needs --checkpoint pointing at an `hggt export-onnx` file and "
                "runs fp32"
            )
        if self.engine == "tensorrt" and (
            self.checkpoint is None or not self.device.startswith("cuda")
        ):
            raise ValueError(
                "the tensorrt engine needs --checkpoint pointing at an `hggt build-engine` "
                ".engine file and --device cuda (its precision was chosen when it was built)"
            )

    @property
    def resolved_engine(self) -> str:
        """The engine that runs: ``engine``, with "auto" resolved."""
        if self.engine != "auto":
            return self.engine
        return "torch" if self.checkpoint is not None else "landmarks"


class HandPredictor(Protocol):
    """What both engines' predictors offer: FrameSet -> HandResults, and their MANO layers."""

    mano_right: ManoLayer
    mano_left: ManoLayer | None

    @property
    def tracker_state(self) -> str:
        """How the last frameset's hands were found, one short line for diagnostics.

        HGGT: the reprojection tracker's ``"tracking"``, ``"re-detecting"`` or ``"lost"``, or
        ``"off"`` when the localiser does not track
        (:attr:`hggt_core.pipeline.predictor.Predictor.tracker_state`). Landmarks: per side,
        MediaPipe tracking or re-detecting and the views it found the hand in
        (:attr:`hggt_core.landmarks.predictor.LandmarkPredictor.tracker_state`).
        """
        ...

    def __call__(self, frameset: FrameSet) -> list[HandResult]:
        """Reconstruct every hand of a frameset."""
        ...

    def reset(self) -> None:
        """Forget the tracking state and the filter history."""
        ...

    def close(self) -> None:
        """Release detectors and other resources."""
        ...


@dataclass(frozen=True)
class Pipeline:
    """A built pipeline and what it was built from (for reports).

    Attributes:
        predictor: runs framesets.
        engine: the engine that runs (``PipelineSpec.resolved_engine``).
        model_source: the checkpoint or landmark model used, or a phrase saying none was.
        trained: False when the network has random weights.
        mano_source: the MANO folder, or a phrase naming the procedural stand-in.
    """

    predictor: HandPredictor
    engine: str
    model_source: str
    trained: bool
    mano_source: str


def build_pipeline(spec: PipelineSpec) -> Pipeline:
    """Load the engine (network or landmarker), MANO and the localiser; assemble the predictor.

    Raises:
        CheckpointError, OnnxModelError, ManoFileError: unusable weights, ONNX or MANO files.
        LandmarkerModelError: the landmark engine's model file is missing.
        ValueError: inconsistent settings.
        ImportError: MediaPipe was needed but is not installed.
    """
    mano_right, mano_left, mano_source = _mano_layers(spec)
    if spec.resolved_engine == "landmarks":
        return _landmark_pipeline(spec, mano_right, mano_left, mano_source)
    loaded = load_hggt_engine(
        spec.resolved_engine, spec.checkpoint, spec.device, spec.precision, spec.crop_size
    )
    engine, model_source, trained = loaded.engine, loaded.source, loaded.trained
    box_scale = spec.box_scale
    if box_scale is None:
        box_scale = 1.0 if spec.localiser == "crop" else PredictorConfig.box_scale
    config = PredictorConfig(
        crop_size=engine.crop_size,
        box_scale=box_scale,
        min_hand_views=spec.min_hand_views,
        fingertips=FingertipConvention(spec.fingertips),
        temporal_filter=FilterConfig() if spec.temporal_filter else None,
        use_known_intrinsics=spec.use_known_intrinsics,
    )
    localiser = localiser_from_name(spec.localiser, side=spec.side, tracker=spec.tracker)
    predictor = Predictor(engine, mano_right, mano_left, localiser, config)
    return Pipeline(predictor, spec.resolved_engine, model_source, trained, mano_source)


def _landmark_pipeline(
    spec: PipelineSpec, mano_right: ManoLayer, mano_left: ManoLayer, mano_source: str
) -> Pipeline:
    landmarker_config = LandmarkerConfig(
        model_path=spec.landmark_model,
        mode="video" if spec.tracking else "image",
        max_hands=spec.max_hands,
    )
    landmarker = MultiViewLandmarker(landmarker_config)
    config = LandmarkPredictorConfig(
        fov_deg=spec.fov_deg,
        min_hand_views=spec.min_hand_views,
        temporal_filter=FilterConfig() if spec.temporal_filter else None,
    )
    predictor = LandmarkPredictor(landmarker, mano_right, mano_left, config)
    source = f"MediaPipe hand landmarker ({landmarker.config.model_path})"
    return Pipeline(predictor, "landmarks", source, True, mano_source)


def _mano_layers(spec: PipelineSpec) -> tuple[ManoLayer, ManoLayer, str]:
    if spec.mano_dir is not None:
        right, left = mano_layers_from_dir(spec.mano_dir, spec.fingertips)
        return right, left, str(spec.mano_dir)
    _LOG.warning(
        "no MANO folder given: using the procedural stand-in hand (pass --mano-dir with the "
        "official MANO files for real meshes)"
    )
    right = ManoLayer(make_synthetic_mano("right"), fingertips=spec.fingertips)
    left = ManoLayer(make_synthetic_mano("left"), fingertips=spec.fingertips)
    return right, left, "procedural stand-in hand (hggt_core.mano.synthetic)"
