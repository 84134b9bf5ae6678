# Copyright 2026 The HGGT-ROS Authors
# SPDX-License-Identifier: Apache-2.0
"""hggt_node's robot side over real DDS: a calibrated world, the anchor, fixed cameras, reset.

Like test_node.py: the node runs as ``python -m hggt_ros.node`` on a private ROS domain with a
tiny random-weight checkpoint in crop mode, fed by two cameras publishing images with equal
stamps. What is checked is where the outputs go (frames, /tf_static lists, diagnostics,
service answers), not the estimate (the network is untrained). Skipped without rclpy,
tf2_msgs and std_srvs; inside the ROS test environment (HGGT_ROS_ENV) that fails instead.
"""

from __future__ import annotations

import importlib
import os
import subprocess
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import torch

from hggt_core.engine.registry import UNTRAINED_CONFIG
from hggt_core.model.checkpoint import save_hggt_checkpoint
from hggt_core.model.hggt import HGGT

NONCE = uuid.uuid4().hex[:8]
"""Names this run's node and frames, so a test on the same ROS domain cannot interfere."""
NODE = f"hggt_world_{NONCE}"
WORLD, ROBOT, TABLE = f"world_{NONCE}", f"robot_{NONCE}", f"table_{NONCE}"
FRAMES = (f"cam0_optical_{NONCE}", f"cam1_optical_{NONCE}")
TOPICS = tuple(f"/test_{NONCE}/cam{index}/image_raw" for index in range(2))
HEIGHT, WIDTH = 48, 64
PERIOD_NS = 100_000_000
STARTUP_TIMEOUT_S = 25.0
ANCHOR_POSE = (0.0, 0.1, 0.2, 0.0, 0.0, 0.0, 1.0)
FIXED_CAMERAS = (
    "    frames.fixed_cameras: true\n    frames.static_window: 2\n"
    "    frames.static_max_translation_m: 1000.0\n    frames.static_max_rotation_deg: 180.0\n"
)


@pytest.fixture(scope="module")
def ros() -> None:
    """Require rclpy, a loadable tf2_msgs and std_srvs (tools/setup_ros_env.sh)."""
    try:
        importlib.import_module("rclpy")
        for name, kind in (("tf2_msgs.msg", "TFMessage"), ("std_srvs.srv", "Trigger")):
            type(getattr(importlib.import_module(name), kind)).__import_type_support__()
    except Exception as error:  # ImportError or rosidl's UnsupportedTypeSupport
        message = f"rclpy / tf2_msgs / std_srvs not loadable ({error}): run tools/setup_ros_env.sh"
        if os.environ.get("HGGT_ROS_ENV"):
            pytest.fail(f"inside the ROS test environment (HGGT_ROS_ENV is set): {message}")
        pytest.skip(message)


def _start(tmp_path: Path, start_node: Any, extra: str) -> tuple[subprocess.Popen[str], int]:
    checkpoint = tmp_path / "tiny.safetensors"
    torch.manual_seed(0)
    save_hggt_checkpoint(HGGT(UNTRAINED_CONFIG), checkpoint)
    params = tmp_path / "params.yaml"
    params.write_text(
        "/**:\n  ros__parameters:\n    cameras.names: [cam0, cam1]\n"
        f"    cameras.topics: [{', '.join(TOPICS)}]\n    model.checkpoint: {checkpoint}\n"
        "    engine.kind: torch\n    model.crop_size: 112\n    localiser.mode: crop\n"
        "    sync.slop_s: 0.02\n    sync.max_wait_s: 0.15\n    diagnostics.period_s: 0.25\n"
        + extra
    )
    return start_node("hggt_ros.node", ["-r", f"__node:={NODE}", "--params-file", str(params)])


def _transform(parent: str, child: str, x_m: float, yaw_rad: float = 0.0) -> Any:
    from geometry_msgs.msg import TransformStamped

    transform = TransformStamped(child_frame_id=child)
    transform.header.frame_id = parent
    transform.transform.translation.x = x_m
    transform.transform.rotation.z = float(np.sin(yaw_rad / 2))
    transform.transform.rotation.w = float(np.cos(yaw_rad / 2))
    return transform


