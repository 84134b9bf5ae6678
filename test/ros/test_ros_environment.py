# Copyright 2026 The HGGT-ROS Authors
# SPDX-License-Identifier: Apache-2.0
"""The ROS 2 test environment of tools/setup_ros_env.sh works: real DDS traffic, real messages.

Skipped when rclpy is not importable (the main suite runs without ROS). Inside the environment
(`. .ros-install/env.sh` exports HGGT_ROS_ENV) a missing piece fails instead of skipping, so a
broken install cannot pass CI as "skipped".
"""

from __future__ import annotations

import importlib
import math
import os
import random
import subprocess
import sys
import textwrap
import time
import uuid
from collections.abc import Iterator
from threading import Event, Thread
from typing import Any, NoReturn

import pytest

# Import names of everything the node uses (tf2_msgs is the one built from tools/ros/).
MESSAGE_CLASSES = (
    "builtin_interfaces.msg.Time",
    "std_msgs.msg.Header",
    "sensor_msgs.msg.Image",
    "sensor_msgs.msg.CompressedImage",
    "sensor_msgs.msg.CameraInfo",
    "sensor_msgs.msg.JointState",
    "geometry_msgs.msg.PoseArray",
    "geometry_msgs.msg.TransformStamped",
    "visualization_msgs.msg.Marker",
    "visualization_msgs.msg.MarkerArray",
    "diagnostic_msgs.msg.DiagnosticArray",
    "diagnostic_msgs.msg.DiagnosticStatus",
    "diagnostic_msgs.msg.KeyValue",
    "rcl_interfaces.msg.ParameterDescriptor",
    "rcl_interfaces.msg.SetParametersResult",
    "tf2_msgs.msg.TFMessage",
)
IMAGE_HEIGHT, IMAGE_WIDTH = 3, 4
IMAGE_DATA = bytes(range(IMAGE_HEIGHT * IMAGE_WIDTH * 3))
STAMP = (1234, 567_890)
CAMERA_TRANSLATION = (0.125, -0.25, 2.5)
CAMERA_YAW = 0.75  # rad, about the reference frame's z axis
TIMEOUT_S = 8.0

# The publisher process: says "ready" once its publishers exist, waits until the pytest process'
# subscriptions match (volatile QoS drops whatever is sent before), sends both messages a few
# times and exits.
PUBLISHER = textwrap.dedent(
    """
    import math, sys, time
    import rclpy
    from geometry_msgs.msg import TransformStamped
    from sensor_msgs.msg import Image
    from tf2_msgs.msg import TFMessage

    nonce, image_topic, deadline = sys.argv[1], sys.argv[2], time.monotonic() + float(sys.argv[3])
    rclpy.init()
    node = rclpy.create_node("hggt_env_test_publisher_" + nonce)
    image_publisher = node.create_publisher(Image, image_topic, 10)
    tf_publisher = node.create_publisher(TFMessage, "/tf", 100)
    print("ready", flush=True)
    image = Image(height={height}, width={width}, encoding="rgb8", step={width} * 3)
    image.header.stamp.sec, image.header.stamp.nanosec = {stamp}
    image.header.frame_id = "cam0_optical_" + nonce
    image.data = bytes(range({height} * {width} * 3))
    camera = TransformStamped()
    camera.header = image.header
    camera.child_frame_id = "hggt/cam1_optical_" + nonce
    t = camera.transform.translation
    t.x, t.y, t.z = {translation}
    camera.transform.rotation.z = math.sin({yaw} / 2.0)
    camera.transform.rotation.w = math.cos({yaw} / 2.0)
    while time.monotonic() < deadline and (
        image_publisher.get_subscription_count() == 0 or tf_publisher.get_subscription_count() == 0
    ):
        time.sleep(0.02)
    for _ in range(5):
        image_publisher.publish(image)
        tf_publisher.publish(TFMessage(transforms=[camera]))
        time.sleep(0.05)
    node.destroy_node()
    rclpy.shutdown()
    """
).format(
    height=IMAGE_HEIGHT,
    width=IMAGE_WIDTH,
    stamp=STAMP,
    translation=CAMERA_TRANSLATION,
    yaw=CAMERA_YAW,
)


