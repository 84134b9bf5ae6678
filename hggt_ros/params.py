# Copyright 2026 The HGGT-ROS Authors
# SPDX-License-Identifier: Apache-2.0
"""The node's parameters and the one function mapping them onto the core's configuration.

ROS-free on purpose (it imports neither rclpy nor messages), so the mapping and its
validation are tested without a ROS graph, as image_pipeline tests its calibrator core.

* :data:`~hggt_ros.parameter_table.PARAMETERS` declares every parameter: dotted snake_case
  name, default, description, whether it may change at run time, and the allowed choices of
  string parameters.
* :func:`settings_from_parameters` maps a name -> value mapping onto :class:`NodeSettings`
  and raises :class:`ParameterError` naming the parameter for anything invalid; the node
  calls it at start-up (the node then refuses to start) and again for run-time changes
  through :func:`updated_parameters`, which also rejects changes of static parameters.
  The robot side's part (``calibration.*``, the anchor) is in :mod:`hggt_ros.robot_params`.

Camera topics follow image_transport: camera ``name`` reads ``<name>/image_raw`` (relative,
so the node's namespace and remapping apply), ``<topic>/compressed`` with
``cameras.image_transport: compressed``, and ``camera_info`` beside the image topic.
"""

from __future__ import annotations

import dataclasses
import math
import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from hggt_core.assembly.factory import PipelineSpec
from hggt_core.io.output_plan import OutputConfig
from hggt_core.io.ros_markers import MarkerStyle
from hggt_core.pipeline.camera_average import AverageConfig
from hggt_core.pipeline.filters import FilterConfig, OneEuroParams
from hggt_core.pipeline.steady_cameras import SteadyCamerasConfig
from hggt_core.pipeline.sync_types import SyncConfig
from hggt_core.pipeline.tracker import TrackerConfig
from hggt_ros.parameter_table import (
    PARAMETERS_BY_NAME,
    ParameterError,
    ParameterValue,
    checked_value,
    default_parameters,
    require,
)
from hggt_ros.robot_params import (
    Anchor,
    CalibrationSettings,
    anchor_settings,
    calibration_settings,
)

_FILTER = FilterConfig()
_STYLE = MarkerStyle()
_CAMERA_NAME = re.compile(r"^[A-Za-z][A-Za-z0-9_]*$")
_FRAME_ID = re.compile(r"[A-Za-z0-9_/]*")
_DEVICE = re.compile(r"cpu|cuda(:\d+)?|mps|xpu(:\d+)?")


@dataclass(frozen=True)
class CameraSettings:
    """The subscribed cameras.

    Attributes:
        names: camera names, reference first (the synchroniser's view names).
        image_topics: subscribed image topic per camera (``.../compressed`` when compressed).
        info_topics: camera_info topic per camera, or None when not subscribed.
        compressed: subscribe ``sensor_msgs/CompressedImage`` instead of ``Image``.
        reliable: reliable QoS instead of sensor-data (best effort).
        qos_depth: subscription queue depth.
    """

    names: tuple[str, ...]
    image_topics: tuple[str, ...]
    info_topics: tuple[str, ...] | None
    compressed: bool
    reliable: bool
    qos_depth: int


@dataclass(frozen=True)
class FrameSettings:
    """The node's frame policy beyond the output plan (docs/DESIGN.md, decision 7).

    Attributes:
        reference: frame id of the reference camera, or None for its header.frame_id.
        steady: filtering, freezing and movement detection of the estimated cameras; None:
            the raw estimates go on ``/tf`` (neither ``frames.filter_cameras`` nor
            ``frames.fixed_cameras``).
        filter_cameras: publish the filtered estimates of unfrozen cameras on ``/tf`` (else
            the raw ones).
        anchor: the robot frame the reference camera hangs from, or None.
    """

    reference: str | None
    steady: SteadyCamerasConfig | None
    filter_cameras: bool
    anchor: Anchor | None


