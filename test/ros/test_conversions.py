# Copyright 2026 The HGGT-ROS Authors
# SPDX-License-Identifier: Apache-2.0
"""Messages <-> arrays of the node (real rclpy message classes, no DDS traffic).

Skipped when the ROS message packages are not importable (the main suite runs without ROS);
inside the ROS test environment (HGGT_ROS_ENV set by .ros-install/env.sh) that fails instead.
"""

from __future__ import annotations

import importlib
import os

import cv2
import numpy as np
import pytest

from hggt_core.geometry.distortion import LensDistortion
from hggt_core.io.camera_info import CameraInfoError
from hggt_core.io.image_encoding import ImageEncodingError, encode_image
from hggt_core.io.marker_cdr import marker_array_cdr
from hggt_core.io.output_plan import OutputConfig, plan_outputs
from hggt_core.io.ros_markers import MARKER_SPHERE_LIST, MarkerSpec
from hggt_core.io.ros_schema import TransformSpec, mano_joint_names
from hggt_core.pipeline.types import (
    CropTransform,
    FrameSet,
    HandResult,
    HandSide,
    View,
    ViewCamera,
    seconds_to_ns,
)
from hggt_ros.params import settings_from_parameters

try:
    for _module in ("builtin_interfaces.msg", "sensor_msgs.msg", "visualization_msgs.msg",
                    "diagnostic_msgs.msg", "geometry_msgs.msg"):  # fmt: skip
        importlib.import_module(_module)
except ImportError as _error:
    if os.environ.get("HGGT_ROS_ENV"):
        raise
    pytest.skip(
        f"ROS message packages are not importable ({_error}); run tools/setup_ros_env.sh and "
        "source .ros-install/env.sh",
        allow_module_level=True,
    )

from diagnostic_msgs.msg import DiagnosticStatus
from rclpy.serialization import deserialize_message
from sensor_msgs.msg import CameraInfo, CompressedImage, Image, RegionOfInterest
from visualization_msgs.msg import MarkerArray

from hggt_ros import conversions as conv

EPOCH_NS = 1_766_000_000_123_456_789  # a 2025 stamp: float seconds cannot hold its nanoseconds


def test_stamps_convert_exactly_through_integer_nanoseconds() -> None:
    stamp = conv.ns_to_time(EPOCH_NS)
    assert (stamp.sec, stamp.nanosec) == (1_766_000_000, 123_456_789)
    assert conv.time_to_ns(stamp) == EPOCH_NS
    edge = conv.ns_to_time(5 * 10**9 + 999_999_999)
    assert (edge.sec, edge.nanosec) == (5, 999_999_999)
    assert conv.ns_to_seconds(EPOCH_NS) == EPOCH_NS / 10**9  # the nearest float
    for ns in (0, 1, 999_999_999, 1_234_567_890_123):  # the float resolves these
        assert seconds_to_ns(conv.ns_to_seconds(ns)) == ns
    with pytest.raises(ValueError, match="range"):
        conv.ns_to_time(-1)


def _image(rgb: np.ndarray, encoding: str, step: int | None = None) -> Image:
    step_bytes, data = encode_image(rgb, encoding, step)
    height, width = rgb.shape[:2]
    return Image(height=height, width=width, encoding=encoding, step=step_bytes, data=data)


@pytest.mark.parametrize("encoding", ["rgb8", "bgr8", "rgba8", "bgra8"])
def test_images_decode_to_rgb_with_row_padding(encoding: str) -> None:
    rgb = np.random.default_rng(1).integers(0, 256, (5, 7, 3), dtype=np.uint8)
    message = _image(rgb, encoding, step=7 * len(encoding.rstrip("8")) + 3)
    np.testing.assert_array_equal(conv.image_to_rgb(message), rgb)


def test_bad_images_raise_a_clear_encoding_error() -> None:
    message = _image(np.zeros((4, 4, 3), np.uint8), "rgb8")
    message.encoding = "32FC1"
    with pytest.raises(ImageEncodingError, match="unsupported image encoding '32FC1'"):
        conv.image_to_rgb(message)
    message.encoding, message.height = "rgb8", 5
    with pytest.raises(ImageEncodingError, match="expected step \\* height"):
        conv.image_to_rgb(message)


def test_compressed_images_decode_and_garbage_is_rejected() -> None:
    rgb = np.random.default_rng(2).integers(0, 256, (6, 9, 3), dtype=np.uint8)
    ok, png = cv2.imencode(".png", rgb[..., ::-1])
    assert ok
    message = CompressedImage(format="png", data=png.tobytes())
    np.testing.assert_array_equal(conv.compressed_to_rgb(message), rgb)
    with pytest.raises(ImageEncodingError, match="cannot decode"):
        conv.compressed_to_rgb(CompressedImage(format="jpeg", data=b"not a jpeg"))


