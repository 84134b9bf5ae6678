# Copyright 2026 The HGGT-ROS Authors
# SPDX-License-Identifier: Apache-2.0
"""The TensorRT engine: runs an engine file written by ``hggt build-engine``.

Buffers are allocated once, for the profile's largest view count: page-locked (pinned) host
buffers, so host <-> device copies are true asynchronous DMA, and device buffers as torch
tensors, so no pycuda / cuda-python dependency is needed. Every call copies the crops in,
sets the input shape for its S, enqueues the engine (``execute_async_v3``) and copies the
outputs back, all on one CUDA stream of its own, then waits for that stream only.

TensorRT (>= 10) is optional: ``pip install hggt_ros[trt]``; on Jetson it comes with JetPack 6.
"""

from __future__ import annotations

import logging
import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch

from hggt_core.engine.base import Float32Array, RawPrediction
from hggt_core.engine.export import HGGT_OUTPUTS, INPUT_NAME, MANO_OUTPUTS
from hggt_core.engine.onnx_engine import HandMesh
from hggt_core.engine.tensorrt_metadata import (
    EngineIdentity,
    TensorRTError,
    import_tensorrt,
    read_sidecar,
    sanitise_name,
)

_LOG = logging.getLogger(__name__)

_TORCH_DTYPES = {
    "FLOAT": torch.float32,
    "HALF": torch.float16,
    "BF16": torch.bfloat16,
    "INT32": torch.int32,
    "INT64": torch.int64,
}
"""TensorRT DataType names -> torch dtypes, for the I/O buffers."""


@dataclass(frozen=True)
class ViewProfile:
    """The view counts an engine accepts (its optimisation profile on the input's axis 0)."""

    min_views: int
    opt_views: int
    max_views: int


def check_identity(
    built: EngineIdentity,
    tensorrt_version: str,
    gpu_name: str,
    path: str | Path,
    allow_other_gpu: bool = False,
) -> None:
    """Refuse an engine built with another TensorRT version or (unless allowed) on another GPU.

    Raises:
        TensorRTError: with the rebuild command in the message.
    """
    rebuild = "rebuild it on this machine with hggt build-engine"
    if built.tensorrt_version != tensorrt_version:
        raise TensorRTError(
            f"{path} was built with TensorRT {built.tensorrt_version} but this is TensorRT "
            f"{tensorrt_version}; engines only run on the version that built them: {rebuild}"
        )
    if built.gpu != sanitise_name(gpu_name) and not allow_other_gpu:
        raise TensorRTError(
            f"{path} was built for GPU {built.gpu!r} but this is {gpu_name!r}; engines are "
            f"tuned for (and may not run on) other GPUs: {rebuild}"
        )


def check_views(views: int, profile: ViewProfile) -> None:
    """Require S inside the engine's optimisation profile.

    Raises:
        ValueError: S outside min_views..max_views.
    """
    if not profile.min_views <= views <= profile.max_views:
        raise ValueError(
            f"this engine takes {profile.min_views} to {profile.max_views} views (its "
            f"optimisation profile), got {views}; rebuild with hggt build-engine --min-views / "
            "--max-views"
        )


def _torch_dtype(trt_dtype: Any) -> torch.dtype:
    name = str(trt_dtype.name)
    if name not in _TORCH_DTYPES:
        raise TensorRTError(f"unsupported engine I/O type {name}")
    return _TORCH_DTYPES[name]


def _identity_of(path: Path) -> EngineIdentity | None:
    metadata = read_sidecar(path)
    if metadata is not None:
        return metadata.identity
    return EngineIdentity.from_file_name(path.name)


