# Copyright 2026 The HGGT-ROS Authors
# SPDX-License-Identifier: Apache-2.0
"""The node's calibrated world: known cameras per frameset, and the hands expressed in it.

ROS-free (the node turns ``TransformStamped`` messages into matrices first), so it is tested
without a ROS graph. Known cameras come from two sources, merged per frameset:

* ``calibration.file``: cameras named by view name or optical frame id
  (:func:`~hggt_core.calibration.world.calibration_for_views`);
* ``/tf_static`` + ``/tf`` (``calibration.from_tf``): every view whose optical frame (its
  images' ``header.frame_id``) the :class:`~hggt_core.calibration.tf_tree.TransformTree`
  connects to the world frame; the file's entry wins for a view in both.

The node's own frames never feed back: transforms whose child or parent starts with one of its
prefixes (``frames.camera_prefix``, ``frames.hand_prefix``) are ignored, since those frames
are estimates. Its anchor (``frames.anchor_*``) does feed back on purpose: it states where the
reference camera hangs, which makes that camera known once the anchor frame connects to the
world.

The views get the known cameras before prediction (:meth:`WorldFrame.known_cameras`), so the
landmark engine triangulates with them; the hands are expressed in the world afterwards.
When no camera is known, or no hand sees one, the hands stay in their camera frame and
:attr:`WorldOutcome.problem` says why in one line (the node logs it, throttled).
"""

from __future__ import annotations

import dataclasses
import math
import threading
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from hggt_core.calibration.align import WorldAlignment
from hggt_core.calibration.rig import (
    Calibration,
    FloatArray,
    KnownCamera,
    rigid_from_translation_quaternion,
)
from hggt_core.calibration.tf_tree import TransformTree, TransformTreeError
from hggt_core.calibration.world import (
    calibration_for_views,
    calibration_from_tree,
    express_in_world,
)
from hggt_core.geometry.numpy_transforms import invert_rigid
from hggt_core.pipeline.types import HandResult
from hggt_ros.health import Health
from hggt_ros.robot_params import CalibrationSettings

TreeEdge = tuple[str, str, FloatArray]
"""One transform from TF: (parent frame id, child frame id, [4, 4] ``parent_from_child``)."""


@dataclass(frozen=True)
class WorldOutcome:
    """One frameset's hands as the node publishes them.

    Attributes:
        results: the hands, in ``world_frame`` when it is not None, else as estimated.
        world_frame: the calibration's world frame when the hands were aligned to it, else
            None (each hand in its reference camera's optical frame).
        alignment: the similarity applied (scale, residuals), or None.
        known: the views known in the world for this frameset, in camera order.
        problem: why the hands stay in the camera frame ("" when aligned or without hands).
    """

    results: list[HandResult]
    world_frame: str | None
    alignment: WorldAlignment | None
    known: tuple[str, ...]
    problem: str


@dataclass(frozen=True)
class KnownCameras:
    """The cameras known for one frameset, from the file and TF.

    Attributes:
        calibration: the known cameras, keyed by view name.
        views: the known views, in camera order.
        problem: why no camera is known ("" when one is, or when nothing went wrong).
    """

    calibration: Calibration
    views: tuple[str, ...]
    problem: str

    def poses(self) -> dict[str, FloatArray]:
        """View name -> [4, 4] ``cam_from_world`` (metres) of every known view."""
        return {
            view: invert_rigid(camera.world_from_cam)
            for view, camera in self.calibration.cameras.items()
        }


