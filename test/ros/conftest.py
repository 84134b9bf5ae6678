# Copyright 2026 The HGGT-ROS Authors
# SPDX-License-Identifier: Apache-2.0
"""Fixtures of the node tests: nodes in subprocesses, the user's colcon workspace and launch.

``start_node`` runs a node on a private ROS domain; ``workspace`` builds a colcon workspace
holding the checkout and ``start_launch`` runs ``ros2 launch`` in it (they need
../shared/ros, installed by tools/setup_ros_env.sh, and skip without it). ``launch_rig``
makes the launched node's surroundings (:class:`Rig`: cameras publishing images, output
subscribers) on the workspace's domain, and ``stop_launch`` ends a launch as Ctrl-C does.
"""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pytest

REPO = Path(__file__).resolve().parents[2]
SHARED_ROS = REPO.parent / "shared" / "ros"
PREFIX = REPO / ".ros-install"
CLI_ENV = PREFIX / "cli" / "env.sh"
COLCON = PREFIX / "colcon" / "bin" / "colcon"
NodeStarter = Callable[[str, list[str]], tuple[subprocess.Popen[str], int]]
HEIGHT, WIDTH = 48, 64
"""Size of the random images of :func:`image_message` (pixels)."""
START_TIMEOUT_S = 90.0
"""How long a launched node may take to subscribe to its cameras and advertise its outputs."""
OUTPUT_TIMEOUT_S = 30.0
"""How long a frameset may take to come back as ``/hand/mano`` (re-sent every 2 s)."""
STOP_TIMEOUT_S = 30.0
"""How long a launch may take to end after SIGINT."""


@pytest.fixture
def start_node(tmp_path: Path) -> Iterator[NodeStarter]:
    """``start(module, ros_args)`` runs ``python -m module --ros-args ...`` on a new domain.

    Returns (process, domain). The node's output goes to a log that is printed at teardown
    (pytest shows it when the test fails); the process is terminated then, killed if needed.
    """
    started: list[tuple[subprocess.Popen[str], Path]] = []

    def start(module: str, ros_args: list[str]) -> tuple[subprocess.Popen[str], int]:
        domain = random.randrange(1, 101)
        env = {
            **os.environ,
            "ROS_DOMAIN_ID": str(domain),
            "ROS_AUTOMATIC_DISCOVERY_RANGE": "LOCALHOST",
        }
        env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(REPO), env.get("PYTHONPATH")]))
        log = tmp_path / f"node{len(started)}.log"
        with log.open("w") as output:
            process = subprocess.Popen(
                [sys.executable, "-m", module, "--ros-args", *ros_args],
                env=env, stdout=output, stderr=subprocess.STDOUT, text=True,
            )  # fmt: skip
        started.append((process, log))
        return process, domain

    yield start
    for process, log in started:
        process.terminate()
        try:
            process.wait(10)
        except subprocess.TimeoutExpired:
            process.kill()
        print(log.read_text())


@dataclass(frozen=True)
class Workspace:
    """A built colcon workspace and the environment to run ``ros2`` in it."""

    root: Path
    env: dict[str, str]


def _unavailable(message: str) -> None:
    if os.environ.get("HGGT_ROS_ENV"):
        pytest.fail(f"inside the ROS test environment (HGGT_ROS_ENV is set): {message}")
    pytest.skip(message)


