# Copyright 2026 The HGGT-ROS Authors
# SPDX-License-Identifier: Apache-2.0
"""The ONNX Runtime engine: runs a graph written by :func:`~hggt_core.engine.export.export_onnx`.

The crop size, the view limit and the network configuration are read from the file's
``hggt.*`` metadata, so an engine needs nothing but the path. ONNX Runtime is an optional
dependency (``pip install .[onnx]``, or ``onnxruntime-gpu`` for the CUDA and TensorRT
execution providers); it is imported when an engine is created.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Any

import numpy as np

from hggt_core.engine.base import Float32Array, RawPrediction
from hggt_core.engine.export import (
    FORMAT_TAG,
    HGGT_OUTPUTS,
    INPUT_NAME,
    MANO_OUTPUTS,
    META_CONFIG,
    META_CROP_SIZE,
    META_FORMAT,
    META_MAX_VIEWS,
)
from hggt_core.model.hggt import HGGTConfig

PREFERRED_PROVIDERS = ("CUDAExecutionProvider", "CPUExecutionProvider")
"""Default execution providers, best first, when present in the installed ONNX Runtime.
TensorRT's provider is used only when asked for (it builds engines at session start, which
takes minutes; the ``tensorrt`` engine is the supported TensorRT path)."""
Provider = str | tuple[str, Mapping[str, Any]]
"""An execution provider name, or (name, options), e.g. ("CUDAExecutionProvider",
{"device_id": 1})."""
_GPU_PROVIDERS = ("CUDAExecutionProvider", "TensorrtExecutionProvider")
_QUIET_LOG_SEVERITY = 3  # errors only; the optimiser's initializer notices are not actionable


class OnnxModelError(ValueError):
    """A file that ONNX Runtime cannot load, or that is not an HGGT export."""


@dataclass(frozen=True)
class HandMesh:
    """The MANO mesh a graph with a baked-in MANO layer also returns (one hand, no batch).

    Attributes:
        vertices: [778, 3] posed vertices, metres, crop-0's camera frame (OpenCV axes).
        joints: [21, 3] joints in OpenPose order (fingertips included), same frame.
    """

    vertices: Float32Array
    joints: Float32Array


def _import_onnxruntime() -> Any:
    try:
        import onnxruntime
    except ImportError as error:
        raise ImportError(
            "the onnx engine needs ONNX Runtime: pip install onnxruntime (or onnxruntime-gpu)"
        ) from error
    return onnxruntime


def _load_errors(ort: Any) -> tuple[type[Exception], ...]:
    """What InferenceSession raises for a file it cannot use (its own classes, not builtins)."""
    state = ort.capi.onnxruntime_pybind11_state
    names = ("Fail", "InvalidArgument", "InvalidGraph", "InvalidProtobuf", "NotImplemented")
    return (RuntimeError, *(getattr(state, name) for name in names))


def _metadata_int(metadata: Mapping[str, str], key: str, path: Path) -> int:
    try:
        value = int(metadata[key])
    except (KeyError, ValueError) as error:
        raise OnnxModelError(f"{path}: metadata {key!r} is missing or not an integer") from error
    if value < 1:
        raise OnnxModelError(f"{path}: metadata {key!r} must be positive, got {value}")
    return value


def _metadata_config(metadata: Mapping[str, str], path: Path) -> HGGTConfig:
    try:
        values = json.loads(metadata[META_CONFIG])
    except (KeyError, json.JSONDecodeError) as error:
        raise OnnxModelError(f"{path}: metadata {META_CONFIG!r} is missing or invalid") from error
    known = {item.name for item in fields(HGGTConfig)}
    if not isinstance(values, dict) or set(values) - known:
        raise OnnxModelError(f"{path}: metadata {META_CONFIG!r} is not an HGGT configuration")
    return HGGTConfig(**values)


def _device_of(session: Any) -> str:
    """The device string: cpu, cuda:<id> (CUDA / TensorRT providers) or the provider's name."""
    provider: str = session.get_providers()[0]
    if provider in _GPU_PROVIDERS:
        device_id = session.get_provider_options().get(provider, {}).get("device_id", "0")
        return f"cuda:{device_id}"
    return provider.removesuffix("ExecutionProvider").lower()


def _float32(array: Any) -> Float32Array:
    return np.ascontiguousarray(array, dtype=np.float32)