class Graph:
    """The fixture node: cameras, a latched /tf_static, output subscribers, the reset client."""

    def __init__(self, domain: int) -> None:
        import rclpy
        import rclpy.context
        from diagnostic_msgs.msg import DiagnosticArray
        from rclpy.qos import QoSDurabilityPolicy, QoSProfile, qos_profile_sensor_data
        from sensor_msgs.msg import Image, JointState
        from std_srvs.srv import Trigger
        from tf2_msgs.msg import TFMessage

        self.context = rclpy.context.Context()
        rclpy.init(context=self.context, domain_id=domain)
        self.node = rclpy.create_node("hggt_world_fixture", context=self.context)
        self.executor = rclpy.executors.SingleThreadedExecutor(context=self.context)
        self.executor.add_node(self.node)
        self.cameras = [
            self.node.create_publisher(Image, topic, qos_profile_sensor_data) for topic in TOPICS
        ]
        latched = QoSProfile(depth=1, durability=QoSDurabilityPolicy.TRANSIENT_LOCAL)
        self.tf_static = self.node.create_publisher(TFMessage, "/tf_static", latched)
        # Deeper than the publisher's 1: no list is lost when two arrive between spins.
        late_joiner = QoSProfile(depth=10, durability=QoSDurabilityPolicy.TRANSIENT_LOCAL)
        self.received: dict[str, list[Any]] = {}
        for topic, kind, qos in (("/hand/mano", JointState, 50), ("/tf", TFMessage, 100),
                                 ("/tf_static", TFMessage, late_joiner),
                                 ("/diagnostics", DiagnosticArray, 50)):  # fmt: skip
            self.node.create_subscription(kind, topic, self._keep(topic), qos)
        self.reset = self.node.create_client(Trigger, f"/{NODE}/reset_cameras")
        self.stamp_ns = self.node.get_clock().now().nanoseconds

    def _keep(self, topic: str) -> Callable[[Any], None]:
        def keep(message: Any) -> None:
            if NONCE in str(message):  # ours (the domain may be shared)
                self.received.setdefault(topic, []).append(message)

        return keep

    def of(self, topic: str) -> list[Any]:
        return self.received.get(topic, [])

    def spin_until(self, done: Callable[[], bool], timeout_s: float) -> bool:
        deadline = time.monotonic() + timeout_s
        while not done() and time.monotonic() < deadline:
            self.executor.spin_once(timeout_sec=0.01)
        return done()

    def publish_images(self, duration_s: float) -> None:
        """Both cameras at 10 Hz with equal stamps, for ``duration_s`` of wall time."""
        from sensor_msgs.msg import Image

        end = time.monotonic() + duration_s
        while time.monotonic() < end:
            self.stamp_ns += PERIOD_NS
            for frame, publisher in zip(FRAMES, self.cameras, strict=True):
                message = Image(height=HEIGHT, width=WIDTH, encoding="rgb8", step=WIDTH * 3)
                rng = np.random.default_rng(self.stamp_ns % 2**32)
                message.data = rng.integers(0, 256, HEIGHT * WIDTH * 3, dtype=np.uint8).tobytes()
                message.header.stamp.sec, message.header.stamp.nanosec = divmod(
                    self.stamp_ns, 10**9
                )
                message.header.frame_id = frame
                publisher.publish(message)
            self.spin_until(lambda: False, PERIOD_NS * 1e-9)

    def close(self) -> None:
        import rclpy

        self.executor.shutdown()
        self.node.destroy_node()
        rclpy.shutdown(context=self.context)


def _connect(graph: Graph, process: subprocess.Popen[str]) -> None:
    started = graph.spin_until(
        lambda: (
            all(p.get_subscription_count() > 0 for p in graph.cameras)
            or process.poll() is not None
        ),
        STARTUP_TIMEOUT_S,
    )
    assert started and process.poll() is None, "the node did not start"


def _pipeline(graph: Graph) -> tuple[Any, dict[str, str]]:
    """The node's last pipeline status and its values."""
    for diagnostics in reversed(graph.of("/diagnostics")):
        for status in diagnostics.status:
            if status.name == f"{NODE}: pipeline":
                return status, {kv.key: kv.value for kv in status.values}
    raise AssertionError("no pipeline diagnostics")


def _node_static_lists(graph: Graph) -> list[list[tuple[str, str]]]:
    """The node's /tf_static messages as (parent, child) lists (the fixture's own left out)."""
    lists = [[(t.header.frame_id, t.child_frame_id) for t in m.transforms]
             for m in graph.of("/tf_static")]  # fmt: skip
    return [items for items in lists if (WORLD, ROBOT) not in items]


