# Copyright 2026 The HGGT-ROS Authors
# SPDX-License-Identifier: Apache-2.0
"""The tiny HGGT (of test/conftest.py's ``tiny_config``), random crops and the parity metric.

The ``onnx_export`` marker stands for the ONNX exporter's warnings being ignored (the torch
exporter warns about internals that do not concern the export's result).
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pytest
import torch

from hggt_core.model import HGGT, HGGTConfig

CROP = 28
"""The tiny network's crop size (``tiny_config.img_size``, pixels: two 14-pixel patches)."""
EXPORT_WARNINGS = (
    "ignore::FutureWarning",
    "ignore::UserWarning",
    "ignore::DeprecationWarning:torch.*",
)


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "onnx_export: exports to ONNX, exporter warnings ignored")


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if item.get_closest_marker("onnx_export") is not None:
            item.add_marker(pytest.mark.filterwarnings(*EXPORT_WARNINGS))


def _seeded_tiny_model(config: HGGTConfig) -> HGGT:
    torch.manual_seed(0)
    return HGGT(config)


def _random_crops(views: int, size: int = CROP, seed: int = 0) -> np.ndarray:
    return np.random.default_rng(seed).uniform(size=(views, 3, size, size)).astype(np.float32)


def _relative_error(got: np.ndarray, want: np.ndarray) -> float:
    return float(np.max(np.abs(got - want)) / np.max(np.abs(want)))


@pytest.fixture(scope="module")
def tiny_model(tiny_config: HGGTConfig) -> HGGT:
    """The tiny network (seed 0) in eval mode, shared by a module's tests: leave it unchanged."""
    return _seeded_tiny_model(tiny_config).eval()


@pytest.fixture
def fresh_tiny_model(tiny_config: HGGTConfig) -> HGGT:
    """A new tiny network (seed 0) per test, as built (training mode): the test may change it."""
    return _seeded_tiny_model(tiny_config)


@pytest.fixture(scope="session")
def make_crops() -> Callable[..., np.ndarray]:
    """``(views, size=28, seed=0) ->`` [views, 3, size, size] float32 crops, uniform in [0, 1)."""
    return _random_crops


@pytest.fixture(scope="session")
def relative_error() -> Callable[[np.ndarray, np.ndarray], float]:
    """The parity metric: max |got - want| / max |want|."""
    return _relative_error
