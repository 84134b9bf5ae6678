# Copyright 2026 The HGGT-ROS Authors
# SPDX-License-Identifier: Apache-2.0
"""Steady camera frames: filtered /tf, frozen /tf_static, movement, reset, config checks."""

from __future__ import annotations

import math

import numpy as np
import pytest

from hggt_core.pipeline.camera_average import AverageConfig, quaternion_angles
from hggt_core.pipeline.filters import FilterConfig
from hggt_core.pipeline.steady_cameras import (
    CameraPose,
    SteadyCameras,
    SteadyCamerasConfig,
    SteadyUpdate,
)

EPOCH_NS = 1_700_000_000_123_456_789
PERIOD_NS = 33_333_333
"""30 Hz framesets."""
T1 = np.array([0.4, -0.1, 0.05])
Q1 = np.array([0.0, math.sin(0.3), 0.0, math.cos(0.3)])
"""Camera 1: 0.6 rad about y."""
T2 = np.array([-0.5, 0.0, 0.2])
Q2 = np.array([0.0, 0.0, math.sin(-0.2), math.cos(-0.2)])


def _config(**changes: object) -> SteadyCamerasConfig:
    values: dict[str, object] = {
        "freeze": True,
        "average": AverageConfig(window=20),
        "move_framesets": 5,
    }
    values.update(changes)
    return SteadyCamerasConfig(**values)  # type: ignore[arg-type]


