# Copyright 2026 The HGGT-ROS Authors
# SPDX-License-Identifier: Apache-2.0
"""The node's parameter table and its mapping onto the core's settings (no ROS needed)."""

from __future__ import annotations

import math
import re
from pathlib import Path

import pytest
from ruamel.yaml import YAML

from hggt_core.assembly.factory import PipelineSpec
from hggt_core.io.ros_markers import MarkerStyle
from hggt_core.pipeline.filters import FilterConfig
from hggt_core.pipeline.steady_cameras import SteadyCamerasConfig
from hggt_core.pipeline.sync_types import SyncConfig
from hggt_core.pipeline.tracker import TrackerConfig
from hggt_ros.parameter_table import PARAMETERS, ParameterError, default_parameters
from hggt_ros.params import camera_info_topic, settings_from_parameters, updated_parameters
from hggt_ros.robot_params import CalibrationSettings

REPO = Path(__file__).resolve().parents[2]


def test_every_parameter_is_named_described_and_unique() -> None:
    names = [definition.name for definition in PARAMETERS]
    assert len(set(names)) == len(names)
    for definition in PARAMETERS:
        assert re.fullmatch(r"[a-z]+(\.[a-z0-9_]+)+", definition.name), definition.name
        assert len(definition.description) > 10, definition.name
        if definition.choices:
            assert definition.default in definition.choices, definition.name
    assert {name.split(".")[0] for name in names} == {
        "cameras", "model", "engine", "localiser", "tracker", "sync", "filter", "publish",
        "frames", "calibration", "diagnostics",
    }  # fmt: skip


def test_defaults_map_onto_the_core_defaults() -> None:
    settings = settings_from_parameters({})
    expected_spec = PipelineSpec(temporal_filter=False, use_known_intrinsics=True)
    assert settings.pipeline == expected_spec
    assert settings.sync == SyncConfig()
    assert settings.filter is None
    assert settings.output.markers == MarkerStyle()
    assert settings.min_period_s == 0.0
    assert settings.cameras.names == ("cam0",)
    assert settings.cameras.image_topics == ("cam0/image_raw",)
    assert settings.cameras.info_topics == ("cam0/camera_info",)
    assert not settings.cameras.reliable and not settings.cameras.compressed
    assert settings.frames.reference is None
    assert settings.output.camera_prefix == "hggt/"
    assert settings.frames.steady == SteadyCamerasConfig()  # filtered, not frozen
    assert settings.frames.filter_cameras and settings.frames.anchor is None
    assert settings.calibration is None


def test_values_map_onto_pipeline_sync_and_publish_settings(tmp_path: Path) -> None:
    checkpoint = tmp_path / "w.safetensors"
    checkpoint.write_bytes(b"")
    settings = settings_from_parameters(
        {
            "cameras.names": ["left_cam", "right_cam"],
            "cameras.topics": ["/rig/left/image", "/rig/right/image"],
            "cameras.image_transport": "compressed",
            "cameras.use_camera_info": False,
            "cameras.qos": "reliable",
            "model.checkpoint": str(checkpoint),
            "model.crop_size": 112,
            "engine.device": "cuda:1",
            "engine.precision": "bf16",
            "localiser.mode": "tracker",
            "localiser.side": "left",
            "localiser.box_scale": 1.5,
            "sync.slop_s": 0,  # an int for a float parameter is fine
            "sync.max_wait_s": 0.25,
            "sync.min_cameras": 2,
            "publish.max_rate_hz": 4.0,
            "publish.marker_lifetime_s": 2.0,
            "publish.camera_frusta": False,
            "frames.reference": "rig/left_optical",
            "frames.fixed_cameras": True,
            "frames.static_window": 10,
            "frames.static_max_rotation_deg": 1.0,
        }
    )
    spec = settings.pipeline
    assert (spec.checkpoint, spec.crop_size, spec.device, spec.precision) == (
        checkpoint, 112, "cuda:1", "bf16"
    )  # fmt: skip
    assert (spec.localiser, spec.side, spec.box_scale, spec.use_known_intrinsics) == (
        "tracker", "left", 1.5, False
    )  # fmt: skip
    assert settings.sync == SyncConfig(slop_s=0.0, max_wait_s=0.25, min_cameras=2)
    assert settings.cameras.image_topics == ("/rig/left/image/compressed",
                                             "/rig/right/image/compressed")  # fmt: skip
    assert settings.cameras.info_topics is None
    assert settings.cameras.reliable
    assert settings.min_period_s == pytest.approx(0.25)
    assert settings.output.markers is not None
    assert settings.output.markers.lifetime_s == 2.0
    assert not settings.output.markers.cameras
    assert settings.frames.reference == "rig/left_optical"
    steady = settings.frames.steady
    assert steady is not None and steady.freeze and steady.average.window == 10
    assert steady.average.max_rotation_spread_rad == pytest.approx(math.radians(1.0))


