# Copyright 2026 The HGGT-ROS Authors
# SPDX-License-Identifier: Apache-2.0
"""Square model crops around hand boxes, and the maps between crop and image pixels.

Pixel coordinates follow :mod:`hggt_core.pipeline.types`: u right, v down, the centre of the
top-left pixel at (0.5, 0.5), in the image and in the crop alike. A crop is described by a
:class:`~hggt_core.pipeline.types.CropTransform`:

* unmirrored: ``u_img = x0 + scale * u_crop``, ``v_img = y0 + scale * v_crop``;
* mirrored (left hands run through the right-hand model):
  ``u_img = x0 + scale * (size - u_crop)``, ``v_img = y0 + scale * v_crop``.

The crop is sampled with one bilinear ``cv2.warpAffine`` per view; pixels outside the image
are filled with black (the release's crops are zero-padded too).

Cameras. A network camera of a crop has intrinsics ``K_crop`` (crop pixels) and looks at the
scene *as the crop shows it*. For an unmirrored crop the full-image camera is simply
``K_img = A @ K_crop`` with ``A`` the crop -> image affine above. A mirrored crop shows the
mirror image of the scene: the network's camera frame is the reflection ``x -> -x`` of the
real one, so a real camera-frame point ``X`` appears in the crop at ``K_crop @ M @ X`` with
``M = diag(-1, 1, 1)``. Mapping that pixel into the image with the mirrored affine ``A_m``
gives ``K_img = A_m @ K_crop @ M`` for real-frame points. Written out, the focal lengths stay
positive (the two flips cancel) and the principal point moves to the mirrored crop position:
``c_x -> x0 + scale * (size - c_x)`` (skew, if any, changes sign).
"""

from __future__ import annotations

from typing import Any

import cv2
import numpy as np
import numpy.typing as npt
import torch

from hggt_core.geometry.pose_encoding import intrinsics_crop_to_image
from hggt_core.pipeline.types import Box, CropTransform, FloatArray

Float32Array = npt.NDArray[np.float32]

_MIRROR_X = np.diag([-1.0, 1.0, 1.0])


def square_crop_transform(
    box: Box, size: int, scale_factor: float, mirrored: bool = False
) -> CropTransform:
    """The square crop centred on a box, its side ``scale_factor`` times the box's longer side.

    Args:
        box: hand box in full-image pixels.
        size: crop side in crop pixels (the model input size).
        scale_factor: crop side / longer box side (> 0; 1.3 leaves a 15 % margin each side).
        mirrored: whether the crop is to be flipped horizontally.

    Returns:
        The crop's transform; it may extend beyond the image (the outside is padded).

    Raises:
        ValueError: if ``size`` or ``scale_factor`` is not positive.
    """
    if size <= 0 or scale_factor <= 0:
        raise ValueError(f"size and scale_factor must be positive, got {size}, {scale_factor}")
    side = scale_factor * max(box.x_max - box.x_min, box.y_max - box.y_min)
    centre_u = 0.5 * (box.x_min + box.x_max)
    centre_v = 0.5 * (box.y_min + box.y_max)
    return CropTransform(
        x0=centre_u - 0.5 * side,
        y0=centre_v - 0.5 * side,
        scale=side / size,
        size=size,
        mirrored=mirrored,
    )


def crop_to_image_affine(crop: CropTransform) -> FloatArray:
    """The [3, 3] affine A with [u_img, v_img, 1] = A @ [u_crop, v_crop, 1] (pixel coordinates)."""
    if crop.mirrored:
        return np.array(
            [
                [-crop.scale, 0.0, crop.x0 + crop.scale * crop.size],
                [0.0, crop.scale, crop.y0],
                [0.0, 0.0, 1.0],
            ]
        )
    return np.array([[crop.scale, 0.0, crop.x0], [0.0, crop.scale, crop.y0], [0.0, 0.0, 1.0]])


def crop_to_image_points(uv_crop: FloatArray, crop: CropTransform) -> FloatArray:
    """Map crop pixels to full-image pixels.

    Args:
        uv_crop: [..., 2] (u, v) in crop pixels.
        crop: the crop's transform.

    Returns:
        [..., 2] (u, v) in full-image pixels.
    """
    uv = np.asarray(uv_crop, dtype=np.float64)
    u_crop = crop.size - uv[..., 0] if crop.mirrored else uv[..., 0]
    return np.stack([crop.x0 + crop.scale * u_crop, crop.y0 + crop.scale * uv[..., 1]], axis=-1)


