# Copyright 2026 The HGGT-ROS Authors
# SPDX-License-Identifier: Apache-2.0
"""Reconstructed hands drawn over their views, and labelled mosaics of views.

Images are [H, W, 3] uint8 RGB in and out. Pixel coordinates follow
:mod:`hggt_core.pipeline.types` (pixel centres at +0.5); OpenCV's drawing functions put pixel
centres at integers, so 2-D points are shifted by -0.5 before drawing.

Lens distortion: results live in ideal pinhole pixels of a view's K; over a view with
``distortion`` the skeleton is distorted onto the raw image and the rendered mesh resampled
there (each raw pixel reads the pinhole rendering where it undistorts to).
"""

from __future__ import annotations

import functools
import math
from collections.abc import Mapping, Sequence

import cv2
import numpy as np
import numpy.typing as npt

from hggt_core.base.hand_skeleton import OPENPOSE_BONES
from hggt_core.geometry.distortion import LensDistortion, distort_pixels, undistort_pixels
from hggt_core.pipeline.types import (
    FloatArray,
    FrameSet,
    HandResult,
    HandSide,
    ImageArray,
    ViewCamera,
)
from hggt_core.render.rasterize import Colour, RenderedMesh, render_mesh

SIDE_COLOURS: Mapping[HandSide, Colour] = {"right": (0.93, 0.62, 0.42), "left": (0.45, 0.68, 0.93)}
"""Mesh colour of each hand side, RGB in [0, 1]."""
_FINGER_COLOURS: tuple[tuple[int, int, int], ...] = (
    (255, 64, 64),
    (255, 200, 0),
    (64, 220, 64),
    (0, 190, 255),
    (200, 90, 255),
)
_SUBPIXEL_BITS = 4
_FAR_FACTOR = 8
"""Joints farther than this many image sides from the origin are not drawn."""


def _as_uint8_rgb(image: npt.ArrayLike) -> ImageArray:
    array = np.asarray(image)
    if array.ndim != 3 or array.shape[2] != 3 or array.dtype != np.uint8:
        raise ValueError(f"expected an [H, W, 3] uint8 RGB image, got {array.dtype} {array.shape}")
    return array


def _cv_point(uv: npt.NDArray[np.float64]) -> tuple[int, int]:
    scale = 1 << _SUBPIXEL_BITS
    return (round((float(uv[0]) - 0.5) * scale), round((float(uv[1]) - 0.5) * scale))


