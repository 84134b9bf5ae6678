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

Lens distortion. For a view with distortion (``View.distortion``) the crop is a *pinhole* view:
its pixels are ideal (undistorted) pixels of the view's K, sampled through the lens model
(crop pixel -> ideal image pixel -> normalized -> distorted -> raw pixel, one bilinear
``cv2.remap``), so the network sees straight lines straight and
:func:`intrinsics_for_crop_camera` stays exact. Boxes come in raw pixels and are mapped to
ideal ones first (:func:`undistort_box`). Crop pixels beyond the fold of the lens polynomial
(:func:`~hggt_core.geometry.distortion.valid_radius`) are black, like padding.

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

from hggt_core.geometry.distortion import (
    LensDistortion,
    pixels_to_normalized,
    undistort_pixels,
    valid_radius,
)
from hggt_core.geometry.pose_encoding import intrinsics_crop_to_image
from hggt_core.pipeline.types import Box, CropTransform, FloatArray, View

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


_TO_INDEX = np.array([[1.0, 0.0, -0.5], [0.0, 1.0, -0.5], [0.0, 0.0, 1.0]])
"""Continuous pixel coordinates -> OpenCV pixel indices (centres at integers)."""


def _index_space_inverse_map(crop: CropTransform) -> FloatArray:
    """[3, 3] map from crop pixel *indices* to image pixel indices (OpenCV: centres at integers).

    A pixel index i has the continuous coordinate i + 0.5 in this project's convention.
    """
    index_map: FloatArray = _TO_INDEX @ crop_to_image_affine(crop) @ np.linalg.inv(_TO_INDEX)
    return index_map


def undistort_box(box: Box, intrinsics: FloatArray, distortion: LensDistortion) -> Box:
    """A raw-image box -> the box around its outline in ideal (undistorted) pixels of K.

    The corners and edge midpoints are undistorted and bounded (the score is kept); points the
    lens model cannot undo (beyond its fold) are left out.

    Args:
        box: box in raw full-image pixels.
        intrinsics: [3, 3] K of the view.
        distortion: the view's lens model.

    Returns:
        The box in ideal pinhole pixels of K.

    Raises:
        ValueError: when no outline point can be undistorted.
    """
    u_mid, v_mid = 0.5 * (box.x_min + box.x_max), 0.5 * (box.y_min + box.y_max)
    outline = np.array(
        [(u, v) for u in (box.x_min, u_mid, box.x_max) for v in (box.y_min, v_mid, box.y_max)]
    )
    ideal = undistort_pixels(outline, intrinsics, distortion)
    ideal = ideal[np.all(np.isfinite(ideal), axis=1)]
    if not len(ideal):
        raise ValueError(f"{box} lies beyond the region where the lens model can be undone")
    (x_min, y_min), (x_max, y_max) = ideal.min(axis=0), ideal.max(axis=0)
    return Box(float(x_min), float(y_min), float(x_max), float(y_max), box.score)


def _distorted_sampling_maps(
    crop: CropTransform, intrinsics: FloatArray, distortion: LensDistortion
) -> tuple[npt.NDArray[np.int16], npt.NDArray[np.uint16]]:
    """Where each crop pixel samples the raw image, as OpenCV's fixed-point remap maps.

    OpenCV's map builder evaluates the same lens models as
    :func:`~hggt_core.geometry.distortion.distort_pixels` (the tests check it), with the
    crop as the "new camera" ``P = A_index^-1 K_index`` (A: crop -> image indices). The
    fixed-point form (1/32 pixel, what ``cv2.remap`` uses inside anyway) halves the cost.

    Returns:
        [size, size, 2] int16 integer raw-pixel indices (x, y) and [size, size] uint16
        sub-pixel table indices, for ``cv2.remap``.
    """
    k_index = _TO_INDEX @ np.asarray(intrinsics, dtype=np.float64)
    new_camera = np.linalg.inv(_index_space_inverse_map(crop)) @ k_index
    builder = (
        cv2.fisheye.initUndistortRectifyMap
        if distortion.model == "equidistant"
        else cv2.initUndistortRectifyMap
    )
    coefficients = np.asarray(distortion.coefficients, dtype=np.float64)
    size = (crop.size, crop.size)
    maps = builder(k_index, coefficients, np.eye(3), new_camera, size, cv2.CV_16SC2)
    indices, fractions = np.asarray(maps[0], dtype=np.int16), np.asarray(maps[1], np.uint16)
    beyond = _beyond_fold(crop, intrinsics, distortion)
    if beyond is not None:
        indices[beyond] = np.iinfo(np.int16).min  # far outside the image: black
    return indices, fractions


