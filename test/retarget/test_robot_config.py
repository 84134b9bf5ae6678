# Copyright 2026 The HGGT-ROS Authors
# SPDX-License-Identifier: Apache-2.0
"""Retargeting config files: dex-retargeting's section plus ours, checked with clear errors."""

from __future__ import annotations

from pathlib import Path

import pytest

from hggt_core.retarget.robot_config import RetargetConfigError, load_retarget_file
from hggt_core.retarget.robot_model import ExtraLink

CONFIGS = Path(__file__).resolve().parents[2] / "config" / "retarget"
DEXPILOT, VECTOR = CONFIGS / "ghand_right_dexpilot.yaml", CONFIGS / "ghand_right_vector.yaml"


def test_the_shipped_configs_load() -> None:
    dexpilot, vector = load_retarget_file(DEXPILOT), load_retarget_file(VECTOR)
    assert (dexpilot.kind, vector.kind) == ("dexpilot", "vector")
    assert dexpilot.urdf == "pkg://ghand/assets/models/urdf/ghand_right.urdf"
    assert dexpilot.robot.robot_side == "right"
    assert dexpilot.robot.palm_axes == ("-z", "+y", "+x")
    assert dexpilot.robot.extra_links[0] == ExtraLink("hggt_wrist", "root", (0.0, 0.0, -0.025))
    assert dexpilot.retargeting["finger_tip_link_names"][1] == "hggt_index_tip"
    assert vector.retargeting["target_link_human_indices"] == [[0, 0, 0, 0], [4, 8, 12, 16]]


def _write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "hand.yaml"
    path.write_text(text)
    return path


def test_relative_urdf_paths_are_taken_from_the_config_folder(tmp_path: Path) -> None:
    file = load_retarget_file(_write(tmp_path, "retargeting: {type: vector, urdf_path: a/h.urdf}"))
    assert file.urdf == str(tmp_path / "a" / "h.urdf")
    assert file.robot.palm_axes == ("+x", "+y", "+z") and file.robot.extra_links == ()


@pytest.mark.parametrize(
    ("text", "message"),
    [("[1, 2]", "not a YAML mapping"),
     ("hggt: {}", "no 'retargeting' section"),
     ("retargeting: {type: magic, urdf_path: h.urdf}", "type must be one of"),
     ("retargeting: {type: vector}", "urdf_path is missing"),
     ("retargeting: {type: vector, urdf_path: h.urdf}\nhggt: {robot_side: up}", "robot_side"),
     ("retargeting: {type: vector, urdf_path: h.urdf}\nhggt: {palm_axes: [x, x, z]}",
      "hggt.palm_axes"),
     ("retargeting: {type: vector, urdf_path: h.urdf}\nhggt: {colour: red}", "unknown keys"),
     ("retargeting: {type: vector, urdf_path: h.urdf}\nhggt: {extra_links: [{name: a}]}",
      "need name, parent, xyz"),
     ("retargeting: {type: vector, urdf_path: h.urdf}\nhggt: {open_pose: [1]}", "open_pose"),
     ("retargeting: [", "hand.yaml")],
)  # fmt: skip
def test_bad_files_are_reported_in_one_line(tmp_path: Path, text: str, message: str) -> None:
    with pytest.raises(RetargetConfigError, match=message) as caught:
        load_retarget_file(_write(tmp_path, text))
    assert "hand.yaml" in str(caught.value)


def test_a_missing_file_is_named(tmp_path: Path) -> None:
    with pytest.raises(RetargetConfigError, match="no such file"):
        load_retarget_file(tmp_path / "nothing.yaml")
