# Copyright 2026 The HGGT-ROS Authors
# SPDX-License-Identifier: Apache-2.0
"""Training crops and the paper's augmentation: aspect ratio, crop jitter, colour, blur, grey.

Every multi-view batch shares one crop size ``(H, W)``: the longer side is ``crop_size`` (518
in the paper; anything that is a multiple of the patch size works, e.g. 112 for CPU tests) and
the shorter side is ``aspect * crop_size`` with the aspect ratio drawn from ``[0.5, 1]``,
rounded to a multiple of the patch size (14), because HGGT's patch embedding needs
``H, W % 14 == 0``. Like VGGT's training crops, a non-square crop is landscape (``H <= W``)
unless ``portrait_prob`` says otherwise.

Geometry. A crop is an axis-aligned, square-pixel window of the full image:
``u_img = x0 + s * u_crop``, ``v_img = y0 + s * v_crop`` (``s`` image pixels per crop pixel),
i.e. the affine ``A`` (crop -> image). The crop's intrinsics are ``K_crop = A^-1 K`` and 2-D
points map as ``uv_crop = A^-1 uv_img``, so projecting 3-D points with ``K_crop`` gives exactly
the mapped 2-D points. Pixel centres sit at +0.5 (see :mod:`hggt_core.pipeline.types`).

Photometric changes (colour jitter, Gaussian blur, grayscale) never move pixels and leave
every label untouched. All randomness comes from the ``numpy.random.Generator`` passed in.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import cv2
import numpy as np
import numpy.typing as npt

from hggt_core.pipeline.types import FloatArray, ImageArray


@dataclass(frozen=True)
class AugmentConfig:
    """Crop size and augmentation strengths (probabilities in [0, 1]).

    Attributes:
        crop_size: longer side of every crop, pixels; a multiple of ``patch_size``.
        patch_size: the model's patch size; both crop sides are multiples of it.
        aspect_range: (min, max) of shorter / longer crop side.
        portrait_prob: probability that a non-square crop is portrait (``H > W``).
        scale_range: (min, max) factor on the crop's extent around the hand box (> 1 zooms
            out); 1 fits the box's longer side exactly into the crop.
        shift_range: maximum shift of the crop centre, as a fraction of the box size.
        jitter_prob: probability of colour jitter per view.
        brightness: brightness factor drawn from [1 - b, 1 + b].
        contrast: contrast factor drawn from [1 - c, 1 + c].
        saturation: saturation factor drawn from [1 - s, 1 + s].
        hue_deg: hue rotation drawn from [-h, h] degrees.
        blur_prob: probability of a Gaussian blur per view.
        blur_sigma_range: (min, max) blur sigma in crop pixels.
        grayscale_prob: probability of converting a view to grey (3 equal channels).
    """

    crop_size: int = 518
    patch_size: int = 14
    aspect_range: tuple[float, float] = (0.5, 1.0)
    portrait_prob: float = 0.0
    scale_range: tuple[float, float] = (0.9, 1.1)
    shift_range: float = 0.05
    jitter_prob: float = 0.8
    brightness: float = 0.3
    contrast: float = 0.3
    saturation: float = 0.3
    hue_deg: float = 5.0
    blur_prob: float = 0.2
    blur_sigma_range: tuple[float, float] = (0.1, 1.5)
    grayscale_prob: float = 0.05

    def __post_init__(self) -> None:
        """Validate the sizes and ranges (fail fast with a clear message)."""
        if self.patch_size <= 0 or self.crop_size <= 0 or self.crop_size % self.patch_size:
            raise ValueError(
                f"crop_size ({self.crop_size}) must be a positive multiple of patch_size "
                f"({self.patch_size})"
            )
        low, high = self.aspect_range
        if not 0.0 < low <= high <= 1.0:
            raise ValueError(f"aspect_range must satisfy 0 < min <= max <= 1, got {low, high}")
        if not 0.0 < self.scale_range[0] <= self.scale_range[1]:
            raise ValueError(f"scale_range must be positive and ordered: {self.scale_range}")

    @classmethod
    def evaluation(cls, crop_size: int = 518, patch_size: int = 14) -> AugmentConfig:
        """No augmentation: square crops fitting the hand box, centred, colours untouched."""
        return cls(
            crop_size=crop_size,
            patch_size=patch_size,
            aspect_range=(1.0, 1.0),
            scale_range=(1.0, 1.0),
            shift_range=0.0,
            jitter_prob=0.0,
            blur_prob=0.0,
            grayscale_prob=0.0,
        )


@dataclass(frozen=True)
class CroppedView:
    """One view cut out of its full image.

    Attributes:
        image: [H, W, 3] uint8 RGB crop.
        intrinsics: [3, 3] K of the crop (crop pixels).
        crop_to_image: [3, 3] affine A, crop pixels -> full-image pixels.
    """

    image: ImageArray
    intrinsics: FloatArray
    crop_to_image: FloatArray

    def points_to_crop(self, uv_image: FloatArray) -> FloatArray:
        """Map full-image pixels [N, 2] into the crop, [N, 2]."""
        scale = self.crop_to_image[0, 0]
        return np.asarray((uv_image - self.crop_to_image[:2, 2]) / scale)


def random_crop_hw(rng: np.random.Generator, config: AugmentConfig) -> tuple[int, int]:
    """Draw the crop size (H, W) of a batch: longer side ``crop_size``, both % patch == 0."""
    aspect = rng.uniform(*config.aspect_range)
    patches = max(1, round(aspect * config.crop_size / config.patch_size))
    short = min(config.crop_size, patches * config.patch_size)
    if short < config.crop_size and rng.uniform() < config.portrait_prob:
        return config.crop_size, short
    return short, config.crop_size


def crop_view(
    image: ImageArray,
    intrinsics: FloatArray,
    box: FloatArray,
    crop_hw: tuple[int, int],
    rng: np.random.Generator,
    config: AugmentConfig,
) -> CroppedView:
    """Cut a jittered crop around a hand box and compute its intrinsics.

    The window keeps square pixels: its scale makes the box fit the crop (times a factor
    drawn from ``scale_range``), its centre is the box centre shifted by up to
    ``shift_range`` of the box size. Outside the image the crop is black.

    Args:
        image: [Hi, Wi, 3] uint8 RGB full image.
        intrinsics: [3, 3] K of the full image, pixels.
        box: [4] (x0, y0, x1, y1) hand region in image pixels, context margin included.
        crop_hw: (H, W) of the crop.
        rng: the random source.
        config: jitter ranges.

    Returns:
        The crop, its intrinsics and the crop -> image affine.
    """
    height, width = crop_hw
    box_size = np.array([box[2] - box[0], box[3] - box[1]], dtype=np.float64)
    box_size = np.maximum(box_size, 1e-3)
    scale = float(max(box_size[0] / width, box_size[1] / height))
    scale *= rng.uniform(*config.scale_range)
    centre = (np.asarray(box[:2]) + np.asarray(box[2:])) / 2.0
    centre = centre + rng.uniform(-1.0, 1.0, size=2) * config.shift_range * box_size
    x0 = centre[0] - scale * width / 2.0
    y0 = centre[1] - scale * height / 2.0
    crop_to_image = np.array([[scale, 0.0, x0], [0.0, scale, y0], [0.0, 0.0, 1.0]])
    # OpenCV indexes pixel centres at integers, this project at +0.5: convert both ends.
    index_map = np.array(
        [[scale, 0.0, x0 + 0.5 * scale - 0.5], [0.0, scale, y0 + 0.5 * scale - 0.5]]
    )
    source: npt.NDArray[Any] = image
    if scale > 1.5:
        # Bilinear warping does not average when shrinking: pre-blur against aliasing.
        source = cv2.GaussianBlur(image, (0, 0), sigmaX=0.5 * math.sqrt(scale * scale - 1.0))
    crop = cv2.warpAffine(
        source,
        index_map,
        (width, height),
        flags=cv2.INTER_LINEAR | cv2.WARP_INVERSE_MAP,
        borderMode=cv2.BORDER_CONSTANT,
        borderValue=0,
    )
    crop_intrinsics = np.linalg.inv(crop_to_image) @ np.asarray(intrinsics, dtype=np.float64)
    return CroppedView(np.ascontiguousarray(crop), crop_intrinsics, crop_to_image)


def _colour_jitter(
    image: FloatArray, rng: np.random.Generator, config: AugmentConfig
) -> FloatArray:
    """Brightness, contrast, saturation and hue changes of a float RGB image in [0, 1]."""
    image = image * rng.uniform(1.0 - config.brightness, 1.0 + config.brightness)
    grey = image @ np.array([0.299, 0.587, 0.114])
    contrast = rng.uniform(1.0 - config.contrast, 1.0 + config.contrast)
    image = (image - grey.mean()) * contrast + grey.mean()
    saturation = rng.uniform(1.0 - config.saturation, 1.0 + config.saturation)
    grey = (image @ np.array([0.299, 0.587, 0.114]))[..., None]
    image = np.clip((image - grey) * saturation + grey, 0.0, 1.0)
    hue_deg = rng.uniform(-config.hue_deg, config.hue_deg)
    if hue_deg != 0.0:
        hsv = cv2.cvtColor(image.astype(np.float32), cv2.COLOR_RGB2HSV)
        hsv[..., 0] = np.mod(hsv[..., 0] + hue_deg, 360.0)
        image = cv2.cvtColor(hsv, cv2.COLOR_HSV2RGB).astype(np.float64)
    return np.asarray(np.clip(image, 0.0, 1.0))


def photometric(image: ImageArray, rng: np.random.Generator, config: AugmentConfig) -> ImageArray:
    """Colour jitter, blur and grayscale, each with its probability; pixels never move.

    Args:
        image: [H, W, 3] uint8 RGB.
        rng: the random source (always consumed the same way, whatever is applied).
        config: probabilities and strengths.

    Returns:
        [H, W, 3] uint8 RGB.
    """
    apply_jitter, apply_blur, apply_grey = rng.uniform(size=3) < np.array(
        [config.jitter_prob, config.blur_prob, config.grayscale_prob]
    )
    if not (apply_jitter or apply_blur or apply_grey):
        return image
    result: npt.NDArray[Any] = image.astype(np.float64) / 255.0
    if apply_jitter:
        result = _colour_jitter(result, rng, config)
    if apply_blur:
        sigma = rng.uniform(*config.blur_sigma_range)
        result = cv2.GaussianBlur(result, (0, 0), sigmaX=sigma)
    if apply_grey:
        grey = result @ np.array([0.299, 0.587, 0.114])
        result = np.repeat(grey[..., None], 3, axis=-1)
    return np.clip(np.round(result * 255.0), 0, 255).astype(np.uint8)


def flip_image_horizontally(
    image: ImageArray, intrinsics: FloatArray
) -> tuple[ImageArray, FloatArray]:
    """Mirror an image left-right and give the intrinsics that see the mirrored scene.

    Flipping maps ``u -> W - u``; with ``c_x -> W - c_x`` the same K (focal lengths
    unchanged) projects the reflected scene ``diag(-1, 1, 1) X`` onto the flipped image,
    which is how :mod:`hggt_core.pipeline.mirror` treats mirrored frames.

    Args:
        image: [H, W, 3] image.
        intrinsics: [3, 3] K of the image (zero skew).

    Returns:
        The flipped image and its K.
    """
    width = image.shape[1]
    flipped_k = np.array(intrinsics, dtype=np.float64)
    flipped_k[0, 2] = width - flipped_k[0, 2]
    return np.ascontiguousarray(image[:, ::-1]), flipped_k