def draw_skeleton(image: ImageArray, joints_2d: npt.ArrayLike, thickness: int = 2) -> ImageArray:
    """Draw the 21-joint OpenPose hand skeleton (bones coloured by finger) on a copy.

    Args:
        image: [H, W, 3] uint8 RGB.
        joints_2d: [21, 2] joints in this image's pixels (OpenPose order).
        thickness: line width in pixels; joint dots get a radius of thickness + 1.

    Returns:
        [H, W, 3] uint8 RGB with the skeleton drawn.
    """
    canvas = _as_uint8_rgb(image).copy()
    joints = np.asarray(joints_2d, dtype=np.float64).reshape(-1, 2)
    if not np.all(np.isfinite(joints)):
        return canvas
    # A joint projected from near or behind the camera can land millions of pixels away,
    # beyond OpenCV's fixed-point range: such joints and their bones are not drawn.
    drawable = np.all(np.abs(joints) < _FAR_FACTOR * max(canvas.shape[:2]), axis=1)
    for child, parent in OPENPOSE_BONES:
        if not (drawable[child] and drawable[parent]):
            continue
        colour = _FINGER_COLOURS[(child - 1) // 4]
        start, end = _cv_point(joints[parent]), _cv_point(joints[child])
        cv2.line(canvas, start, end, colour, thickness, cv2.LINE_AA, _SUBPIXEL_BITS)
    for index, point in enumerate(joints):
        if not drawable[index]:
            continue
        colour = (255, 255, 255) if index == 0 else _FINGER_COLOURS[(index - 1) // 4]
        radius = (thickness + 1) << _SUBPIXEL_BITS
        cv2.circle(canvas, _cv_point(point), radius, colour, -1, cv2.LINE_AA, _SUBPIXEL_BITS)
    return canvas


def overlay_hand(
    image: npt.ArrayLike,
    camera: ViewCamera,
    vertices: npt.ArrayLike,
    faces: npt.ArrayLike,
    side: HandSide = "right",
    alpha: float = 0.6,
    colour: Colour | None = None,
    draw_joints: bool = True,
) -> ImageArray:
    """Draw a hand mesh over a view, seen through that view's (predicted) camera.

    Args:
        image: [H, W, 3] uint8 RGB full image of the view.
        camera: the view's camera: ``intrinsics`` in this image's pixels, ``cam_from_ref``
            [4, 4] taking reference-frame points into the camera; ``joints_2d`` [21, 2] are
            drawn when ``draw_joints``.
        vertices: [V, 3] mesh vertices in the reference frame (metres).
        faces: [F, 3] triangles.
        side: picks the default colour (:data:`SIDE_COLOURS`).
        alpha: opacity of the mesh in [0, 1].
        colour: mesh RGB in [0, 1], overriding the side's colour.
        draw_joints: also draw the 2-D skeleton.

    Returns:
        [H, W, 3] uint8 RGB: a new image, the input is not modified.
    """
    return overlay_hands(image, [(camera, vertices, side, colour)], faces, alpha, draw_joints)


def overlay_hands(
    image: npt.ArrayLike,
    hands: Sequence[tuple[ViewCamera, npt.ArrayLike, HandSide, Colour | None]],
    faces: npt.ArrayLike,
    alpha: float = 0.6,
    draw_joints: bool = True,
    lens: tuple[FloatArray, LensDistortion] | None = None,
) -> ImageArray:
    """Draw several hands over one view; they are rendered together so they occlude correctly.

    Hands whose cameras of this view disagree (estimated separately, see
    :mod:`hggt_core.pipeline.shared_cameras`) are drawn one after the other instead.

    Args:
        image: [H, W, 3] uint8 RGB full image of the view.
        hands: per hand (this view's camera for it, [V, 3] vertices in its reference frame,
            side, optional colour); see :func:`overlay_hand`.
        faces: [F, 3] triangles shared by all hands.
        alpha: opacity of the meshes in [0, 1].
        draw_joints: also draw each hand's 2-D skeleton.
        lens: the view's known K [3, 3] and lens distortion when ``image`` is the raw,
            distorted image (the cameras then give ideal pixels of that K); None: pinhole.

    Returns:
        [H, W, 3] uint8 RGB.
    """
    canvas = _as_uint8_rgb(image).copy()
    if not hands:
        return canvas
    if lens is not None and lens[1].is_identity:
        lens = None
    tris = np.asarray(faces, dtype=np.int64).reshape(-1, 3)
    points: list[npt.NDArray[np.float64]] = []
    colours: list[npt.NDArray[np.float64]] = []
    first = hands[0][0].intrinsics
    if any(not np.allclose(camera.intrinsics, first) for camera, *_ in hands):
        for hand in hands:
            canvas = overlay_hands(canvas, [hand], faces, alpha, draw_joints, lens)
        return canvas
    for camera, vertices, side, colour in hands:
        verts = np.asarray(vertices, dtype=np.float64).reshape(-1, 3)
        points.append(verts @ camera.cam_from_ref[:3, :3].T + camera.cam_from_ref[:3, 3])
        rgb = colour if colour is not None else SIDE_COLOURS[side]
        colours.append(np.tile(np.asarray(rgb, dtype=np.float64), (len(tris), 1)))
    offsets = np.cumsum([0] + [len(p) for p in points[:-1]])
    all_faces = np.concatenate([tris + offset for offset in offsets])
    height, width = canvas.shape[:2]
    rendered = render_mesh(
        np.concatenate(points),
        all_faces,
        first,
        (height, width),
        face_colours=np.concatenate(colours),
        ambient=0.45,
    )
    shaded, mask = (rendered.rgb, rendered.mask) if lens is None else _onto_raw(rendered, lens)
    blended = (1.0 - alpha) * canvas[mask] + alpha * shaded[mask]
    canvas[mask] = np.round(blended).astype(np.uint8)
    if draw_joints:
        for camera, *_ in hands:
            joints = camera.joints_2d if lens is None else distort_pixels(camera.joints_2d, *lens)
            canvas = draw_skeleton(canvas, joints)
    return canvas


def _onto_raw(
    rendered: RenderedMesh, lens: tuple[FloatArray, LensDistortion]
) -> tuple[ImageArray, npt.NDArray[np.bool_]]:
    """A pinhole rendering (ideal pixels of K) resampled onto the raw, distorted image."""
    height, width = rendered.mask.shape
    map_x, map_y = _raw_to_ideal_maps(tuple(np.ravel(lens[0])), lens[1], (width, height))
    # Nearest: a linear blend would mix the empty (black) background into the mesh's edges.
    rgb = cv2.remap(rendered.rgb, map_x, map_y, cv2.INTER_NEAREST, borderValue=0)
    coverage = cv2.remap(rendered.mask.astype(np.uint8), map_x, map_y, cv2.INTER_NEAREST)
    return np.asarray(rgb, dtype=np.uint8), np.asarray(coverage) > 0


@functools.lru_cache(maxsize=8)
def _raw_to_ideal_maps(
    intrinsics: tuple[float, ...], distortion: LensDistortion, size_wh: tuple[int, int]
) -> tuple[npt.NDArray[np.float32], npt.NDArray[np.float32]]:
    """OpenCV pixel indices of the pinhole image that each raw pixel shows, [H, W] x 2.

    Cached per lens and size: undistorting every pixel costs about 0.1 s for VGA on one core.
    """
    width, height = size_wh
    grid = np.stack(np.meshgrid(np.arange(width) + 0.5, np.arange(height) + 0.5), axis=-1)
    ideal = undistort_pixels(grid, np.reshape(intrinsics, (3, 3)), distortion) - 0.5
    ideal[~np.isfinite(ideal)] = -1.0e6
    return ideal[..., 0].astype(np.float32), ideal[..., 1].astype(np.float32)


def overlay_results(
    frameset: FrameSet,
    results: Sequence[HandResult],
    faces: npt.ArrayLike,
    alpha: float = 0.6,
    draw_joints: bool = True,
) -> list[ImageArray]:
    """Every hand drawn over every view of a frameset that the hand was reconstructed from.

    Args:
        frameset: the input views (full images).
        results: hands reconstructed from this frameset.
        faces: [F, 3] MANO triangles.
        alpha: mesh opacity in [0, 1].
        draw_joints: also draw the 2-D skeletons.

    Returns:
        One [H, W, 3] uint8 RGB image per view of ``frameset``, in its order (views no hand
        used are returned unchanged, as copies); hands over a view with lens distortion are
        drawn where the raw image shows them.
    """
    images: list[ImageArray] = []
    for view in frameset.views:
        hands = [
            (camera, result.vertices, result.side, None)
            for result in results
            for camera in result.cameras
            if camera.name == view.name
        ]
        lens = None
        if view.intrinsics is not None and view.distortion is not None:
            lens = (np.asarray(view.intrinsics, dtype=np.float64), view.distortion)
        images.append(overlay_hands(view.image, hands, faces, alpha, draw_joints, lens))
    return images


def _fit_height(image: ImageArray, height: int) -> ImageArray:
    width = max(1, round(image.shape[1] * height / image.shape[0]))
    interpolation = cv2.INTER_AREA if height < image.shape[0] else cv2.INTER_LINEAR
    return np.asarray(cv2.resize(image, (width, height), interpolation=interpolation))


def _label(tile: ImageArray, text: str) -> None:
    """Write ``text`` in the top-left corner of ``tile`` (in place), on a dark band."""
    font, scale, thickness = cv2.FONT_HERSHEY_SIMPLEX, 0.5, 1
    (width, height), baseline = cv2.getTextSize(text, font, scale, thickness)
    cv2.rectangle(tile, (0, 0), (width + 8, height + baseline + 8), (0, 0, 0), -1)
    cv2.putText(tile, text, (4, height + 4), font, scale, (255, 255, 255), thickness, cv2.LINE_AA)


def mosaic(
    images: Sequence[npt.ArrayLike],
    labels: Sequence[str] | None = None,
    columns: int | None = None,
    tile_height: int = 360,
    gap: int = 4,
) -> ImageArray:
    """Tile views into one image, row by row, each resized to ``tile_height`` and labelled.

    Args:
        images: [H_i, W_i, 3] uint8 RGB images (sizes may differ; aspect ratios are kept).
        labels: a caption per image (e.g. view names), or None for none.
        columns: tiles per row; default ceil(sqrt(N)).
        tile_height: height of every tile in pixels.
        gap: dark-grey spacing between tiles, in pixels.

    Returns:
        [rows * tile_height + (rows - 1) * gap, columns * tile_width + (columns - 1) * gap, 3]
        uint8 RGB, where tile_width is the widest resized image.

    Raises:
        ValueError: for no images, or a label count that differs from the image count.
    """
    if not images:
        raise ValueError("mosaic needs at least one image")
    if labels is not None and len(labels) != len(images):
        raise ValueError(f"{len(labels)} labels for {len(images)} images")
    tiles = [_fit_height(_as_uint8_rgb(image), tile_height) for image in images]
    cols = columns if columns is not None else math.ceil(math.sqrt(len(tiles)))
    rows = math.ceil(len(tiles) / cols)
    tile_width = max(tile.shape[1] for tile in tiles)
    canvas = np.full(
        (rows * tile_height + (rows - 1) * gap, cols * tile_width + (cols - 1) * gap, 3),
        32,
        dtype=np.uint8,
    )
    for index, tile in enumerate(tiles):
        tile = tile.copy()
        if labels is not None:
            _label(tile, labels[index])
        top = (index // cols) * (tile_height + gap)
        left = (index % cols) * (tile_width + gap) + (tile_width - tile.shape[1]) // 2
        canvas[top : top + tile_height, left : left + tile.shape[1]] = tile
    return canvas
