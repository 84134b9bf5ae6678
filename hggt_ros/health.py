# Copyright 2026 The HGGT-ROS Authors
# SPDX-License-Identifier: Apache-2.0
"""What the node's ``/diagnostics`` say about its pipeline, ROS-free.

Three times describe a result (all reported, in ms): the *inference time* (the worker's
handler, from :class:`~hggt_ros.worker.WorkerStats`), and the *age at publish*, ``now -
image stamp`` when the last output of a frameset went out, which adds the transport,
synchronisation wait and queueing before inference (it is meaningful when the image stamps and
the node share a clock, e.g. live cameras, or a bag replayed with ``use_sim_time``). The
*output rate* counts published framesets per second. The *tracker* state says how the last
frameset's hands were found; the predictor reports it
(:attr:`hggt_core.assembly.factory.HandPredictor.tracker_state`).
"""

from __future__ import annotations

import threading
from collections import deque
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from hggt_core.pipeline.sync_types import SyncedSet, SyncStats

if TYPE_CHECKING:
    from hggt_ros.worker import WorkerStats


@dataclass(frozen=True)
class Health:
    """One diagnostic status, ROS-free.

    Attributes:
        level: ``ok``, ``warn``, ``error`` or ``stale``.
        message: one-line summary.
        values: key -> value for the status's key/value list.
    """

    level: str
    message: str
    values: dict[str, object]


@dataclass(frozen=True)
class OutputStats:
    """A snapshot of :class:`OutputMonitor`.

    Attributes:
        published: framesets published since start.
        rate_hz: framesets published per second over the window (0 with fewer than two).
        age_last_s: age at publish of the newest one (s), or None before any.
        age_mean_s: mean age at publish over the window's last ``history`` framesets (s).
        age_max_s: largest of those ages (s).
    """

    published: int
    rate_hz: float
    age_last_s: float | None
    age_mean_s: float
    age_max_s: float


class OutputMonitor:
    """Output rate and age at publish, written by the worker, read by the diagnostics timer.

    Thread-safe. Times are on one clock (the node's), seconds.

    Args:
        window_s: the rate's window (s), > 0.
        history: ages kept for the mean and the maximum.
    """

    def __init__(self, window_s: float = 2.0, history: int = 50) -> None:
        if not window_s > 0:
            raise ValueError(f"window_s must be > 0, got {window_s}")
        self._window_s = window_s
        self._lock = threading.Lock()
        self._published_s: deque[float] = deque()
        self._ages_s: deque[float] = deque(maxlen=history)
        self._count = 0

    def record(self, now_s: float, stamp_s: float) -> None:
        """One frameset published at ``now_s`` whose reference image has ``stamp_s``."""
        with self._lock:
            self._count += 1
            self._published_s.append(now_s)
            self._ages_s.append(now_s - stamp_s)
            self._forget(now_s)

    def stats(self, now_s: float) -> OutputStats:
        """The rate over the window ending at ``now_s`` and the recent ages."""
        with self._lock:
            self._forget(now_s)
            times, ages = list(self._published_s), list(self._ages_s)
            count = self._count
        span_s = times[-1] - times[0] if len(times) > 1 else 0.0
        return OutputStats(
            published=count,
            rate_hz=(len(times) - 1) / span_s if span_s > 0 else 0.0,
            age_last_s=ages[-1] if ages else None,
            age_mean_s=sum(ages) / len(ages) if ages else 0.0,
            age_max_s=max(ages, default=0.0),
        )

    def _forget(self, now_s: float) -> None:
        while self._published_s and self._published_s[0] < now_s - self._window_s:
            self._published_s.popleft()


@dataclass(frozen=True)
class FramesetOutcome:
    """The last processed frameset, as the diagnostics report it.

    Attributes:
        synced: the frameset's views (used and missing) and stamp spread.
        hands: hands found in it.
        tracker: how its hands were found (the predictor's ``tracker_state``).
    """

    synced: SyncedSet[Any]
    hands: int
    tracker: str


def pipeline_health(
    work: WorkerStats,
    sync: SyncStats,
    last: FramesetOutcome | None,
    outputs: OutputStats,
    rate_limited: int,
    trained: bool,
    identity: Mapping[str, str],
) -> Health:
    """The inference pipeline's status.

    Args:
        work: the worker's counters.
        sync: synchroniser counters.
        last: the last processed frameset, or None before any.
        outputs: output rate and age at publish.
        rate_limited: framesets skipped by the rate limit.
        trained: False when the network has random weights (a warning).
        identity: engine, device, model, ... shown as they are.
    """
    age_last_ms = None if outputs.age_last_s is None else 1e3 * outputs.age_last_s
    values: dict[str, object] = {
        **identity,
        "inference time mean (ms)": 1e3 * work.mean_duration_s,
        "inference time max (ms)": 1e3 * work.max_duration_s,
        "age at publish last (ms)": "none yet" if age_last_ms is None else age_last_ms,
        "age at publish mean (ms)": 1e3 * outputs.age_mean_s,
        "age at publish max (ms)": 1e3 * outputs.age_max_s,
        "output rate (Hz)": outputs.rate_hz, "framesets published": outputs.published,
        "framesets processed": work.processed, "framesets pending": work.pending,
        "framesets dropped (latest wins)": work.dropped,
        "framesets dropped (rate limit)": rate_limited, "framesets failed": work.failed,
        "sync sets": sync.emitted_sets, "sync partial sets": sync.emitted_partial,
        "sync resets": sync.resets,
        "sync buffered images": sum(view.buffered for view in sync.views),
    }  # fmt: skip
    if last is not None:
        values["views used"] = " ".join(last.synced.names)
        values["views missing"] = " ".join(last.synced.missing)
        values["sync spread (ms)"] = 1e3 * last.synced.spread_s
        values["hands"] = last.hands
        values["tracker"] = last.tracker
    level, message = "ok", f"{work.processed} framesets processed, {outputs.rate_hz:.1f} Hz out"
    if not trained:
        level, message = "warn", "untrained network: the outputs are meaningless"
    if work.failed:
        level, message = "error", f"{work.failed} framesets failed (see the log)"
    return Health(level, message, values)
