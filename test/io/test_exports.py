# Copyright 2026 The HGGT-ROS Authors
# SPDX-License-Identifier: Apache-2.0
"""Exports: npz round trip and pose encodings, JSON schema, atomic writes."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import torch

from hggt_core.geometry.pose_encoding import pose_encoding_to_extrinsics_intrinsics
from hggt_core.io.exports import (
    load_npz,
    result_to_json,
    save_json,
    save_npz,
)
from hggt_core.pipeline.types import CropTransform, HandResult, HandSide, ViewCamera

SIZE = 518
EPOCH_NS = 1_700_000_000_123_456_789
"""A realistic ROS stamp with odd nanoseconds (float64 seconds cannot hold it)."""
MakeResult = Callable[..., tuple[HandResult, np.ndarray]]
MIRROR = np.diag([-1.0, 1.0, 1.0, 1.0])


def _network_encodings(rng: np.random.Generator, views: int) -> np.ndarray:
    """[S, 9] plausible encodings: view 0 identity, unit quaternions with w >= 0."""
    quat = rng.normal(size=(views, 4))
    quat /= np.linalg.norm(quat, axis=1, keepdims=True)
    quat *= np.sign(quat[:, 3:])
    encodings = np.concatenate(
        [rng.normal(scale=0.3, size=(views, 3)), quat, rng.uniform(0.3, 0.9, size=(views, 2))], 1
    )
    encodings[0, :7] = [0, 0, 0, 0, 0, 0, 1]
    return encodings


def _camera(name: str, encoding: np.ndarray, crop: CropTransform, rng: Any) -> ViewCamera:
    """Full-image camera of a crop camera, following CropTransform's documented maps."""
    extrinsic, k_crop = pose_encoding_to_extrinsics_intrinsics(
        torch.from_numpy(encoding[None]), (crop.size, crop.size)
    )
    cam_from_ref = np.eye(4)
    cam_from_ref[:3] = extrinsic[0].numpy()
    k = k_crop[0].numpy()
    if crop.mirrored:  # u_img = x0 + scale * (size - u_crop) for points mirrored x -> -x
        affine = np.array(
            [
                [-crop.scale, 0, crop.x0 + crop.scale * crop.size],
                [0, crop.scale, crop.y0],
                [0, 0, 1],
            ]
        )
        intrinsics = affine @ k @ MIRROR[:3, :3]
        cam_from_ref = MIRROR @ cam_from_ref @ MIRROR
    else:
        affine = np.array([[crop.scale, 0, crop.x0], [0, crop.scale, crop.y0], [0, 0, 1]])
        intrinsics = affine @ k
    joints_2d = rng.uniform(0, 640, size=(21, 2))
    return ViewCamera(name, intrinsics, cam_from_ref, joints_2d, crop)


@pytest.fixture
def make_result(
    make_hand_result: Callable[..., HandResult],
) -> Callable[..., tuple[HandResult, np.ndarray]]:
    """``(seed, views, side, stamp_ns=12.5 s)`` -> (hand result, its network encodings).

    The result's cameras come from the [views, 9] encodings through random crops (mirrored for
    left hands).
    """

    def make(
        seed: int, views: int, side: HandSide = "right", stamp_ns: int = 12_500_000_000
    ) -> tuple[HandResult, np.ndarray]:
        rng = np.random.default_rng(seed)
        encodings = _network_encodings(rng, views)
        cameras = tuple(
            _camera(
                f"cam{view}",
                encodings[view],
                CropTransform(
                    float(rng.uniform(-50, 300)),
                    float(rng.uniform(-50, 200)),
                    float(rng.uniform(0.3, 2.0)),
                    SIZE,
                    mirrored=side == "left",
                ),
                rng,
            )
            for view in range(views)
        )
        timings_s = {"crop": 0.001 * (seed + 1), "model": 0.25} if seed % 2 else {"model": 0.5}
        result = make_hand_result(
            side, seed=seed, stamp_ns=stamp_ns, cameras=cameras, timings_s=timings_s
        )
        return result, encodings

    return make


