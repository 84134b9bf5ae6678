# Copyright 2026 The HGGT-ROS Authors
# SPDX-License-Identifier: Apache-2.0
"""Parameters of the ``hggt_retarget`` node and the one function mapping them onto the core.

ROS-free (no rclpy, no messages), so the mapping is tested without a ROS graph, like
:mod:`hggt_ros.params`. :data:`PARAMETERS` declares every parameter (the package's
``config/retarget.yaml`` lists them with their defaults); :func:`retarget_settings` maps
values onto :class:`RetargetSettings` and raises
:class:`~hggt_ros.parameter_table.ParameterError` naming the parameter for anything invalid.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from hggt_core.retarget.dexterous import DexRetargetConfig
from hggt_core.retarget.gripper import GripperConfig
from hggt_core.retarget.hand_frame import HandSide
from hggt_core.retarget.robot_config import load_retarget_file
from hggt_core.retarget.robot_model import resolve_urdf
from hggt_core.retarget.stream import LOST_POLICIES, LostPolicy
from hggt_ros.parameter_table import (
    ParameterDefinition,
    ParameterError,
    ParameterValue,
    checked_value,
    require,
)

NODE_NAME = "hggt_retarget"
"""The node's default name."""
INPUT_TOPIC = "hand/mano"
"""Subscribed ``sensor_msgs/JointState`` (relative: follows the node's namespace)."""
OUTPUT_TOPIC = "retarget/joint_states"
"""Published ``sensor_msgs/JointState`` of the robot hand (remap it to the robot's topic)."""
MODES = ("dexterous", "gripper")
LAUNCH_ARGUMENTS = {
    "robot_urdf": "robot_urdf",
    "retargeting_config": "retarget.config",
    "retarget_side": "hand.side",
    "retarget_mode": "mode",
}
"""Launch argument -> the node parameter it sets when not empty (both launch files)."""
DEFAULT_CONFIG = Path("config") / "retarget" / "ghand_right_dexpilot.yaml"
"""The default retargeting config, relative to the package's share folder."""
_GRIPPER = GripperConfig()


def _p(
    name: str, default: ParameterValue, description: str, *choices: str, dynamic: bool = False,
    at_least: float | None = None, above: float | None = None,
) -> ParameterDefinition:  # fmt: skip
    return ParameterDefinition(name, default, description, dynamic, choices, at_least, above)


# fmt: off
PARAMETERS: tuple[ParameterDefinition, ...] = (
    _p("mode", "dexterous", "dexterous: a robot hand by dex-retargeting (retarget.config); "
       "gripper: thumb-index pinch -> parallel gripper opening.", *MODES),
    _p("robot_urdf", "", "The robot's URDF: a path or pkg://<python package>/<path>; empty: "
       "the retargeting config's urdf_path."),
    _p("retarget.config", "", "Retargeting config (dex-retargeting YAML + hggt section); "
       "empty: the package's config/retarget/ghand_right_dexpilot.yaml."),
    _p("retarget.scaling", 0.0, "Robot hand size / human hand size; 0: the config's "
       "scaling_factor.", at_least=0),
    _p("retarget.low_pass_alpha", 0.0, "Low-pass factor in (0, 1] (1: no smoothing); 0: the "
       "config's low_pass_alpha (gripper mode: no smoothing).", at_least=0),
    _p("retarget.warm_start", True, "Start each solve from the previous solution."),
    _p("hand.side", "right", "Which hand drives the robot; a hand of the other side than the "
       "robot's is mirrored onto it.", "right", "left"),
    _p("hand.min_score", 0.0, "Hands scored below this count as missing.", dynamic=True,
       at_least=0),
    _p("hand.mano_dir", "", "Folder with MANO_RIGHT.pkl and MANO_LEFT.pkl (the estimator's "
       "model); empty: the procedural stand-in hand."),
    _p("lost.policy", "hold", "A missing hand: hold the last targets, or open the hand (and "
       "restart the warm start).", *LOST_POLICIES, dynamic=True),
    _p("lost.timeout_s", 0.5, "No hand/mano message for this long counts as a missing hand "
       "(s; stamped with the node's clock, no frameset stamp exists).", dynamic=True, above=0),
    _p("gripper.joint_names", _GRIPPER.joint_names, "Gripper mode: the gripper's joints."),
    _p("gripper.open_m", _GRIPPER.open_m, "Gripper mode: opening when released (m).",
       at_least=0),
    _p("gripper.closed_m", _GRIPPER.closed_m, "Gripper mode: opening when pinched (m).",
       at_least=0),
    _p("gripper.pinch_open_m", _GRIPPER.pinch_open_m, "Gripper mode: thumb-index distance of "
       "a fully open gripper (m).", at_least=0),
    _p("gripper.pinch_closed_m", _GRIPPER.pinch_closed_m, "Gripper mode: thumb-index distance "
       "of a closed gripper (m).", at_least=0),
    _p("gripper.joint_scale", _GRIPPER.joint_scale, "Gripper mode: joint position per metre of "
       "opening (0.5 for two fingers moving half each).", above=0),
    _p("diagnostics.period_s", 1.0, "Period of /diagnostics (s).", above=0),
)
# fmt: on
"""Every parameter of the node, in declaration order."""

