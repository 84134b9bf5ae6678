# Copyright 2026 The HGGT-ROS Authors
# SPDX-License-Identifier: Apache-2.0
"""What the launch file computes: parameter overrides, names, the RViz config (no ROS needed)."""

from __future__ import annotations

from pathlib import Path

import pytest

yaml = pytest.importorskip("yaml", reason="PyYAML comes with the ROS environment (launch)")

from hggt_ros.launch_support import (  # noqa: E402 (after the skip)
    LaunchSetupError,
    camera_names,
    parameter_overrides,
    parameters_from_file,
    resolve_topic,
    rviz_config,
    rviz_inputs,
)
from hggt_ros.parameter_table import ParameterError  # noqa: E402

REPO = Path(__file__).resolve().parents[2]
TEMPLATE = (REPO / "config" / "hggt.rviz").read_text()
IMAGE_CLASS = "rviz_default_plugins/Image"


def test_arguments_override_only_when_given() -> None:
    assert camera_names("[cam0, cam1, cam2]") == ["cam0", "cam1", "cam2"]
    assert camera_names("left,right") == camera_names("left right") == ["left", "right"]
    overrides = parameter_overrides(
        {"cameras": "[a, b]", "engine": "torch", "device": " ", "reference_frame": "a_optical",
         "calibration_file": "/rig.yaml", "world_frame": "base_link", "anchor_frame": "wrist"}
    )  # fmt: skip
    assert overrides == {
        "cameras.names": ["a", "b"],
        "engine.kind": "torch",
        "frames.reference": "a_optical",
        "calibration.file": "/rig.yaml",
        "calibration.world_frame": "base_link",
        "frames.anchor_frame": "wrist",
    }
    assert parameter_overrides({}) == {}


def test_topics_resolve_like_a_node_does() -> None:
    assert resolve_topic("hand/mano", "") == resolve_topic("hand/mano", "/") == "/hand/mano"
    assert (
        resolve_topic("hand/mano", "rig")
        == resolve_topic("hand/mano", "/rig/")
        == ("/rig/hand/mano")
    )
    assert resolve_topic("/tf", "rig") == "/tf"
    assert resolve_topic("~/debug", "rig") == "/rig/hggt_node/debug"


def test_parameters_file_sections_for_the_node(tmp_path: Path) -> None:
    path = tmp_path / "p.yaml"
    path.write_text(
        "/**:\n  ros__parameters:\n    cameras:\n      names: [a, b]\n    sync.slop_s: 0.01\n"
        "other_node:\n  ros__parameters:\n    cameras.names: [x]\n"
        "/rig/hggt_node:\n  ros__parameters:\n    frames:\n      reference: a_optical\n"
    )
    assert parameters_from_file(path, "hggt_node", "rig") == {
        "cameras.names": ["a", "b"],
        "sync.slop_s": 0.01,
        "frames.reference": "a_optical",
    }
    assert "frames.reference" not in parameters_from_file(path, "hggt_node", "")
    with pytest.raises(LaunchSetupError, match=r"params_file .*missing\.yaml"):
        parameters_from_file(tmp_path / "missing.yaml", "hggt_node")
    path.write_text("/**:\n  parameters: {}\n")
    with pytest.raises(LaunchSetupError, match=r"'/\*\*' has no ros__parameters"):
        parameters_from_file(path, "hggt_node")


def _displays(text: str) -> list[dict[str, object]]:
    displays = yaml.safe_load(text)["Visualization Manager"]["Displays"]
    assert isinstance(displays, list)
    return displays


def _topic(display: dict[str, object]) -> str:
    topic = display["Topic"]
    assert isinstance(topic, dict)
    return str(topic["Value"])


def test_rviz_config_follows_cameras_namespace_and_reference_frame() -> None:
    cameras = [("left", "/rig/left/image_raw"), ("right", "/drivers/right/image")]
    text = rviz_config(TEMPLATE, "left_optical", cameras, "rig")
    config = yaml.safe_load(text)
    assert config["Visualization Manager"]["Global Options"]["Fixed Frame"] == "left_optical"
    displays = _displays(text)
    images = [d for d in displays if d["Class"] == IMAGE_CLASS]
    assert [(d["Name"], _topic(d)) for d in images] == [
        ("left image", "/rig/left/image_raw"),
        ("right image", "/drivers/right/image"),
    ]
    topics = {_topic(d) for d in displays if "Topic" in d}
    assert {"/rig/hand/markers", "/rig/hand/right/joints", "/rig/hand/left/joints"} <= topics
    assert not any(topic.startswith("/hand/") for topic in topics)
    assert "cam0" not in text and "cam1" not in text
    # The template's other displays and settings are kept.
    template_classes = [d["Class"] for d in _displays(TEMPLATE) if d["Class"] != IMAGE_CLASS]
    assert [d["Class"] for d in displays if d["Class"] != IMAGE_CLASS] == template_classes
    root = rviz_config(TEMPLATE, "cam0_optical_frame", [("cam0", "/cam0/image_raw")], "")
    assert "/hand/markers" in {_topic(d) for d in _displays(root) if "Topic" in d}
    with pytest.raises(LaunchSetupError, match="no rviz_default_plugins/Image display"):
        rviz_config("Visualization Manager:\n  Displays: []\n", "f", cameras, "")


def test_rviz_inputs_use_the_nodes_parameter_mapping(tmp_path: Path) -> None:
    params_file = REPO / "config" / "hggt.yaml"
    frame, topics = rviz_inputs(params_file, {"cameras.names": ["c0", "c1"]}, "rig")
    assert frame == "c0_optical_frame"
    assert topics == [("c0", "/rig/c0/image_raw"), ("c1", "/rig/c1/image_raw")]
    custom = tmp_path / "p.yaml"
    custom.write_text(
        "/**:\n  ros__parameters:\n    cameras:\n      names: [a, b]\n"
        "      topics: [/drv/a/image, drv_b/image]\n      image_transport: compressed\n"
        "    frames:\n      reference: rig_base_cam\n"
    )
    frame, topics = rviz_inputs(custom, {}, "")
    assert frame == "rig_base_cam"
    assert topics == [("a", "/drv/a/image"), ("b", "/drv_b/image")]
    with pytest.raises(ParameterError, match=r"cameras\.names"):
        rviz_inputs(custom, {"cameras.names": ["0bad"]}, "")


def test_rviz_fixed_frame_is_the_world_then_the_anchor_then_the_reference(
    tmp_path: Path,
) -> None:
    params_file = REPO / "config" / "hggt.yaml"
    reference = {"frames.reference": "c0_optical"}
    anchor = {**reference, "frames.anchor_frame": "wrist_link"}
    world = {**anchor, "calibration.world_frame": "base_link"}
    assert rviz_inputs(params_file, reference, "")[0] == "c0_optical"
    assert rviz_inputs(params_file, anchor, "")[0] == "wrist_link"
    assert rviz_inputs(params_file, world, "")[0] == "base_link"
    calibration = tmp_path / "rig.yaml"
    calibration.write_text(
        "world_frame: table\ncameras:\n"
        "  cam0: {world_from_cam: {translation: [0, 0, 1], quaternion: [0, 0, 0, 1]}}\n"
    )
    from_file = {**anchor, "calibration.file": str(calibration)}
    assert rviz_inputs(params_file, from_file, "")[0] == "table"