def test_camera_info_principal_point_moves_half_a_pixel() -> None:
    info = CameraInfo(width=640, height=480, k=[500.0, 0.0, 319.5, 0.0, 510.0, 239.5, 0, 0, 1])
    calibration = conv.camera_info_calibration(info)
    assert calibration is not None
    np.testing.assert_allclose(calibration.intrinsics, [[500, 0, 320], [0, 510, 240], [0, 0, 1]])
    assert calibration.size == (640, 480) and calibration.distortion is None  # D empty
    assert conv.camera_info_calibration(CameraInfo(width=640, height=480)) is None  # K = 0


def test_camera_info_with_roi_and_binning_describes_the_published_image() -> None:
    info = CameraInfo(width=1280, height=960, k=[1000.0, 0, 639.5, 0, 1000.0, 479.5, 0, 0, 1])
    info.binning_x = info.binning_y = 2
    info.roi = RegionOfInterest(x_offset=100, y_offset=40, width=800, height=600)
    calibration = conv.camera_info_calibration(info)
    assert calibration is not None and calibration.size == (400, 300)
    # The image centre of the full sensor (640, 480) lands at ((640 - 100) / 2, (480 - 40) / 2).
    np.testing.assert_allclose(calibration.intrinsics, [[500, 0, 270], [0, 500, 220], [0, 0, 1]])


def test_camera_info_lens_distortion_and_unknown_models() -> None:
    k = [500.0, 0.0, 319.5, 0.0, 510.0, 239.5, 0, 0, 1]
    d = [-0.3, 0.1, 0.001, -0.002, 0.0]
    info = CameraInfo(width=640, height=480, k=k, distortion_model="plumb_bob", d=d)
    calibration = conv.camera_info_calibration(info)
    assert calibration is not None
    assert calibration.distortion == LensDistortion("plumb_bob", tuple(d))
    info.distortion_model = "fov"
    with pytest.raises(CameraInfoError, match="unknown distortion_model 'fov'"):
        conv.camera_info_calibration(info)


def test_marker_bytes_read_back_through_rclpy_and_transforms_carry_the_given_stamp() -> None:
    stamp = conv.ns_to_time(EPOCH_NS)
    points = np.array([[0.0, 0.1, 0.2], [1.0, 1.1, 1.2]])
    colors = np.array([[1.0, 0.0, 0.0, 1.0], [0.0, 1.0, 0.0, 0.5]])
    spec = MarkerSpec("right_joints", 3, MARKER_SPHERE_LIST, "cam0_optical", EPOCH_NS, points,
                      (0.1, 0.2, 0.3, 0.4), (0.01, 0.01, 0.01), 0.25, colors)  # fmt: skip
    data = marker_array_cdr([spec])
    (marker,) = deserialize_message(data, MarkerArray).markers
    assert (marker.header.stamp, marker.header.frame_id) == (stamp, "cam0_optical")
    assert (marker.ns, marker.id, marker.type, marker.action) == ("right_joints", 3, 7, 0)
    assert [(p.x, p.y, p.z) for p in marker.points] == [(0.0, 0.1, 0.2), (1.0, 1.1, 1.2)]
    assert [(c.r, c.g, c.b, c.a) for c in marker.colors] == [tuple(row) for row in colors]
    assert marker.color.a == pytest.approx(0.4) and marker.scale.x == 0.01
    assert (marker.lifetime.sec, marker.lifetime.nanosec) == (0, 250_000_000)
    assert marker.pose.orientation.w == 1.0
    transform = conv.transform_stamped(
        TransformSpec("cam0", "hggt/cam1", EPOCH_NS, np.array([1.0, 2.0, 3.0]),
                      np.array([0.0, 0.0, 0.6, 0.8])),
        stamp,
    )  # fmt: skip
    assert (transform.header.frame_id, transform.child_frame_id) == ("cam0", "hggt/cam1")
    assert transform.header.stamp == stamp
    t, q = transform.transform.translation, transform.transform.rotation
    assert (t.x, t.y, t.z, q.x, q.y, q.z, q.w) == (1.0, 2.0, 3.0, 0.0, 0.0, 0.6, 0.8)


def test_diagnostic_status_levels_and_values() -> None:
    status = conv.diagnostic_status(
        "hggt_node: camera cam1", "warn", "stopped", "cam1/image_raw",
        {"rate (Hz)": 29.97002997, "received": 12, "frame_id": "cam1_optical"},
    )  # fmt: skip
    assert status.level == DiagnosticStatus.WARN
    assert (status.name, status.message, status.hardware_id) == (
        "hggt_node: camera cam1", "stopped", "cam1/image_raw"
    )  # fmt: skip
    assert [(kv.key, kv.value) for kv in status.values] == [
        ("rate (Hz)", "29.97"), ("received", "12"), ("frame_id", "cam1_optical")
    ]  # fmt: skip


