# Copyright 2026 The HGGT-ROS Authors
# SPDX-License-Identifier: Apache-2.0
import io
import os
import pickle

import numpy as np
import pytest

from hggt_core.base.safe_pickle import RestrictedUnpickler, UnsafePickleError


def _load(data: bytes) -> object:
    return RestrictedUnpickler(io.BytesIO(data)).load()


@pytest.mark.parametrize("protocol", [2, 4, 5])
def test_containers_and_arrays_round_trip(protocol: int) -> None:
    value = {"K": np.arange(9.0).reshape(3, 3), "ids": {1, 2}, "raw": b"\x00\xff", "z": 1j}
    loaded = _load(pickle.dumps(value, protocol=protocol))
    assert isinstance(loaded, dict)
    np.testing.assert_array_equal(loaded["K"], value["K"])
    assert loaded["ids"] == {1, 2} and loaded["raw"] == b"\x00\xff" and loaded["z"] == 1j


class _Payload:
    def __reduce__(self) -> tuple[object, tuple[str]]:
        return (os.system, ("touch should-never-exist",))


def test_a_hostile_global_is_refused_before_it_runs() -> None:
    with pytest.raises(UnsafePickleError, match=r"refused to load global '(posix|os)\.system'"):
        _load(pickle.dumps({"label": _Payload()}, protocol=4))
    assert not os.path.exists("should-never-exist")


def test_an_extra_resolver_extends_the_allow_list() -> None:
    data = pickle.dumps(_Payload(), protocol=4)
    unpickler = RestrictedUnpickler(io.BytesIO(data), resolve=lambda module, name: len)
    assert unpickler.load() == len("touch should-never-exist")  # len ran, not os.system
