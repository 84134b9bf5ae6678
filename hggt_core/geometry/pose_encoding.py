# Copyright 2026 The HGGT-ROS Authors
# SPDX-License-Identifier: Apache-2.0
"""VGGT's 9-D camera encoding ("absT_quaR_FoV") and conversions to and from [R|t], K.

Encoding layout, per view: [t_x, t_y, t_z, q_x, q_y, q_z, q_w, fov_h, fov_w], where (R, t) is
the camera-from-world extrinsic in OpenCV camera axes (x right, y down, z forward), q is R as
a unit quaternion (scalar last, w >= 0) and the field-of-view angles are in radians:
fov_h = 2 atan((H / 2) / f_y), fov_w = 2 atan((W / 2) / f_x), with (H, W) the image size in
pixels. In HGGT the world frame is camera 0, whose extrinsic is the identity.

Decoding places the principal point at the image centre (W / 2, H / 2) and sets no skew.
Unlike VGGT (which casts the encoding to float32) these functions keep the input dtype.
"""

from __future__ import annotations

import torch
from torch import Tensor

from hggt_core.geometry.rotations import matrix_to_quaternion, quaternion_to_matrix

POSE_ENCODING_DIM = 9


def extrinsics_intrinsics_to_pose_encoding(
    cam_from_world: Tensor, intrinsics: Tensor, image_size_hw: tuple[int, int]
) -> Tensor:
    """Encode cameras as VGGT's absT_quaR_FoV vectors.

    Args:
        cam_from_world: [B, S, 3, 4] or [S, 3, 4] extrinsics [R | t] (OpenCV axes, t in the
            world unit, metres in HGGT).
        intrinsics: [B, S, 3, 3] or [S, 3, 3] pinhole matrices in pixels; only f_x = K[0, 0]
            and f_y = K[1, 1] are encoded (the principal point is assumed central).
        image_size_hw: (H, W) of the image the intrinsics refer to, in pixels.

    Returns:
        [B, S, 9] or [S, 9] encodings [t (3), q XYZW (4), fov_h, fov_w], input dtype.
    """
    height, width = image_size_hw
    rotation = cam_from_world[..., :3, :3]
    translation = cam_from_world[..., :3, 3]
    quat_xyzw = matrix_to_quaternion(rotation)
    fov_h = 2.0 * torch.atan((height / 2.0) / intrinsics[..., 1, 1])
    fov_w = 2.0 * torch.atan((width / 2.0) / intrinsics[..., 0, 0])
    return torch.cat([translation, quat_xyzw, fov_h[..., None], fov_w[..., None]], dim=-1)


def pose_encoding_to_extrinsics_intrinsics(
    pose_enc: Tensor, image_size_hw: tuple[int, int]
) -> tuple[Tensor, Tensor]:
    """Decode VGGT's absT_quaR_FoV vectors into extrinsics and intrinsics.

    The quaternion need not be normalised (the network output is not); the rotation is built
    from its direction only.

    Args:
        pose_enc: [B, S, 9] or [S, 9] encodings [t (3), q XYZW (4), fov_h, fov_w], radians.
        image_size_hw: (H, W) of the image the intrinsics should refer to, in pixels.

    Returns:
        cam_from_world: [B, S, 3, 4] or [S, 3, 4] extrinsics [R | t] (OpenCV axes).
        intrinsics: [B, S, 3, 3] or [S, 3, 3] pinhole matrices in pixels, principal point at
            (W / 2, H / 2), no skew.
    """
    height, width = image_size_hw
    translation = pose_enc[..., :3]
    rotation = quaternion_to_matrix(pose_enc[..., 3:7])
    cam_from_world = torch.cat([rotation, translation[..., None]], dim=-1)
    focal_y = (height / 2.0) / torch.tan(pose_enc[..., 7] / 2.0)
    focal_x = (width / 2.0) / torch.tan(pose_enc[..., 8] / 2.0)
    zero = torch.zeros_like(focal_x)
    one = torch.ones_like(focal_x)
    intrinsics = torch.stack(
        [
            focal_x,
            zero,
            zero + width / 2.0,
            zero,
            focal_y,
            zero + height / 2.0,
            zero,
            zero,
            one,
        ],
        dim=-1,
    ).reshape(*pose_enc.shape[:-1], 3, 3)
    return cam_from_world, intrinsics


def intrinsics_crop_to_image(
    intrinsics_crop: Tensor, scale: float | Tensor, offset_xy: tuple[float, float] | Tensor
) -> Tensor:
    """Re-express crop intrinsics in the pixel frame of the full image.

    A crop pixel (u_c, v_c) lies at u_img = scale * u_c + o_x, v_img = scale * v_c + o_y in the
    full image (scale = full-image pixels per crop pixel). So K_img = A @ K_crop with
    A = [[scale, 0, o_x], [0, scale, o_y], [0, 0, 1]]: focal lengths (and skew) scale, and the
    principal point maps like any pixel.

    Args:
        intrinsics_crop: [..., 3, 3] pinhole matrices of the crop, in crop pixels.
        scale: scalar, or [...] tensor broadcastable with the leading axes.
        offset_xy: (o_x, o_y) in full-image pixels, or a [..., 2] tensor.

    Returns:
        [..., 3, 3] pinhole matrices in full-image pixels.
    """
    like = intrinsics_crop[..., 0, 0]
    scale_t = torch.as_tensor(scale, dtype=like.dtype, device=like.device)
    offset = torch.as_tensor(offset_xy, dtype=like.dtype, device=like.device)
    scale_t, offset_x, offset_y = torch.broadcast_tensors(scale_t, offset[..., 0], offset[..., 1])
    zero = torch.zeros_like(scale_t)
    crop_to_image = torch.stack(
        [scale_t, zero, offset_x, zero, scale_t, offset_y, zero, zero, zero + 1.0], dim=-1
    ).reshape(*scale_t.shape, 3, 3)
    return crop_to_image @ intrinsics_crop
