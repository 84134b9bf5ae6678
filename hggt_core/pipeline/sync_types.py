# Copyright 2026 The HGGT-ROS Authors
# SPDX-License-Identifier: Apache-2.0
"""The multi-view synchroniser's settings and what it reports: sets and statistics.

See :mod:`hggt_core.pipeline.sync` for the policy these settings drive.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Generic, TypeGuard, TypeVar

from hggt_core.pipeline.types import NS_PER_S

T = TypeVar("T")


@dataclass(frozen=True)
class SyncConfig:
    """Synchroniser settings; all durations in seconds on the stamps' clock.

    Attributes:
        slop_s: largest allowed spread (newest minus oldest stamp) inside one set, >= 0.
        max_wait_s: how long an incomplete set waits for missing views before it is emitted
            with the views present, >= 0.
        min_cameras: fewest views an incomplete set needs to be emitted, >= 1.
        queue_size: messages buffered per view; the oldest is dropped beyond it, >= 1.
        reset_threshold_s: a view's stamp this much older than its newest one is a clock
            jump back and resets the synchroniser, > 0 (``math.inf`` disables resets).
    """

    slop_s: float = 0.02
    max_wait_s: float = 0.1
    min_cameras: int = 1
    queue_size: int = 8
    reset_threshold_s: float = 1.0

    def __post_init__(self) -> None:
        """Reject out-of-range settings with a ValueError naming the field."""
        number, integer = _is_number, _is_int
        self._require("slop_s", number(self.slop_s) and self.slop_s >= 0, "a number >= 0")
        self._require(
            "max_wait_s", number(self.max_wait_s) and self.max_wait_s >= 0, "a number >= 0"
        )
        self._require(
            "min_cameras", integer(self.min_cameras) and self.min_cameras >= 1, "an int >= 1"
        )
        self._require(
            "queue_size", integer(self.queue_size) and self.queue_size >= 1, "an int >= 1"
        )
        threshold = self.reset_threshold_s
        self._require("reset_threshold_s", number(threshold) and threshold > 0, "a number > 0")

    def _require(self, name: str, ok: bool, requirement: str) -> None:
        if not ok:
            value = getattr(self, name)
            raise ValueError(f"SyncConfig.{name} must be {requirement}, got {value!r}")


def _is_int(value: object) -> TypeGuard[int]:
    return isinstance(value, int) and not isinstance(value, bool)


def _is_number(value: object) -> TypeGuard[float]:
    """True for an int or float that is not a bool and not NaN (infinities pass)."""
    return (
        isinstance(value, (int, float)) and not isinstance(value, bool) and not math.isnan(value)
    )


@dataclass(frozen=True)
class SyncedSet(Generic[T]):
    """One synchronised frameset.

    Attributes:
        reference_stamp_ns: the set's stamp (ns): the reference view's stamp when it is
            present, else the stamp of the first present view in declaration order. It is
            always a real capture stamp of one member (not an average), so a consumer can
            look up TF or align other data at it; it stays on one camera's clock while
            that camera is present and is within ``slop_s`` of every member.
        views: ``(name, stamp_ns, payload)`` of the present views, in declaration order.
        missing: names of the declared views absent from the set, in declaration order.
        spread_s: newest minus oldest member stamp (s), <= ``slop_s``.
    """

    reference_stamp_ns: int
    views: tuple[tuple[str, int, T], ...]
    missing: tuple[str, ...]
    spread_s: float

    @property
    def reference_stamp_s(self) -> float:
        """``reference_stamp_ns`` in seconds (float64; for arithmetic, never for stamping)."""
        return self.reference_stamp_ns / NS_PER_S

    @property
    def complete(self) -> bool:
        """True when every declared view is present."""
        return not self.missing

    @property
    def names(self) -> tuple[str, ...]:
        """Names of the present views, in declaration order."""
        return tuple(name for name, _, _ in self.views)


@dataclass(frozen=True)
class ViewStats:
    """Counters of one view since construction (resets do not clear them).

    Attributes:
        name: view name.
        received: messages pushed, including duplicates and dropped ones.
        duplicates: messages whose stamp equalled a buffered one (they replace its payload).
        dropped_stale: messages dropped for being at or below the last emitted set, on
            arrival or when a newer set was emitted before they were used.
        dropped_overflow: messages pushed out of the full buffer (the oldest goes).
        buffered: messages buffered now, <= ``queue_size``.
    """

    name: str
    received: int
    duplicates: int
    dropped_stale: int
    dropped_overflow: int
    buffered: int


@dataclass(frozen=True)
class SyncStats:
    """Snapshot of the synchroniser's counters.

    Attributes:
        views: per-view counters, in declaration order.
        emitted_sets: sets emitted, complete or partial.
        emitted_partial: sets emitted with at least one view missing.
        resets: automatic resets after a backwards clock jump.
    """

    views: tuple[ViewStats, ...]
    emitted_sets: int
    emitted_partial: int
    resets: int

    def view(self, name: str) -> ViewStats:
        """Counters of the view called ``name``; KeyError if there is none."""
        for stats in self.views:
            if stats.name == name:
                return stats
        raise KeyError(f"no view {name!r}; views are {[s.name for s in self.views]}")