class TensorRTEngine:
    """Runs an HGGT TensorRT engine (implements ``Engine``).

    Args:
        path: the ``.engine`` file; its ``.json`` sidecar (if present) or its file name is
            checked against the running TensorRT version and GPU first.
        device: CUDA device, e.g. "cuda" or "cuda:1".
        allow_other_gpu: run an engine whose name says another GPU (same TensorRT version).

    Attributes:
        crop_size: square input side in pixels (from the engine's input shape).
        profile: the view counts the engine accepts.
        has_mano: whether the engine also returns the MANO mesh (see :meth:`run_with_mesh`).

    Raises:
        FileNotFoundError: no file at ``path``.
        ImportError: TensorRT is not installed.
        TensorRTError: no CUDA, another TensorRT version or GPU, an engine TensorRT cannot
            load, or one without HGGT's input and outputs.
    """

    name = "tensorrt"

    def __init__(
        self, path: str | Path, device: str = "cuda", allow_other_gpu: bool = False
    ) -> None:
        path = Path(path)
        if not path.is_file():
            raise FileNotFoundError(f"TensorRT engine not found: {path}")
        trt = import_tensorrt()
        if not torch.cuda.is_available():
            raise TensorRTError("the tensorrt engine needs a CUDA GPU and none is available")
        torch_device = torch.device(device)
        if torch_device.type != "cuda":
            raise ValueError(f"the tensorrt engine runs on CUDA devices, not {device!r}")
        identity = _identity_of(path)
        gpu_name = torch.cuda.get_device_name(torch_device)
        if identity is None:
            _LOG.warning("%s: no sidecar and an unknown file name; cannot check its origin", path)
        else:
            check_identity(identity, str(trt.__version__), gpu_name, path, allow_other_gpu)
        self.device = str(torch_device)
        with torch.cuda.device(torch_device):
            self._load(trt, path)
            self._allocate()

    def _load(self, trt: Any, path: Path) -> None:
        self._logger = trt.Logger(trt.Logger.WARNING)
        self._runtime = trt.Runtime(self._logger)
        self._engine = self._runtime.deserialize_cuda_engine(path.read_bytes())
        if self._engine is None:
            raise TensorRTError(
                f"TensorRT {trt.__version__} cannot load {path} (built with another TensorRT "
                "version, for another GPU, or not an engine file): rebuild it with "
                "hggt build-engine"
            )
        names = [self._engine.get_tensor_name(i) for i in range(self._engine.num_io_tensors)]
        inputs = [n for n in names if self._engine.get_tensor_mode(n) == trt.TensorIOMode.INPUT]
        self._output_names = tuple(name for name in names if name not in inputs)
        missing = sorted(set(HGGT_OUTPUTS) - set(self._output_names))
        if inputs != [INPUT_NAME] or missing:
            raise TensorRTError(
                f"{path}: expected input [{INPUT_NAME!r}] and outputs {HGGT_OUTPUTS}; got "
                f"inputs {inputs}, missing outputs {missing}"
            )
        self.has_mano = set(MANO_OUTPUTS) <= set(self._output_names)
        shapes = [tuple(shape) for shape in self._engine.get_tensor_profile_shape(INPUT_NAME, 0)]
        self.profile = ViewProfile(shapes[0][0], shapes[1][0], shapes[2][0])
        self.crop_size = int(shapes[0][-1])
        self._context = self._engine.create_execution_context()
        self._input_dtype = _torch_dtype(self._engine.get_tensor_dtype(INPUT_NAME))

    def _allocate(self) -> None:
        """Pinned host and device buffers for the largest S, and the stream."""
        size = self.crop_size
        largest = (self.profile.max_views, 3, size, size)
        if not self._context.set_input_shape(INPUT_NAME, largest):
            raise TensorRTError(f"the engine rejects its own largest input shape {largest}")
        self._stream = torch.cuda.Stream()
        self._host_input = torch.empty(largest, dtype=self._input_dtype, pin_memory=True)
        self._device_input = torch.empty(largest, dtype=self._input_dtype, device=self.device)
        self._host_outputs: dict[str, torch.Tensor] = {}
        self._device_outputs: dict[str, torch.Tensor] = {}
        for name in self._output_names:
            volume = math.prod(self._context.get_tensor_shape(name))
            dtype = _torch_dtype(self._engine.get_tensor_dtype(name))
            self._host_outputs[name] = torch.empty(volume, dtype=dtype, pin_memory=True)
            self._device_outputs[name] = torch.empty(volume, dtype=dtype, device=self.device)

    def _check_crops(self, crops: Float32Array) -> None:
        expected = (3, self.crop_size, self.crop_size)
        if crops.ndim != 4 or crops.shape[1:] != expected or crops.dtype != np.float32:
            raise ValueError(
                f"expected [S, {', '.join(map(str, expected))}] float32 crops, "
                f"got {crops.shape} {crops.dtype}"
            )
        check_views(crops.shape[0], self.profile)

    def _execute(self, crops: Float32Array) -> dict[str, Float32Array]:
        """One inference; returns every output as float32 arrays (batch axis kept)."""
        self._check_crops(crops)
        views = crops.shape[0]
        host_input = self._host_input[:views]
        host_input.copy_(torch.from_numpy(crops))
        if not self._context.set_input_shape(INPUT_NAME, tuple(host_input.shape)):
            raise TensorRTError(f"TensorRT rejected the input shape {tuple(host_input.shape)}")
        shapes = {name: tuple(self._context.get_tensor_shape(name)) for name in self._output_names}
        with torch.cuda.stream(self._stream):
            device_input = self._device_input[:views]
            device_input.copy_(host_input, non_blocking=True)
            self._context.set_tensor_address(INPUT_NAME, device_input.data_ptr())
            for name in self._output_names:
                self._context.set_tensor_address(name, self._device_outputs[name].data_ptr())
            if not self._context.execute_async_v3(self._stream.cuda_stream):
                raise TensorRTError("TensorRT failed to enqueue the engine (see its log)")
            for name, shape in shapes.items():
                volume = math.prod(shape)
                self._host_outputs[name][:volume].copy_(
                    self._device_outputs[name][:volume], non_blocking=True
                )
        self._stream.synchronize()
        return {
            name: np.array(
                self._host_outputs[name][: math.prod(shape)].float().numpy().reshape(shape),
                dtype=np.float32,
            )
            for name, shape in shapes.items()
        }

    def run(self, crops: Float32Array) -> RawPrediction:
        """Predict from [S, 3, crop_size, crop_size] float32 RGB crops in [0, 1].

        Raises:
            ValueError: wrong shape or dtype, or S outside the engine's profile.
            TensorRTError: TensorRT failed to run the engine.
        """
        outputs = self._execute(crops)
        return RawPrediction(
            hand_pose=outputs["hand_pose"][0],
            betas=outputs["betas"][0],
            transl=outputs["transl"][0],
            pose_enc=outputs["pose_enc"][0],
        )

    def run_with_mesh(self, crops: Float32Array) -> tuple[RawPrediction, HandMesh]:
        """Like :meth:`run`, plus the mesh of the baked-in (right-hand) MANO layer.

        Raises:
            ValueError: the engine has no MANO outputs, or malformed crops (see :meth:`run`).
        """
        if not self.has_mano:
            raise ValueError("this engine has no MANO outputs; export with --mano-dir")
        outputs = self._execute(crops)
        raw = RawPrediction(
            hand_pose=outputs["hand_pose"][0],
            betas=outputs["betas"][0],
            transl=outputs["transl"][0],
            pose_enc=outputs["pose_enc"][0],
        )
        return raw, HandMesh(vertices=outputs["vertices"][0], joints=outputs["joints"][0])
