# Copyright 2026 The HGGT-ROS Authors
# SPDX-License-Identifier: Apache-2.0
"""Loading MANO model files without chumpy, scipy or an unrestricted unpickler.

The official ``MANO_RIGHT.pkl`` / ``MANO_LEFT.pkl`` are Python 2 pickles (read with latin1
encoding) whose ``shapedirs`` is a chumpy ``Ch`` object and whose ``J_regressor`` is a
``scipy.sparse.csc_matrix``. :func:`load_mano_model` reads them with a restricted unpickler:
only an explicit allow-list of globals (numpy array/dtype/scalar reconstruction, ``set``,
latin1 byte decoding, scipy csc/csr matrices, chumpy objects) can be referenced, and each is
mapped to numpy or to an inert stand-in defined here, so nothing from the file is ever executed
and neither chumpy nor scipy is imported. Any other global makes loading fail with
:class:`ManoFileError`. ``.npz`` files with the same key names are read with
``allow_pickle=False``.
"""

from __future__ import annotations

import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import numpy as np
import numpy.typing as npt

from hggt_core.base.hand_skeleton import (
    MANO_PARENTS,
    NUM_BETAS,
    NUM_FACES,
    NUM_JOINTS,
    NUM_POSE_PARAMS,
    NUM_VERTICES,
)
from hggt_core.base.safe_pickle import NUMPY_GLOBALS, RestrictedUnpickler, UnsafePickleError

HandSide = Literal["right", "left"]
"""Which hand a MANO model describes."""

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]

_NUM_POSE_BASIS = (NUM_JOINTS - 1) * 9
_MAX_DENSE_ELEMENTS = 10_000_000  # guards the dense rebuild of sparse matrices


class ManoFileError(RuntimeError):
    """A MANO model file is missing, unreadable, unsafe or not a MANO model."""


@dataclass(frozen=True, eq=False)
class ManoModelData:
    """Arrays of one MANO hand model, in the layout of the official pickles (float64, metres).

    Attributes:
        v_template: [778, 3] template mesh vertices (rest pose, mean shape).
        shapedirs: [778, 3, 10] shape blend shapes (displacement per unit beta).
        posedirs: [778, 3, 135] pose corrective blend shapes, the official layout: the last
            axis is the flattened (R_j - I) of joints 1..15 (row-major 3x3 per joint).
        J_regressor: [16, 778] dense joint regressor (joints = J_regressor @ vertices).
        weights: [778, 16] linear blend skinning weights (rows sum to 1).
        faces: [1538, 3] int64 triangle vertex indices, counter-clockwise seen from outside.
        hands_components: [45, 45] pose PCA basis, one component per row.
        hands_mean: [45] mean finger pose (axis-angle, radians).
        kintree_table: [2, 16] int64; row 0 holds the parents (root entry as stored), row 1
            the joint ids.
        side: which hand the model describes.
    """

    v_template: FloatArray
    shapedirs: FloatArray
    posedirs: FloatArray
    J_regressor: FloatArray
    weights: FloatArray
    faces: IntArray
    hands_components: FloatArray
    hands_mean: FloatArray
    kintree_table: IntArray
    side: HandSide


_REQUIRED_KEYS = (
    "v_template",
    "shapedirs",
    "posedirs",
    "J_regressor",
    "weights",
    "f",
    "hands_components",
    "hands_mean",
    "kintree_table",
)

_EXPECTED_SHAPES: dict[str, tuple[int, ...]] = {
    "v_template": (NUM_VERTICES, 3),
    "shapedirs": (NUM_VERTICES, 3, NUM_BETAS),
    "posedirs": (NUM_VERTICES, 3, _NUM_POSE_BASIS),
    "J_regressor": (NUM_JOINTS, NUM_VERTICES),
    "weights": (NUM_VERTICES, NUM_JOINTS),
    "f": (NUM_FACES, 3),
    "hands_components": (NUM_POSE_PARAMS, NUM_POSE_PARAMS),
    "hands_mean": (NUM_POSE_PARAMS,),
    "kintree_table": (2, NUM_JOINTS),
}


