# Copyright 2026 The HGGT-ROS Authors
# SPDX-License-Identifier: Apache-2.0
"""The loop every pipeline command shares: framesets -> predictor -> a sink, with progress."""

from __future__ import annotations

from collections.abc import Callable, Iterable

import numpy as np
import numpy.typing as npt
from tqdm import tqdm

from hggt_core.assembly.factory import Pipeline
from hggt_core.cli.report import RunStats
from hggt_core.pipeline.types import FrameSet, HandResult

FrameSetSink = Callable[[int, FrameSet, list[HandResult]], None]
"""Receives (index, frameset, its hands) for every frameset a command runs."""


def run_framesets(
    pipeline: Pipeline, framesets: Iterable[FrameSet], sink: FrameSetSink, total: int | None
) -> RunStats:
    """Run every frameset through the predictor into ``sink``, with a progress bar."""
    stats = RunStats()
    progress = tqdm(framesets, total=total, unit="frameset", disable=None, leave=False)
    for index, frameset in enumerate(progress):
        results = pipeline.predictor(frameset)
        sink(index, frameset, results)
        stats.add(results)
    return stats


def describe(pipeline: Pipeline) -> str:
    """Which engine, weights and hand model a run used."""
    return (
        f"  engine: {pipeline.engine}\n  model:  {pipeline.model_source}\n"
        f"  MANO:   {pipeline.mano_source}"
    )


def faces_of(pipeline: Pipeline) -> npt.NDArray[np.int64]:
    """The MANO triangles [F, 3] of the pipeline's hand model."""
    faces: npt.NDArray[np.int64] = pipeline.predictor.mano_right.faces.cpu().numpy()
    return faces
