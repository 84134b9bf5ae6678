# Copyright 2026 The HGGT-ROS Authors
# SPDX-License-Identifier: Apache-2.0
"""``ros2 launch hggt_ros multi_cam.launch.py retarget:=true robot_urdf:=...``, for real.

A colcon workspace holds the checkout and is built with the project's colcon, as in
test_launch.py. Camera images go out on ``/cam0/image_raw``; hggt_node turns them into
``/hand/mano`` and hggt_retarget into the LEAP V1 KAIZEN hand's ``/retarget/joint_states``,
stamped with the images' stamps. A URDF that does not exist stops the launch before anything
starts. Needs ../shared/ros (the ros2 CLI) and the retarget extra; skipped without them, and
inside the ROS test environment (HGGT_ROS_ENV) a missing CLI fails instead.
"""

from __future__ import annotations

import os
import random
import signal
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest

REPO = Path(__file__).resolve().parents[2]
SHARED_ROS = REPO.parent / "shared" / "ros"
PREFIX = REPO / ".ros-install"
CLI_ENV = PREFIX / "cli" / "env.sh"
COLCON = PREFIX / "colcon" / "bin" / "colcon"
URDF = "pkg://ghand/assets/models/urdf/ghand_right.urdf"
HEIGHT, WIDTH = 48, 64
START_TIMEOUT_S = 90.0


def _unavailable(message: str) -> None:
    if os.environ.get("HGGT_ROS_ENV"):
        pytest.fail(f"inside the ROS test environment (HGGT_ROS_ENV is set): {message}")
    pytest.skip(message)