@pytest.fixture(scope="session")
def workspace(tmp_path_factory: pytest.TempPathFactory) -> Workspace:
    """``colcon build`` of a workspace holding the checkout; the environment of its setup.bash."""
    if not SHARED_ROS.is_dir():
        pytest.skip(f"{SHARED_ROS} is absent: the ros2 CLI (launch, ros2cli) comes from there")
    if not (CLI_ENV.is_file() and COLCON.is_file()):
        _unavailable(f"{CLI_ENV} or {COLCON} is missing: run tools/setup_ros_env.sh")
    root = tmp_path_factory.mktemp("colcon_ws")
    (root / "src").mkdir()
    (root / "src" / "hggt_ros").symlink_to(REPO, target_is_directory=True)
    build = subprocess.run(
        [str(COLCON), "build"],
        cwd=root, capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert build.returncode == 0, build.stdout + build.stderr
    # The user's shell: the ROS environment, then the workspace's setup.bash.
    script = f". '{CLI_ENV}' && . '{root}/install/setup.bash' && env -0"
    shell = subprocess.run(["bash", "-c", script], capture_output=True, timeout=60, check=True)
    env = dict(item.split("=", 1) for item in shell.stdout.decode().split("\0") if "=" in item)
    env["ROS_DOMAIN_ID"] = str(random.randrange(1, 101))
    env["ROS_LOG_DIR"] = str(root / "ros_log")
    return Workspace(root, env)


def _session_alive(leader: int) -> list[int]:
    """Processes still alive (zombies aside) in the session that ``leader`` started."""
    alive = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:  # the process ended meanwhile
            continue
        fields = stat.rsplit(")", 1)[-1].split()  # after "pid (comm)": state ppid pgrp session
        if fields[0] != "Z" and int(fields[3]) == leader:
            alive.append(int(entry.name))
    return alive


@pytest.fixture
def start_launch(workspace: Workspace, tmp_path: Path) -> Iterator[Any]:
    """Starts ``ros2 launch hggt_ros multi_cam.launch.py ARGS`` in its own session.

    A session of its own is what a terminal's job control gives (and more): Ctrl-C there
    sends SIGINT to the whole process group, as the tests do. Processes left in the session
    at the end are killed (by id) after the test has looked at them.
    """
    started: list[subprocess.Popen[bytes]] = []

    def start(*arguments: str) -> tuple[subprocess.Popen[bytes], Path]:
        log = tmp_path / f"launch{len(started)}.log"
        with log.open("wb") as output:
            process = subprocess.Popen(
                ["ros2", "launch", "hggt_ros", "multi_cam.launch.py", *arguments],
                env=workspace.env, cwd=tmp_path, stdout=output, stderr=subprocess.STDOUT,
                start_new_session=True,
            )  # fmt: skip
        started.append(process)
        return process, log

    yield start
    for process in started:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()
        for pid in _session_alive(process.pid):
            os.kill(pid, signal.SIGKILL)


@pytest.fixture
def session_alive() -> Callable[[int], list[int]]:
    """The processes still alive in the session a launch started (by its leader's id)."""
    return _session_alive


def _stop_launch(process: subprocess.Popen[bytes], log: Path) -> str:
    """Ctrl-C: SIGINT to the launch's process group; returns the log once it has ended."""
    os.killpg(process.pid, signal.SIGINT)
    try:
        process.wait(STOP_TIMEOUT_S)
    except subprocess.TimeoutExpired:
        pytest.fail(f"launch ignored SIGINT for {STOP_TIMEOUT_S} s:\n{log.read_text()}")
    return log.read_text(errors="replace")


@pytest.fixture
def stop_launch() -> Callable[[subprocess.Popen[bytes], Path], str]:
    """``stop(process, log)``: Ctrl-C to a launch from ``start_launch``; returns its log."""
    return _stop_launch


def image_message(camera: str, stamp_ns: int, pixels: np.ndarray | None = None) -> Any:
    """An rgb8 image of frame ``CAMERA_optical_frame``: ``pixels`` [H, W, 3] uint8, or random."""
    from sensor_msgs.msg import Image

    if pixels is None:
        rng = np.random.default_rng(stamp_ns % 2**32)
        pixels = rng.integers(0, 256, (HEIGHT, WIDTH, 3), dtype=np.uint8)
    height, width = pixels.shape[:2]
    message = Image(height=height, width=width, encoding="rgb8", step=width * 3)
    message.data = np.ascontiguousarray(pixels).tobytes()
    message.header.stamp.sec, message.header.stamp.nanosec = divmod(stamp_ns, 10**9)
    message.header.frame_id = f"{camera}_optical_frame"
    return message


class Rig:
    """Cameras publishing on /NAME/image_raw, a /hand/mano subscriber and any others (``keep``)."""

    def __init__(self, domain: int, cameras: tuple[str, ...], reliable: bool = False) -> None:
        import rclpy
        import rclpy.context
        import rclpy.executors
        from rclpy.qos import QoSProfile, QoSReliabilityPolicy, qos_profile_sensor_data
        from sensor_msgs.msg import Image, JointState

        self.context = rclpy.context.Context()
        rclpy.init(context=self.context, domain_id=domain)
        self.node = rclpy.create_node("hggt_launch_test_rig", context=self.context)
        self.executor = rclpy.executors.SingleThreadedExecutor(context=self.context)
        self.executor.add_node(self.node)
        qos = (
            QoSProfile(depth=5, reliability=QoSReliabilityPolicy.RELIABLE)
            if reliable
            else qos_profile_sensor_data
        )
        self.cameras = {
            name: self.node.create_publisher(Image, f"/{name}/image_raw", qos) for name in cameras
        }
        self.mano: list[Any] = []
        self.mano_subscription = self.node.create_subscription(
            JointState, "/hand/mano", self.mano.append, 50
        )

    def keep(self, topic: str, kind: Any, qos: Any = 50) -> list[Any]:
        """Subscribes to ``topic``; returns the list its messages are appended to."""
        received: list[Any] = []
        self.node.create_subscription(kind, topic, received.append, qos)
        return received

    def spin_until(self, done: Callable[[], bool], timeout_s: float) -> bool:
        deadline = time.monotonic() + timeout_s
        while not done() and time.monotonic() < deadline:
            self.executor.spin_once(timeout_sec=0.02)
        return bool(done())

    def mano_stamps(self) -> set[int]:
        return {m.header.stamp.sec * 10**9 + m.header.stamp.nanosec for m in self.mano}

    def wait_until_connected(self, process: subprocess.Popen[bytes], log: Path) -> None:
        """Until the launched node reads every camera and publishes /hand/mano (or died)."""
        ready = self.spin_until(
            lambda: (
                process.poll() is not None
                or (
                    all(p.get_subscription_count() for p in self.cameras.values())
                    and self.mano_subscription.get_publisher_count() > 0
                )
            ),
            START_TIMEOUT_S,
        )
        assert ready and process.poll() is None, f"the node did not start:\n{log.read_text()}"

    def send_framesets(
        self, stamps: list[int], pixels: dict[str, np.ndarray] | None = None
    ) -> None:
        """One frameset per stamp, each sent (again every 2 s) until its /hand/mano arrives."""
        for stamp_ns in stamps:
            deadline = time.monotonic() + OUTPUT_TIMEOUT_S
            while stamp_ns not in self.mano_stamps() and time.monotonic() < deadline:
                for name, publisher in self.cameras.items():
                    publisher.publish(image_message(name, stamp_ns, (pixels or {}).get(name)))
                self.spin_until(lambda s=stamp_ns: s in self.mano_stamps(), 2.0)
            missing = stamp_ns not in self.mano_stamps()
            assert not missing, f"no /hand/mano for the frameset at {stamp_ns} ns"

    def close(self) -> None:
        import rclpy

        self.executor.shutdown()
        self.node.destroy_node()
        rclpy.shutdown(context=self.context)


@pytest.fixture
def launch_rig(workspace: Workspace) -> Iterator[Callable[..., Rig]]:
    """``make(cameras, reliable=False)``: a :class:`Rig` on the workspace's ROS domain.

    The rigs made are closed at teardown.
    """
    rigs: list[Rig] = []

    def make(cameras: tuple[str, ...], reliable: bool = False) -> Rig:
        rigs.append(Rig(int(workspace.env["ROS_DOMAIN_ID"]), cameras, reliable))
        return rigs[-1]

    yield make
    for rig in rigs:
        rig.close()
