# Copyright 2026 The HGGT-ROS Authors
# SPDX-License-Identifier: Apache-2.0
"""The hand landmarker's model file: where it lives, and a set-up step that builds it.

MediaPipe's Task API reads a ``.task`` bundle: a zip holding ``hand_detector.tflite`` (palm
detection) and ``hand_landmarks_detector.tflite`` (21 landmarks, handedness, world
landmarks). Current mediapipe wheels ship no model, but the Apache-2.0 pair of TFLite models
inside the mediapipe 0.10.21 wheel (``palm_detection_full.tflite``,
``hand_landmark_full.tflite``) forms a bundle equivalent to Google's ``hand_landmarker.task``.

Set-up (once, by ``tools/setup_venv.sh``)::

    python -m hggt_core.landmarks.model_file [--output PATH] [--wheel WHEEL]

downloads that wheel with pip (no dependencies, binary only), extracts the two files,
checks their SHA-256 against the pinned values and writes the bundle atomically; it does
nothing when a bundle with the right contents is already there. Nothing is downloaded at
run time: :func:`find_landmarker_model` only looks for the file and says how to get it.

The default location is ``$HGGT_CACHE_DIR/hand_landmarker.task``, else
``$XDG_CACHE_HOME/hggt_ros/hand_landmarker.task``, else
``~/.cache/hggt_ros/hand_landmarker.task``. An official ``hand_landmarker.task`` can be used
instead by giving its path.
"""

from __future__ import annotations

import argparse
import hashlib
import logging
import os
import struct
import subprocess
import sys
import tempfile
import zipfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import IO

_LOG = logging.getLogger(__name__)

MODEL_FILE_NAME = "hand_landmarker.task"
SOURCE_WHEEL_VERSION = "0.10.21"
# The TFLite files are platform-independent: any wheel of the release that carries them will
# do, so the download names one platform whatever the host is.
_SOURCE_WHEEL_PLATFORM = (
    "--platform=manylinux_2_28_x86_64",
    "--python-version=3.11",
    "--implementation=cp",
    "--abi=cp311",
)
# Member data starts on this boundary so TFLite can use the weights in place (unaligned
# buffers are copied, with a warning); the padding is an Android zipalign extra field.
_ALIGNMENT = 64
_ALIGNMENT_EXTRA_ID = 0xD935
_LOCAL_HEADER_SIZE = 30
_FIXED_DATE_TIME = (1980, 1, 1, 0, 0, 0)
_FILE_MODE = 0o644


@dataclass(frozen=True)
class BundleMember:
    """One model inside the ``.task`` bundle.

    Attributes:
        task_name: the member's name inside the bundle (what MediaPipe looks for).
        wheel_path: where the file lies inside the source wheel.
        sha256: the file's pinned SHA-256, lowercase hex.
    """

    task_name: str
    wheel_path: str
    sha256: str


MODEL_MEMBERS = (
    BundleMember(
        "hand_detector.tflite",
        "mediapipe/modules/palm_detection/palm_detection_full.tflite",
        "1b14e9422c6ad006cde6581a46c8b90dd573c07ab7f3934b5589e7cea3f89a54",
    ),
    BundleMember(
        "hand_landmarks_detector.tflite",
        "mediapipe/modules/hand_landmark/hand_landmark_full.tflite",
        "11c272b891e1a99ab034208e23937a8008388cf11ed2a9d776ed3d01d0ba00e3",
    ),
)
BUILD_COMMAND = "python -m hggt_core.landmarks.model_file"


class LandmarkerModelError(FileNotFoundError):
    """The hand landmarker's model file is missing (the message says how to get it)."""


class ModelBuildError(RuntimeError):
    """The model file could not be built (download failed, wrong or missing contents)."""


