# Copyright 2026 The HGGT-ROS Authors
# SPDX-License-Identifier: Apache-2.0
"""Per-stage time of the inference pipeline per frameset, and its non-model overhead.

Usage (from the repository root, with the package installed or on the path)::

    python bench/pipeline_stages.py [--configs tiny reduced] [--views 1 2 4 8]
        [--crop-sizes 224 336 518] [--repeats 5] [--warmup 1] [--threads N]
        [--device cpu] [--full] [--json out.json]

Each measurement runs the real :class:`~hggt_core.pipeline.predictor.Predictor` in "crop"
mode (every view is a hand crop, resampled to the model's input size) on real image content:
the bundled demo example's views (:func:`hggt_core.render.demo.demo_example_dir`), repeated in
turn to reach S views. The networks have random weights (seed 0): the time of a forward pass
does not depend on the weights' values. The MANO layers are the procedural stand-in hand,
which has the real MANO's sizes (778 vertices, 16 joints).

For each (config, crop size, S) the script reports the median over ``--repeats`` calls (after
``--warmup`` calls that are not counted) of each stage of ``HandResult.timings_s``:
localise, crop, model, mano, cameras, filter (off, so ~0). Overhead is every stage except
"model"; the issue's target is overhead < 10 % of the model time at S = 4, checked on every
row (PASS/FAIL). "other" is the call's wall time not covered by any stage (result assembly).

Configs:

* ``tiny``: :data:`hggt_core.engine.registry.UNTRAINED_CONFIG` (width 64, 2 blocks). Its
  model time is tiny, so its overhead ratio is pessimistic and says little about a deployed
  model; it shows the absolute overhead per frameset.
* ``reduced``: a ViT-S-sized network (width 384, 4 frame + 4 global blocks, 6 heads, DINOv2-S
  patch embedding, one head-trunk block): about 1 s per frameset at S = 4 and 224 pixels on
  2 CPU cores, about 20 s at 518; closer to a deployable small model.
* ``full`` (with ``--full``): the released 1.4 B-parameter configuration (VGGT-1B backbone).
  On a CPU one frameset takes minutes at S = 4, 518 pixels, so its rows use
  ``--full-repeats`` (default 1) and no warm-up unless on CUDA; narrow the grid
  (e.g. ``--views 1 4 --crop-sizes 224``) to keep the run short.

CPU threads: ``torch.set_num_threads(--threads)`` (default: torch's own choice, usually the
number of physical cores); the value used is printed and saved. Timings on a machine shared
with other jobs are noisy: compare medians, and rerun when the spread is large (the JSON
report keeps each row's fastest and slowest call, and the load average at the start).
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch
from bench_common import add_grid_options, check_device, demo_images, write_header, write_report

from hggt_core.assembly.localisers import localiser_from_name
from hggt_core.bench.latency import CONFIGS, SEED, is_cuda
from hggt_core.bench.measure import synthetic_mano
from hggt_core.bench.report import host_info, markdown_table
from hggt_core.engine.registry import PRECISIONS
from hggt_core.engine.torch_engine import TorchEngine
from hggt_core.mano.layer import ManoLayer
from hggt_core.model.hggt import HGGT, HGGTConfig
from hggt_core.pipeline.predictor import Predictor, PredictorConfig
from hggt_core.pipeline.types import FrameSet, View

STAGES = ("localise", "crop", "model", "mano", "cameras", "filter")
"""The Predictor's timing stages, in pipeline order."""
TARGET_RATIO = 0.10
"""Issue 3's target: non-model overhead under 10 % of the model time (at S = 4)."""
TARGET_VIEWS = 4


