# Copyright 2026 The HGGT-ROS Authors
# SPDX-License-Identifier: Apache-2.0
"""Build a TensorRT engine from an HGGT ONNX export (what ``hggt build-engine`` runs).

The engine takes [S, 3, crop, crop] float32 crops with S anywhere in one optimisation profile
(min..max views, tuned for opt), and returns the export's outputs. An engine runs only on the
TensorRT version that built it and is tuned for one GPU, so its file name says both, plus the
crop size and precision: ``hggt_518px_fp16_trt10.3.0_nvidia-h100-80gb-hbm3.engine``. Next to it
a JSON sidecar (same name, ``.json``) carries what the runtime and the reports need: the
export's metadata (crop size, view limit, network configuration, MANO) and the build settings.
Layer timings go to a timing cache file that later builds reuse (minutes saved per build).

TensorRT (>= 10) is optional: ``pip install hggt_ros[trt]``; on Jetson it comes with JetPack 6.
It is imported only when an engine is built or loaded.
"""

from __future__ import annotations

import json
import logging
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from hggt_core.base.atomic import atomic_write
from hggt_core.engine.export import (
    FORMAT_TAG,
    HGGT_OUTPUTS,
    INPUT_NAME,
    META_CONFIG,
    META_CROP_SIZE,
    META_FORMAT,
    META_MANO,
    META_MAX_VIEWS,
    META_OUTPUTS,
)
from hggt_core.engine.tensorrt_metadata import (
    EngineMetadata,
    TensorRTError,
    import_tensorrt,
    sanitise_name,
    sidecar_path,
)
from hggt_core.model.hggt import HGGTConfig

_LOG = logging.getLogger(__name__)

PRECISIONS = ("fp16", "bf16", "fp8", "fp32")
"""Engine precisions: the builder flags of each are in :data:`PRECISION_FLAGS`."""
PRECISION_FLAGS = {"fp16": ("FP16",), "bf16": ("BF16",), "fp8": ("FP8", "FP16"), "fp32": ()}
"""TensorRT builder flags per precision. TensorRT still keeps a layer in float32 where that is
faster or where the reduced type has no kernel, and fp32 builds use TF32 tensor cores (on by
default). FP8 applies only to layers quantised with Q/DQ nodes (explicit quantisation, e.g. by
NVIDIA ModelOpt); the rest of the graph then runs in FP16."""
MIN_COMPUTE_CAPABILITY = {"fp16": (7, 5), "bf16": (8, 0), "fp8": (8, 9), "fp32": (7, 5)}
"""Oldest GPU architecture per precision: Turing (TensorRT 10's minimum), Ampere for BF16,
Ada / Hopper for FP8 (Jetson Orin is Ampere, 8.7: fp16 or bf16)."""


@dataclass(frozen=True)
class _OnnxFacts:
    crop_size: int
    max_views: int
    config: HGGTConfig
    outputs: tuple[str, ...]
    mano: str | None


def _read_onnx_facts(onnx_path: Path) -> _OnnxFacts:
    """The ``hggt.*`` metadata of an export (weights are not loaded).

    Raises:
        FileNotFoundError: no file.
        TensorRTError: not an HGGT export, or malformed metadata.
    """
    if not onnx_path.is_file():
        raise FileNotFoundError(f"ONNX model not found: {onnx_path}")
    import onnx

    proto = onnx.load(str(onnx_path), load_external_data=False)
    metadata = {entry.key: entry.value for entry in proto.metadata_props}
    if metadata.get(META_FORMAT) != FORMAT_TAG:
        raise TensorRTError(
            f"{onnx_path} is not an HGGT export (no {META_FORMAT}={FORMAT_TAG!r}); write one with "
            "hggt export-onnx"
        )
    try:
        return _OnnxFacts(
            crop_size=int(metadata[META_CROP_SIZE]),
            max_views=int(metadata[META_MAX_VIEWS]),
            config=HGGTConfig(**json.loads(metadata[META_CONFIG])),
            outputs=tuple(metadata.get(META_OUTPUTS, ",".join(HGGT_OUTPUTS)).split(",")),
            mano=metadata.get(META_MANO),
        )
    except (KeyError, TypeError, ValueError) as error:
        raise TensorRTError(f"{onnx_path}: malformed hggt metadata: {error}") from error


