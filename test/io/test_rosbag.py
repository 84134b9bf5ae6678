# Copyright 2026 The HGGT-ROS Authors
# SPDX-License-Identifier: Apache-2.0
"""rosbag2 in (synchronised framesets) and out (the node's topics), read back with rosbags."""

from __future__ import annotations

import logging
from collections.abc import Callable
from pathlib import Path

import cv2
import numpy as np
import pytest
from rosbags.rosbag2 import Reader, StoragePlugin, Writer
from rosbags.typesys import Stores, get_typestore
from rosbags.typesys.stores import ros2_jazzy as msgs
from ruamel.yaml import YAML

from hggt_core.geometry.distortion import LensDistortion
from hggt_core.io.image_encoding import encode_image
from hggt_core.io.output_plan import OutputConfig
from hggt_core.io.ros_schema import decode_mano_joint_state, mano_joint_names
from hggt_core.io.rosbag_sink import RosbagSink, RosbagSinkConfig, RosbagSinkError
from hggt_core.io.rosbag_source import RosbagSource, RosbagSourceError
from hggt_core.pipeline.sync_types import SyncConfig
from hggt_core.pipeline.types import FrameSet, HandResult, HandSide, View

TYPESTORE = get_typestore(Stores.ROS2_JAZZY)
TOPICS = ("/cam0/image_raw", "/cam1/image_raw", "/cam2/image_mono", "/cam3/image/compressed")
ENCODINGS = ("rgb8", "bgr8", "mono8", "png")
FRAMES = 6
H, W = 24, 32
K0 = np.array([[40.0, 0.0, 16.0], [0.0, 41.0, 12.0], [0.0, 0.0, 1.0]])
K0_PUBLISHED = np.array([[40.0, 0.0, 16.5], [0.0, 41.0, 12.5], [0.0, 0.0, 1.0]])
"""K0 with the top-left pixel centre at (0.5, 0.5), as the node converts camera_info."""
SYNC = SyncConfig(slop_s=0.02, max_wait_s=0.05)
MakeHandResult = Callable[..., HandResult]
CORRUPT = {(2, 1): "garbage bytes", (4, 2): "short data"}  # (frame, camera) -> defect


EPOCH_NS = 1_700_000_000_123_456_789
"""A realistic camera stamp with odd nanoseconds (float64 seconds resolve 238 ns there)."""


def _stamp(frame: int, camera: int) -> int:
    """Integer-nanosecond image stamps at 10 Hz, jittered by a few ms (and odd ns) per camera."""
    jitter_ns = (0, 4_000_001, -3_000_003, 2_000_007)[camera] * (1 if frame % 2 else -1)
    return EPOCH_NS + 100_000_000 * frame + jitter_ns


def _pixels(frame: int, camera: int) -> np.ndarray:
    rng = np.random.default_rng(100 * frame + camera)
    if ENCODINGS[camera] == "mono8":
        grey = rng.integers(0, 256, (H, W, 1), dtype=np.uint8)
        return np.repeat(grey, 3, axis=2)
    return rng.integers(0, 256, (H, W, 3), dtype=np.uint8)


def _header(stamp_ns: int, frame_id: str) -> msgs.std_msgs__msg__Header:
    time = msgs.builtin_interfaces__msg__Time(*divmod(stamp_ns, 1_000_000_000))
    return msgs.std_msgs__msg__Header(time, frame_id)


