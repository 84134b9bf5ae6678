# Copyright 2026 The HGGT-ROS Authors
# SPDX-License-Identifier: Apache-2.0
"""Chumpy-free, restricted MANO loading: official layout, refusals, clear errors."""

from __future__ import annotations

import pickle
import sys
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest

from hggt_core.mano.io import ManoFileError, ManoModelData, find_mano_file, load_mano_model
from hggt_core.mano.synthetic import make_synthetic_mano, write_mano_npz, write_mano_pickle

_ARRAY_FIELDS = (
    "v_template",
    "shapedirs",
    "posedirs",
    "J_regressor",
    "weights",
    "faces",
    "hands_components",
    "hands_mean",
    "kintree_table",
)


def _assert_same_model(a: ManoModelData, b: ManoModelData) -> None:
    assert a.side == b.side
    for field in _ARRAY_FIELDS:
        np.testing.assert_array_equal(getattr(a, field), getattr(b, field), err_msg=field)


@pytest.mark.parametrize("python2_arrays", [False, True])
@pytest.mark.parametrize("protocol", [0, 2])
def test_loads_chumpy_and_sparse_pickle_without_chumpy_or_scipy(
    tmp_path: Path,
    official_style_pickle: Callable[..., Path],
    protocol: int,
    python2_arrays: bool,
) -> None:
    data = make_synthetic_mano("right")
    path = official_style_pickle(
        data, tmp_path / "MANO_RIGHT.pkl", protocol=protocol, python2_arrays=python2_arrays
    )
    raw = path.read_bytes()
    assert b"chumpy.ch" in raw and b"scipy.sparse.csc" in raw
    assert (b"numpy.core.multiarray" in raw) == python2_arrays
    loaded = load_mano_model(path)
    _assert_same_model(loaded, data)
    assert "chumpy" not in sys.modules


def test_unevaluated_chumpy_expression_is_a_clear_error(
    tmp_path: Path, official_style_pickle: Callable[..., Path]
) -> None:
    path = official_style_pickle(
        make_synthetic_mano("right"), tmp_path / "MANO_RIGHT.pkl", shapedirs_as_expression=True
    )
    with pytest.raises(ManoFileError, match=r"chumpy\.reordering\.transpose"):
        load_mano_model(path)


class _RunsCommand:
    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self) -> tuple[object, tuple[str]]:
        return (eval, (f"open({str(self.marker)!r}, 'w').close()",))


def test_refuses_eval_payload_without_running_it(tmp_path: Path) -> None:
    marker = tmp_path / "pwned"
    path = tmp_path / "MANO_RIGHT.pkl"
    path.write_bytes(pickle.dumps({"v_template": _RunsCommand(marker)}, protocol=2))
    with pytest.raises(ManoFileError, match=r"refused to load global '__builtin__\.eval'"):
        load_mano_model(path)
    assert not marker.exists()


def test_refuses_os_system_payload_without_running_it(tmp_path: Path) -> None:
    marker = tmp_path / "pwned"
    path = tmp_path / "MANO_RIGHT.pkl"
    path.write_bytes(b"cos\nsystem\n(S'touch " + str(marker).encode() + b"'\ntR.")
    with pytest.raises(ManoFileError, match=r"refused to load global 'os\.system'"):
        load_mano_model(path)
    assert not marker.exists()


def test_refuses_payload_nested_inside_an_array(tmp_path: Path) -> None:
    marker = tmp_path / "pwned"
    hidden = np.array([_RunsCommand(marker)], dtype=object)
    path = tmp_path / "MANO_RIGHT.pkl"
    path.write_bytes(pickle.dumps({"hands_mean": hidden}, protocol=2))
    with pytest.raises(ManoFileError, match="refused"):
        load_mano_model(path)
    assert not marker.exists()


def test_missing_file_names_the_path(tmp_path: Path) -> None:
    missing = tmp_path / "nowhere" / "MANO_RIGHT.pkl"
    with pytest.raises(ManoFileError, match="not found") as info:
        load_mano_model(missing)
    assert str(missing) in str(info.value)


@pytest.mark.parametrize("keep_fraction", [0.0, 0.3, 0.9])
def test_truncated_file_is_reported(tmp_path: Path, mano_dir: Path, keep_fraction: float) -> None:
    raw = (mano_dir / "MANO_RIGHT.pkl").read_bytes()
    path = tmp_path / "MANO_RIGHT.pkl"
    path.write_bytes(raw[: int(len(raw) * keep_fraction)])
    with pytest.raises(ManoFileError, match="corrupt or truncated"):
        load_mano_model(path)


def test_garbage_file_is_reported(tmp_path: Path) -> None:
    path = tmp_path / "MANO_LEFT.pkl"
    path.write_bytes(b"this is not a pickle at all")
    with pytest.raises(ManoFileError, match="corrupt or truncated"):
        load_mano_model(path)


