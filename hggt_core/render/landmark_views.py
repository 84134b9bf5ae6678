# Copyright 2026 The HGGT-ROS Authors
# SPDX-License-Identifier: Apache-2.0
"""Synthetic landmark views of a hand: the landmark engine's input without images.

A :class:`LandmarkScene` is a hand's 21 joints seen by S pinhole cameras, expressed in camera
0's frame (metres, OpenCV axes). :func:`simulated_landmarks` gives what a MediaPipe-like
landmarker reports in each view: the joints' pixels with Gaussian noise, and the hand-centred
world landmarks in that camera's axes with Gaussian noise and the depth squashed (MediaPipe's
world landmarks are flatter than the hand). The fusion tests and benchmarks share these scenes.
All randomness comes from the ``numpy.random.Generator`` passed in.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from hggt_core.geometry.hand_cameras import ViewObservation
from hggt_core.geometry.numpy_transforms import invert_rigid
from hggt_core.geometry.pnp import project_pinhole
from hggt_core.pipeline.types import FloatArray
from hggt_core.render.rig import cameras_looking_at, hand_axes
from hggt_core.render.scene_config import SceneConfig


@dataclass(frozen=True)
class LandmarkScene:
    """A hand seen by S cameras, in camera 0's frame.

    Attributes:
        joints: [21, 3] joints, metres.
        cam_from_ref: [S, 4, 4] camera 0 -> each camera (camera 0's is the identity).
        intrinsics: [S, 3, 3] K of each camera, pixels.
        ref_from_world: [4, 4] the frame the joints were given in -> camera 0.
    """

    joints: FloatArray
    cam_from_ref: FloatArray
    intrinsics: FloatArray
    ref_from_world: FloatArray


def landmark_scene(
    joints_world: FloatArray, views: int, rng: np.random.Generator, rig: SceneConfig
) -> LandmarkScene:
    """``views`` cameras around a hand (:func:`~hggt_core.render.rig.cameras_looking_at`).

    Args:
        joints_world: [21, 3] the hand's joints, metres, any world frame.
        views: number of cameras, >= 1.
        rng: the random source of the cameras.
        rig: distances, fields of view and rig kind.
    """
    cameras = cameras_looking_at(joints_world.mean(0), views, rng, rig, hand_axes(joints_world))
    ref_from_world = cameras[0].cam_from_world
    world_from_ref = invert_rigid(ref_from_world)
    return LandmarkScene(
        joints_world @ ref_from_world[:3, :3].T + ref_from_world[:3, 3],
        np.stack([camera.cam_from_world @ world_from_ref for camera in cameras]),
        np.stack([camera.intrinsics for camera in cameras]),
        ref_from_world,
    )


def simulated_landmarks(
    scene: LandmarkScene,
    noise: tuple[float, float, float],
    rng: np.random.Generator,
    world_scale: float = 1.0,
) -> list[ViewObservation]:
    """MediaPipe-like landmarks of every view of ``scene``.

    Args:
        scene: the hand and its cameras.
        noise: (pixel noise px, world-landmark noise m, depth squash factor); per view the
            pixel noise is drawn first, then the world noise.
        rng: the random source of the noise.
        world_scale: scales the world landmarks (a landmarker that misjudges the hand's size).

    Returns:
        One observation per camera: ``uv`` [21, 2] pixels, ``world_m`` [21, 3] hand-centred in
        that camera's axes, and the camera's K.
    """
    uv_px, world_m, squash = noise
    observations = []
    for cam_from_ref, intrinsics in zip(scene.cam_from_ref, scene.intrinsics, strict=True):
        points = scene.joints @ cam_from_ref[:3, :3].T + cam_from_ref[:3, 3]
        uv = project_pinhole(points, intrinsics) + rng.normal(scale=uv_px, size=(21, 2))
        world = points - points.mean(0) + rng.normal(scale=world_m, size=(21, 3))
        world[:, 2] *= squash
        observations.append(ViewObservation(uv, world * world_scale, intrinsics))
    return observations
