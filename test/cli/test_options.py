# Copyright 2026 The HGGT-ROS Authors
# SPDX-License-Identifier: Apache-2.0
"""The ``hggt`` pipeline options map onto PipelineSpec, under one name per concept."""

from __future__ import annotations

import importlib

import pytest

cli_main = importlib.import_module("hggt_core.cli.main")


def _spec(*options: str):  # type: ignore[no-untyped-def]
    args = cli_main._parser().parse_args(["infer", "in", *options])
    return cli_main.spec_from_args(args)


def test_localiser_and_min_hand_views_reach_the_spec() -> None:
    spec = _spec("--localiser", "tracker", "--min-hand-views", "2")
    assert (spec.localiser, spec.min_hand_views) == ("tracker", 2)
    assert (_spec().localiser, _spec().min_hand_views) == ("crop", 1)


def test_the_earlier_flag_names_still_work_unlisted(capsys: pytest.CaptureFixture[str]) -> None:
    spec = _spec("--detector", "mediapipe", "--min-views", "3")
    assert (spec.localiser, spec.min_hand_views) == ("mediapipe", 3)
    with pytest.raises(SystemExit):
        cli_main._parser().parse_args(["infer", "--help"])
    listed = capsys.readouterr().out
    assert "--localiser" in listed and "--min-hand-views" in listed
    assert "--detector" not in listed and "--min-views" not in listed
