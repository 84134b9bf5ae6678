# Copyright 2026 The HGGT-ROS Authors
# SPDX-License-Identifier: Apache-2.0
"""The user's own commands, for real: ``colcon build``, ``ros2 launch``, ``ros2 param``, Ctrl-C.

A colcon workspace holds the checkout (``src/hggt_ros`` -> the repository) and is built by a
colcon from its own virtual environment, as many users run it (so the installed ``hggt_node``
must not carry colcon's interpreter). Then, with the real ROS 2 Jazzy CLI:

* ``ros2 launch hggt_ros multi_cam.launch.py cameras:="[cam0, cam1, cam2]" engine:=torch``;
  images go out on ``/cam0..2/image_raw`` and ``/hand/mano`` must come back for every
  frameset (it is published with or without a hand); ``ros2 param set`` changes a run-time
  parameter; SIGINT to the launch's process group (what Ctrl-C sends) ends it with status 0
  and leaves no process; the node's log (redirected) has no colour codes and carries the
  core's warnings as ROS log lines.
* ``use_rviz:=true`` without RViz fails at once, saying why, and starts nothing; with RViz
  (an ament index entry stands in for it), the launch writes an RViz configuration for its
  cameras, namespace and reference frame.

Needs ../shared/ros beside the checkout (the ros2 CLI wheels), installed by
tools/setup_ros_env.sh with colcon; skipped without it, saying so. Inside the ROS test
environment (HGGT_ROS_ENV set) with ../shared/ros present, a missing piece fails instead.
"""

from __future__ import annotations

import os
import re
import subprocess
import time
from pathlib import Path
from typing import Any

import numpy as np
import pytest

yaml = pytest.importorskip("yaml", reason="PyYAML comes with the ROS environment (launch)")

CAMERAS = ("cam0", "cam1", "cam2")
FRAMESETS = 3
START_TIMEOUT_S = 90.0


