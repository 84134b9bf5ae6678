# Copyright 2026 The HGGT-ROS Authors
# SPDX-License-Identifier: Apache-2.0
"""Framesets from several video files, one per view (OpenCV ``VideoCapture``).

Views are named by the file stems (or by the names given) and ordered as the files are; the
first is the reference view. Frames are decoded BGR and handed out as RGB.

Matching:

* ``"index"`` (default): frameset ``i`` holds frame ``i`` of every video and ends with the
  shortest video. Use it for videos recorded frame-locked (hardware-triggered cameras).
* ``"timestamp"``: each frame is stamped with its stream time (``CAP_PROP_POS_MSEC``, the
  presentation time from the start of the file) plus the video's offset, and the frames of
  all videos, decoded in stamp order, are grouped by the same
  :class:`~hggt_core.pipeline.sync.MultiViewSynchroniser` the node uses. Use it for videos of
  different frame rates or with dropped frames, started together (or with known offsets).
  With no :class:`~hggt_core.pipeline.sync_types.SyncConfig` given, sets must be complete and
  stamps match within 0.4 of the shortest frame period (``max_wait_s`` = that period).

Stamps (integer nanoseconds): every view carries its own frame's stream time plus offset,
each rounded to whole nanoseconds; a frameset carries its reference stamp (index mode: view
0's; timestamp mode: the synchroniser's).

Captures are opened when iteration starts and released when it ends, when the consumer
stops early and the iterator is closed, or by :meth:`VideoSource.close` (the source is a
context manager); each iteration starts again from the first frame, and starting one
releases the captures of any earlier, unfinished one (iterate one at a time).
"""

from __future__ import annotations

import math
import os
from collections.abc import Iterator, Sequence
from fractions import Fraction
from pathlib import Path
from typing import Literal

import cv2
import numpy as np

from hggt_core.base.closeable import Closeable
from hggt_core.pipeline.sync import MultiViewSynchroniser
from hggt_core.pipeline.sync_types import SyncConfig, SyncedSet
from hggt_core.pipeline.types import FrameSet, ImageArray, View, seconds_to_ns

MatchMode = Literal["index", "timestamp"]
_SLOP_FRACTION = 0.4
_NS_PER_MS = 1_000_000


