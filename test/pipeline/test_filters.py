# Copyright 2026 The HGGT-ROS Authors
# SPDX-License-Identifier: Apache-2.0
"""One-Euro filter, quaternion filtering and the per-side hand filter."""

from __future__ import annotations

import dataclasses
import math

import numpy as np
import pytest
import torch

from hggt_core.geometry.rotations import axis_angle_to_matrix, axis_angle_to_quaternion
from hggt_core.pipeline.filters import (
    FilterConfig,
    HandFilter,
    OneEuroFilter,
    OneEuroParams,
    QuaternionFilter,
)
from hggt_core.pipeline.types import NS_PER_S, CropTransform, HandResult, HandSide, ViewCamera
from hggt_core.pipeline.types import seconds_to_ns as _ns

EPOCH_NS = 1_700_000_000_123_456_789
"""A realistic ROS stamp with odd nanoseconds."""


def _stamps_ns(stamps_s: np.ndarray, start_ns: int = 0) -> list[int]:
    """Seconds since ``start_ns`` -> integer-nanosecond stamps."""
    return [start_ns + _ns(float(t)) for t in stamps_s]


def _reference_one_euro(
    samples: np.ndarray, stamps_ns: list[int], params: OneEuroParams
) -> np.ndarray:
    """The paper's scalar algorithm, written out independently (time steps from the ns)."""

    def alpha(cutoff: float, dt: float) -> float:
        tau = 1.0 / (2.0 * math.pi * cutoff)
        return 1.0 / (1.0 + tau / dt)

    out = [float(samples[0])]
    speed = 0.0
    for k in range(1, len(samples)):
        dt = (stamps_ns[k] - stamps_ns[k - 1]) / NS_PER_S
        speed += alpha(params.d_cutoff_hz, dt) * ((samples[k] - out[-1]) / dt - speed)
        cutoff = params.min_cutoff_hz + params.beta * abs(speed)
        out.append(out[-1] + alpha(cutoff, dt) * (samples[k] - out[-1]))
    return np.array(out)


def test_constant_signal_is_returned_unchanged() -> None:
    one_euro = OneEuroFilter(OneEuroParams(min_cutoff_hz=0.5, beta=3.0))
    value = np.array([[0.3, -1.2, 7.0]])
    for k in range(50):
        np.testing.assert_array_equal(one_euro(value, 10_000_000 * k), value)


def test_step_converges_without_overshoot() -> None:
    one_euro = OneEuroFilter(OneEuroParams(min_cutoff_hz=1.0, beta=0.5))
    stamps = np.arange(0.0, 3.0, 1.0 / 30.0)
    outputs = np.array([one_euro(1.0 if t >= 1.0 else 0.0, _ns(t)) for t in stamps])
    after = outputs[stamps >= 1.0]
    assert np.all(np.diff(after) >= 0.0) and after.max() <= 1.0
    assert 0.0 < after[0] < 0.5  # smoothed: not a jump
    assert after[-1] == pytest.approx(1.0, abs=1e-3)  # two seconds later: converged


def test_jitter_on_a_noisy_sine_is_reduced_by_a_measured_factor() -> None:
    rng = np.random.default_rng(0)
    stamps = np.arange(0.0, 10.0, 0.01)
    clean = 0.1 * np.sin(2.0 * np.pi * 0.2 * stamps)  # a slow hand motion, metres
    noisy = clean + rng.normal(scale=0.005, size=stamps.size)
    one_euro = OneEuroFilter(FilterConfig().position)  # the default for positions
    filtered = np.array(
        [float(one_euro(x, t)) for x, t in zip(noisy, _stamps_ns(stamps), strict=True)]
    )
    # Jitter = variance of the second difference (the clean sine contributes ~1e-12 of it).
    jitter_ratio = np.var(np.diff(noisy, 2)) / np.var(np.diff(filtered, 2))
    assert jitter_ratio > 20.0  # measured: 27
    rms_raw = np.sqrt(np.mean((noisy - clean) ** 2))
    rms_filtered = np.sqrt(np.mean((filtered - clean)[100:] ** 2))
    assert rms_filtered < 0.7 * rms_raw  # closer to the truth, lag included (measured: 0.56)


