# Copyright 2026 The HGGT-ROS Authors
# SPDX-License-Identifier: Apache-2.0
"""Framesets from a rosbag2 file (sqlite3 or MCAP), read with the pure-Python ``rosbags``.

Image topics (``sensor_msgs/msg/Image`` or ``sensor_msgs/msg/CompressedImage``) become views
named after their topics, the first topic being the reference view; messages are decoded by
:mod:`hggt_core.io.image_encoding` and grouped by the same multi-view synchroniser the node
uses (:mod:`hggt_core.pipeline.sync`), keyed on ``header.stamp`` as integer nanoseconds (so a
frameset's stamps are exactly its images' header stamps), in the bag's record order.
``sensor_msgs/msg/CameraInfo`` topics give known intrinsics (``View.intrinsics``, used with
``use_known_intrinsics``): by default the one beside each image topic, as the node subscribes
to it (``/cam0/image_raw`` and ``/cam0/image_raw/compressed`` -> ``/cam0/camera_info``) when
the bag has it. Each image takes the latest calibration stamped at or before it (the first
one for images that precede them all), converted exactly as the node converts it
(:func:`hggt_core.io.camera_info.published_calibration`: +0.5 px principal point, region of
interest and binning applied, and the lens distortion, ``View.distortion``). A camera_info
the node would refuse (unknown distortion model, D of the wrong length) is skipped with a
warning (once per topic), so its camera counts as uncalibrated unless another one applies.

A message that cannot be deserialised or decoded is skipped with a warning and counted in
:attr:`RosbagSource.skipped_messages`; only a bag that cannot be opened, missing topics and
wrong message types are fatal (:class:`RosbagSourceError`).
"""

from __future__ import annotations

import bisect
import contextlib
import logging
import math
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from rosbags.rosbag2 import Reader
from rosbags.typesys import Stores, get_typestore
from rosbags.typesys.stores import ros2_jazzy

from hggt_core.io.camera_info import (
    CameraInfoError,
    PublishedCalibration,
    camera_info_topic_beside,
    published_calibration,
)
from hggt_core.io.image_encoding import ImageEncodingError, decode_compressed, decode_image
from hggt_core.pipeline.sync import MultiViewSynchroniser
from hggt_core.pipeline.sync_types import SyncConfig, SyncedSet, SyncStats
from hggt_core.pipeline.types import (
    NS_PER_S,
    FrameSet,
    ImageArray,
    View,
    seconds_to_ns,
)

if TYPE_CHECKING:
    from rosbags.interfaces import Connection

_LOG = logging.getLogger(__name__)

CameraInfo = ros2_jazzy.sensor_msgs__msg__CameraInfo
CompressedImage = ros2_jazzy.sensor_msgs__msg__CompressedImage
Image = ros2_jazzy.sensor_msgs__msg__Image
Header = ros2_jazzy.std_msgs__msg__Header

IMAGE_TYPES = ("sensor_msgs/msg/Image", "sensor_msgs/msg/CompressedImage")
"""Message types accepted on image topics."""
CAMERA_INFO_TYPE = "sensor_msgs/msg/CameraInfo"
"""Message type accepted on camera_info topics."""


class RosbagSourceError(ValueError):
    """The bag cannot be read as asked: missing, unreadable, without the topics, wrong types."""


def _nanoseconds(header: Header) -> int:
    return int(header.stamp.sec) * NS_PER_S + int(header.stamp.nanosec)


class _Calibrations:
    """Time-ordered known calibrations of one view (K, the image size, lens distortion)."""

    def __init__(self) -> None:
        self.stamps_ns: list[int] = []
        self.entries: list[PublishedCalibration] = []
        self.warned = False

    def add(self, stamp_ns: int, calibration: PublishedCalibration) -> None:
        index = bisect.bisect_right(self.stamps_ns, stamp_ns)
        self.stamps_ns.insert(index, stamp_ns)
        self.entries.insert(index, calibration)

    def at(self, stamp_ns: int) -> PublishedCalibration | None:
        if not self.entries:
            return None
        return self.entries[max(bisect.bisect_right(self.stamps_ns, stamp_ns) - 1, 0)]