@pytest.fixture(scope="module")
def workspace_env(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    """The environment of a built colcon workspace holding the checkout."""
    pytest.importorskip("dex_retargeting", reason="the retarget extra is not installed")
    pytest.importorskip("ghand", reason="the retarget extra (ghand's URDF) is not installed")
    if not SHARED_ROS.is_dir():
        pytest.skip(f"{SHARED_ROS} is absent: the ros2 CLI (launch, ros2cli) comes from there")
    if not (CLI_ENV.is_file() and COLCON.is_file()):
        _unavailable(f"{CLI_ENV} or {COLCON} is missing: run tools/setup_ros_env.sh")
    root = tmp_path_factory.mktemp("colcon_ws")
    (root / "src").mkdir()
    (root / "src" / "hggt_ros").symlink_to(REPO, target_is_directory=True)
    build = subprocess.run(
        [str(COLCON), "build"], cwd=root, capture_output=True, text=True, timeout=300
    )
    assert build.returncode == 0, build.stdout + build.stderr
    script = f". '{CLI_ENV}' && . '{root}/install/setup.bash' && env -0"
    shell = subprocess.run(["bash", "-c", script], capture_output=True, timeout=60, check=True)
    env = dict(item.split("=", 1) for item in shell.stdout.decode().split("\0") if "=" in item)
    env["ROS_DOMAIN_ID"] = str(random.randrange(1, 101))
    env["ROS_LOG_DIR"] = str(root / "ros_log")
    return env


@pytest.fixture
def launch(workspace_env: dict[str, str], tmp_path: Path) -> Iterator[Any]:
    """Starts ``ros2 launch hggt_ros multi_cam.launch.py ARGS`` in its own session."""
    started: list[subprocess.Popen[bytes]] = []

    def start(*arguments: str) -> tuple[subprocess.Popen[bytes], Path]:
        log = tmp_path / f"launch{len(started)}.log"
        with log.open("wb") as output:
            process = subprocess.Popen(
                ["ros2", "launch", "hggt_ros", "multi_cam.launch.py", *arguments],
                env=workspace_env, cwd=tmp_path, stdout=output, stderr=subprocess.STDOUT,
                start_new_session=True,
            )  # fmt: skip
        started.append(process)
        return process, log

    yield start
    for process in started:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()


def _image(stamp_ns: int) -> Any:
    from sensor_msgs.msg import Image

    message = Image(height=HEIGHT, width=WIDTH, encoding="rgb8", step=WIDTH * 3)
    rng = np.random.default_rng(stamp_ns % 2**32)
    message.data = rng.integers(0, 256, HEIGHT * WIDTH * 3, dtype=np.uint8).tobytes()
    message.header.stamp.sec, message.header.stamp.nanosec = divmod(stamp_ns, 10**9)
    message.header.frame_id = "cam0_optical_frame"
    return message


def test_multi_cam_launch_drives_the_robot_hand(
    workspace_env: dict[str, str], launch: Any
) -> None:
    import rclpy
    import rclpy.context
    import rclpy.executors
    from rclpy.qos import qos_profile_sensor_data
    from sensor_msgs.msg import Image, JointState

    process, log = launch(
        "cameras:=[cam0]", "engine:=torch", "retarget:=true", f"robot_urdf:={URDF}"
    )
    context = rclpy.context.Context()
    rclpy.init(context=context, domain_id=int(workspace_env["ROS_DOMAIN_ID"]))
    node = rclpy.create_node("retarget_launch_test", context=context)
    executor = rclpy.executors.SingleThreadedExecutor(context=context)
    executor.add_node(node)
    camera = node.create_publisher(Image, "/cam0/image_raw", qos_profile_sensor_data)
    received: list[Any] = []
    subscription = node.create_subscription(
        JointState, "/retarget/joint_states", received.append, 50
    )

    def spin_until(done: Any, timeout_s: float) -> bool:
        deadline = time.monotonic() + timeout_s
        while not done() and time.monotonic() < deadline and process.poll() is None:
            executor.spin_once(timeout_sec=0.02)
        return bool(done())

    try:
        ready = spin_until(
            lambda: camera.get_subscription_count() > 0 and subscription.get_publisher_count() > 0,
            START_TIMEOUT_S,
        )
        assert ready, f"the nodes did not start:\n{log.read_text()}"
        # hggt_node and hggt_retarget discover each other on their own time; a frameset that
        # goes out before they have is lost (and hggt_node ignores its stamp when re-sent).
        warm_up_deadline = time.monotonic() + START_TIMEOUT_S
        while not received and time.monotonic() < warm_up_deadline:
            camera.publish(_image(time.time_ns()))
            spin_until(lambda: bool(received), 0.5)
        assert received, f"no joint states at all:\n{log.read_text()}"
        stamps = [time.time_ns() + k * 100_000_000 for k in range(3)]
        for stamp_ns in stamps:
            deadline = time.monotonic() + 30.0
            while time.monotonic() < deadline and not any(
                m.header.stamp.sec * 10**9 + m.header.stamp.nanosec == stamp_ns for m in received
            ):
                camera.publish(_image(stamp_ns))
                spin_until(lambda s=stamp_ns: any(
                    m.header.stamp.sec * 10**9 + m.header.stamp.nanosec == s for m in received
                ), 2.0)  # fmt: skip
        out_stamps = {m.header.stamp.sec * 10**9 + m.header.stamp.nanosec for m in received}
    finally:
        executor.shutdown()
        node.destroy_node()
        rclpy.shutdown(context=context)
        os.killpg(process.pid, signal.SIGINT)
        process.wait(30)
    text = log.read_text(errors="replace")
    assert set(stamps) <= out_stamps, text  # one robot JointState per frameset, same stamp
    assert sorted(received[-1].name) == sorted(f"id{k}" for k in range(16))
    assert "[hggt_retarget-2]: process has finished cleanly" in text, text


def test_a_missing_urdf_starts_nothing(launch: Any) -> None:
    process, log = launch("cameras:=[cam0]", "retarget:=true", "robot_urdf:=/no/such/hand.urdf")
    process.wait(START_TIMEOUT_S)
    text = log.read_text(errors="replace")
    assert process.returncode != 0, text
    assert "retargeting: robot URDF /no/such/hand.urdf: no such file" in text, text
    assert "nothing was started" in text and "process started" not in text
