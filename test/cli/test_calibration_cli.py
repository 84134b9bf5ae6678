# Copyright 2026 The HGGT-ROS Authors
# SPDX-License-Identifier: Apache-2.0
"""``--calibration``: ``hggt infer`` and ``hggt bag`` put their results in the world frame."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import cv2
import numpy as np
import pytest
from rosbags.rosbag2 import Reader, Writer
from rosbags.typesys import Stores, get_typestore

from hggt_core.cli import main
from hggt_core.geometry.numpy_transforms import invert_rigid, matrix_to_quaternion
from hggt_core.io.exports import load_npz
from hggt_core.io.image_encoding import encode_image
from hggt_core.render.demo import demo_example_dir, load_ground_truth

FAST = ["--engine", "torch", "--crop-size", "112"]
"""HGGT (the bundled demo model) at a small crop."""
TYPESTORE = get_typestore(Stores.ROS2_JAZZY)
TOPICS = ("/cam0/image_raw", "/cam1/image_raw")
WORLD_FROM_REF = np.array(
    [[0.0, 0.0, 1.0, 0.4], [-1.0, 0.0, 0.0, -0.1], [0.0, -1.0, 0.0, 0.7], [0.0, 0.0, 0.0, 1.0]]
)
"""Where the example's camera 0 is in base_link (looking along the world's x)."""


def _calibration_yaml(path: Path, names: tuple[str, ...], with_k: bool = False) -> Path:
    """The example's first two true cameras, named ``names``, in base_link."""
    truth = load_ground_truth(demo_example_dir())
    lines = ["world_frame: base_link", "cameras:"]
    for index, name in enumerate(names):
        world_from_cam = WORLD_FROM_REF @ invert_rigid(truth.cam_from_ref[index])
        quaternion = matrix_to_quaternion(world_from_cam[:3, :3])
        lines += [
            f"  {name}:",
            f"    world_from_cam: {{translation: {world_from_cam[:3, 3].tolist()}, "
            f"quaternion: {quaternion.tolist()}}}",
        ]
        if with_k:
            lines.append(f"    K: {truth.intrinsics[index].tolist()}")
    path.write_text("\n".join(lines) + "\n")
    return path


@pytest.fixture
def two_views(tmp_path: Path) -> Path:
    """The example's first two views, without their cameras.json (no known K)."""
    folder = tmp_path / "views"
    folder.mkdir()
    for path in sorted(demo_example_dir().glob("view_*.jpg"))[:2]:
        shutil.copy(path, folder / path.name)
    return folder


def test_infer_with_a_calibration_writes_world_results(
    two_views: Path,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    caplog: pytest.LogCaptureFixture,
) -> None:
    calibration = _calibration_yaml(
        tmp_path / "calib.yaml", ("view_00", "view_01", "view_09"), with_k=True
    )
    out = tmp_path / "out"
    argv = ["infer", str(two_views), "-o", str(out), "--calibration", str(calibration)]
    assert main([*argv, *FAST, "--known-intrinsics", "--no-overlays"]) == 0
    printed = capsys.readouterr()
    [line] = [line for line in printed.out.splitlines() if "calibration:" in line]
    assert line.startswith(
        "  calibration: world frame 'base_link': 1 framesets aligned on cameras view_00, "
        "view_01, scale "
    )
    assert "calibration cameras view_09 match no input view" in caplog.text
    with np.load(out / "results.npz") as data:
        assert str(data["world_frame"]) == "base_link"
        assert data["world_aligned"].tolist() == [True]
        assert data["world_known_views"].tolist() == [[True, True]]
        scale = float(data["world_scale"][0])
    [result] = load_npz(out / "results.npz")
    # The calibration's K served as the views' known intrinsics (the input had none).
    truth = load_ground_truth(demo_example_dir())
    np.testing.assert_allclose(result.cameras[0].intrinsics, truth.intrinsics[0])
    # The cameras now hang from base_link: camera 0's centre is near its calibrated place.
    centre = invert_rigid(result.cameras[0].cam_from_ref)[:3, 3]
    assert np.linalg.norm(centre - WORLD_FROM_REF[:3, 3]) < 0.05
    assert np.isfinite(scale) and scale > 0
    assert "world_frame" in (out / "results.json").read_text()


