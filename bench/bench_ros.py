# Copyright 2026 The HGGT-ROS Authors
# SPDX-License-Identifier: Apache-2.0
"""The ROS ends of bench/node_overhead.py: the cameras' serialised Images, the node's publishers.

rclpy and the message packages are imported inside the classes, so this module (and the
script) imports without ROS 2; the script checks for ROS 2 before building either class.
"""

from __future__ import annotations

import struct
import time
import uuid
from collections.abc import Sequence
from typing import Any

import numpy as np

from hggt_core.io.image_encoding import encode_image

_MATCH_TIMEOUT_S = 10.0
"""How long the in-process subscriber may take to match every publisher (s)."""


class ImageFeed:
    """CDR bytes of each camera's ``sensor_msgs/Image``, re-stamped in place per frameset.

    The Image is serialised once (rclpy takes tens of ms for 1 MB); its stamp, the first
    field after the 4-byte CDR encapsulation header, is then rewritten for every frameset.
    """

    def __init__(self, images: Sequence[np.ndarray], frame_ids: Sequence[str]) -> None:
        from rclpy.serialization import deserialize_message, serialize_message
        from sensor_msgs.msg import Image
        from std_msgs.msg import Header

        self._buffers = []
        for image, frame_id in zip(images, frame_ids, strict=True):
            step, data = encode_image(image, "rgb8")
            height, width = image.shape[:2]
            message = Image(header=Header(frame_id=frame_id), height=height, width=width,
                            encoding="rgb8", step=step, data=data)  # fmt: skip
            self._buffers.append(bytearray(serialize_message(message)))
        little_endian = self._buffers[0][1] == 1  # encapsulation 0x0001: CDR_LE
        self._stamp_format = "<iI" if little_endian else ">iI"
        check = deserialize_message(self.serialised(0, 1_234_567_890_123), Image)
        if (check.header.stamp.sec, check.header.stamp.nanosec) != (1234, 567_890_123):
            raise RuntimeError("the Image CDR layout is not the expected one")

    def serialised(self, index: int, stamp_ns: int) -> bytes:
        """Camera ``index``'s message stamped ``stamp_ns``, as the bytes rclpy would take."""
        buffer = self._buffers[index]
        struct.pack_into(self._stamp_format, buffer, 4, *divmod(stamp_ns, 1_000_000_000))
        return bytes(buffer)


class Outputs:
    """The node's output publishers on a private namespace, and an optional subscriber.

    Args:
        context: the initialised rclpy context.
    """

    def __init__(self, context: Any) -> None:
        from geometry_msgs.msg import PoseArray
        from rclpy.node import Node
        from rclpy.qos import QoSProfile, QoSReliabilityPolicy
        from sensor_msgs.msg import JointState
        from tf2_msgs.msg import TFMessage
        from visualization_msgs.msg import MarkerArray

        from hggt_core.io import ros_schema

        self._context = context
        namespace = f"/hggt_bench_{uuid.uuid4().hex[:8]}"  # never on a real node's topics
        reliable = QoSProfile(depth=10, reliability=QoSReliabilityPolicy.RELIABLE)
        self.topics: dict[str, tuple[Any, str, Any]] = {  # the node's types and QoS
            "mano": (JointState, ros_schema.MANO_TOPIC, reliable),
            **{side: (PoseArray, ros_schema.joints_topic(side), reliable)
               for side in ros_schema.HAND_SIDES},
            "markers": (MarkerArray, ros_schema.MARKERS_TOPIC, reliable),
            "tf": (TFMessage, ros_schema.TF_TOPIC, QoSProfile(depth=100)),
        }  # fmt: skip
        self.node = Node("hggt_node_bench", namespace=namespace, context=context)
        self._publishers = {
            key: self.node.create_publisher(kind, namespace + topic, qos)
            for key, (kind, topic, qos) in self.topics.items()
        }
        self.published = self.received = 0
        self._listener: Any = None
        self._executor: Any = None

    def publish(self, messages: Any, tf: Any) -> None:
        """Publish one frameset's ``FramesetMessages`` and ``/tf`` message (None: nothing)."""
        publishers = self._publishers
        sent = [("mano", messages.mano), ("markers", messages.markers), ("tf", tf)]
        sent += list(messages.joints.items())
        for key, message in sent:
            if message is not None:
                publishers[key].publish(message)
                self.published += 1

    def listen(self) -> None:
        """Subscribe to every output (in this process) and wait until all are matched."""
        from rclpy.executors import SingleThreadedExecutor
        from rclpy.node import Node

        self._listener = Node("hggt_bench_listener", context=self._context)
        for kind, topic, qos in self.topics.values():
            full_topic = self.node.get_namespace() + topic
            self._listener.create_subscription(kind, full_topic, self._count, qos)
        self._executor = SingleThreadedExecutor(context=self._context)
        self._executor.add_node(self._listener)
        self.published = self.received = 0  # earlier messages had no one to reach
        deadline = time.perf_counter() + _MATCH_TIMEOUT_S
        while any(p.get_subscription_count() < 1 for p in self._publishers.values()):
            if time.perf_counter() > deadline:
                raise RuntimeError("the in-process subscriber did not match the publishers")
            self._executor.spin_once(timeout_sec=0.05)

    @property
    def listening(self) -> bool:
        """Whether the in-process subscriber exists."""
        return self._executor is not None

    def _count(self, _message: Any) -> None:
        self.received += 1

    def drain(self, until_s: float) -> None:
        """Let the subscriber (if any) take what was published, until ``until_s`` at most."""
        while self.listening and self.received < self.published:
            left_s = until_s - time.perf_counter()
            if left_s <= 0:
                return
            self._executor.spin_once(timeout_sec=left_s)

    def destroy(self) -> None:
        """Destroy the nodes (the context is shut down by the caller)."""
        if self._executor is not None:
            self._executor.shutdown()
            self._listener.destroy_node()
        self.node.destroy_node()
