# Copyright 2026 The HGGT-ROS Authors
# SPDX-License-Identifier: Apache-2.0
"""End-to-end runs of the ``hggt`` command on CPU (small models, procedural MANO)."""

import dataclasses
import json
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import cv2
import numpy as np
import pytest
import torch
from rosbags.rosbag2 import Reader, Writer
from rosbags.typesys import Stores, get_typestore
from safetensors.torch import save_file

from hggt_core.cli import frameset_run, main
from hggt_core.engine import registry
from hggt_core.engine.registry import UNTRAINED_CONFIG
from hggt_core.io.exports import load_npz
from hggt_core.io.image_encoding import encode_image
from hggt_core.io.ros_schema import decode_mano_joint_state
from hggt_core.model import HGGT
from hggt_core.model.checkpoint import save_hggt_checkpoint
from hggt_core.pipeline.types import HandResult
from hggt_core.render.demo import demo_example_dir

FAST = ["--engine", "torch", "--crop-size", "112"]
"""HGGT (the bundled demo model unless a checkpoint is given) at a small crop."""
TYPESTORE = get_typestore(Stores.ROS2_JAZZY)
TOPICS = ("/cam0/image_raw", "/cam1/image_raw")
EPOCH_NS = 1_700_000_000_123_456_789
"""A realistic camera stamp with odd nanoseconds (float64 seconds resolve 238 ns there)."""


def _image_stamp_ns(frame: int, camera: int) -> int:
    """The bag's image stamps: 10 Hz, camera 1 2 ms after camera 0, odd nanoseconds."""
    return EPOCH_NS + frame * 100_000_037 + camera * 2_000_000


def _printed_number(printed: str, label: str) -> float:
    [line] = [line for line in printed.splitlines() if line.strip().startswith(label)]
    return float(line.split()[-1])


def test_demo_runs_every_stage_with_the_bundled_model_and_scores_it(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["demo", "-o", str(tmp_path / "out")]) == 0
    printed = capsys.readouterr().out
    assert "bundled demo model" in printed and "meaningless" not in printed
    # Measured 28.7 mm on the bundled example; the mean hand of its distribution scores ~62.
    assert _printed_number(printed, "RR-MPJPE [mm]") < 35.0
    assert "PA-MPJPE [mm]" in printed and "camera rotation error [deg]" in printed
    [result] = load_npz(tmp_path / "out" / "results.npz")
    assert result.views_used == ("view_00", "view_01", "view_02", "view_03")
    assert result.vertices.shape == (778, 3) and np.isfinite(result.vertices).all()
    assert len(list((tmp_path / "out" / "overlays" / "00000").glob("*.jpg"))) == 4
    assert (tmp_path / "out" / "overlays" / "00000_mosaic.jpg").is_file()
    assert (tmp_path / "out" / "meshes" / "00000_right.obj").is_file()


