# Copyright 2026 The HGGT-ROS Authors
# SPDX-License-Identifier: Apache-2.0
"""Fixtures of the node tests: a node in a subprocess on a private ROS domain."""

from __future__ import annotations

import os
import random
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
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