@dataclass(frozen=True)
class NodeSettings:
    """Everything the node runs with, built by :func:`settings_from_parameters`.

    Attributes:
        cameras: subscriptions.
        pipeline: the predictor to build (its ``temporal_filter`` is off: the node applies
            ``filter`` itself so that it can be switched at run time).
        sync: synchroniser settings.
        poll_period_s: synchroniser poll timer period (s).
        filter: temporal filter, or None when off.
        output: what each frameset publishes (the plan shared with ``hggt bag``); switches
            are read per frameset, so they apply at once.
        min_period_s: least stamp time between processed framesets (s; 0: every one).
        frames: reference frame id, steady camera frames and the anchor.
        calibration: known cameras and the world frame, or None: results stay in the
            reference camera's frame.
        diagnostics_period_s: /diagnostics period (s).
        stale_after_s: silence after which a camera is reported stopped (s).
    """

    cameras: CameraSettings
    pipeline: PipelineSpec
    sync: SyncConfig
    poll_period_s: float
    filter: FilterConfig | None
    output: OutputConfig
    min_period_s: float
    frames: FrameSettings
    calibration: CalibrationSettings | None
    diagnostics_period_s: float
    stale_after_s: float


class _Values:
    """Checked parameter values with typed getters."""

    def __init__(self, values: Mapping[str, ParameterValue]) -> None:
        self._values = values

    def number(self, name: str) -> float:
        value = self._values[name]
        assert isinstance(value, (int, float))  # checked_value guarantees the types
        return float(value)

    def integer(self, name: str) -> int:
        value = self._values[name]
        assert isinstance(value, int)
        return value

    def text(self, name: str) -> str:
        return str(self._values[name])

    def flag(self, name: str) -> bool:
        return bool(self._values[name])

    def texts(self, name: str) -> tuple[str, ...]:
        value = self._values[name]
        assert isinstance(value, tuple)
        return tuple(str(item) for item in value)

    def numbers(self, name: str) -> tuple[float, ...]:
        value = self._values[name]
        assert isinstance(value, tuple)
        return tuple(float(item) for item in value)


def settings_from_parameters(values: Mapping[str, object]) -> NodeSettings:
    """Map parameter values onto the node's settings (the one mapping; see the module doc).

    Args:
        values: name -> value for any subset of :data:`PARAMETERS` (the rest take their
            defaults); string arrays may be lists or tuples, float parameters accept ints.

    Raises:
        ParameterError: an unknown name, a value of the wrong type or out of range, or
            settings that contradict each other; the message names the parameter.
    """
    unknown = sorted(set(values) - set(PARAMETERS_BY_NAME))
    if unknown:
        raise ParameterError(f"unknown parameter(s) {unknown}; see config/hggt.yaml")
    checked = default_parameters()
    checked.update(
        {name: checked_value(PARAMETERS_BY_NAME[name], value) for name, value in values.items()}
    )
    v = _Values(checked)
    cameras = _camera_settings(v)
    return NodeSettings(
        cameras=cameras,
        pipeline=_pipeline_spec(v),
        sync=_sync_config(v, len(cameras.names)),
        poll_period_s=v.number("sync.poll_period_s"),
        filter=_filter_config(v),
        output=_output_config(v),
        min_period_s=_min_period_s(v),
        frames=_frame_settings(v),
        calibration=calibration_settings(
            v.text("calibration.file"),
            _frame_id(v, "calibration.world_frame"),
            v.flag("calibration.from_tf"),
        ),
        diagnostics_period_s=v.number("diagnostics.period_s"),
        stale_after_s=v.number("diagnostics.stale_after_s"),
    )


def updated_parameters(
    current: Mapping[str, ParameterValue], changes: Mapping[str, object]
) -> tuple[dict[str, ParameterValue], NodeSettings]:
    """Apply run-time changes: only dynamic parameters may change, and the result must be valid.

    Args:
        current: the node's current values (all parameters).
        changes: name -> new value.

    Returns:
        The new values (all parameters) and the settings built from them.

    Raises:
        ParameterError: an unknown or static parameter, or an invalid result.
    """
    for name, value in changes.items():
        definition = PARAMETERS_BY_NAME.get(name)
        if definition is None:
            raise ParameterError(f"unknown parameter {name!r}")
        if not definition.dynamic and value != current.get(name):
            raise ParameterError(
                f"parameter {name!r} can only be set at start-up (restart the node to change it)"
            )
    merged: dict[str, object] = {**current, **changes}
    settings = settings_from_parameters(merged)
    return {
        name: checked_value(PARAMETERS_BY_NAME[name], x) for name, x in merged.items()
    }, settings


