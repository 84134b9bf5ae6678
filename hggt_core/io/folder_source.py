# Copyright 2026 The HGGT-ROS Authors
# SPDX-License-Identifier: Apache-2.0
"""Framesets from image files: a folder of views, a folder of such folders, or a file list.

Layouts (as in the released examples, ``HO3D/sample_0000/view_00.jpg`` ...):

* *One frameset*: a folder holding one image per view (``view_00.jpg``, ``view_01.png``,
  ...). Images are files ending in .jpg, .jpeg or .png (any case); other files are ignored.
  Views are ordered by natural sort of the file names (``view_2`` before ``view_10``), the
  first is the reference view, and each view is named by its file stem.
* *A sequence of framesets*: a folder whose sub-folders are each one frameset as above,
  ordered by natural sort of their names; framesets may have different views. A folder
  holding both images and sub-folders is rejected as ambiguous; hidden entries (names
  starting with ".") are ignored.
* *Explicit files*: :meth:`ImageFolderSource.from_files` makes one frameset of the given
  image paths, in the given order.

Views of one frameset may have different image sizes.

Stamps: frameset ``i`` and all its views get ``stamp_ns = i * period_ns``, ``period_ns`` being
``period_s`` rounded to whole nanoseconds (0 for every frameset with the default
``period_s = 0``); image files carry no capture time.

Known intrinsics (optional): a ``cameras.json`` beside the images of a frameset, or, for a
sequence, in the top folder (applying to every frameset without its own file). Schema::

    {"view_00": {"K": [[fx, 0, cx], [0, fy, cy], [0, 0, 1]]}, "view_01": {...}}

keys are view names (file stems), K is in that image's pixels (the top-left pixel's centre at
(0.5, 0.5), see :mod:`hggt_core.pipeline.types`), with positive finite focal lengths. Views
without an entry stay uncalibrated. An entry naming no view the file applies to is an error
(it is usually a typo).

All listing and ``cameras.json`` parsing happens at construction, so layout errors surface
at once; images are read only when a frameset is produced.
"""

from __future__ import annotations

import json
import math
import os
import re
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from hggt_core.io.images import read_rgb
from hggt_core.pipeline.types import FloatArray, FrameSet, View, seconds_to_ns

IMAGE_SUFFIXES = (".jpg", ".jpeg", ".png")
CAMERAS_FILE = "cameras.json"


@dataclass(frozen=True)
class _Entry:
    """One frameset's views: (name, image path) pairs, reference first, and known K."""

    folder: Path
    views: tuple[tuple[str, Path], ...]
    intrinsics: Mapping[str, FloatArray]


def natural_key(name: str) -> tuple[tuple[int, int | str], ...]:
    """Sort key that orders digit runs by value and text case-insensitively."""
    parts = re.split(r"(\d+)", name)
    return tuple((0, int(part)) if part.isdigit() else (1, part.lower()) for part in parts)


class ImageFolderSource:
    """Iterable of :class:`FrameSet` read from image files (layouts in the module docstring).

    Example:
        >>> source = ImageFolderSource("examples/HO3D/sample_0000")  # doctest: +SKIP
        >>> len(source), [view.name for view in next(iter(source)).views]  # doctest: +SKIP
        (1, ['view_00', 'view_01', 'view_02', 'view_03', 'view_04'])
    """

    def __init__(self, root: str | os.PathLike[str], period_s: float = 0.0) -> None:
        """List the framesets under ``root``.

        Args:
            root: a folder of view images, or a folder of such folders.
            period_s: seconds between consecutive framesets' stamps, finite and >= 0.

        Raises:
            FileNotFoundError: ``root`` does not exist.
            NotADirectoryError: ``root`` is not a folder.
            ValueError: an empty folder, a folder without images, mixed images and
                sub-folders, duplicate view names, or a malformed ``cameras.json``; the
                message names the path.
        """
        folder = Path(root)
        if not folder.exists():
            raise FileNotFoundError(f"input folder not found: {folder}")
        if not folder.is_dir():
            raise NotADirectoryError(f"input is not a folder: {folder}")
        self._entries = _list_framesets(folder)
        self._period_ns = seconds_to_ns(_check_period(period_s))

    @classmethod
    def from_files(
        cls, paths: Sequence[str | os.PathLike[str]], period_s: float = 0.0
    ) -> ImageFolderSource:
        """One frameset of the given image files, in order (names from the file stems).

        Raises:
            FileNotFoundError: a path is not an existing file.
            ValueError: no paths, or two files with the same stem.
        """
        files = [Path(path) for path in paths]
        if not files:
            raise ValueError("no image files given")
        for file in files:
            if not file.is_file():
                raise FileNotFoundError(f"image file not found: {file}")
        source = cls.__new__(cls)
        views = _named_views(files, "the given files")
        source._entries = (_Entry(files[0].parent, views, {}),)
        source._period_ns = seconds_to_ns(_check_period(period_s))
        return source

    def __len__(self) -> int:
        """Number of framesets."""
        return len(self._entries)

    def __iter__(self) -> Iterator[FrameSet]:
        """Framesets in order, each read when it is produced.

        Raises:
            ImageReadError: an image is missing, damaged or truncated (named in the message).
        """
        for index in range(len(self._entries)):
            yield self[index]

    def __getitem__(self, index: int) -> FrameSet:
        """Read frameset ``index`` (negative indices count from the end)."""
        entry = self._entries[index]
        stamp_ns = (index % len(self._entries)) * self._period_ns
        views = tuple(
            View(name, stamp_ns, read_rgb(path), entry.intrinsics.get(name))
            for name, path in entry.views
        )
        return FrameSet(stamp_ns, views)

    @property
    def folders(self) -> tuple[Path, ...]:
        """The folder of each frameset, in order."""
        return tuple(entry.folder for entry in self._entries)

    def view_paths(self, index: int) -> tuple[Path, ...]:
        """The image files of frameset ``index``, reference first."""
        return tuple(path for _, path in self._entries[index].views)


