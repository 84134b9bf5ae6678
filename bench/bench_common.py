# Copyright 2026 The HGGT-ROS Authors
# SPDX-License-Identifier: Apache-2.0
"""What the benchmark scripts share: networks, demo images, options, the environment, reports.

The scripts (``bench/*.py``) run as ``python bench/<name>.py``, which puts this folder on
``sys.path``; they import this module as ``bench_common``.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import torch

from hggt_core.io.images import read_rgb
from hggt_core.mano.layer import ManoLayer
from hggt_core.mano.synthetic import make_synthetic_mano
from hggt_core.model.hggt import HGGTConfig
from hggt_core.pipeline.factory import UNTRAINED_CONFIG
from hggt_core.render.demo import demo_example_dir

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


def is_cuda(device: str) -> bool:
    """Whether a torch device string names a CUDA device."""
    return device.startswith("cuda")


def demo_images() -> list[np.ndarray]:
    """The bundled demo example's views, in name order: [H, W, 3] uint8 RGB each."""
    files = sorted(demo_example_dir().glob("view_*.jpg"))
    if not files:
        raise FileNotFoundError(f"no demo views in {demo_example_dir()}")
    return [read_rgb(path) for path in files]


def synthetic_mano(side: str) -> ManoLayer:
    """The procedural MANO hand (MANO's sizes), full-pose input, mean pose not flat."""
    return ManoLayer(make_synthetic_mano(side), use_pca=False, flat_hand_mean=False)


def add_grid_options(parser: argparse.ArgumentParser) -> None:
    """The (views, crop sizes) grid and the repeat counts, as latency and pipeline take them."""
    parser.add_argument("--views", nargs="+", type=int, default=[1, 2, 4, 8])
    parser.add_argument("--crop-sizes", nargs="+", type=int, default=[224, 336, 518])
    parser.add_argument("--repeats", type=int, default=5, help="timed calls per row")
    parser.add_argument("--warmup", type=int, default=1, help="untimed calls per row first")


def check_device(parser: argparse.ArgumentParser, device: str) -> None:
    """Stop with a usage error when ``device`` is a CUDA device and CUDA is not available."""
    if is_cuda(device) and not torch.cuda.is_available():
        parser.error(f"--device {device}: CUDA is not available")


def host_info() -> dict[str, Any]:
    """The machine and interpreter the numbers were measured on (threads, load, platform)."""
    return {
        "torch_threads": torch.get_num_threads(),
        "cpu_count": os.cpu_count(),
        "load_avg_1min_at_start": round(os.getloadavg()[0], 2),
        "platform": platform.platform(),
        "python": platform.python_version(),
    }


def markdown_table(columns: Sequence[str], body: Sequence[Sequence[object]]) -> list[str]:
    """The lines of a markdown table: the column names, the rule, one line per row of cells."""
    lines = ["| " + " | ".join(columns) + " |", "|" + "---|" * len(columns)]
    return lines + ["| " + " | ".join(map(str, cells)) + " |" for cells in body]


def write_header(title: str, info: dict[str, Any]) -> None:
    """One stdout line: the benchmark's title and its environment as ``key=value`` pairs."""
    pairs = ", ".join(f"{key}={value}" for key, value in info.items())
    sys.stdout.write(f"{title} benchmark: {pairs}\n")


def write_report(
    table: str,
    notes: Sequence[str],
    json_path: Path | None,
    info: dict[str, Any],
    rows: list[dict[str, Any]],
    **extra: Any,
) -> None:
    """Print the table and the notes; with ``json_path``, also write the report there.

    The JSON report holds ``environment`` (``info``), ``notes``, ``rows`` and then ``extra``.
    """
    sys.stdout.write(table + "\n\n" + "\n".join(f"- {note}" for note in notes) + "\n")
    if json_path is not None:
        report = {"environment": info, "notes": notes, "rows": rows, **extra}
        json_path.write_text(json.dumps(report, indent=1) + "\n", encoding="utf-8")