class OnnxEngine:
    """Runs an HGGT ONNX export with ONNX Runtime (implements ``Engine``).

    Args:
        path: the ``.onnx`` file (its ``.data`` file, if any, next to it).
        providers: ONNX Runtime execution providers in priority order, names or (name,
            options) pairs; None takes those of :data:`PREFERRED_PROVIDERS` that are installed.
        threads: intra-op CPU threads; None lets ONNX Runtime decide (one per core).

    Attributes:
        crop_size: square input side in pixels (from the metadata).
        max_views: largest view count S the graph accepts.
        config: the network configuration the graph was exported from.
        has_mano: whether the graph also returns the MANO mesh (see :meth:`run_with_mesh`).
        providers: the providers the session actually uses.

    Raises:
        FileNotFoundError: no file at ``path``.
        ImportError: ONNX Runtime is not installed.
        OnnxModelError: the file cannot be loaded or is not an HGGT export.
        ValueError: ``threads`` < 1.
    """

    name = "onnx"

    def __init__(
        self,
        path: str | Path,
        providers: Sequence[Provider] | None = None,
        threads: int | None = None,
    ) -> None:
        path = Path(path)
        if not path.is_file():
            raise FileNotFoundError(f"ONNX model not found: {path}")
        if threads is not None and threads < 1:
            raise ValueError(f"threads must be >= 1, got {threads}")
        ort = _import_onnxruntime()
        if providers is None:
            available = set(ort.get_available_providers())
            providers = [name for name in PREFERRED_PROVIDERS if name in available]
        options = ort.SessionOptions()
        options.log_severity_level = _QUIET_LOG_SEVERITY
        if threads is not None:
            options.intra_op_num_threads = threads
        try:
            self._session = ort.InferenceSession(
                str(path), sess_options=options, providers=list(providers)
            )
        except _load_errors(ort) as error:
            raise OnnxModelError(f"ONNX Runtime cannot load {path}: {error}") from error
        metadata = self._session.get_modelmeta().custom_metadata_map
        if metadata.get(META_FORMAT) != FORMAT_TAG:
            raise OnnxModelError(
                f"{path} is not an HGGT export (metadata {META_FORMAT!r} is "
                f"{metadata.get(META_FORMAT)!r}, expected {FORMAT_TAG!r}); write one with "
                "hggt export-onnx"
            )
        self.crop_size = _metadata_int(metadata, META_CROP_SIZE, path)
        self.max_views = _metadata_int(metadata, META_MAX_VIEWS, path)
        self.config = _metadata_config(metadata, path)
        self.has_mano = self._check_signature(path)
        self.providers = tuple(self._session.get_providers())
        self.device = _device_of(self._session)

    def _check_signature(self, path: Path) -> bool:
        """Check the graph's input and outputs; True when it also returns the MANO mesh."""
        inputs = [value.name for value in self._session.get_inputs()]
        outputs = {value.name for value in self._session.get_outputs()}
        missing = sorted(set(HGGT_OUTPUTS) - outputs)
        if inputs != [INPUT_NAME] or missing:
            raise OnnxModelError(
                f"{path}: expected input [{INPUT_NAME!r}] and outputs {HGGT_OUTPUTS}; got "
                f"inputs {inputs}, missing outputs {missing}"
            )
        return set(MANO_OUTPUTS) <= outputs

    def _check_crops(self, crops: Float32Array) -> None:
        expected = (3, self.crop_size, self.crop_size)
        if crops.ndim != 4 or crops.shape[1:] != expected or crops.dtype != np.float32:
            raise ValueError(
                f"expected [S, {', '.join(map(str, expected))}] float32 crops, "
                f"got {crops.shape} {crops.dtype}"
            )
        if not 1 <= crops.shape[0] <= self.max_views:
            raise ValueError(
                f"this export takes 1 to {self.max_views} views, got {crops.shape[0]}; "
                "re-export with a larger max_views"
            )

    def _run(self, crops: Float32Array, names: Sequence[str]) -> list[Float32Array]:
        self._check_crops(crops)
        outputs = self._session.run(list(names), {INPUT_NAME: np.ascontiguousarray(crops)})
        return [_float32(output[0]) for output in outputs]

    def run(self, crops: Float32Array) -> RawPrediction:
        """Predict from [S, 3, crop_size, crop_size] float32 RGB crops in [0, 1].

        Raises:
            ValueError: wrong shape or dtype, or S outside 1..max_views.
        """
        hand_pose, betas, transl, pose_enc = self._run(crops, HGGT_OUTPUTS)
        return RawPrediction(hand_pose=hand_pose, betas=betas, transl=transl, pose_enc=pose_enc)

    def run_with_mesh(self, crops: Float32Array) -> tuple[RawPrediction, HandMesh]:
        """Like :meth:`run`, plus the mesh of the baked-in (right-hand) MANO layer.

        Raises:
            ValueError: the graph has no MANO outputs, or malformed crops (see :meth:`run`).
        """
        if not self.has_mano:
            raise ValueError("this export has no MANO outputs; export with include_mano")
        hand_pose, betas, transl, pose_enc, vertices, joints = self._run(
            crops, HGGT_OUTPUTS + MANO_OUTPUTS
        )
        raw = RawPrediction(hand_pose=hand_pose, betas=betas, transl=transl, pose_enc=pose_enc)
        return raw, HandMesh(vertices=vertices, joints=joints)
