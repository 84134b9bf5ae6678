# Copyright 2026 The HGGT-ROS Authors
# SPDX-License-Identifier: Apache-2.0
"""Steady estimated camera frames: filtered on ``/tf``, frozen on ``/tf_static``, re-estimated.

Every frameset brings one raw estimate per camera (``ref_from_cam``: the camera's pose in the
reference camera's frame, metres). :class:`SteadyCameras` turns that jittery stream into the
frames the node publishes:

* an **unfrozen** camera is filtered for ``/tf`` (translation with a One-Euro filter, rotation
  with :class:`~hggt_core.pipeline.filters.QuaternionFilter`, which is sign-consistent, so
  ``q`` / ``-q`` flips between estimates do no harm) and, when ``freeze`` is on, averaged
  (:class:`~hggt_core.pipeline.camera_average.CameraPoseAverager`) until converged;
* a **converged** camera is frozen at its average: it leaves ``/tf`` and joins the frozen set,
  which goes on ``/tf_static``;
* a **frozen** camera's raw estimates are compared with its frozen pose. When they differ by
  more than ``move_translation_m`` or ``move_rotation_deg`` for ``move_framesets`` consecutive
  estimates of that camera, the camera has moved: it is unfrozen, its filters and average
  restart from the current estimate, and the frozen set changes. A frameset without the camera
  neither counts nor breaks the run; an estimate within both thresholds breaks it.

``/tf_static`` is latched (transient local, depth 1): a late-joining listener receives only the
newest message, so every publication carries the *whole* frozen set (``SteadyUpdate.static``),
also when it became smaller or empty.

What tf2 listeners see when a camera moves: a ``/tf_static`` message adds or overwrites frames
and never removes one, so a frame missing from a newer ``/tf_static`` message keeps its old
static pose in buffers that already hold it. The moved camera's filtered estimate, however,
goes on ``/tf`` from the same frameset on, with the same parent and child frame ids, and
ROS 2's tf2 ``BufferCore`` (since ros2/geometry2 PR #151, Eloquent) re-allocates a frame's cache
as dynamic when a dynamic transform arrives for a static frame (and back as static on the next
static one). So listeners see the old frozen pose until the first ``/tf`` estimate of the
moved camera, then the filtered estimate, then the new frozen pose once it converges again on
``/tf_static``. A listener joining after the move never sees the old pose (the latched
message no longer holds it). The same applies after :meth:`SteadyCameras.reset`.

Time: stamps are integer nanoseconds. A camera's estimate stamped before the previous one
(a clock jump back, e.g. a looping bag) restarts its ``/tf`` filters, which then return the
estimate unchanged; one with the same stamp returns the previous filtered pose (the
:class:`~hggt_core.pipeline.filters.OneEuroFilter` rules). Frozen poses and averages are kept.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

from hggt_core.pipeline.camera_average import AverageConfig, CameraPoseAverager, quaternion_angles
from hggt_core.pipeline.filters import OneEuroFilter, OneEuroParams, QuaternionFilter
from hggt_core.pipeline.types import FloatArray


@dataclass(frozen=True)
class CameraPose:
    """The pose of one camera frame in the reference frame (``ref_from_cam``).

    Bad input raises a ValueError naming the camera: an empty name, shapes other than [3] and
    [4], non-finite values or a zero quaternion. Arrays are stored as float64 copies.
    """

    child: str
    """The camera's frame id (the TF child frame; the parent is the node's reference frame)."""
    translation: FloatArray
    """[3] camera position in the reference frame (metres)."""
    quaternion_xyzw: FloatArray
    """[4] camera orientation in the reference frame (x, y, z, w), normalised to unit length."""

    def __post_init__(self) -> None:
        """Check the pose and store it as float64 arrays with a unit quaternion."""
        if not isinstance(self.child, str) or not self.child:
            raise ValueError(f"CameraPose.child must be a non-empty str, got {self.child!r}")
        t = np.array(self.translation, dtype=np.float64)
        q = np.array(self.quaternion_xyzw, dtype=np.float64)
        if t.shape != (3,) or q.shape != (4,):
            raise ValueError(
                f"camera {self.child!r}: expected a [3] translation and a [4] quaternion, "
                f"got {t.shape} and {q.shape}"
            )
        norm = float(np.linalg.norm(q))
        if not (np.all(np.isfinite(t)) and math.isfinite(norm) and norm > 0):
            raise ValueError(f"camera {self.child!r}: non-finite pose or zero quaternion")
        object.__setattr__(self, "translation", t)
        object.__setattr__(self, "quaternion_xyzw", q / norm)


def _tf_translation_default() -> OneEuroParams:
    # Cameras mostly stand still: a lower speed gain than the hand's (beta 20) removes about
    # two thirds of the jitter at 2-10 mm noise instead of half (test_steady_cameras).
    return OneEuroParams(min_cutoff_hz=1.0, beta=2.0, d_cutoff_hz=1.0)


def _tf_rotation_default() -> OneEuroParams:
    return OneEuroParams(min_cutoff_hz=1.0, beta=1.0, d_cutoff_hz=1.0)


@dataclass(frozen=True)
class SteadyCamerasConfig:
    """Settings of :class:`SteadyCameras`; out-of-range values raise a ValueError naming them."""

    filter_translation: OneEuroParams = field(default_factory=_tf_translation_default)
    """One-Euro filter of unfrozen camera positions on /tf (metres)."""
    filter_rotation: OneEuroParams = field(default_factory=_tf_rotation_default)
    """One-Euro filter of unfrozen camera rotations on /tf (as quaternions)."""
    average: AverageConfig = field(default_factory=AverageConfig)
    """Averaging window and convergence tolerances of the frames to freeze."""
    freeze: bool = False
    """Cameras are declared fixed: converged frames are frozen and go on /tf_static."""
    move_translation_m: float = 0.03
    """A frozen camera's estimate this far from its frozen position counts as moved (metres)."""
    move_rotation_deg: float = 3.0
    """A frozen camera's estimate turned this far from its frozen rotation counts as moved."""
    move_framesets: int = 10
    """Consecutive moved estimates of a frozen camera that unfreeze it (one outlier does not)."""

    def __post_init__(self) -> None:
        """Reject wrong types and out-of-range values."""
        for name, kind in (
            ("filter_translation", OneEuroParams),
            ("filter_rotation", OneEuroParams),
            ("average", AverageConfig),
            ("freeze", bool),
        ):
            if not isinstance(getattr(self, name), kind):
                raise ValueError(
                    f"SteadyCamerasConfig.{name} must be a {kind.__name__}, "
                    f"got {getattr(self, name)!r}"
                )
        for name, upper in (("move_translation_m", math.inf), ("move_rotation_deg", 180.0)):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, (int, float)):
                raise ValueError(f"SteadyCamerasConfig.{name} must be a number, got {value!r}")
            if not 0 < value <= upper or not math.isfinite(value):
                raise ValueError(
                    f"SteadyCamerasConfig.{name} must be > 0 and finite"
                    f"{'' if math.isinf(upper) else f' and <= {upper:g}'}, got {value!r}"
                )
        n = self.move_framesets
        if isinstance(n, bool) or not isinstance(n, int) or n < 1:
            raise ValueError(f"SteadyCamerasConfig.move_framesets must be an int >= 1, got {n!r}")