def _unavailable(message: str) -> NoReturn:
    """Skip without the ROS environment; fail inside it, where everything must load."""
    if os.environ.get("HGGT_ROS_ENV"):
        pytest.fail(f"inside the ROS test environment (HGGT_ROS_ENV is set): {message}")
    pytest.skip(message)


@pytest.fixture(scope="module")
def ros_available() -> None:
    """Require rclpy and a loadable tf2_msgs type support (which needs LD_LIBRARY_PATH)."""
    try:
        importlib.import_module("rclpy")
    except ImportError as error:
        _unavailable(
            f"rclpy is not importable ({error}): run tools/setup_ros_env.sh, then start Python "
            "from a shell that sourced .ros-install/env.sh"
        )
    hint = "source .ros-install/env.sh before starting Python (it sets LD_LIBRARY_PATH)"
    try:
        tf2_msgs = importlib.import_module("tf2_msgs.msg")
        type(tf2_msgs.TFMessage).__import_type_support__()
    except Exception as error:  # ImportError, or rosidl's own UnsupportedTypeSupport
        _unavailable(f"tf2_msgs does not load ({error}): {hint}")


@pytest.fixture
def ros_context(ros_available: None, monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[Any, int]]:
    """A private rclpy context on a random ROS domain, kept on this host; yields (ctx, domain)."""
    import rclpy
    import rclpy.context

    domain = random.randrange(1, 101)
    monkeypatch.setenv("ROS_DOMAIN_ID", str(domain))
    monkeypatch.setenv("ROS_AUTOMATIC_DISCOVERY_RANGE", "LOCALHOST")
    context = rclpy.context.Context()
    rclpy.init(context=context, domain_id=domain)
    try:
        yield context, domain
    finally:
        rclpy.shutdown(context=context)


@pytest.mark.parametrize("name", MESSAGE_CLASSES)
def test_message_class_is_importable(ros_available: None, name: str) -> None:
    module_name, class_name = name.rsplit(".", 1)
    message_class = getattr(importlib.import_module(module_name), class_name)
    type(message_class).__import_type_support__()
    assert message_class._TYPE_SUPPORT is not None
    assert message_class.get_fields_and_field_types()


def test_parameters_with_descriptors_and_validation(ros_context: tuple[Any, int]) -> None:
    import rclpy
    from rcl_interfaces.msg import ParameterDescriptor, SetParametersResult
    from rclpy.parameter import Parameter

    context, _ = ros_context
    node = rclpy.create_node("hggt_env_test_parameters", context=context)
    try:
        node.declare_parameter(
            "sync.slop_s", 0.02, ParameterDescriptor(description="max stamp spread, s")
        )

        def _positive(parameters: list[Parameter]) -> SetParametersResult:
            bad = [p.name for p in parameters if p.value <= 0.0]
            return SetParametersResult(successful=not bad, reason=f"must be > 0: {bad}")

        node.add_on_set_parameters_callback(_positive)
        descriptor = node.describe_parameter("sync.slop_s")
        assert descriptor.description == "max stamp spread, s"
        assert descriptor.type == Parameter.Type.DOUBLE.value
        accepted, rejected = node.set_parameters(
            [Parameter("sync.slop_s", value=0.05), Parameter("sync.slop_s", value=-1.0)]
        )
        assert accepted.successful
        assert not rejected.successful
        assert "must be > 0" in rejected.reason
        assert node.get_parameter("sync.slop_s").value == 0.05
    finally:
        node.destroy_node()


