# Copyright 2026 The HGGT-ROS Authors
# SPDX-License-Identifier: Apache-2.0
"""Model-only latency, peak memory and distance to the compute peak, per engine and precision.

Usage (``hggt bench --help`` lists every option)::

    hggt bench --threads 1                     # CPU: tiny config, 224 px, S = 1, 2, 4, 8
    hggt bench --configs tiny reduced --crop-sizes 224 336 518 --engines torch onnx
    hggt bench --device cuda --configs full --engines torch onnx tensorrt
        --precisions fp32 bf16 fp16 --crop-sizes 224 336 518 --parity
        --checkpoint hggt.safetensors --work-dir /tmp/hggt_bench --json latency.json

``hggt bench`` runs torch and, when ``hggt_ros[onnx]`` is installed, onnxruntime by default.

Each row times ``engine.run(crops)`` (crops in host memory, outputs back in host memory: the
engine call the pipeline makes) for one (config, engine, precision, crop size, S), reports the
median latency, framesets/s, the peak memory and the analytic FLOPs of the forward
(:mod:`hggt_core.bench.flops`), and the achieved fraction of the device's peak: dense
tensor-core TFLOPS by GPU name (``flops.PEAK_TFLOPS``), or ``--peak-tflops``. Peak memory
is, on CUDA, torch's peak allocation for the torch engine and the growth of the device's used
memory for onnxruntime and TensorRT (their own allocators); on a CPU, the process's peak
resident set during the row (``VmHWM``, reset per row where Linux allows), which includes the
interpreter and libraries. The engines share one network: random weights (seed 0) unless
``--checkpoint`` is given (timing does not depend on them, parity is only meaningful with them).

``--parity`` compares every onnx / tensorrt engine with torch fp32 at the largest S: hand
vertices through the procedural MANO hand (max error, mm; target <= 1 mm) and camera rotations
(max geodesic error, degrees; target <= 0.5 deg). TensorRT rows need ``--device cuda`` and
``pip install hggt_ros[trt]``; ONNX exports and engines are written to ``--work-dir`` (a
temporary folder by default; give one to reuse engines between runs).

On a CPU shared with other jobs pass ``--threads 1`` (it applies to torch and onnxruntime
alike): with more threads than free cores torch's OpenMP workers spin at barriers and the
torch rows slow down by up to 50x, which makes the onnx / torch ratio meaningless.
"""

from __future__ import annotations

import gc
import platform
import tempfile
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Any

import numpy as np
import torch

from hggt_core.bench.flops import forward_flops
from hggt_core.bench.measure import (
    BenchResult,
    MemoryProbe,
    Parity,
    Row,
    parity_errors,
    peak_tflops,
    synthetic_mano,
    time_engine,
)
from hggt_core.bench.report import host_info
from hggt_core.engine.base import Engine
from hggt_core.engine.export import export_onnx
from hggt_core.engine.onnx_engine import OnnxEngine
from hggt_core.engine.registry import PRECISIONS, UNTRAINED_CONFIG, onnx_providers
from hggt_core.engine.torch_engine import TorchEngine
from hggt_core.model.checkpoint import build_hggt_from_checkpoint
from hggt_core.model.hggt import HGGT, HGGTConfig

CONFIGS = {
    "tiny": UNTRAINED_CONFIG,
    "reduced": HGGTConfig(
        embed_dim=384,
        depth=4,
        num_heads=6,
        patch_embed="dinov2_vits14_reg",
        head_trunk_depth=1,
        head_num_heads=6,
    ),
    "full": HGGTConfig(),
}
"""Benchmarked networks by name: the untrained demo network, a ViT-S-sized one, the released."""
SEED = 0
"""Seed of the random weights and inputs."""
ENGINES = ("torch", "onnx", "tensorrt")
PRECISION_NAMES = ("fp32", "fp16", "bf16", "fp8")
ENGINE_PRECISIONS = {
    "torch": ("fp32", "bf16", "fp16"),
    "onnx": ("fp32",),
    "tensorrt": ("fp32", "fp16", "bf16", "fp8"),
}
"""Precisions each engine supports (torch: backbone weights; reduced ones on CUDA only)."""


def is_cuda(device: str) -> bool:
    """Whether a torch device string names a CUDA device."""
    return device.startswith("cuda")


