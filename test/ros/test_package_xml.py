# Copyright 2026 The HGGT-ROS Authors
# SPDX-License-Identifier: Apache-2.0
"""package.xml names a rosdep key for everything the node and the launch file import.

The node's import chain is measured, not listed: a fresh interpreter imports
``hggt_ros.node``, and every third-party module imported by a loaded ``hggt_core`` or
``hggt_ros`` module must map onto an ``exec_depend`` (or be on package.xml's pip-only line,
for what rosdep has no key). Lazily imported optional engines (onnxruntime, tensorrt,
mediapipe) are not loaded and so not required.
"""

from __future__ import annotations

import ast
import json
import os
import re
import subprocess
import sys
import xml.etree.ElementTree as ElementTree
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
ROSDEP_KEYS = {
    "numpy": "python3-numpy",
    "cv2": "python3-opencv",
    "yaml": "python3-yaml",
    "ruamel": "python3-ruamel.yaml",
}
"""Python module -> its rosdep key where the two names differ (ROS packages share theirs)."""
PIP_ONLY_LINE = re.compile(r"pip-only, no rosdep key: ([\w\s-]+?) \(")

# Run in a fresh interpreter: prints the third-party top-level modules that the loaded
# hggt_core / hggt_ros modules import (each module's own import statements, parsed).
IMPORT_CHAIN = """
import ast, json, sys
import hggt_ros.node
own = ("hggt_core", "hggt_ros")
found = set()
for name, module in list(sys.modules.items()):
    path = getattr(module, "__file__", None)
    if name.split(".")[0] not in own or not path:
        continue
    for node in ast.walk(ast.parse(open(path, encoding="utf-8").read())):
        if isinstance(node, ast.Import):
            tops = [alias.name.split(".")[0] for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            tops = [node.module.split(".")[0]]
        else:
            continue
        found.update(t for t in tops if t in sys.modules and t not in own)
print(json.dumps(sorted(found - set(sys.stdlib_module_names))))
"""


def _package_xml() -> tuple[set[str], set[str]]:
    """(exec_depend keys, pip-only module names) of package.xml."""
    text = (REPO / "package.xml").read_text(encoding="utf-8")
    depends = {e.text or "" for e in ElementTree.fromstring(text).iter("exec_depend")}
    match = PIP_ONLY_LINE.search(text)
    assert match, "package.xml needs its 'pip-only, no rosdep key: ... (' comment"
    return depends, set(match.group(1).split())


def _missing(modules: set[str]) -> list[str]:
    depends, pip_only = _package_xml()
    return sorted(m for m in modules if ROSDEP_KEYS.get(m, m) not in depends and m not in pip_only)


def test_every_import_of_the_nodes_chain_has_a_rosdep_key_or_is_pip_only() -> None:
    try:
        import rclpy  # noqa: F401 (only whether it imports)
    except ImportError as error:
        if os.environ.get("HGGT_ROS_ENV"):
            pytest.fail(f"inside the ROS test environment: {error}")
        pytest.skip(f"rclpy is not importable ({error}): run tools/setup_ros_env.sh")
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [str(REPO),
           os.environ.get("PYTHONPATH")]))}  # fmt: skip
    result = subprocess.run(
        [sys.executable, "-c", IMPORT_CHAIN], env=env, capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0, result.stderr
    modules = set(json.loads(result.stdout.splitlines()[-1]))
    assert {"rclpy", "cv2", "numpy", "torch", "builtin_interfaces", "rcl_interfaces"} <= modules
    assert _missing(modules) == [], "add their rosdep keys to package.xml (or the pip-only line)"


def test_the_launch_files_imports_and_rviz_have_rosdep_keys() -> None:
    modules = set()
    for path in (REPO / "launch" / "multi_cam.launch.py", REPO / "hggt_ros" / "launch_support.py"):
        for node in ast.parse(path.read_text(encoding="utf-8")).body:
            if isinstance(node, ast.Import):
                modules.update(alias.name.split(".")[0] for alias in node.names)
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                modules.add(node.module.split(".")[0])
    third_party = {m for m in modules if m not in sys.stdlib_module_names and m != "hggt_ros"}
    assert third_party == {"launch", "launch_ros", "ament_index_python", "yaml"}
    assert _missing(third_party) == []
    depends, pip_only = _package_xml()
    assert "rviz2" in depends  # use_rviz:=true
    # What rosdep cannot install, `pip install .` must.
    setup = (REPO / "setup.py").read_text(encoding="utf-8")
    assert pip_only and all(re.search(rf'"{name}[<>=]', setup) for name in pip_only)
