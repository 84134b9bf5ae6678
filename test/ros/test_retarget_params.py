# Copyright 2026 The HGGT-ROS Authors
# SPDX-License-Identifier: Apache-2.0
"""The retarget node's parameters -> core settings, without a ROS graph."""

from __future__ import annotations

from pathlib import Path

import pytest
from ruamel.yaml import YAML

from hggt_core.retarget.gripper import GripperConfig
from hggt_core.retarget.robot_model import RobotModelError
from hggt_ros.parameter_table import ParameterError
from hggt_ros.retarget_params import (
    PARAMETERS,
    check_before_launch,
    launch_overrides,
    retarget_settings,
)

REPO = Path(__file__).resolve().parents[2]
CONFIG = REPO / "config" / "retarget" / "ghand_right_dexpilot.yaml"


def test_defaults_use_the_package_config() -> None:
    settings = retarget_settings({}, default_config=CONFIG)
    assert settings.dexterous is not None and settings.gripper is None
    assert settings.dexterous.config == CONFIG and settings.dexterous.urdf is None
    assert settings.dexterous.scaling is None and settings.dexterous.low_pass_alpha is None
    assert (settings.hand_side, settings.lost_policy, settings.lost_timeout_s) == (
        "right",
        "hold",
        0.5,
    )
    assert settings.mano_dir is None


def test_overrides_map_onto_the_core() -> None:
    settings = retarget_settings(
        {"retarget.config": str(CONFIG), "robot_urdf": "pkg://ghand/x.urdf", "hand.side": "left",
         "retarget.scaling": 1.4, "retarget.low_pass_alpha": 1, "retarget.warm_start": False,
         "lost.policy": "open", "hand.min_score": 0.3}
    )  # fmt: skip
    dexterous = settings.dexterous
    assert dexterous is not None
    assert (dexterous.urdf, dexterous.hand_side, dexterous.scaling) == (
        "pkg://ghand/x.urdf",
        "left",
        1.4,
    )
    assert dexterous.low_pass_alpha == 1.0 and not dexterous.warm_start
    assert (settings.lost_policy, settings.min_score) == ("open", 0.3)


def test_gripper_mode() -> None:
    settings = retarget_settings(
        {"mode": "gripper", "gripper.joint_names": ["left_finger", "right_finger"],
         "gripper.joint_scale": 0.5, "gripper.open_m": 0.1}
    )  # fmt: skip
    assert settings.dexterous is None
    assert settings.gripper == GripperConfig(
        ("left_finger", "right_finger"), open_m=0.1, joint_scale=0.5
    )


@pytest.mark.parametrize(
    ("values", "message"),
    [({"colour": 1}, "unknown parameter"),
     ({}, "'retarget.config' must be set"),
     ({"retarget.config": "/nowhere.yaml"}, "an existing file"),
     ({"retarget.config": str(CONFIG), "retarget.low_pass_alpha": 2.0}, "low_pass_alpha"),
     ({"retarget.config": str(CONFIG), "hand.side": "up"}, "hand.side"),
     ({"retarget.config": str(CONFIG), "hand.mano_dir": "/nowhere"}, "hand.mano_dir"),
     ({"mode": "gripper", "gripper.closed_m": 0.5}, "gripper parameters: need 0 <= closed_m"),
     ({"mode": "gripper", "lost.timeout_s": 0.0}, "lost.timeout_s")],
)  # fmt: skip
def test_bad_values_name_the_parameter(values, message) -> None:
    with pytest.raises(ParameterError, match=message):
        retarget_settings(values, default_config=None)


def test_config_file_lists_every_parameter_with_its_default() -> None:
    document = YAML(typ="safe").load((REPO / "config" / "retarget.yaml").read_text())

    def flatten(tree: dict[str, object], prefix: str = "") -> dict[str, object]:
        flat: dict[str, object] = {}
        for key, value in tree.items():
            if isinstance(value, dict):
                flat.update(flatten(value, f"{prefix}{key}."))
            else:
                flat[f"{prefix}{key}"] = tuple(value) if isinstance(value, list) else value
        return flat

    assert flatten(document["/**"]["ros__parameters"]) == {d.name: d.default for d in PARAMETERS}


def test_launch_arguments_and_the_check_before_launch(tmp_path: Path) -> None:
    arguments = {"robot_urdf": " ", "retarget_side": "left", "retarget_mode": "gripper"}
    assert launch_overrides(arguments) == {"hand.side": "left", "mode": "gripper"}
    assert check_before_launch({"mode": "gripper"}, None).gripper is not None
    missing = {"robot_urdf": str(tmp_path / "hand.urdf")}
    with pytest.raises(RobotModelError, match="no such file"):
        check_before_launch(missing, CONFIG)
