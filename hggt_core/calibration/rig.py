# Copyright 2026 The HGGT-ROS Authors
# SPDX-License-Identifier: Apache-2.0
"""Known cameras of a calibrated rig, and the YAML file that describes them.

A calibration names the user's world frame (e.g. a robot's ``base_link``) and, for some or all
of the cameras, where they are in it. The file format::

    world_frame: base_link          # the frame results are expressed in once aligned
    cameras:                        # view name -> known camera (views not named: estimated)
      cam0:
        world_from_cam:             # the camera's optical frame (OpenCV axes) in the world
          translation: [0.4, 0.0, 0.6]          # metres
          quaternion: [0.0, 0.707, 0.0, 0.707]  # x, y, z, w (unit length)
        K: [[600, 0, 320], [0, 600, 240], [0, 0, 1]]  # optional, pixels
      cam1:
        world_from_cam: {translation: [0.0, 0.5, 0.6], quaternion: [0, 0, 0, 1]}

Camera names are the frameset's view names; the CLI also matches a camera to the view whose
optical frame id it names (:func:`hggt_core.calibration.world.calibration_for_views`), as ROS
calibrations name frames. Errors name the file and the key at fault.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import numpy.typing as npt
from ruamel.yaml import YAML
from ruamel.yaml.error import YAMLError

FloatArray = npt.NDArray[np.float64]

UNIT_QUATERNION_TOLERANCE = 1e-3
"""A quaternion whose norm differs from 1 by more than this is refused (not renormalised)."""


class CalibrationError(ValueError):
    """A calibration file or value that cannot be used; the message names the problem."""


@dataclass(frozen=True)
class KnownCamera:
    """One camera whose pose in the world frame is known.

    Attributes:
        name: the view's name.
        world_from_cam: [4, 4] rigid transform, camera optical frame (OpenCV axes: x right,
            y down, z forward) -> world frame, metres.
        intrinsics: [3, 3] known K in full-image pixels, or None when not given.
    """

    name: str
    world_from_cam: FloatArray
    intrinsics: FloatArray | None = None

    def __post_init__(self) -> None:
        transform = np.asarray(self.world_from_cam, dtype=np.float64)
        if transform.shape != (4, 4):
            raise CalibrationError(f"camera {self.name}: world_from_cam must be 4x4")
        rotation = transform[:3, :3]
        if not np.allclose(rotation.T @ rotation, np.eye(3), atol=1e-6) or (
            np.linalg.det(rotation) < 0
        ):
            raise CalibrationError(f"camera {self.name}: world_from_cam is not a rotation")
        object.__setattr__(self, "world_from_cam", transform)
        if self.intrinsics is not None:
            intrinsics = np.asarray(self.intrinsics, dtype=np.float64)
            if intrinsics.shape != (3, 3):
                raise CalibrationError(f"camera {self.name}: K must be 3x3")
            object.__setattr__(self, "intrinsics", intrinsics)


@dataclass(frozen=True)
class Calibration:
    """The user's world frame and the cameras known in it.

    Attributes:
        world_frame: name of the world frame (a TF frame id).
        cameras: view name -> known camera.
    """

    world_frame: str
    cameras: Mapping[str, KnownCamera]


def rigid_from_translation_quaternion(
    translation: npt.ArrayLike, quaternion_xyzw: npt.ArrayLike
) -> FloatArray:
    """[4, 4] rigid transform from a translation [3] (metres) and a unit quaternion [4] (xyzw).

    Raises:
        CalibrationError: for a translation that is not 3 numbers, a quaternion that is not
            4 numbers or is not of unit length (within ``UNIT_QUATERNION_TOLERANCE``).
    """
    shift = np.asarray(translation, dtype=np.float64)
    quat = np.asarray(quaternion_xyzw, dtype=np.float64)
    if shift.shape != (3,):
        raise CalibrationError(f"translation must be [x, y, z], got shape {shift.shape}")
    if quat.shape != (4,):
        raise CalibrationError(f"quaternion must be [x, y, z, w], got shape {quat.shape}")
    norm = float(np.linalg.norm(quat))
    if abs(norm - 1.0) > UNIT_QUATERNION_TOLERANCE:
        raise CalibrationError(f"quaternion must have unit length, has norm {norm:.6g}")
    x, y, z, w = quat / norm
    transform = np.eye(4)
    transform[:3, :3] = [
        [1 - 2 * (y * y + z * z), 2 * (x * y - z * w), 2 * (x * z + y * w)],
        [2 * (x * y + z * w), 1 - 2 * (x * x + z * z), 2 * (y * z - x * w)],
        [2 * (x * z - y * w), 2 * (y * z + x * w), 1 - 2 * (x * x + y * y)],
    ]
    transform[:3, 3] = shift
    return transform


def load_calibration(path: str | Path) -> Calibration:
    """Read a calibration YAML file (format: the module docstring).

    Raises:
        CalibrationError: a missing or unreadable file, a missing ``world_frame`` or
            ``cameras``, or a camera entry with a bad shape or a non-unit quaternion.
    """
    file = Path(path).expanduser()
    if not file.is_file():
        raise CalibrationError(f"calibration {file}: no such file")
    try:
        document = YAML(typ="safe", pure=True).load(file.read_text(encoding="utf-8"))
    except (OSError, YAMLError) as error:
        reason = str(error).splitlines()[0] if str(error) else type(error).__name__
        raise CalibrationError(f"calibration {file}: {reason}") from None
    if not isinstance(document, Mapping):
        raise CalibrationError(f"calibration {file}: not a YAML mapping")
    world_frame = document.get("world_frame")
    if not isinstance(world_frame, str) or not world_frame:
        raise CalibrationError(f"calibration {file}: 'world_frame' must be a non-empty string")
    entries = document.get("cameras")
    if not isinstance(entries, Mapping) or not entries:
        raise CalibrationError(f"calibration {file}: 'cameras' must be a non-empty mapping")
    cameras = {}
    for name, entry in entries.items():
        try:
            cameras[str(name)] = _camera(str(name), entry)
        except (CalibrationError, TypeError, ValueError) as error:
            raise CalibrationError(f"calibration {file}: cameras.{name}: {error}") from None
    return Calibration(world_frame, cameras)


def _camera(name: str, entry: object) -> KnownCamera:
    if not isinstance(entry, Mapping):
        raise CalibrationError("must be a mapping")
    unknown = sorted(set(entry) - {"world_from_cam", "K"})
    if unknown:
        raise CalibrationError(f"unknown keys {unknown}")
    pose = entry.get("world_from_cam")
    if not isinstance(pose, Mapping) or {"translation", "quaternion"} - set(pose):
        raise CalibrationError("world_from_cam needs 'translation' and 'quaternion'")
    transform = rigid_from_translation_quaternion(pose["translation"], pose["quaternion"])
    intrinsics = entry.get("K")
    if intrinsics is not None:
        intrinsics = np.asarray(intrinsics, dtype=np.float64)
        if intrinsics.shape != (3, 3):
            raise CalibrationError(f"K must be 3x3, got shape {intrinsics.shape}")
    return KnownCamera(name, transform, intrinsics)