def _hand(side: HandSide, views: tuple[str, ...], score: float) -> HandResult:
    rng = np.random.default_rng(len(side))
    cameras = []
    for index, name in enumerate(views):
        cam_from_ref = np.eye(4)
        cam_from_ref[:3, 3] = [0.1 * index, 0.0, 0.0]
        k = np.array([[500.0, 0, 80], [0, 500.0, 60], [0, 0, 1]])
        crop = CropTransform(0.0, 0.0, 1.0, 112)
        cameras.append(ViewCamera(name, k, cam_from_ref, np.zeros((21, 2)), crop))
    return HandResult(
        stamp_ns=EPOCH_NS, side=side, score=score, hand_pose=rng.normal(size=48),
        betas=rng.normal(size=10), transl=np.array([0.0, 0.0, 0.5]),
        vertices=rng.normal(size=(778, 3)), joints=rng.normal(size=(21, 3)),
        joint_rotations=np.tile(np.eye(3), (21, 1, 1)), cameras=tuple(cameras), views_used=views,
    )  # fmt: skip


FRAME_IDS = {"cam0": "cam0_optical", "cam1": "cam1_optical", "cam2": "cam2_optical"}


def _messages(
    hands: list[HandResult], output: OutputConfig, faces: dict[HandSide, np.ndarray]
) -> conv.FramesetMessages:
    image = np.zeros((120, 160, 3), np.uint8)
    views = tuple(View(name, EPOCH_NS, image) for name in ("cam0", "cam1", "cam2"))
    plan = plan_outputs(FrameSet(EPOCH_NS, views), hands, FRAME_IDS, output, faces)
    return conv.frameset_messages(plan)


def test_frameset_messages_follow_the_topic_schema() -> None:
    settings = settings_from_parameters({"publish.hand_frames": True})
    faces = {"right": np.zeros((5, 3), np.int64), "left": np.ones((5, 3), np.int64)}
    # The left hand was not seen by camera 0: it lives in camera 1's frame.
    hands = [_hand("left", ("cam1", "cam2"), 0.9), _hand("right", ("cam0", "cam1", "cam2"), 0.5)]
    out = _messages(hands, settings.output, faces)
    stamp = conv.ns_to_time(EPOCH_NS)
    assert out.mano is not None
    assert list(out.mano.name) == mano_joint_names("right") + mano_joint_names("left")
    assert len(out.mano.position) == 124 and list(out.mano.velocity) == []
    assert (out.mano.header.stamp, out.mano.header.frame_id) == (stamp, "cam0_optical")
    assert sorted(out.joints) == ["left", "right"]
    assert out.joints["left"].header.frame_id == "cam1_optical"
    assert len(out.joints["right"].poses) == 21
    assert out.markers is not None
    markers = deserialize_message(out.markers, MarkerArray).markers
    headers = [(m.header.stamp, m.header.frame_id, m.ns) for m in markers]
    assert all(header[0] == stamp for header in headers)
    assert ("cam1_optical", "left_mesh") in {(h[1], h[2]) for h in headers}
    assert ("cam0_optical", "right_mesh") in {(h[1], h[2]) for h in headers}
    assert {m.lifetime.nanosec for m in markers} == {500_000_000}
    # /tf: the best-scoring hand's cameras, relative to its reference camera.
    assert [(c.parent, c.child) for c in out.cameras] == [
        ("cam1_optical", "hggt/cam1_optical"), ("cam1_optical", "hggt/cam2_optical")
    ]  # fmt: skip
    children = {t.child_frame_id for t in out.hand_frames}
    assert children == {"hggt/right_wrist", "hggt/left_wrist"}
    assert all(t.header.stamp == stamp for t in out.hand_frames)


def test_frameset_messages_respect_switches_and_send_a_heartbeat_without_hands() -> None:
    faces = {"right": np.zeros((5, 3), np.int64), "left": np.zeros((5, 3), np.int64)}
    settings = settings_from_parameters({})
    empty = _messages([], settings.output, faces)
    assert empty.mano is not None and list(empty.mano.name) == []
    assert empty.mano.header.frame_id == "cam0_optical"
    assert (empty.joints, empty.markers, empty.cameras, empty.hand_frames) == ({}, None, [], [])
    off = settings_from_parameters(
        {"publish.mano": False, "publish.joints": False, "publish.markers": False,
         "publish.tf": False}
    )  # fmt: skip
    hands = [_hand("right", ("cam0",), 1.0)]
    out = _messages(hands, off.output, faces)
    assert (out.mano, out.joints, out.markers, out.cameras, out.hand_frames) == (
        None, {}, None, [], []
    )  # fmt: skip
