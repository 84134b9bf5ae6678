# Copyright 2026 The HGGT-ROS Authors
# SPDX-License-Identifier: Apache-2.0
"""Model-only latency, peak memory and distance to the compute peak, per engine and precision.

Usage (from the repository root, with the package installed or on the path)::

    python bench/latency.py                    # CPU: tiny + reduced, torch vs onnxruntime
    python bench/latency.py --device cuda --configs full --engines torch onnx tensorrt
        --precisions fp32 bf16 fp16 --crop-sizes 224 336 518 --parity
        --checkpoint hggt.safetensors --work-dir /tmp/hggt_bench --json latency.json

Each row times ``engine.run(crops)`` (crops in host memory, outputs back in host memory: the
engine call the pipeline makes) for one (config, engine, precision, crop size, S), reports the
median latency, framesets/s, the peak memory and the analytic FLOPs of the forward
(:mod:`hggt_core.engine.flops`), and the achieved fraction of the device's peak: dense
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

import argparse
import gc
import platform
import statistics
import sys
import tempfile
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
from functools import partial
from pathlib import Path
from typing import Any

import numpy as np
import torch
from bench_common import (
    CONFIGS,
    SEED,
    add_grid_options,
    check_device,
    host_info,
    is_cuda,
    markdown_table,
    synthetic_mano,
    write_header,
    write_report,
)
from bench_engine import MemoryProbe, parity, time_engine

from hggt_core.engine.base import Engine
from hggt_core.engine.export import export_onnx
from hggt_core.engine.flops import device_peak_tflops, forward_flops
from hggt_core.model.checkpoint import build_hggt_from_checkpoint
from hggt_core.model.hggt import HGGT
from hggt_core.pipeline.factory import PRECISIONS, onnx_providers

ENGINES = ("torch", "onnx", "tensorrt")
ENGINE_PRECISIONS = {
    "torch": ("fp32", "bf16", "fp16"),
    "onnx": ("fp32",),
    "tensorrt": ("fp32", "fp16", "bf16", "fp8"),
}
"""Precisions each engine supports (torch: backbone weights; reduced ones on CUDA only)."""
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


def peak_tflops(gpu_name: str | None, engine: str, precision: str) -> float | None:
    """The device's dense peak for this engine and precision (:data:`PEAK_TFLOPS`), or None.

    TensorRT's fp32 builds use TF32 tensor cores; torch's fp32 matmuls do not (by default).
    """
    key = "tf32" if (engine, precision) == ("tensorrt", "fp32") else precision
    return None if gpu_name is None else device_peak_tflops(gpu_name, key)


def make_model(config_name: str, checkpoint: Path | None) -> HGGT:
    """The network: the checkpoint's for the full config when given, else random (seed 0)."""
    if checkpoint is not None and config_name == "full":
        return build_hggt_from_checkpoint(checkpoint).eval()
    torch.manual_seed(SEED)
    return HGGT(CONFIGS[config_name]).eval()


def export_once(
    model: HGGT, name: str, crop_size: int, args: argparse.Namespace, work_dir: Path
) -> Path:
    """The ONNX export of the network at this crop size (reused when already in work_dir).

    Called before any eager forward: RoPE tables cached under inference mode would make the
    exporter specialise the view count.
    """
    weights = "checkpoint" if args.checkpoint and name == "full" else "random"
    path = work_dir / f"hggt_{name}_{weights}_{crop_size}px_s{max(args.views)}.onnx"
    if {"onnx", "tensorrt"} & set(args.engines) and not path.is_file():
        export_onnx(model.cpu().float(), path, crop_size, max(args.views))
    return path


def engine_factories(
    model: HGGT, crop_size: int, onnx_path: Path, args: argparse.Namespace
) -> list[tuple[str, str, Callable[[], Engine]]]:
    """(engine, precision, constructor) for every requested engine and precision.

    Constructors, not engines: the caller builds one engine at a time, after freeing the last
    one, so each is measured alone. A torch engine re-casts the shared model (float32 first).
    """
    from hggt_core.engine.onnx_engine import OnnxEngine
    from hggt_core.engine.torch_engine import TorchEngine

    factories: list[tuple[str, str, Callable[[], Engine]]] = []
    for name in args.engines:
        for precision in args.precisions:
            if precision not in ENGINE_PRECISIONS[name]:
                continue
            if name == "torch" and (is_cuda(args.device) or precision == "fp32"):
                dtype = PRECISIONS[precision]
                build = partial(TorchEngine, model, args.device, dtype, crop_size)
            elif name == "onnx":
                build = partial(OnnxEngine, onnx_path, onnx_providers(args.device), args.threads)
            elif name == "tensorrt":
                build = partial(_tensorrt_engine, onnx_path, precision, args)
            else:
                continue
            factories.append((name, precision, build))
    return factories


