# Copyright 2026 The HGGT-ROS Authors
# SPDX-License-Identifier: Apache-2.0
"""Launch hggt_node on N cameras, optionally with RViz.

Examples:
    ros2 launch hggt_ros multi_cam.launch.py cameras:="[cam0, cam1, cam2]" use_rviz:=true
    ros2 launch hggt_ros multi_cam.launch.py params_file:=/path/to/my_hggt.yaml device:=cuda:0
    ros2 launch hggt_ros multi_cam.launch.py cameras:="[left, right]" namespace:=rig
    ros2 launch hggt_ros multi_cam.launch.py cameras:="[cam0, cam1]" world_frame:=base_link
    ros2 launch hggt_ros multi_cam.launch.py calibration_file:=/path/rig.yaml use_rviz:=true
    ros2 launch hggt_ros multi_cam.launch.py retarget:=true robot_urdf:=/path/hand.urdf \
        retargeting_config:=/path/hand.yaml retarget_topic:=/hand_controller/joint_commands

Camera NAME is read from NAME/image_raw in the node's namespace; point it at a driver's topic
with cameras.topics in the parameters file. Launch arguments left empty keep the values of the
parameters file; given ones override it (hggt_ros.launch_support.ARGUMENT_PARAMETERS). With
use_rviz:=true the RViz configuration is made for this launch (its cameras, namespace and
fixed frame: the world, anchor or reference frame) from the package's config/hggt.rviz; RViz 2
is checked for before anything starts, so a missing RViz leaves nothing running. With
retarget:=true, hggt_retarget turns hand/mano into the robot hand's JointState
(hggt_ros.retarget_launch; retarget.launch.py describes its arguments), checked before anything
starts too.
"""

import tempfile
from pathlib import Path

from ament_index_python.packages import PackageNotFoundError, get_package_prefix
from launch import LaunchContext, LaunchDescription
from launch.actions import DeclareLaunchArgument, OpaqueFunction
from launch.substitutions import LaunchConfiguration, PathJoinSubstitution
from launch_ros.actions import Node
from launch_ros.substitutions import FindPackageShare

from hggt_ros import launch_support, retarget_launch

PACKAGE = "hggt_ros"


def _require_rviz() -> None:
    try:
        get_package_prefix("rviz2")
    except PackageNotFoundError:
        raise launch_support.LaunchSetupError(
            "use_rviz:=true needs RViz 2, but the package 'rviz2' is not installed (install "
            "ros-$ROS_DISTRO-rviz2, or launch without use_rviz); nothing was started"
        ) from None


def _rviz(context: LaunchContext, overrides: dict[str, object], namespace: str) -> Node:
    params_file = Path(LaunchConfiguration("params_file").perform(context))
    fixed_frame, image_topics = launch_support.rviz_inputs(params_file, overrides, namespace)
    template = Path(FindPackageShare(PACKAGE).perform(context), "config", "hggt.rviz")
    text = launch_support.rviz_config(template.read_text(), fixed_frame, image_topics, namespace)
    with tempfile.NamedTemporaryFile(
        "w", prefix="hggt_", suffix=".rviz", delete=False, encoding="utf-8"
    ) as config:
        config.write(text)
    return Node(package="rviz2", executable="rviz2", name="rviz2", arguments=["-d", config.name])


def _nodes(context: LaunchContext) -> list[Node]:
    """hggt_node, RViz with use_rviz:=true and hggt_retarget with retarget:=true.

    RViz and the retarget node are checked for first: all or nothing starts.
    """
    use_rviz = LaunchConfiguration("use_rviz").perform(context) == "true"
    if use_rviz:
        _require_rviz()
    arguments = {
        name: LaunchConfiguration(name).perform(context)
        for name in launch_support.ARGUMENT_PARAMETERS
    }
    overrides = launch_support.parameter_overrides(arguments)
    namespace = LaunchConfiguration("namespace").perform(context)
    retarget = None
    if retarget_launch.enabled(context):
        retarget = retarget_launch.retarget_node(context, namespace)
    nodes = [
        # No emulate_tty: the node's log lines keep no colour codes when redirected to a file.
        Node(
            package=PACKAGE,
            executable="hggt_node",
            name=launch_support.NODE_NAME,
            namespace=namespace,
            parameters=[LaunchConfiguration("params_file"), overrides],
            output="screen",
        )
    ]
    if use_rviz:
        nodes.append(_rviz(context, overrides, namespace))
    if retarget is not None:
        nodes.append(retarget)
    return nodes


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
                description="Namespace of the node: its camera topics and its outputs "
                "(hand/mano, ...) are resolved in it; /tf and /diagnostics stay global.",
            ),
            DeclareLaunchArgument(
                "use_rviz",
                default_value="false",
                choices=["true", "false"],
                description="Also start RViz (mesh, joints, camera frames, input images), "
                "configured for these cameras, namespace and reference frame.",
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
            DeclareLaunchArgument(
                "reference_frame",
                default_value="",
                description="Frame id of the reference camera (frames.reference) and RViz's "
                "fixed frame. Empty: params_file; if that is empty too, the node uses the "
                "first camera's header.frame_id and RViz assumes NAME_optical_frame.",
            ),
            DeclareLaunchArgument(
                "calibration_file",
                default_value="",
                description="Calibration YAML with the world frame and known cameras "
                "(calibration.file): hands and cameras are published in that world. Empty: "
                "params_file.",
            ),
            DeclareLaunchArgument(
                "world_frame",
                default_value="",
                description="World frame (calibration.world_frame), e.g. 'base_link': cameras "
                "your TF connects to it are known, and hands and cameras are published in it "
                "(RViz's fixed frame). Empty: params_file, or calibration_file's world frame.",
            ),
            DeclareLaunchArgument(
                "anchor_frame",
                default_value="",
                description="Robot frame the reference camera hangs from (frames.anchor_frame; "
                "its pose: frames.anchor_pose in params_file, else your TF connects them); "
                "RViz's fixed frame without a world frame. Empty: params_file.",
            ),
            *retarget_launch.declare_arguments(switch=True),
            OpaqueFunction(function=_nodes),
        ]
    )