def camera_info_topic(image_topic: str) -> str:
    """The camera_info topic beside an image topic (``/a/image_raw`` -> ``/a/camera_info``)."""
    namespace, _, _ = image_topic.rstrip("/").rpartition("/")
    if image_topic.startswith("/") and not namespace:
        return "/camera_info"
    return f"{namespace}/camera_info" if namespace else "camera_info"


def _camera_settings(v: _Values) -> CameraSettings:
    names = v.texts("cameras.names")
    require(len(names) > 0, "cameras.names", "a non-empty list", list(names))
    for name in names:
        pattern_ok = bool(_CAMERA_NAME.fullmatch(name))
        require(pattern_ok, "cameras.names", "letters, digits and '_' (letter first)", name)
    require(len(set(names)) == len(names), "cameras.names", "unique", list(names))
    topics = v.texts("cameras.topics") or tuple(f"{name}/image_raw" for name in names)
    count_ok = len(topics) == len(names) and all(topics)
    require(count_ok, "cameras.topics", f"empty or {len(names)} topic(s)", list(topics))
    compressed = v.text("cameras.image_transport") == "compressed"
    info_topics = None
    if v.flag("cameras.use_camera_info"):
        info_topics = tuple(camera_info_topic(topic) for topic in topics)
    return CameraSettings(
        names=names,
        image_topics=tuple(f"{topic}/compressed" if compressed else topic for topic in topics),
        info_topics=info_topics,
        compressed=compressed,
        reliable=v.text("cameras.qos") == "reliable",
        qos_depth=v.integer("cameras.qos_depth"),
    )


def _sync_config(v: _Values, camera_count: int) -> SyncConfig:
    min_cameras = v.integer("sync.min_cameras")
    require(
        min_cameras <= camera_count,
        "sync.min_cameras",
        f"<= {camera_count} (cameras)",
        min_cameras,
    )
    return SyncConfig(
        slop_s=v.number("sync.slop_s"),
        max_wait_s=v.number("sync.max_wait_s"),
        min_cameras=min_cameras,
        queue_size=v.integer("sync.queue_size"),
    )


def _pipeline_spec(v: _Values) -> PipelineSpec:
    checkpoint, mano_dir = v.text("model.checkpoint"), v.text("model.mano_dir")
    checkpoint_ok = not checkpoint or Path(checkpoint).expanduser().is_file()
    require(checkpoint_ok, "model.checkpoint", "an existing file (or empty)", checkpoint)
    mano_ok = not mano_dir or Path(mano_dir).expanduser().is_dir()
    require(mano_ok, "model.mano_dir", "an existing folder (or empty)", mano_dir)
    crop_size = v.integer("model.crop_size")
    require(crop_size % 14 == 0, "model.crop_size", "0 or a multiple of 14", crop_size)
    device, precision = v.text("engine.device"), v.text("engine.precision")
    require(
        bool(_DEVICE.fullmatch(device)), "engine.device", "cpu, cuda[:N], mps, xpu[:N]", device
    )
    cuda_ok = precision == "fp32" or device.startswith("cuda")
    require(cuda_ok, "engine.precision", "fp32 unless engine.device is CUDA", precision)
    landmark_model = v.text("engine.landmark_model")
    landmark_ok = not landmark_model or Path(landmark_model).expanduser().is_file()
    require(landmark_ok, "engine.landmark_model", "an existing file (or empty)", landmark_model)
    return PipelineSpec(
        checkpoint=Path(checkpoint).expanduser() if checkpoint else None,
        mano_dir=Path(mano_dir).expanduser() if mano_dir else None,
        engine=v.text("engine.kind"),
        device=device,
        precision=precision,
        localiser=v.text("localiser.mode"),
        side="left" if v.text("localiser.side") == "left" else "right",
        crop_size=crop_size or None,
        box_scale=v.number("localiser.box_scale") or None,
        min_hand_views=v.integer("localiser.min_hand_views"),
        fingertips=v.text("model.fingertips"),
        temporal_filter=False,
        use_known_intrinsics=v.flag("cameras.use_camera_info"),
        landmark_model=Path(landmark_model).expanduser() if landmark_model else None,
        fov_deg=v.number("engine.fov_deg"),
        max_hands=v.integer("engine.max_hands"),
        tracker=_tracker_config(v),
    )