@pytest.mark.parametrize("start_ns", [0, EPOCH_NS], ids=["zero", "epoch"])
def test_irregular_time_steps_match_the_reference_algorithm(start_ns: int) -> None:
    rng = np.random.default_rng(1)
    stamps = np.cumsum(rng.uniform(0.002, 0.08, size=200))
    samples = np.sin(stamps) + rng.normal(scale=0.05, size=200)
    params = OneEuroParams(min_cutoff_hz=0.8, beta=2.0, d_cutoff_hz=1.5)
    one_euro = OneEuroFilter(params)
    stamps_ns = _stamps_ns(stamps, start_ns)
    got = np.array([float(one_euro(x, t)) for x, t in zip(samples, stamps_ns, strict=True)])
    # The same time steps at an epoch stamp: differences of integers, no float rounding.
    expected = _reference_one_euro(samples, _stamps_ns(stamps), params)
    np.testing.assert_allclose(got, expected, atol=1e-12)


def test_arrays_are_filtered_element_wise() -> None:
    rng = np.random.default_rng(2)
    stamps = np.cumsum(rng.uniform(0.01, 0.05, size=40))
    samples = rng.normal(size=(40, 21, 3))
    params = OneEuroParams(min_cutoff_hz=1.0, beta=1.0)
    one_euro = OneEuroFilter(params)
    stamps_ns = _stamps_ns(stamps)
    got = np.stack([one_euro(x, t) for x, t in zip(samples, stamps_ns, strict=True)])
    expected = _reference_one_euro(samples[:, 4, 2], stamps_ns, params)
    np.testing.assert_allclose(got[:, 4, 2], expected, atol=1e-12)


def test_duplicate_stamp_is_ignored_and_backward_stamp_resets() -> None:
    one_euro = OneEuroFilter(OneEuroParams(min_cutoff_hz=1.0))
    one_euro(0.0, EPOCH_NS)
    first = one_euro(1.0, EPOCH_NS + 1)
    np.testing.assert_array_equal(one_euro(5.0, EPOCH_NS + 1), first)  # dt == 0: previous
    np.testing.assert_array_equal(one_euro(3.0, EPOCH_NS), 3.0)  # dt < 0: restart, sample out
    after_restart = one_euro(4.0, EPOCH_NS + 100_000_000)
    assert 3.0 < float(after_restart) < 4.0
    np.testing.assert_array_equal(one_euro(np.zeros(2), EPOCH_NS + 200_000_000), np.zeros(2))
    one_euro.reset()
    assert one_euro.value is None


def test_params_are_validated() -> None:
    with pytest.raises(ValueError, match="cutoffs"):
        OneEuroParams(min_cutoff_hz=0.0)
    with pytest.raises(ValueError, match="cutoffs"):
        OneEuroParams(beta=-1.0)


def test_quaternion_filter_is_sign_consistent() -> None:
    quat = axis_angle_to_quaternion(torch.tensor([[0.3, -2.9, 0.4], [0.0, 0.0, 0.1]])).numpy()
    quat_filter = QuaternionFilter(OneEuroParams(min_cutoff_hz=1.0, beta=1.0))
    for k in range(10):
        sign = -1.0 if k % 2 else 1.0  # the same rotations, alternately as q and -q
        out = quat_filter(sign * quat, 30_000_000 * k)
        np.testing.assert_allclose(np.abs(np.sum(out * quat, axis=-1)), 1.0, atol=1e-12)


