# Copyright 2026 The HGGT-ROS Authors
# SPDX-License-Identifier: Apache-2.0
"""What the benchmark scripts share: demo images, options, printing reports.

The scripts (``bench/*.py``) run as ``python bench/<name>.py``, which puts this folder on
``sys.path``; they import this module as ``bench_common``. The networks, the host description
and the report formats are ``hggt bench``'s (:mod:`hggt_core.bench.latency`,
:mod:`hggt_core.bench.report`).
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import torch

from hggt_core.bench.latency import is_cuda
from hggt_core.bench.report import header_line, report_text, write_json_report
from hggt_core.io.images import read_rgb
from hggt_core.render.demo import demo_example_dir


def demo_images() -> list[np.ndarray]:
    """The bundled demo example's views, in name order: [H, W, 3] uint8 RGB each."""
    files = sorted(demo_example_dir().glob("view_*.jpg"))
    if not files:
        raise FileNotFoundError(f"no demo views in {demo_example_dir()}")
    return [read_rgb(path) for path in files]


def add_grid_options(parser: argparse.ArgumentParser) -> None:
    """The (views, crop sizes) grid and the repeat counts that bench/pipeline_stages.py takes."""
    parser.add_argument("--views", nargs="+", type=int, default=[1, 2, 4, 8])
    parser.add_argument("--crop-sizes", nargs="+", type=int, default=[224, 336, 518])
    parser.add_argument("--repeats", type=int, default=5, help="timed calls per row")
    parser.add_argument("--warmup", type=int, default=1, help="untimed calls per row first")


def check_device(parser: argparse.ArgumentParser, device: str) -> None:
    """Stop with a usage error when ``device`` is a CUDA device and CUDA is not available."""
    if is_cuda(device) and not torch.cuda.is_available():
        parser.error(f"--device {device}: CUDA is not available")


def write_header(title: str, info: dict[str, Any]) -> None:
    """One stdout line: the benchmark's title and its environment as ``key=value`` pairs."""
    sys.stdout.write(header_line(title, info) + "\n")


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
    sys.stdout.write(report_text(table, notes) + "\n")
    if json_path is not None:
        write_json_report(json_path, info, notes, rows, **extra)