def _tensorrt_engine(onnx_path: Path, precision: str, args: argparse.Namespace) -> Engine:
    from hggt_core.engine.tensorrt_build import build_engine
    from hggt_core.engine.tensorrt_engine import TensorRTEngine

    largest = max(args.views)
    path = build_engine(
        onnx_path,
        onnx_path.parent / f"engines_{onnx_path.stem}",
        precision,
        min(args.views),
        min(4, largest),
        largest,
    )
    return TensorRTEngine(path, args.device)


def bench_crop(
    config_name: str, crop_size: int, args: argparse.Namespace, work_dir: Path
) -> tuple[list[Row], list[Parity]]:
    """Every engine and precision at one crop size."""
    from hggt_core.engine.torch_engine import TorchEngine

    model = make_model(config_name, args.checkpoint)
    onnx_path = export_once(model, config_name, crop_size, args, work_dir)
    rng = np.random.default_rng(SEED)
    crops = {
        s: rng.uniform(size=(s, 3, crop_size, crop_size)).astype(np.float32) for s in args.views
    }
    largest = max(args.views)
    reference = None
    if args.parity:
        reference = TorchEngine(model, args.device, None, crop_size).run(crops[largest])
    gpu = torch.cuda.get_device_name(torch.device(args.device)) if is_cuda(args.device) else None
    rows, parities = [], []
    for name, precision, build in engine_factories(model, crop_size, onnx_path, args):
        _release_memory(args)
        probe = MemoryProbe(args.device, name == "torch")
        engine = build()
        peak = args.peak_tflops or peak_tflops(gpu, name, precision)
        for views in args.views:
            sys.stderr.write(f"  {config_name} {name} {precision} crop {crop_size} S={views}\n")
            latencies, memory = time_engine(engine, crops[views], args.warmup, args.repeats, probe)
            flops = forward_flops(model.config, views, crop_size).total
            rows.append(
                Row(config_name, name, precision, crop_size, views, latencies, memory, flops, peak)
            )
        if reference is not None and name != "torch":
            errors = parity(reference, engine.run(crops[largest]), args.mano)
            parities.append(Parity(config_name, name, precision, crop_size, largest, *errors))
        del engine
    return rows, parities


def _release_memory(args: argparse.Namespace) -> None:
    gc.collect()
    if is_cuda(args.device):
        torch.cuda.empty_cache()


def ratios(rows: Sequence[Row]) -> list[dict[str, Any]]:
    """ONNX Runtime / torch latency for every (config, crop, S) measured with both in fp32."""
    torch_rows = {
        (r.config, r.crop_size, r.views): r
        for r in rows
        if (r.engine, r.precision) == ("torch", "fp32")
    }
    result = []
    for row in rows:
        base = torch_rows.get((row.config, row.crop_size, row.views))
        if row.engine == "onnx" and base is not None:
            result.append(
                {
                    "config": row.config,
                    "crop_size": row.crop_size,
                    "views": row.views,
                    "torch_s": base.latency_s,
                    "onnx_s": row.latency_s,
                    "onnx_over_torch": row.latency_s / base.latency_s,
                }
            )
    return result


ROW_HEADER = "config engine precision crop S latency_ms framesets/s peak_MiB GFLOP TFLOPS of_peak"
RATIO_HEADER = "config crop S torch_ms onnx_ms onnx/torch"
RATIO_KEYS = ("torch_s", "onnx_s")
PARITY_HEADER = "config engine precision crop S vertices_max_mm rotation_max_deg <=1mm,0.5deg"


def _row_cells(row: Row) -> list[object]:
    memory = row.peak_memory_bytes
    fraction = row.peak_fraction
    return [
        *(row.config, row.engine, row.precision, row.crop_size, row.views),
        *(f"{1e3 * row.latency_s:.2f}", f"{1 / row.latency_s:.2f}"),
        "n/a" if memory is None else f"{memory / 2**20:.0f}",
        *(f"{row.flops / 1e9:.4g}", f"{row.achieved_tflops:.3g}"),
        "n/a" if fraction is None else f"{100 * fraction:.1f} %",
    ]


def format_tables(
    rows: Sequence[Row], ratio_rows: Sequence[dict[str, Any]], parities: Sequence[Parity]
) -> str:
    """Markdown tables: the measurements, the onnx/torch ratios, the parity checks."""
    lines = _markdown(ROW_HEADER, [_row_cells(row) for row in rows])
    if ratio_rows:
        cells: list[list[object]] = [
            [r["config"], r["crop_size"], r["views"], *(f"{1e3 * r[k]:.2f}" for k in RATIO_KEYS)]
            for r in ratio_rows
        ]
        for cell, r in zip(cells, ratio_rows, strict=True):
            cell.append(f"{r['onnx_over_torch']:.2f}")
        lines += ["", *_markdown(RATIO_HEADER, cells)]
    if parities:
        cells = [
            [p.config, p.engine, p.precision, p.crop_size, p.views, f"{p.vertex_max_mm:.4f}"]
            for p in parities
        ]
        for cell, p in zip(cells, parities, strict=True):
            cell += [f"{p.rotation_max_deg:.4f}", "PASS" if p.passes else "FAIL"]
        lines += ["", *_markdown(PARITY_HEADER, cells)]
    return "\n".join(lines)


