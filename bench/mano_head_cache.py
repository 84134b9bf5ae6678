# Copyright 2026 The HGGT-ROS Authors
# SPDX-License-Identifier: Apache-2.0
"""The MANO head before and after projecting its unchanged keys and values once (issue 15).

Usage (from the repository root; on a shared CPU keep to one thread)::

    OMP_NUM_THREADS=1 python bench/mano_head_cache.py --threads 1
    OMP_NUM_THREADS=1 python bench/mano_head_cache.py --threads 1 --configs reduced-heads
        --views 1 4 --engines torch --profile --json cache.json

"Before" is ``hggt_core/model/mano_head.py`` and its cross-attention block as they were at
``--before`` (default: the last commit that projected the whole context every iteration), read
with ``git show`` into separate modules; "after" is the working tree's. Both networks share
every weight (the before head loads the after head's state dict, strictly).

Per config, engine (torch, ONNX Runtime) and view count S, calls alternate before/after so
other jobs hit both alike; rows give the latencies, after/before, the outputs' largest
relative difference and the FLOPs of both (``FlopCounterMode`` on the meta device), and a
last table counts both at the released size (4 views, 518 px). ``--profile`` also times the
released network at 224 px once per variant and prints the top ops of a profiled forward.

Configs: ``tiny`` and ``reduced`` are ``hggt bench``'s; ``reduced-heads`` is ``reduced`` with
the released heads (4 trunk blocks, 16 heads), the network issue 15 measured.
"""

from __future__ import annotations

import argparse
import importlib.metadata
import statistics
import subprocess
import sys
import tempfile
import time
import types
from collections.abc import Sequence
from dataclasses import asdict, dataclass, replace
from pathlib import Path
from typing import Any, cast

import numpy as np
import torch
from bench_common import write_header, write_report
from torch import nn
from torch.nn.attention import SDPBackend, sdpa_kernel
from torch.utils.flop_counter import FlopCounterMode

from hggt_core.bench.latency import CONFIGS, SEED
from hggt_core.bench.report import host_info, markdown_table
from hggt_core.engine.base import Engine, RawPrediction
from hggt_core.engine.export import export_onnx
from hggt_core.engine.onnx_engine import OnnxEngine
from hggt_core.engine.registry import onnx_providers
from hggt_core.engine.torch_engine import TorchEngine
from hggt_core.model.hggt import HGGT, HGGTConfig
from hggt_core.model.mano_head import ManoHead

BEFORE_REVISION = "01de1d6f2450cf34c91f166df22ac4c0b0bfe206"
"""The last commit whose MANO head projected all its keys and values in every iteration."""
HEAD_FILES = {
    "cross_attention": "hggt_core/model/layers/cross_attention.py",
    "mano_head": "hggt_core/model/mano_head.py",
}
NETWORKS = {
    "tiny": CONFIGS["tiny"],
    "reduced": CONFIGS["reduced"],
    "reduced-heads": replace(CONFIGS["reduced"], head_trunk_depth=4, head_num_heads=16),
    "full": CONFIGS["full"],
}
"""Networks by name: ``hggt bench``'s, and ``reduced`` with the released heads."""
OUTPUTS = ("hand_pose", "betas", "transl", "pose_enc")
VARIANTS = ("before", "after")
PROFILE_TOP_OPS = 12


def load_before_head(revision: str) -> type[nn.Module]:
    """The ``ManoHead`` class as it was at ``revision``, with that revision's block.

    Raises:
        SystemExit: git cannot show the files (not a checkout, unknown revision).
    """
    modules = {}
    for name, path in HEAD_FILES.items():
        shown = subprocess.run(
            ["git", "show", f"{revision}:{path}"], capture_output=True, text=True, check=False
        )
        if shown.returncode != 0:
            raise SystemExit(f"git show {revision}:{path} failed: {shown.stderr.strip()}")
        module = types.ModuleType(f"before_{name}")
        sys.modules[module.__name__] = module  # dataclasses look their module up there
        exec(compile(shown.stdout, f"{revision[:7]}:{path}", "exec"), module.__dict__)
        modules[name] = module
    # The old head imported today's block by name; its blocks are built from the old one.
    vars(modules["mano_head"])["CrossAttentionBlock"] = vars(modules["cross_attention"])[
        "CrossAttentionBlock"
    ]
    head: type[nn.Module] = modules["mano_head"].ManoHead
    return head


