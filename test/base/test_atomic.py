# Copyright 2026 The HGGT-ROS Authors
# SPDX-License-Identifier: Apache-2.0
"""Atomic file replacement: all or nothing, permissions of new and replaced files."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

from hggt_core.base.atomic import DestinationInUseError, StagedDirectory, atomic_write


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


OUTPUT = frozenset({"results.npz", "meshes"})


def _write_output(folder: Path, text: str) -> None:
    (folder / "meshes").mkdir()
    (folder / "meshes" / "0.obj").write_text(text)
    (folder / "results.npz").write_text(text)


def _hidden(folder: Path) -> list[str]:
    return sorted(name for name in os.listdir(folder) if name.startswith("."))


def test_staged_directory_appears_whole_with_the_usual_permissions(tmp_path: Path) -> None:
    destination = tmp_path / "new" / "out"
    with StagedDirectory(destination, OUTPUT) as staged:
        _write_output(staged.staging, "first")
        assert not destination.exists() and staged.staging.parent == destination.parent
    assert (destination / "meshes" / "0.obj").read_text() == "first"
    umask = os.umask(0)
    os.umask(umask)
    assert stat.S_IMODE(destination.stat().st_mode) == 0o777 & ~umask
    assert _hidden(destination.parent) == []


def test_staged_directory_keeps_the_earlier_output_on_failure_and_replaces_it_after(
    tmp_path: Path,
) -> None:
    destination = tmp_path / "out"
    with StagedDirectory(destination, OUTPUT) as staged:
        _write_output(staged.staging, "first")
    with pytest.raises(KeyboardInterrupt), StagedDirectory(destination, OUTPUT) as staged:
        (staged.staging / "results.npz").write_text("half")
        raise KeyboardInterrupt
    assert (destination / "results.npz").read_text() == "first"
    with StagedDirectory(destination, OUTPUT) as staged:
        (staged.staging / "results.npz").write_text("second")
    assert os.listdir(destination) == ["results.npz"]  # the old meshes went with the old output
    assert (destination / "results.npz").read_text() == "second"
    assert _hidden(tmp_path) == []


def test_staged_directory_never_replaces_other_files(tmp_path: Path) -> None:
    destination = tmp_path / "mine"
    destination.mkdir()
    for name in ("a.txt", "b.txt", "c.txt", "d.txt", "results.npz"):
        (destination / name).write_text("keep")
    with pytest.raises(DestinationInUseError, match=r"holds other files \(a.txt, b.txt, c.txt, "):
        StagedDirectory(destination, OUTPUT)
    (tmp_path / "file").write_text("keep")
    with pytest.raises(DestinationInUseError, match="exists and is not a folder"):
        StagedDirectory(tmp_path / "file", OUTPUT)
    assert len(os.listdir(destination)) == 5 and _hidden(tmp_path) == []


def test_staged_directory_refuses_what_appears_while_it_runs(tmp_path: Path) -> None:
    destination = tmp_path / "out"
    staged = StagedDirectory(destination, OUTPUT)
    destination.mkdir()
    (destination / "notes.txt").write_text("keep")
    with pytest.raises(DestinationInUseError, match=r"notes\.txt"):
        staged.commit()
    assert os.listdir(destination) == ["notes.txt"] and _hidden(tmp_path) == []


def test_staged_directory_follows_a_link_to_its_target(tmp_path: Path) -> None:
    (tmp_path / "disk").mkdir()
    target = tmp_path / "disk" / "out"
    target.mkdir()
    (tmp_path / "out").symlink_to(target)
    with StagedDirectory(tmp_path / "out", OUTPUT) as staged:
        (staged.staging / "results.npz").write_text("new")
    assert (tmp_path / "out").is_symlink()
    assert (target / "results.npz").read_text() == "new"