def test_missing_keys_are_listed(tmp_path: Path) -> None:
    data = make_synthetic_mano("right")
    path = tmp_path / "MANO_RIGHT.pkl"
    path.write_bytes(pickle.dumps({"v_template": data.v_template, "f": data.faces}, protocol=2))
    with pytest.raises(ManoFileError, match="missing keys") as info:
        load_mano_model(path)
    for key in ("shapedirs", "posedirs", "J_regressor", "weights", "hands_mean"):
        assert key in str(info.value)


def test_wrong_shape_is_reported(tmp_path: Path) -> None:
    data = make_synthetic_mano("right")
    path = write_mano_pickle(data, tmp_path / "MANO_RIGHT.pkl")
    content = pickle.loads(path.read_bytes())
    content["shapedirs"] = content["shapedirs"][:, :, :8]
    path.write_bytes(pickle.dumps(content, protocol=2))
    with pytest.raises(ManoFileError, match=r"'shapedirs' has shape \(778, 3, 8\)"):
        load_mano_model(path)


def test_not_a_dict_is_reported(tmp_path: Path) -> None:
    path = tmp_path / "MANO_RIGHT.pkl"
    path.write_bytes(pickle.dumps([1, 2, 3], protocol=2))
    with pytest.raises(ManoFileError, match="expected a dict"):
        load_mano_model(path)


def test_side_mismatch_and_inference(mano_dir: Path) -> None:
    with pytest.raises(ManoFileError, match="asked for the right hand"):
        load_mano_model(mano_dir / "MANO_LEFT.pkl", side="right")
    assert load_mano_model(mano_dir / "MANO_LEFT.pkl").side == "left"
    assert load_mano_model(mano_dir, side="right").side == "right"


def test_side_required_when_name_is_ambiguous(tmp_path: Path) -> None:
    path = write_mano_pickle(make_synthetic_mano("right"), tmp_path / "hand_model.pkl")
    with pytest.raises(ManoFileError, match="cannot tell the hand"):
        load_mano_model(path)
    assert load_mano_model(path, side="right").side == "right"


def test_find_mano_file(tmp_path: Path, mano_dir: Path) -> None:
    assert find_mano_file(mano_dir, "left") == mano_dir / "MANO_LEFT.pkl"
    write_mano_npz(make_synthetic_mano("left"), tmp_path / "MANO_LEFT.npz")
    assert find_mano_file(tmp_path, "left") == tmp_path / "MANO_LEFT.npz"
    with pytest.raises(ManoFileError) as info:
        find_mano_file(tmp_path, "right")
    message = str(info.value)
    assert "MANO_RIGHT.pkl" in message and "MANO_RIGHT.npz" in message


@pytest.mark.parametrize("side", ["right", "left"])
def test_npz_round_trip(tmp_path: Path, side: str) -> None:
    data = make_synthetic_mano(side)  # type: ignore[arg-type]
    path = write_mano_npz(data, tmp_path / f"MANO_{side.upper()}.npz")
    _assert_same_model(load_mano_model(path), data)


def test_pickle_round_trip(right_model: ManoModelData) -> None:
    _assert_same_model(right_model, make_synthetic_mano("right"))


def test_corrupt_npz_is_reported(tmp_path: Path) -> None:
    path = tmp_path / "MANO_RIGHT.npz"
    path.write_bytes(b"PK\x03\x04 broken zip")
    with pytest.raises(ManoFileError, match=r"not a readable MANO \.npz"):
        load_mano_model(path)


def test_left_shapedirs_fix_is_opt_in(tmp_path: Path) -> None:
    official_like = make_synthetic_mano("left", left_shapedirs_bug=True)
    path = write_mano_pickle(official_like, tmp_path / "MANO_LEFT.pkl")
    unfixed = load_mano_model(path)
    fixed = load_mano_model(path, fix_left_shapedirs=True)
    np.testing.assert_array_equal(unfixed.shapedirs, official_like.shapedirs)
    np.testing.assert_array_equal(fixed.shapedirs[:, 0], -official_like.shapedirs[:, 0])
    np.testing.assert_array_equal(fixed.shapedirs[:, 1:], official_like.shapedirs[:, 1:])
    # The fix restores the true mirror image of the right hand's shape space.
    np.testing.assert_array_equal(fixed.shapedirs, make_synthetic_mano("left").shapedirs)


def test_left_fix_leaves_right_hand_alone(mano_dir: Path, right_model: ManoModelData) -> None:
    fixed = load_mano_model(mano_dir / "MANO_RIGHT.pkl", fix_left_shapedirs=True)
    np.testing.assert_array_equal(fixed.shapedirs, right_model.shapedirs)
