# Copyright 2026 The HGGT-ROS Authors
# SPDX-License-Identifier: Apache-2.0
"""Hand results shared by the io tests: a synthetic-MANO hand seen by a ring of cameras."""

from __future__ import annotations

import dataclasses
import functools
from collections.abc import Callable, Sequence
from typing import Any

import cv2
import numpy as np
import pytest
import torch

from hggt_core.base.hand_skeleton import NUM_JOINTS, OPENPOSE_FROM_MANO
from hggt_core.mano.layer import ManoLayer
from hggt_core.mano.synthetic import make_synthetic_mano
from hggt_core.pipeline.types import CropTransform, HandResult, HandSide, ViewCamera

RING_K = np.array([[500.0, 0.0, 320.0], [0.0, 480.0, 240.0], [0.0, 0.0, 1.0]])
RING_VIEWS = ("cam0", "/rig/cam1", "cam2")


def _ring_cam_from_ref(index: int) -> np.ndarray:
    """[4, 4] camera ``index`` on a circle around the hand (camera 0 is the reference)."""
    transform = np.eye(4)
    rotation, _ = cv2.Rodrigues(np.array([0.1, 0.6, -0.2]) * index)
    transform[:3, :3] = rotation
    transform[:3, 3] = [0.1 * index, -0.05 * index, 0.02 * index]
    return transform


@functools.cache
def _mano(side: HandSide) -> ManoLayer:
    return ManoLayer(make_synthetic_mano(side))


def _posed_hand(
    side: HandSide, hand_pose: np.ndarray, betas: np.ndarray, transl: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Vertices [778, 3], OpenPose joints [21, 3] and their global rotations [21, 3, 3]."""
    as_tensor = functools.partial(torch.tensor, dtype=torch.float32)
    out = _mano(side)(
        as_tensor(hand_pose[None, :3]),
        as_tensor(hand_pose[None, 3:]),
        as_tensor(betas[None]),
        as_tensor(transl[None]),
    )
    rotations16 = out.global_rotations[0].double().numpy()
    rotations = np.empty((21, 3, 3))
    for joint, mano_joint in enumerate(OPENPOSE_FROM_MANO):
        # Fingertips are not MANO joints: they take their parent's (the previous row's).
        rotations[joint] = (
            rotations16[mano_joint] if mano_joint < NUM_JOINTS else rotations[joint - 1]
        )
    return out.vertices[0].double().numpy(), out.joints[0].double().numpy(), rotations


def _ring_cameras(views: Sequence[str], joints: np.ndarray) -> tuple[ViewCamera, ...]:
    cameras = []
    for index, name in enumerate(views):
        cam_from_ref = _ring_cam_from_ref(index)
        projected = (joints @ cam_from_ref[:3, :3].T + cam_from_ref[:3, 3]) @ RING_K.T
        joints_2d = projected[:, :2] / projected[:, 2:]
        crop = CropTransform(0, 0, 1, 518)
        cameras.append(ViewCamera(name, RING_K, cam_from_ref, joints_2d, crop))
    return tuple(cameras)


def build_hand_result(
    side: HandSide = "right",
    *,
    seed: int = 0,
    stamp_ns: int = 12_500_000_000,
    views: Sequence[str] = RING_VIEWS,
    **fields: Any,
) -> HandResult:
    """A hand posed by the synthetic MANO model, seen by a ring of cameras.

    Args:
        side: which hand (and which synthetic MANO model).
        seed: draws the pose, shape, translation (about 0.5 m in front of camera 0) and score.
        stamp_ns: the result's stamp, integer nanoseconds.
        views: one camera per name: camera i is ``_ring_cam_from_ref(i)`` with ``RING_K``
            (camera 0 the identity), ``joints_2d`` the projected joints.
        **fields: HandResult fields replacing the built ones; given ``cameras`` without
            ``views_used``, ``views_used`` follows the cameras' names.
    """
    rng = np.random.default_rng(seed)
    hand_pose = rng.normal(scale=0.3, size=48)
    betas = rng.normal(size=10)
    transl = np.array([0.02, -0.01, 0.5]) + rng.normal(scale=0.01, size=3)
    vertices, joints, rotations = _posed_hand(side, hand_pose, betas, transl)
    result = HandResult(
        stamp_ns=stamp_ns,
        side=side,
        score=float(rng.uniform(0.5, 1.0)),
        hand_pose=hand_pose,
        betas=betas,
        transl=transl,
        vertices=vertices,
        joints=joints,
        joint_rotations=rotations,
        cameras=_ring_cameras(views, joints),
        views_used=tuple(views),
    )
    if "cameras" in fields and "views_used" not in fields:
        fields["views_used"] = tuple(camera.name for camera in fields["cameras"])
    return dataclasses.replace(result, **fields)


@pytest.fixture
def make_hand_result() -> Callable[..., HandResult]:
    """:func:`build_hand_result`, the one HandResult builder of the io tests."""
    return build_hand_result
