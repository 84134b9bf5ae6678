# Copyright 2026 The HGGT-ROS Authors
# SPDX-License-Identifier: Apache-2.0
"""The calibration YAML: what it reads, and one-line errors for what it cannot use."""

from pathlib import Path

import numpy as np
import pytest

from hggt_core.calibration import (
    CalibrationError,
    KnownCamera,
    load_calibration,
    rigid_from_translation_quaternion,
)

GOOD = """
world_frame: base_link
cameras:
  cam0:
    world_from_cam:
      translation: [0.4, 0.0, 0.6]
      quaternion: [0.0, 0.70710678, 0.0, 0.70710678]
    K: [[600, 0, 320], [0, 600, 240], [0, 0, 1]]
  cam1:
    world_from_cam: {translation: [0.0, 0.5, 0.6], quaternion: [0, 0, 0, 1]}
"""


def _write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "calib.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def test_loads_frames_poses_and_intrinsics(tmp_path: Path) -> None:
    calibration = load_calibration(_write(tmp_path, GOOD))
    assert calibration.world_frame == "base_link"
    assert list(calibration.cameras) == ["cam0", "cam1"]
    cam0 = calibration.cameras["cam0"]
    # 90 degrees about y: the camera's z (optical axis) points along world +x.
    np.testing.assert_allclose(cam0.world_from_cam[:3, 2], [1.0, 0.0, 0.0], atol=1e-7)
    np.testing.assert_allclose(cam0.world_from_cam[:3, 3], [0.4, 0.0, 0.6])
    assert cam0.intrinsics is not None and cam0.intrinsics[0, 0] == 600.0
    np.testing.assert_allclose(calibration.cameras["cam1"].world_from_cam[:3, :3], np.eye(3))
    assert calibration.cameras["cam1"].intrinsics is None


def test_quaternion_matches_the_rotation_convention() -> None:
    half = np.radians(30.0)
    transform = rigid_from_translation_quaternion([1, 2, 3], [0, 0, np.sin(half), np.cos(half)])
    np.testing.assert_allclose(transform[:3, 0], [0.5, np.sqrt(3) / 2, 0.0], atol=1e-12)
    np.testing.assert_allclose(transform[3], [0, 0, 0, 1])


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("cameras: {}\n", "'world_frame' must be a non-empty string"),
        ("world_frame: w\n", "'cameras' must be a non-empty mapping"),
        ("- a\n- b\n", "not a YAML mapping"),
        ("world_frame: [unclosed\n", "calibration"),
        (
            GOOD.replace("[0, 0, 0, 1]", "[0, 0, 0, 2]"),
            "cameras.cam1: quaternion must have unit length, has norm 2",
        ),
        (
            GOOD.replace("[0.0, 0.5, 0.6]", "[0.0, 0.5]"),
            "cameras.cam1: translation must be [x, y, z]",
        ),
        (GOOD.replace("[0, 0, 1]]", "[0, 0, 1], [0, 0, 0]]"), "cameras.cam0: K must be 3x3"),
        (
            GOOD.replace("world_from_cam: {", "pose: {"),
            "cameras.cam1: unknown keys ['pose']",
        ),
        (
            GOOD.replace("translation: [0.0, 0.5, 0.6], ", ""),
            "world_from_cam needs 'translation' and 'quaternion'",
        ),
    ],
)
def test_bad_files_give_one_line_errors(tmp_path: Path, text: str, message: str) -> None:
    with pytest.raises(CalibrationError) as error:
        load_calibration(_write(tmp_path, text))
    assert message in str(error.value)
    assert "\n" not in str(error.value)


def test_a_missing_file_is_named(tmp_path: Path) -> None:
    with pytest.raises(CalibrationError, match=r"nowhere\.yaml: no such file"):
        load_calibration(tmp_path / "nowhere.yaml")


def test_known_camera_refuses_non_rigid_poses() -> None:
    with pytest.raises(CalibrationError, match="not a rotation"):
        KnownCamera("cam0", np.diag([1.0, 1.0, -1.0, 1.0]))
    with pytest.raises(CalibrationError, match="must be 4x4"):
        KnownCamera("cam0", np.eye(3))
