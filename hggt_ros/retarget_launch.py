# Copyright 2026 The HGGT-ROS Authors
# SPDX-License-Identifier: Apache-2.0
"""The hggt_retarget node in a launch: its arguments and its action, for both launch files.

``launch/retarget.launch.py`` starts it alone; ``launch/multi_cam.launch.py`` starts it beside
hggt_node with ``retarget:=true``. The node is checked before anything starts (parameters,
retargeting config, the robot's URDF), so a bad argument leaves nothing running. Imported by
launch files only (it needs ``launch`` and ``launch_ros``); the mapping itself is in
:mod:`hggt_ros.retarget_params`.
"""

from __future__ import annotations

from pathlib import Path

from launch import LaunchContext
from launch.actions import DeclareLaunchArgument
from launch.substitutions import LaunchConfiguration, PathJoinSubstitution
from launch_ros.actions import Node
from launch_ros.substitutions import FindPackageShare

from hggt_core.retarget.robot_config import RetargetConfigError
from hggt_core.retarget.robot_model import RobotModelError
from hggt_ros import launch_support, retarget_params
from hggt_ros.parameter_table import ParameterError

PACKAGE = "hggt_ros"


def enabled(context: LaunchContext) -> bool:
    """Whether ``retarget:=true`` was given (false when the argument is not declared)."""
    return context.launch_configurations.get("retarget", "false") == "true"


def declare_arguments(switch: bool = False) -> list[DeclareLaunchArgument]:
    """The retarget node's launch arguments (empty ones keep the parameters file's values).

    Args:
        switch: also declare ``retarget`` (true / false), for a launch file where the node
            is optional.
    """
    share = FindPackageShare(PACKAGE)
    optional = DeclareLaunchArgument(
        "retarget",
        default_value="false",
        choices=["true", "false"],
        description="Also start hggt_retarget: hand/mano -> the robot hand's JointState "
        "(dex-retargeting with robot_urdf, or a gripper with retarget_mode:=gripper).",
    )
    return [optional] * switch + [
        DeclareLaunchArgument(
            "robot_urdf",
            default_value="",
            description="Robot hand URDF for retargeting: a path or pkg://<python package>/"
            "<path>. Empty: the retargeting config's (the LEAP V1 KAIZEN hand of ghand).",
        ),
        DeclareLaunchArgument(
            "retargeting_config",
            default_value="",
            description="Retargeting config (dex-retargeting YAML + hggt section). Empty: the "
            "package's config/retarget/ghand_right_dexpilot.yaml.",
        ),
        DeclareLaunchArgument(
            "retarget_side",
            default_value="",
            description="Human hand driving the robot, right or left. Empty: hand.side of "
            "retarget_params_file.",
        ),
        DeclareLaunchArgument(
            "retarget_mode",
            default_value="",
            description="dexterous (a robot hand) or gripper (pinch -> opening). Empty: mode "
            "of retarget_params_file.",
        ),
        DeclareLaunchArgument(
            "retarget_topic",
            default_value="",
            description="Topic of the robot's JointState (a remapping of retarget/joint_states, "
            "e.g. /my_hand/joint_commands). Empty: retarget/joint_states in the namespace.",
        ),
        DeclareLaunchArgument(
            "retarget_params_file",
            default_value=PathJoinSubstitution([share, "config", "retarget.yaml"]),
            description="YAML file with the retarget node's parameters (all listed, with their "
            "defaults, in the package's config/retarget.yaml).",
        ),
    ]


def retarget_node(context: LaunchContext, namespace: str) -> Node:
    """The hggt_retarget node action, checked first (see the module docstring).

    Raises:
        LaunchSetupError: parameters, config or URDF the node would refuse.
    """
    arguments = {
        name: LaunchConfiguration(name).perform(context)
        for name in (*retarget_params.LAUNCH_ARGUMENTS, "retarget_topic")
    }
    overrides = retarget_params.launch_overrides(arguments)
    params_file = Path(LaunchConfiguration("retarget_params_file").perform(context))
    share = Path(FindPackageShare(PACKAGE).perform(context))
    values = {
        **launch_support.parameters_from_file(params_file, retarget_params.NODE_NAME, namespace),
        **overrides,
    }
    try:
        retarget_params.check_before_launch(values, share / retarget_params.DEFAULT_CONFIG)
    except (ParameterError, RetargetConfigError, RobotModelError) as error:
        raise launch_support.LaunchSetupError(
            f"retargeting: {error}; nothing was started"
        ) from None
    topic = arguments["retarget_topic"].strip()
    return Node(
        package=PACKAGE,
        executable="hggt_retarget",
        name=retarget_params.NODE_NAME,
        namespace=namespace,
        parameters=[str(params_file), overrides],
        remappings=[(retarget_params.OUTPUT_TOPIC, topic)] if topic else [],
        output="screen",
    )