def _image_message(frame: int, camera: int) -> bytes:
    header = _header(_stamp(frame, camera), f"cam{camera}_optical")
    rgb = _pixels(frame, camera)
    if ENCODINGS[camera] == "png":
        _, png = cv2.imencode(".png", np.ascontiguousarray(rgb[..., ::-1]))
        message: object = msgs.sensor_msgs__msg__CompressedImage(header, "png", png.reshape(-1))
        return bytes(TYPESTORE.serialize_cdr(message, "sensor_msgs/msg/CompressedImage"))
    padding = 0 if camera == 0 else 7
    step, data = encode_image(rgb, ENCODINGS[camera], step=W * (1 if camera == 2 else 3) + padding)
    if CORRUPT.get((frame, camera)) == "short data":
        data = data[:-1]
    message = msgs.sensor_msgs__msg__Image(
        header, H, W, ENCODINGS[camera], 0, step, np.frombuffer(data, np.uint8)
    )
    return bytes(TYPESTORE.serialize_cdr(message, "sensor_msgs/msg/Image"))


Lens = tuple[str, tuple[float, ...]]
"""camera_info's (distortion_model, d)."""
PINHOLE: Lens = ("plumb_bob", (0.0,) * 5)


def _camera_info(stamp_ns: int, size: tuple[int, int], lens: Lens = PINHOLE) -> bytes:
    message = msgs.sensor_msgs__msg__CameraInfo(
        _header(stamp_ns, "cam0_optical"), size[1], size[0], lens[0], np.array(lens[1]),
        K0.reshape(-1), np.eye(3).reshape(-1), np.zeros(12), 0, 0,
        msgs.sensor_msgs__msg__RegionOfInterest(0, 0, 0, 0, False),
    )  # fmt: skip
    return bytes(TYPESTORE.serialize_cdr(message, "sensor_msgs/msg/CameraInfo"))


def _write_input_bag(
    path: Path, storage: StoragePlugin, info_size: tuple[int, int] = (W, H), lens: Lens = PINHOLE
) -> Path:
    records: list[tuple[int, int, bytes]] = []  # (log time ns, connection index, data)
    for frame in range(FRAMES):
        for camera in range(4):
            data = _image_message(frame, camera)
            if CORRUPT.get((frame, camera)) == "garbage bytes":
                data = data[:4] + b"\xff" * 9
            delay_ns = 1_000_000 * (camera + 1)
            records.append((_stamp(frame, camera) + delay_ns, camera, data))
        info = _camera_info(_stamp(frame, 0), info_size, lens)
        records.append((_stamp(frame, 0), 4, info))
    with Writer(path, version=9, storage_plugin=storage) as writer:
        types = ["sensor_msgs/msg/Image"] * 3 + ["sensor_msgs/msg/CompressedImage"]
        names = [*TOPICS, "/cam0/camera_info"]
        connections = [
            writer.add_connection(topic, msgtype, typestore=TYPESTORE)
            for topic, msgtype in zip(names, [*types, "sensor_msgs/msg/CameraInfo"], strict=True)
        ]
        for log_ns, index, data in sorted(records):
            writer.write(connections[index], log_ns, data)
    return path


@pytest.fixture(params=[StoragePlugin.SQLITE3, StoragePlugin.MCAP], ids=["sqlite3", "mcap"])
def input_bag(request: pytest.FixtureRequest, tmp_path: Path) -> Path:
    return _write_input_bag(tmp_path / "input_bag", request.param)


def test_source_yields_synchronised_framesets(
    input_bag: Path, caplog: pytest.LogCaptureFixture
) -> None:
    source = RosbagSource(input_bag, list(TOPICS), {TOPICS[0]: "/cam0/camera_info"}, SYNC)
    assert source.views == TOPICS
    assert source.message_count == 4 * FRAMES and source.reference_message_count == FRAMES
    assert source.frame_ids == {topic: f"cam{i}_optical" for i, topic in enumerate(TOPICS)}
    with caplog.at_level(logging.WARNING, logger="hggt_core.io.rosbag_source"):
        framesets = list(source)
    assert [fs.stamp_ns for fs in framesets] == [_stamp(frame, 0) for frame in range(FRAMES)]
    for frame, frameset in enumerate(framesets):
        cameras = [c for c in range(4) if (frame, c) not in CORRUPT]
        assert [view.name for view in frameset.views] == [TOPICS[c] for c in cameras]
        for camera, view in zip(cameras, frameset.views, strict=True):
            assert view.stamp_ns == _stamp(frame, camera)  # the header's, exactly
            np.testing.assert_array_equal(view.image, _pixels(frame, camera))
            if camera == 0:
                assert view.intrinsics is not None
                np.testing.assert_array_equal(view.intrinsics, K0_PUBLISHED)
            else:
                assert view.intrinsics is None
    assert source.skipped_messages == 2
    assert sum("skipping a message" in record.message for record in caplog.records) == 2
    assert "data holds" in caplog.text and "cannot deserialise" in caplog.text
    stats = source.sync_stats
    assert stats is not None and stats.emitted_sets == FRAMES and stats.emitted_partial == 2
    assert len(list(source)) == FRAMES  # iterating again re-reads the bag


