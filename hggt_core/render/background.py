# Copyright 2026 The HGGT-ROS Authors
# SPDX-License-Identifier: Apache-2.0
"""Seeded random backgrounds and skin tones for synthetic hand images (RGB uint8 / [0, 1])."""

from __future__ import annotations

import cv2
import numpy as np

from hggt_core.pipeline.types import ImageArray


def random_background(rng: np.random.Generator, size_hw: tuple[int, int]) -> ImageArray:
    """A seeded clutter image: colour gradient, smooth blotches, random shapes and noise.

    Args:
        rng: the random source.
        size_hw: (H, W) in pixels.

    Returns:
        [H, W, 3] uint8 RGB.
    """
    height, width = size_hw
    v, u = np.mgrid[0:height, 0:width] / max(height, width)
    angle = rng.uniform(0.0, 2.0 * np.pi)
    ramp = (np.cos(angle) * u + np.sin(angle) * v)[..., None]
    ramp = (ramp - ramp.min()) / max(float(np.ptp(ramp)), 1e-9)
    start, end = rng.uniform(0.0, 255.0, size=(2, 3))
    image = start + ramp * (end - start)
    blotches = rng.normal(0.0, 40.0, size=(4, 4, 3)).astype(np.float32)
    image += cv2.resize(blotches, (width, height), interpolation=cv2.INTER_CUBIC)
    canvas = np.ascontiguousarray(np.clip(image, 0, 255).astype(np.uint8))
    for _ in range(int(rng.integers(3, 9))):
        _random_shape(canvas, rng)
    noisy = canvas + rng.normal(0.0, 4.0, size=canvas.shape)
    return np.clip(np.round(noisy), 0, 255).astype(np.uint8)


def _random_shape(canvas: ImageArray, rng: np.random.Generator) -> None:
    """Draw one random filled circle, rectangle or thick line on ``canvas`` (in place)."""
    height, width = canvas.shape[:2]
    colour = tuple(int(c) for c in rng.integers(0, 256, size=3))
    x, y = int(rng.integers(0, width)), int(rng.integers(0, height))
    extent = int(rng.integers(max(height, width) // 20, max(height, width) // 4))
    kind = int(rng.integers(0, 3))
    if kind == 0:
        cv2.circle(canvas, (x, y), extent, colour, -1, cv2.LINE_AA)
    elif kind == 1:
        cv2.rectangle(canvas, (x, y), (x + extent, y + extent // 2), colour, -1)
    else:
        end = (x + int(rng.integers(-extent, extent)), y + int(rng.integers(-extent, extent)))
        cv2.line(canvas, (x, y), end, colour, int(rng.integers(2, 12)), cv2.LINE_AA)


def random_skin_colour(rng: np.random.Generator) -> tuple[float, float, float]:
    """An RGB skin tone in [0, 1], from pale to dark."""
    tone = rng.uniform(0.0, 1.0)
    light, dark = np.array([0.96, 0.80, 0.70]), np.array([0.50, 0.33, 0.22])
    rgb = np.clip(light + tone * (dark - light) + rng.normal(0.0, 0.03, size=3), 0.0, 1.0)
    return (float(rgb[0]), float(rgb[1]), float(rgb[2]))