def _check_period(period_s: float) -> float:
    if not (isinstance(period_s, (int, float)) and math.isfinite(period_s) and period_s >= 0):
        raise ValueError(f"period_s must be a finite number >= 0, got {period_s!r}")
    return float(period_s)


def _visible_children(folder: Path) -> list[Path]:
    return sorted(
        (child for child in folder.iterdir() if not child.name.startswith(".")),
        key=lambda child: natural_key(child.name),
    )


def _is_image(path: Path) -> bool:
    return path.is_file() and path.suffix.lower() in IMAGE_SUFFIXES


def _list_framesets(root: Path) -> tuple[_Entry, ...]:
    children = _visible_children(root)
    if not children:
        raise ValueError(f"input folder is empty: {root}")
    images = [child for child in children if _is_image(child)]
    folders = [child for child in children if child.is_dir()]
    if images and folders:
        raise ValueError(
            f"{root} mixes images and sub-folders; give either a folder of view images or a "
            f"folder of frameset folders (first sub-folder: {folders[0].name})"
        )
    if images:
        return (_entry(root, images, _read_cameras(root)),)
    if not folders:
        raise ValueError(f"no images ({', '.join(IMAGE_SUFFIXES)}) in {root}")
    shared = _read_cameras(root)
    entries = []
    for folder in folders:
        files = _visible_children(folder)
        folder_images = [child for child in files if _is_image(child)]
        if not folder_images:
            raise ValueError(
                f"no images ({', '.join(IMAGE_SUFFIXES)}) in frameset folder {folder} "
                "(only one level of sub-folders is read)"
            )
        own = _read_cameras(folder)
        entries.append(_entry(folder, folder_images, shared if own is None else own))
    if shared is not None:
        used = {name for entry in entries for name, _ in entry.views}
        _check_camera_names(shared, used, root / CAMERAS_FILE)
    return tuple(entries)


def _entry(folder: Path, images: list[Path], cameras: Mapping[str, FloatArray] | None) -> _Entry:
    views = _named_views(images, str(folder))
    if cameras is None:
        return _Entry(folder, views, {})
    if (folder / CAMERAS_FILE).is_file():
        _check_camera_names(cameras, {name for name, _ in views}, folder / CAMERAS_FILE)
    known = {name: cameras[name] for name, _ in views if name in cameras}
    return _Entry(folder, views, known)


def _named_views(files: list[Path], where: str) -> tuple[tuple[str, Path], ...]:
    names = [file.stem for file in files]
    duplicates = sorted({name for name in names if names.count(name) > 1})
    if duplicates:
        raise ValueError(f"several images share the view names {duplicates} in {where}")
    return tuple(zip(names, files, strict=True))


def _check_camera_names(cameras: Mapping[str, FloatArray], views: set[str], file: Path) -> None:
    unknown = sorted(set(cameras) - views)
    if unknown:
        raise ValueError(f"{file} names views without images: {unknown}")


def _read_cameras(folder: Path) -> dict[str, FloatArray] | None:
    """Parse ``cameras.json`` in ``folder`` into view name -> K, or None without the file."""
    file = folder / CAMERAS_FILE
    if not file.is_file():
        return None
    try:
        document = json.loads(file.read_text(encoding="utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as error:
        raise ValueError(f"{file} is not valid JSON: {error}") from error
    if not isinstance(document, dict):
        raise ValueError(f"{file} must hold an object of view name -> {{'K': 3x3}}")
    return {
        str(name): _parse_intrinsics(entry, f"{file}: view {name!r}")
        for name, entry in document.items()
    }


def _parse_intrinsics(entry: object, where: str) -> FloatArray:
    if not isinstance(entry, dict) or "K" not in entry:
        raise ValueError(f"{where} must be an object with a 'K' entry")
    try:
        matrix = np.array(entry["K"], dtype=np.float64)
    except (TypeError, ValueError) as error:
        raise ValueError(f"{where}: K must be a 3x3 list of numbers") from error
    if matrix.shape != (3, 3) or not np.all(np.isfinite(matrix)):
        raise ValueError(f"{where}: K must be a 3x3 list of finite numbers")
    if not (matrix[0, 0] > 0 and matrix[1, 1] > 0) or not np.allclose(matrix[2], [0, 0, 1]):
        raise ValueError(f"{where}: K needs positive focal lengths and a last row [0, 0, 1]")
    return matrix
