# Copyright 2026 The HGGT-ROS Authors
# SPDX-License-Identifier: Apache-2.0
"""URDFs by path or inside a Python package; the kinematic copy with extra links."""

from __future__ import annotations

import math
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from hggt_core.retarget.robot_model import (
    ExtraLink,
    RobotModelError,
    kinematic_urdf,
    resolve_urdf,
    urdf_joints,
)

TINY = """<?xml version="1.0"?>
<robot name="tiny">
  <link name="base"><visual><geometry><mesh filename="../meshes/base.stl"/></geometry></visual>
    <collision><geometry><box size="1 1 1"/></geometry></collision></link>
  <link name="finger"/>
  <link name="slider"/>
  <link name="wheel"/>
  <joint name="bend" type="revolute"><parent link="base"/><child link="finger"/>
    <axis xyz="0 1 0"/><limit lower="-1.5" upper="0.25" effort="1" velocity="1"/></joint>
  <joint name="slide" type="prismatic"><parent link="base"/><child link="slider"/>
    <limit lower="0" upper="0.04" effort="1" velocity="1"/></joint>
  <joint name="spin" type="continuous"><parent link="base"/><child link="wheel"/></joint>
  <joint name="glued" type="fixed"><parent link="finger"/><child link="tip"/></joint>
  <link name="tip"/>
</robot>
"""


@pytest.fixture
def tiny(tmp_path: Path) -> Path:
    path = tmp_path / "tiny.urdf"
    path.write_text(TINY)
    return path


def test_movable_joints_and_limits(tiny: Path) -> None:
    joints = urdf_joints(tiny)
    assert [(j.name, j.lower, j.upper) for j in joints[:2]] == [
        ("bend", -1.5, 0.25),
        ("slide", 0.0, 0.04),
    ]
    assert (
        joints[2].name == "spin" and joints[2].lower == -math.inf and joints[2].upper == math.inf
    )


def test_kinematic_copy_drops_meshes_and_adds_links(tiny: Path, tmp_path: Path) -> None:
    extra = (ExtraLink("pad", "tip", (0.0, 0.02, -0.001)),)
    written = kinematic_urdf(tiny, extra, tmp_path / "copy.urdf")
    robot = ET.parse(written).getroot()
    assert not list(robot.iter("visual")) and not list(robot.iter("collision"))
    joint = next(j for j in robot.iter("joint") if j.get("name") == "pad_fixed")
    assert joint.get("type") == "fixed"
    assert joint.find("parent").get("link") == "tip" and joint.find("child").get("link") == "pad"
    assert [float(v) for v in joint.find("origin").get("xyz").split()] == [0.0, 0.02, -0.001]
    assert [j.name for j in urdf_joints(written)] == ["bend", "slide", "spin"]


@pytest.mark.parametrize(
    ("link", "message"),
    [(ExtraLink("pad", "nowhere", (0, 0, 0)), "no link 'nowhere'"),
     (ExtraLink("finger", "base", (0, 0, 0)), "already has that link")],
)  # fmt: skip
def test_bad_extra_links_are_named(tiny: Path, tmp_path: Path, link, message) -> None:
    with pytest.raises(RobotModelError, match=message):
        kinematic_urdf(tiny, (link,), tmp_path / "copy.urdf")


def test_resolve_paths_and_packages(tiny: Path, tmp_path: Path) -> None:
    assert resolve_urdf(str(tiny)) == tiny
    with pytest.raises(RobotModelError, match="no such file"):
        resolve_urdf(tmp_path / "missing.urdf")
    with pytest.raises(RobotModelError, match="'no_such_package_xyz' is not installed"):
        resolve_urdf("pkg://no_such_package_xyz/hand.urdf")
    with pytest.raises(RobotModelError, match="no such file"):
        resolve_urdf("pkg://pytest/no_hand.urdf")
    broken = tmp_path / "broken.urdf"
    broken.write_text("<robot><link")
    with pytest.raises(RobotModelError, match="not valid XML"):
        urdf_joints(broken)


def test_the_ghand_urdf_is_found_inside_its_package(dex_available: None) -> None:
    path = resolve_urdf("pkg://ghand/assets/models/urdf/ghand_right.urdf")
    assert path.is_file() and "site-packages" in str(path)
    joints = urdf_joints(path)
    assert sorted(j.name for j in joints) == sorted(f"id{k}" for k in range(16))
    assert all(j.lower < 0 < j.upper for j in joints)
