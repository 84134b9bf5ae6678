# Copyright 2026 The HGGT-ROS Authors
# SPDX-License-Identifier: Apache-2.0
"""Docstring lint (pep257-equivalent pydocstyle rules via ruff, Google convention)."""

import shutil
import subprocess
from pathlib import Path

import pytest
import tomllib

REPO = Path(__file__).resolve().parents[1]


def _ignored_docstring_rules() -> str:
    """The D rules pyproject.toml ignores (a command-line --select drops the config's list)."""
    config = tomllib.loads((REPO / "pyproject.toml").read_text(encoding="utf-8"))
    ignored = config["tool"]["ruff"]["lint"]["ignore"]
    return ",".join(rule for rule in ignored if rule.startswith("D"))


@pytest.mark.linter
def test_docstrings_follow_pep257() -> None:
    ruff = shutil.which("ruff")
    assert ruff is not None, "ruff is missing: install the [dev] extra"
    command = [
        ruff,
        "check",
        "--no-cache",
        "--select",
        "D",
        "--ignore",
        _ignored_docstring_rules(),
    ]
    result = subprocess.run(
        [*command, "hggt_core", "hggt_ros", "training"], cwd=REPO, capture_output=True, text=True
    )
    assert result.returncode == 0, result.stdout + result.stderr
