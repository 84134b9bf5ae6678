# Copyright 2026 The HGGT-ROS Authors
# SPDX-License-Identifier: Apache-2.0
"""What ``hggt bench`` measures of one engine: call latencies, peak memory, parity with torch.

:mod:`hggt_core.bench.latency` explains what is measured where; :class:`Row` and
:class:`Parity` hold one measurement and one parity check, :class:`BenchResult` a whole run.
"""

from __future__ import annotations

import contextlib
import math
import statistics
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch

from hggt_core.bench.flops import device_peak_tflops
from hggt_core.engine.base import Engine, RawPrediction
from hggt_core.geometry.rotations import geodesic_angle, quaternion_to_matrix
from hggt_core.mano.layer import ManoLayer
from hggt_core.mano.synthetic import make_synthetic_mano
from hggt_core.pipeline.types import HandSide

TARGET_VERTEX_MM = 1.0
TARGET_ROTATION_DEG = 0.5


@dataclass(frozen=True)
class Row:
    """One (config, engine, precision, crop, S) measurement."""

    config: str
    engine: str
    precision: str
    crop_size: int
    views: int
    latencies_s: tuple[float, ...]
    peak_memory_bytes: int | None
    flops: int
    peak_tflops: float | None

    @property
    def latency_s(self) -> float:
        """Median latency of one engine call, seconds."""
        return statistics.median(self.latencies_s)

    @property
    def achieved_tflops(self) -> float:
        """FLOPs per forward / median latency, in TFLOPS."""
        return self.flops / self.latency_s / 1e12

    @property
    def peak_fraction(self) -> float | None:
        """Achieved / peak TFLOPS, when the peak is known."""
        return None if self.peak_tflops is None else self.achieved_tflops / self.peak_tflops

    def as_json(self) -> dict[str, Any]:
        """The row as plain JSON types."""
        values = asdict(self)
        values.update(
            latency_s=self.latency_s,
            latency_min_s=min(self.latencies_s),
            latency_max_s=max(self.latencies_s),
            framesets_per_s=1.0 / self.latency_s,
            achieved_tflops=self.achieved_tflops,
            peak_fraction=self.peak_fraction,
        )
        return values


@dataclass(frozen=True)
class Parity:
    """Agreement of one engine with torch fp32 on the same crops."""

    config: str
    engine: str
    precision: str
    crop_size: int
    views: int
    vertex_max_mm: float
    rotation_max_deg: float

    @property
    def passes(self) -> bool:
        """Within 1 mm (hand vertices) and 0.5 deg (camera rotations)."""
        return self.vertex_max_mm <= TARGET_VERTEX_MM and self.rotation_max_deg <= (
            TARGET_ROTATION_DEG
        )


@dataclass(frozen=True)
class BenchResult:
    """A benchmark run: where it ran (``benchmark.environment``), its rows, its parity checks."""

    environment: dict[str, Any]
    rows: tuple[Row, ...]
    parities: tuple[Parity, ...]


def peak_tflops(gpu_name: str | None, engine: str, precision: str) -> float | None:
    """The device's dense peak for this engine and precision (``flops.PEAK_TFLOPS``), or None.

    TensorRT's fp32 builds use TF32 tensor cores; torch's fp32 matmuls do not (by default).
    """
    key = "tf32" if (engine, precision) == ("tensorrt", "fp32") else precision
    return None if gpu_name is None else device_peak_tflops(gpu_name, key)


class MemoryProbe:
    """Peak memory of one row: torch's or the device's on CUDA, the resident set on a CPU.

    Args:
        device: the torch device string the engine runs on.
        torch_engine: whether the engine is the torch one (CUDA: torch's allocator statistics
            instead of the growth of the device's used memory).
    """

    def __init__(self, device: str, torch_engine: bool) -> None:
        self.cuda = device.startswith("cuda")
        self.torch_engine = torch_engine
        self.baseline = self._device_used() if self.cuda else 0

    @staticmethod
    def _device_used() -> int:
        free, total = torch.cuda.mem_get_info()
        return int(total - free)

    def reset(self) -> None:
        """Start a row."""
        if self.cuda:
            torch.cuda.synchronize()
            torch.cuda.reset_peak_memory_stats()
            return
        # Linux >= 4.0: "5" resets the peak resident set (VmHWM) to the current one.
        with contextlib.suppress(OSError):
            Path("/proc/self/clear_refs").write_text("5", encoding="ascii")

    def peak_bytes(self) -> int | None:
        """The row's peak, or None where it cannot be read."""
        if self.cuda:
            torch.cuda.synchronize()
            if self.torch_engine:
                return int(torch.cuda.max_memory_allocated())
            return self._device_used() - self.baseline
        try:
            status = Path("/proc/self/status").read_text(encoding="ascii")
        except OSError:
            return None
        for line in status.splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) * 1024
        return None


def time_engine(
    engine: Engine, crops: np.ndarray, warmup: int, repeats: int, probe: MemoryProbe
) -> tuple[tuple[float, ...], int | None]:
    """Latencies of ``repeats`` calls after ``warmup`` calls, and the peak memory."""
    for _ in range(warmup):
        engine.run(crops)
    probe.reset()
    latencies = []
    for _ in range(repeats):
        start = time.perf_counter()
        engine.run(crops)  # returns host arrays, so the device work is finished
        latencies.append(time.perf_counter() - start)
    return tuple(latencies), probe.peak_bytes()


def synthetic_mano(side: HandSide) -> ManoLayer:
    """The procedural MANO hand (MANO's sizes), full-pose input, mean pose not flat."""
    return ManoLayer(make_synthetic_mano(side), use_pca=False, flat_hand_mean=False)


def parity_errors(
    reference: RawPrediction, candidate: RawPrediction, mano: ManoLayer
) -> tuple[float, float]:
    """(max hand-vertex error in mm, max camera-rotation error in degrees)."""

    def vertices(raw: RawPrediction) -> torch.Tensor:
        theta, betas, transl = (
            torch.from_numpy(array)[None] for array in (raw.hand_pose, raw.betas, raw.transl)
        )
        return mano.forward_theta(theta, betas, transl).vertices[0].double()

    with torch.no_grad():
        vertex_error = (vertices(candidate) - vertices(reference)).norm(dim=-1).max()
        rotations = [
            quaternion_to_matrix(torch.from_numpy(raw.pose_enc[:, 3:7]).double())
            for raw in (reference, candidate)
        ]
        angles = geodesic_angle(rotations[0], rotations[1], eps=0.0)
    return 1e3 * float(vertex_error), math.degrees(float(angles.max()))