def test_tf_world_anchor_fixed_cameras_and_reset(
    ros: None, tmp_path: Path, start_node: Any
) -> None:
    """World from /tf_static (cam1) and the anchor (cam0); frozen cameras; ~/reset_cameras."""
    from std_srvs.srv import Trigger
    from tf2_msgs.msg import TFMessage

    pose = ", ".join(str(value) for value in ANCHOR_POSE)
    process, domain = _start(
        tmp_path, start_node, f"    calibration.world_frame: {WORLD}\n"
        f"    frames.anchor_frame: {ROBOT}\n    frames.anchor_pose: [{pose}]\n" + FIXED_CAMERAS,
    )  # fmt: skip
    graph = Graph(domain)
    try:
        _connect(graph, process)
        # The user's tree: the robot and camera 1 in the world; the anchor adds camera 0.
        user_tree = [_transform(WORLD, ROBOT, 1.0), _transform(WORLD, FRAMES[1], 1.3, 0.4)]
        graph.tf_static.publish(TFMessage(transforms=user_tree))
        graph.publish_images(2.5)
        before_reset = _node_static_lists(graph)
        assert graph.reset.wait_for_service(timeout_sec=5.0)
        future = graph.reset.call_async(Trigger.Request())
        assert graph.spin_until(future.done, 5.0)
        answer = future.result()
        graph.publish_images(2.0)
        graph.spin_until(lambda: False, 0.5)
        assert process.poll() is None, "the node died"
    finally:
        graph.close()

    assert answer.success
    assert answer.message == "camera frames re-estimated (2 were fixed), filter reset"
    # Camera 1 is known from the first frameset on (camera 0 once the anchor is out).
    mano = graph.of("/hand/mano")
    assert len(mano) >= 5 and all(m.header.frame_id == WORLD for m in mano[2:])
    cameras = [t for m in graph.of("/tf") for t in m.transforms if "hggt/" in t.child_frame_id]
    assert cameras and {t.header.frame_id for t in cameras[-4:]} == {WORLD}
    lists = _node_static_lists(graph)
    anchor = (ROBOT, FRAMES[0])
    frozen = sorted([anchor, (WORLD, f"hggt/{FRAMES[0]}"), (WORLD, f"hggt/{FRAMES[1]}")])
    assert lists[0] == [anchor]  # as soon as camera 0's frame id was known
    assert all(items[0] == anchor for items in lists)  # every list carries the anchor
    assert sorted(before_reset[-1]) == frozen
    assert lists[len(before_reset)] == [anchor]  # the reset forgot the fixed cameras ...
    assert sorted(lists[-1]) == frozen  # ... which froze again
    _, values = _pipeline(graph)
    assert values["world frame"] == WORLD and values["in world frame"] == "True"
    assert values["cameras known"] == "cam0 cam1"
    assert values["alignment cameras"] == "cam0 cam1"
    assert float(values["alignment scale"]) > 0
    assert float(values["alignment residual (m)"]) >= 0
    assert float(values["alignment residual (deg)"]) >= 0


def test_a_disconnected_tree_warns_and_keeps_the_camera_frame(
    ros: None, tmp_path: Path, start_node: Any
) -> None:
    from diagnostic_msgs.msg import DiagnosticStatus
    from tf2_msgs.msg import TFMessage

    process, domain = _start(tmp_path, start_node, f"    calibration.world_frame: {WORLD}\n")
    graph = Graph(domain)
    try:
        _connect(graph, process)
        graph.tf_static.publish(TFMessage(transforms=[_transform(f"map_{NONCE}", FRAMES[0], 1.0)]))
        graph.publish_images(2.0)
        graph.spin_until(lambda: False, 0.5)
        assert process.poll() is None, "the node died"
    finally:
        graph.close()
    mano = graph.of("/hand/mano")
    assert len(mano) >= 3 and all(m.header.frame_id == FRAMES[0] for m in mano)
    status, values = _pipeline(graph)
    assert status.level == DiagnosticStatus.WARN  # (also for the untrained network)
    assert values["world problem"].startswith(f"no camera frame connects to '{WORLD}': ")
    assert values["in world frame"] == "False" and values["cameras known"] == "none"
    log = (tmp_path / "node0.log").read_text()
    assert f"hands stay in the camera frame: no camera frame connects to '{WORLD}'" in log


def test_a_calibration_file_puts_the_hands_in_its_world(
    ros: None, tmp_path: Path, start_node: Any
) -> None:
    calibration = tmp_path / "rig.yaml"
    calibration.write_text(
        f"world_frame: {TABLE}\ncameras:\n"  # by view name and by optical frame id
        "  cam0: {world_from_cam: {translation: [0.0, 0.0, 1.0], quaternion: [0, 0, 0, 1]}}\n"
        f"  {FRAMES[1]}: {{world_from_cam: {{translation: [0.4, 0.0, 1.0], "
        "quaternion: [0, 0, 0, 1]}}\n"
    )
    extra = f"    calibration.file: {calibration}\n    calibration.from_tf: false\n"
    process, domain = _start(tmp_path, start_node, extra)
    graph = Graph(domain)
    try:
        _connect(graph, process)
        graph.publish_images(2.0)
        graph.spin_until(lambda: False, 0.5)
        assert process.poll() is None, "the node died"
    finally:
        graph.close()
    mano = graph.of("/hand/mano")
    assert len(mano) >= 3 and all(m.header.frame_id == TABLE for m in mano)
    _, values = _pipeline(graph)
    assert values["world frame"] == TABLE and values["cameras known"] == "cam0 cam1"
