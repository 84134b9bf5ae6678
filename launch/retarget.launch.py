# Copyright 2026 The HGGT-ROS Authors
# SPDX-License-Identifier: Apache-2.0
"""Launch hggt_retarget alone: hand/mano (from hggt_node or a bag) -> a robot hand's JointState.

Examples:
    ros2 launch hggt_ros retarget.launch.py
    ros2 launch hggt_ros retarget.launch.py robot_urdf:=/path/my_hand.urdf \
        retargeting_config:=/path/my_hand.yaml retarget_topic:=/my_hand/joint_commands
    ros2 launch hggt_ros retarget.launch.py retarget_mode:=gripper retarget_side:=left

With hggt_node, use multi_cam.launch.py retarget:=true instead (same arguments). The node,
its retargeting config and the robot's URDF are checked before it starts.
"""

from launch import LaunchContext, LaunchDescription
from launch.actions import DeclareLaunchArgument, OpaqueFunction
from launch.substitutions import LaunchConfiguration
from launch_ros.actions import Node

from hggt_ros import retarget_launch


def _nodes(context: LaunchContext) -> list[Node]:
    return [
        retarget_launch.retarget_node(context, LaunchConfiguration("namespace").perform(context))
    ]


def generate_launch_description() -> LaunchDescription:
    """The launch arguments and the node."""
    return LaunchDescription(
        [
            DeclareLaunchArgument(
                "namespace",
                default_value="",
                description="Namespace of the node: it reads hand/mano and writes "
                "retarget/joint_states in it (the namespace of hggt_node).",
            ),
            *retarget_launch.declare_arguments(),
            OpaqueFunction(function=_nodes),
        ]
    )