def _beyond_fold(
    crop: CropTransform, intrinsics: FloatArray, distortion: LensDistortion
) -> npt.NDArray[np.bool_] | None:
    """[size, size] crop pixels beyond the lens model's fold, or None when there are none.

    The normalized radius is largest at a corner of the crop, so the per-pixel test runs only
    when a corner lies beyond the fold.
    """
    limit = valid_radius(distortion)
    corners = crop_to_image_points(np.array([[0, 0], [0, 1], [1, 0], [1, 1]]) * crop.size, crop)
    if np.hypot(*pixels_to_normalized(corners, intrinsics).T).max() <= limit:
        return None
    centres = np.arange(crop.size, dtype=np.float64) + 0.5
    ideal = crop_to_image_points(np.stack(np.meshgrid(centres, centres), axis=-1), crop)
    beyond: npt.NDArray[np.bool_] = (
        np.hypot(*np.moveaxis(pixels_to_normalized(ideal, intrinsics), -1, 0)) > limit
    )
    return beyond


def warp_crop(
    image: npt.NDArray[Any],
    crop: CropTransform,
    intrinsics: FloatArray | None = None,
    distortion: LensDistortion | None = None,
) -> npt.NDArray[Any]:
    """Sample the crop from an image with one bilinear warp (mirroring included).

    Args:
        image: [H, W, C] image of any dtype OpenCV can warp (uint8 RGB in the pipeline).
        crop: the crop's transform (in ideal pixels when the image is distorted).
        intrinsics: [3, 3] K of the image; needed with ``distortion``.
        distortion: the image's lens model: the crop is then sampled through it as a pinhole
            view (module docstring); None or all-zero: a plain affine warp.

    Returns:
        [size, size, C] crop with the image's dtype; outside pixels are 0.

    Raises:
        ValueError: ``distortion`` without ``intrinsics``.
    """
    if distortion is not None and not distortion.is_identity:
        if intrinsics is None:
            raise ValueError("a crop through lens distortion needs the view's intrinsics")
        indices, fractions = _distorted_sampling_maps(crop, intrinsics, distortion)
        return cv2.remap(
            image, indices, fractions, cv2.INTER_LINEAR, borderMode=cv2.BORDER_CONSTANT
        )
    return cv2.warpAffine(
        image,
        _index_space_inverse_map(crop)[:2],
        (crop.size, crop.size),
        flags=cv2.INTER_LINEAR | cv2.WARP_INVERSE_MAP,
        borderMode=cv2.BORDER_CONSTANT,
        borderValue=0,
    )


def crop_image(
    image: npt.NDArray[np.uint8],
    crop: CropTransform,
    out: Float32Array | None = None,
    intrinsics: FloatArray | None = None,
    distortion: LensDistortion | None = None,
) -> Float32Array:
    """Cut a model input from an image: warp, then scale to [0, 1] in channel-first layout.

    Args:
        image: [H, W, 3] uint8 RGB.
        crop: the crop's transform.
        out: optional [3, size, size] float32 array to write into (e.g. one view's slot of the
            engine's [S, 3, size, size] batch), which saves a copy.
        intrinsics: [3, 3] K of the image, with ``distortion`` (:func:`warp_crop`).
        distortion: the image's lens model; the crop is then an undistorted pinhole view.

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
    warped = warp_crop(image, crop, intrinsics, distortion)
    np.multiply(warped.transpose(2, 0, 1), np.float32(1.0 / 255.0), out=out)
    return out


def crop_view(
    view: View,
    box: Box,
    size: int,
    scale_factor: float,
    mirrored: bool = False,
    out: Float32Array | None = None,
) -> tuple[CropTransform, Float32Array]:
    """A view's model input around a box, undistorted when the view has lens distortion.

    Without distortion this is :func:`square_crop_transform` and :func:`crop_image`. With it,
    the raw-pixel box becomes a box in ideal pixels (:func:`undistort_box`), and the crop is
    sampled through the lens model, so the transform maps crop pixels to ideal pixels of
    ``view.intrinsics``.

    Args:
        view: the view (image, and intrinsics and distortion when known).
        box: hand box in the view's raw pixels.
        size: crop side in crop pixels.
        scale_factor: crop side / longer box side.
        mirrored: flip the crop horizontally (left hands).
        out: optional [3, size, size] float32 array to write into.

    Returns:
        The crop's transform, and the [3, size, size] float32 crop (``out`` when given).
    """
    distortion = view.distortion
    if distortion is not None and view.intrinsics is not None and not distortion.is_identity:
        box = undistort_box(box, view.intrinsics, distortion)
    transform = square_crop_transform(box, size, scale_factor, mirrored)
    crop = crop_image(view.image, transform, out, view.intrinsics, distortion)
    return transform, crop