def _ros2(workspace: Any, *arguments: str) -> str:
    """Runs ``ros2 ARGUMENTS`` (no daemon: nothing outlives the test); returns its stdout."""
    result = subprocess.run(
        ["ros2", *arguments, "--no-daemon", "--timeout", "20"],
        env=workspace.env, capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert result.returncode == 0, result.stdout + result.stderr
    return result.stdout


def test_ros2_launch_streams_sets_parameters_and_stops_on_ctrl_c(
    workspace: Any, start_launch: Any, launch_rig: Any, stop_launch: Any, session_alive: Any
) -> None:
    started_s = time.monotonic()
    process, log = start_launch("cameras:=[cam0, cam1, cam2]", "engine:=torch")
    rig = launch_rig(CAMERAS)
    rig.wait_until_connected(process, log)
    first_ns = time.time_ns()
    stamps = [first_ns + k * 100_000_000 for k in range(FRAMESETS)]
    rig.send_framesets(stamps)
    streamed_s = time.monotonic() - started_s
    set_output = _ros2(workspace, "param", "set", "/hggt_node", "sync.slop_s", "0.05")
    text = stop_launch(process, log)
    assert process.returncode == 0, text
    deadline = time.monotonic() + 5.0
    while session_alive(process.pid) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert session_alive(process.pid) == [], f"left running after Ctrl-C:\n{text}"

    assert "Set parameter successful" in set_output
    assert "sync settings now SyncConfig(slop_s=0.05," in text  # the node applied it
    by_stamp = {m.header.stamp.sec * 10**9 + m.header.stamp.nanosec: m for m in rig.mano}
    for stamp_ns in stamps:
        assert by_stamp[stamp_ns].header.frame_id == "cam0_optical_frame"
    assert re.search(r"process started with pid \[\d+\]", text)
    assert re.search(r"\[hggt_node-1\]: process has finished cleanly", text), text
    assert "Traceback" not in text, text
    assert "\x1b[" not in text, "colour codes in a redirected log"
    assert re.search(
        r"\[WARN\] \[[\d.]+\] \[hggt_node\.hggt_core\.assembly\.factory\]: no MANO", text
    )
    print(f"launch to {FRAMESETS} framesets out: {streamed_s:.1f} s")


def test_use_rviz_without_rviz2_fails_before_starting_anything(
    workspace: Any, start_launch: Any, session_alive: Any
) -> None:
    prefixes = workspace.env.get("AMENT_PREFIX_PATH", "").split(os.pathsep)
    index = "share/ament_index/resource_index/packages/rviz2"
    if any((Path(prefix) / index).is_file() for prefix in prefixes if prefix):
        pytest.skip("rviz2 is installed here")
    process, log = start_launch("cameras:=[cam0, cam1, cam2]", "engine:=torch", "use_rviz:=true")
    try:
        process.wait(START_TIMEOUT_S)
    except subprocess.TimeoutExpired:
        pytest.fail(f"launch did not stop:\n{log.read_text()}")
    text = log.read_text(errors="replace")
    assert process.returncode != 0, text
    assert "package 'rviz2' is not installed" in text and "nothing was started" in text
    assert "process started" not in text
    time.sleep(1.0)  # a node started anyway would still be running now
    assert session_alive(process.pid) == [], f"left running:\n{text}"


# Evaluates the launch file's node actions for use_rviz:=true as `ros2 launch` would (same
# environment, launch configurations set), and prints the RViz configuration file it wrote.
RVIZ_ACTIONS = """
import importlib.util, sys, tempfile
from launch import LaunchContext
tempfile.tempdir = sys.argv[2]
spec = importlib.util.spec_from_file_location("multi_cam_launch", sys.argv[1])
launch_file = importlib.util.module_from_spec(spec)
spec.loader.exec_module(launch_file)
context = LaunchContext()
context.launch_configurations.update(
    cameras="[left, right]", namespace="rig", use_rviz="true", engine="", device="",
    reference_frame="", calibration_file="", world_frame="", anchor_frame=sys.argv[4],
    params_file=sys.argv[3],
)
nodes = launch_file._nodes(context)
print(len(nodes))
"""


@pytest.mark.parametrize(
    ("anchor_frame", "fixed_frame"), [("", "left_optical_frame"), ("rig_base", "rig_base")]
)
def test_use_rviz_writes_an_rviz_config_for_this_launch(
    workspace: Any, tmp_path: Path, anchor_frame: str, fixed_frame: str
) -> None:
    fake_rviz = tmp_path / "fake_rviz"
    marker = fake_rviz / "share" / "ament_index" / "resource_index" / "packages" / "rviz2"
    marker.parent.mkdir(parents=True)
    marker.touch()
    env = {**workspace.env}
    env["AMENT_PREFIX_PATH"] = os.pathsep.join([str(fake_rviz), env["AMENT_PREFIX_PATH"]])
    share = workspace.root / "install" / "hggt_ros" / "share" / "hggt_ros"
    out = tmp_path / "out"
    out.mkdir()
    result = subprocess.run(
        ["python", "-c", RVIZ_ACTIONS, str(share / "launch" / "multi_cam.launch.py"), str(out),
         str(share / "config" / "hggt.yaml"), anchor_frame],
        env=env, capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["2"]  # hggt_node and rviz2
    (written,) = out.glob("hggt_*.rviz")
    manager = yaml.safe_load(written.read_text())["Visualization Manager"]
    assert manager["Global Options"]["Fixed Frame"] == fixed_frame  # the anchor, when given
    topics = {d["Name"]: d["Topic"]["Value"] for d in manager["Displays"] if "Topic" in d}
    assert topics["left image"] == "/rig/left/image_raw"
    assert topics["right image"] == "/rig/right/image_raw"
    assert topics["Hand markers"] == "/rig/hand/markers"
    assert "cam0 image" not in topics


def test_ros2_launch_without_weights_reconstructs_real_hands(
    start_launch: Any,
    launch_rig: Any,
    stop_launch: Any,
    examples_dir: Path,
    mediapipe_ready: None,
    tmp_path: Path,
) -> None:
    """The user's first run: no checkpoint, so the landmark engine, on real camera images."""
    from hggt_core.io.images import read_rgb
    from hggt_core.io.ros_schema import mano_joint_names

    sample = examples_dir / "Oakink" / "sample_0000"
    pixels = {f"cam{index}": read_rgb(sample / f"view_0{index}.jpg") for index in range(2)}
    # Reliable images: a best-effort 518 x 518 image (fragmented) is easily lost on a loaded
    # machine, and a re-sent stamp is not new to the node.
    params = tmp_path / "reliable.yaml"
    params.write_text("/**:\n  ros__parameters:\n    cameras.qos: reliable\n")
    process, log = start_launch("cameras:=[cam0, cam1]", f"params_file:={params}")
    rig = launch_rig(tuple(pixels), reliable=True)
    rig.wait_until_connected(process, log)
    stamps = [time.time_ns() + k * 100_000_000 for k in range(2)]
    rig.send_framesets(stamps, pixels)
    text = stop_launch(process, log)
    assert process.returncode == 0, text
    assert "landmarks on cpu" in text
    by_stamp = {m.header.stamp.sec * 10**9 + m.header.stamp.nanosec: m for m in rig.mano}
    for stamp_ns in stamps:
        message = by_stamp[stamp_ns]
        assert list(message.name) == mano_joint_names("right"), text
        # cam0's frame, or cam1's when a loaded machine let cam0's image miss the frameset.
        assert message.header.frame_id in {"cam0_optical_frame", "cam1_optical_frame"}
        assert np.isfinite(message.position).all()