class WorldFrame:
    """Known cameras (file and TF) and the per-frameset alignment; thread-safe.

    TF messages arrive on the executor thread (:meth:`add_transforms`), framesets on the
    worker thread (:meth:`express`); one lock keeps the tree consistent between them.

    Args:
        settings: the world frame and the sources of known cameras.
        own_prefixes: frame id prefixes of the node's own published frames (ignored).
    """

    def __init__(self, settings: CalibrationSettings, own_prefixes: Sequence[str]) -> None:
        self.world_frame = settings.world_frame
        self._file = settings.calibration
        self._from_tf = settings.from_tf
        self._own_prefixes = tuple(prefix for prefix in own_prefixes if prefix)
        self._tree = TransformTree()
        self._lock = threading.Lock()

    @property
    def uses_tf(self) -> bool:
        """Whether the node must feed ``/tf_static`` and ``/tf`` (:meth:`add_transforms`)."""
        return self._from_tf

    def add_message(self, message: Any, static: bool) -> list[str]:
        """Put one ``tf2_msgs/TFMessage``'s transforms into the tree (see :meth:`add_transforms`).

        Args:
            message: a TFMessage (read by attribute: ``transforms[i].header.frame_id``, ...).
            static: it came from ``/tf_static``.

        Returns:
            One line per transform refused (a zero quaternion, a loop, ...).
        """
        edges, refused = [], []
        for transform in message.transforms:
            parent, child = transform.header.frame_id, transform.child_frame_id
            if self._is_own(parent) or self._is_own(child):
                continue
            t, q = transform.transform.translation, transform.transform.rotation
            norm = math.sqrt(q.x * q.x + q.y * q.y + q.z * q.z + q.w * q.w)
            if not norm > 0:  # tf2 normalises quaternions; a zero (or NaN) one is refused
                refused.append(f"transform '{parent}' -> '{child}' has no valid rotation")
                continue
            quaternion = (q.x / norm, q.y / norm, q.z / norm, q.w / norm)
            edges.append(
                (parent, child, rigid_from_translation_quaternion((t.x, t.y, t.z), quaternion))
            )
        return refused + self.add_transforms(edges, static)

    def add_transforms(self, edges: Iterable[TreeEdge], static: bool) -> list[str]:
        """Put transforms into the tree, except the node's own frames.

        Args:
            edges: (parent, child, [4, 4] parent_from_child) per transform.
            static: they came from ``/tf_static``.

        Returns:
            One line per transform the tree refused (a loop, a non-rigid matrix, ...).
        """
        refused = []
        with self._lock:
            for parent, child, parent_from_child in edges:
                if self._is_own(parent) or self._is_own(child):
                    continue
                try:
                    self._tree.set_transform(parent, child, parent_from_child, static)
                except TransformTreeError as error:
                    refused.append(str(error))
        return refused

    def known_cameras(self, frame_ids: Mapping[str, str]) -> KnownCameras:
        """The cameras known now (file and TF), looked up once per frameset.

        The node gives their poses to the views before prediction (``View.cam_from_world``:
        the landmark engine triangulates with them) and aligns the results to the same
        cameras afterwards (:meth:`express`), even if TF changes in between.

        Args:
            frame_ids: every camera (view) name -> its optical frame id, camera 0 first.
        """
        calibration, problem = self._calibration(frame_ids)
        views = tuple(view for view in frame_ids if view in calibration.cameras)
        return KnownCameras(calibration, views, problem)

    def express(self, results: Sequence[HandResult], known: KnownCameras) -> WorldOutcome:
        """The hands of one frameset in the world frame, when a known camera allows it.

        Args:
            results: the frameset's hands (cameras relative to their reference view).
            known: the frameset's known cameras (:meth:`known_cameras`).

        Returns:
            The outcome; ``results`` unchanged when they cannot be aligned. An alignment
            the core refuses (known cameras with one estimated centre) is such a case too.
            Without hands, ``world_frame`` is set when a camera is known (the hand-less
            ``/hand/mano`` then carries it).
        """
        calibration, views = known.calibration, known.views
        if not results:  # a hand-less heartbeat: in the world when the world is reachable
            reachable = self.world_frame if calibration.cameras else None
            return WorldOutcome([], reachable, None, views, "")
        if not calibration.cameras:
            return WorldOutcome(list(results), None, None, views, known.problem)
        try:
            world = express_in_world(results, calibration)
        except ValueError as error:
            return WorldOutcome(list(results), None, None, views, f"alignment failed: {error}")
        if world.alignment is None:
            seen = sorted({camera.name for hand in results for camera in hand.cameras})
            problem = f"no hand sees a known camera (known: {list(views)}, seen: {seen})"
            return WorldOutcome(list(results), None, None, views, problem)
        return WorldOutcome(world.results, world.world_frame, world.alignment, views, "")

    def _calibration(self, frame_ids: Mapping[str, str]) -> tuple[Calibration, str]:
        """The cameras known now, keyed by view, and why none is when that is the case."""
        cameras: dict[str, KnownCamera] = {}
        problem = ""
        if self._file is not None:
            from_file, unmatched = calibration_for_views(self._file, frame_ids)
            cameras.update(from_file.cameras)
            if not cameras:
                problem = f"calibration.file names no camera of this node: {unmatched}"
        if self._from_tf:
            missing = {view: frame for view, frame in frame_ids.items() if view not in cameras}
            with self._lock:
                from_tree = calibration_from_tree(self._tree, self.world_frame, missing)
                if not from_tree.cameras and not cameras and missing:
                    problem = self._disconnected(next(iter(missing.values())))
            cameras.update(from_tree.cameras)
        return Calibration(self.world_frame, cameras), problem

    def _disconnected(self, frame: str) -> str:
        """The tree's one-line reason why ``frame`` is not in the world (lock held)."""
        try:
            self._tree.lookup(self.world_frame, frame)
        except TransformTreeError as error:
            return f"no camera frame connects to '{self.world_frame}': {error}"
        return f"no camera frame connects to '{self.world_frame}'"

    def _is_own(self, frame: str) -> bool:
        return frame.lstrip("/").startswith(self._own_prefixes)


def world_health(pipeline: Health, outcome: WorldOutcome | None, world_frame: str) -> Health:
    """The pipeline's diagnostic status with the world's entries (the last frameset's).

    Adds the world frame, the known cameras and the alignment (cameras used, scale, RMS
    residuals of the camera centres in metres and orientations in degrees); an ``ok`` status
    becomes ``warn`` while the hands stay in the camera frame for a reason.

    Args:
        pipeline: the status without them.
        outcome: the last frameset's outcome, or None before any.
        world_frame: the configured world frame.
    """
    alignment = None if outcome is None else outcome.alignment
    values: dict[str, object] = {
        "world frame": world_frame,
        "in world frame": outcome is not None and outcome.world_frame is not None,
        "cameras known": "none yet" if outcome is None else " ".join(outcome.known) or "none",
    }
    if alignment is None:
        values["alignment"] = "none"
    else:
        values["alignment cameras"] = " ".join(alignment.cameras_used)
        values["alignment scale"] = alignment.scale
        values["alignment residual (m)"] = alignment.residual_m
        values["alignment residual (deg)"] = alignment.residual_deg
    level, message = pipeline.level, pipeline.message
    if outcome is not None and outcome.problem:
        values["world problem"] = outcome.problem
        if level == "ok":
            level, message = "warn", f"not in {world_frame}: {outcome.problem}"
    return dataclasses.replace(
        pipeline, level=level, message=message, values={**pipeline.values, **values}
    )