class RosbagSource:
    """Iterates over the synchronised framesets of a rosbag2 file, lazily.

    Example:
        >>> source = RosbagSource("run.bag", ["/cam0/image_raw", "/cam1/image_raw/compressed"])
        >>> for frameset in source:  # doctest: +SKIP
        ...     print(frameset.stamp_ns, [view.name for view in frameset.views])
    """

    def __init__(
        self,
        path: str | Path,
        image_topics: Sequence[str],
        camera_info_topics: Mapping[str, str] | None = None,
        sync: SyncConfig | None = None,
    ) -> None:
        """Open the bag once to check the topics (nothing is decoded yet).

        Args:
            path: a rosbag2 directory (with ``metadata.yaml``) or a single ``.db3`` /
                ``.mcap`` file.
            image_topics: image topics, reference first; a name without its leading slash
                also matches. Views are named after the bag's topic names.
            camera_info_topics: image topic -> its ``CameraInfo`` topic, for known intrinsics;
                None: the camera_info topic beside each image topic, where the bag has one
                (``{}``: none).
            sync: synchroniser settings; the :class:`SyncConfig` defaults when None.

        Raises:
            RosbagSourceError: no or repeated topics, a bag that is missing or unreadable,
                topics not in the bag (the message lists the bag's topics), or topics whose
                message type is not an image / camera info.
        """
        if not image_topics or len(set(image_topics)) != len(image_topics):
            raise RosbagSourceError(f"give distinct image topics, got {list(image_topics)}")
        self._path = Path(path)
        self._sync = SyncConfig() if sync is None else sync
        self._typestore = get_typestore(Stores.ROS2_JAZZY)
        self._skipped = 0
        self._sync_stats: SyncStats | None = None
        with self._open() as reader:
            available = {c.topic: c.msgtype for c in reader.connections}
            views = [self._resolve(topic, available, IMAGE_TYPES) for topic in image_topics]
            self._info_topics = (
                _beside(views, available)
                if camera_info_topics is None
                else self._given_info_topics(camera_info_topics, views, available)
            )
            self._views = tuple(views)
            self._counts = {
                view: sum(c.msgcount for c in reader.connections if c.topic == view)
                for view in views
            }
            self._frame_ids = {view: self._first_frame_id(reader, view) for view in views}

    @property
    def path(self) -> Path:
        """The bag."""
        return self._path

    @property
    def views(self) -> tuple[str, ...]:
        """View names (the bag's image topic names), reference first."""
        return self._views

    @property
    def message_count(self) -> int:
        """Image messages on the selected topics (a progress total)."""
        return sum(self._counts.values())

    @property
    def reference_message_count(self) -> int:
        """Messages of the reference topic, about the number of framesets a full bag yields."""
        return self._counts[self._views[0]]

    @property
    def frame_ids(self) -> dict[str, str]:
        """View name -> ``header.frame_id`` of its first message (the view name if empty)."""
        return dict(self._frame_ids)

    @property
    def camera_info_topics(self) -> dict[str, str]:
        """View name -> the camera_info topic its known intrinsics come from."""
        return dict(self._info_topics)

    @property
    def skipped_messages(self) -> int:
        """Image messages skipped as undecodable so far."""
        return self._skipped

    @property
    def sync_stats(self) -> SyncStats | None:
        """The synchroniser's counters after the latest iteration (None before any)."""
        return self._sync_stats

    def __iter__(self) -> Iterator[FrameSet]:
        """Yield the framesets in stamp order; each iteration re-reads the bag."""
        synchroniser = MultiViewSynchroniser[View](self._views, self._sync)
        try:
            with self._open() as reader:
                calibrations = self._read_calibrations(reader)
                connections = [c for c in reader.connections if c.topic in self._counts]
                newest_ns: int | None = None
                for connection, log_ns, raw in reader.messages(connections=connections):
                    view = self._decode(connection, log_ns, raw, calibrations)
                    if view is None:
                        continue
                    stamp_ns = view.stamp_ns
                    newest_ns = stamp_ns if newest_ns is None else max(newest_ns, stamp_ns)
                    yield from map(_frameset, synchroniser.push(view.name, stamp_ns, view))
                if newest_ns is not None and math.isfinite(self._sync.max_wait_s):
                    # End of the bag: nothing else will arrive, so no set needs to wait more.
                    final = synchroniser.poll(newest_ns + seconds_to_ns(self._sync.max_wait_s))
                    yield from map(_frameset, final)
        finally:
            self._sync_stats = synchroniser.stats()

    @contextlib.contextmanager
    def _open(self) -> Iterator[Reader]:
        if not self._path.exists():
            raise RosbagSourceError(f"no rosbag2 at {self._path}: no such file or directory")
        if self._path.is_dir() and not (self._path / "metadata.yaml").is_file():
            raise RosbagSourceError(f"{self._path} is not a rosbag2 directory: no metadata.yaml")
        try:
            reader = Reader(self._path)
            reader.open()
        except Exception as error:  # rosbags raises several types for damaged bags
            raise RosbagSourceError(f"cannot open rosbag2 {self._path}: {error}") from error
        try:
            yield reader
        finally:
            reader.close()

    @staticmethod
    def _match(topic: str, available: Mapping[str, str]) -> str | None:
        for candidate in (topic, f"/{topic}"):
            if candidate in available:
                return candidate
        return None

    def _resolve(self, topic: str, available: Mapping[str, str], types: Sequence[str]) -> str:
        name = self._match(topic, available)
        if name is None:
            listing = ", ".join(f"{t} ({available[t]})" for t in sorted(available)) or "none"
            raise RosbagSourceError(
                f"topic {topic!r} is not in the bag {self._path}; it has: {listing}"
            )
        if available[name] not in types:
            raise RosbagSourceError(
                f"topic {name!r} has type {available[name]}, expected {' or '.join(types)}"
            )
        return name

    def _given_info_topics(
        self, given: Mapping[str, str], views: Sequence[str], available: Mapping[str, str]
    ) -> dict[str, str]:
        topics = {}
        for image, info in given.items():
            view = self._match(image, available)
            if view is None or view not in views:
                raise RosbagSourceError(
                    f"camera_info {info!r} is given for {image!r}, which is not one of the "
                    f"image topics {list(views)}"
                )
            topics[view] = self._resolve(info, available, (CAMERA_INFO_TYPE,))
        return topics

    def _first_frame_id(self, reader: Reader, view: str) -> str:
        connections = [c for c in reader.connections if c.topic == view]
        for connection, _, raw in reader.messages(connections=connections):
            try:
                message = self._typestore.deserialize_cdr(raw, connection.msgtype)
            except Exception:  # a corrupt first message is reported when read
                continue
            if isinstance(message, (Image, CompressedImage)) and message.header.frame_id:
                return message.header.frame_id
            break
        return view.lstrip("/")

    def _read_calibrations(self, reader: Reader) -> dict[str, _Calibrations]:
        calibrations = {view: _Calibrations() for view in self._info_topics}
        view_of = {info: view for view, info in self._info_topics.items()}
        connections = [c for c in reader.connections if c.topic in view_of]
        if not connections:
            return calibrations
        refused: set[str] = set()
        for connection, _, raw in reader.messages(connections=connections):
            message = self._deserialize(connection, raw)
            if not isinstance(message, CameraInfo):
                continue
            try:
                calibration = published_calibration(message)
            except CameraInfoError as error:
                if connection.topic not in refused:
                    refused.add(connection.topic)
                    _LOG.warning("ignoring camera_info on %s: %s", connection.topic, error)
                continue
            if calibration is not None:
                view = view_of[connection.topic]
                calibrations[view].add(_nanoseconds(message.header), calibration)
        return calibrations

    def _deserialize(self, connection: Connection, raw: bytes) -> object | None:
        try:
            return self._typestore.deserialize_cdr(raw, connection.msgtype)
        except Exception as error:  # any parse failure of one message is skipped
            self._skip(connection.topic, f"cannot deserialise {connection.msgtype}: {error!r}")
            return None

    def _skip(self, topic: str, reason: str) -> None:
        self._skipped += 1
        _LOG.warning("skipping a message on %s: %s", topic, reason)

    def _decode(
        self,
        connection: Connection,
        log_ns: int,
        raw: bytes,
        calibrations: Mapping[str, _Calibrations],
    ) -> View | None:
        message = self._deserialize(connection, raw)
        if message is None:
            return None
        image: ImageArray
        try:
            if isinstance(message, Image):
                image = decode_image(
                    message.encoding,
                    message.height,
                    message.width,
                    message.step,
                    message.data,
                    bool(message.is_bigendian),
                )
            elif isinstance(message, CompressedImage):
                image = decode_compressed(message.format, message.data)
            else:
                raise ImageEncodingError(f"not an image message: {type(message).__name__}")
        except ImageEncodingError as error:
            self._skip(connection.topic, str(error))
            return None
        stamp_ns = _nanoseconds(message.header)
        if stamp_ns == 0:
            # Unstamped drivers: the recording time is the best capture time available.
            stamp_ns = int(log_ns)
        calibrations_of_view = calibrations.get(connection.topic)
        known = None
        if calibrations_of_view is not None:
            known = _calibration(calibrations_of_view, stamp_ns, image)
        if known is None:
            return View(connection.topic, stamp_ns, image)
        return View(connection.topic, stamp_ns, image, known.intrinsics, known.distortion)


def _calibration(
    calibration: _Calibrations, stamp_ns: int, image: ImageArray
) -> PublishedCalibration | None:
    """The calibration of an image, unless it was made for another image size."""
    entry = calibration.at(stamp_ns)
    if entry is None:
        return None
    width, height = entry.size
    if (width, height) in ((0, 0), (image.shape[1], image.shape[0])):
        return entry
    if not calibration.warned:
        calibration.warned = True
        _LOG.warning(
            "camera_info is for %dx%d images but the images are %dx%d; ignoring it",
            width, height, image.shape[1], image.shape[0],
        )  # fmt: skip
    return None


def _beside(views: Sequence[str], available: Mapping[str, str]) -> dict[str, str]:
    """View -> the camera_info topic beside it, for the views whose bag has one."""
    topics = {view: camera_info_topic_beside(view) for view in views}
    return {view: info for view, info in topics.items() if available.get(info) == CAMERA_INFO_TYPE}


def _frameset(synced: SyncedSet[View]) -> FrameSet:
    return FrameSet(synced.reference_stamp_ns, tuple(view for _, _, view in synced.views))