def _collect_output(process: subprocess.Popen[str], marker: str) -> tuple[list[str], Event]:
    """Gather ``process``' output lines in a thread; the event is set when ``marker`` appears."""
    assert process.stdout is not None
    stdout = process.stdout
    lines: list[str] = []
    seen = Event()

    def _read() -> None:
        for text in stdout:
            lines.append(text.rstrip("\n"))
            if lines[-1] == marker:
                seen.set()

    Thread(target=_read, daemon=True).start()
    return lines, seen


def _receive_both(context: Any, nonce: str, image_topic: str) -> dict[str, Any]:
    """Spin a subscriber node until an Image and this run's TFMessage arrive (or time out)."""
    import rclpy
    import rclpy.executors
    from sensor_msgs.msg import Image
    from tf2_msgs.msg import TFMessage

    received: dict[str, Any] = {}

    def _on_tf(message: Any) -> None:
        # /tf is a shared topic: keep only this run's transform.
        if any(t.child_frame_id.endswith(nonce) for t in message.transforms):
            received.setdefault("tf", message)

    node = rclpy.create_node("hggt_env_test_subscriber_" + nonce, context=context)
    executor = rclpy.executors.SingleThreadedExecutor(context=context)
    executor.add_node(node)
    try:
        node.create_subscription(Image, image_topic, lambda m: received.setdefault("image", m), 10)
        node.create_subscription(TFMessage, "/tf", _on_tf, 100)
        deadline = time.monotonic() + TIMEOUT_S
        while len(received) < 2 and time.monotonic() < deadline:
            executor.spin_once(timeout_sec=0.05)
    finally:
        executor.shutdown()
        node.destroy_node()
    return received


def test_image_and_tf_travel_between_processes_over_dds(ros_context: tuple[Any, int]) -> None:
    context, domain = ros_context
    nonce = uuid.uuid4().hex[:12]
    image_topic = f"/hggt_env_test_{nonce}/image"
    env = {**os.environ, "ROS_DOMAIN_ID": str(domain)}
    publisher = subprocess.Popen(
        [sys.executable, "-c", PUBLISHER, nonce, image_topic, str(TIMEOUT_S)],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    lines, ready = _collect_output(publisher, "ready")
    try:
        # Fast DDS announces an endpoint created before the remote participant was discovered
        # only at its next periodic heartbeat (about 3 s later), so subscribe after "ready".
        assert ready.wait(TIMEOUT_S), f"publisher did not start: {lines}"
        received = _receive_both(context, nonce, image_topic)
        publisher.wait(timeout=TIMEOUT_S)
    finally:
        publisher.kill()
    output = "\n".join(lines)
    assert publisher.returncode == 0, output
    assert set(received) == {"image", "tf"}, f"received only {sorted(received)}; {output}"

    image = received["image"]
    assert (image.height, image.width, image.step) == (IMAGE_HEIGHT, IMAGE_WIDTH, IMAGE_WIDTH * 3)
    assert image.encoding == "rgb8"
    assert bytes(image.data) == IMAGE_DATA
    assert (image.header.stamp.sec, image.header.stamp.nanosec) == STAMP
    assert image.header.frame_id == f"cam0_optical_{nonce}"

    (camera,) = received["tf"].transforms
    assert camera.header.frame_id == f"cam0_optical_{nonce}"
    assert (camera.header.stamp.sec, camera.header.stamp.nanosec) == STAMP
    assert camera.child_frame_id == f"hggt/cam1_optical_{nonce}"
    translation = camera.transform.translation
    assert (translation.x, translation.y, translation.z) == CAMERA_TRANSLATION
    rotation = camera.transform.rotation
    assert (rotation.x, rotation.y) == (0.0, 0.0)
    assert rotation.z == pytest.approx(math.sin(CAMERA_YAW / 2.0), abs=1e-15)
    assert rotation.w == pytest.approx(math.cos(CAMERA_YAW / 2.0), abs=1e-15)