def _hand_result(
    rng: np.random.Generator, stamp_s: float, side: HandSide = "right", offset: float = 0.0
) -> HandResult:
    joints = rng.normal(scale=0.03, size=(21, 3)) + np.array([0.0, 0.0, 0.5 + offset])
    rotations = axis_angle_to_matrix(torch.from_numpy(rng.normal(size=(21, 3)))).numpy()
    camera = ViewCamera(
        name="cam0",
        intrinsics=np.array([[500.0, 0, 320], [0, 500, 240], [0, 0, 1]]),
        cam_from_ref=np.eye(4),
        joints_2d=np.zeros((21, 2)),
        crop=CropTransform(0.0, 0.0, 1.0, 28),
    )
    return HandResult(
        stamp_ns=_ns(stamp_s),
        side=side,
        score=1.0,
        hand_pose=rng.normal(scale=0.3, size=48),
        betas=rng.normal(size=10),
        transl=np.array([0.0, 0.0, 0.5 + offset]),
        vertices=rng.normal(scale=0.03, size=(778, 3)),
        joints=joints,
        joint_rotations=rotations,
        cameras=(camera,),
        views_used=("cam0",),
    )


def test_hand_filter_keeps_a_still_hand_and_reprojects_the_joints() -> None:
    result = _hand_result(np.random.default_rng(3), 0.0)
    hand_filter = HandFilter()
    for k in range(5):
        out = hand_filter(dataclasses.replace(result, stamp_ns=EPOCH_NS + 50_000_000 * k))
        assert out.stamp_ns == EPOCH_NS + 50_000_000 * k
        for name in ("hand_pose", "betas", "transl", "vertices", "joints"):
            np.testing.assert_allclose(getattr(out, name), getattr(result, name), atol=1e-9)
        # The quaternion round trip re-orthonormalises the (1e-8-accurate) input rotations.
        np.testing.assert_allclose(out.joint_rotations, result.joint_rotations, atol=1e-7)
        expected_uv = 500.0 * out.joints[:, :2] / out.joints[:, 2:] + np.array([320.0, 240.0])
        np.testing.assert_allclose(out.cameras[0].joints_2d, expected_uv, atol=1e-9)


def test_hand_filter_smooths_within_timeout_and_resets_after_it() -> None:
    rng = np.random.default_rng(4)
    first, second = _hand_result(rng, 0.0), _hand_result(rng, 0.0, offset=0.1)
    hand_filter = HandFilter(FilterConfig(lost_timeout_s=0.5))
    hand_filter(first)
    smoothed = hand_filter(dataclasses.replace(second, stamp_ns=_ns(0.1)))
    assert 0.5 < smoothed.transl[2] < 0.6  # between the two
    hand_filter(first)  # same stamp as the previous: a duplicate, ignored
    lost = hand_filter(dataclasses.replace(second, stamp_ns=_ns(0.7)))  # 0.6 s unseen > timeout
    np.testing.assert_array_equal(lost.transl, second.transl)
    np.testing.assert_array_equal(lost.joints, second.joints)


def test_hand_filter_keeps_sides_apart() -> None:
    rng = np.random.default_rng(5)
    hand_filter = HandFilter()
    right = _hand_result(rng, 0.0, side="right")
    left = _hand_result(rng, 0.0, side="left", offset=0.2)
    hand_filter(right)
    out_left = hand_filter(dataclasses.replace(left, stamp_ns=_ns(0.03)))
    np.testing.assert_array_equal(out_left.joints, left.joints)  # first left sample
    hand_filter.reset("left")
    out_right = hand_filter(dataclasses.replace(right, stamp_ns=_ns(0.06)))
    np.testing.assert_allclose(out_right.joints, right.joints, atol=1e-12)


def test_hand_filter_restarts_when_the_reference_view_changes() -> None:
    rng = np.random.default_rng(6)
    first, second = _hand_result(rng, 0.0), _hand_result(rng, 0.1, offset=0.1)
    hand_filter = HandFilter()
    hand_filter(first)
    moved = dataclasses.replace(second, views_used=("cam1",))
    np.testing.assert_array_equal(hand_filter(moved).transl, second.transl)
