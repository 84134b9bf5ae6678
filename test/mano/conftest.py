# Copyright 2026 The HGGT-ROS Authors
# SPDX-License-Identifier: Apache-2.0
"""Fixtures: a directory of synthetic MANO files and a writer of official-style pickles."""

from __future__ import annotations

import io
import pickle
import sys
import types
from collections.abc import Callable
from pathlib import Path
from typing import Any
from unittest import mock

import numpy as np
import pytest

from hggt_core.mano.io import ManoModelData, load_mano_model
from hggt_core.mano.synthetic import make_synthetic_mano, write_mano_pickle


class _FakeCh:
    """Pickles under the global name ``chumpy.ch.Ch`` with chumpy's state layout."""

    def __init__(self, value: np.ndarray) -> None:
        self.x = value
        self._dirty_vars = {"x"}
        self._itr = None
        self._depends_on_deps: dict[str, Any] = {}
        self._make_dense = False
        self._make_sparse = False


class _FakeCsc:
    """Pickles under ``scipy.sparse.csc.csc_matrix`` with scipy's attribute layout."""

    def __init__(self, dense: np.ndarray) -> None:
        rows, cols = np.nonzero(dense.T)  # column-major order of the non-zeros
        self.data = dense.T[rows, cols]
        self.indices = cols.astype(np.int32)
        self.indptr = np.concatenate([[0], np.cumsum(np.bincount(rows, minlength=dense.shape[1]))])
        self._shape = dense.shape
        self.maxprint = 50
        self.format = "csc"


class _FakeChExpression:
    """A chumpy operator node (``chumpy.reordering.transpose``) without a stored value."""

    def __init__(self, operand: _FakeCh) -> None:
        self.a = operand
        self._dirty_vars = {"a"}


def _fake_module(name: str, **members: type) -> types.ModuleType:
    module = types.ModuleType(name)
    for attr, cls in members.items():
        cls.__module__ = name
        cls.__qualname__ = attr
        cls.__name__ = attr
        setattr(module, attr, cls)
    return module


class _Python2StylePickler(pickle.Pickler):
    """Stores arrays as Python 2 numpy did: raw data as a (latin1) text string."""

    def reducer_override(self, obj: Any) -> Any:
        if type(obj) is not np.ndarray:
            return NotImplemented
        reconstruct = np.zeros(0).__reduce__()[0]
        state = (1, obj.shape, obj.dtype, False, obj.tobytes().decode("latin1"))
        return reconstruct, (np.ndarray, (0,), "b"), state


def write_official_style_pickle(
    data: ManoModelData,
    path: Path,
    protocol: int = 2,
    shapedirs_as_expression: bool = False,
    python2_arrays: bool = False,
) -> Path:
    """Write ``data`` the way the official files store it: chumpy shapedirs, csc regressor.

    With ``python2_arrays`` the arrays also use Python 2 numpy's layout and module name
    (``numpy.core.multiarray``, text raw data), as in files read with ``encoding="latin1"``.
    """
    shapedirs: Any = _FakeCh(data.shapedirs)
    if shapedirs_as_expression:
        shapedirs = _FakeChExpression(shapedirs)
    content = {
        "v_template": data.v_template,
        "shapedirs": shapedirs,
        "posedirs": data.posedirs,
        "J_regressor": _FakeCsc(data.J_regressor),
        "weights": data.weights,
        "f": data.faces.astype(np.uint32),
        "kintree_table": data.kintree_table,
        "hands_components": data.hands_components,
        "hands_mean": data.hands_mean,
        "hands_coeffs": np.zeros((4, 45)),
        "J": data.J_regressor @ data.v_template,
        "bs_style": "lbs",
        "bs_type": "lrotmin",
    }
    fakes = {
        "chumpy": types.ModuleType("chumpy"),
        "chumpy.ch": _fake_module("chumpy.ch", Ch=_FakeCh),
        "chumpy.reordering": _fake_module("chumpy.reordering", transpose=_FakeChExpression),
        "scipy": types.ModuleType("scipy"),
        "scipy.sparse": types.ModuleType("scipy.sparse"),
        "scipy.sparse.csc": _fake_module("scipy.sparse.csc", csc_matrix=_FakeCsc),
    }
    stream = io.BytesIO()
    pickler_class = _Python2StylePickler if python2_arrays else pickle.Pickler
    with mock.patch.dict(sys.modules, fakes):
        pickler_class(stream, protocol=protocol).dump(content)
    raw = stream.getvalue()
    if python2_arrays:
        raw = raw.replace(b"numpy._core.multiarray", b"numpy.core.multiarray")
    path.write_bytes(raw)
    return path


@pytest.fixture(scope="session")
def mano_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Directory with synthetic MANO_RIGHT.pkl and MANO_LEFT.pkl."""
    root = tmp_path_factory.mktemp("mano_models")
    write_mano_pickle(make_synthetic_mano("right"), root / "MANO_RIGHT.pkl")
    write_mano_pickle(make_synthetic_mano("left"), root / "MANO_LEFT.pkl")
    return root


@pytest.fixture(scope="session")
def right_model(mano_dir: Path) -> ManoModelData:
    return load_mano_model(mano_dir / "MANO_RIGHT.pkl")


@pytest.fixture(scope="session")
def left_model(mano_dir: Path) -> ManoModelData:
    return load_mano_model(mano_dir / "MANO_LEFT.pkl")


@pytest.fixture(scope="session")
def official_style_pickle() -> Callable[..., Path]:
    """The writer of chumpy/scipy-style pickles (see write_official_style_pickle)."""
    return write_official_style_pickle
