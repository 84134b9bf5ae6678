# Copyright 2026 The HGGT-ROS Authors
# SPDX-License-Identifier: Apache-2.0
"""Framesets from live cameras (OpenCV ``VideoCapture``: device indices, stream URLs, files).

Every frameset is grabbed in two passes so its views are as close in time as the drivers
allow: ``grab()`` on every camera first (cheap: it latches the newest frame), then
``retrieve()`` to decode them. Each view is stamped with the host's wall clock at its grab
(integer nanoseconds since the epoch, as ROS stamps are); the frameset carries the reference
(first) camera's stamp. A camera whose frame cannot be read is left out of that frameset; the
stream ends when no camera delivers a frame (e.g. at the end of files) or after
``max_framesets``.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterator, Sequence

import cv2
import numpy as np

from hggt_core.base.closeable import Closeable
from hggt_core.pipeline.types import FrameSet, View

_LOG = logging.getLogger(__name__)


class CameraOpenError(ValueError):
    """A camera device, URL or file could not be opened."""


def parse_camera(spec: str) -> int | str:
    """A ``--camera`` value as OpenCV takes it: an integer device index or a URL/path."""
    stripped = spec.strip()
    return int(stripped) if stripped.isdecimal() else stripped


class CameraSource(Closeable):
    """Iterable of :class:`FrameSet` from several live cameras (see the module docstring).

    Args:
        cameras: one entry per view, reference first: a device index (``0``) or a URL/path.
        names: view names, unique; ``cam0``, ``cam1``, ... when None.
        max_framesets: stop after this many framesets; None runs until the cameras stop.

    Raises:
        CameraOpenError: a camera cannot be opened (named, one line).
        ValueError: no cameras, or names of the wrong length or not unique.
    """

    def __init__(
        self,
        cameras: Sequence[int | str],
        names: Sequence[str] | None = None,
        max_framesets: int | None = None,
    ) -> None:
        if not cameras:
            raise ValueError("no camera given")
        self._names = (
            tuple(names) if names is not None else tuple(f"cam{i}" for i in range(len(cameras)))
        )
        if len(self._names) != len(cameras) or len(set(self._names)) != len(self._names):
            raise ValueError(f"need one unique name per camera, got {list(self._names)}")
        if max_framesets is not None and max_framesets < 1:
            raise ValueError(f"max_framesets must be at least 1, got {max_framesets}")
        self._max_framesets = max_framesets
        self._captures: list[cv2.VideoCapture] = []
        try:
            for camera in cameras:
                self._captures.append(_open(camera))
        except CameraOpenError:
            self.close()
            raise

    @property
    def view_names(self) -> tuple[str, ...]:
        """View names, reference first."""
        return self._names

    def close(self) -> None:
        """Release every camera (safe to call more than once)."""
        while self._captures:
            self._captures.pop().release()

    def __iter__(self) -> Iterator[FrameSet]:
        """Framesets as the cameras deliver them."""
        count = 0
        while self._max_framesets is None or count < self._max_framesets:
            frameset = self._grab()
            if frameset is None:
                return
            count += 1
            yield frameset

    def _grab(self) -> FrameSet | None:
        if not self._captures:
            raise RuntimeError("the camera source was closed")
        stamps = []
        for capture in self._captures:
            stamps.append(time.time_ns() if capture.grab() else None)
        views = []
        for name, capture, stamp_ns in zip(self._names, self._captures, stamps, strict=True):
            if stamp_ns is None:
                continue
            ok, frame = capture.retrieve()
            if not ok or frame is None:
                _LOG.debug("camera %s delivered no frame", name)
                continue
            rgb = np.ascontiguousarray(cv2.cvtColor(frame, cv2.COLOR_BGR2RGB), dtype=np.uint8)
            views.append(View(name, stamp_ns, rgb))
        if not views:
            return None
        return FrameSet(views[0].stamp_ns, tuple(views))


def _open(camera: int | str) -> cv2.VideoCapture:
    # OpenCV's backends log every failed attempt on stderr; the error below says it in one line.
    level = cv2.utils.logging.getLogLevel()
    cv2.utils.logging.setLogLevel(cv2.utils.logging.LOG_LEVEL_SILENT)
    try:
        capture = cv2.VideoCapture(camera)
    finally:
        cv2.utils.logging.setLogLevel(level)
    if not capture.isOpened():
        capture.release()
        kind = "device" if isinstance(camera, int) else "stream or file"
        raise CameraOpenError(f"cannot open camera {kind} {camera!r} (missing or busy)")
    return capture