def test_a_calibration_no_view_matches_leaves_results_in_the_camera_frame(
    two_views: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    calibration = _calibration_yaml(tmp_path / "calib.yaml", ("cam7",))
    out = tmp_path / "out"
    argv = ["infer", str(two_views), "-o", str(out), "--calibration", str(calibration)]
    assert main([*argv, *FAST, "--no-overlays"]) == 0
    printed = capsys.readouterr().out
    assert "  calibration: no known camera seen: results stay in camera view_00 frame" in printed
    with np.load(out / "results.npz") as data:
        assert data["world_aligned"].tolist() == [False]


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (None, "no such file"),
        ("world_frame: base_link\ncameras: {c: {world_from_cam: {translation: [0, 0, 0], "
         "quaternion: [0, 0, 0, 2]}}}\n", "cameras.c: quaternion must have unit length"),
        ("cameras: {}\n", "'world_frame' must be a non-empty string"),
    ],
    ids=["missing", "bad-quaternion", "no-world-frame"],
)  # fmt: skip
def test_a_bad_calibration_is_one_line_before_any_work(
    two_views: Path,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    content: str | None,
    message: str,
) -> None:
    path = tmp_path / "calib.yaml"
    if content is not None:
        path.write_text(content)
    out = tmp_path / "out"
    status = main(["infer", str(two_views), "-o", str(out), "--calibration", str(path), *FAST])
    error = capsys.readouterr().err.strip()
    assert status == 1 and len(error.splitlines()) == 1
    assert error.startswith(f"hggt infer: error: calibration {path}") and message in error
    assert not out.exists()


def _write_camera_bag(path: Path) -> None:
    """Two image topics (frames cam0_optical, cam1_optical), two framesets at 10 Hz."""
    views = sorted(demo_example_dir().glob("view_*.jpg"))[:2]
    images = [np.ascontiguousarray(cv2.imread(str(view))[..., ::-1]) for view in views]
    image_type = TYPESTORE.types["sensor_msgs/msg/Image"]
    header_type = TYPESTORE.types["std_msgs/msg/Header"]
    time_type = TYPESTORE.types["builtin_interfaces/msg/Time"]
    with Writer(path, version=8) as writer:
        connections = [
            writer.add_connection(topic, "sensor_msgs/msg/Image", typestore=TYPESTORE)
            for topic in TOPICS
        ]
        for frame in range(2):
            for camera, connection in enumerate(connections):
                stamp_ns = 1_700_000_000_000_000_000 + frame * 100_000_000
                rgb = images[camera]
                step, data = encode_image(rgb, "rgb8")
                header = header_type(time_type(*divmod(stamp_ns, 10**9)), f"cam{camera}_optical")
                message = image_type(
                    header, rgb.shape[0], rgb.shape[1], "rgb8", 0, step,
                    np.frombuffer(data, np.uint8),
                )  # fmt: skip
                raw = TYPESTORE.serialize_cdr(message, "sensor_msgs/msg/Image")
                writer.write(connection, stamp_ns, raw)


def test_bag_with_a_calibration_by_frame_id_writes_world_frame_ids_and_camera_tf(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    _write_camera_bag(tmp_path / "in_bag")
    calibration = _calibration_yaml(tmp_path / "calib.yaml", ("cam0_optical", "cam1_optical"))
    out = tmp_path / "out_bag"
    argv = ["bag", str(tmp_path / "in_bag"), "--topics", *TOPICS, "-o", str(out)]
    assert main([*argv, "--calibration", str(calibration), *FAST]) == 0
    assert "world frame 'base_link': 2 framesets aligned on cameras /cam0/image_raw" in (
        capsys.readouterr().out
    )
    frames: dict[str, set[str]] = {}
    children: set[str] = set()
    with Reader(out) as reader:
        for connection, _, data in reader.messages():
            message = TYPESTORE.deserialize_cdr(data, connection.msgtype)
            entries = getattr(message, "markers", None) or getattr(message, "transforms", None)
            headers = [entry.header for entry in entries] if entries else [message.header]
            frames.setdefault(connection.topic, set()).update(h.frame_id for h in headers)
            children.update(t.child_frame_id for t in getattr(message, "transforms", []))
    topics = ("/hand/mano", "/hand/right/joints", "/hand/markers", "/tf")
    assert frames == {topic: {"base_link"} for topic in topics}
    assert children == {"hggt/cam0_optical", "hggt/cam1_optical"}


def _video(path: Path, image: Path, frames: int) -> Path:
    bgr = cv2.imread(str(image))
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"MJPG"), 10.0, bgr.shape[1::-1])
    for _ in range(frames):
        writer.write(bgr)
    writer.release()
    return path


