# Copyright 2026 The HGGT-ROS Authors
# SPDX-License-Identifier: Apache-2.0
"""Launch hggt_node on N cameras, optionally with RViz.

Examples:
    ros2 launch hggt_ros multi_cam.launch.py cameras:="[cam0, cam1, cam2]" use_rviz:=true
    ros2 launch hggt_ros multi_cam.launch.py params_file:=/path/to/my_hggt.yaml device:=cuda:0

Camera NAME is read from NAME/image_raw in the node's namespace; point it at a driver's topic
with cameras.topics in the parameters file. Launch arguments left empty keep the values of the
parameters file; given ones override it (see ARGUMENT_PARAMETERS).
"""

import re

from launch import LaunchContext, LaunchDescription
from launch.actions import DeclareLaunchArgument, OpaqueFunction
from launch.conditions import IfCondition
from launch.substitutions import LaunchConfiguration, PathJoinSubstitution
from launch_ros.actions import Node
from launch_ros.substitutions import FindPackageShare

PACKAGE = "hggt_ros"
ARGUMENT_PARAMETERS = {
    "cameras": "cameras.names",
    "engine": "engine.kind",
    "device": "engine.device",
}
"""Launch argument -> the node parameter it sets when not empty."""


def _parameter_overrides(context: LaunchContext) -> dict[str, object]:
    """The node parameters given as launch arguments (empty arguments are left out)."""
    overrides: dict[str, object] = {}
    for argument, parameter in ARGUMENT_PARAMETERS.items():
        value = LaunchConfiguration(argument).perform(context).strip()
        if not value:
            continue
        if argument == "cameras":  # "[cam0, cam1]", "cam0,cam1" or "cam0 cam1"
            overrides[parameter] = [name for name in re.split(r"[\s,\[\]]+", value) if name]
        else:
            overrides[parameter] = value
    return overrides


def _hggt_node(context: LaunchContext) -> list[Node]:
    return [
        Node(
            package=PACKAGE,
            executable="hggt_node",
            name="hggt_node",
            namespace=LaunchConfiguration("namespace"),
            parameters=[LaunchConfiguration("params_file"), _parameter_overrides(context)],
            output="screen",
            emulate_tty=True,
        )
    ]


def generate_launch_description() -> LaunchDescription:
    """The launch arguments, the node and the optional RViz window."""
    share = FindPackageShare(PACKAGE)
    return LaunchDescription(
        [
            DeclareLaunchArgument(
                "cameras",
                default_value="",
                description="Camera names, reference camera first, e.g. '[cam0, cam1, cam2]'; "
                "camera NAME is read from NAME/image_raw. Empty: cameras.names of params_file.",
            ),
            DeclareLaunchArgument(
                "params_file",
                default_value=PathJoinSubstitution([share, "config", "hggt.yaml"]),
                description="YAML file with the node's parameters (all of them are listed, with "
                "their defaults, in the package's config/hggt.yaml).",
            ),
            DeclareLaunchArgument(
                "namespace",
                default_value="",
                description="Namespace of the node; the camera topics are resolved in it.",
            ),
            DeclareLaunchArgument(
                "use_rviz",
                default_value="false",
                choices=["true", "false"],
                description="Also start RViz with config/hggt.rviz (mesh, joints, camera "
                "frames, input images).",
            ),
            DeclareLaunchArgument(
                "engine",
                default_value="",
                description="Inference engine (engine.kind), e.g. 'torch'. Empty: params_file.",
            ),
            DeclareLaunchArgument(
                "device",
                default_value="",
                description="Inference device (engine.device), e.g. 'cpu' or 'cuda:0'. Empty: "
                "params_file.",
            ),
            OpaqueFunction(function=_hggt_node),
            Node(
                package="rviz2",
                executable="rviz2",
                name="rviz2",
                arguments=["-d", PathJoinSubstitution([share, "config", "hggt.rviz"])],
                condition=IfCondition(LaunchConfiguration("use_rviz")),
            ),
        ]
    )