def _markdown(header: str, body: Sequence[Sequence[object]]) -> list[str]:
    """A table from a space-separated header (underscores shown as spaces) and its rows."""
    return markdown_table([name.replace("_", " ") for name in header.split()], body)


def environment(args: argparse.Namespace) -> dict[str, Any]:
    """What the numbers were measured on."""
    info: dict[str, Any] = {
        "device": args.device,
        "torch": torch.__version__,
        **host_info(),
        "processor": platform.processor() or platform.machine(),
        "warmup": args.warmup,
        "repeats": args.repeats,
        "peak_tflops_given": args.peak_tflops,
        "weights": str(args.checkpoint) if args.checkpoint else "random (seed 0)",
    }
    try:
        import onnxruntime

        info["onnxruntime"] = onnxruntime.__version__
    except ImportError:
        info["onnxruntime"] = None
    if is_cuda(args.device):
        info["gpu"] = torch.cuda.get_device_name(torch.device(args.device))
    if "tensorrt" in args.engines:
        from hggt_core.engine.tensorrt_build import import_tensorrt

        info["tensorrt"] = import_tensorrt().__version__
    return info


NOTES = (
    "model only: one engine.run(crops) call, host crops in, host outputs out; medians over "
    "the repeats after the warm-up calls.",
    "GFLOP: analytic matmul FLOPs of one forward (multiply-add = 2); TFLOPS = FLOPs / latency; "
    "of peak: against the device's dense peak for that precision (n/a when unknown: pass "
    "--peak-tflops).",
    "peak MiB: CUDA = torch peak allocation (torch) or device memory growth (onnx, tensorrt); "
    "CPU = the process's peak resident set during the row.",
)


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    """Command-line options (see the module docstring)."""
    parser = argparse.ArgumentParser(
        description=__doc__.splitlines()[0], formatter_class=argparse.ArgumentDefaultsHelpFormatter
    )
    parser.add_argument(
        "--configs", nargs="+", choices=tuple(CONFIGS), default=["tiny", "reduced"]
    )
    parser.add_argument("--engines", nargs="+", choices=ENGINES, default=["torch", "onnx"])
    parser.add_argument(
        "--precisions", nargs="+", default=["fp32"], choices=("fp32", "fp16", "bf16", "fp8")
    )
    add_grid_options(parser)
    parser.add_argument("--device", default="cpu", help='"cpu" or a CUDA device, e.g. "cuda"')
    parser.add_argument("--threads", type=int, help="torch and onnxruntime CPU threads")
    parser.add_argument("--peak-tflops", type=float, help="device peak, overrides the table")
    parser.add_argument("--checkpoint", type=Path, help="weights of the full config")
    parser.add_argument("--parity", action="store_true", help="compare engines with torch fp32")
    parser.add_argument("--work-dir", type=Path, help="ONNX exports and engines (reused)")
    parser.add_argument("--json", type=Path, help="also write the report here")
    args = parser.parse_args(argv)
    if args.repeats < 1 or args.warmup < 0 or min(args.views) < 1:
        parser.error("--repeats must be >= 1, --warmup >= 0 and every --views value >= 1")
    check_device(parser, args.device)
    if "tensorrt" in args.engines and not is_cuda(args.device):
        parser.error("--engines tensorrt needs --device cuda")
    args.mano = synthetic_mano("right")
    return args


def main(argv: Sequence[str] | None = None) -> int:
    """Run the benchmark, print the tables (and write JSON); returns the exit code."""
    args = parse_args(argv)
    if args.threads is not None:
        torch.set_num_threads(args.threads)
    info = environment(args)
    write_header("latency", info)
    rows: list[Row] = []
    parities: list[Parity] = []
    with tempfile.TemporaryDirectory(prefix="hggt_bench_") as temporary:
        work_dir = args.work_dir or Path(temporary)
        work_dir.mkdir(parents=True, exist_ok=True)
        for config_name in args.configs:
            for crop_size in args.crop_sizes:
                new_rows, new_parities = bench_crop(config_name, crop_size, args, work_dir)
                rows += new_rows
                parities += new_parities
    ratio_rows = ratios(rows)
    write_report(
        format_tables(rows, ratio_rows, parities),
        NOTES,
        args.json,
        info,
        [row.as_json() for row in rows],
        onnx_over_torch=ratio_rows,
        parity=[{**asdict(p), "passes": p.passes} for p in parities],
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
