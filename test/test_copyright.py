# Copyright 2026 The HGGT-ROS Authors
# SPDX-License-Identifier: Apache-2.0
"""Every Python file carries the project's copyright and SPDX licence header."""

import subprocess
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
HEADER = ("# Copyright 2026 The HGGT-ROS Authors", "# SPDX-License-Identifier: Apache-2.0")


def _python_files() -> list[Path]:
    listed = subprocess.run(
        ["git", "ls-files", "--cached", "--others", "--exclude-standard", "*.py"],
        cwd=REPO,
        capture_output=True,
        text=True,
        check=True,
    ).stdout.split()
    return [REPO / name for name in listed if (REPO / name).is_file()]


@pytest.mark.linter
def test_every_python_file_has_the_header() -> None:
    files = _python_files()
    assert len(files) > 10
    offenders = [
        str(path.relative_to(REPO))
        for path in files
        if tuple(path.read_text(encoding="utf-8").splitlines()[:2]) != HEADER
    ]
    assert offenders == []
