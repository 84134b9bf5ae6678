# Copyright 2026 The HGGT-ROS Authors
# SPDX-License-Identifier: Apache-2.0
"""What bench/latency.py measures of one engine: call latencies, peak memory, parity with torch."""

from __future__ import annotations

import contextlib
import math
import time
from pathlib import Path

import numpy as np
import torch

from hggt_core.engine.base import Engine, RawPrediction
from hggt_core.geometry.rotations import geodesic_angle, quaternion_to_matrix
from hggt_core.mano.layer import ManoLayer


class MemoryProbe:
    """Peak memory of one row: see bench/latency.py's docstring for what is measured where."""

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


def parity(
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
