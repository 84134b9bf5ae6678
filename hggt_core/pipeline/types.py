# Copyright 2026 The HGGT-ROS Authors
# SPDX-License-Identifier: Apache-2.0
"""Data crossing the pipeline: framesets in, hand boxes and crops in between, results out.

Frames and units used throughout:

* Images are [H, W, 3] uint8 RGB; pixel coordinates (u, v) have u to the right and v down,
  the centre of the top-left pixel at (0.5, 0.5) (so a W-wide image spans u in [0, W]).
* 3-D quantities are in metres in the *reference camera frame*: the optical frame of the
  first view a hand was reconstructed from (``HandResult.views_used[0]``), which is the
  frameset's view 0 whenever that view sees the hand (OpenCV axes: x right, y down, z
  forward; the REP 103 optical frame).
* ``cam_from_ref`` is the rigid transform [4, 4] taking reference-frame points into a view's
  camera frame (view 0's is the identity up to prediction error).
* Intrinsics K [3, 3] are in full-image pixels of their view. With lens distortion
  (``View.distortion``), boxes are in raw image pixels (where a detector finds the hand) and
  2-D joints are undistorted (ideal pinhole) pixels of K.
* Stamps are integer nanoseconds (``stamp_ns``) on the source's clock, as ROS headers carry
  them: float64 seconds resolve only ~0.24 us at epoch times (1.7e9 s), so a stamp that went
  through floats would not match its image's header. ``stamp_s`` is a float view for
  arithmetic (rates, ages, filter time steps), never for stamping outputs.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from fractions import Fraction
from typing import TYPE_CHECKING, Literal, Protocol

import numpy as np
import numpy.typing as npt

if TYPE_CHECKING:  # a runtime import would load hggt_core.geometry (torch) with every type
    from hggt_core.geometry.distortion import LensDistortion

HandSide = Literal["right", "left"]
FloatArray = npt.NDArray[np.float64]
ImageArray = npt.NDArray[np.uint8]

NS_PER_S = 1_000_000_000
"""Nanoseconds per second."""


def seconds_to_ns(seconds: float) -> int:
    """Float seconds -> the nearest integer nanoseconds of the float's exact value.

    The float is converted exactly (as a fraction), so only the final rounding happens. For
    durations and for stamps that are born as floats (a video's stream time, a wall clock);
    a stamp that already has integer nanoseconds keeps them.

    Raises:
        ValueError: a non-finite value.
    """
    if not np.isfinite(seconds):
        raise ValueError(f"cannot convert {seconds!r} s to nanoseconds")
    return round(Fraction(seconds) * NS_PER_S)


def checked_stamp_ns(stamp_ns: object, owner: str) -> int:
    """``stamp_ns`` as a Python int, or TypeError naming ``owner`` for a non-integer stamp.

    NumPy integers are accepted (npz files hold int64); floats and bools are not: a float
    stamp is almost always seconds passed where nanoseconds belong.
    """
    if isinstance(stamp_ns, bool) or not isinstance(stamp_ns, int | np.integer):
        raise TypeError(
            f"{owner}: stamp_ns must be integer nanoseconds, got {type(stamp_ns).__name__} "
            f"{stamp_ns!r}"
        )
    return int(stamp_ns)


@dataclass(frozen=True)
class View:
    """One camera's image within a frameset.

    Attributes:
        name: camera name, unique within the frameset (a topic, frame id or file stem).
        stamp_ns: capture time in integer nanoseconds (the source's clock).
        image: [H, W, 3] uint8 RGB.
        intrinsics: known [3, 3] K in this image's pixels, or None when uncalibrated.
        distortion: the lens distortion of this image (camera_info's D), or None for a
            pinhole image; it needs ``intrinsics`` (it acts on K's normalized coordinates).
        cam_from_world: known [4, 4] extrinsics, the rigid transform world -> this camera's
            optical frame (metres; from a calibration file or TF), or None when unknown. The
            landmark engine triangulates with the known cameras when a hand has two or more;
            the HGGT engine ignores it (its estimate is aligned to the known cameras
            afterwards, by :func:`hggt_core.calibration.express_in_world`).
    """

    name: str
    stamp_ns: int
    image: ImageArray
    intrinsics: FloatArray | None = None
    distortion: LensDistortion | None = None
    cam_from_world: FloatArray | None = None

    def __post_init__(self) -> None:
        object.__setattr__(
            self, "stamp_ns", checked_stamp_ns(self.stamp_ns, f"view {self.name!r}")
        )
        if self.distortion is not None and self.intrinsics is None:
            raise ValueError(f"view {self.name!r}: lens distortion without intrinsics")

    @property
    def stamp_s(self) -> float:
        """``stamp_ns`` in seconds (float64; for arithmetic, never for stamping outputs)."""
        return self.stamp_ns / NS_PER_S


@dataclass(frozen=True)
class FrameSet:
    """Synchronised views of one instant; ``views[0]`` is the reference camera.

    Attributes:
        stamp_ns: reference stamp in integer nanoseconds; every output derived from this set
            carries it exactly.
        views: the views, reference first; names are unique.
    """

    stamp_ns: int
    views: tuple[View, ...]

    @property
    def stamp_s(self) -> float:
        """``stamp_ns`` in seconds (float64; for arithmetic, never for stamping outputs)."""
        return self.stamp_ns / NS_PER_S

    def __post_init__(self) -> None:
        object.__setattr__(self, "stamp_ns", checked_stamp_ns(self.stamp_ns, "frameset"))
        if not self.views:
            raise ValueError("a frameset needs at least one view")
        names = [view.name for view in self.views]
        if len(set(names)) != len(names):
            raise ValueError(f"view names must be unique, got {names}")


@dataclass(frozen=True)
class Box:
    """Axis-aligned hand box in raw full-image pixels (see the module docstring for the axes).

    Attributes:
        x_min: left edge (u).
        y_min: top edge (v).
        x_max: right edge (u), > x_min.
        y_max: bottom edge (v), > y_min.
        score: detection confidence in [0, 1] (1 for boxes given by the caller).
    """

    x_min: float
    y_min: float
    x_max: float
    y_max: float
    score: float = 1.0

    def __post_init__(self) -> None:
        if not (self.x_max > self.x_min and self.y_max > self.y_min):
            raise ValueError(f"empty box {self}")


@dataclass(frozen=True)
class HandBoxes:
    """Where one hand is seen: a box per view that sees it.

    Attributes:
        side: which hand.
        boxes: view name -> box; views without a box are left out of this hand's inference.
        score: confidence of the hand as a whole, in [0, 1].
    """

    side: HandSide
    boxes: Mapping[str, Box]
    score: float = 1.0


@dataclass(frozen=True)
class CropTransform:
    """Maps a square model crop back into its full image: ``u_img = x0 + scale * u_crop``.

    For a mirrored crop (left hands run through the right-hand model) the crop is flipped
    horizontally first: ``u_img = x0 + scale * (size - u_crop)``; v is never flipped:
    ``v_img = y0 + scale * v_crop``.

    Attributes:
        x0: image u of the crop's left edge (pixels; may lie outside the image: padding).
        y0: image v of the crop's top edge.
        scale: image pixels per crop pixel.
        size: crop side in crop pixels (the model input size).
        mirrored: whether the crop was flipped horizontally.
    """

    x0: float
    y0: float
    scale: float
    size: int
    mirrored: bool = False


@dataclass(frozen=True)
class ViewCamera:
    """A view's estimated camera and the hand's projection into it.

    Attributes:
        name: the view's name.
        intrinsics: [3, 3] K in full-image pixels.
        cam_from_ref: [4, 4] rigid transform, reference frame -> this camera (metres).
        joints_2d: [21, 2] hand joints (OpenPose order) projected into the full image, pixels;
            with lens distortion (``View.distortion``): undistorted pixels (pinhole K).
        crop: where the model's crop of this view came from.
    """

    name: str
    intrinsics: FloatArray
    cam_from_ref: FloatArray
    joints_2d: FloatArray
    crop: CropTransform


@dataclass(frozen=True)
class HandResult:
    """One reconstructed hand of one frameset, in the reference camera frame.

    Attributes:
        stamp_ns: the frameset's reference stamp (integer nanoseconds).
        side: which hand.
        score: confidence in [0, 1] (from localisation).
        hand_pose: [48] MANO axis-angle pose (radians); first 3 = global orientation, then 15
            finger joints as offsets from MANO's mean pose (``flat_hand_mean=False``).
        betas: [10] MANO shape.
        transl: [3] MANO translation (metres).
        vertices: [778, 3] mesh vertices (metres).
        joints: [21, 3] joints in OpenPose order (metres).
        joint_rotations: [21, 3, 3] global rotation of each OpenPose joint (fingertips take their
            parent joint's), reference frame.
        cameras: per-view cameras, in the order of ``views_used``.
        views_used: names of the views that went into the network (reference first).
        timings_s: stage name -> seconds spent on it for this hand.
    """

    stamp_ns: int
    side: HandSide
    score: float
    hand_pose: FloatArray
    betas: FloatArray
    transl: FloatArray
    vertices: FloatArray
    joints: FloatArray
    joint_rotations: FloatArray
    cameras: tuple[ViewCamera, ...]
    views_used: tuple[str, ...]
    timings_s: Mapping[str, float] = field(default_factory=dict)

    def __post_init__(self) -> None:
        object.__setattr__(self, "stamp_ns", checked_stamp_ns(self.stamp_ns, f"{self.side} hand"))

    @property
    def stamp_s(self) -> float:
        """``stamp_ns`` in seconds (float64; for arithmetic, never for stamping outputs)."""
        return self.stamp_ns / NS_PER_S


class HandLocaliser(Protocol):
    """Finds the hands of a frameset: one :class:`HandBoxes` per hand (at most one per side)."""

    def locate(self, frameset: FrameSet, previous: Sequence[HandResult]) -> list[HandBoxes]:
        """Boxes for this frameset, given the previous frameset's results (may be empty)."""
        ...