class _ChumpyStandIn:
    """Inert replacement for chumpy objects: keeps the pickled state, never runs chumpy."""

    chumpy_name = "chumpy.ch.Ch"

    def __setstate__(self, state: Any) -> None:
        self.state = state

    def to_array(self) -> np.ndarray[Any, Any]:
        state = getattr(self, "state", None)
        value = state.get("x") if isinstance(state, dict) else None
        if value is None:
            raise ManoFileError(
                f"the file stores an unevaluated chumpy expression ({self.chumpy_name}) "
                "without its value; convert it once to plain arrays (e.g. with smplx's "
                "clean_ch.py) and load the result"
            )
        return _to_plain(value)


class _SparseStandIn:
    """Inert replacement for scipy csc/csr matrices; rebuilds the dense array with numpy."""

    compressed_axis = 1

    def __setstate__(self, state: Any) -> None:
        self.state = state

    def to_array(self) -> np.ndarray[Any, Any]:
        state = getattr(self, "state", None)
        if not isinstance(state, dict):
            raise ManoFileError("sparse matrix without state in the file")
        raw_shape: Any = state.get("_shape", state.get("shape"))
        try:
            shape = tuple(int(n) for n in raw_shape)
            data = np.asarray(state["data"], dtype=np.float64)
            indices = np.asarray(state["indices"], dtype=np.int64)
            indptr = np.asarray(state["indptr"], dtype=np.int64)
        except (KeyError, TypeError, ValueError) as exc:
            raise ManoFileError(f"malformed sparse matrix in the file: {exc}") from exc
        if len(shape) != 2 or min(shape) < 0 or shape[0] * shape[1] > _MAX_DENSE_ELEMENTS:
            raise ManoFileError(f"sparse matrix of shape {shape} in the file is implausible")
        n_major = shape[self.compressed_axis]
        n_minor = shape[1 - self.compressed_axis]
        valid = (
            indptr.shape == (n_major + 1,)
            and indptr[0] == 0
            and indptr[-1] == data.size == indices.size
            and np.all(np.diff(indptr) >= 0)
            and (indices.size == 0 or (indices.min() >= 0 and indices.max() < n_minor))
        )
        if not valid:
            raise ManoFileError("malformed sparse matrix in the file (inconsistent indices)")
        major = np.repeat(np.arange(n_major), np.diff(indptr))
        dense = np.zeros(shape, dtype=np.float64)
        rows, cols = (indices, major) if self.compressed_axis == 1 else (major, indices)
        np.add.at(dense, (rows, cols), data)
        return dense


class _CsrStandIn(_SparseStandIn):
    compressed_axis = 0


def _reconstruct_object(cls: Any, base: Any, state: Any) -> object:
    """Safe ``copy_reg._reconstructor``: only instantiates this module's stand-ins."""
    if not (isinstance(cls, type) and issubclass(cls, _ChumpyStandIn | _SparseStandIn)):
        raise ManoFileError(f"refused to reconstruct {cls!r} from a MANO file")
    if base is not object or state is not None:
        raise ManoFileError("refused an unusual object reconstruction in a MANO file")
    return object.__new__(cls)


def _mano_globals() -> dict[tuple[str, str], Any]:
    """The numpy allow-list plus the chumpy / scipy.sparse stand-ins of the official files."""
    allowed = dict(NUMPY_GLOBALS)
    for builtins_module in ("__builtin__", "builtins"):
        allowed[(builtins_module, "object")] = object
    for copyreg_module in ("copy_reg", "copyreg"):
        allowed[(copyreg_module, "_reconstructor")] = _reconstruct_object
    for kind, stand_in in (("csc", _SparseStandIn), ("csr", _CsrStandIn)):
        for sparse_module in (f"scipy.sparse.{kind}", f"scipy.sparse._{kind}"):
            allowed[(sparse_module, f"{kind}_matrix")] = stand_in
            allowed[(sparse_module, f"{kind}_array")] = stand_in
    return allowed


_MANO_GLOBALS = _mano_globals()

_CHUMPY_STAND_INS: dict[str, type[_ChumpyStandIn]] = {}


