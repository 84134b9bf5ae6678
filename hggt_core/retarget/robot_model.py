# Copyright 2026 The HGGT-ROS Authors
# SPDX-License-Identifier: Apache-2.0
"""The robot hand's URDF: where it is, its joints, and the kinematic copy the solver reads.

* :func:`resolve_urdf`: a path, or ``pkg://<python package>/<path inside it>`` for a URDF
  shipped inside an installed Python package (e.g.
  ``pkg://ghand/assets/models/urdf/ghand_right.urdf``, the LEAP V1 KAIZEN hand of the
  Apache-2.0 ``ghand`` package). The file is found at run time and never copied into this
  repository.
* :func:`kinematic_urdf`: a copy without meshes (only kinematics matter to the solver, and
  relative mesh paths would not resolve from a copy) plus extra fixed links (:class:`ExtraLink`)
  for points a URDF lacks, such as fingertip pads or a wrist point level with the knuckles.
* :func:`urdf_joints`: the movable joints with their limits.
"""

from __future__ import annotations

import importlib.util
import math
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from pathlib import Path

PACKAGE_SCHEME = "pkg://"
"""Prefix of a URDF given inside an installed Python package."""
_MOVABLE = ("revolute", "prismatic", "continuous")


class RobotModelError(ValueError):
    """A URDF that cannot be found, parsed or extended; the message names it."""


@dataclass(frozen=True)
class ExtraLink:
    """A fixed point added to the robot model.

    Attributes:
        name: new link name (must not exist in the URDF).
        parent: existing link it is fixed to.
        xyz: [3] position in the parent link's frame (metres).
    """

    name: str
    parent: str
    xyz: tuple[float, float, float]


@dataclass(frozen=True)
class UrdfJoint:
    """One movable URDF joint.

    Attributes:
        name: joint name.
        lower: lower position limit (radians or metres; -inf when none).
        upper: upper position limit (+inf when none).
    """

    name: str
    lower: float
    upper: float


def resolve_urdf(location: str | Path) -> Path:
    """The URDF file at ``location`` (a path, ``~`` expanded, or ``pkg://package/path``).

    Raises:
        RobotModelError: the package is not installed or the file does not exist.
    """
    text = str(location)
    if text.startswith(PACKAGE_SCHEME):
        package, _, inner = text[len(PACKAGE_SCHEME) :].partition("/")
        spec = importlib.util.find_spec(package) if package else None
        if spec is None or not spec.submodule_search_locations:
            raise RobotModelError(
                f"robot URDF {text}: Python package {package!r} is not installed "
                "(pip install 'hggt_ros[retarget]' brings ghand)"
            )
        path = Path(next(iter(spec.submodule_search_locations))) / inner
    else:
        path = Path(text).expanduser()
    if not path.is_file():
        raise RobotModelError(f"robot URDF {text}: no such file ({path})")
    return path


def _parse(path: Path) -> ET.Element:
    try:
        return ET.parse(path).getroot()
    except ET.ParseError as error:
        raise RobotModelError(f"robot URDF {path} is not valid XML: {error}") from None


def urdf_joints(path: Path) -> list[UrdfJoint]:
    """The movable joints of a URDF, in file order (mimic joints included).

    Raises:
        RobotModelError: unreadable XML.
    """
    joints = []
    for joint in _parse(path).iter("joint"):
        if joint.get("type") not in _MOVABLE:
            continue
        limit = joint.find("limit")
        bounded = joint.get("type") != "continuous" and limit is not None
        lower = float(limit.get("lower", "-inf")) if bounded and limit is not None else -math.inf
        upper = float(limit.get("upper", "inf")) if bounded and limit is not None else math.inf
        joints.append(UrdfJoint(str(joint.get("name")), lower, upper))
    return joints


def kinematic_urdf(source: Path, extra_links: tuple[ExtraLink, ...], destination: Path) -> Path:
    """Write the URDF without visual and collision elements, with ``extra_links`` added.

    Args:
        source: the robot's URDF.
        extra_links: fixed links to add.
        destination: the file to write (its folder must exist).

    Returns:
        ``destination``.

    Raises:
        RobotModelError: unreadable XML, an extra link whose parent is missing or whose name
            is taken.
    """
    robot = _parse(source)
    for link in robot.iter("link"):
        for element in [*link.findall("visual"), *link.findall("collision")]:
            link.remove(element)
    names = {str(link.get("name")) for link in robot.iter("link")}
    for extra in extra_links:
        if extra.parent not in names:
            raise RobotModelError(
                f"extra link {extra.name!r}: no link {extra.parent!r} in {source}"
            )
        if extra.name in names:
            raise RobotModelError(f"extra link {extra.name!r}: {source} already has that link")
        ET.SubElement(robot, "link", name=extra.name)
        joint = ET.SubElement(robot, "joint", name=f"{extra.name}_fixed", type="fixed")
        ET.SubElement(joint, "parent", link=extra.parent)
        ET.SubElement(joint, "child", link=extra.name)
        ET.SubElement(joint, "origin", xyz=" ".join(f"{v:.9g}" for v in extra.xyz), rpy="0 0 0")
        names.add(extra.name)
    ET.ElementTree(robot).write(destination, encoding="utf-8", xml_declaration=True)
    return destination
