# Copyright 2026 The HGGT-ROS Authors
# SPDX-License-Identifier: Apache-2.0
"""Serialised MarkerArrays: byte-identical to rosbags' serialiser, read back by its deserialiser.

(rclpy's deserialiser reads them in test/ros/test_conversions.py.)
"""

from __future__ import annotations

import numpy as np
import pytest
from rosbags.typesys import Stores, get_typestore
from rosbags.typesys.stores import ros2_jazzy as msgs

from hggt_core.io.marker_cdr import marker_array_cdr
from hggt_core.io.ros_markers import (
    MARKER_LINE_LIST,
    MARKER_SPHERE_LIST,
    MARKER_TRIANGLE_LIST,
    MarkerSpec,
)
from hggt_core.pipeline.types import seconds_to_ns

_TYPE = "visualization_msgs/msg/MarkerArray"
_STAMP = (1_766_000_000, 123_456_789)
_STAMP_NS = 1_766_000_000_123_456_789
_NO_BYTES = np.zeros(0, dtype=np.uint8)


def _specs() -> list[MarkerSpec]:
    """Point counts and string lengths that leave every alignment case behind them."""
    rng = np.random.default_rng(3)
    mesh = rng.normal(size=(4614, 3))
    joints = rng.normal(size=(21, 3))
    colors = rng.uniform(size=(21, 4))
    return [
        MarkerSpec("right_mesh", 0, MARKER_TRIANGLE_LIST, "cam0_optical", _STAMP_NS, mesh,
                   (0.9, 0.7, 0.6, 0.8), (1.0, 1.0, 1.0), 0.25),
        MarkerSpec("right_joints", 1, MARKER_SPHERE_LIST, "kamera_ü", _STAMP_NS, joints,
                   (0.1, 0.2, 0.3, 0.4), (0.01, 0.01, 0.01), 0.5, colors),
        MarkerSpec("ab", 2, MARKER_LINE_LIST, "c", _STAMP_NS, np.zeros((0, 3)),
                   (0.0, 0.0, 0.0, 1.0), (0.002, 0.0, 0.0), 0.0),
    ]  # fmt: skip


def _reference(spec: MarkerSpec) -> msgs.visualization_msgs__msg__Marker:
    """The same marker as rosbags message objects (the slow way this module replaces)."""
    time = msgs.builtin_interfaces__msg__Time
    point = msgs.geometry_msgs__msg__Point
    color = msgs.std_msgs__msg__ColorRGBA
    lifetime = divmod(seconds_to_ns(spec.lifetime_s), 10**9)
    return msgs.visualization_msgs__msg__Marker(
        header=msgs.std_msgs__msg__Header(time(*_STAMP), spec.frame_id),
        ns=spec.ns,
        id=spec.id,
        type=spec.type,
        action=spec.action,
        pose=msgs.geometry_msgs__msg__Pose(
            point(0.0, 0.0, 0.0), msgs.geometry_msgs__msg__Quaternion(0.0, 0.0, 0.0, 1.0)
        ),
        scale=msgs.geometry_msgs__msg__Vector3(*spec.scale),
        color=color(*spec.color),
        lifetime=msgs.builtin_interfaces__msg__Duration(*lifetime),
        frame_locked=False,
        points=[point(*xyz) for xyz in spec.points.tolist()],
        colors=[] if spec.colors is None else [color(*rgba) for rgba in spec.colors.tolist()],
        texture_resource="",
        texture=msgs.sensor_msgs__msg__CompressedImage(
            msgs.std_msgs__msg__Header(time(0, 0), ""), "", _NO_BYTES
        ),
        uv_coordinates=[],
        text="",
        mesh_resource="",
        mesh_file=msgs.visualization_msgs__msg__MeshFile("", _NO_BYTES),
        mesh_use_embedded_materials=False,
    )


@pytest.mark.parametrize("count", [0, 1, 3])
def test_bytes_equal_the_rosbags_serialisation(count: int) -> None:
    specs = _specs()[:count]
    store = get_typestore(Stores.ROS2_JAZZY)
    expected = store.serialize_cdr(
        msgs.visualization_msgs__msg__MarkerArray([_reference(spec) for spec in specs]), _TYPE
    )
    assert marker_array_cdr(specs) == bytes(expected)


def test_fields_read_back() -> None:
    specs = _specs()
    store = get_typestore(Stores.ROS2_JAZZY)
    markers = store.deserialize_cdr(marker_array_cdr(specs), _TYPE).markers
    assert [(m.ns, m.id, m.type, m.header.frame_id) for m in markers] == [
        (s.ns, s.id, s.type, s.frame_id) for s in specs
    ]
    joints = markers[1]
    assert (joints.header.stamp.sec, joints.header.stamp.nanosec) == _STAMP
    assert (joints.lifetime.sec, joints.lifetime.nanosec) == (0, 500_000_000)
    np.testing.assert_array_equal([[p.x, p.y, p.z] for p in joints.points], specs[1].points)
    np.testing.assert_array_equal(
        [[c.r, c.g, c.b, c.a] for c in joints.colors], specs[1].colors.astype(np.float32)
    )
    assert joints.scale.x == 0.01 and joints.color.a == np.float32(0.4)
    assert joints.pose.orientation.w == 1.0 and joints.pose.position.x == 0.0
    assert len(markers[0].points) == 4614 and not markers[0].colors and not markers[2].points


def test_seconds_round_to_the_nearest_nanosecond_of_the_exact_float() -> None:
    assert seconds_to_ns(0.1) == 100_000_000  # 0.1 is 0.1000000000000000055... exactly
    assert seconds_to_ns(1e-9) == 1
    assert seconds_to_ns(0.25) == 250_000_000
