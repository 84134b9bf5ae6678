# Copyright 2026 The HGGT-ROS Authors
# SPDX-License-Identifier: Apache-2.0
"""The node's camera frames on ``/tf`` and its one ``/tf_static`` list, ROS-free.

Two kinds of static transform come from the node: the anchor (``frames.anchor_frame ->``
the reference camera's optical frame, when ``frames.anchor_pose`` is given) and the frozen
estimated cameras (:class:`~hggt_core.pipeline.steady_cameras.SteadyCameras`). ``/tf_static``
is latched with depth 1: a late joiner receives only this publisher's newest message, so
every publication carries the WHOLE list, anchor and frozen cameras together.

Only estimates relative to one *home* frame describe the same transforms every frameset and
go through the steady filters: the world frame once the hands have been aligned to it, else
the reference camera's optical frame. Estimates relative to another frame (a frameset
without camera 0, or one the world could not align) go on ``/tf`` raw, except for cameras
frozen on ``/tf_static``, which they would fight. A new home frame restarts the steady
frames.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

from hggt_core.io.ros_schema import TransformSpec
from hggt_core.pipeline.steady_cameras import CameraPose, SteadyCameras, SteadyCamerasConfig
from hggt_ros.robot_params import Anchor

PublishStatic = Callable[[list[TransformSpec]], None]
"""Publishes the whole static list on ``/tf_static`` (called under the lock, in order)."""


@dataclass(frozen=True)
class CamerasUpdate:
    """What one frameset's cameras give.

    Attributes:
        dynamic: transforms for ``/tf`` (filtered or raw; frozen cameras left out).
        moved: frozen cameras found to have moved (re-estimated from now on).
        converged: cameras frozen in this frameset (now on ``/tf_static``).
        restarted: the home frame changed, so the steady frames restarted.
    """

    dynamic: list[TransformSpec]
    moved: tuple[str, ...] = ()
    converged: tuple[str, ...] = ()
    restarted: bool = False

    def log_lines(self, home_frame: str) -> list[str]:
        """One line per change, for the node's log."""
        lines = []
        if self.restarted:
            lines.append(f"estimated cameras now hang from {home_frame}: steady frames restart")
        if self.moved:
            lines.append(f"fixed cameras moved, re-estimating them: {list(self.moved)}")
        if self.converged:
            lines.append(f"fixed cameras converged, on /tf_static: {list(self.converged)}")
        return lines


class CameraFrames:
    """Steady estimated cameras and the node's ``/tf_static`` list; thread-safe.

    Args:
        steady: filters, freezing and movement detection; None: raw estimates on ``/tf``.
        filter_cameras: publish filtered estimates of unfrozen cameras (else raw ones).
        anchor: the anchor frame; its pose (when given) joins the static list as soon as
            the reference frame is known (:meth:`set_reference`).
        publish_static: sends a static list on ``/tf_static``.
    """

    def __init__(
        self,
        steady: SteadyCamerasConfig | None,
        filter_cameras: bool,
        anchor: Anchor | None,
        publish_static: PublishStatic,
    ) -> None:
        self._steady = None if steady is None else SteadyCameras(steady)
        self._filter_cameras = filter_cameras
        self._anchor = anchor if anchor is not None and anchor.translation is not None else None
        self._publish_static = publish_static
        self._lock = threading.Lock()
        self._anchor_spec: TransformSpec | None = None
        self._frozen: list[TransformSpec] = []
        self._home: str | None = None

    @property
    def static(self) -> list[TransformSpec]:
        """The static list as last published: the anchor, then the frozen cameras."""
        with self._lock:
            return self._static()

    def set_reference(self, reference_frame: str, stamp_ns: int) -> None:
        """The reference camera's optical frame is known: publish the anchor to it.

        Publishes only when the anchor's child frame changes (the first call, normally).

        Args:
            reference_frame: the reference camera's frame id (``frames.reference`` or its
                images' ``header.frame_id``).
            stamp_ns: the stamp of the static transform (that image's stamp).
        """
        anchor = self._anchor
        if anchor is None or anchor.translation is None or anchor.quaternion_xyzw is None:
            return
        with self._lock:
            if self._anchor_spec is not None and self._anchor_spec.child == reference_frame:
                return
            self._anchor_spec = TransformSpec(
                anchor.frame,
                reference_frame,
                stamp_ns,
                np.array(anchor.translation),
                np.array(anchor.quaternion_xyzw),
            )
            self._publish_static(self._static())

    def update(
        self, cameras: Sequence[TransformSpec], home_frame: str, stamp_ns: int
    ) -> CamerasUpdate:
        """Take one frameset's estimated cameras; publish the static list when it changed.

        Args:
            cameras: the frameset's camera transforms (``plan.cameras``).
            home_frame: the frame whose estimates are steadied (see the module docstring).
            stamp_ns: the frameset's stamp.

        Returns:
            The ``/tf`` transforms and what changed.
        """
        steady = self._steady
        if steady is None:
            return CamerasUpdate(list(cameras))
        with self._lock:
            restarted = self._home is not None and self._home != home_frame
            if restarted:
                steady.reset()
            self._home = home_frame
            home = [spec for spec in cameras if spec.parent == home_frame]
            poses = [CameraPose(s.child, s.translation, s.quaternion_xyzw) for s in home]
            update = steady.update(poses, stamp_ns)
            if update.static is not None:
                self._frozen = [_spec(home_frame, pose, stamp_ns) for pose in update.static]
                self._publish_static(self._static())
            unfrozen = {pose.child for pose in update.dynamic}
            if self._filter_cameras:
                dynamic = [_spec(home_frame, pose, stamp_ns) for pose in update.dynamic]
            else:
                dynamic = [spec for spec in home if spec.child in unfrozen]
            frozen = {spec.child for spec in self._frozen}
            dynamic += [s for s in cameras if s.parent != home_frame and s.child not in frozen]
        return CamerasUpdate(dynamic, update.moved, update.converged, restarted)

    def reset(self) -> int:
        """Forget the steady frames; publish the static list without frozen cameras.

        Returns:
            The number of frozen cameras forgotten.
        """
        with self._lock:
            forgotten = len(self._frozen)
            if self._steady is not None:
                self._steady.reset()
            self._frozen = []
            self._publish_static(self._static())
        return forgotten

    def _static(self) -> list[TransformSpec]:
        anchor = [] if self._anchor_spec is None else [self._anchor_spec]
        return anchor + self._frozen


def _spec(parent: str, pose: CameraPose, stamp_ns: int) -> TransformSpec:
    return TransformSpec(parent, pose.child, stamp_ns, pose.translation, pose.quaternion_xyzw)