@dataclass(frozen=True)
class Row:
    """Medians of one (config, crop size, S) measurement, in seconds."""

    config: str
    crop_size: int
    views: int
    stages_s: dict[str, float]
    walls_s: tuple[float, ...]
    """Wall time of every timed call (its spread shows how noisy the machine was)."""

    @property
    def wall_s(self) -> float:
        """Median wall time of one Predictor call."""
        return statistics.median(self.walls_s)

    @property
    def model_s(self) -> float:
        """Median model time."""
        return self.stages_s["model"]

    @property
    def overhead_s(self) -> float:
        """Sum of the medians of every stage except the model."""
        return sum(value for stage, value in self.stages_s.items() if stage != "model")

    @property
    def other_s(self) -> float:
        """Wall time not covered by any stage (clamped at 0: medians need not add up)."""
        return max(0.0, self.wall_s - sum(self.stages_s.values()))

    @property
    def ratio(self) -> float:
        """Overhead / model time."""
        return self.overhead_s / self.model_s

    @property
    def framesets_per_s(self) -> float:
        """Throughput from the median wall time of one call."""
        return 1.0 / self.wall_s

    def as_json(self) -> dict[str, Any]:
        """The row as plain JSON types."""
        return {
            "config": self.config,
            "crop_size": self.crop_size,
            "views": self.views,
            "repeats": len(self.walls_s),
            "stages_s": self.stages_s,
            "model_s": self.model_s,
            "overhead_s": self.overhead_s,
            "other_s": self.other_s,
            "wall_s": self.wall_s,
            "wall_min_s": min(self.walls_s),
            "wall_max_s": max(self.walls_s),
            "overhead_ratio": self.ratio,
            "framesets_per_s": self.framesets_per_s,
            "passes_target": self.ratio < TARGET_RATIO,
        }


def demo_frameset(num_views: int) -> FrameSet:
    """A frameset of ``num_views`` demo example views (the example's views in turn)."""
    images = demo_images()
    views = tuple(
        View(name=f"view_{index:02d}", stamp_ns=0, image=images[index % len(images)])
        for index in range(num_views)
    )
    return FrameSet(stamp_ns=0, views=views)


def build_predictor(
    config: HGGTConfig,
    crop_size: int,
    device: str,
    precision: str,
    mano: tuple[ManoLayer, ManoLayer],
) -> Predictor:
    """A crop-mode Predictor around a randomly initialised network (seed 0)."""
    torch.manual_seed(SEED)
    model = HGGT(config).eval()
    engine = TorchEngine(model, device, PRECISIONS[precision], crop_size=crop_size)
    localiser = localiser_from_name("crop", side="right")
    predictor_config = PredictorConfig(crop_size=crop_size, box_scale=1.0)
    return Predictor(engine, mano[0], mano[1], localiser, predictor_config)


def measure(
    predictor: Predictor, frameset: FrameSet, warmup: int, repeats: int
) -> tuple[dict[str, float], tuple[float, ...]]:
    """Median stage times, and the wall times, of ``repeats`` calls after ``warmup`` calls."""
    samples: dict[str, list[float]] = {stage: [] for stage in STAGES}
    walls = []
    for index in range(warmup + repeats):
        start = time.perf_counter()
        results = predictor(frameset)
        wall = time.perf_counter() - start
        if len(results) != 1:
            raise RuntimeError(f"expected one hand per frameset, got {len(results)}")
        if index < warmup:
            continue
        walls.append(wall)
        for stage in STAGES:
            samples[stage].append(results[0].timings_s[stage])
    medians = {stage: statistics.median(values) for stage, values in samples.items()}
    return medians, tuple(walls)


def run_benchmark(args: argparse.Namespace) -> list[Row]:
    """Measure every (config, crop size, S) of the grid; progress goes to stderr."""
    mano = (synthetic_mano("right"), synthetic_mano("left"))
    framesets = {views: demo_frameset(views) for views in args.views}
    names = [*args.configs, *(["full"] if args.full and "full" not in args.configs else [])]
    rows = []
    for name in names:
        slow = name == "full" and not is_cuda(args.device)
        warmup = 0 if slow else args.warmup
        repeats = args.full_repeats if name == "full" else args.repeats
        for crop_size in args.crop_sizes:
            predictor = build_predictor(
                CONFIGS[name], crop_size, args.device, args.precision, mano
            )
            for views in args.views:
                sys.stderr.write(f"  {name} crop {crop_size} S={views} ...\n")
                stages, walls = measure(predictor, framesets[views], warmup, repeats)
                rows.append(Row(name, crop_size, views, stages, walls))
    return rows


