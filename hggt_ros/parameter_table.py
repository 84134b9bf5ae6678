# Copyright 2026 The HGGT-ROS Authors
# SPDX-License-Identifier: Apache-2.0
"""Every parameter of the node: name, default, description, run-time changeability, limits.

ROS-free (see :mod:`hggt_ros.params`, which maps the values onto the core's configuration).
Defaults are read from the core's dataclasses (:class:`~hggt_core.assembly.factory.PipelineSpec`,
:class:`~hggt_core.pipeline.sync_types.SyncConfig`,
:class:`~hggt_core.pipeline.filters.FilterConfig`,
:class:`~hggt_core.pipeline.tracker.TrackerConfig`,
:class:`~hggt_core.pipeline.steady_cameras.SteadyCamerasConfig`,
:class:`~hggt_core.io.ros_markers.MarkerStyle`) so there is one source of truth.
"""

from __future__ import annotations

import array
import math
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Literal, TypeAlias

from hggt_core.assembly.factory import ENGINE_NAMES, PipelineSpec
from hggt_core.assembly.localisers import LOCALISER_NAMES
from hggt_core.base.hand_skeleton import FingertipConvention
from hggt_core.engine.registry import PRECISIONS
from hggt_core.io.ros_markers import MarkerStyle
from hggt_core.pipeline.camera_average import AverageConfig
from hggt_core.pipeline.filters import FilterConfig
from hggt_core.pipeline.steady_cameras import SteadyCamerasConfig
from hggt_core.pipeline.sync_types import SyncConfig
from hggt_core.pipeline.tracker import TrackerConfig

ParameterValue: TypeAlias = bool | int | float | str | tuple[str, ...] | tuple[float, ...]
"""A parameter value as the node holds it (string and double arrays as tuples)."""
ParameterKind: TypeAlias = Literal["bool", "int", "float", "string", "string_array", "float_array"]
"""The ROS type of a parameter (float: double)."""

_SPEC = PipelineSpec()
_SYNC = SyncConfig()
_FILTER = FilterConfig()
_STYLE = MarkerStyle()
_AVERAGE = AverageConfig()
_TRACKER = TrackerConfig()
_STEADY = SteadyCamerasConfig()
# "boxes" needs boxes given by a caller, which a node never has.
NODE_LOCALISERS = tuple(name for name in LOCALISER_NAMES if name != "boxes")
"""Hand localisers the node offers (``localiser.mode``)."""


class ParameterError(ValueError):
    """A parameter value is invalid; the message names the parameter and what is allowed."""


def require(ok: bool, name: str, requirement: str, value: object) -> None:
    """Raise a :class:`ParameterError` naming ``name`` unless ``ok``."""
    if not ok:
        raise ParameterError(f"parameter {name!r} must be {requirement}, got {value!r}")


@dataclass(frozen=True)
class ParameterDefinition:
    """One declared parameter.

    Attributes:
        name: dotted snake_case name, e.g. ``sync.slop_s``.
        default: default value; its type is the parameter's type.
        description: one line for ``ros2 param describe``.
        dynamic: may change while the node runs.
        choices: allowed values of a string parameter (empty: any).
        at_least: inclusive lower bound of a number, or None.
        above: exclusive lower bound of a number, or None.
        double_array: a tuple default is a double array, not a string array (an empty
            default does not tell).
    """

    name: str
    default: ParameterValue
    description: str
    dynamic: bool = False
    choices: tuple[str, ...] = ()
    at_least: float | None = None
    above: float | None = None
    double_array: bool = False

    @property
    def kind(self) -> ParameterKind:
        """The ROS parameter type: bool, int, float (double), string, string or float array."""
        default = self.default
        if isinstance(default, bool):
            return "bool"
        if isinstance(default, int):
            return "int"
        if isinstance(default, float):
            return "float"
        if isinstance(default, str):
            return "string"
        return "float_array" if self.double_array else "string_array"


def _p(
    name: str,
    default: ParameterValue,
    description: str,
    *choices: str,
    dynamic: bool = False,
    at_least: float | None = None,
    above: float | None = None,
    double_array: bool = False,
) -> ParameterDefinition:
    return ParameterDefinition(
        name, default, description, dynamic, choices, at_least, above, double_array
    )