def twin_with_before_head(model: HGGT, before_head: type[nn.Module]) -> HGGT:
    """A network that shares all of ``model``'s modules and weights but runs the old head."""
    config = model.config
    with torch.device("meta"):
        twin = HGGT(config)
        head = before_head(
            dim_in=2 * config.embed_dim,
            trunk_depth=config.head_trunk_depth,
            num_heads=config.head_num_heads,
            qk_norm=config.hand_qk_norm,
        )
    # Same keys, strictly checked; assign shares the tensors instead of copying them.
    head.load_state_dict(model.mano_head.state_dict(), strict=True, assign=True)
    twin.aggregator = model.aggregator
    twin.camera_head = model.camera_head
    twin.mano_head = cast(ManoHead, head)  # the old class, with the same interface
    return twin.eval()


def counted_flops(
    config: HGGTConfig, before_head: type[nn.Module], views: int, crop: int
) -> dict[str, int]:
    """FLOPs of one forward, before and after, counted on the meta device (nothing computed)."""
    with torch.device("meta"):
        after = HGGT(config).eval()
    networks = {"before": twin_with_before_head(after, before_head), "after": after}
    counts = {}
    for variant, network in networks.items():
        meta, math = torch.device("meta"), sdpa_kernel(SDPBackend.MATH)
        with meta, math, FlopCounterMode(display=False) as counter:
            network(torch.rand(views, 3, crop, crop))
        counts[variant] = int(counter.get_total_flops())
    return counts


def time_alternately(
    engines: dict[str, Engine], crops: np.ndarray, warmup: int, repeats: int
) -> tuple[dict[str, tuple[float, ...]], float]:
    """Latencies (s) of each engine, calls alternating; and :func:`relative_difference`."""
    latencies: dict[str, list[float]] = {variant: [] for variant in engines}
    outputs: dict[str, RawPrediction] = {}
    for index in range(warmup + repeats):
        for variant, engine in engines.items():
            start = time.perf_counter()
            outputs[variant] = engine.run(crops)
            if index >= warmup:
                latencies[variant].append(time.perf_counter() - start)
    gap = relative_difference(outputs["after"], outputs["before"])
    return {variant: tuple(times) for variant, times in latencies.items()}, gap


def relative_difference(result: RawPrediction, reference: RawPrediction) -> float:
    """Largest max |result - reference| / max |reference| of the outputs (0: bitwise equal)."""
    pairs = [(getattr(result, name), getattr(reference, name)) for name in OUTPUTS]
    return max(float(np.abs(ours - theirs).max() / np.abs(theirs).max()) for ours, theirs in pairs)


@dataclass(frozen=True)
class Row:
    """One (config, engine, S): latencies of both variants, their outputs' gap, their FLOPs."""

    config: str
    engine: str
    crop_size: int
    views: int
    latencies_s: dict[str, tuple[float, ...]]
    """Timed calls by variant ("before", "after"), seconds."""
    max_relative_difference: float
    """max over the outputs of max |after - before| / max |before|."""
    flops: dict[str, int]
    """FLOPs of one forward by variant (FlopCounterMode)."""

    def median_s(self, variant: str) -> float:
        """Median latency of a variant, seconds."""
        return statistics.median(self.latencies_s[variant])

    @property
    def ratio(self) -> float:
        """Median latency after / before."""
        return self.median_s("after") / self.median_s("before")

    @property
    def fastest_ratio(self) -> float:
        """Fastest call after / before (less sensitive to other jobs than the medians)."""
        return min(self.latencies_s["after"]) / min(self.latencies_s["before"])

    def as_json(self) -> dict[str, Any]:
        """The row as plain JSON types, with the medians and ratios."""
        medians = {f"{variant}_s": self.median_s(variant) for variant in VARIANTS}
        ratios = {"after_over_before": self.ratio, "fastest_after_over_before": self.fastest_ratio}
        return {**asdict(self), **medians, **ratios}


def engines_for(
    networks: dict[str, HGGT], engine: str, crop: int, args: argparse.Namespace, folder: Path
) -> dict[str, Engine]:
    """One engine per variant: torch on the network, or ONNX Runtime on its export."""
    if engine == "torch":
        return {v: TorchEngine(net, "cpu", None, crop) for v, net in networks.items()}
    return {
        v: OnnxEngine(folder / f"{v}.onnx", onnx_providers("cpu"), args.threads) for v in networks
    }


