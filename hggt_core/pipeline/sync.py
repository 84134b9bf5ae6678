# Copyright 2026 The HGGT-ROS Authors
# SPDX-License-Identifier: Apache-2.0
"""Multi-view synchroniser: groups per-camera messages into framesets by their stamps.

This replaces message_filters' ApproximateTimeSynchronizer (docs/DESIGN.md, decision 3).
It is fed ``(view name, stamp, payload)`` one message at a time and hands back the sets that
became ready; nothing is called back, so the caller decides which thread does the work.

Stamps are integer nanoseconds (as ROS headers carry them), so a set's stamps are exactly its
members' and equal stamps are exactly equal; the settings are seconds. Policy, all times on
the stamps' clock:

* A *window* is ``[s, s + slop_s]`` starting at a buffered stamp ``s``; a candidate set takes,
  for every view with a message in the window, that view's newest message in it, so a set's
  spread (newest minus oldest member stamp) never exceeds ``slop_s``. Windows whose messages
  are a subset of an earlier window's are not candidates (they would split one frame).
* A candidate is *ready* when every declared view is in it (complete), or when it has at
  least ``min_cameras`` views and has waited ``max_wait_s``: the stream clock (the newest stamp
  pushed, or the ``now_ns`` given to :meth:`MultiViewSynchroniser.poll` if later) is at least
  ``max_wait_s`` past its oldest stamp. Measuring the wait in stamp time makes bag replays
  deterministic; ``poll`` lets a node's timer release framesets when a camera stops and
  nothing else arrives.
* Every ready candidate is emitted, oldest first; each emission makes the candidates it
  overlaps or precedes stale (next point), so a candidate that is still waiting is skipped
  once a newer one is emitted. A call usually returns none or one set, several when ``poll``
  runs after a gap or reordered messages complete sets late; a consumer that only wants the
  latest (the node's worker) takes the last, a bag replay keeps them all.
* After an emission, every message at or below the set's newest member stamp is stale and
  dropped, and so is a message of a view missing from the set up to the end of its window
  (oldest member + ``slop_s``), since it belongs to the frame already emitted. Reference
  stamps are therefore strictly increasing.
* Messages arriving out of order are inserted in stamp order. A message with the same view
  and stamp as a buffered one replaces its payload (the latest delivery of that instant
  wins) and is counted as a duplicate.
* A message more than ``reset_threshold_s`` older than its own view's newest stamp means the
  clock jumped back (a bag loops, simulated time restarts): the state is cleared, a warning
  is logged, the reset is counted, and synchronisation continues in the new epoch. The check
  is per view so that one camera lagging behind the others cannot reset everyone.

Choosing parameters: ``slop_s`` below half the fastest camera period (frames stay
unambiguous), ``max_wait_s`` above the largest delivery delay between cameras, and
``queue_size`` frames covering more than ``max_wait_s`` at the fastest rate.

Cost per push or poll, and again per set it releases: sorting the buffered stamps (``V``
sorted runs, at most ``V * queue_size`` items) and one sweep over them; never the product of
candidate counts (about 10 us per push for 4 views on one CPU core).
"""

from __future__ import annotations

import bisect
import logging
import math
import threading
from collections.abc import Sequence
from typing import Generic, TypeVar

from hggt_core.pipeline.sync_types import SyncConfig, SyncedSet, SyncStats, ViewStats
from hggt_core.pipeline.types import NS_PER_S, checked_stamp_ns, seconds_to_ns

T = TypeVar("T")

_LOG = logging.getLogger(__name__)


class _ViewBuffer(Generic[T]):
    """Messages of one view sorted by stamp, with its counters and drop horizon."""

    def __init__(self) -> None:
        self.stamps_ns: list[int] = []
        self.payloads: list[T] = []
        self.newest_ns: int | None = None
        self.horizon_ns: float = -math.inf
        self.received = 0
        self.duplicates = 0
        self.dropped_stale = 0
        self.dropped_overflow = 0

    def insert(self, stamp_ns: int, payload: T, capacity: int) -> None:
        index = bisect.bisect_left(self.stamps_ns, stamp_ns)
        if index < len(self.stamps_ns) and self.stamps_ns[index] == stamp_ns:
            self.payloads[index] = payload
            self.duplicates += 1
            return
        self.stamps_ns.insert(index, stamp_ns)
        self.payloads.insert(index, payload)
        if len(self.stamps_ns) > capacity:
            del self.stamps_ns[0]
            del self.payloads[0]
            self.dropped_overflow += 1

    def payload_at(self, stamp_ns: int) -> T:
        return self.payloads[bisect.bisect_left(self.stamps_ns, stamp_ns)]

    def drop_through(self, horizon_ns: float) -> int:
        """Raise the horizon and drop messages at or below it; returns how many."""
        self.horizon_ns = max(self.horizon_ns, horizon_ns)
        count = bisect.bisect_right(self.stamps_ns, self.horizon_ns)
        del self.stamps_ns[:count]
        del self.payloads[:count]
        return count

    def clear(self) -> None:
        self.stamps_ns.clear()
        self.payloads.clear()
        self.newest_ns = None
        self.horizon_ns = -math.inf