def test_landmark_parameters_reach_the_pipeline_spec(tmp_path: Path) -> None:
    model = tmp_path / "hand_landmarker.task"
    model.write_bytes(b"")
    settings = settings_from_parameters(
        {
            "engine.kind": "landmarks",
            "engine.landmark_model": str(model),
            "engine.fov_deg": 75.0,
            "engine.max_hands": 1,
        }
    )
    spec = settings.pipeline
    assert (spec.engine, spec.landmark_model, spec.fov_deg, spec.max_hands) == (
        "landmarks", model, 75.0, 1
    )  # fmt: skip


def test_filter_parameters_build_the_filter_config() -> None:
    settings = settings_from_parameters(
        {"filter.enabled": True, "filter.position_beta": 3.0, "filter.lost_timeout_s": 2.0}
    )
    assert settings.filter is not None
    assert settings.filter.position.beta == 3.0
    assert settings.filter.position.min_cutoff_hz == FilterConfig().position.min_cutoff_hz
    assert settings.filter.rotation == FilterConfig().rotation
    assert settings.filter.lost_timeout_s == 2.0


def test_tracker_parameters_build_the_re_detection_policy() -> None:
    values = {
        "localiser.mode": "tracker",
        "tracker.min_size_ratio": 0.5,
        "tracker.max_size_ratio": 0.0,
        "tracker.max_jump": 0.25,
        "tracker.score_decay": 0.98,
        "tracker.min_score": 0.5,
    }
    tracker = settings_from_parameters(values).pipeline.tracker
    assert tracker == TrackerConfig(
        min_size_ratio=0.5, max_size_ratio=0.0, max_jump=0.25, score_decay=0.98, min_score=0.5
    )
    assert settings_from_parameters({}).pipeline.tracker == TrackerConfig()


@pytest.mark.parametrize(
    ("topic", "info"),
    [("cam0/image_raw", "cam0/camera_info"), ("/a/b/image", "/a/b/camera_info"),
     ("/image", "/camera_info"), ("image", "camera_info")],
)  # fmt: skip
def test_camera_info_topic_sits_beside_the_image_topic(topic: str, info: str) -> None:
    assert camera_info_topic(topic) == info


