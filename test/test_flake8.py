# Copyright 2026 The HGGT-ROS Authors
# SPDX-License-Identifier: Apache-2.0
"""Style lint (flake8-equivalent rules via ruff), as ament_python packages run in test/."""

import shutil
import subprocess
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]


@pytest.mark.linter
def test_ruff_lint_is_clean() -> None:
    ruff = shutil.which("ruff")
    assert ruff is not None, "ruff is missing: install the [dev] extra"
    result = subprocess.run(
        [ruff, "check", "--no-cache", "."], cwd=REPO, capture_output=True, text=True
    )
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.linter
def test_ruff_format_is_clean() -> None:
    ruff = shutil.which("ruff")
    assert ruff is not None, "ruff is missing: install the [dev] extra"
    result = subprocess.run(
        [ruff, "format", "--check", "--no-cache", "."], cwd=REPO, capture_output=True, text=True
    )
    assert result.returncode == 0, result.stdout + result.stderr
