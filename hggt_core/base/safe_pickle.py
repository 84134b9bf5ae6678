# Copyright 2026 The HGGT-ROS Authors
# SPDX-License-Identifier: Apache-2.0
"""Unpickling of untrusted files through an allow-list of globals (never plain ``pickle``).

A pickle can name any importable callable and have it called while loading; this unpickler
resolves only the globals it is given, so loading a hostile file raises
:class:`UnsafePickleError` before anything in it runs. :data:`NUMPY_GLOBALS` lets builtin
containers, numbers, strings, ``bytes`` (protocols 2-5) and numpy arrays / dtypes / scalars
through; readers of richer formats (the official MANO pickles) add their own safe stand-ins.
Python 2 module names (``__builtin__``, ``numpy.core``) are listed next to their Python 3
spellings because ``find_class`` sees the names as written.
"""

from __future__ import annotations

import pickle
from collections.abc import Callable, Mapping
from typing import IO, Any

import numpy as np


class UnsafePickleError(ValueError):
    """A pickle names a global outside the allow-list, or asks for an unsafe decoding."""


def _encode_latin1(text: str, encoding: str = "latin1") -> bytes:
    """Safe ``_codecs.encode``, as protocol-2 pickles written by Python 3 use it for bytes."""
    if not isinstance(text, str) or encoding.replace("-", "").lower() != "latin1":
        raise UnsafePickleError(f"refused the byte decoding {encoding!r}")
    return text.encode("latin1")


def _numpy_globals() -> dict[tuple[str, str], Any]:
    allowed: dict[tuple[str, str], Any] = {
        ("numpy", "ndarray"): np.ndarray,
        ("numpy", "dtype"): np.dtype,
        ("_codecs", "encode"): _encode_latin1,
    }
    # numpy's own rebuilders only make arrays / scalars from raw bytes; take them from live
    # reductions so the allowed objects are exactly what numpy pickles reference.
    for module in ("numpy.core.multiarray", "numpy._core.multiarray"):
        allowed[(module, "_reconstruct")] = np.zeros(0).__reduce__()[0]
        allowed[(module, "scalar")] = np.float64(0.0).__reduce__()[0]
    for module in ("numpy.core.numeric", "numpy._core.numeric"):
        allowed[(module, "_frombuffer")] = np.zeros(1).__reduce_ex__(5)[0]
    for module in ("builtins", "__builtin__"):
        allowed.update({(module, t.__name__): t for t in (set, frozenset, bytearray, complex)})
    return allowed


NUMPY_GLOBALS: Mapping[tuple[str, str], Any] = _numpy_globals()
"""(module, name) as written in a pickle -> the safe object it resolves to."""

Resolver = Callable[[str, str], Any]
"""Extra resolution for globals not in the mapping: the safe object, or None to refuse."""


class RestrictedUnpickler(pickle.Unpickler):
    """Unpickler whose globals come only from ``allowed`` (and ``resolve``).

    Args:
        stream: the binary file to read.
        allowed: (module, name) -> safe object; :data:`NUMPY_GLOBALS` by default.
        resolve: optional fallback for names outside ``allowed`` (None refuses them).
    """

    def __init__(
        self,
        stream: IO[bytes],
        allowed: Mapping[tuple[str, str], Any] = NUMPY_GLOBALS,
        resolve: Resolver | None = None,
    ) -> None:
        # latin1 reads Python 2 str payloads (numpy buffers) byte for byte.
        super().__init__(stream, encoding="latin1")
        self._allowed = allowed
        self._resolve = resolve

    def find_class(self, module: str, name: str) -> Any:
        """The allowed object for a global, or :class:`UnsafePickleError`."""
        found = self._allowed.get((module, name))
        if found is None and self._resolve is not None:
            found = self._resolve(module, name)
        if found is None:
            raise UnsafePickleError(f"refused to load global '{module}.{name}'")
        return found