@dataclass(frozen=True)
class SteadyUpdate:
    """What to publish after one frameset (see the module docstring for the tf2 semantics)."""

    dynamic: tuple[CameraPose, ...]
    """Filtered poses of this frameset's unfrozen cameras, in input order: for /tf."""
    static: tuple[CameraPose, ...] | None
    """The whole frozen set when it changed since the previous update (possibly empty: publish
    it anyway, it replaces the latched message), else None: for /tf_static."""
    moved: tuple[str, ...]
    """Cameras that left the frozen state in this update (they moved)."""
    converged: tuple[str, ...]
    """Cameras that froze in this update."""


class _PoseFilter:
    """The /tf filters of one unfrozen camera."""

    def __init__(self, config: SteadyCamerasConfig) -> None:
        self.translation = OneEuroFilter(config.filter_translation)
        self.rotation = QuaternionFilter(config.filter_rotation)

    def __call__(self, pose: CameraPose, stamp_ns: int) -> CameraPose:
        return CameraPose(
            pose.child,
            self.translation(pose.translation, stamp_ns),
            self.rotation(pose.quaternion_xyzw, stamp_ns),
        )


def pose_offset(pose: CameraPose, reference: CameraPose) -> tuple[float, float]:
    """Distance (metres) and geodesic angle (radians, [0, pi]) of ``pose`` from ``reference``."""
    distance = float(np.linalg.norm(pose.translation - reference.translation))
    angle = quaternion_angles(pose.quaternion_xyzw[None], reference.quaternion_xyzw)
    return distance, float(angle[0])


