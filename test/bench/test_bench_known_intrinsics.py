# Copyright 2026 The HGGT-ROS Authors
# SPDX-License-Identifier: Apache-2.0
"""Smoke test of bench/known_intrinsics.py: two small scenes, report structure, the metrics."""

from __future__ import annotations

import json
import math
from collections.abc import Callable
from pathlib import Path
from types import ModuleType

import numpy as np
import pytest
import torch

from hggt_core.pipeline.known_intrinsics import correct_to_known_intrinsics
from hggt_core.render.scene import render_multiview_example


@pytest.fixture(scope="module")
def bench(load_bench_script: Callable[[str], ModuleType]) -> ModuleType:
    return load_bench_script("known_intrinsics")


def test_main_writes_table_and_json(
    bench: ModuleType, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    threads = torch.get_num_threads()
    report_path = tmp_path / "report.json"
    assert bench.main(["--scenes", "2", "--views", "2", "--json", str(report_path)]) == 0
    assert torch.get_num_threads() == threads

    report = json.loads(report_path.read_text(encoding="utf-8"))
    environment = report["environment"]
    assert environment["torch_threads"] == 1
    assert (environment["scenes"], environment["views"], environment["seed"]) == (2, 2, 5000)
    assert environment["crop_size"] == 112
    rows = {row["intrinsics"]: row for row in report["rows"]}
    assert list(rows) == list(bench.ESTIMATES)
    for name in ("estimated", "corrected"):
        assert all(math.isfinite(rows[name][key]) for key in bench.ERROR_KEYS)
        assert rows[name]["rr_mpjpe_mm"] < rows[name]["mpjpe_mm"]
    # The correction is rigid: the hand's shape relative to its wrist does not change.
    assert rows["corrected"]["rr_mpjpe_mm"] == pytest.approx(rows["estimated"]["rr_mpjpe_mm"])
    assert rows["release"]["centre_mm"] is None and rows["release"]["px"] is None
    assert rows["release"]["mpjpe_mm"] > 0
    ratios = report["focal_ratios"]
    assert len(ratios) == 2 and all(0.5 < ratio < 2 for ratio in ratios)
    assert report["wall_s"] > 0

    table = capsys.readouterr().out
    assert "| intrinsics | RR-MPJPE mm | MPJPE mm | root mm | centre mm | 2-D px |" in table
    assert table.count("| estimated | ") == 1 and table.count("| corrected | ") == 1
    assert "| release | " in table and table.count(" | - |") == 1
    assert "predicted / true focal length" in table


def test_corrected_row_is_what_the_predictor_does_by_default(bench: ModuleType) -> None:
    rng = np.random.default_rng(5000)
    estimating = bench.load_predictor(use_known_intrinsics=False)
    config = bench.scene_config(estimating.config.crop_size)
    example = render_multiview_example(estimating.mano_right, rng, 3, config)
    frameset = example.frameset(with_intrinsics=True)
    (estimate,) = estimating(frameset)
    (default,) = bench.load_predictor(use_known_intrinsics=True)(frameset)

    known = {view.name: view.intrinsics for view in example.views}
    corrected = correct_to_known_intrinsics(estimate, known)
    np.testing.assert_allclose(corrected.joints, default.joints, atol=1e-9)
    assert not np.allclose(corrected.joints, estimate.joints)
    for camera, view in zip(default.cameras, example.views, strict=True):
        np.testing.assert_array_equal(camera.intrinsics, view.intrinsics)


def test_hand_errors_of_a_shifted_hand(bench: ModuleType) -> None:
    truth = np.random.default_rng(0).normal(size=(21, 3))
    errors = bench.hand_errors(truth + np.array([0.0, 0.0, 0.01]), truth)
    assert errors["rr_mpjpe_mm"] == pytest.approx(0.0, abs=1e-9)
    assert errors["mpjpe_mm"] == pytest.approx(10.0)
    assert errors["root_mm"] == pytest.approx(10.0)


def test_bad_options_are_rejected(bench: ModuleType) -> None:
    for argv in (["--scenes", "0"], ["--views", "0"], ["--threads", "0"]):
        with pytest.raises(SystemExit):
            bench.main(argv)
