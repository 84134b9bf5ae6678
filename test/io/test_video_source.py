# Copyright 2026 The HGGT-ROS Authors
# SPDX-License-Identifier: Apache-2.0
"""Video source on small MJPG/AVI files whose frames encode their own index."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import pytest

from hggt_core.io.video_source import VideoSource
from hggt_core.pipeline.sync_types import SyncConfig

CELL = 8  # a frame's index is drawn as a bright CELL x CELL square at cell (index % 8, index // 8)


def _write_video(path: Path, count: int, fps: float, size_wh: tuple[int, int] = (64, 48)) -> Path:
    """MJPG in AVI (no extra codecs); frame i shows a red square at the cell encoding i."""
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"MJPG"), fps, size_wh)
    assert writer.isOpened(), "OpenCV cannot write MJPG/AVI here"
    for index in range(count):
        frame = np.zeros((size_wh[1], size_wh[0], 3), dtype=np.uint8)
        row, col = divmod(index, 8)
        frame[row * CELL : (row + 1) * CELL, col * CELL : (col + 1) * CELL] = (
            0,
            0,
            255,
        )  # BGR red
        writer.write(frame)
    writer.release()
    return path


def _index(image: np.ndarray) -> int:
    """Decode the frame index from an RGB frame; also checks the square is red in RGB."""
    height, width = (image.shape[0] // CELL) * CELL, min(image.shape[1], 8 * CELL)
    cells = image[:height, :width, 0].reshape(height // CELL, CELL, width // CELL, CELL)
    means = cells.astype(float).mean(axis=(1, 3))
    row, col = np.unravel_index(np.argmax(means), means.shape)
    assert means[row, col] > 150 and image[..., 2].max() < 100
    return int(row * 8 + col)


def _decoded(source: VideoSource) -> list[list[tuple[str, int]]]:
    return [[(view.name, _index(view.image)) for view in frameset.views] for frameset in source]


def test_index_matching_stops_at_the_shortest_video(tmp_path: Path) -> None:
    left = _write_video(tmp_path / "left.avi", 5, fps=10.0)
    right = _write_video(tmp_path / "right.avi", 7, fps=10.0, size_wh=(80, 64))
    with VideoSource([left, right]) as source:
        assert source.view_names == ("left", "right")
        assert source.frame_count == 5
        assert source.frame_rates_hz == pytest.approx((10.0, 10.0))
        framesets = list(source)
    assert [[i for _, i in views] for views in _decoded(source)] == [[k, k] for k in range(5)]
    # Integer nanoseconds of the stream times (0, 100, ... ms).
    assert [f.stamp_ns for f in framesets] == [k * 100_000_000 for k in range(5)]
    assert framesets[0].views[1].image.shape == (64, 80, 3)
    assert all(v.stamp_ns == f.stamp_ns for f in framesets for v in f.views)


def test_timestamp_matching_pairs_different_rates(tmp_path: Path) -> None:
    slow = _write_video(tmp_path / "slow.avi", 10, fps=10.0)
    fast = _write_video(tmp_path / "fast.avi", 20, fps=20.0)
    with VideoSource([slow, fast], match="timestamp") as source:
        assert source.frame_count == 10
        decoded = _decoded(source)
        stamps = [f.stamp_ns for f in source]
    assert decoded == [[("slow", k), ("fast", 2 * k)] for k in range(10)]
    assert stamps == [k * 100_000_000 for k in range(10)]


def test_timestamp_matching_applies_offsets_and_names(tmp_path: Path) -> None:
    first = _write_video(tmp_path / "a.avi", 6, fps=10.0)
    late = _write_video(tmp_path / "b.avi", 6, fps=10.0)
    source = VideoSource(
        [first, late], match="timestamp", names=["cam0", "cam1"], offsets_s=[0.0, 0.2]
    )
    # b started 0.2 s late: its frame j was captured with a's frame j + 2; a's first two frames
    # and b's last two have no partner and complete sets are required by default.
    assert _decoded(source) == [[("cam0", j + 2), ("cam1", j)] for j in range(4)]
    stamps = [[view.stamp_ns for view in frameset.views] for frameset in source]
    assert stamps == [[(j + 2) * 100_000_000] * 2 for j in range(4)]  # offsets in exact ns
    partial = VideoSource(
        [first, late], match="timestamp", offsets_s=[0.0, 0.2], sync=SyncConfig(0.01, 0.05, 1)
    )
    names = [[name for name, _ in views] for views in _decoded(partial)]
    assert names == [["a"], ["a"]] + [["a", "b"]] * 4 + [["b"]] * 2


def test_reiteration_restarts_and_captures_are_released(tmp_path: Path) -> None:
    video = _write_video(tmp_path / "cam.avi", 4, fps=5.0)
    source = VideoSource([video])
    iterator = iter(source)
    assert _index(next(iterator).views[0].image) == 0
    assert _index(next(iterator).views[0].image) == 1
    assert source._captures  # open while iterating
    iterator.close()  # what a for loop's break does once the iterator is dropped
    assert source._captures == []
    assert [i for [(_, i)] in _decoded(source)] == [0, 1, 2, 3]
    with source:
        next(iter(source))
    assert source._captures == []


def test_bad_inputs_are_named(tmp_path: Path) -> None:
    good = _write_video(tmp_path / "good.avi", 2, fps=10.0)
    junk = tmp_path / "junk.avi"
    junk.write_bytes(np.random.default_rng(0).integers(0, 256, 4000, dtype=np.uint8).tobytes())
    with pytest.raises(FileNotFoundError, match=r"video file not found: .*missing\.avi"):
        VideoSource([good, tmp_path / "missing.avi"])
    with pytest.raises(ValueError, match=r"cannot open .*junk\.avi as a video"):
        VideoSource([good, junk])
    with pytest.raises(ValueError, match="no video files"):
        VideoSource([])
    with pytest.raises(ValueError, match="unique"):
        VideoSource([good, good])
    with pytest.raises(ValueError, match="one entry per video"):
        VideoSource([good], names=["a", "b"])
    with pytest.raises(ValueError, match="match must be"):
        VideoSource([good], match="nearest")  # type: ignore[arg-type]
