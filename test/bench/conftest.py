# Copyright 2026 The HGGT-ROS Authors
# SPDX-License-Identifier: Apache-2.0
"""Loading the benchmark scripts (``bench/<name>.py``) as modules for their tests."""

from __future__ import annotations

import importlib.util
import sys
from collections.abc import Callable
from pathlib import Path
from types import ModuleType

import pytest

BENCH_DIR = Path(__file__).resolve().parents[2] / "bench"


def _load_script(name: str) -> ModuleType:
    # The scripts import their shared modules (bench_common, ...) from their own folder, which
    # `python bench/<name>.py` puts on sys.path.
    if str(BENCH_DIR) not in sys.path:
        sys.path.insert(0, str(BENCH_DIR))
    spec = importlib.util.spec_from_file_location(f"bench_{name}", BENCH_DIR / f"{name}.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    # dataclasses look the defining module up in sys.modules while the script executes.
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="session")
def load_bench_script() -> Callable[[str], ModuleType]:
    """Loads ``bench/<name>.py`` (as module ``bench_<name>``) and returns it."""
    return _load_script