def image_to_crop_points(uv_image: FloatArray, crop: CropTransform) -> FloatArray:
    """Map full-image pixels to crop pixels (the inverse of :func:`crop_to_image_points`).

    Args:
        uv_image: [..., 2] (u, v) in full-image pixels.
        crop: the crop's transform.

    Returns:
        [..., 2] (u, v) in crop pixels.
    """
    uv = np.asarray(uv_image, dtype=np.float64)
    u_crop = (uv[..., 0] - crop.x0) / crop.scale
    v_crop = (uv[..., 1] - crop.y0) / crop.scale
    if crop.mirrored:
        u_crop = crop.size - u_crop
    return np.stack([u_crop, v_crop], axis=-1)


def intrinsics_for_crop_camera(intrinsics_crop: FloatArray, crop: CropTransform) -> FloatArray:
    """Express a crop camera's intrinsics in full-image pixels, for real (unmirrored) points.

    Unmirrored: ``K_img = A @ K_crop``. Mirrored: ``K_img = A_m @ K_crop @ M`` (see the module
    docstring), computed as the unmirrored map of ``F @ K_crop @ M``, where
    ``F = [[-1, 0, size], [0, 1, 0], [0, 0, 1]]`` flips crop u and ``M = diag(-1, 1, 1)``.
    Use the result with extrinsics mirrored back into the real frame
    (:func:`hggt_core.pipeline.mirror.mirror_cam_from_ref`).

    Args:
        intrinsics_crop: [..., 3, 3] pinhole matrices in crop pixels.
        crop: the crop's transform.

    Returns:
        [..., 3, 3] pinhole matrices in full-image pixels (float64).
    """
    k_crop = np.asarray(intrinsics_crop, dtype=np.float64)
    if crop.mirrored:
        flip_u = np.array([[-1.0, 0.0, float(crop.size)], [0.0, 1.0, 0.0], [0.0, 0.0, 1.0]])
        k_crop = flip_u @ k_crop @ _MIRROR_X
    k_image = intrinsics_crop_to_image(torch.from_numpy(k_crop), crop.scale, (crop.x0, crop.y0))
    return np.asarray(k_image.numpy(), dtype=np.float64)


def _index_space_inverse_map(crop: CropTransform) -> FloatArray:
    """[2, 3] map from crop pixel *indices* to image pixel indices (OpenCV: centres at integers).

    A pixel index i has the continuous coordinate i + 0.5 in this project's convention.
    """
    affine = crop_to_image_affine(crop)
    to_continuous = np.array([[1.0, 0.0, 0.5], [0.0, 1.0, 0.5], [0.0, 0.0, 1.0]])
    to_index = np.array([[1.0, 0.0, -0.5], [0.0, 1.0, -0.5], [0.0, 0.0, 1.0]])
    index_map: FloatArray = (to_index @ affine @ to_continuous)[:2]
    return index_map


def warp_crop(image: npt.NDArray[Any], crop: CropTransform) -> npt.NDArray[Any]:
    """Sample the crop from an image with one bilinear warp (mirroring included).

    Args:
        image: [H, W, C] image of any dtype OpenCV can warp (uint8 RGB in the pipeline).
        crop: the crop's transform.

    Returns:
        [size, size, C] crop with the image's dtype; outside pixels are 0.
    """
    return cv2.warpAffine(
        image,
        _index_space_inverse_map(crop),
        (crop.size, crop.size),
        flags=cv2.INTER_LINEAR | cv2.WARP_INVERSE_MAP,
        borderMode=cv2.BORDER_CONSTANT,
        borderValue=0,
    )


def crop_image(
    image: npt.NDArray[np.uint8], crop: CropTransform, out: Float32Array | None = None
) -> Float32Array:
    """Cut a model input from an image: warp, then scale to [0, 1] in channel-first layout.

    Args:
        image: [H, W, 3] uint8 RGB.
        crop: the crop's transform.
        out: optional [3, size, size] float32 array to write into (e.g. one view's slot of the
            engine's [S, 3, size, size] batch), which saves a copy.

    Returns:
        [3, size, size] float32 RGB in [0, 1] (``out`` when given).

    Raises:
        ValueError: if the image is not [H, W, 3] uint8 or ``out`` has the wrong shape.
    """
    if image.ndim != 3 or image.shape[2] != 3 or image.dtype != np.uint8:
        raise ValueError(f"expected an [H, W, 3] uint8 image, got {image.shape} {image.dtype}")
    shape = (3, crop.size, crop.size)
    if out is None:
        out = np.empty(shape, dtype=np.float32)
    elif out.shape != shape or out.dtype != np.float32:
        raise ValueError(f"out must be {shape} float32, got {out.shape} {out.dtype}")
    warped = warp_crop(image, crop)
    np.multiply(warped.transpose(2, 0, 1), np.float32(1.0 / 255.0), out=out)
    return out