def cache_dir() -> Path:
    """The folder of downloaded and built files: ``$HGGT_CACHE_DIR``, else the XDG cache."""
    explicit = os.environ.get("HGGT_CACHE_DIR")
    if explicit:
        return Path(explicit).expanduser()
    xdg = os.environ.get("XDG_CACHE_HOME")
    base = Path(xdg).expanduser() if xdg else Path.home() / ".cache"
    return base / "hggt_ros"


def default_model_path() -> Path:
    """Where the built bundle goes, resolved from the environment at each call."""
    return cache_dir() / MODEL_FILE_NAME


DEFAULT_MODEL_PATH = default_model_path()
"""The default bundle path as resolved when this module was imported."""


def find_landmarker_model(path: Path | None = None) -> Path:
    """The model file to load.

    Args:
        path: a ``.task`` bundle, or None for :func:`default_model_path`.

    Returns:
        The existing file's path.

    Raises:
        LandmarkerModelError: if the file does not exist (one line saying how to get it).
    """
    model_path = default_model_path() if path is None else Path(path).expanduser()
    if not model_path.is_file():
        raise LandmarkerModelError(
            f"hand landmarker model not found at {model_path}: build it with "
            f"'{BUILD_COMMAND} --output {model_path}' (tools/setup_venv.sh runs it) "
            f"or pass the path of an official {MODEL_FILE_NAME}"
        )
    return model_path


def bundle_is_valid(path: Path, members: Sequence[BundleMember] = MODEL_MEMBERS) -> bool:
    """Whether ``path`` is a bundle holding exactly the pinned members (by SHA-256)."""
    try:
        with zipfile.ZipFile(path) as bundle:
            if sorted(bundle.namelist()) != sorted(member.task_name for member in members):
                return False
            return all(
                _sha256(bundle.read(member.task_name)) == member.sha256 for member in members
            )
    except (OSError, zipfile.BadZipFile):
        return False


def write_task_bundle(
    wheel: Path, output: Path, members: Sequence[BundleMember] = MODEL_MEMBERS
) -> Path:
    """Extract the members from a mediapipe wheel, check them and write the bundle atomically.

    Args:
        wheel: the source ``.whl`` (a zip).
        output: the ``.task`` file to write; its folder is created when missing.
        members: what to extract and the checksums it must have.

    Returns:
        ``output``.

    Raises:
        ModelBuildError: if the wheel is unreadable, lacks a member, or a member's SHA-256
            differs from the pinned one.
    """
    contents = _read_members(wheel, members)
    output.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(prefix=f".{output.name}.", dir=output.parent)
    try:
        with os.fdopen(handle, "wb") as stream:
            _write_aligned_zip(stream, contents)
        os.chmod(temporary, _FILE_MODE)
        os.replace(temporary, output)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
    return output


def build_model_file(
    output: Path | None = None,
    *,
    wheel: Path | None = None,
    members: Sequence[BundleMember] = MODEL_MEMBERS,
) -> Path:
    """Build the hand landmarker bundle unless a correct one is already there.

    Args:
        output: where to write it; None for :func:`default_model_path`.
        wheel: a mediapipe 0.10.21 wheel already on disk; None downloads it with pip.
        members: the bundle's contents and their pinned checksums.

    Returns:
        The bundle's path.

    Raises:
        ModelBuildError: if the download fails or the wheel's files are not the pinned ones.
    """
    target = default_model_path() if output is None else Path(output).expanduser()
    if bundle_is_valid(target, members):
        _LOG.info("%s is up to date", target)
        return target
    if target.exists():
        _LOG.info("replacing %s: its contents are not the pinned models", target)
    if wheel is not None:
        return write_task_bundle(wheel, target, members)
    with tempfile.TemporaryDirectory(prefix="hggt_mediapipe_wheel_") as folder:
        return write_task_bundle(download_source_wheel(Path(folder)), target, members)