def _assert_same(a: HandResult, b: HandResult) -> None:
    for field in ("hand_pose", "betas", "transl", "vertices", "joints", "joint_rotations"):
        np.testing.assert_array_equal(getattr(a, field), getattr(b, field))
    assert (a.stamp_ns, a.side, a.score) == (b.stamp_ns, b.side, b.score)
    assert a.views_used == b.views_used
    assert dict(a.timings_s) == dict(b.timings_s)
    assert len(a.cameras) == len(b.cameras)
    for ca, cb in zip(a.cameras, b.cameras, strict=True):
        assert (ca.name, ca.crop) == (cb.name, cb.crop)
        for field in ("intrinsics", "cam_from_ref", "joints_2d"):
            np.testing.assert_array_equal(getattr(ca, field), getattr(cb, field))


def test_npz_has_release_keys_and_round_trips(tmp_path: Path, make_result: MakeResult) -> None:
    (first, _), (second, _) = make_result(0, 3), make_result(1, 1, side="left", stamp_ns=EPOCH_NS)
    path = tmp_path / "results.npz"
    save_npz(path, [first, second])
    with np.load(path, allow_pickle=False) as data:
        shapes = {key: data[key].shape for key in data.files}
        assert shapes["mano_hand_pose"] == (2, 48)
        assert shapes["mano_betas"] == (2, 10) and shapes["mano_transl"] == (2, 3)
        assert shapes["pose_enc"] == (2, 3, 9) and shapes["joints_2d"] == (2, 3, 21, 2)
        assert shapes["vertices"] == (2, 778, 3) and shapes["cam_from_ref"] == (2, 3, 4, 4)
        np.testing.assert_array_equal(data["mano_hand_pose"][1], second.hand_pose)
        assert data["view_names"].tolist() == [["cam0", "cam1", "cam2"], ["cam0", "", ""]]
        assert data["side"].tolist() == ["right", "left"]
        assert data["timing_names"].tolist() == ["crop", "model"]
        np.testing.assert_array_equal(data["timings_s"], [[np.nan, 0.5], [0.002, 0.25]])
        assert data["stamp_ns"].dtype == np.int64
        assert data["stamp_ns"].tolist() == [12_500_000_000, EPOCH_NS]  # exact
        assert data["stamp_s"].tolist() == [12.5, EPOCH_NS / 1e9]  # for readers in seconds
        assert (
            np.isnan(data["intrinsics"][1, 1:]).all() and np.isnan(data["pose_enc"][1, 1:]).all()
        )
    loaded = load_npz(path)
    assert len(loaded) == 2
    _assert_same(loaded[0], first)
    _assert_same(loaded[1], second)
    assert loaded[1].stamp_ns == EPOCH_NS


def test_npz_without_stamp_ns_loads_from_seconds(tmp_path: Path, make_result: MakeResult) -> None:
    result, _ = make_result(0, 2, stamp_ns=1_700_000_000_250_000_000)
    save_npz(tmp_path / "new.npz", [result])
    with np.load(tmp_path / "new.npz") as data:
        old = {key: data[key] for key in data.files if key != "stamp_ns"}
    np.savez(tmp_path / "old.npz", allow_pickle=False, **old)  # as written before stamp_ns
    [loaded] = load_npz(tmp_path / "old.npz")
    assert loaded.stamp_ns == 1_700_000_000_250_000_000  # a float that holds it exactly
    del old["stamp_s"]
    np.savez(tmp_path / "none.npz", allow_pickle=False, **old)
    with pytest.raises(ValueError, match=r"none\.npz lacks the keys \['stamp_s'\]"):
        load_npz(tmp_path / "none.npz")


