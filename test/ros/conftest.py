# Copyright 2026 The HGGT-ROS Authors
# SPDX-License-Identifier: Apache-2.0
"""Fixtures of the node tests: nodes in subprocesses, the user's colcon workspace and launch.

``start_node`` runs a node on a private ROS domain; ``workspace`` builds a colcon workspace
holding the checkout and ``start_launch`` runs ``ros2 launch`` in it (they need
../shared/ros, installed by tools/setup_ros_env.sh, and skip without it).
"""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

REPO = Path(__file__).resolve().parents[2]
SHARED_ROS = REPO.parent / "shared" / "ros"
PREFIX = REPO / ".ros-install"
CLI_ENV = PREFIX / "cli" / "env.sh"
COLCON = PREFIX / "colcon" / "bin" / "colcon"
NodeStarter = Callable[[str, list[str]], tuple[subprocess.Popen[str], int]]


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
