# Copyright 2026 The HGGT-ROS Authors
# SPDX-License-Identifier: Apache-2.0
"""ROS-free runtime state of the node: latest-wins worker, input monitors.

Inference never runs in a subscription callback (it would block the executor and let the
image queues grow). The callbacks hand each synchronised frameset to
:class:`LatestWinsWorker`, which holds at most ONE pending item: a newer frameset replaces an
older one that has not started yet (the older one is counted as dropped). Memory therefore
stays flat and latency stays one inference long however slow the model is.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from typing import Generic, TypeVar

from hggt_core.io.camera_info import PublishedCalibration
from hggt_core.pipeline.sync_types import ViewStats
from hggt_ros.health import Health

T = TypeVar("T")

_LOG = logging.getLogger(__name__)


@dataclass(frozen=True)
class WorkerStats:
    """Counters of a :class:`LatestWinsWorker`.

    Attributes:
        submitted: items handed to :meth:`LatestWinsWorker.submit`.
        processed: items the handler finished (successfully or not).
        dropped: items replaced by a newer one before they started.
        failed: items whose handler raised.
        pending: items waiting now (0 or 1).
        busy: the handler is running now.
        mean_duration_s: mean handler time over the last ``history`` items (0 before any).
        max_duration_s: longest handler time over the last ``history`` items.
    """

    submitted: int
    processed: int
    dropped: int
    failed: int
    pending: int
    busy: bool
    mean_duration_s: float
    max_duration_s: float


class LatestWinsWorker(Generic[T]):
    """A thread running ``handler`` on the newest submitted item (see the module docstring).

    Args:
        handler: called on the worker thread with one item at a time. An exception it raises
            is logged, counted in ``failed`` and passed to ``on_error``; the worker goes on.
        name: thread name.
        on_error: optional callback receiving a handler's exception (on the worker thread).
        history: handler durations kept for the statistics.
    """

    def __init__(
        self,
        handler: Callable[[T], None],
        name: str = "hggt-worker",
        on_error: Callable[[Exception], None] | None = None,
        history: int = 50,
    ) -> None:
        self._handler = handler
        self._on_error = on_error
        self._condition = threading.Condition()
        self._pending: tuple[T] | None = None  # a 1-tuple so that None can be an item
        self._stopping = False
        self._busy = False
        self._submitted = self._processed = self._dropped = self._failed = 0
        self._durations_s: deque[float] = deque(maxlen=history)
        self._thread = threading.Thread(target=self._run, name=name, daemon=True)

    def start(self) -> None:
        """Start the thread (once)."""
        self._thread.start()

    def submit(self, item: T) -> bool:
        """Make ``item`` the next one to process.

        Returns:
            True when it replaced a pending item (which is then dropped).
        """
        with self._condition:
            replaced = self._pending is not None
            self._dropped += int(replaced)
            self._submitted += 1
            self._pending = (item,)
            self._condition.notify()
        return replaced

    def stop(self, timeout_s: float = 5.0) -> bool:
        """Drop the pending item, let a running handler finish, and join the thread.

        Returns:
            True when the thread ended within ``timeout_s`` (it is a daemon thread, so a
            handler stuck past that cannot keep the process alive).
        """
        with self._condition:
            self._stopping = True
            self._dropped += int(self._pending is not None)
            self._pending = None
            self._condition.notify_all()
        if self._thread.is_alive() and self._thread is not threading.current_thread():
            self._thread.join(timeout_s)
        return not self._thread.is_alive()

    def stats(self) -> WorkerStats:
        """A snapshot of the counters."""
        with self._condition:
            durations = list(self._durations_s)
            return WorkerStats(
                submitted=self._submitted,
                processed=self._processed,
                dropped=self._dropped,
                failed=self._failed,
                pending=int(self._pending is not None),
                busy=self._busy,
                mean_duration_s=sum(durations) / len(durations) if durations else 0.0,
                max_duration_s=max(durations, default=0.0),
            )

    def _run(self) -> None:
        while True:
            with self._condition:
                while self._pending is None and not self._stopping:
                    self._condition.wait()
                if self._stopping or self._pending is None:
                    return
                (item,) = self._pending
                self._pending = None
                self._busy = True
            start = time.perf_counter()
            failed = False
            try:
                self._handler(item)
            except Exception as error:  # the worker must survive any bad frameset
                failed = True
                _LOG.exception("inference worker: handler failed")
                if self._on_error is not None:
                    self._on_error(error)
            with self._condition:
                self._busy = False
                self._processed += 1
                self._failed += int(failed)
                self._durations_s.append(time.perf_counter() - start)


class RateMeter:
    """Event rate over a sliding time window (e.g. images received per second).

    Not thread-safe: record and read from one thread (the node's executor).

    Args:
        window_s: events older than this before the query time are forgotten (s), > 0.
    """

    def __init__(self, window_s: float = 2.0) -> None:
        if not window_s > 0:
            raise ValueError(f"window_s must be > 0, got {window_s}")
        self._window_s = window_s
        self._times_s: deque[float] = deque()
        self.count = 0
        """Events recorded since construction."""
        self.last_s: float | None = None
        """Time of the newest event, or None before any."""

    def record(self, time_s: float) -> None:
        """Record one event at ``time_s`` (non-decreasing times, e.g. a steady clock)."""
        self._times_s.append(time_s)
        self.count += 1
        self.last_s = time_s
        self._forget(time_s)

    def rate_hz(self, now_s: float) -> float:
        """Events per second over the window ending at ``now_s`` (0 with fewer than two).

        The rate is measured between the first and the last event in the window, so it does
        not depend on where the window edges fall; it drops to 0 once every event is older
        than the window.
        """
        self._forget(now_s)
        if len(self._times_s) < 2:
            return 0.0
        span_s = self._times_s[-1] - self._times_s[0]
        return (len(self._times_s) - 1) / span_s if span_s > 0 else 0.0

    def _forget(self, now_s: float) -> None:
        while self._times_s and self._times_s[0] < now_s - self._window_s:
            self._times_s.popleft()


class CameraMonitor:
    """What the node knows about one camera: input rate, problems, frame id, intrinsics.

    Written by the executor thread (image callbacks), read by the diagnostics timer (the same
    thread) and, for ``frame_id``, by the worker (a plain attribute read).

    Args:
        name: camera name.
        topic: subscribed image topic.
        rate_window_s: window of the input rate.
    """

    def __init__(self, name: str, topic: str, rate_window_s: float = 2.0) -> None:
        self.name = name
        self.topic = topic
        self.frame_id = name
        """The optical frame id of the newest image (its name until one arrives)."""
        self.rate = RateMeter(rate_window_s)
        self.bad_images = 0
        self.last_problem = ""
        self.intrinsics: PublishedCalibration | None = None
        """K [3, 3], (width, height) and lens distortion from camera_info, or None."""
        self._bad_reported = 0

    def problem(self, description: str) -> None:
        """Count one bad input (dropped image, camera_info that does not fit, ...)."""
        self.bad_images += 1
        self.last_problem = description

    def health(self, now_s: float, stale_after_s: float, sync: ViewStats) -> Health:
        """The camera's status at ``now_s`` (the clock of ``rate``).

        ``warn`` when no image came yet, when the camera stopped (silent for more than
        ``stale_after_s``) or when bad input arrived since the previous call.
        """
        rate_hz = self.rate.rate_hz(now_s)
        values: dict[str, object] = {
            "topic": self.topic, "frame_id": self.frame_id, "rate (Hz)": rate_hz,
            "received": self.rate.count, "bad images": self.bad_images,
            "last problem": self.last_problem, "buffered": sync.buffered,
            "dropped stale": sync.dropped_stale, "dropped overflow": sync.dropped_overflow,
            "intrinsics": "camera_info" if self.intrinsics is not None else "estimated",
        }  # fmt: skip
        level, message = "ok", f"{rate_hz:.1f} Hz"
        if self.rate.last_s is None:
            level, message = "warn", "no image received yet"
        elif now_s - self.rate.last_s > stale_after_s:
            level, message = "warn", f"stopped: no image for {now_s - self.rate.last_s:.1f} s"
        elif self.bad_images > self._bad_reported:
            level, message = "warn", f"bad input: {self.last_problem}"
        self._bad_reported = self.bad_images
        return Health(level, message, values)