def bench_config(name: str, before_head: type[nn.Module], args: argparse.Namespace) -> list[Row]:
    """Every engine and view count of one network; progress goes to stderr."""
    config = NETWORKS[name]
    torch.manual_seed(SEED)
    after = HGGT(config).eval()
    networks = {"before": twin_with_before_head(after, before_head), "after": after}
    rng = np.random.default_rng(SEED)
    crop = args.crop_size
    crops = {s: rng.uniform(size=(s, 3, crop, crop)).astype(np.float32) for s in args.views}
    flops = {s: counted_flops(config, before_head, s, crop) for s in args.views}
    rows = []
    with tempfile.TemporaryDirectory(prefix="hggt_cache_bench_") as tmp:
        if "onnx" in args.engines:
            # Before any eager forward: tables cached under inference mode fix S in the graph.
            for variant, network in networks.items():
                sys.stderr.write(f"  {name}: exporting {variant} ...\n")
                export_onnx(network, Path(tmp) / f"{variant}.onnx", crop, max(args.views))
        for engine in args.engines:
            engines = engines_for(networks, engine, crop, args, Path(tmp))
            for views in args.views:
                sys.stderr.write(f"  {name} {engine} S={views} ...\n")
                timed = time_alternately(engines, crops[views], args.warmup, args.repeats)
                rows.append(Row(name, engine, crop, views, *timed, flops[views]))
    return rows


def profile_full(before_head: type[nn.Module], views: int, crop: int) -> dict[str, Any]:
    """The released network once per variant (after a one-view warm-up), then profiled.

    Returns:
        ``wall_s``: one forward's wall time by variant; ``top_ops``: the profiled forward's
        ops by self CPU time (``op``, ``self_cpu_ms``, ``share`` of the total, ``calls``).
    """
    torch.manual_seed(SEED)
    after = HGGT(NETWORKS["full"]).eval()
    networks = {"before": twin_with_before_head(after, before_head), "after": after}
    images = torch.rand(1, views, 3, crop, crop)
    walls = {}
    with torch.inference_mode():
        # One view first, so neither timed call pays the one-off costs (RoPE tables, ...).
        after(images[:, :1])
        for variant, network in networks.items():
            sys.stderr.write(f"  full {variant} S={views} crop {crop} ...\n")
            start = time.perf_counter()
            network(images)
            walls[variant] = time.perf_counter() - start
        sys.stderr.write("  full after, profiled ...\n")
        with torch.profiler.profile(activities=[torch.profiler.ProfilerActivity.CPU]) as prof:
            after(images)
    events = prof.key_averages()
    total = sum(event.self_cpu_time_total for event in events)
    ranked = sorted(events, key=lambda event: event.self_cpu_time_total, reverse=True)
    top = [
        {"op": e.key, "self_cpu_ms": e.self_cpu_time_total / 1e3, "calls": e.count}
        | {"share": e.self_cpu_time_total / total}
        for e in ranked[:PROFILE_TOP_OPS]
    ]
    return {"views": views, "crop_size": crop, "wall_s": walls, "top_ops": top}


def format_rows(rows: Sequence[Row]) -> str:
    """The before/after table (milliseconds, GFLOP)."""
    columns = ["config", "engine", "crop", "S", "before ms", "after ms", "after/before"]
    columns += ["fastest after/before", "max rel diff", "before GFLOP", "after GFLOP"]
    columns += ["after/before FLOPs"]
    body = [
        [
            *(row.config, row.engine, row.crop_size, row.views),
            *(f"{1e3 * row.median_s(v):.1f}" for v in VARIANTS),
            f"{row.ratio:.3f}",
            f"{row.fastest_ratio:.3f}",
            f"{row.max_relative_difference:.1e}",
            *(f"{row.flops[v] / 1e9:.2f}" for v in VARIANTS),
            f"{row.flops['after'] / row.flops['before']:.3f}",
        ]
        for row in rows
    ]
    return "\n".join(markdown_table(columns, body))


