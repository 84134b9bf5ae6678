# Copyright 2026 The HGGT-ROS Authors
# SPDX-License-Identifier: Apache-2.0
"""Seeded synthetic multi-view scenes of a MANO hand: hand crops plus exact ground truth.

A scene is built in an arbitrary world frame (the hand centred at the origin, cameras on a
sphere around it looking at it) and then re-expressed in the frame of camera 0, HGGT's
reference: camera 0's ``cam_from_ref`` is the identity and the MANO parameters
(``hand_pose``, ``betas``, ``transl``) pose the hand directly in camera 0's frame.

Every camera is a pinhole with square pixels and the principal point at the centre of its
full (virtual) image of ``image_size_hw``. The saved image of a view is a square crop around
the hand's projected bounding box, like the pipeline's crops: rather than rendering the full
image and cutting it, the crop is rendered directly through its own intrinsics
``K_crop = A^-1 K_image`` (A = the :class:`CropTransform` affine, crop -> image pixels), so a
crop that reaches past the full image's border shows more scene instead of padding. Pixel
conventions follow :mod:`hggt_core.pipeline.types` (pixel centres at +0.5).

All randomness comes from the ``numpy.random.Generator`` passed in, so a seed reproduces a
scene exactly.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np
import torch

from hggt_core.base.hand_skeleton import NUM_BETAS, NUM_JOINTS
from hggt_core.geometry.numpy_transforms import invert_rigid
from hggt_core.geometry.rotations import axis_angle_to_matrix, matrix_to_axis_angle
from hggt_core.mano.layer import ManoLayer
from hggt_core.pipeline.types import CropTransform, FloatArray, FrameSet, ImageArray, View
from hggt_core.render.background import random_background, random_skin_colour
from hggt_core.render.rasterize import IntArray, render_mesh
from hggt_core.render.rig import cameras_looking_at, hand_axes
from hggt_core.render.scene_config import SceneConfig

# Share of a finger's flexion taken by its joints 1, 2, 3.
_FLEXION_PROFILE = np.array([0.8, 1.0, 0.7])
# MANO stores the fingers as index, middle, pinky, ring, thumb (three joints each).
_NUM_FINGERS = 5
_THUMB = 4


@dataclass(frozen=True)
class HandParameters:
    """MANO parameters of one hand (flat_hand_mean=False: finger pose offsets the mean pose).

    Attributes:
        hand_pose: [48] axis-angle (radians): global orientation (3) then 15 finger joints.
        betas: [10] shape coefficients.
    """

    hand_pose: FloatArray
    betas: FloatArray


@dataclass(frozen=True)
class SceneView:
    """One rendered view of a synthetic example.

    Attributes:
        name: view name (``view_00``, ...); ``view_00`` is the reference camera.
        image: [S, S, 3] uint8 RGB hand crop (S = crop size).
        intrinsics: [3, 3] K of ``image`` (crop pixels).
        cam_from_ref: [4, 4] reference (camera 0) frame -> this camera, metres.
        joints_2d: [21, 2] OpenPose joints projected into ``image``, pixels.
        crop: where ``image`` sits in the full virtual image (crop -> image pixels).
        image_intrinsics: [3, 3] K of the full virtual image.
        image_size_hw: (H, W) of the full virtual image.
    """

    name: str
    image: ImageArray
    intrinsics: FloatArray
    cam_from_ref: FloatArray
    joints_2d: FloatArray
    crop: CropTransform
    image_intrinsics: FloatArray
    image_size_hw: tuple[int, int]


@dataclass(frozen=True)
class SyntheticExample:
    """A multi-view example with its ground truth, all 3-D in camera 0's frame (metres).

    Attributes:
        views: the rendered views, reference first.
        hand_pose: [48] MANO pose (global orientation in camera 0's frame first).
        betas: [10] MANO shape.
        transl: [3] MANO translation in camera 0's frame.
        vertices: [778, 3] posed mesh.
        joints: [21, 3] joints, OpenPose order.
        light_dir_ref: [3] unit direction towards the light.
        skin_colour: RGB in [0, 1] of the mesh.
    """

    views: tuple[SceneView, ...]
    hand_pose: FloatArray
    betas: FloatArray
    transl: FloatArray
    vertices: FloatArray
    joints: FloatArray
    light_dir_ref: FloatArray
    skin_colour: tuple[float, float, float]

    def frameset(self, stamp_ns: int = 0, with_intrinsics: bool = False) -> FrameSet:
        """The views as a pipeline input (crops as images; intrinsics only if asked for).

        Args:
            stamp_ns: the frameset's and every view's stamp, integer nanoseconds.
            with_intrinsics: give each view its known intrinsics.
        """
        return FrameSet(
            stamp_ns=stamp_ns,
            views=tuple(
                View(view.name, stamp_ns, view.image, view.intrinsics if with_intrinsics else None)
                for view in self.views
            ),
        )


def random_rotation(rng: np.random.Generator) -> FloatArray:
    """A rotation matrix [3, 3] drawn uniformly (Haar measure) from SO(3)."""
    q, r = np.linalg.qr(rng.normal(size=(3, 3)))
    q = q * np.sign(np.diag(r))
    if np.linalg.det(q) < 0:
        q[:, 0] = -q[:, 0]
    return np.asarray(q)


def random_hand_parameters(
    rng: np.random.Generator, config: SceneConfig | None = None
) -> HandParameters:
    """Plausible hand parameters: a random global orientation, mild finger motion.

    The orientation is uniform over SO(3), or MANO's rest orientation (zero) for a palm-side
    rig (``view_cone_deg`` set), whose cameras provide the variation.

    Each finger gets one flexion offset (about the joints' local z axis, the flexion axis of
    MANO's right hand) spread over its three joints, the thumb half as much; every finger-pose
    value gets small Gaussian noise; betas ~ N(0, betas_std).

    Args:
        rng: the random source.
        config: ranges and stds; defaults to :class:`SceneConfig`'s.

    Returns:
        Parameters in the frame the global orientation is drawn in (a world frame).
    """
    cfg = config if config is not None else SceneConfig()
    if cfg.view_cone_deg is None:
        global_orient = matrix_to_axis_angle(torch.from_numpy(random_rotation(rng))).numpy()
    else:
        global_orient = np.zeros(3)
    flexion = rng.uniform(*cfg.flexion_range, size=_NUM_FINGERS)
    flexion[_THUMB] *= 0.5
    finger_pose = rng.normal(0.0, cfg.pose_noise_std, size=(NUM_JOINTS - 1, 3))
    finger_pose[:, 2] += np.outer(flexion, _FLEXION_PROFILE).reshape(-1)
    betas = rng.normal(0.0, cfg.betas_std, size=NUM_BETAS)
    return HandParameters(np.concatenate([global_orient, finger_pose.reshape(-1)]), betas)


def _pose_hand(
    layer: ManoLayer, hand_pose: FloatArray, betas: FloatArray, transl: FloatArray
) -> tuple[FloatArray, FloatArray, FloatArray]:
    """Vertices [778, 3], joints [21, 3] and the root joint [3] (float64, metres)."""
    with torch.no_grad():
        output = layer.forward_theta(
            torch.as_tensor(hand_pose, dtype=torch.float32)[None],
            torch.as_tensor(betas, dtype=torch.float32)[None],
            torch.as_tensor(transl, dtype=torch.float32)[None],
        )
    return (
        output.vertices[0].double().numpy(),
        output.joints[0].double().numpy(),
        output.joints16[0, 0].double().numpy(),
    )


def hand_in_frame(
    hand_pose: FloatArray, transl: FloatArray, root: FloatArray, new_from_old: FloatArray
) -> tuple[FloatArray, FloatArray]:
    """MANO pose and translation that pose the same hand in another frame.

    MANO rotates about the rest-pose root joint r: x = R (x_local - r) + r + t. After the rigid
    map x' = A x + b: R' = A R and t' = A (r + t) + b - r.

    Args:
        hand_pose: [48] MANO pose in the old frame (global orientation first), radians.
        transl: [3] MANO translation in the old frame, metres.
        root: [3] rest-pose root joint of the shaped hand (depends on betas only), metres.
        new_from_old: [4, 4] rigid transform, old frame -> new frame.

    Returns:
        The pose [48] (finger pose unchanged) and translation [3] in the new frame.
    """
    rotation, offset = new_from_old[:3, :3], new_from_old[:3, 3]
    orient = axis_angle_to_matrix(torch.from_numpy(hand_pose[:3]))
    new_orient = matrix_to_axis_angle(torch.from_numpy(rotation) @ orient).numpy()
    new_transl = rotation @ (root + transl) + offset - root
    return np.concatenate([new_orient, hand_pose[3:]]), new_transl


def _crop_around(
    uv: FloatArray, rng: np.random.Generator, cfg: SceneConfig
) -> tuple[CropTransform, FloatArray]:
    """Square crop around projected points [N, 2]; returns it and A (crop -> image) [3, 3]."""
    low, high = uv.min(axis=0), uv.max(axis=0)
    side = float((high - low).max()) * cfg.crop_margin * (1.0 + rng.uniform(0.0, cfg.crop_jitter))
    centre = (low + high) / 2.0 + rng.uniform(-cfg.crop_jitter, cfg.crop_jitter, size=2) * side
    scale = side / cfg.crop_size
    x0, y0 = centre - side / 2.0
    crop = CropTransform(x0=float(x0), y0=float(y0), scale=scale, size=cfg.crop_size)
    crop_to_image = np.array([[scale, 0.0, x0], [0.0, scale, y0], [0.0, 0.0, 1.0]])
    return crop, crop_to_image


def _project(points: FloatArray, cam_from_ref: FloatArray, intrinsics: FloatArray) -> FloatArray:
    """Pixels [N, 2] of reference-frame points [N, 3]."""
    cam = points @ cam_from_ref[:3, :3].T + cam_from_ref[:3, 3]
    return np.asarray((cam[:, :2] / cam[:, 2:]) @ intrinsics[:2, :2].T + intrinsics[:2, 2])


def _render_crop(
    vertices_cam: FloatArray,
    faces: IntArray,
    intrinsics: FloatArray,
    background: ImageArray,
    light_dir_cam: FloatArray,
    skin: tuple[float, float, float],
    cfg: SceneConfig,
) -> ImageArray:
    """Hand over ``background`` (its size), rendered at ``supersample`` x and area-averaged."""
    size = background.shape[0]
    upscale = np.diag([float(cfg.supersample), float(cfg.supersample), 1.0])
    big = size * cfg.supersample
    rendered = render_mesh(
        vertices_cam,
        faces,
        upscale @ intrinsics,
        (big, big),
        base_colour=skin,
        light_dir_cam=tuple(light_dir_cam),
        ambient=cfg.ambient,
    )
    canvas = cv2.resize(background, (big, big), interpolation=cv2.INTER_NEAREST)
    canvas[rendered.mask] = rendered.rgb[rendered.mask]
    return np.asarray(cv2.resize(canvas, (size, size), interpolation=cv2.INTER_AREA))


def render_multiview_example(
    mano_layer: ManoLayer,
    rng: np.random.Generator,
    num_views: int,
    config: SceneConfig | None = None,
) -> SyntheticExample:
    """Draw a random scene and render every view's hand crop, with the ground truth.

    Args:
        mano_layer: the hand model (synthetic or real MANO; right hand, flat_hand_mean=False).
        rng: the random source (a fixed seed reproduces the example).
        num_views: number of views (>= 1); view 0 is the reference.
        config: scene ranges, image and crop sizes; defaults to :class:`SceneConfig`'s.

    Returns:
        The example: crops, per-view cameras of the crops, MANO parameters, mesh and joints
        in camera 0's frame.
    """
    cfg = config if config is not None else SceneConfig()
    params = random_hand_parameters(rng, cfg)
    vertices, joints, root = _pose_hand(mano_layer, params.hand_pose, params.betas, np.zeros(3))
    transl_world = -(vertices.min(axis=0) + vertices.max(axis=0)) / 2.0
    cameras = cameras_looking_at(np.zeros(3), num_views, rng, cfg, hand_axes(joints))
    ref_from_world = cameras[0].cam_from_world
    world_from_ref = invert_rigid(ref_from_world)
    hand_pose, transl = hand_in_frame(params.hand_pose, transl_world, root, ref_from_world)
    vertices, joints, _ = _pose_hand(mano_layer, hand_pose, params.betas, transl)
    # Light from roughly behind and above camera 0, so most views see the lit side.
    light_dir = rng.normal(0.0, 0.5, size=3) + np.array([0.0, -0.5, -1.0])
    light_dir /= np.linalg.norm(light_dir)
    skin = random_skin_colour(rng)
    faces = mano_layer.faces.numpy()
    views: list[SceneView] = []
    for index, camera in enumerate(cameras):
        cam_from_ref = np.eye(4) if index == 0 else camera.cam_from_world @ world_from_ref
        crop, crop_to_image = _crop_around(
            _project(vertices, cam_from_ref, camera.intrinsics), rng, cfg
        )
        intrinsics = np.linalg.inv(crop_to_image) @ camera.intrinsics
        background = random_background(rng, (cfg.crop_size, cfg.crop_size))
        vertices_cam = vertices @ cam_from_ref[:3, :3].T + cam_from_ref[:3, 3]
        light_cam = cam_from_ref[:3, :3] @ light_dir
        image = _render_crop(vertices_cam, faces, intrinsics, background, light_cam, skin, cfg)
        views.append(
            SceneView(
                name=f"view_{index:02d}",
                image=image,
                intrinsics=intrinsics,
                cam_from_ref=cam_from_ref,
                joints_2d=_project(joints, cam_from_ref, intrinsics),
                crop=crop,
                image_intrinsics=camera.intrinsics,
                image_size_hw=camera.image_size_hw,
            )
        )
    return SyntheticExample(
        tuple(views), hand_pose, params.betas, transl, vertices, joints, light_dir, skin
    )