@pytest.mark.parametrize(
    ("values", "message"),
    [
        ({"sync.slop_s": -0.1}, "'sync.slop_s' must be >= 0"),
        ({"sync.slop_s": math.nan}, "'sync.slop_s' must be a finite float"),
        ({"sync.slop_s": "fast"}, "'sync.slop_s' must be a finite float"),
        ({"sync.min_cameras": 2}, "'sync.min_cameras' must be <= 1"),
        ({"sync.queue_size": 0}, "'sync.queue_size' must be >= 1"),
        ({"sync.poll_period_s": 0.0}, "'sync.poll_period_s' must be > 0"),
        ({"cameras.names": []}, "'cameras.names' must be a non-empty list"),
        ({"cameras.names": ["a", "a"]}, "'cameras.names' must be unique"),
        ({"cameras.names": ["cam-0"]}, "'cameras.names' must be letters"),
        ({"cameras.topics": ["/x", "/y"]}, "'cameras.topics' must be empty or 1 topic"),
        ({"cameras.image_transport": "theora"}, "'cameras.image_transport' must be one of"),
        ({"cameras.qos_depth": True}, "'cameras.qos_depth' must be a finite int"),
        ({"model.crop_size": 100}, "'model.crop_size' must be 0 or a multiple of 14"),
        ({"model.checkpoint": "/nonexistent/w.pt"}, "'model.checkpoint' must be an existing"),
        ({"model.mano_dir": "/nonexistent"}, "'model.mano_dir' must be an existing folder"),
        ({"engine.kind": "tensorflow"}, "'engine.kind' must be one of ['auto'"),
        ({"engine.device": "gpu0"}, "'engine.device' must be cpu, cuda"),
        ({"engine.max_hands": 0}, "'engine.max_hands' must be >= 1"),
        ({"engine.precision": "fp16"}, "'engine.precision' must be fp32 unless"),
        ({"localiser.mode": "boxes"}, "'localiser.mode' must be one of"),
        ({"tracker.min_size_ratio": 1.0}, "'tracker.min_size_ratio' must be < 1"),
        ({"tracker.max_size_ratio": 0.9}, "'tracker.max_size_ratio' must be 0 (off) or > 1"),
        ({"tracker.max_jump": -0.1}, "'tracker.max_jump' must be >= 0"),
        ({"tracker.score_decay": 0.0}, "'tracker.score_decay' must be > 0"),
        ({"tracker.score_decay": 1.5}, "'tracker.score_decay' must be <= 1"),
        ({"filter.enabled": True, "filter.position_min_cutoff_hz": 0.0},
         "'filter.position_min_cutoff_hz' must be > 0"),
        ({"publish.max_rate_hz": -1.0}, "'publish.max_rate_hz' must be >= 0"),
        ({"frames.camera_prefix": ""}, "'frames.camera_prefix' must be non-empty"),
        ({"frames.reference": "a b"}, "'frames.reference' must be letters, digits"),
        ({"frames.static_window": 0}, "'frames.static_window' must be >= 1"),
        ({"frames.move_framesets": 0}, "'frames.move_framesets' must be >= 1"),
        ({"frames.move_rotation_deg": 200.0}, "'frames.move_rotation_deg' must be <= 180"),
        ({"frames.move_translation_m": 0.0}, "'frames.move_translation_m' must be > 0"),
        ({"frames.anchor_pose": [0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 1.0]},
         "'frames.anchor_frame' must be set when frames.anchor_pose is"),
        ({"frames.anchor_frame": "base", "frames.anchor_pose": [0.0, 0.0, 1.0]},
         "'frames.anchor_pose' must be [] or [x, y, z, qx, qy, qz, qw]"),
        ({"frames.anchor_frame": "base", "frames.anchor_pose": [0, 0, 0, 0, 0, 0, 2]},
         "'frames.anchor_pose': quaternion must have unit length"),
        ({"frames.anchor_pose": ["a"]}, "'frames.anchor_pose' must be a finite float_array"),
        ({"frames.anchor_pose": [math.inf]}, "'frames.anchor_pose' must be a finite"),
        ({"frames.anchor_frame": "robot base"}, "'frames.anchor_frame' must be letters"),
        ({"calibration.world_frame": "world", "calibration.from_tf": False},
         "'calibration.world_frame' must be used with calibration.file or calibration.from_tf"),
        ({"calibration.file": "/nonexistent/rig.yaml"},
         "parameter 'calibration.file': calibration /nonexistent/rig.yaml: no such file"),
        ({"no.such": 1}, "unknown parameter"),
    ],
)  # fmt: skip
def test_invalid_values_are_rejected_naming_the_parameter(
    values: dict[str, object], message: str
) -> None:
    with pytest.raises(ParameterError) as raised:
        settings_from_parameters(values)
    assert message in str(raised.value)


def test_dynamic_parameters_change_and_static_ones_are_refused() -> None:
    current = default_parameters()
    values, settings = updated_parameters(
        current, {"sync.slop_s": 0.03, "filter.enabled": True, "publish.max_rate_hz": 10}
    )
    assert values["sync.slop_s"] == 0.03 and values["publish.max_rate_hz"] == 10.0
    assert settings.sync.slop_s == 0.03
    assert settings.filter == FilterConfig()
    assert settings.min_period_s == pytest.approx(0.1)
    assert current["sync.slop_s"] == SyncConfig().slop_s  # the input is not modified
    with pytest.raises(ParameterError, match=r"'engine\.device' can only be set at start-up"):
        updated_parameters(values, {"engine.device": "cuda"})
    with pytest.raises(ParameterError, match=r"'sync\.max_wait_s' must be >= 0"):
        updated_parameters(values, {"sync.max_wait_s": -1.0})
    unchanged, _ = updated_parameters(values, {"engine.device": "cpu"})  # same value: fine
    assert unchanged == values