def format_released(flops: dict[str, int], views: int, crop: int) -> str:
    """FLOPs of the released network, before and after."""
    saved = flops["before"] - flops["after"]
    cells = [views, crop, *(f"{flops[v] / 1e12:.3f}" for v in VARIANTS)]
    cells += [f"{saved / 1e12:.3f}", f"{100 * saved / flops['before']:.1f} %"]
    columns = ["S", "crop", "before TFLOP", "after TFLOP", "saved TFLOP", "saved"]
    return "\n".join(markdown_table(columns, [cells]))


def format_profile(profile: dict[str, Any]) -> str:
    """The released network's wall times and the profiled forward's top ops."""
    walls = profile["wall_s"]
    line = ", ".join(f"{variant} {walls[variant]:.1f} s" for variant in VARIANTS)
    line = f"released network, S = {profile['views']}, {profile['crop_size']} px: {line}"
    body = [
        [op["op"], f"{op['self_cpu_ms']:.0f}", f"{100 * op['share']:.1f} %", op["calls"]]
        for op in profile["top_ops"]
    ]
    table = markdown_table(["op", "self CPU ms", "share", "calls"], body)
    return "\n".join([f"{line}, after/before {walls['after'] / walls['before']:.3f}", "", *table])


NOTES = (
    "before = the head at --before (git), after = the working tree's; same weights, the "
    "aggregator and camera head shared; calls alternate before/after; medians over the "
    "repeats after the warm-up calls (fastest: the fastest calls); random weights (seed 0).",
    "max rel diff: max over hand_pose, betas, transl, pose_enc of max |after - before| / "
    "max |before| (0 = bitwise equal).",
    "GFLOP: FlopCounterMode on the meta device (matmuls; multiply-add = 2).",
)


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    """Command-line options (see the module docstring)."""
    parser = argparse.ArgumentParser(
        description=__doc__.splitlines()[0],
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
    )
    configs = ("tiny", "reduced", "reduced-heads")
    parser.add_argument("--configs", nargs="+", choices=configs, default=configs[1:])
    engines = ("torch", "onnx")
    parser.add_argument("--engines", nargs="+", choices=engines, default=engines)
    parser.add_argument("--views", nargs="+", type=int, default=[1, 2, 4, 8])
    parser.add_argument("--crop-size", type=int, default=224, help="pixels")
    parser.add_argument("--repeats", type=int, default=5, help="timed calls per variant and row")
    parser.add_argument("--warmup", type=int, default=1, help="untimed calls per variant first")
    parser.add_argument("--threads", type=int, default=None, help="torch and onnxruntime threads")
    parser.add_argument("--before", default=BEFORE_REVISION, help="git revision of 'before'")
    parser.add_argument("--profile", action="store_true", help="released network (minutes)")
    parser.add_argument("--profile-views", type=int, default=4, help="S of the profiled run")
    parser.add_argument("--json", type=Path, default=None, help="also write the report here")
    args = parser.parse_args(argv)
    if args.repeats < 1 or args.warmup < 0 or min(args.views) < 1:
        parser.error("need --repeats >= 1, --warmup >= 0 and views >= 1")
    if args.crop_size <= 0 or args.crop_size % 14:
        parser.error(f"--crop-size must be a positive multiple of 14, got {args.crop_size}")
    return args


def installed_version(package: str) -> str | None:
    """The installed version of a distribution, or None."""
    try:
        return importlib.metadata.version(package)
    except importlib.metadata.PackageNotFoundError:
        return None


def main(argv: Sequence[str] | None = None) -> int:
    """Measure, print the tables (and write the JSON report)."""
    args = parse_args(argv)
    if args.threads is not None:
        torch.set_num_threads(args.threads)
    before_head = load_before_head(args.before)
    rows = [row for name in args.configs for row in bench_config(name, before_head, args)]
    released = counted_flops(NETWORKS["full"], before_head, 4, 518)
    tables = [format_rows(rows), "", format_released(released, 4, 518)]
    extra: dict[str, Any] = {"released_flops_4_views_518px": released}
    if args.profile:
        extra["profile"] = profile_full(before_head, args.profile_views, 224)
        tables += ["", format_profile(extra["profile"])]
    info = {"torch": torch.__version__, "onnxruntime": installed_version("onnxruntime")}
    info |= {**host_info(), "before": args.before, "warmup": args.warmup}
    info["repeats"] = args.repeats
    write_header("MANO head key/value cache", info)
    write_report("\n".join(tables), NOTES, args.json, info, [r.as_json() for r in rows], **extra)
    return 0


if __name__ == "__main__":
    sys.exit(main())