@dataclass(frozen=True)
class BenchSettings:
    """What to measure and how (see the module docstring); bad values raise ValueError.

    Attributes:
        configs: network names, keys of :data:`CONFIGS`.
        engines: engine names (:data:`ENGINES`); tensorrt needs a CUDA device.
        precisions: precision names; each engine runs those it supports
            (:data:`ENGINE_PRECISIONS`), torch's reduced ones on CUDA only.
        crop_sizes: model input sides in pixels, multiples of the patch size.
        views: view counts S; the ONNX export and TensorRT engines take up to the largest.
        device: torch device string, "cpu" or a CUDA device.
        threads: torch and onnxruntime CPU threads (None: their own choice).
        warmup: untimed calls per row first.
        repeats: timed calls per row.
        peak_tflops: the device's peak, instead of ``flops.PEAK_TFLOPS`` by GPU name.
        checkpoint: weights of the full config (others use random weights).
        parity: compare every onnx / tensorrt engine with torch fp32.
        work_dir: folder for ONNX exports and engines, reused between runs (None: temporary).
    """

    configs: tuple[str, ...] = ("tiny",)
    engines: tuple[str, ...] = ("torch",)
    precisions: tuple[str, ...] = ("fp32",)
    crop_sizes: tuple[int, ...] = (224,)
    views: tuple[int, ...] = (1, 2, 4, 8)
    device: str = "cpu"
    threads: int | None = None
    warmup: int = 1
    repeats: int = 5
    peak_tflops: float | None = None
    checkpoint: Path | None = None
    parity: bool = False
    work_dir: Path | None = None

    def __post_init__(self) -> None:
        _check_choices("config", self.configs, tuple(CONFIGS))
        _check_choices("engine", self.engines, ENGINES)
        _check_choices("precision", self.precisions, PRECISION_NAMES)
        patch = max(CONFIGS[name].patch_size for name in self.configs)
        if not self.crop_sizes or any(size <= 0 or size % patch for size in self.crop_sizes):
            raise ValueError(f"crop sizes must be multiples of {patch}: {list(self.crop_sizes)}")
        if not self.views or min(self.views) < 1:
            raise ValueError(f"view counts must be >= 1: {list(self.views)}")
        if self.repeats < 1 or self.warmup < 0:
            raise ValueError(f"need repeats >= 1 and warmup >= 0: {self.repeats}, {self.warmup}")
        if self.threads is not None and self.threads < 1:
            raise ValueError(f"threads must be >= 1: {self.threads}")
        if self.peak_tflops is not None and self.peak_tflops <= 0:
            raise ValueError(f"the peak TFLOPS must be positive: {self.peak_tflops}")
        if is_cuda(self.device) and not torch.cuda.is_available():
            raise ValueError(f"device {self.device}: CUDA is not available")
        if "tensorrt" in self.engines and not is_cuda(self.device):
            raise ValueError("the tensorrt engine needs a CUDA device (--device cuda)")
        if not engine_runs(self):
            raise ValueError("none of the engines runs these precisions here (CPU: fp32 only)")


def _check_choices(kind: str, names: Sequence[str], known: Sequence[str]) -> None:
    unknown = [name for name in names if name not in known]
    if unknown or not names:
        given = ", ".join(unknown) or "none"
        raise ValueError(f"{kind} {given}: choose one or more of {', '.join(known)}")


def engine_runs(settings: BenchSettings) -> list[tuple[str, str]]:
    """The (engine, precision) pairs to measure: supported and requested ones.

    Torch's reduced precisions (backbone weights) run on CUDA only.
    """
    return [
        (name, precision)
        for name in settings.engines
        for precision in settings.precisions
        if precision in ENGINE_PRECISIONS[name]
        and (name != "torch" or precision == "fp32" or is_cuda(settings.device))
    ]


def make_model(config_name: str, checkpoint: Path | None) -> HGGT:
    """The network: the checkpoint's for the full config when given, else random (seed 0)."""
    if checkpoint is not None and config_name == "full":
        return build_hggt_from_checkpoint(checkpoint).eval()
    torch.manual_seed(SEED)
    return HGGT(CONFIGS[config_name]).eval()


def export_once(
    model: HGGT, name: str, crop_size: int, settings: BenchSettings, work_dir: Path
) -> Path:
    """The ONNX export of the network at this crop size (reused when already in work_dir).

    Called before any eager forward: RoPE tables cached under inference mode would make the
    exporter specialise the view count.
    """
    weights = "checkpoint" if settings.checkpoint and name == "full" else "random"
    path = work_dir / f"hggt_{name}_{weights}_{crop_size}px_s{max(settings.views)}.onnx"
    if {"onnx", "tensorrt"} & set(settings.engines) and not path.is_file():
        export_onnx(model.cpu().float(), path, crop_size, max(settings.views))
    return path


def engine_factories(
    model: HGGT, crop_size: int, onnx_path: Path, settings: BenchSettings
) -> list[tuple[str, str, Callable[[], Engine]]]:
    """(engine, precision, constructor) for every pair of :func:`engine_runs`.

    Constructors, not engines: the caller builds one engine at a time, after freeing the last
    one, so each is measured alone. A torch engine re-casts the shared model (float32 first).
    """
    factories: list[tuple[str, str, Callable[[], Engine]]] = []
    for name, precision in engine_runs(settings):
        build: Callable[[], Engine]
        if name == "torch":
            dtype = PRECISIONS[precision]
            build = partial(TorchEngine, model, settings.device, dtype, crop_size)
        elif name == "onnx":
            providers = onnx_providers(settings.device)
            build = partial(OnnxEngine, onnx_path, providers, settings.threads)
        else:
            build = partial(_tensorrt_engine, onnx_path, precision, settings)
        factories.append((name, precision, build))
    return factories