# fmt: off
PARAMETERS: tuple[ParameterDefinition, ...] = (
    _p("cameras.names", ("cam0",), "Camera names, reference camera first; camera NAME reads "
       "NAME/image_raw unless cameras.topics is set (remap it to your topic)."),
    _p("cameras.topics", (), "Image topics, one per camera name; empty: NAME/image_raw."),
    _p("cameras.image_transport", "raw", "raw: sensor_msgs/Image on the topic; compressed: "
       "sensor_msgs/CompressedImage on TOPIC/compressed.", "raw", "compressed"),
    _p("cameras.use_camera_info", True, "Subscribe to camera_info beside each image topic and "
       "correct the estimate to the known intrinsics (HGGT; the landmark engine solves with "
       "them)."),
    _p("cameras.qos", "sensor_data", "Image subscription QoS: sensor_data (best effort) or "
       "reliable.", "sensor_data", "reliable"),
    _p("cameras.qos_depth", 5, "Image subscription queue depth (keep last).", at_least=1),
    _p("model.checkpoint", "", "HGGT weights (.pt/.pth/.safetensors); empty: engine.kind auto "
       "runs the landmark engine, torch the bundled demo model."),
    _p("model.mano_dir", "", "Folder with MANO_RIGHT.pkl and MANO_LEFT.pkl; empty: the "
       "procedural stand-in hand."),
    _p("model.crop_size", 0, "Model input side in pixels, a multiple of 14; 0: the network's.",
       at_least=0),
    _p("model.fingertips", _SPEC.fingertips, "Fingertip vertex convention.",
       *(c.value for c in FingertipConvention)),
    _p("engine.kind", _SPEC.engine, "auto: torch (HGGT) when model.checkpoint is set, else "
       "landmarks (MediaPipe landmarks, cameras from the hand, MANO fit; any CPU).",
       *ENGINE_NAMES),
    _p("engine.landmark_model", "", "Landmarks: the hand_landmarker .task file; empty: the one "
       "the set-up step built in the cache folder."),
    _p("engine.fov_deg", _SPEC.fov_deg, "Landmarks: horizontal field of view of cameras "
       "without camera_info (degrees).", above=0),
    _p("engine.max_hands", _SPEC.max_hands, "Landmarks: most hands per image; 1 (one-hand "
       "teleoperation) skips palm detection while the hand is tracked, about twice as fast.",
       at_least=1),
    _p("engine.device", _SPEC.device, "Torch device: cpu, cuda, cuda:N, mps or xpu:N."),
    _p("engine.precision", _SPEC.precision, "Backbone weight precision (bf16 and fp16 need "
       "CUDA).", *PRECISIONS),
    _p("localiser.mode", _SPEC.localiser, "Hand localisation: crop (every image is a hand crop), "
       "tracker (reprojection tracker over MediaPipe) or mediapipe.", *NODE_LOCALISERS),
    _p("localiser.side", _SPEC.side, "Hand side assumed by crop mode.", "right", "left"),
    _p("localiser.box_scale", 0.0, "Crop side / hand box side; 0: the mode's default.",
       at_least=0),
    _p("localiser.min_hand_views", _SPEC.min_hand_views, "Hands seen in fewer views are "
       "skipped.",
       at_least=1),
    _p("tracker.min_size_ratio", _TRACKER.min_size_ratio, "localiser.mode tracker: detect a view "
       "again when its box shrinks below this times its size after the last detection, in "
       "[0, 1) (0: off).", at_least=0),
    _p("tracker.max_size_ratio", _TRACKER.max_size_ratio, "Tracker: detect a view again when "
       "its box grows above this times its size after the last detection, > 1 (0: off).",
       at_least=0),
    _p("tracker.max_jump", _TRACKER.max_jump, "Tracker: detect a view again when its box "
       "centre moves more than this times the box side in one frameset (0: off).", at_least=0),
    _p("tracker.score_decay", _TRACKER.score_decay, "Tracker: a tracked hand's score is "
       "multiplied by this per frameset, in (0, 1] (1: kept).", above=0),
    _p("tracker.min_score", _TRACKER.min_score, "Tracker: detect a hand again when its "
       "(decayed) score falls below this (0: never).", at_least=0),
    _p("sync.slop_s", _SYNC.slop_s, "Largest stamp spread inside one frameset (s).",
       dynamic=True, at_least=0),
    _p("sync.max_wait_s", _SYNC.max_wait_s, "Wait for missing cameras before a frameset goes "
       "out with the cameras present (s).", dynamic=True, at_least=0),
    _p("sync.min_cameras", _SYNC.min_cameras, "Fewest cameras an incomplete frameset needs.",
       dynamic=True, at_least=1),
    _p("sync.queue_size", _SYNC.queue_size, "Images buffered per camera.", dynamic=True,
       at_least=1),
    _p("sync.poll_period_s", 0.01, "Period of the timer releasing framesets whose wait ran out "
       "(s), so a stopped camera never stalls the node.", above=0),
    _p("filter.enabled", _SPEC.temporal_filter, "One-Euro smoothing of the results "
       "(teleoperation).", dynamic=True),
    _p("filter.position_min_cutoff_hz", _FILTER.position.min_cutoff_hz, "Cutoff at rest of "
       "joints, vertices and translation (Hz).", dynamic=True, above=0),
    _p("filter.position_beta", _FILTER.position.beta, "Cutoff increase per m/s of joints, "
       "vertices and translation.", dynamic=True, at_least=0),
    _p("filter.rotation_min_cutoff_hz", _FILTER.rotation.min_cutoff_hz, "Cutoff at rest of "
       "rotations (Hz).", dynamic=True, above=0),
    _p("filter.rotation_beta", _FILTER.rotation.beta, "Cutoff increase per rad/s of "
       "rotations.", dynamic=True, at_least=0),
    _p("filter.lost_timeout_s", _FILTER.lost_timeout_s, "A hand unseen this long restarts its "
       "filters (s).", dynamic=True, above=0),
    _p("publish.mano", True, "Publish /hand/mano (sensor_msgs/JointState).", dynamic=True),
    _p("publish.joints", True, "Publish /hand/<side>/joints (geometry_msgs/PoseArray).",
       dynamic=True),
    _p("publish.markers", True, "Publish /hand/markers (visualization_msgs/MarkerArray).",
       dynamic=True),
    _p("publish.camera_frusta", _STYLE.cameras, "Draw the estimated cameras in /hand/markers.",
       dynamic=True),
    _p("publish.marker_lifetime_s", _STYLE.lifetime_s, "Marker lifetime, so a hand that "
       "disappears vanishes from RViz (s; 0: forever).", dynamic=True, at_least=0),
    _p("publish.tf", True, "Publish the estimated cameras (and hand frames) on /tf.",
       dynamic=True),
    _p("publish.hand_frames", False, "Also publish hand frames PREFIX<side>_wrist on /tf "
       "(PREFIX = frames.hand_prefix).", dynamic=True),
    _p("publish.all_hand_joints", False, "With publish.hand_frames, all 21 joint frames.",
       dynamic=True),
    _p("publish.max_rate_hz", 0.0, "Most framesets processed per second (stamp time); 0: no "
       "limit.", dynamic=True, at_least=0),
    _p("frames.reference", "", "Frame id of the reference (first) camera's optical frame; "
       "empty: its images' header.frame_id."),
    _p("frames.camera_prefix", "hggt/", "Estimated cameras are published as "
       "PREFIX<camera frame_id>, so they never fight a calibrated TF tree."),
    _p("frames.hand_prefix", "hggt/", "Prefix of the hand frames."),
    _p("frames.filter_cameras", True, "Smooth the estimated cameras on /tf over time "
       "(One-Euro filter, rotation-aware); false: the raw per-frameset estimates."),
    _p("frames.fixed_cameras", False, "The cameras do not move: once the estimate has "
       "converged, publish it on /tf_static (averaged over frames.static_window); a camera "
       "that moves (frames.move_*) or ~/reset_cameras re-estimates it."),
    _p("frames.static_window", _AVERAGE.window, "Estimates averaged for /tf_static.",
       at_least=1),
    _p("frames.static_max_translation_m", _AVERAGE.max_translation_spread_m, "Convergence: "
       "largest distance of an estimate from the mean (m).", at_least=0),
    _p("frames.static_max_rotation_deg", round(math.degrees(_AVERAGE.max_rotation_spread_rad), 9),
       "Convergence: largest angle of an estimate from the mean (degrees).", at_least=0),
    _p("frames.move_translation_m", _STEADY.move_translation_m, "Movement: a fixed camera's "
       "estimate this far from its /tf_static pose counts as moved (m).", above=0),
    _p("frames.move_rotation_deg", _STEADY.move_rotation_deg, "Movement: one turned this far "
       "from it counts as moved (degrees, <= 180).", above=0),
    _p("frames.move_framesets", _STEADY.move_framesets, "Movement: this many moved estimates "
       "in a row re-estimate the camera and re-publish it.", at_least=1),
    _p("frames.anchor_frame", "", "Robot frame the reference camera hangs from (RViz's fixed "
       "frame without a world frame); empty: none."),
    _p("frames.anchor_pose", (), "[] or [x, y, z, qx, qy, qz, qw]: the reference camera's "
       "optical frame in frames.anchor_frame (m), published on /tf_static; []: your TF "
       "connects them.", double_array=True),
    _p("calibration.file", "", "Calibration YAML (world_frame, known cameras by name or "
       "frame id); empty: none."),
    _p("calibration.world_frame", "", "Frame the hands and cameras are expressed in once "
       "known cameras align the estimate; empty: calibration.file's (no file: none)."),
    _p("calibration.from_tf", True, "With a world frame: cameras whose optical frame "
       "/tf_static and /tf connect to it are known too."),
    _p("diagnostics.period_s", 1.0, "Period of /diagnostics (s).", above=0),
    _p("diagnostics.stale_after_s", 1.0, "A camera silent this long is reported as stopped (s).",
       above=0),
)
# fmt: on
"""Every node parameter, in declaration order."""