def check_view_profile(
    min_views: int, opt_views: int, max_views: int, export_max_views: int
) -> None:
    """Require 1 <= min <= opt <= max <= the export's view limit.

    Raises:
        ValueError: otherwise.
    """
    if not 1 <= min_views <= opt_views <= max_views:
        raise ValueError(
            f"need 1 <= min_views <= opt_views <= max_views, got {min_views}, {opt_views}, "
            f"{max_views}"
        )
    if max_views > export_max_views:
        raise ValueError(
            f"max_views {max_views} exceeds the export's limit of {export_max_views} views; "
            "re-export with a larger --max-views"
        )


def check_precision(precision: str, compute_capability: tuple[int, int] | None = None) -> None:
    """Require a known precision that the GPU (when given) supports.

    Raises:
        ValueError: an unknown precision, or one the GPU's architecture lacks.
    """
    if precision not in PRECISIONS:
        raise ValueError(f"unknown precision {precision!r}; choose from {PRECISIONS}")
    needed = MIN_COMPUTE_CAPABILITY[precision]
    if compute_capability is not None and tuple(compute_capability) < needed:
        raise ValueError(
            f"{precision} needs a GPU of compute capability >= {needed[0]}.{needed[1]}, this "
            f"one is {compute_capability[0]}.{compute_capability[1]}"
        )


def gpu_identity(device_index: int = 0) -> tuple[str, tuple[int, int]]:
    """The CUDA device's name and compute capability.

    Raises:
        TensorRTError: no CUDA device.
    """
    import torch

    if not torch.cuda.is_available():
        raise TensorRTError("TensorRT needs a CUDA GPU and none is available")
    capability = torch.cuda.get_device_capability(device_index)
    return torch.cuda.get_device_name(device_index), (int(capability[0]), int(capability[1]))


def _configure(
    trt: Any, builder: Any, precision: str, views: tuple[int, int, int], crop_size: int
) -> Any:
    """A builder config with the precision flags and the view-count optimisation profile."""
    config = builder.create_builder_config()
    for flag in PRECISION_FLAGS[precision]:
        config.set_flag(getattr(trt.BuilderFlag, flag))
    profile = builder.create_optimization_profile()
    min_shape, opt_shape, max_shape = ((count, 3, crop_size, crop_size) for count in views)
    profile.set_shape(INPUT_NAME, min_shape, opt_shape, max_shape)
    config.add_optimization_profile(profile)
    return config


def _parse_network(trt: Any, builder: Any, logger: Any, onnx_path: Path) -> tuple[Any, Any]:
    """Parse the ONNX file (external weights are read from next to it)."""
    network = builder.create_network(0)  # explicit batch: the only mode in TensorRT 10
    parser = trt.OnnxParser(network, logger)
    if not parser.parse_from_file(str(onnx_path)):
        errors = "; ".join(str(parser.get_error(index)) for index in range(parser.num_errors))
        raise TensorRTError(f"TensorRT cannot parse {onnx_path}: {errors}")
    return network, parser


def _has_quantize_layers(trt: Any, network: Any) -> bool:
    layer_types = {network.get_layer(index).type for index in range(network.num_layers)}
    return trt.LayerType.QUANTIZE in layer_types


def _write_bytes(path: Path, data: Any) -> None:
    with atomic_write(path) as stream:
        stream.write(memoryview(data))