@pytest.mark.parametrize("side", ["right", "left"])
def test_pose_enc_reproduces_the_network_encoding_in_the_crop(
    tmp_path: Path, side: HandSide, make_result: MakeResult
) -> None:
    result, encodings = make_result(4, 4, side=side)
    save_npz(tmp_path / "r.npz", [result])
    with np.load(tmp_path / "r.npz") as data:
        np.testing.assert_allclose(data["pose_enc"][0], encodings, atol=1e-9)


def test_npz_of_no_results_and_foreign_files(tmp_path: Path, make_result: MakeResult) -> None:
    save_npz(tmp_path / "empty.npz", [])
    assert load_npz(tmp_path / "empty.npz") == []
    np.savez(tmp_path / "release.npz", mano_hand_pose=np.zeros(48), pose_enc=np.zeros((2, 9)))
    with pytest.raises(ValueError, match=r"release\.npz is not an hggt_ros results file"):
        load_npz(tmp_path / "release.npz")
    bad, _ = make_result(2, 2)
    bad = HandResult(**{**bad.__dict__, "betas": np.zeros(11)})
    with pytest.raises(ValueError, match=r"result 0 betas must have shape \[10\], got \[11\]"):
        save_npz(tmp_path / "bad.npz", [bad])
    assert not (tmp_path / "bad.npz").exists()


def _strict_json(text: str) -> Any:
    def reject(token: str) -> None:
        raise AssertionError(f"non-standard JSON token {token}")

    return json.loads(text, parse_constant=reject)


def test_json_schema_values_and_nan_as_null(tmp_path: Path, make_result: MakeResult) -> None:
    result, _ = make_result(3, 2, stamp_ns=EPOCH_NS)
    result.cameras[1].joints_2d[5] = np.nan  # a joint behind the camera, say
    save_json(tmp_path / "r.json", [result])
    text = (tmp_path / "r.json").read_text(encoding="utf-8")
    document = _strict_json(text)
    assert (document["format"], document["version"]) == ("hggt_ros.hand_results", 1)
    assert "metres" in document["conventions"]["units"]
    [entry] = document["results"]
    assert entry["side"] == "right" and entry["stamp_ns"] == EPOCH_NS  # exact integer
    assert entry["stamp_s"] == EPOCH_NS / 1e9 and "stamp_ns" in document["conventions"]["stamps"]
    assert entry["views_used"] == ["cam0", "cam1"]
    np.testing.assert_array_equal(entry["mano"]["hand_pose"], result.hand_pose)
    np.testing.assert_array_equal(entry["vertices"], result.vertices)
    camera = entry["cameras"][1]
    assert camera["joints_2d"][5] == [None, None]
    np.testing.assert_array_equal(camera["cam_from_ref"], result.cameras[1].cam_from_ref)
    assert camera["crop"]["size"] == SIZE and camera["crop"]["mirrored"] is False
    assert entry["timings_s"] == dict(result.timings_s)
    assert len(text.splitlines()) < 1200  # small arrays stay on one line each

    save_json(tmp_path / "small.json", [result], include_vertices=False)
    assert "vertices" not in _strict_json((tmp_path / "small.json").read_text())["results"][0]


def test_one_result_as_json_is_the_files_entry_with_null_for_nan(
    tmp_path: Path, make_result: MakeResult
) -> None:
    result, _ = make_result(3, 2)
    result.cameras[1].joints_2d[5] = np.nan
    save_json(tmp_path / "r.json", [result], include_vertices=False)
    [entry] = _strict_json((tmp_path / "r.json").read_text(encoding="utf-8"))["results"]
    line = json.dumps(result_to_json(result, include_vertices=False), allow_nan=False)
    assert json.loads(line) == entry
    assert entry["cameras"][1]["joints_2d"][5] == [None, None]


def test_writers_need_an_existing_folder(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError):
        save_npz(tmp_path / "no_such_folder" / "r.npz", [])