def _chumpy_stand_in(module: str, name: str) -> type[_ChumpyStandIn]:
    """One inert stand-in class per chumpy class name, so errors can name the class."""
    full_name = f"{module}.{name}"
    if full_name not in _CHUMPY_STAND_INS:
        _CHUMPY_STAND_INS[full_name] = type(
            f"ChumpyStandIn_{name}", (_ChumpyStandIn,), {"chumpy_name": full_name}
        )
    return _CHUMPY_STAND_INS[full_name]


def _resolve_chumpy(module: str, name: str) -> type[_ChumpyStandIn] | None:
    """Any chumpy class becomes an inert stand-in that keeps only its stored value."""
    if (module == "chumpy" or module.startswith("chumpy.")) and name.isidentifier():
        return _chumpy_stand_in(module, name)
    return None


def _to_plain(value: Any) -> np.ndarray[Any, Any]:
    """Convert a loaded value (array, chumpy or sparse stand-in) to a numpy array."""
    if isinstance(value, _ChumpyStandIn | _SparseStandIn):
        return value.to_array()
    return np.asarray(value)


def _read_pickle(path: Path) -> dict[str, Any]:
    try:
        with path.open("rb") as stream:
            content = RestrictedUnpickler(stream, _MANO_GLOBALS, _resolve_chumpy).load()
    except (ManoFileError, UnsafePickleError) as exc:
        raise ManoFileError(f"{path}: {exc}") from exc
    except Exception as exc:  # any unpickling failure means a bad file
        raise ManoFileError(
            f"{path}: not a readable MANO pickle (corrupt or truncated?): "
            f"{type(exc).__name__}: {exc}"
        ) from exc
    if not isinstance(content, dict):
        raise ManoFileError(f"{path}: expected a dict of arrays, got {type(content).__name__}")
    return content


def _read_npz(path: Path) -> dict[str, Any]:
    try:
        with np.load(path, allow_pickle=False) as archive:
            return {key: archive[key] for key in archive.files}
    except (OSError, ValueError, EOFError, zipfile.BadZipFile) as exc:
        raise ManoFileError(
            f"{path}: not a readable MANO .npz (corrupt, truncated or holding pickled "
            f"objects?): {type(exc).__name__}: {exc}"
        ) from exc


def _side_from_name(path: Path) -> HandSide | None:
    name = path.name.upper()
    has_right = "RIGHT" in name
    has_left = "LEFT" in name
    if has_right == has_left:
        return None
    return "right" if has_right else "left"


def find_mano_file(mano_dir: str | Path, side: HandSide) -> Path:
    """Locate the MANO model file of one hand.

    Args:
        mano_dir: a directory holding ``MANO_RIGHT.pkl`` / ``MANO_LEFT.pkl`` (or ``.npz``
            files with the same stem), or directly the path of a model file.
        side: the hand to look for.

    Returns:
        The path of the model file (``.pkl`` preferred over ``.npz``).

    Raises:
        ManoFileError: if no file is found; the message lists the paths that were tried.
    """
    root = Path(mano_dir).expanduser()
    if root.is_file():
        return root
    stem = f"MANO_{side.upper()}"
    candidates = [root / f"{stem}.pkl", root / f"{stem}.npz"]
    for candidate in candidates:
        if candidate.is_file():
            return candidate
    tried = ", ".join(str(c) for c in candidates)
    raise ManoFileError(
        f"no MANO {side}-hand model found; looked for {tried}. Download the MANO models "
        "from https://mano.is.tue.mpg.de and point the MANO directory at them."
    )


