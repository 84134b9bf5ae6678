# Copyright 2026 The HGGT-ROS Authors
# SPDX-License-Identifier: Apache-2.0
"""``hggt live`` with video files standing in for cameras (no camera device exists here).

OpenCV's VideoCapture opens devices, stream URLs and files through one call, so two short
videos of the real example crops exercise the live path: grabbing, the landmark engine,
the JSON-lines stream, the npz at the end and the overlays.
"""

import json
from pathlib import Path

import cv2
import pytest

from hggt_core.cli import main
from hggt_core.io.exports import load_npz
from hggt_core.io.images import read_rgb


def _video(path: Path, image_path: Path, frames: int) -> Path:
    bgr = cv2.cvtColor(read_rgb(image_path), cv2.COLOR_RGB2BGR)
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"MJPG"), 10.0, bgr.shape[1::-1])
    for _ in range(frames):
        writer.write(bgr)
    writer.release()
    return path


def test_live_cameras_stream_hands_to_json_lines(
    tmp_path: Path, examples_dir: Path, mediapipe_ready: None, capsys: pytest.CaptureFixture[str]
) -> None:
    sample = examples_dir / "Oakink" / "sample_0000"
    cameras = [
        _video(tmp_path / f"cam{index}.avi", sample / f"view_0{index}.jpg", frames=4)
        for index in range(2)
    ]
    out = tmp_path / "out"
    argv = ["live", *(f"--camera={camera}" for camera in cameras), "--frames", "3"]
    assert main([*argv, "-o", str(out), "--save-overlays"]) == 0
    lines = [json.loads(line) for line in (out / "results.jsonl").read_text().splitlines()]
    assert [line["frameset"] for line in lines] == [0, 1, 2]
    assert all(line["views"] == ["cam0", "cam1"] for line in lines)
    assert all([hand["side"] for hand in line["hands"]] == ["right"] for line in lines)
    results = load_npz(out / "results.npz")
    assert len(results) == 3 and all(result.views_used == ("cam0", "cam1") for result in results)
    assert len(list((out / "overlays").glob("*.jpg"))) == 3
    assert "engine: landmarks" in capsys.readouterr().out


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--camera", "9"], "cannot open camera device 9"),
        (["--camera", "/nonexistent/cam.avi"], "cannot open camera stream or file"),
        (["--camera", "0", "--show"], "--show needs an OpenCV build with GUI support"),
    ],
)
def test_a_missing_camera_or_display_is_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], argv: list[str], message: str
) -> None:
    assert main(["live", *argv, "-o", str(tmp_path / "out")]) == 1
    error = capsys.readouterr().err.strip()
    assert error.startswith("hggt live: error:") and message in error
    assert len(error.splitlines()) == 1
