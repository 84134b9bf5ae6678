# Copyright 2026 The HGGT-ROS Authors
# SPDX-License-Identifier: Apache-2.0
"""The core library stays usable without ROS, and training never uses the node (docs/DESIGN.md).

Every module of ``hggt_core`` is imported in a fresh interpreter, which must then hold no ROS
module; ``training/`` is read with :mod:`ast` and must not import ``hggt_ros`` anywhere (lazy
imports included).
"""

import ast
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
PROBE = """
import importlib
import pkgutil
import sys

import hggt_core

names = [info.name for info in pkgutil.walk_packages(hggt_core.__path__, "hggt_core.")]
for name in names:
    importlib.import_module(name)
roots = {name.split(".")[0] for name in sys.modules}
ros_roots = {"rclpy", "tf2_ros", "cv_bridge", "message_filters", "hggt_ros"}
print(len(names))
print(",".join(sorted(r for r in roots if r in ros_roots or r.endswith("_msgs"))))
"""


def test_importing_every_core_module_loads_no_ros_module() -> None:
    result = subprocess.run(
        [sys.executable, "-c", PROBE], cwd=REPO, capture_output=True, text=True
    )
    assert result.returncode == 0, result.stderr
    count, ros_modules = result.stdout.splitlines()
    expected = sum(1 for _ in (REPO / "hggt_core").rglob("*.py")) - 1  # hggt_core/__init__
    assert (int(count), ros_modules) == (expected, "")


def _imported_roots(path: Path) -> set[str]:
    roots: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            roots.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            roots.add(node.module.split(".")[0])
    return roots


def test_training_never_imports_the_node() -> None:
    files = sorted((REPO / "training").rglob("*.py"))
    assert len(files) > 10
    offenders = [
        str(path.relative_to(REPO)) for path in files if "hggt_ros" in _imported_roots(path)
    ]
    assert offenders == []