class MultiViewSynchroniser(Generic[T]):
    """Groups stamped messages of several views into :class:`SyncedSet` framesets.

    Thread-safe: one lock guards the state; sets are returned to the caller, never
    dispatched under the lock. The policy is described in the module docstring.

    Example:
        >>> sync = MultiViewSynchroniser[str](["cam0", "cam1"], SyncConfig(slop_s=0.01))
        >>> sync.push("cam0", 10_000_000_000, "a")
        []
        >>> [s.names for s in sync.push("cam1", 10_004_000_000, "b")]
        [('cam0', 'cam1')]
    """

    def __init__(
        self,
        views: Sequence[str],
        config: SyncConfig | None = None,
        reference_view: str | None = None,
    ) -> None:
        """Declare the views.

        Args:
            views: view names in output order, unique and non-empty.
            config: settings; the defaults of :class:`SyncConfig` when None.
            reference_view: the view whose stamp becomes a set's reference stamp when
                present; the first declared view when None.

        Raises:
            ValueError: no views, duplicate or empty names, an unknown ``reference_view``,
                or ``config.min_cameras`` larger than the number of views.
        """
        names = tuple(views)
        if not names or any(not isinstance(n, str) or not n for n in names):
            raise ValueError(f"views must be a non-empty list of non-empty names, got {names!r}")
        if len(set(names)) != len(names):
            raise ValueError(f"views must be unique, got {names!r}")
        self._config = SyncConfig() if config is None else config
        if self._config.min_cameras > len(names):
            raise ValueError(
                f"SyncConfig.min_cameras ({self._config.min_cameras}) exceeds the number of "
                f"views ({len(names)})"
            )
        reference = names[0] if reference_view is None else reference_view
        if reference not in names:
            raise ValueError(f"reference_view {reference!r} is not one of the views {names!r}")
        self._names = names
        self._index = {name: i for i, name in enumerate(names)}
        first = self._index[reference]
        self._priority = (first, *(i for i in range(len(names)) if i != first))
        self._buffers: list[_ViewBuffer[T]] = [_ViewBuffer() for _ in names]
        self._lock = threading.Lock()
        self._slop_ns = _duration_ns(self._config.slop_s)
        self._max_wait_ns = _duration_ns(self._config.max_wait_s)
        self._reset_threshold_ns = _duration_ns(self._config.reset_threshold_s)
        self._clock_ns: int | None = None
        self._emitted = 0
        self._partial = 0
        self._resets = 0

    @property
    def views(self) -> tuple[str, ...]:
        """Declared view names, in order."""
        return self._names

    @property
    def config(self) -> SyncConfig:
        """The settings in use."""
        return self._config

    def push(self, view_name: str, stamp_ns: int, payload: T) -> list[SyncedSet[T]]:
        """Add one message and return the sets that became ready, oldest first.

        Args:
            view_name: one of the declared views.
            stamp_ns: capture stamp in integer nanoseconds, e.g. ``header.stamp``'s
                ``sec * 10**9 + nanosec``.
            payload: anything; handed back untouched in the set.

        Raises:
            ValueError: unknown view name.
            TypeError: a stamp that is not an integer.
        """
        index = self._index.get(view_name)
        if index is None:
            raise ValueError(f"unknown view {view_name!r}; declared views are {self._names!r}")
        stamp_ns = checked_stamp_ns(stamp_ns, f"view {view_name!r}")
        with self._lock:
            jumped_from_ns = self._accept(index, stamp_ns, payload)
            ready = self._release(self._clock_ns)
            resets = self._resets
        if jumped_from_ns is not None:
            message = "view %r stamp jumped back from %d ns to %d ns; synchroniser reset (#%d)"
            _LOG.warning(message, view_name, jumped_from_ns, stamp_ns, resets)
        return ready

    def poll(self, now_ns: int) -> list[SyncedSet[T]]:
        """Release the sets whose wait has run out by ``now_ns``, oldest first.

        Call it from a timer when views may stop: without pushes the stream clock would not
        advance. ``now_ns`` must be on the stamps' clock (e.g. the node's ROS clock); an
        earlier time than the newest stamp changes nothing.

        Raises:
            TypeError: a ``now_ns`` that is not an integer.
        """
        now_ns = checked_stamp_ns(now_ns, "poll")
        with self._lock:
            clock_ns = now_ns if self._clock_ns is None else max(self._clock_ns, now_ns)
            return self._release(clock_ns)

    def stats(self) -> SyncStats:
        """A snapshot of the counters."""
        with self._lock:
            views = tuple(
                ViewStats(
                    name=name,
                    received=b.received,
                    duplicates=b.duplicates,
                    dropped_stale=b.dropped_stale,
                    dropped_overflow=b.dropped_overflow,
                    buffered=len(b.stamps_ns),
                )
                for name, b in zip(self._names, self._buffers, strict=True)
            )
            return SyncStats(views, self._emitted, self._partial, self._resets)

    def reset(self) -> None:
        """Forget buffered messages and emitted history (not counted in ``resets``)."""
        with self._lock:
            self._clear()

    def _clear(self) -> None:
        for buffer in self._buffers:
            buffer.clear()
        self._clock_ns = None

    def _accept(self, index: int, stamp_ns: int, payload: T) -> int | None:
        """Buffer one message; returns the previous stamp when it was a clock jump."""
        buffer = self._buffers[index]
        buffer.received += 1
        jumped_from_ns = None
        newest_ns = buffer.newest_ns
        if newest_ns is not None and stamp_ns < newest_ns - self._reset_threshold_ns:
            jumped_from_ns = newest_ns
            self._clear()
            self._resets += 1
        buffer.newest_ns = (
            stamp_ns if buffer.newest_ns is None else max(buffer.newest_ns, stamp_ns)
        )
        self._clock_ns = stamp_ns if self._clock_ns is None else max(self._clock_ns, stamp_ns)
        if stamp_ns <= buffer.horizon_ns:
            buffer.dropped_stale += 1
        else:
            buffer.insert(stamp_ns, payload, self._config.queue_size)
        return jumped_from_ns

    def _release(self, clock_ns: int | None) -> list[SyncedSet[T]]:
        ready: list[SyncedSet[T]] = []
        while clock_ns is not None:
            items = sorted(
                (stamp_ns, view)
                for view, buffer in enumerate(self._buffers)
                for stamp_ns in buffer.stamps_ns
            )
            window = self._oldest_ready_window(items, clock_ns)
            if window is None:
                break
            ready.append(self._emit(items[window[0] : window[1]]))
        return ready

    def _oldest_ready_window(
        self, items: list[tuple[int, int]], clock_ns: int
    ) -> tuple[int, int] | None:
        """Sweep windows ``[s, s + slop_s]`` over sorted ``(stamp, view)`` items.

        Returns:
            ``(start, end)`` item indices (end exclusive) of the oldest ready window, or None.
        """
        min_cameras = self._config.min_cameras
        counts = [0] * len(self._names)
        distinct = 0
        end = 0
        previous_end = 0
        for start, (start_ns, start_view) in enumerate(items):
            while end < len(items) and items[end][0] - start_ns <= self._slop_ns:
                distinct += int(counts[items[end][1]] == 0)
                counts[items[end][1]] += 1
                end += 1
            # Same end as the previous window: a subset of it, hence not a candidate.
            if end > previous_end and (
                distinct == len(self._names)
                or (distinct >= min_cameras and clock_ns - start_ns >= self._max_wait_ns)
            ):
                return start, end
            previous_end = end
            counts[start_view] -= 1
            distinct -= int(counts[start_view] == 0)
        return None

    def _emit(self, window: list[tuple[int, int]]) -> SyncedSet[T]:
        chosen: list[int | None] = [None] * len(self._names)
        for stamp_ns, view in window:
            chosen[view] = stamp_ns  # items are sorted, so each view keeps its newest
        present = [(view, s) for view, s in enumerate(chosen) if s is not None]
        oldest_ns = min(s for _, s in present)
        newest_ns = max(s for _, s in present)
        members = tuple(
            (self._names[view], s, self._buffers[view].payload_at(s)) for view, s in present
        )
        reference_ns = next(s for view in self._priority if (s := chosen[view]) is not None)
        for view, buffer in enumerate(self._buffers):
            used = chosen[view] is not None
            horizon_ns = newest_ns if used else oldest_ns + self._slop_ns
            buffer.dropped_stale += buffer.drop_through(horizon_ns) - int(used)
        missing = tuple(name for name, s in zip(self._names, chosen, strict=True) if s is None)
        self._emitted += 1
        self._partial += bool(missing)
        return SyncedSet(reference_ns, members, missing, (newest_ns - oldest_ns) / NS_PER_S)


def _duration_ns(seconds: float) -> float:
    """A setting in seconds as nanoseconds (an int, or ``math.inf`` for an infinite one)."""
    return math.inf if math.isinf(seconds) else seconds_to_ns(seconds)