class SteadyCameras:
    """Filtered, frozen and re-estimated camera frames (see the module docstring).

    Feed it the camera estimates of every frameset whose reference is the reference camera,
    so that each child frame always describes the same transform.

    Args:
        config: filters, convergence, freezing and movement detection.
    """

    def __init__(self, config: SteadyCamerasConfig) -> None:
        if not isinstance(config, SteadyCamerasConfig):
            raise ValueError(f"expected a SteadyCamerasConfig, got {type(config).__name__}")
        self.config = config
        self._averager = CameraPoseAverager(config.average)
        self._filters: dict[str, _PoseFilter] = {}
        self._frozen: dict[str, CameraPose] = {}
        self._strikes: dict[str, int] = {}
        self._static_changed = False

    @property
    def frozen(self) -> tuple[CameraPose, ...]:
        """The frozen frames (averages), in the order they froze."""
        return tuple(self._frozen.values())

    def reset(self) -> None:
        """Forget every filter, average and frozen frame (the reset service).

        When frames were frozen, the next :meth:`update` reports the (then usually empty)
        frozen set as changed, so the latched /tf_static message gets replaced.
        """
        self._static_changed = self._static_changed or bool(self._frozen)
        self._averager.reset()
        self._filters.clear()
        self._frozen.clear()
        self._strikes.clear()

    def update(self, poses: Sequence[CameraPose], stamp_ns: int) -> SteadyUpdate:
        """Take one frameset's raw camera estimates and tell what to publish.

        Args:
            poses: at most one estimate per camera (``ref_from_cam``), any order.
            stamp_ns: the frameset's stamp (integer nanoseconds).

        Returns:
            The filtered /tf poses, the frozen set when it changed, and the cameras that moved
            or converged in this update.

        Raises:
            ValueError: a camera listed twice, or a stamp that is not an int.
        """
        if isinstance(stamp_ns, bool) or not isinstance(stamp_ns, (int, np.integer)):
            raise ValueError(f"stamp_ns must be an int (nanoseconds), got {stamp_ns!r}")
        names = [pose.child for pose in poses]
        if len(set(names)) != len(names):
            raise ValueError(f"each camera at most once per frameset, got {names}")
        dynamic: list[CameraPose] = []
        moved: list[str] = []
        converged: list[str] = []
        for pose in poses:
            if pose.child in self._frozen:
                if not self._has_moved(pose):
                    continue
                moved.append(pose.child)
            filtered = self._filter(pose, int(stamp_ns))
            if self._converged(pose):
                converged.append(pose.child)
            else:
                dynamic.append(filtered)
        changed = self._static_changed or bool(moved) or bool(converged)
        self._static_changed = False
        return SteadyUpdate(
            tuple(dynamic), self.frozen if changed else None, tuple(moved), tuple(converged)
        )

    def _has_moved(self, pose: CameraPose) -> bool:
        """Count a frozen camera's moved estimates; unfreeze it after enough in a row."""
        distance_m, angle_rad = pose_offset(pose, self._frozen[pose.child])
        off = distance_m > self.config.move_translation_m or angle_rad > math.radians(
            self.config.move_rotation_deg
        )
        strikes = self._strikes[pose.child] + 1 if off else 0
        if strikes < self.config.move_framesets:
            self._strikes[pose.child] = strikes
            return False
        # Its filters and average were dropped when it froze: they restart from this estimate.
        del self._frozen[pose.child], self._strikes[pose.child]
        return True

    def _filter(self, pose: CameraPose, stamp_ns: int) -> CameraPose:
        """The /tf estimate of an unfrozen camera (its filters start on its first estimate)."""
        pose_filter = self._filters.get(pose.child)
        if pose_filter is None:
            pose_filter = self._filters[pose.child] = _PoseFilter(self.config)
        return pose_filter(pose, stamp_ns)

    def _converged(self, pose: CameraPose) -> bool:
        """Average an unfrozen camera's raw estimate; freeze it when converged (``freeze``)."""
        if not self.config.freeze:
            return False
        average = self._averager.add(pose.child, pose.translation, pose.quaternion_xyzw)
        if not average.converged:
            return False
        self._frozen[pose.child] = CameraPose(
            pose.child, average.translation, average.quaternion_xyzw
        )
        self._strikes[pose.child] = 0
        self._filters.pop(pose.child, None)
        self._averager.reset(pose.child)
        return True
