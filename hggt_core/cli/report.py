# Copyright 2026 The HGGT-ROS Authors
# SPDX-License-Identifier: Apache-2.0
"""Run statistics and the summary table printed at the end of every command."""

from __future__ import annotations

import time
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field

from hggt_core.pipeline.types import HandResult


@dataclass
class RunStats:
    """Accumulates per-frameset counts and per-stage times over a run."""

    framesets: int = 0
    hands: int = 0
    views_used: int = 0
    stage_s: dict[str, float] = field(default_factory=lambda: defaultdict(float))
    started: float = field(default_factory=time.perf_counter)

    def add(self, results: Sequence[HandResult]) -> None:
        """Count one frameset and its hands."""
        self.framesets += 1
        self.hands += len(results)
        for result in results:
            self.views_used += len(result.views_used)
            for stage, seconds in result.timings_s.items():
                self.stage_s[stage] += seconds

    def table(self) -> str:
        """The summary: framesets, hands, views per hand, mean milliseconds per stage."""
        wall_s = time.perf_counter() - self.started
        rows = [
            ("framesets", f"{self.framesets}"),
            ("hands found", f"{self.hands}"),
            ("views per hand", f"{self.views_used / self.hands:.1f}" if self.hands else "-"),
        ]
        rows += [
            (f"{stage} [ms/hand]", f"{1000.0 * total / self.hands:.1f}")
            for stage, total in self.stage_s.items()
        ]
        rows.append(("wall time [s]", f"{wall_s:.2f}"))
        width = max(len(name) for name, _ in rows)
        return "\n".join(f"  {name:<{width}}  {value:>10}" for name, value in rows)