class VideoSource(Closeable):
    """Iterable of :class:`FrameSet` from one video file per view (see the module docstring).

    Example:
        >>> with VideoSource(["cam0.avi", "cam1.avi"]) as source:  # doctest: +SKIP
        ...     for frameset in source:
        ...         ...
    """

    def __init__(
        self,
        paths: Sequence[str | os.PathLike[str]],
        match: MatchMode = "index",
        sync: SyncConfig | None = None,
        names: Sequence[str] | None = None,
        offsets_s: Sequence[float] | None = None,
    ) -> None:
        """Open each video once to check it and read its frame count and rate.

        Args:
            paths: one video file per view, reference first.
            match: ``"index"`` or ``"timestamp"`` (see the module docstring).
            sync: synchroniser settings for ``"timestamp"``; ignored for ``"index"``.
            names: view names, unique; the file stems when None.
            offsets_s: seconds added to each video's stream time (aligns videos that were
                started at different times); zeros when None.

        Raises:
            FileNotFoundError: a file does not exist.
            ValueError: no paths, an unknown match mode, names or offsets of the wrong
                length, duplicate names, or a file OpenCV cannot open as a video (named).
        """
        self._paths = tuple(Path(path) for path in paths)
        if not self._paths:
            raise ValueError("no video files given")
        if match not in ("index", "timestamp"):
            raise ValueError(f"match must be 'index' or 'timestamp', got {match!r}")
        self._names = tuple(names) if names is not None else tuple(p.stem for p in self._paths)
        self._offsets_s = tuple(offsets_s) if offsets_s is not None else (0.0,) * len(self._paths)
        if len(self._names) != len(self._paths) or len(self._offsets_s) != len(self._paths):
            raise ValueError("names and offsets_s need one entry per video file")
        if len(set(self._names)) != len(self._names):
            raise ValueError(f"view names must be unique, got {list(self._names)}")
        if not all(math.isfinite(offset) for offset in self._offsets_s):
            raise ValueError(f"offsets_s must be finite, got {list(self._offsets_s)}")
        self._offsets_ns = tuple(seconds_to_ns(offset) for offset in self._offsets_s)
        self._match: MatchMode = match
        self._captures: list[cv2.VideoCapture] = []
        counts, rates = [], []
        for path in self._paths:
            capture = self._open(path)
            counts.append(int(capture.get(cv2.CAP_PROP_FRAME_COUNT)))
            rates.append(float(capture.get(cv2.CAP_PROP_FPS)))
            capture.release()
        self._counts = tuple(counts)
        self._rates_hz = tuple(rates)
        self._sync_config = sync if sync is not None else self._default_sync()

    @property
    def view_names(self) -> tuple[str, ...]:
        """View names, reference first."""
        return self._names

    @property
    def frame_rates_hz(self) -> tuple[float, ...]:
        """Nominal frame rate of each video as the container reports it (0 when unknown)."""
        return self._rates_hz

    @property
    def frame_count(self) -> int | None:
        """Framesets to expect, or None when a video's length is unknown.

        Exact in index mode when the containers report exact counts (the shortest video's);
        in timestamp mode the reference video's count, an upper bound with complete sets.
        """
        if any(count <= 0 for count in self._counts):
            return None
        return min(self._counts) if self._match == "index" else self._counts[0]

    def close(self) -> None:
        """Release every open capture (safe to call more than once)."""
        while self._captures:
            self._captures.pop().release()

    def __iter__(self) -> Iterator[FrameSet]:
        """Framesets in stamp order, decoded as they are produced."""
        self.close()
        try:
            self._captures = [self._open(path) for path in self._paths]
            if self._match == "index":
                yield from self._by_index()
            else:
                yield from self._by_timestamp()
        finally:
            self.close()

    def _open(self, path: Path) -> cv2.VideoCapture:
        if not path.is_file():
            raise FileNotFoundError(f"video file not found: {path}")
        capture = cv2.VideoCapture(str(path))
        if not capture.isOpened():
            capture.release()
            raise ValueError(f"cannot open {path} as a video (unknown format or damaged file)")
        return capture

    def _default_sync(self) -> SyncConfig:
        rates = [rate for rate in self._rates_hz if rate > 0]
        period_s = 1.0 / max(rates) if rates else 1.0 / 30.0
        count = len(self._paths)
        return SyncConfig(
            slop_s=_SLOP_FRACTION * period_s,
            max_wait_s=period_s,
            min_cameras=count,
            queue_size=8,
        )

    def _read(self, view: int) -> tuple[int, ImageArray] | None:
        """Next frame of a view as (stamp in integer nanoseconds, RGB), or None at its end."""
        ok, frame = self._captures[view].read()
        if not ok or frame is None:
            return None
        # After a read, POS_MSEC is the presentation time of the frame just decoded.
        position_ms = self._captures[view].get(cv2.CAP_PROP_POS_MSEC)
        rgb = np.ascontiguousarray(cv2.cvtColor(frame, cv2.COLOR_BGR2RGB), dtype=np.uint8)
        return round(Fraction(position_ms) * _NS_PER_MS) + self._offsets_ns[view], rgb

    def _by_index(self) -> Iterator[FrameSet]:
        while True:
            frames = [self._read(view) for view in range(len(self._paths))]
            if any(frame is None for frame in frames):
                return
            views = tuple(
                View(name, stamp_ns, image)
                for name, (stamp_ns, image) in zip(self._names, _present(frames), strict=True)
            )
            yield FrameSet(views[0].stamp_ns, views)

    def _by_timestamp(self) -> Iterator[FrameSet]:
        synchroniser = MultiViewSynchroniser[ImageArray](self._names, self._sync_config)
        pending = [self._read(view) for view in range(len(self._paths))]
        last_ns: int | None = None
        while any(frame is not None for frame in pending):
            view = min(
                (index for index, frame in enumerate(pending) if frame is not None),
                key=lambda index: _stamp(pending[index]),
            )
            stamp_ns, image = _present([pending[view]])[0]
            last_ns = stamp_ns if last_ns is None else max(last_ns, stamp_ns)
            for synced in synchroniser.push(self._names[view], stamp_ns, image):
                yield _to_frameset(synced)
            pending[view] = self._read(view)
        # The streams ended: let waiting sets time out (sets that wait forever never go out).
        max_wait_s = self._sync_config.max_wait_s
        if last_ns is not None and math.isfinite(max_wait_s):
            for synced in synchroniser.poll(last_ns + seconds_to_ns(max_wait_s)):
                yield _to_frameset(synced)


def _stamp(frame: tuple[int, ImageArray] | None) -> float:
    return math.inf if frame is None else frame[0]


def _present(
    frames: Sequence[tuple[int, ImageArray] | None],
) -> list[tuple[int, ImageArray]]:
    return [frame for frame in frames if frame is not None]


def _to_frameset(synced: SyncedSet[ImageArray]) -> FrameSet:
    views = tuple(View(name, stamp_ns, image) for name, stamp_ns, image in synced.views)
    return FrameSet(synced.reference_stamp_ns, views)
