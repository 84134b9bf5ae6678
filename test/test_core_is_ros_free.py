# Copyright 2026 The HGGT-ROS Authors
# SPDX-License-Identifier: Apache-2.0
"""The core library must stay usable without ROS (ARCHITECTURE.md decision 1)."""

import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
MODULES = (
    "hggt_core",
    "hggt_core.model",
    "hggt_core.model.checkpoint",
    "hggt_core.mano",
    "hggt_core.geometry",
    "hggt_core.metrics",
)
PROBE = """
import sys
for name in {modules!r}:
    __import__(name)
roots = {{name.split(".")[0] for name in sys.modules}}
ros_roots = {{"rclpy", "tf2_ros", "cv_bridge", "message_filters"}}
print(",".join(sorted(r for r in roots if r in ros_roots or r.endswith("_msgs"))))
"""


def test_importing_the_core_loads_no_ros_module() -> None:
    probe = PROBE.format(modules=MODULES)
    result = subprocess.run(
        [sys.executable, "-c", probe], cwd=REPO, capture_output=True, text=True
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == ""
