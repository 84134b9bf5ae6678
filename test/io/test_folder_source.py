# Copyright 2026 The HGGT-ROS Authors
# SPDX-License-Identifier: Apache-2.0
"""Image-folder source: layouts, ordering, stamps, intrinsics, laziness and bad folders."""

from __future__ import annotations

import json
import os
from pathlib import Path

import numpy as np
import pytest

from hggt_core.io.folder_source import ImageFolderSource, natural_key
from hggt_core.io.images import ImageReadError, write_rgb

# The shared data folder lies beside the checkout (never inside the package).
EXAMPLES = Path(
    os.environ.get(
        "HGGT_EXAMPLES_DIR", Path(__file__).resolve().parents[3] / "shared/data/hggt_examples"
    )
)
K0 = [[500.0, 0.0, 16.0], [0.0, 510.0, 12.0], [0.0, 0.0, 1.0]]


def _write_view(path: Path, value: int, size_hw: tuple[int, int] = (24, 32)) -> None:
    """A uniform image whose red channel identifies it (exact in PNG, close in JPEG)."""
    image = np.zeros((*size_hw, 3), dtype=np.uint8)
    image[..., 0] = value
    path.parent.mkdir(parents=True, exist_ok=True)
    write_rgb(path, image)


def _ids(source: ImageFolderSource) -> list[list[tuple[str, int]]]:
    return [
        [(view.name, round(float(view.image[..., 0].mean()))) for view in frameset.views]
        for frameset in source
    ]


def test_natural_key_orders_numbers_by_value() -> None:
    names = ["view_10.png", "View_2.jpg", "view_01.png", "view_1b.png"]
    assert sorted(names, key=natural_key) == [
        "view_01.png",
        "view_1b.png",
        "View_2.jpg",
        "view_10.png",
    ]


def test_single_folder_is_one_frameset_in_natural_order(tmp_path: Path) -> None:
    for name, value in [("view_10.png", 40), ("view_2.jpeg", 30), ("view_00.jpg", 10)]:
        _write_view(tmp_path / name, value)
    _write_view(tmp_path / "view_01.PNG", 20, size_hw=(40, 20))  # another size is fine
    (tmp_path / "notes.txt").write_text("ignored")
    (tmp_path / ".hidden.png").write_bytes(b"ignored too")
    source = ImageFolderSource(tmp_path)
    assert len(source) == 1
    assert source.folders == (tmp_path,)
    [frameset] = list(source)
    assert frameset.stamp_ns == 0
    assert [(v.name, v.stamp_ns) for v in frameset.views] == [
        ("view_00", 0),
        ("view_01", 0),
        ("view_2", 0),
        ("view_10", 0),
    ]
    assert _ids(source) == [[("view_00", 10), ("view_01", 20), ("view_2", 30), ("view_10", 40)]]
    assert frameset.views[1].image.shape == (40, 20, 3)
    assert all(view.intrinsics is None for view in frameset.views)


def test_folder_of_folders_is_a_sequence_with_period_stamps(tmp_path: Path) -> None:
    for folder, views in [("s_10", 3), ("s_2", 1), ("s_1", 2)]:
        for view in range(views):
            _write_view(tmp_path / folder / f"view_{view:02d}.png", 10 * view + int(folder[2:]))
    source = ImageFolderSource(tmp_path, period_s=0.1)
    assert len(source) == 3
    assert [folder.name for folder in source.folders] == ["s_1", "s_2", "s_10"]
    framesets = list(source)
    # Whole multiples of the period in nanoseconds (2 * 0.1 s would be 0.2000000000000000111).
    assert [f.stamp_ns for f in framesets] == [0, 100_000_000, 200_000_000]
    assert [len(f.views) for f in framesets] == [2, 1, 3]
    assert all(view.stamp_ns == f.stamp_ns for f in framesets for view in f.views)
    assert _ids(source)[2] == [("view_00", 10), ("view_01", 20), ("view_02", 30)]
    assert source[-1].stamp_ns == 200_000_000
    assert source.view_paths(0) == (tmp_path / "s_1/view_00.png", tmp_path / "s_1/view_01.png")


def test_images_are_read_lazily(tmp_path: Path) -> None:
    for folder in ("a", "b"):
        _write_view(tmp_path / folder / "view_00.png", 7)
    source = ImageFolderSource(tmp_path)
    bad = tmp_path / "b" / "view_00.png"
    bad.write_bytes(b"\x89PNG\r\n\x1a\n truncated")  # damaged after listing
    framesets = iter(source)
    assert next(framesets).views[0].name == "view_00"
    with pytest.raises(ImageReadError, match=r"b/view_00\.png: truncated PNG"):
        next(framesets)