def _multiply(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Hamilton product of (x, y, z, w) quaternions."""
    (ax, ay, az, aw), (bx, by, bz, bw) = a, b
    return np.array(
        [
            aw * bx + ax * bw + ay * bz - az * by,
            aw * by - ax * bz + ay * bw + az * bx,
            aw * bz + ax * by - ay * bx + az * bw,
            aw * bw - ax * bx - ay * by - az * bz,
        ]
    )


def _noisy(
    rng: np.random.Generator,
    child: str,
    translation: np.ndarray,
    quaternion: np.ndarray,
    sigma_m: float = 0.002,
    sigma_rad: float = math.radians(0.3),
) -> CameraPose:
    """An estimate jittered by Gaussian noise (per axis) in translation and rotation."""
    rotvec = rng.normal(0.0, sigma_rad, 3)
    angle = float(np.linalg.norm(rotvec))
    noise = np.append(np.sin(angle / 2) * rotvec / angle, math.cos(angle / 2))
    return CameraPose(
        child, translation + rng.normal(0.0, sigma_m, 3), _multiply(noise, quaternion)
    )


def _stamp(k: int) -> int:
    return EPOCH_NS + k * PERIOD_NS


def _run(
    steady: SteadyCameras, frames: list[list[CameraPose]], start: int = 0
) -> list[SteadyUpdate]:
    return [steady.update(poses, _stamp(start + k)) for k, poses in enumerate(frames)]


def _angle(q: np.ndarray, reference: np.ndarray) -> float:
    return float(quaternion_angles(q[None], reference)[0])


def test_filtered_tf_jitter_is_clearly_smaller_than_raw() -> None:
    rng = np.random.default_rng(0)
    steady = SteadyCameras(SteadyCamerasConfig())  # freeze off: /tf only
    raw = [_noisy(rng, "cam1", T1, Q1)]
    updates = [steady.update(raw, _stamp(0))]
    for k in range(1, 300):
        raw.append(_noisy(rng, "cam1", T1, Q1))
        updates.append(steady.update([raw[-1]], _stamp(k)))
    settled = slice(30, None)
    raw_t = np.stack([p.translation for p in raw])[settled] - T1
    out_t = np.stack([u.dynamic[0].translation for u in updates])[settled] - T1
    raw_r = [_angle(p.quaternion_xyzw, Q1) for p in raw[settled]]
    out_r = [_angle(u.dynamic[0].quaternion_xyzw, Q1) for u in updates[settled]]
    translation_ratio = np.sqrt(np.mean(out_t**2) / np.mean(raw_t**2))
    rotation_ratio = np.sqrt(np.mean(np.square(out_r)) / np.mean(np.square(raw_r)))
    # Measured with the defaults: RMS ratio 0.35 (translation), 0.32 (rotation).
    assert translation_ratio < 0.4
    assert rotation_ratio < 0.37
    assert all(u.static is None and not u.converged and not u.moved for u in updates)


def test_still_cameras_converge_after_the_window_and_static_holds_all_frames() -> None:
    rng = np.random.default_rng(1)
    steady = SteadyCameras(_config())
    # cam2 starts 7 framesets later, so it freezes 7 framesets after cam1.
    frames = [[_noisy(rng, "cam1", T1, Q1)] + ([_noisy(rng, "cam2", T2, Q2)] if k >= 7 else [])
              for k in range(40)]  # fmt: skip
    updates = _run(steady, frames)
    changed = [k for k, u in enumerate(updates) if u.static is not None]
    assert changed == [19, 26]
    assert updates[19].converged == ("cam1",) and updates[26].converged == ("cam2",)
    assert [p.child for p in updates[19].static or ()] == ["cam1"]
    assert [p.child for p in updates[26].static or ()] == ["cam1", "cam2"]
    # Frozen cameras leave /tf; before converging they are on it.
    assert [p.child for p in updates[18].dynamic] == ["cam1", "cam2"]
    assert [p.child for p in updates[19].dynamic] == ["cam2"]
    assert updates[30].dynamic == ()
    cam1, cam2 = steady.frozen
    assert np.linalg.norm(cam1.translation - T1) < 0.002
    assert np.linalg.norm(cam2.translation - T2) < 0.002
    assert _angle(cam1.quaternion_xyzw, Q1) < math.radians(0.3)
    assert _angle(cam2.quaternion_xyzw, Q2) < math.radians(0.3)


def _frozen_pair(rng: np.random.Generator) -> SteadyCameras:
    """Both cameras frozen after 20 still framesets (stamps 0..19)."""
    steady = SteadyCameras(_config())
    _run(steady, [[_noisy(rng, "cam1", T1, Q1), _noisy(rng, "cam2", T2, Q2)] for _ in range(20)])
    assert len(steady.frozen) == 2
    return steady


def test_a_moved_camera_unfreezes_after_n_framesets_and_refreezes_at_its_new_pose() -> None:
    rng = np.random.default_rng(2)
    steady = _frozen_pair(rng)
    moved_t = T1 + np.array([0.05, 0.0, 0.0])
    frames = [[_noisy(rng, "cam1", moved_t, Q1), _noisy(rng, "cam2", T2, Q2)] for _ in range(30)]
    updates = _run(steady, frames, start=20)
    assert [k for k, u in enumerate(updates) if u.moved] == [4]  # the 5th moved frameset
    assert updates[4].moved == ("cam1",) and updates[4].converged == ()
    assert [p.child for p in updates[4].static or ()] == ["cam2"]  # the remaining frozen set
    # Back on /tf at once, its filter restarted from the current estimate.
    assert updates[3].dynamic == ()
    np.testing.assert_array_equal(updates[4].dynamic[0].translation, frames[4][0].translation)
    # A fresh window of 20 estimates at the new pose freezes it again.
    assert [k for k, u in enumerate(updates) if u.converged] == [23]
    assert [k for k, u in enumerate(updates) if u.static is not None] == [4, 23]
    static = {p.child: p for p in updates[23].static or ()}
    assert list(static) == ["cam2", "cam1"]
    assert np.linalg.norm(static["cam1"].translation - moved_t) < 0.002
    np.testing.assert_array_equal(static["cam2"].translation, steady.frozen[0].translation)


def test_a_turned_camera_unfreezes() -> None:
    rng = np.random.default_rng(3)
    steady = _frozen_pair(rng)
    turned = _multiply(
        np.array([math.sin(math.radians(2.5)), 0, 0, math.cos(math.radians(2.5))]), Q2
    )
    updates = _run(steady, [[_noisy(rng, "cam2", T2, turned)] for _ in range(5)], start=20)
    assert [u.moved for u in updates] == [(), (), (), (), ("cam2",)]  # 5 degrees > 3


def test_outliers_that_are_not_consecutive_move_nothing() -> None:
    rng = np.random.default_rng(4)
    steady = _frozen_pair(rng)
    frozen = steady.frozen
    far = T1 + np.array([0.0, 0.1, 0.0])
    # One outlier, then runs of 4 (one short of 5) broken by a good estimate.
    pattern = [far, T1] + [far] * 4 + [T1] + [far] * 4 + [T1] * 3
    frames = [[_noisy(rng, "cam1", t, Q1), _noisy(rng, "cam2", T2, Q2)] for t in pattern]
    updates = _run(steady, frames, start=20)
    assert all(u.static is None and not u.moved and u.dynamic == () for u in updates)
    assert all(a is b for a, b in zip(steady.frozen, frozen, strict=True))
    # Framesets without cam1 neither count nor break a run: 2 + 3 across a gap unfreeze it.
    pattern = [far] * 2 + [None] * 3 + [far] * 3
    frames = [
        [_noisy(rng, "cam2", T2, Q2)] + ([] if t is None else [_noisy(rng, "cam1", t, Q1)])
        for t in pattern
    ]
    updates = _run(steady, frames, start=40)
    assert [k for k, u in enumerate(updates) if u.moved] == [7]


def test_rotation_filter_is_unaffected_by_quaternion_sign_flips() -> None:
    rng = np.random.default_rng(5)
    plain, flipped = SteadyCameras(SteadyCamerasConfig()), SteadyCameras(SteadyCamerasConfig())
    errors = []
    for k in range(120):
        # The true rotation turns about y at 7 deg/s, through w = 0 (angle pi) and beyond.
        truth = np.array([0.0, math.sin(1.45 + 0.002 * k), 0.0, math.cos(1.45 + 0.002 * k)])
        pose = _noisy(rng, "cam1", T1, truth, sigma_rad=math.radians(1.0))
        sign = -1.0 if rng.random() < 0.5 else 1.0
        out_plain = plain.update([pose], _stamp(k)).dynamic[0].quaternion_xyzw
        mirrored = CameraPose("cam1", pose.translation, sign * pose.quaternion_xyzw)
        out_flipped = flipped.update([mirrored], _stamp(k)).dynamic[0].quaternion_xyzw
        assert _angle(out_flipped, out_plain) < 1e-6
        errors.append(_angle(out_flipped, truth))
    assert max(errors[30:]) < math.radians(2.0)


def test_reset_forgets_everything_and_clears_the_static_set() -> None:
    rng = np.random.default_rng(6)
    steady = _frozen_pair(rng)
    steady.reset()
    assert steady.frozen == ()
    pose = _noisy(rng, "cam1", T1, Q1)
    update = steady.update([pose], _stamp(20))
    assert update.static == ()  # replaces the latched /tf_static message
    np.testing.assert_array_equal(update.dynamic[0].translation, pose.translation)
    assert steady.update([pose], _stamp(21)).static is None
    assert SteadyCameras(_config()).update([pose], _stamp(0)).static is None


def test_a_clock_jump_back_restarts_the_filters() -> None:
    rng = np.random.default_rng(7)
    steady = SteadyCameras(SteadyCamerasConfig())
    _run(steady, [[_noisy(rng, "cam1", T1, Q1)] for _ in range(10)], start=100)
    jumped = CameraPose("cam1", T1 + 0.01, Q1)
    out = steady.update([jumped], _stamp(0)).dynamic[0]
    np.testing.assert_array_equal(out.translation, jumped.translation)
    np.testing.assert_allclose(out.quaternion_xyzw, jumped.quaternion_xyzw, atol=1e-15)


def test_defaults_and_window_one_refreezes_at_once() -> None:
    config = SteadyCamerasConfig()
    assert config.filter_translation.beta < FilterConfig().position.beta  # cameras stand still
    assert config.freeze is False and config.average == AverageConfig()
    steady = SteadyCameras(_config(average=AverageConfig(window=1), move_framesets=1))
    assert steady.update([CameraPose("cam1", T1, Q1)], _stamp(0)).converged == ("cam1",)
    update = steady.update([CameraPose("cam1", T1 + 0.1, Q1)], _stamp(1))
    assert (update.moved, update.converged, update.dynamic) == (("cam1",), ("cam1",), ())
    np.testing.assert_allclose((update.static or ())[0].translation, T1 + 0.1)


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("filter_translation", 1.0),
        ("filter_rotation", None),
        ("average", 30),
        ("freeze", 1),
        ("move_translation_m", 0.0),
        ("move_translation_m", math.inf),
        ("move_rotation_deg", -1.0),
        ("move_rotation_deg", 200.0),
        ("move_rotation_deg", "3"),
        ("move_framesets", 0),
        ("move_framesets", 2.0),
        ("move_framesets", True),
    ],
)
def test_invalid_config_names_the_field(field: str, value: object) -> None:
    with pytest.raises(ValueError, match=f"SteadyCamerasConfig.{field} "):
        SteadyCamerasConfig(**{field: value})  # type: ignore[arg-type]


def test_bad_input_is_rejected_with_a_clear_error() -> None:
    with pytest.raises(ValueError, match=r"'cam1'.*\[3\] translation"):
        CameraPose("cam1", np.zeros(2), Q1)
    with pytest.raises(ValueError, match="zero quaternion"):
        CameraPose("cam1", T1, np.zeros(4))
    with pytest.raises(ValueError, match="child"):
        CameraPose("", T1, Q1)
    steady = SteadyCameras(_config())
    with pytest.raises(ValueError, match="at most once"):
        steady.update([CameraPose("cam1", T1, Q1), CameraPose("cam1", T1, Q1)], _stamp(0))
    with pytest.raises(ValueError, match="stamp_ns"):
        steady.update([], 1.5)  # type: ignore[arg-type]
    np.testing.assert_allclose(np.linalg.norm(CameraPose("c", T1, 2 * Q1).quaternion_xyzw), 1.0)