def test_source_reads_a_single_storage_file_and_unslashed_topics(tmp_path: Path) -> None:
    bag = _write_input_bag(tmp_path / "bag", StoragePlugin.SQLITE3)
    source = RosbagSource(
        bag / "bag.db3", ["cam0/image_raw", "/cam3/image/compressed"], None, SYNC
    )
    assert source.views == ("/cam0/image_raw", "/cam3/image/compressed")
    framesets = list(source)
    assert len(framesets) == FRAMES and all(len(fs.views) == 2 for fs in framesets)


def test_the_camera_info_beside_each_image_topic_is_found(tmp_path: Path) -> None:
    bag = _write_input_bag(tmp_path / "bag", StoragePlugin.SQLITE3)
    found = RosbagSource(bag, list(TOPICS), None, SYNC)
    assert found.camera_info_topics == {TOPICS[0]: "/cam0/camera_info"}
    first = next(iter(found))
    np.testing.assert_array_equal(first.views[0].intrinsics, K0_PUBLISHED)
    assert all(view.intrinsics is None for view in first.views[1:])
    none = RosbagSource(bag, list(TOPICS), {}, SYNC)
    assert none.camera_info_topics == {}
    assert all(view.intrinsics is None for view in next(iter(none)).views)


def test_camera_info_of_another_image_size_is_ignored(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    bag = _write_input_bag(tmp_path / "bag", StoragePlugin.SQLITE3, info_size=(2 * W, 2 * H))
    source = RosbagSource(bag, [TOPICS[0]], {TOPICS[0]: "/cam0/camera_info"}, SYNC)
    with caplog.at_level(logging.WARNING, logger="hggt_core.io.rosbag_source"):
        framesets = list(source)
    assert len(framesets) == FRAMES
    assert all(fs.views[0].intrinsics is None for fs in framesets)
    assert caplog.text.count("camera_info is for 64x48 images but the images are 32x24") == 1


def test_views_carry_the_lens_distortion_and_unknown_models_are_refused(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    lens = ("equidistant", (-0.013, 0.021, -0.012, 0.002))
    bag = _write_input_bag(tmp_path / "fisheye", StoragePlugin.SQLITE3, lens=lens)
    framesets = list(RosbagSource(bag, [TOPICS[0]], None, SYNC))
    assert len(framesets) == FRAMES
    for frameset in framesets:
        np.testing.assert_array_equal(frameset.views[0].intrinsics, K0_PUBLISHED)
        assert frameset.views[0].distortion == LensDistortion(*lens)
    unknown = ("fov", (0.9,))
    bag = _write_input_bag(tmp_path / "unknown", StoragePlugin.SQLITE3, lens=unknown)
    with caplog.at_level(logging.WARNING, logger="hggt_core.io.rosbag_source"):
        framesets = list(RosbagSource(bag, [TOPICS[0]], None, SYNC))
    assert len(framesets) == FRAMES
    assert all(
        fs.views[0].intrinsics is None and fs.views[0].distortion is None for fs in framesets
    )
    message = "ignoring camera_info on /cam0/camera_info: camera_info has the unknown"
    assert caplog.text.count(message) == 1


def test_source_errors_are_clear(tmp_path: Path) -> None:
    bag = _write_input_bag(tmp_path / "bag", StoragePlugin.SQLITE3)
    with pytest.raises(RosbagSourceError, match=r"no rosbag2 at .*missing: no such file"):
        RosbagSource(tmp_path / "missing", list(TOPICS))
    with pytest.raises(
        RosbagSourceError,
        match=r"'/cam9' is not in the bag .*it has: /cam0/camera_info \(sensor_msgs/msg/Camera",
    ):
        RosbagSource(bag, ["/cam0/image_raw", "/cam9"])
    with pytest.raises(RosbagSourceError, match=r"type sensor_msgs/msg/CameraInfo, expected"):
        RosbagSource(bag, ["/cam0/camera_info"])
    with pytest.raises(RosbagSourceError, match="expected sensor_msgs/msg/CameraInfo"):
        RosbagSource(bag, [TOPICS[0]], {TOPICS[0]: TOPICS[1]})
    with pytest.raises(RosbagSourceError, match="not one of the image topics"):
        RosbagSource(bag, [TOPICS[0]], {TOPICS[1]: "/cam0/camera_info"})
    with pytest.raises(RosbagSourceError, match="distinct image topics"):
        RosbagSource(bag, [TOPICS[0], TOPICS[0]])
    (tmp_path / "empty_dir").mkdir()
    with pytest.raises(RosbagSourceError, match=r"not a rosbag2 directory: no metadata\.yaml"):
        RosbagSource(tmp_path / "empty_dir", list(TOPICS))
    (bag / "metadata.yaml").write_text("rosbag2_bagfile_information: {version: 99}")
    with pytest.raises(RosbagSourceError, match=r"cannot open rosbag2 .*bag: "):
        RosbagSource(bag, list(TOPICS))


def _read_back(path: Path) -> dict[str, list[tuple[int, object]]]:
    with Reader(path) as reader:
        messages: dict[str, list[tuple[int, object]]] = {c.topic: [] for c in reader.connections}
        for connection, log_ns, raw in reader.messages():
            message = TYPESTORE.deserialize_cdr(raw, connection.msgtype)
            messages[connection.topic].append((log_ns, message))
        types = {c.topic: c.msgtype for c in reader.connections}
    assert types == {
        "/hand/mano": "sensor_msgs/msg/JointState",
        "/hand/right/joints": "geometry_msgs/msg/PoseArray",
        "/hand/left/joints": "geometry_msgs/msg/PoseArray",
        "/hand/markers": "visualization_msgs/msg/MarkerArray",
        "/tf": "tf2_msgs/msg/TFMessage",
    }
    return messages


def _result(
    make_hand_result: MakeHandResult, frameset: FrameSet, side: HandSide, seed: int
) -> HandResult:
    """A hand of ``frameset`` with a camera per view; the right hand scores higher."""
    views = [view.name for view in frameset.views]
    score = 0.9 if side == "right" else 0.6
    return make_hand_result(side, seed=seed, stamp_ns=frameset.stamp_ns, views=views, score=score)


@pytest.mark.parametrize("storage", ["sqlite3", "mcap"])
def test_sink_writes_the_node_topics_readable_by_rosbags(
    tmp_path: Path, storage: str, make_hand_result: MakeHandResult
) -> None:
    input_bag = _write_input_bag(tmp_path / "input_bag", StoragePlugin.SQLITE3)
    source = RosbagSource(input_bag, list(TOPICS), None, SYNC)
    framesets = list(source)
    results = [
        []
        if i == 1
        else [
            _result(make_hand_result, fs, "left", 2 * i),
            _result(make_hand_result, fs, "right", 2 * i + 1),
        ]
        for i, fs in enumerate(framesets)
    ]
    faces = np.random.default_rng(0).integers(0, 778, size=(1538, 3))
    output = tmp_path / "out" / "hands_bag"
    output_config = OutputConfig(hand_frame_prefix="hggt/")
    config = RosbagSinkConfig(storage=storage, output=output_config)  # type: ignore[arg-type]
    with RosbagSink(output, faces, source.frame_ids, config) as sink:
        for frameset, hands in zip(framesets, results, strict=True):
            sink.write(frameset, hands)
    assert sorted(p.name for p in output.parent.iterdir()) == ["hands_bag"]
    suffix = ".db3" if storage == "sqlite3" else ".mcap"
    assert (output / f"hands_bag{suffix}").is_file()
    text = (output / "metadata.yaml").read_text()
    metadata = YAML(typ="safe").load(text)["rosbag2_bagfile_information"]
    assert metadata["version"] == 8 and metadata["storage_identifier"] == storage
    for topic in metadata["topics_with_message_count"]:
        info = topic["topic_metadata"]
        assert info["type_description_hash"] == TYPESTORE.hash_rihs01(info["type"])
        assert "reliability: 1" in info["offered_qos_profiles"]

    messages = _read_back(output)
    stamps = [_stamp(frame, 0) for frame in range(FRAMES)]  # the reference images' stamps
    hand_stamps = [s for i, s in enumerate(stamps) if i != 1]
    assert [t for t, _ in messages["/hand/mano"]] == stamps
    for topic in ("/hand/right/joints", "/hand/left/joints", "/hand/markers", "/tf"):
        assert [t for t, _ in messages[topic]] == hand_stamps, topic
    assert sink.message_counts["/hand/mano"] == FRAMES

    for (log_ns, state), hands in zip(messages["/hand/mano"], results, strict=True):
        assert isinstance(state, msgs.sensor_msgs__msg__JointState)
        header_ns = state.header.stamp.sec * 1_000_000_000 + state.header.stamp.nanosec
        assert header_ns == log_ns and state.header.frame_id == "cam0_optical"
        if not hands:
            assert state.name == [] and len(state.position) == 0
            continue
        assert state.name == mano_joint_names("right") + mano_joint_names("left")
        decoded = decode_mano_joint_state(state.name, state.position.tolist())
        for hand in hands:
            np.testing.assert_allclose(decoded[hand.side].hand_pose, hand.hand_pose, atol=1e-12)
            np.testing.assert_allclose(decoded[hand.side].betas, hand.betas, atol=1e-12)
            np.testing.assert_allclose(decoded[hand.side].transl, hand.transl, atol=1e-12)

    right = [hands[1] for hands in results if hands]
    for (_, poses), hand in zip(messages["/hand/right/joints"], right, strict=True):
        assert isinstance(poses, msgs.geometry_msgs__msg__PoseArray)
        assert poses.header.frame_id == "cam0_optical" and len(poses.poses) == 21
        position = poses.poses[20].position
        np.testing.assert_allclose([position.x, position.y, position.z], hand.joints[20])

    _, markers = messages["/hand/markers"][0]
    assert isinstance(markers, msgs.visualization_msgs__msg__MarkerArray)
    assert len(markers.markers) == 2 * (3 + 4)
    assert {_ns(m.header.stamp) for m in markers.markers} == {stamps[0]}
    mesh = markers.markers[0]
    assert (mesh.ns, mesh.type, len(mesh.points)) == ("right_mesh", 11, 1538 * 3)
    assert mesh.header.frame_id == "cam0_optical" and mesh.lifetime.nanosec == 500_000_000

    for (log_ns, tf), hands in zip(messages["/tf"], [r for r in results if r], strict=True):
        _check_tf(tf, hands[1])
        assert {_ns(t.header.stamp) for t in tf.transforms} == {log_ns}
    for log_ns, poses in messages["/hand/left/joints"]:
        assert _ns(poses.header.stamp) == log_ns


def _ns(stamp: msgs.builtin_interfaces__msg__Time) -> int:
    return stamp.sec * 1_000_000_000 + stamp.nanosec


def _check_tf(tf: object, best: HandResult) -> None:
    """Camera frames come from the best-scoring hand and map camera points back."""
    assert isinstance(tf, msgs.tf2_msgs__msg__TFMessage)
    children = [t.child_frame_id for t in tf.transforms]
    cameras = [f"hggt/cam{camera.name[4]}_optical" for camera in best.cameras]
    assert children == [*cameras, "hggt/right_wrist", "hggt/left_wrist"]
    point_ref = np.array([0.05, -0.1, 0.7])
    for stamped, camera in zip(tf.transforms[: len(cameras)], best.cameras, strict=True):
        assert stamped.header.frame_id == "cam0_optical"
        q = stamped.transform.rotation
        rotation = _quaternion_matrix(q.x, q.y, q.z, q.w)
        t = stamped.transform.translation
        point_cam = camera.cam_from_ref[:3, :3] @ point_ref + camera.cam_from_ref[:3, 3]
        np.testing.assert_allclose(rotation @ point_cam + [t.x, t.y, t.z], point_ref, atol=1e-9)


def _quaternion_matrix(x: float, y: float, z: float, w: float) -> np.ndarray:
    return np.array(
        [
            [1 - 2 * (y * y + z * z), 2 * (x * y - z * w), 2 * (x * z + y * w)],
            [2 * (x * y + z * w), 1 - 2 * (x * x + z * z), 2 * (y * z - x * w)],
            [2 * (x * z - y * w), 2 * (y * z + x * w), 1 - 2 * (x * x + y * y)],
        ]
    )


def _frameset() -> FrameSet:
    image = np.zeros((H, W, 3), np.uint8)
    return FrameSet(5_250_000_000, (View("/cam0/image_raw", 5_250_000_000, image),))


def test_sink_is_atomic_and_refuses_to_overwrite(tmp_path: Path) -> None:
    faces = np.zeros((1538, 3), dtype=np.int64)
    output = tmp_path / "out_bag"
    with pytest.raises(RuntimeError, match="boom"), RosbagSink(output, faces) as sink:
        sink.write(_frameset(), [])
        raise RuntimeError("boom")
    assert not output.exists() and list(tmp_path.iterdir()) == []

    with RosbagSink(output, faces) as sink:
        sink.write(_frameset(), [])
    with pytest.raises(RosbagSinkError, match="exists; choose another output"):
        RosbagSink(output, faces)
    with RosbagSink(output, faces, config=RosbagSinkConfig(overwrite=True, version=9)) as sink:
        sink.write(_frameset(), [])
        sink.write(FrameSet(5_500_000_000, _frameset().views), [])
    with Reader(output) as reader:
        assert reader.message_count == 2
    (tmp_path / "precious").mkdir()
    (tmp_path / "precious" / "thesis.tex").write_text("keep me")
    with pytest.raises(RosbagSinkError, match="not a rosbag2; not replacing it"):
        RosbagSink(tmp_path / "precious", faces, config=RosbagSinkConfig(overwrite=True))


def test_sink_rejects_inconsistent_results(
    tmp_path: Path, make_hand_result: MakeHandResult
) -> None:
    frameset = _frameset()
    with RosbagSink(tmp_path / "bag", np.zeros((1538, 3), dtype=np.int64)) as sink:
        late = _result(make_hand_result, FrameSet(5_250_000_001, frameset.views), "right", 0)
        with pytest.raises(RosbagSinkError, match=r"result stamps \[5250000001\] ns differ"):
            sink.write(frameset, [late])
        twins = [
            _result(make_hand_result, frameset, "right", 0),
            _result(make_hand_result, frameset, "right", 1),
        ]
        with pytest.raises(RosbagSinkError, match="one hand per side"):
            sink.write(frameset, twins)
    with pytest.raises(RosbagSinkError, match="already closed"):
        sink.write(frameset, [])
