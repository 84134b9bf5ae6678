# Copyright 2026 The HGGT-ROS Authors
# SPDX-License-Identifier: Apache-2.0
"""Atomic file replacement: all or nothing, permissions of new and replaced files."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

from hggt_core.io.atomic import atomic_write


def test_atomic_write_leaves_nothing_half_written(tmp_path: Path) -> None:
    path = tmp_path / "out.bin"
    with atomic_write(path) as stream:
        stream.write(b"old")
    assert stat.S_IMODE(path.stat().st_mode) == 0o644
    path.chmod(0o600)
    with pytest.raises(RuntimeError, match="disk full"), atomic_write(path) as stream:
        stream.write(b"new but incomplete")
        raise RuntimeError("disk full")
    assert path.read_bytes() == b"old"
    assert os.listdir(tmp_path) == ["out.bin"]
    with atomic_write(path) as stream:
        stream.write(b"new")
    assert path.read_bytes() == b"new" and stat.S_IMODE(path.stat().st_mode) == 0o600