def _tensorrt_engine(onnx_path: Path, precision: str, settings: BenchSettings) -> Engine:
    from hggt_core.engine.tensorrt_build import build_engine
    from hggt_core.engine.tensorrt_engine import TensorRTEngine

    largest = max(settings.views)
    path = build_engine(
        onnx_path,
        onnx_path.parent / f"engines_{onnx_path.stem}",
        precision,
        min(settings.views),
        min(4, largest),
        largest,
    )
    return TensorRTEngine(path, settings.device)


def bench_crop(
    config_name: str,
    crop_size: int,
    settings: BenchSettings,
    work_dir: Path,
    progress: Callable[[str], None] | None = None,
) -> tuple[list[Row], list[Parity]]:
    """Every engine and precision at one crop size; ``progress`` gets a line per row."""
    model = make_model(config_name, settings.checkpoint)
    onnx_path = export_once(model, config_name, crop_size, settings, work_dir)
    rng = np.random.default_rng(SEED)
    crops = {
        s: rng.uniform(size=(s, 3, crop_size, crop_size)).astype(np.float32)
        for s in settings.views
    }
    largest = max(settings.views)
    reference = None
    if settings.parity:
        reference = TorchEngine(model, settings.device, None, crop_size).run(crops[largest])
    device = settings.device
    gpu = torch.cuda.get_device_name(torch.device(device)) if is_cuda(device) else None
    rows, parities = [], []
    for name, precision, build in engine_factories(model, crop_size, onnx_path, settings):
        _release_memory(device)
        probe = MemoryProbe(device, name == "torch")
        engine = build()
        peak = settings.peak_tflops or peak_tflops(gpu, name, precision)
        for views in settings.views:
            if progress is not None:
                progress(f"{config_name} {name} {precision} crop {crop_size} S={views}")
            warmup, repeats = settings.warmup, settings.repeats
            latencies, memory = time_engine(engine, crops[views], warmup, repeats, probe)
            flops = forward_flops(model.config, views, crop_size).total
            rows.append(
                Row(config_name, name, precision, crop_size, views, latencies, memory, flops, peak)
            )
        if reference is not None and name != "torch":
            errors = parity_errors(reference, engine.run(crops[largest]), synthetic_mano("right"))
            parities.append(Parity(config_name, name, precision, crop_size, largest, *errors))
        del engine
    return rows, parities


def _release_memory(device: str) -> None:
    gc.collect()
    if is_cuda(device):
        torch.cuda.empty_cache()


def run_benchmark(
    settings: BenchSettings, progress: Callable[[str], None] | None = None
) -> BenchResult:
    """Measure every config and crop size with ``settings.threads`` torch threads.

    Args:
        settings: what to measure.
        progress: called with a short line ("tiny torch fp32 crop 224 S=4") before each row.

    Returns:
        The environment, the rows in (config, crop, engine, precision, S) order and the
        parity checks.
    """
    rows: list[Row] = []
    parities: list[Parity] = []
    with (
        _torch_threads(settings.threads),
        tempfile.TemporaryDirectory(prefix="hggt_bench_") as tmp,
    ):
        info = environment(settings)
        work_dir = settings.work_dir or Path(tmp)
        work_dir.mkdir(parents=True, exist_ok=True)
        for config_name in settings.configs:
            for crop_size in settings.crop_sizes:
                new_rows, new_parities = bench_crop(
                    config_name, crop_size, settings, work_dir, progress
                )
                rows += new_rows
                parities += new_parities
    return BenchResult(info, tuple(rows), tuple(parities))


@contextmanager
def _torch_threads(threads: int | None) -> Iterator[None]:
    """Sets torch's intra-op threads to ``threads`` (None: unchanged), restores them after."""
    previous = torch.get_num_threads()
    if threads is not None:
        torch.set_num_threads(threads)
    try:
        yield
    finally:
        torch.set_num_threads(previous)


def environment(settings: BenchSettings) -> dict[str, Any]:
    """What the numbers were measured on, and the benchmark's settings that shape them."""
    info: dict[str, Any] = {
        "device": settings.device,
        "torch": torch.__version__,
        **host_info(),
        "processor": platform.processor() or platform.machine(),
        "warmup": settings.warmup,
        "repeats": settings.repeats,
        "peak_tflops_given": settings.peak_tflops,
        "weights": str(settings.checkpoint) if settings.checkpoint else "random (seed 0)",
    }
    try:
        import onnxruntime

        info["onnxruntime"] = onnxruntime.__version__
    except ImportError:
        info["onnxruntime"] = None
    if is_cuda(settings.device):
        info["gpu"] = torch.cuda.get_device_name(torch.device(settings.device))
    if "tensorrt" in settings.engines:
        from hggt_core.engine.tensorrt_metadata import import_tensorrt

        info["tensorrt"] = import_tensorrt().__version__
    return info