def download_source_wheel(folder: Path) -> Path:
    """Download the mediapipe 0.10.21 wheel (no dependencies) into ``folder`` with pip.

    Raises:
        ModelBuildError: if pip fails or leaves no wheel.
    """
    command = [
        sys.executable,
        "-m",
        "pip",
        "download",
        "--quiet",
        "--no-deps",
        "--only-binary=:all:",
        *_SOURCE_WHEEL_PLATFORM,
        f"--dest={folder}",
        f"mediapipe=={SOURCE_WHEEL_VERSION}",
    ]
    _LOG.info("downloading mediapipe %s (the source of the model files)", SOURCE_WHEEL_VERSION)
    result = subprocess.run(command, capture_output=True, text=True, check=False)
    wheels = sorted(folder.glob(f"mediapipe-{SOURCE_WHEEL_VERSION}-*.whl"))
    if result.returncode != 0 or not wheels:
        detail = (result.stderr.strip().splitlines() or ["no wheel was saved"])[-1]
        raise ModelBuildError(
            f"could not download mediapipe=={SOURCE_WHEEL_VERSION} with pip: {detail}"
        )
    return wheels[0]


def _read_members(wheel: Path, members: Sequence[BundleMember]) -> list[tuple[str, bytes]]:
    """(bundle name, bytes) per member, each checked against its pinned SHA-256."""
    try:
        with zipfile.ZipFile(wheel) as archive:
            names = set(archive.namelist())
            missing = [member.wheel_path for member in members if member.wheel_path not in names]
            if missing:
                raise ModelBuildError(f"{wheel.name} lacks {', '.join(missing)}")
            contents = [(member, archive.read(member.wheel_path)) for member in members]
    except (OSError, zipfile.BadZipFile) as exc:
        raise ModelBuildError(f"cannot read the wheel {wheel}: {exc}") from exc
    for member, data in contents:
        digest = _sha256(data)
        if digest != member.sha256:
            raise ModelBuildError(
                f"checksum mismatch for {member.wheel_path} in {wheel.name}: "
                f"SHA-256 {digest}, expected {member.sha256}"
            )
    return [(member.task_name, data) for member, data in contents]


def _write_aligned_zip(stream: IO[bytes], contents: Sequence[tuple[str, bytes]]) -> None:
    """An uncompressed, reproducible zip whose member data start on ``_ALIGNMENT`` bytes."""
    offset = 0
    with zipfile.ZipFile(stream, "w", zipfile.ZIP_STORED) as bundle:
        for name, data in contents:
            info = zipfile.ZipInfo(name, date_time=_FIXED_DATE_TIME)
            info.create_system = 3
            info.external_attr = _FILE_MODE << 16
            header_end = offset + _LOCAL_HEADER_SIZE + len(name.encode()) + 4
            padding = -header_end % _ALIGNMENT
            info.extra = struct.pack("<HH", _ALIGNMENT_EXTRA_ID, padding) + bytes(padding)
            bundle.writestr(info, data)
            offset = header_end + padding + len(data)


def _sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def main(argv: Sequence[str] | None = None) -> int:
    """Command line: build the bundle; exit status 1 with one line on failure."""
    parser = argparse.ArgumentParser(
        prog=BUILD_COMMAND, description="Build the MediaPipe hand landmarker model bundle."
    )
    parser.add_argument("--output", type=Path, help="the .task file (default: the cache folder)")
    parser.add_argument("--wheel", type=Path, help="a mediapipe 0.10.21 wheel to use offline")
    parser.add_argument("--quiet", action="store_true", help="print nothing on success")
    args = parser.parse_args(argv)
    logging.basicConfig(
        level=logging.WARNING if args.quiet else logging.INFO, format="%(message)s"
    )
    try:
        path = build_model_file(args.output, wheel=args.wheel)
    except ModelBuildError as exc:
        _LOG.error("error: %s", exc)
        return 1
    _LOG.info("hand landmarker model: %s", path)
    return 0


if __name__ == "__main__":
    sys.exit(main())