def test_cameras_json_per_folder_and_shared(tmp_path: Path) -> None:
    for folder in ("f0", "f1"):
        for view in ("view_00", "view_01"):
            _write_view(tmp_path / folder / f"{view}.png", 1)
    (tmp_path / "cameras.json").write_text(json.dumps({"view_00": {"K": K0}}))
    k1 = [[300.0, 0.0, 10.0], [0.0, 300.0, 11.0], [0.0, 0.0, 1.0]]
    (tmp_path / "f1" / "cameras.json").write_text(json.dumps({"view_01": {"K": k1}}))
    first, second = ImageFolderSource(tmp_path)
    np.testing.assert_array_equal(first.views[0].intrinsics, K0)
    assert first.views[1].intrinsics is None
    assert second.views[0].intrinsics is None  # the folder's own file wins
    np.testing.assert_array_equal(second.views[1].intrinsics, k1)
    single = ImageFolderSource(tmp_path / "f1")[0]
    np.testing.assert_array_equal(single.views[1].intrinsics, k1)


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("{not json", "not valid JSON"),
        ("[1, 2]", "object of view name"),
        (json.dumps({"view_00": [1]}), "'K' entry"),
        (json.dumps({"view_00": {"K": [[1, 0], [0, 1]]}}), "3x3 list of finite"),
        (json.dumps({"view_00": {"K": [[-5, 0, 1], [0, 5, 1], [0, 0, 1]]}}), "positive focal"),
        (
            json.dumps({"view_00": {"K": K0}, "view_07": {"K": K0}}),
            r"without images: \['view_07'\]",
        ),
    ],
)
def test_bad_cameras_json_names_the_file(tmp_path: Path, content: str, message: str) -> None:
    _write_view(tmp_path / "view_00.png", 1)
    (tmp_path / "cameras.json").write_text(content)
    with pytest.raises(ValueError, match=message) as error:
        ImageFolderSource(tmp_path)
    assert "cameras.json" in str(error.value)


def test_bad_layouts_give_one_clear_error(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError, match="input folder not found"):
        ImageFolderSource(tmp_path / "missing")
    _write_view(tmp_path / "file.png", 1)
    with pytest.raises(NotADirectoryError, match=r"not a folder: .*file\.png"):
        ImageFolderSource(tmp_path / "file.png")

    empty = tmp_path / "empty"
    empty.mkdir()
    with pytest.raises(ValueError, match=r"input folder is empty: .*empty"):
        ImageFolderSource(empty)
    (empty / "readme.txt").write_text("no images here")
    with pytest.raises(ValueError, match=r"no images \(\.jpg, \.jpeg, \.png\) in .*empty"):
        ImageFolderSource(empty)

    mixed = tmp_path / "mixed"
    _write_view(mixed / "view_00.png", 1)
    _write_view(mixed / "sub" / "view_00.png", 1)
    with pytest.raises(ValueError, match="mixes images and sub-folders"):
        ImageFolderSource(mixed)

    nested = tmp_path / "nested"
    _write_view(nested / "dataset" / "sample" / "view_00.png", 1)
    with pytest.raises(ValueError, match=r"no images .* in frameset folder .*dataset"):
        ImageFolderSource(nested)

    duplicate = tmp_path / "duplicate"
    _write_view(duplicate / "view_00.png", 1)
    _write_view(duplicate / "view_00.jpg", 1)
    with pytest.raises(ValueError, match=r"share the view names \['view_00'\]"):
        ImageFolderSource(duplicate)
    with pytest.raises(ValueError, match="period_s"):
        ImageFolderSource(mixed / "sub", period_s=-1.0)


def test_from_files_keeps_the_given_order(tmp_path: Path) -> None:
    _write_view(tmp_path / "b.png", 2)
    _write_view(tmp_path / "a.png", 1)
    source = ImageFolderSource.from_files([tmp_path / "b.png", tmp_path / "a.png"], period_s=1.0)
    assert len(source) == 1
    assert _ids(source) == [[("b", 2), ("a", 1)]]
    with pytest.raises(FileNotFoundError, match=r"c\.png"):
        ImageFolderSource.from_files([tmp_path / "c.png"])
    with pytest.raises(ValueError, match="no image files"):
        ImageFolderSource.from_files([])


@pytest.mark.skipif(not EXAMPLES.is_dir(), reason=f"released examples not present at {EXAMPLES}")
@pytest.mark.parametrize(
    ("dataset", "views"), [("HO3D", 5), ("DexYCB", 8), ("Oakink", 4), ("Freihand", 1)]
)
def test_released_examples_parse(dataset: str, views: int) -> None:
    [frameset] = ImageFolderSource(EXAMPLES / dataset / "sample_0000")
    assert [view.name for view in frameset.views] == [f"view_{i:02d}" for i in range(views)]
    assert all(view.image.shape == (518, 518, 3) for view in frameset.views)
    sequence = ImageFolderSource(EXAMPLES / dataset)
    assert len(sequence) >= 1 and sequence.folders[0].name == "sample_0000"