PARAMETERS_BY_NAME = {definition.name: definition for definition in PARAMETERS}


@dataclass(frozen=True)
class RetargetSettings:
    """Everything the node runs with, built by :func:`retarget_settings`.

    Attributes:
        hand_side: the human hand followed.
        dexterous: dex-retargeting settings (dexterous mode), else None.
        gripper: gripper settings (gripper mode), else None.
        min_score: hands scored below this count as missing.
        mano_dir: MANO model folder, or None for the procedural stand-in.
        lost_policy: ``hold`` or ``open``.
        lost_timeout_s: input silence that counts as a missing hand (s).
        diagnostics_period_s: /diagnostics period (s).
    """

    hand_side: HandSide
    dexterous: DexRetargetConfig | None
    gripper: GripperConfig | None
    min_score: float
    mano_dir: Path | None
    lost_policy: LostPolicy
    lost_timeout_s: float
    diagnostics_period_s: float


def retarget_settings(
    values: Mapping[str, object], default_config: Path | None = None
) -> RetargetSettings:
    """Map parameter values onto the node's settings (the one mapping).

    Args:
        values: name -> value for any subset of :data:`PARAMETERS` (the rest take defaults).
        default_config: the config used when ``retarget.config`` is empty (the package's),
            or None when it cannot be found.

    Raises:
        ParameterError: an unknown name, a bad value, or settings that contradict each other.
    """
    unknown = sorted(set(values) - set(PARAMETERS_BY_NAME))
    if unknown:
        raise ParameterError(f"unknown parameter(s) {unknown}; see config/retarget.yaml")
    v = {d.name: d.default for d in PARAMETERS}
    v.update({name: checked_value(PARAMETERS_BY_NAME[name], x) for name, x in values.items()})
    side: HandSide = "left" if v["hand.side"] == "left" else "right"
    mano_dir = str(v["hand.mano_dir"])
    require(not mano_dir or Path(mano_dir).expanduser().is_dir(), "hand.mano_dir",
             "an existing folder (or empty)", mano_dir)  # fmt: skip
    policy: LostPolicy = "open" if v["lost.policy"] == "open" else "hold"
    alpha = _number(v, "retarget.low_pass_alpha")
    require(alpha <= 1, "retarget.low_pass_alpha", "in (0, 1], or 0 for the default", alpha)
    dexterous = _dexterous(v, side, default_config) if v["mode"] == "dexterous" else None
    return RetargetSettings(
        hand_side=side,
        dexterous=dexterous,
        gripper=None if dexterous is not None else _gripper(v),
        min_score=_number(v, "hand.min_score"),
        mano_dir=Path(mano_dir).expanduser() if mano_dir else None,
        lost_policy=policy,
        lost_timeout_s=_number(v, "lost.timeout_s"),
        diagnostics_period_s=_number(v, "diagnostics.period_s"),
    )


def _number(values: Mapping[str, ParameterValue], name: str) -> float:
    value = values[name]
    assert isinstance(value, (int, float))  # checked_value guarantees the types
    return float(value)


def _dexterous(
    v: Mapping[str, ParameterValue], side: HandSide, default_config: Path | None
) -> DexRetargetConfig:
    config = str(v["retarget.config"]) or (str(default_config) if default_config else "")
    require(bool(config), "retarget.config", "set (no package config was found)", config)
    require(Path(config).expanduser().is_file(), "retarget.config", "an existing file", config)
    alpha, scaling = _number(v, "retarget.low_pass_alpha"), _number(v, "retarget.scaling")
    return DexRetargetConfig(
        config=Path(config).expanduser(),
        urdf=str(v["robot_urdf"]) or None,
        hand_side=side,
        scaling=scaling or None,
        low_pass_alpha=alpha or None,
        warm_start=bool(v["retarget.warm_start"]),
    )


def _gripper(v: Mapping[str, ParameterValue]) -> GripperConfig:
    names = v["gripper.joint_names"]
    assert isinstance(names, tuple)
    try:
        return GripperConfig(
            joint_names=names,
            closed_m=_number(v, "gripper.closed_m"),
            open_m=_number(v, "gripper.open_m"),
            pinch_closed_m=_number(v, "gripper.pinch_closed_m"),
            pinch_open_m=_number(v, "gripper.pinch_open_m"),
            joint_scale=_number(v, "gripper.joint_scale"),
            low_pass_alpha=_number(v, "retarget.low_pass_alpha") or 1.0,
        )
    except ValueError as error:
        raise ParameterError(f"gripper parameters: {error}") from None


def launch_overrides(arguments: Mapping[str, str]) -> dict[str, object]:
    """The node parameters set by launch arguments (empty ones keep the parameters file's)."""
    return {
        parameter: arguments[argument].strip()
        for argument, parameter in LAUNCH_ARGUMENTS.items()
        if arguments.get(argument, "").strip()
    }


def check_before_launch(
    values: Mapping[str, object], default_config: Path | None
) -> RetargetSettings:
    """The settings a launch would start the node with, and its robot's URDF found.

    Raises:
        ParameterError, RetargetConfigError, RobotModelError: what the node would refuse.
    """
    settings = retarget_settings(values, default_config)
    if settings.dexterous is not None:
        config = settings.dexterous
        resolve_urdf(config.urdf or load_retarget_file(config.config).urdf)
    return settings
