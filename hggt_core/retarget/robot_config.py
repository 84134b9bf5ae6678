# Copyright 2026 The HGGT-ROS Authors
# SPDX-License-Identifier: Apache-2.0
"""A retargeting config file: dex-retargeting's ``retargeting:`` section plus our ``hggt:`` one.

The file is a dex-retargeting YAML (``type`` vector / position / DexPilot, link names,
``scaling_factor``, ``low_pass_alpha``, ...; dex-retargeting reads only its ``retargeting``
key) with one more top-level section describing the robot hand to this project::

    hggt:
      robot_side: right              # the robot hand's side
      palm_axes: ["-z", "+y", "+x"]  # robot-frame directions of the operator axes
      extra_links:                   # fixed points added to the URDF (robot_model.ExtraLink)
        - {name: hggt_wrist, parent: root, xyz: [0.0, 0.0, -0.025]}
      open_pose: {}                  # joint -> position of the open hand (others: 0)

``urdf_path`` may be a path relative to the config file or ``pkg://package/path``
(:func:`hggt_core.retarget.robot_model.resolve_urdf`). The project's configs are in the
package's ``config/retarget/`` folder.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ruamel.yaml import YAML
from ruamel.yaml.error import YAMLError

from hggt_core.retarget.hand_frame import IDENTITY_AXES, HandSide, robot_from_operator
from hggt_core.retarget.robot_model import PACKAGE_SCHEME, ExtraLink

RETARGETING_TYPES = ("vector", "position", "dexpilot")
"""dex-retargeting's optimiser types (the YAML's ``type``, case-insensitive)."""


class RetargetConfigError(ValueError):
    """A retargeting config file that cannot be used; the message names the file and key."""


@dataclass(frozen=True)
class RobotHandConfig:
    """The ``hggt:`` section: what the project needs to know about the robot hand.

    Attributes:
        robot_side: side of the robot hand (a hand of the other side is mirrored onto it).
        palm_axes: robot wrist-frame directions of the operator frame's x, y, z
            (:func:`hggt_core.retarget.hand_frame.robot_from_operator`).
        extra_links: fixed links added to the URDF before solving.
        open_pose: (joint, position) pairs of the open hand; joints not named take 0,
            clipped to their limits.
    """

    robot_side: HandSide = "right"
    palm_axes: tuple[str, str, str] = IDENTITY_AXES
    extra_links: tuple[ExtraLink, ...] = ()
    open_pose: tuple[tuple[str, float], ...] = ()


@dataclass(frozen=True)
class RetargetFile:
    """A parsed retargeting config file.

    Attributes:
        path: the file.
        retargeting: its ``retargeting`` section as dex-retargeting reads it.
        robot: its ``hggt`` section.
        kind: the optimiser type, lower case (vector, position or dexpilot).
        urdf: the section's ``urdf_path``, made absolute unless ``pkg://``.
    """

    path: Path
    retargeting: Mapping[str, Any]
    robot: RobotHandConfig
    kind: str
    urdf: str


def _require(ok: bool, path: Path, message: str) -> None:
    if not ok:
        raise RetargetConfigError(f"retargeting config {path}: {message}")


def load_retarget_file(path: str | Path) -> RetargetFile:
    """Read and check a retargeting config file (see the module docstring).

    Raises:
        RetargetConfigError: a missing or unreadable file, a missing ``retargeting``
            section, an unknown ``type``, or a malformed ``hggt`` section.
    """
    file = Path(path).expanduser()
    _require(file.is_file(), file, "no such file")
    try:
        document = YAML(typ="safe", pure=True).load(file.read_text(encoding="utf-8"))
    except (OSError, YAMLError) as error:
        raise RetargetConfigError(f"retargeting config {file}: {error}") from None
    _require(isinstance(document, Mapping), file, "not a YAML mapping")
    section = document.get("retargeting")
    _require(isinstance(section, Mapping), file, "no 'retargeting' section")
    kind = str(section.get("type", "")).lower()
    _require(kind in RETARGETING_TYPES, file, f"type must be one of {list(RETARGETING_TYPES)}")
    urdf = str(section.get("urdf_path", ""))
    _require(bool(urdf), file, "retargeting.urdf_path is missing")
    if not urdf.startswith(PACKAGE_SCHEME) and not Path(urdf).expanduser().is_absolute():
        urdf = str(file.parent / urdf)
    return RetargetFile(
        file, dict(section), _robot_section(document.get("hggt"), file), kind, urdf
    )


def _robot_section(section: object, path: Path) -> RobotHandConfig:
    if section is None:
        return RobotHandConfig()
    _require(isinstance(section, Mapping), path, "'hggt' must be a mapping")
    assert isinstance(section, Mapping)
    unknown = sorted(set(section) - {"robot_side", "palm_axes", "extra_links", "open_pose"})
    _require(not unknown, path, f"unknown keys in 'hggt': {unknown}")
    side = section.get("robot_side", "right")
    _require(side in ("right", "left"), path, f"hggt.robot_side must be right or left: {side!r}")
    axes = tuple(str(axis) for axis in section.get("palm_axes", IDENTITY_AXES))
    try:
        robot_from_operator(axes)
    except ValueError as error:
        raise RetargetConfigError(f"retargeting config {path}: hggt.{error}") from None
    links = []
    for entry in section.get("extra_links", ()):
        ok = isinstance(entry, Mapping) and {"name", "parent", "xyz"} <= set(entry)
        _require(ok, path, f"hggt.extra_links entries need name, parent, xyz: {entry!r}")
        xyz = tuple(float(v) for v in entry["xyz"])
        _require(len(xyz) == 3, path, f"hggt.extra_links xyz needs 3 numbers: {entry!r}")
        links.append(ExtraLink(str(entry["name"]), str(entry["parent"]), (xyz[0], xyz[1], xyz[2])))
    open_pose = section.get("open_pose", {}) or {}
    _require(isinstance(open_pose, Mapping), path, "hggt.open_pose must map joint -> position")
    pose = tuple((str(name), float(value)) for name, value in open_pose.items())
    _require(all(math.isfinite(v) for _, v in pose), path, "hggt.open_pose must be finite")
    return RobotHandConfig(
        robot_side="left" if side == "left" else "right",
        palm_axes=(axes[0], axes[1], axes[2]),
        extra_links=tuple(links),
        open_pose=pose,
    )