def test_config_file_lists_every_parameter_with_its_default() -> None:
    document = YAML(typ="safe").load((REPO / "config" / "hggt.yaml").read_text())
    parameters = document["/**"]["ros__parameters"]

    def flatten(tree: dict[str, object], prefix: str = "") -> dict[str, object]:
        flat: dict[str, object] = {}
        for key, value in tree.items():
            if isinstance(value, dict):
                flat.update(flatten(value, f"{prefix}{key}."))
            else:
                flat[f"{prefix}{key}"] = tuple(value) if isinstance(value, list) else value
        return flat

    flat = flatten(parameters)
    defaults = default_parameters()
    assert sorted(flat) == sorted(defaults)
    for name, value in flat.items():
        assert value == defaults[name] and type(value) is type(defaults[name]), name
    settings_from_parameters(flat)


def test_steady_frame_parameters_build_the_steady_cameras_config() -> None:
    frames = settings_from_parameters(
        {
            "frames.filter_cameras": False,
            "frames.fixed_cameras": True,
            "frames.move_translation_m": 0.05,
            "frames.move_rotation_deg": 4,
            "frames.move_framesets": 3,
        }
    ).frames
    assert frames.steady is not None and not frames.filter_cameras
    assert (frames.steady.freeze, frames.steady.move_translation_m) == (True, 0.05)
    assert (frames.steady.move_rotation_deg, frames.steady.move_framesets) == (4.0, 3)
    off = settings_from_parameters({"frames.filter_cameras": False}).frames
    assert off.steady is None  # neither filtered nor frozen: the raw estimates


def test_anchor_parameters_build_the_anchor() -> None:
    pose = [0.1, -0.2, 0.5, 0, 0, 0, 1]  # integers are fine (a YAML list of ints)
    anchor = settings_from_parameters(
        {"frames.anchor_frame": "base_link", "frames.anchor_pose": pose}
    ).frames.anchor
    assert anchor is not None and anchor.frame == "base_link"
    assert anchor.translation == (0.1, -0.2, 0.5)
    assert anchor.quaternion_xyzw == (0.0, 0.0, 0.0, 1.0)
    loose = settings_from_parameters({"frames.anchor_frame": "base_link"}).frames.anchor
    assert loose is not None and loose.translation is None and loose.quaternion_xyzw is None


def _calibration_file(tmp_path: Path, world: str = "base_link") -> Path:
    path = tmp_path / "rig.yaml"
    path.write_text(
        f"world_frame: {world}\ncameras:\n"
        "  cam0: {world_from_cam: {translation: [0, 0, 1], quaternion: [0, 0, 0, 1]}}\n"
        "  cam1_optical: {world_from_cam: {translation: [0.5, 0, 1], quaternion: [0, 0, 0, 1]}}\n"
    )
    return path


def test_calibration_parameters_pick_the_world_frame_and_sources(tmp_path: Path) -> None:
    path = _calibration_file(tmp_path)
    from_file = settings_from_parameters({"calibration.file": str(path)}).calibration
    assert from_file is not None and from_file.world_frame == "base_link"
    assert from_file.calibration is not None
    assert sorted(from_file.calibration.cameras) == ["cam0", "cam1_optical"]
    assert from_file.from_tf  # TF may add cameras the file does not know
    same = settings_from_parameters(
        {"calibration.file": str(path), "calibration.world_frame": "base_link"}
    ).calibration
    assert same is not None and same.world_frame == "base_link"
    with pytest.raises(ParameterError, match=r"'calibration\.world_frame' must be empty or "):
        settings_from_parameters({"calibration.file": str(path), "calibration.world_frame": "map"})
    from_tf = settings_from_parameters({"calibration.world_frame": "/world"}).calibration
    assert from_tf == CalibrationSettings("world", None, True)  # tf2 ids: no leading "/"
    assert settings_from_parameters({"calibration.from_tf": False}).calibration is None
    broken = tmp_path / "broken.yaml"
    broken.write_text("cameras: {}\n")
    with pytest.raises(ParameterError, match=r"'calibration\.file': calibration .*world_frame"):
        settings_from_parameters({"calibration.file": str(broken)})