def format_table(rows: Sequence[Row]) -> str:
    """A markdown table of the rows (times in milliseconds)."""
    columns = ["config", "crop", "S", *(f"{stage} ms" for stage in STAGES)]
    columns += ["other ms", "overhead/model", "framesets/s", "<10%"]
    body = []
    for row in rows:
        verdict = "PASS" if row.ratio < TARGET_RATIO else "FAIL"
        if row.views == TARGET_VIEWS:
            verdict = f"**{verdict}**"
        stages = [f"{1e3 * row.stages_s[stage]:.2f}" for stage in STAGES]
        cells = [row.config, row.crop_size, row.views, *stages, f"{1e3 * row.other_s:.2f}"]
        body.append([*cells, f"{100 * row.ratio:.1f} %", f"{row.framesets_per_s:.2f}", verdict])
    return "\n".join(markdown_table(columns, body))


def environment(args: argparse.Namespace) -> dict[str, Any]:
    """What the numbers were measured on."""
    info: dict[str, Any] = {
        "device": args.device,
        "precision": args.precision,
        "torch": torch.__version__,
        **host_info(),
        "warmup": args.warmup,
        "repeats": args.repeats,
        "full_repeats": args.full_repeats,
        "target_ratio": TARGET_RATIO,
        "target_views": TARGET_VIEWS,
    }
    if is_cuda(args.device):
        info["gpu"] = torch.cuda.get_device_name(torch.device(args.device))
    return info


NOTES = (
    "overhead = localise + crop + mano + cameras + filter (everything but the model); "
    f"target: overhead < {100 * TARGET_RATIO:.0f} % of the model time at S = {TARGET_VIEWS} "
    "(bold); PASS/FAIL is shown on every row.",
    "tiny = the untrained demo network: its model time is tiny, so its ratio is pessimistic; "
    "the reduced (and full) configs are closer to a deployed model.",
    "medians over the repeats, warm-up calls excluded; random weights (timing only).",
)


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    """Command-line options (see the module docstring)."""
    parser = argparse.ArgumentParser(
        description=__doc__.splitlines()[0],
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
    )
    parser.add_argument(
        "--configs", nargs="+", choices=("tiny", "reduced"), default=["tiny", "reduced"]
    )
    add_grid_options(parser)
    parser.add_argument(
        "--full",
        action="store_true",
        help="also the released 1.4 B config: minutes per frameset on a CPU (see --full-repeats)",
    )
    parser.add_argument(
        "--full-repeats",
        type=int,
        default=1,
        help="timed calls per full-config row (no warm-up on a CPU)",
    )
    parser.add_argument("--device", default="cpu", help='torch device, e.g. "cpu" or "cuda"')
    parser.add_argument(
        "--precision", choices=tuple(PRECISIONS), default="fp32", help="bf16/fp16: CUDA only"
    )
    parser.add_argument(
        "--threads", type=int, default=None, help="torch.set_num_threads (default: torch's)"
    )
    parser.add_argument("--json", type=Path, default=None, help="also write the report here")
    args = parser.parse_args(argv)
    for name in ("repeats", "full_repeats"):
        if getattr(args, name) < 1:
            parser.error(f"--{name.replace('_', '-')} must be at least 1")
    if args.warmup < 0 or min(args.views) < 1:
        parser.error("--warmup must be >= 0 and every --views value >= 1")
    check_device(parser, args.device)
    return args


def main(argv: Sequence[str] | None = None) -> int:
    """Run the benchmark, print the table (and write JSON); returns the exit code."""
    args = parse_args(argv)
    if args.threads is not None:
        torch.set_num_threads(args.threads)
    info = environment(args)
    write_header("pipeline", info)
    rows = run_benchmark(args)
    write_report(format_table(rows), NOTES, args.json, info, [row.as_json() for row in rows])
    return 0


if __name__ == "__main__":
    sys.exit(main())