def _check_arrays(raw: dict[str, Any], path: Path) -> dict[str, np.ndarray[Any, Any]]:
    missing = [key for key in _REQUIRED_KEYS if key not in raw]
    if missing:
        raise ManoFileError(
            f"{path}: not a MANO model; missing keys {missing} (found {sorted(raw)})"
        )
    arrays = {key: _to_plain(raw[key]) for key in _REQUIRED_KEYS}
    if arrays["posedirs"].shape == (NUM_VERTICES * 3, _NUM_POSE_BASIS):
        arrays["posedirs"] = arrays["posedirs"].reshape(_EXPECTED_SHAPES["posedirs"])
    for key, expected in _EXPECTED_SHAPES.items():
        array = arrays[key]
        if array.shape != expected:
            raise ManoFileError(f"{path}: '{key}' has shape {array.shape}, expected {expected}")
        if not (np.issubdtype(array.dtype, np.number) or array.dtype == np.bool_):
            raise ManoFileError(f"{path}: '{key}' holds {array.dtype} values, not numbers")
        if not np.all(np.isfinite(array)):
            raise ManoFileError(f"{path}: '{key}' contains NaN or infinite values")
    parents = tuple(int(p) for p in arrays["kintree_table"][0, 1:])
    if parents != MANO_PARENTS[1:]:
        raise ManoFileError(f"{path}: unexpected kinematic tree parents {parents}")
    if arrays["f"].min() < 0 or arrays["f"].max() >= NUM_VERTICES:
        raise ManoFileError(f"{path}: face indices out of range [0, {NUM_VERTICES})")
    return arrays


def _resolve_file_and_side(path: str | Path, side: HandSide | None) -> tuple[Path, HandSide]:
    """Find the model file and check the requested side against its name."""
    file_path = Path(path).expanduser()
    if file_path.is_dir():
        if side is None:
            raise ManoFileError(f"{file_path} is a directory; pass side='right' or 'left'")
        file_path = find_mano_file(file_path, side)
    if not file_path.is_file():
        raise ManoFileError(f"MANO model file not found: {file_path}")
    named_side = _side_from_name(file_path)
    if side is not None and named_side is not None and side != named_side:
        raise ManoFileError(
            f"{file_path}: asked for the {side} hand but the file name says {named_side}"
        )
    resolved = side if side is not None else named_side
    if resolved is None:
        raise ManoFileError(
            f"{file_path}: cannot tell the hand from the file name; pass side='right' or 'left'"
        )
    return file_path, resolved


def load_mano_model(
    path: str | Path,
    side: HandSide | None = None,
    fix_left_shapedirs: bool = False,
) -> ManoModelData:
    """Load an official MANO pickle (or an ``.npz`` with the same keys) safely.

    Args:
        path: a ``.pkl`` or ``.npz`` model file, or a directory holding
            ``MANO_RIGHT``/``MANO_LEFT`` files (then ``side`` is required).
        side: the expected hand. ``None`` infers it from the file name (RIGHT / LEFT).
        fix_left_shapedirs: for a left hand, negate ``shapedirs[:, 0, :]``. The official left
            model ships the right hand's shape blend shapes, so betas deform the left hand
            unlike the right one; this flag mirrors them. Off by default to stay identical to
            smplx 0.1.28, which does not fix it. Ignored for right hands.

    Returns:
        The model arrays (float64; faces and kintree as int64).

    Raises:
        ManoFileError: missing/corrupt/truncated file, refused pickle content, missing keys,
            wrong shapes, an unexpected kinematic tree, or a side that contradicts the name.
    """
    file_path, resolved_side = _resolve_file_and_side(path, side)
    raw = _read_npz(file_path) if file_path.suffix == ".npz" else _read_pickle(file_path)
    arrays = _check_arrays(raw, file_path)
    shapedirs = arrays["shapedirs"].astype(np.float64)
    if fix_left_shapedirs and resolved_side == "left":
        shapedirs = shapedirs.copy()
        shapedirs[:, 0, :] *= -1.0
    return ManoModelData(
        v_template=arrays["v_template"].astype(np.float64),
        shapedirs=shapedirs,
        posedirs=arrays["posedirs"].astype(np.float64),
        J_regressor=arrays["J_regressor"].astype(np.float64),
        weights=arrays["weights"].astype(np.float64),
        faces=arrays["f"].astype(np.int64),
        hands_components=arrays["hands_components"].astype(np.float64),
        hands_mean=arrays["hands_mean"].astype(np.float64),
        kintree_table=arrays["kintree_table"].astype(np.int64),
        side=resolved_side,
    )
