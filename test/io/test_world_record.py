# Copyright 2026 The HGGT-ROS Authors
# SPDX-License-Identifier: Apache-2.0
"""The results files of a calibrated run record the world frame and each alignment."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest

from hggt_core.calibration import WorldAlignment
from hggt_core.io.exports import load_npz, save_json, save_npz
from hggt_core.io.world_record import WorldRecord
from hggt_core.pipeline.types import HandResult

MakeHandResult = Callable[..., HandResult]
ALIGNMENT = WorldAlignment(np.eye(4), 1.25, 0.003, 0.8, ("cam0", "cam2"))


def test_npz_records_the_world_frame_and_each_alignment(
    tmp_path: Path, make_hand_result: MakeHandResult
) -> None:
    aligned = make_hand_result("right", views=("cam0", "/rig/cam1", "cam2"))
    unaligned = make_hand_result("left", seed=1, views=("cam1",))
    path = tmp_path / "r.npz"
    save_npz(path, [aligned, unaligned], WorldRecord("base_link", (ALIGNMENT, None)))
    with np.load(path) as data:
        assert str(data["world_frame"]) == "base_link"
        assert data["world_aligned"].tolist() == [True, False]
        np.testing.assert_array_equal(data["world_scale"], [1.25, np.nan])
        np.testing.assert_array_equal(data["world_residual_m"], [0.003, np.nan])
        np.testing.assert_array_equal(data["world_residual_deg"], [0.8, np.nan])
        assert data["world_known_views"].tolist() == [[True, False, True], [False] * 3]
    assert [r.side for r in load_npz(path)] == ["right", "left"]  # still loads
    save_npz(tmp_path / "plain.npz", [aligned])
    with np.load(tmp_path / "plain.npz") as data:
        assert not any(key.startswith("world_") for key in data.files)


def test_json_records_the_world_frame_and_each_alignment(
    tmp_path: Path, make_hand_result: MakeHandResult
) -> None:
    hands = [make_hand_result("right"), make_hand_result("left", seed=1)]
    save_json(tmp_path / "r.json", hands, False, WorldRecord("base_link", (ALIGNMENT, None)))
    document = json.loads((tmp_path / "r.json").read_text())
    assert document["world_frame"] == "base_link"
    assert "world frame 'base_link'" in document["conventions"]["frames"]
    assert document["results"][0]["world"] == {
        "scale": 1.25, "residual_m": 0.003, "residual_deg": 0.8, "cameras_used": ["cam0", "cam2"]
    }  # fmt: skip
    assert document["results"][1]["world"] is None
    with pytest.raises(ValueError, match="1 alignments for 2 results"):
        save_json(tmp_path / "bad.json", hands, world=WorldRecord("base_link", (None,)))
    with pytest.raises(ValueError, match="1 alignments for 2 results"):
        save_npz(tmp_path / "bad.npz", hands, WorldRecord("base_link", (None,)))