def test_live_with_a_calibration_streams_world_results(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    views = sorted(demo_example_dir().glob("view_*.jpg"))[:2]
    cameras = [_video(tmp_path / f"cam{i}.avi", view, 3) for i, view in enumerate(views)]
    calibration = _calibration_yaml(tmp_path / "calib.yaml", ("left", "right"))
    out = tmp_path / "out"
    argv = ["live", *(f"--camera={camera}" for camera in cameras), "--frames", "2"]
    argv += ["--name", "left", "--name", "right", "--calibration", str(calibration)]
    assert main([*argv, "-o", str(out), *FAST]) == 0
    lines = [json.loads(line) for line in (out / "results.jsonl").read_text().splitlines()]
    assert [line["world_frame"] for line in lines] == ["base_link", "base_link"]
    assert all(line["hands"][0]["world"]["cameras_used"] == ["left", "right"] for line in lines)
    with np.load(out / "results.npz") as data:
        assert str(data["world_frame"]) == "base_link"
        assert data["world_aligned"].tolist() == [True, True]
    assert "world frame 'base_link': 2 framesets aligned on cameras left, right" in (
        capsys.readouterr().out
    )


def test_infer_landmarks_with_a_calibration_triangulates_with_its_cameras(
    tmp_path: Path, examples_dir: Path, mediapipe_ready: None
) -> None:
    sample = examples_dir / "Oakink" / "sample_0000"
    landmarks = ["--engine", "landmarks", "--no-overlays"]
    assert main(["infer", str(sample), "-o", str(tmp_path / "estimate"), *landmarks]) == 0
    [estimate] = load_npz(tmp_path / "estimate" / "results.npz")
    assert estimate.views_used[:2] == ("view_00", "view_01")
    # A rig the estimate does not match: its two first cameras with the baseline 1.25 times
    # longer. Aligned after the fusion, the world scale would be ~1.25.
    lines = ["world_frame: base_link", "cameras:"]
    for camera in estimate.cameras[:2]:
        ref_from_cam = invert_rigid(camera.cam_from_ref)
        ref_from_cam[:3, 3] *= 1.25
        world_from_cam = WORLD_FROM_REF @ ref_from_cam
        quaternion = matrix_to_quaternion(world_from_cam[:3, :3]).tolist()
        translation = world_from_cam[:3, 3].tolist()
        lines += [f"  {camera.name}:"]
        lines += [f"    world_from_cam: {{translation: {translation}, quaternion: {quaternion}}}"]
    calibration = tmp_path / "calib.yaml"
    calibration.write_text("\n".join(lines) + "\n")
    out = tmp_path / "out"
    argv = ["infer", str(sample), "-o", str(out), "--calibration", str(calibration)]
    assert main([*argv, *landmarks]) == 0
    # The known cameras went into the fusion: the result already holds them, exactly.
    with np.load(out / "results.npz") as data:
        assert data["world_aligned"].tolist() == [True]
        assert float(data["world_scale"][0]) == pytest.approx(1.0, abs=1e-6)
        assert float(data["world_residual_m"][0]) < 1e-6
    [result] = load_npz(out / "results.npz")
    world_from_cam1 = invert_rigid(result.cameras[1].cam_from_ref)
    expected = invert_rigid(estimate.cameras[1].cam_from_ref)
    expected[:3, 3] *= 1.25
    np.testing.assert_allclose(world_from_cam1, WORLD_FROM_REF @ expected, atol=1e-4)