def test_demo_without_a_model_says_its_numbers_are_meaningless(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(registry, "BUNDLED_MODEL", tmp_path / "not_shipped.safetensors")
    assert main(["demo", "-o", str(tmp_path / "out"), *FAST]) == 0
    printed = capsys.readouterr().out
    assert "random weights" in printed and "meaningless" in printed
    assert "untrained tiny network" in printed


@pytest.fixture
def example_copy(tmp_path: Path) -> Path:
    folder = tmp_path / "views"
    folder.mkdir()
    for path in sorted(demo_example_dir().glob("view_*.jpg"))[:2]:
        shutil.copy(path, folder / path.name)
    return folder


@pytest.fixture
def checkpoint(tmp_path: Path) -> Path:
    torch.manual_seed(3)
    path = tmp_path / "model.safetensors"
    save_hggt_checkpoint(HGGT(UNTRAINED_CONFIG), path)
    return path


def test_infer_with_a_checkpoint(example_copy: Path, checkpoint: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    status = main(["infer", str(example_copy), "--checkpoint", str(checkpoint), "-o", str(out)])
    assert status == 0
    [result] = load_npz(out / "results.npz")
    assert result.views_used == ("view_00", "view_01")
    assert (out / "results.json").is_file()


def test_checkpoint_that_does_not_fit_is_a_one_line_error(
    example_copy: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    narrower = HGGT(dataclasses.replace(UNTRAINED_CONFIG, embed_dim=32, num_heads=2))
    path = tmp_path / "mislabelled.safetensors"
    metadata = {"hggt_config": json.dumps(dataclasses.asdict(UNTRAINED_CONFIG))}
    save_file({k: v.contiguous() for k, v in narrower.state_dict().items()}, str(path), metadata)
    status = main(["infer", str(example_copy), "--checkpoint", str(path), *FAST])
    error = capsys.readouterr().err
    assert status == 1
    assert error.startswith("hggt infer: error: checkpoint") and "wrong shape" in error
    assert len(error.strip().splitlines()) == 1


@pytest.mark.parametrize(
    ("make_input", "message"),
    [
        (lambda folder: folder / "absent", "not found"),
        (lambda folder: _corrupt_copy(folder), "view_01"),
        (lambda folder: _empty(folder.parent / "empty"), "empty"),
    ],
    ids=["missing", "corrupt-jpeg", "empty-folder"],
)
def test_bad_inputs_fail_cleanly(
    example_copy: Path,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    make_input: Callable[[Path], Path],
    message: str,
) -> None:
    out = tmp_path / "out"
    status = main(["infer", str(make_input(example_copy)), "-o", str(out), *FAST])
    error = capsys.readouterr().err
    assert status == 1
    assert error.startswith("hggt infer: error:") and message in error
    assert not (out / "results.npz").exists()


def _corrupt_copy(folder: Path) -> Path:
    view = folder / "view_01.jpg"
    view.write_bytes(view.read_bytes()[: view.stat().st_size // 2])
    return folder


def _empty(folder: Path) -> Path:
    folder.mkdir()
    return folder


def _sequence(tmp_path: Path, corrupt_second: bool) -> Path:
    """A folder of two framesets (two views each); the second's view_01 cut in half."""
    root = tmp_path / "sequence"
    for frameset in ("f0", "f1"):
        (root / frameset).mkdir(parents=True)
        for view in sorted(demo_example_dir().glob("view_*.jpg"))[:2]:
            shutil.copy(view, root / frameset / view.name)
    if corrupt_second:
        _corrupt_copy(root / "f1")
    return root


def _leftovers(folder: Path) -> list[str]:
    return sorted(path.name for path in folder.iterdir() if path.name.startswith("."))


def test_infer_writes_the_whole_output_or_nothing(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "out"
    status = main(["infer", str(_sequence(tmp_path, corrupt_second=True)), "-o", str(out), *FAST])
    error = capsys.readouterr().err
    assert status == 1 and "f1/view_01.jpg" in error and len(error.strip().splitlines()) == 1
    assert not out.exists()  # not even the first frameset's mesh and overlays
    assert _leftovers(tmp_path) == []


def test_infer_keeps_an_earlier_output_when_it_fails_and_replaces_it_when_it_succeeds(
    tmp_path: Path,
) -> None:
    out = tmp_path / "out"
    assert main(["infer", str(_sequence(tmp_path, False)), "-o", str(out), *FAST]) == 0
    assert (out / "meshes" / "00001_right.obj").is_file()
    earlier = (out / "results.npz").read_bytes()
    shutil.rmtree(tmp_path / "sequence")
    assert main(["infer", str(_sequence(tmp_path, True)), "-o", str(out), *FAST]) == 1
    assert (out / "results.npz").read_bytes() == earlier
    one = tmp_path / "one"
    shutil.copytree(tmp_path / "sequence" / "f0", one)
    assert main(["infer", str(one), "-o", str(out), *FAST, "--no-overlays"]) == 0
    assert sorted(path.name for path in out.iterdir()) == ["meshes", "results.json", "results.npz"]
    assert [path.name for path in (out / "meshes").iterdir()] == ["00000_right.obj"]
    assert len(load_npz(out / "results.npz")) == 1
    assert _leftovers(tmp_path) == []


def test_infer_refuses_a_folder_of_other_files_before_loading_a_model(
    example_copy: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    mine = tmp_path / "mine"
    mine.mkdir()
    (mine / "notes.txt").write_text("keep me")
    checkpoint = tmp_path / "never_read.safetensors"  # does not exist: never loaded
    status = main(["infer", str(example_copy), "-o", str(mine), "--checkpoint", str(checkpoint)])
    error = capsys.readouterr().err
    assert status == 1 and len(error.strip().splitlines()) == 1
    assert "holds other files (notes.txt)" in error and "never_read" not in error
    assert [path.name for path in mine.iterdir()] == ["notes.txt"]


def _write_videos(folder: Path, frames: int = 3) -> list[Path]:
    images = [cv2.imread(str(p)) for p in sorted(demo_example_dir().glob("view_*.jpg"))[:2]]
    paths = []
    for index, image in enumerate(images):
        path = folder / f"cam{index}.avi"
        writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"MJPG"), 10.0, (112, 112))
        assert writer.isOpened(), "OpenCV cannot write MJPG/AVI here"
        for _ in range(frames):
            writer.write(cv2.resize(image, (112, 112)))
        writer.release()
        paths.append(path)
    return paths


def test_interrupted_video_run_leaves_nothing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    run_framesets = frameset_run.run_framesets

    def interrupted_after_one(pipeline, framesets, sink, total):  # type: ignore[no-untyped-def]
        def first_then_ctrl_c():  # type: ignore[no-untyped-def]
            yield next(iter(framesets))
            raise KeyboardInterrupt

        return run_framesets(pipeline, first_then_ctrl_c(), sink, total)

    monkeypatch.setattr(frameset_run, "run_framesets", interrupted_after_one)
    videos = _write_videos(tmp_path)
    out = tmp_path / "out"
    assert main(["infer", *map(str, videos), "-o", str(out), *FAST]) == 130
    assert "interrupted" in capsys.readouterr().err
    assert not out.exists() and _leftovers(tmp_path) == []


def test_checkpoint_of_random_bytes_is_a_one_line_error(
    example_copy: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "random.pt"
    path.write_bytes(np.random.default_rng(0).integers(0, 256, 4096, dtype=np.uint8).tobytes())
    out = tmp_path / "out"
    status = main(["infer", str(example_copy), "--checkpoint", str(path), "-o", str(out)])
    error = capsys.readouterr().err
    assert status == 1 and len(error.strip().splitlines()) == 1
    assert error.startswith(f"hggt infer: error: checkpoint {path} is not a PyTorch or ")
    assert len(error.replace(str(path), "")) < 150 and "weights_only" not in error
    assert not out.exists() and _leftovers(tmp_path) == []


def _message(name: str, *fields: object) -> object:
    return TYPESTORE.types[name](*fields)


def _header(stamp_ns: int, frame_id: str) -> object:
    time = _message("builtin_interfaces/msg/Time", stamp_ns // 10**9, stamp_ns % 10**9)
    return _message("std_msgs/msg/Header", time, frame_id)


def _camera_info(stamp_ns: int, camera: int) -> object:
    """A 224 x 224 calibration binned 2 x 2 to the 112 x 112 images (ROS pixel centres)."""
    k = np.array([200.0 + 10 * camera, 0.0, 111.5, 0.0, 205.0, 110.5, 0.0, 0.0, 1.0])
    roi = _message("sensor_msgs/msg/RegionOfInterest", 0, 0, 0, 0, False)
    return _message(
        "sensor_msgs/msg/CameraInfo", _header(stamp_ns, f"cam{camera}_optical"), 224, 224,
        "plumb_bob", np.zeros(5), k, np.eye(3).reshape(-1), np.zeros(12), 2, 2, roi,
    )  # fmt: skip


def _write_camera_bag(path: Path, camera_info: bool = False) -> None:
    images = [cv2.imread(str(p))[..., ::-1] for p in sorted(demo_example_dir().glob("*.jpg"))]
    with Writer(path, version=8) as writer:
        connections = [
            writer.add_connection(topic, "sensor_msgs/msg/Image", typestore=TYPESTORE)
            for topic in TOPICS
        ]
        info_topics = [topic.replace("image_raw", "camera_info") for topic in TOPICS]
        infos = [
            writer.add_connection(topic, "sensor_msgs/msg/CameraInfo", typestore=TYPESTORE)
            for topic in (info_topics if camera_info else [])
        ]
        for frame in range(3):
            for camera, connection in enumerate(connections):
                stamp_ns = _image_stamp_ns(frame, camera)
                rgb = np.ascontiguousarray(cv2.resize(images[camera + frame], (112, 112)))
                step, data = encode_image(rgb, "rgb8")
                message = _message(
                    "sensor_msgs/msg/Image", _header(stamp_ns, f"cam{camera}_optical"),
                    112, 112, "rgb8", 0, step, np.frombuffer(data, np.uint8),
                )  # fmt: skip
                if infos:
                    info = TYPESTORE.serialize_cdr(
                        _camera_info(stamp_ns, camera), infos[0].msgtype
                    )
                    writer.write(infos[camera], stamp_ns, info)
                writer.write(
                    connection,
                    stamp_ns,
                    TYPESTORE.serialize_cdr(message, "sensor_msgs/msg/Image"),
                )


def test_bag_in_bag_out(tmp_path: Path) -> None:
    _write_camera_bag(tmp_path / "in_bag")
    out = tmp_path / "out_bag"
    status = main(["bag", str(tmp_path / "in_bag"), "--topics", *TOPICS, "-o", str(out), *FAST])
    assert status == 0
    messages: dict[str, list[tuple[int, object]]] = {}
    with Reader(out) as reader:
        topics = {connection.topic: connection.msgtype for connection in reader.connections}
        assert topics["/hand/mano"] == "sensor_msgs/msg/JointState"
        assert topics["/tf"] == "tf2_msgs/msg/TFMessage"
        for connection, log_ns, data in reader.messages():
            message = TYPESTORE.deserialize_cdr(data, connection.msgtype)
            messages.setdefault(connection.topic, []).append((log_ns, message))
    states = [state for _, state in messages["/hand/mano"]]
    assert len(states) == 3
    # Every output is stamped with its frameset's reference image stamp, to the nanosecond.
    camera0_ns = [_image_stamp_ns(frame, 0) for frame in range(3)]
    for topic in ("/hand/mano", "/hand/right/joints", "/hand/markers", "/tf"):
        assert [log_ns for log_ns, _ in messages[topic]] == camera0_ns, topic
        headers = [_header_stamps_ns(message) for _, message in messages[topic]]
        assert all(len(set(stamps)) == 1 for stamps in headers), topic
        assert [stamps[0] for stamps in headers] == camera0_ns, topic
    assert {state.header.frame_id for state in states} == {"cam0_optical"}
    hand = decode_mano_joint_state(list(states[0].name), list(states[0].position))["right"]
    assert hand.hand_pose.shape == (48,)


def _header_stamps_ns(message: Any) -> list[int]:
    """The header stamps of a message, or of every entry of a MarkerArray / TFMessage."""
    entries = getattr(message, "markers", None) or getattr(message, "transforms", None)
    headers = [entry.header for entry in entries] if entries else [message.header]
    return [header.stamp.sec * 10**9 + header.stamp.nanosec for header in headers]


def test_bag_without_the_topics_names_what_it_has(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    _write_camera_bag(tmp_path / "in_bag")
    status = main(
        ["bag", str(tmp_path / "in_bag"), "--topics", "/cam9", "-o", str(tmp_path / "o")]
    )
    error = capsys.readouterr().err
    assert status == 1
    assert "/cam9" in error and "/cam0/image_raw" in error
    assert not (tmp_path / "o").exists()


def _recording_results(monkeypatch: pytest.MonkeyPatch) -> list[HandResult]:
    """Every HandResult the ``hggt`` command computes, as it is computed."""
    recorded: list[HandResult] = []
    run_framesets = frameset_run.run_framesets

    def recording(pipeline, framesets, sink, total):  # type: ignore[no-untyped-def]
        def record(index, frameset, results):  # type: ignore[no-untyped-def]
            recorded.extend(results)
            sink(index, frameset, results)

        return run_framesets(pipeline, framesets, record, total)

    monkeypatch.setattr(frameset_run, "run_framesets", recording)
    return recorded


@pytest.mark.parametrize("known", [True, False], ids=["known-intrinsics", "estimated"])
def test_bag_reads_the_camera_info_beside_each_image_topic(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    known: bool,
) -> None:
    _write_camera_bag(tmp_path / "in_bag", camera_info=True)
    results = _recording_results(monkeypatch)
    args = ["bag", str(tmp_path / "in_bag"), "--topics", *TOPICS, "-o", str(tmp_path / "o")]
    assert main([*args, *FAST, *([] if known else ["--no-known-intrinsics"])]) == 0
    assert len(results) == 3 and all(len(result.cameras) == 2 for result in results)
    for result in results:
        for index, camera in enumerate(result.cameras):
            # The node's conversion: +0.5 px to this project's pixel centres, then binning.
            expected = [[100.0 + 5 * index, 0.0, 56.0], [0.0, 102.5, 55.5], [0.0, 0.0, 1.0]]
            assert np.allclose(camera.intrinsics, expected) == known
    printed = capsys.readouterr().out
    assert "camera_info: /cam0/camera_info, /cam1/camera_info;" in printed
    assert ("the estimate is corrected to these known intrinsics" in printed) == known


def test_bag_without_camera_info_says_known_intrinsics_do_nothing(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    _write_camera_bag(tmp_path / "in_bag")
    args = ["bag", str(tmp_path / "in_bag"), "--topics", *TOPICS, "-o", str(tmp_path / "o")]
    assert main([*args, *FAST, "--known-intrinsics"]) == 0
    assert "camera_info: none in the bag, so --known-intrinsics has no effect" in (
        capsys.readouterr().out
    )


@pytest.mark.slow
@pytest.mark.filterwarnings("ignore::DeprecationWarning", "ignore::FutureWarning")
def test_export_onnx_then_infer_with_onnx_runtime(
    example_copy: Path, checkpoint: Path, tmp_path: Path
) -> None:
    onnx_path = tmp_path / "hggt.onnx"
    export_args = ["export-onnx", "--checkpoint", str(checkpoint), "-o", str(onnx_path)]
    assert main([*export_args, "--crop-size", "112", "--max-views", "4"]) == 0
    out = tmp_path / "onnx_out"
    args = ["infer", str(example_copy), "--engine", "onnx", "--checkpoint", str(onnx_path)]
    assert main([*args, "-o", str(out), "--no-overlays"]) == 0
    [onnx_result] = load_npz(out / "results.npz")
    torch_out = tmp_path / "torch_out"
    args = ["infer", str(example_copy), "--checkpoint", str(checkpoint), *FAST]
    assert main([*args, "-o", str(torch_out), "--no-overlays"]) == 0
    [torch_result] = load_npz(torch_out / "results.npz")
    np.testing.assert_allclose(onnx_result.hand_pose, torch_result.hand_pose, atol=1e-4)
    np.testing.assert_allclose(onnx_result.vertices, torch_result.vertices, atol=1e-4)