PARAMETERS_BY_NAME = {definition.name: definition for definition in PARAMETERS}
RENAMED_PARAMETERS = {
    "detector.mode": "localiser.mode",
    "detector.side": "localiser.side",
    "detector.box_scale": "localiser.box_scale",
    "detector.min_views": "localiser.min_hand_views",
    "sync.min_views": "sync.min_cameras",
}
"""Former names -> current ones: a parameters file that still sets one stops the node, saying
what to write instead (ROS would otherwise ignore it silently)."""


def default_parameters() -> dict[str, ParameterValue]:
    """Name -> default value of every parameter."""
    return {definition.name: definition.default for definition in PARAMETERS}


def checked_value(definition: ParameterDefinition, value: object) -> ParameterValue:
    """The value converted to the parameter's type and range-checked, or a ParameterError."""
    name, kind = definition.name, definition.kind
    checked: ParameterValue | None = None
    if kind == "bool" and isinstance(value, bool):
        checked = value
    elif isinstance(value, bool):
        pass
    elif kind == "int" and isinstance(value, int):
        checked = value
    elif kind == "float" and isinstance(value, (int, float)) and math.isfinite(value):
        checked = float(value)
    elif kind == "string" and isinstance(value, str):
        checked = value
    elif kind == "string_array" and isinstance(value, (list, tuple)):
        checked = tuple(value) if all(isinstance(item, str) for item in value) else None
    elif kind == "float_array" and isinstance(value, (list, tuple, array.array)):
        checked = _finite_floats(value)
    if checked is None:
        raise ParameterError(f"parameter {name!r} must be a finite {kind}, got {value!r}")
    if definition.choices and checked not in definition.choices:
        raise ParameterError(
            f"parameter {name!r} must be one of {list(definition.choices)}, got {value!r}"
        )
    if isinstance(checked, (int, float)):
        low, high = definition.at_least, definition.above
        if (low is not None and checked < low) or (high is not None and checked <= high):
            bound = f">= {low:g}" if low is not None else f"> {high:g}"
            raise ParameterError(f"parameter {name!r} must be {bound}, got {value!r}")
    return checked


def _finite_floats(items: Iterable[object]) -> tuple[float, ...] | None:
    """The items as floats, or None unless every one is a finite int or float (not a bool)."""
    floats = []
    for item in items:
        if isinstance(item, bool) or not isinstance(item, (int, float)) or not math.isfinite(item):
            return None
        floats.append(float(item))
    return tuple(floats)