def _tracker_config(v: _Values) -> TrackerConfig:
    min_ratio = v.number("tracker.min_size_ratio")
    max_ratio = v.number("tracker.max_size_ratio")
    decay = v.number("tracker.score_decay")
    require(min_ratio < 1.0, "tracker.min_size_ratio", "< 1", min_ratio)
    max_ok = max_ratio == 0.0 or max_ratio > 1.0
    require(max_ok, "tracker.max_size_ratio", "0 (off) or > 1", max_ratio)
    require(decay <= 1.0, "tracker.score_decay", "<= 1", decay)
    return TrackerConfig(
        min_size_ratio=min_ratio,
        max_size_ratio=max_ratio,
        max_jump=v.number("tracker.max_jump"),
        score_decay=decay,
        min_score=v.number("tracker.min_score"),
    )


def _filter_config(v: _Values) -> FilterConfig | None:
    if not v.flag("filter.enabled"):
        return None
    return FilterConfig(
        position=OneEuroParams(
            min_cutoff_hz=v.number("filter.position_min_cutoff_hz"),
            beta=v.number("filter.position_beta"),
            d_cutoff_hz=_FILTER.position.d_cutoff_hz,
        ),
        rotation=OneEuroParams(
            min_cutoff_hz=v.number("filter.rotation_min_cutoff_hz"),
            beta=v.number("filter.rotation_beta"),
            d_cutoff_hz=_FILTER.rotation.d_cutoff_hz,
        ),
        shape=_FILTER.shape,
        lost_timeout_s=v.number("filter.lost_timeout_s"),
    )


def _min_period_s(v: _Values) -> float:
    rate_hz = v.number("publish.max_rate_hz")
    return 1.0 / rate_hz if rate_hz > 0 else 0.0


def _output_config(v: _Values) -> OutputConfig:
    for name in ("frames.camera_prefix", "frames.hand_prefix"):
        frame_ok = bool(_FRAME_ID.fullmatch(v.text(name)))
        require(frame_ok, name, "letters, digits, '_' and '/'", v.text(name))
    camera_prefix = v.text("frames.camera_prefix")
    require(
        bool(camera_prefix),
        "frames.camera_prefix",
        "non-empty (never replace calibrated frames)",
        "",
    )
    style = dataclasses.replace(
        _STYLE,
        lifetime_s=v.number("publish.marker_lifetime_s"),
        cameras=v.flag("publish.camera_frusta"),
    )
    return OutputConfig(
        mano=v.flag("publish.mano"),
        joints=v.flag("publish.joints"),
        markers=style if v.flag("publish.markers") else None,
        tf=v.flag("publish.tf"),
        camera_prefix=camera_prefix,
        hand_frame_prefix=v.text("frames.hand_prefix") if v.flag("publish.hand_frames") else None,
        all_hand_joints=v.flag("publish.all_hand_joints"),
    )


def _frame_settings(v: _Values) -> FrameSettings:
    reference = _frame_id(v, "frames.reference")
    filter_cameras, freeze = v.flag("frames.filter_cameras"), v.flag("frames.fixed_cameras")
    move_deg = v.number("frames.move_rotation_deg")
    require(move_deg <= 180.0, "frames.move_rotation_deg", "<= 180", move_deg)
    steady = None
    if filter_cameras or freeze:
        average = AverageConfig(
            window=v.integer("frames.static_window"),
            max_translation_spread_m=v.number("frames.static_max_translation_m"),
            max_rotation_spread_rad=math.radians(v.number("frames.static_max_rotation_deg")),
        )
        steady = SteadyCamerasConfig(
            average=average,
            freeze=freeze,
            move_translation_m=v.number("frames.move_translation_m"),
            move_rotation_deg=move_deg,
            move_framesets=v.integer("frames.move_framesets"),
        )
    anchor = anchor_settings(_frame_id(v, "frames.anchor_frame"), v.numbers("frames.anchor_pose"))
    return FrameSettings(reference or None, steady, filter_cameras, anchor)


def _frame_id(v: _Values, name: str) -> str:
    frame = v.text(name)
    require(bool(_FRAME_ID.fullmatch(frame)), name, "letters, digits, '_' and '/'", frame)
    return frame