def build_engine(
    onnx_path: str | Path,
    output_dir: str | Path,
    precision: str = "fp16",
    min_views: int = 1,
    opt_views: int | None = None,
    max_views: int | None = None,
    workspace_gb: float = 8.0,
    timing_cache: str | Path | None = None,
    device_index: int = 0,
) -> Path:
    """Build a TensorRT engine from an ``hggt export-onnx`` file.

    Args:
        onnx_path: the export (its ``.data`` file, if any, next to it).
        output_dir: where the engine and its JSON sidecar go (created if needed).
        precision: one of :data:`PRECISIONS` (see :data:`PRECISION_FLAGS`).
        min_views: smallest view count S the engine accepts.
        opt_views: S the kernels are tuned for; None: 4, or max_views if smaller.
        max_views: largest S; None: the export's limit.
        workspace_gb: builder scratch memory limit, GiB.
        timing_cache: layer-timing cache file, read if it exists and rewritten after the
            build; None: ``timing_trt<version>_<gpu>.cache`` in ``output_dir``.
        device_index: CUDA device to build for.

    Returns:
        The engine file (named by :func:`engine_file_name`).

    Raises:
        FileNotFoundError: no ONNX file.
        ValueError: bad precision, view counts or workspace.
        ImportError: TensorRT is not installed (the message says how to install it).
        TensorRTError: no GPU, an ONNX file TensorRT cannot parse, or a failed build.
    """
    onnx_path = Path(onnx_path)
    check_precision(precision)
    facts = _read_onnx_facts(onnx_path)
    max_views = facts.max_views if max_views is None else max_views
    opt_views = min(4, max_views) if opt_views is None else opt_views
    check_view_profile(min_views, opt_views, max_views, facts.max_views)
    if workspace_gb <= 0:
        raise ValueError(f"workspace_gb must be positive, got {workspace_gb}")
    trt = import_tensorrt()
    gpu_name, capability = gpu_identity(device_index)
    check_precision(precision, capability)
    version = str(trt.__version__)
    output = Path(output_dir)
    output.mkdir(parents=True, exist_ok=True)
    cache_path = Path(
        timing_cache or output / f"timing_trt{version}_{sanitise_name(gpu_name)}.cache"
    )
    start = time.perf_counter()
    serialized, cache_blob = _run_builder(
        trt,
        onnx_path,
        precision,
        (min_views, opt_views, max_views),
        facts.crop_size,
        int(workspace_gb * 2**30),
        cache_path.read_bytes() if cache_path.is_file() else b"",
        device_index,
    )
    metadata = EngineMetadata(
        crop_size=facts.crop_size,
        precision=precision,
        min_views=min_views,
        opt_views=opt_views,
        max_views=max_views,
        tensorrt_version=version,
        gpu_name=gpu_name,
        compute_capability=capability,
        config=facts.config,
        outputs=facts.outputs,
        mano=facts.mano,
        onnx_file=onnx_path.name,
        workspace_gb=workspace_gb,
        build_s=round(time.perf_counter() - start, 3),
    )
    engine_path = output / metadata.identity.file_name
    _write_bytes(engine_path, serialized)
    _write_bytes(cache_path, cache_blob)
    sidecar_path(engine_path).write_text(metadata.to_json(), encoding="utf-8")
    _LOG.info("built %s in %.1f s (timing cache %s)", engine_path, metadata.build_s, cache_path)
    return engine_path


def _run_builder(
    trt: Any,
    onnx_path: Path,
    precision: str,
    views: tuple[int, int, int],
    crop_size: int,
    workspace_bytes: int,
    cache_blob: bytes,
    device_index: int,
) -> tuple[Any, Any]:
    """Parse, configure and build; returns (serialised engine, serialised timing cache)."""
    import torch

    logger = trt.Logger(trt.Logger.WARNING)
    with torch.cuda.device(device_index):
        builder = trt.Builder(logger)
        network, _parser = _parse_network(trt, builder, logger, onnx_path)
        if precision == "fp8" and not _has_quantize_layers(trt, network):
            _LOG.warning(
                "%s has no Q/DQ layers: FP8 applies only to explicitly quantised layers, so "
                "this build runs in FP16 (quantise the export with NVIDIA ModelOpt first)",
                onnx_path,
            )
        config = _configure(trt, builder, precision, views, crop_size)
        config.set_memory_pool_limit(trt.MemoryPoolType.WORKSPACE, workspace_bytes)
        cache = config.create_timing_cache(cache_blob)
        config.set_timing_cache(cache, False)
        serialized = builder.build_serialized_network(network, config)
        if serialized is None:
            raise TensorRTError(f"TensorRT failed to build an engine from {onnx_path} (see log)")
        return serialized, config.get_timing_cache().serialize()
