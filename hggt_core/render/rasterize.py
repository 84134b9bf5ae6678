# Copyright 2026 The HGGT-ROS Authors
# SPDX-License-Identifier: Apache-2.0
"""A vectorised numpy z-buffer triangle rasteriser with Lambert shading (CPU, no display).

Conventions (the same as :mod:`hggt_core.pipeline.types`):

* Vertices are in the camera frame with OpenCV axes (x right, y down, z forward), metres.
* Pixel (row j, column i) covers u in [i, i + 1], v in [j, j + 1]; it is sampled at its centre
  (i + 0.5, j + 0.5) and is covered when that point lies inside a triangle (edges inclusive).
* Depth is the camera-frame z of the visible surface, interpolated perspective-correctly
  (exact at vertices), ``inf`` where no triangle covers the pixel.

Every triangle is rasterised at once: the pixels of all bounding boxes are enumerated as flat
arrays (in chunks of bounded size), tested with edge functions, and resolved with a minimum
z-buffer. Both sides of a triangle are drawn (the MANO mesh is open at the wrist), shading
normals are flipped towards the camera, and triangles with a vertex at or behind the near
plane are dropped whole (they are not clipped).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]
BoolArray = npt.NDArray[np.bool_]
ImageArray = npt.NDArray[np.uint8]
Colour = tuple[float, float, float]

DEFAULT_COLOUR: Colour = (0.86, 0.66, 0.55)
"""A light skin tone, RGB in [0, 1]."""
DEFAULT_LIGHT_DIR_CAM: tuple[float, float, float] = (0.3, -0.5, -1.0)
"""Towards the light: from the camera side, a little up (-y) and to the right (+x)."""
_CANDIDATES_PER_CHUNK = 1 << 21
_EDGE_TOLERANCE_PX = 1e-9


@dataclass(frozen=True)
class RenderedMesh:
    """A rendered image and its buffers, all [H, W, ...] in the image's pixel grid.

    Attributes:
        rgb: [H, W, 3] uint8 shaded colour; 0 where ``mask`` is False.
        mask: [H, W] bool, True where a triangle covers the pixel centre.
        depth: [H, W] float64 camera-frame z (metres) of the visible surface; ``inf`` where empty.
        face_index: [H, W] int64 index of the visible triangle; -1 where empty.
    """

    rgb: ImageArray
    mask: BoolArray
    depth: FloatArray
    face_index: IntArray


@dataclass(frozen=True)
class _Fragments:
    """Winning fragment per pixel: flat pixel index, face and perspective-correct barycentrics."""

    pixel: IntArray
    face: IntArray
    depth: FloatArray
    bary: FloatArray


def vertex_normals(vertices: FloatArray, faces: IntArray) -> FloatArray:
    """Area-weighted unit vertex normals (zero for vertices used by no triangle).

    Args:
        vertices: [V, 3] positions.
        faces: [F, 3] vertex indices; the winding gives the normal direction (right-hand rule).

    Returns:
        [V, 3] unit normals.
    """
    corners = vertices[faces]
    face_normals = np.cross(corners[:, 1] - corners[:, 0], corners[:, 2] - corners[:, 0])
    normals = np.zeros_like(vertices)
    for k in range(3):
        np.add.at(normals, faces[:, k], face_normals)
    length = np.linalg.norm(normals, axis=1, keepdims=True)
    return np.asarray(normals / np.maximum(length, 1e-20))


def _pixel_ranges(uv: FloatArray, size: int) -> tuple[IntArray, IntArray]:
    """First and count of the pixels whose centres lie within [min, max] of each row of ``uv``."""
    first = np.clip(np.ceil(uv.min(axis=1) - 0.5), 0, size)
    last = np.clip(np.floor(uv.max(axis=1) - 0.5), -1, size - 1)
    return first.astype(np.int64), np.maximum(last - first + 1, 0).astype(np.int64)


def _edge_planes(uv: FloatArray) -> FloatArray:
    """Screen-space barycentrics as affine functions of the pixel position.

    Args:
        uv: [T, 3, 2] projected corners (non-degenerate triangles).

    Returns:
        [T, 3, 3]: for corner k, (a, b, c) with w_k(u, v) = a u + b v + c; the w_k sum to 1 and
        are all >= 0 exactly inside the triangle, whatever its winding.
    """
    x1, y1 = uv[:, [1, 2, 0], 0], uv[:, [1, 2, 0], 1]
    x2, y2 = uv[:, [2, 0, 1], 0], uv[:, [2, 0, 1], 1]
    planes = np.stack([y1 - y2, x2 - x1, x1 * y2 - y1 * x2], axis=-1)
    return np.asarray(planes / planes[:, :, 2].sum(axis=1)[:, None, None])


@dataclass(frozen=True)
class _Spans:
    """Per triangle and bounding-box row: the pixel columns whose centres the triangle covers.

    Attributes:
        tri: [R] triangle index (into the kept triangles).
        row: [R] pixel row.
        first: [R] first covered column.
        count: [R] covered columns (may be 0).
        slope: [R, 3] screen barycentrics along the row's centre line: w = slope * u + offset.
        offset: [R, 3] see ``slope``.
        inv_depth: [R, 2] slope and offset of 1 / z along the row (affine in screen space).
    """

    tri: IntArray
    row: IntArray
    first: IntArray
    count: IntArray
    slope: FloatArray
    offset: FloatArray
    inv_depth: FloatArray


def _row_spans(
    planes: FloatArray, inv_z: FloatArray, box: tuple[IntArray, IntArray, IntArray, IntArray]
) -> _Spans:
    """Solve w_k(u) >= 0 along every bounding-box row's centre line (scanline coverage).

    Args:
        planes: [T, 3, 3] edge planes (see :func:`_edge_planes`).
        inv_z: [T, 3] 1 / z at the corners.
        box: [T] bounding boxes in pixels: first column, columns, first row, rows.

    Returns:
        The covered spans; a centre on an edge (to within _EDGE_TOLERANCE_PX) counts as inside,
        so triangles sharing an edge leave no crack between them.
    """
    x0, nx, y0, ny = box
    tri = np.repeat(np.arange(len(ny)), ny)
    row = y0[tri] + np.arange(tri.size) - np.repeat(np.cumsum(ny) - ny, ny)
    slope = planes[tri, :, 0]
    offset = planes[tri, :, 1] * (row + 0.5)[:, None] + planes[tri, :, 2]
    with np.errstate(divide="ignore", invalid="ignore"):
        crossing = -offset / slope
    low = np.where(slope > 0, crossing, -np.inf).max(axis=1) - _EDGE_TOLERANCE_PX
    high = np.where(slope < 0, crossing, np.inf).min(axis=1) + _EDGE_TOLERANCE_PX
    first = np.maximum(np.ceil(low - 0.5), x0[tri])
    last = np.minimum(np.floor(high - 0.5), x0[tri] + nx[tri] - 1)
    never = np.any((slope == 0) & (offset < 0), axis=1)
    count = np.where(never, 0, np.maximum(last - first + 1, 0)).astype(np.int64)
    weights = inv_z[tri]
    inv_depth = np.stack([(slope * weights).sum(axis=1), (offset * weights).sum(axis=1)], 1)
    return _Spans(tri, row, first.astype(np.int64), count, slope, offset, inv_depth)


def _chunk_bounds(counts: IntArray) -> list[tuple[int, int]]:
    """Split rows into consecutive runs of at most ~_CANDIDATES_PER_CHUNK pixels."""
    ends = np.cumsum(counts)
    bounds: list[tuple[int, int]] = []
    start = 0
    while start < len(counts):
        before = ends[start - 1] if start else 0
        stop = int(np.searchsorted(ends, before + _CANDIDATES_PER_CHUNK, side="right"))
        stop = max(stop, start + 1)
        bounds.append((start, stop))
        start = stop
    return bounds


def _depth_test(spans: _Spans, height: int, width: int) -> tuple[FloatArray, IntArray]:
    """Z-buffer over all spans: per pixel the largest 1 / z and the span that holds it.

    Returns:
        [H * W] best 1 / z (-inf where empty) and [H * W] winning span index (-1 where empty).
    """
    best = np.full(height * width, -np.inf)
    owner = np.full(height * width, -1, dtype=np.int64)
    for start, stop in _chunk_bounds(spans.count):
        count = spans.count[start:stop]
        starts = np.cumsum(count) - count
        local = np.arange(int(count.sum()))
        col = np.repeat(spans.first[start:stop] - starts, count) + local
        pixel = col + np.repeat(spans.row[start:stop] * width, count)
        span = np.repeat(np.arange(start, stop), count)
        inv_depth = spans.inv_depth[span, 0] * (col + 0.5) + spans.inv_depth[span, 1]
        # Against the running buffer: a fragment at least as near as all before it wins.
        np.maximum.at(best, pixel, inv_depth)
        wins = inv_depth >= best[pixel]
        owner[pixel[wins]] = span[wins]
    return best, owner


def _rasterise(
    uv: FloatArray, z: FloatArray, faces: IntArray, image_size_hw: tuple[int, int], near_m: float
) -> _Fragments:
    """Visible fragment of every covered pixel (see the module docstring for conventions)."""
    height, width = image_size_hw
    corners_z = z[faces]
    corners_uv = uv[faces]
    keep = np.all(corners_z > near_m, axis=1) & np.all(np.isfinite(corners_uv), axis=(1, 2))
    d1 = corners_uv[:, 1] - corners_uv[:, 0]
    d2 = corners_uv[:, 2] - corners_uv[:, 0]
    keep &= np.abs(d1[:, 0] * d2[:, 1] - d1[:, 1] * d2[:, 0]) > 1e-12
    kept = np.flatnonzero(keep)
    x0, nx = _pixel_ranges(corners_uv[kept, :, 0], width)
    y0, ny = _pixel_ranges(corners_uv[kept, :, 1], height)
    visible = nx * ny > 0
    kept, x0, nx, y0, ny = kept[visible], x0[visible], nx[visible], y0[visible], ny[visible]
    inv_z = 1.0 / corners_z[kept]
    spans = _row_spans(_edge_planes(corners_uv[kept]), inv_z, (x0, nx, y0, ny))
    best, owner = _depth_test(spans, height, width)
    pixel = np.flatnonzero(owner >= 0)
    span = owner[pixel]
    screen = spans.slope[span] * (pixel % width + 0.5)[:, None] + spans.offset[span]
    # Centres within the edge tolerance may give barycentrics a hair below zero.
    weighted = np.clip(screen, 0.0, None) * inv_z[spans.tri[span]]
    bary = weighted / weighted.sum(axis=1, keepdims=True)
    return _Fragments(pixel, kept[spans.tri[span]], 1.0 / best[pixel], bary)


def _intensity(
    vertices: FloatArray,
    tris: IntArray,
    fragments: _Fragments,
    light_dir: FloatArray,
    ambient: float,
    smooth: bool,
) -> npt.NDArray[np.float32]:
    """Lambert + ambient brightness [N] in [ambient, 1] of every visible fragment.

    Both sides of a triangle are lit as seen: when a triangle faces away from the camera its
    normals are flipped (two-sided lighting), so the inside of the wrist opening is shaded too.
    """
    corners = vertices[tris]
    face_normals = np.cross(corners[:, 1] - corners[:, 0], corners[:, 2] - corners[:, 0])
    # The camera sits at the origin: a face looks at it when its normal points to -centroid.
    facing = np.where(np.einsum("fc,fc->f", face_normals, corners.sum(axis=1)) > 0, -1.0, 1.0)
    sign = facing[fragments.face].astype(np.float32)
    if smooth:
        normals = vertex_normals(vertices, tris).astype(np.float32)[tris[fragments.face]]
        fragment_normals = np.einsum("nk,nkc->nc", fragments.bary.astype(np.float32), normals)
    else:
        fragment_normals = face_normals[fragments.face].astype(np.float32)
    length = np.sqrt(np.einsum("nc,nc->n", fragment_normals, fragment_normals))
    cosine = sign * (fragment_normals @ light_dir.astype(np.float32)) / np.maximum(length, 1e-20)
    return np.asarray(ambient + (1.0 - ambient) * np.clip(cosine, 0.0, 1.0), dtype=np.float32)


def render_mesh(
    vertices_cam: npt.ArrayLike,
    faces: npt.ArrayLike,
    intrinsics: npt.ArrayLike,
    image_size_hw: tuple[int, int],
    base_colour: Colour = DEFAULT_COLOUR,
    light_dir_cam: Sequence[float] = DEFAULT_LIGHT_DIR_CAM,
    ambient: float = 0.35,
    smooth: bool = True,
    face_colours: npt.ArrayLike | None = None,
    near_m: float = 1e-3,
) -> RenderedMesh:
    """Render a triangle mesh seen by a pinhole camera.

    Args:
        vertices_cam: [V, 3] vertices in the camera frame (OpenCV axes, metres).
        faces: [F, 3] vertex indices (either winding; both sides are drawn).
        intrinsics: [3, 3] K in pixels of this image (pixel centres at +0.5, see the module
            docstring).
        image_size_hw: (H, W) in pixels.
        base_colour: RGB in [0, 1] of every face (unless ``face_colours``).
        light_dir_cam: [3] direction from the surface towards a distant light, camera frame
            (normalised here).
        ambient: shading floor in [0, 1]; a face lit head-on gets full colour.
        smooth: interpolate vertex normals (True) or use the flat face normals.
        face_colours: optional [F, 3] RGB in [0, 1] per face, overriding ``base_colour``
            (e.g. two hands rendered together in their own colours).
        near_m: triangles with a vertex at z <= near_m (metres) are not drawn.

    Returns:
        The image, coverage mask, depth buffer and visible-face buffer.
    """
    vertices = np.asarray(vertices_cam, dtype=np.float64).reshape(-1, 3)
    tris = np.asarray(faces, dtype=np.int64).reshape(-1, 3)
    k = np.asarray(intrinsics, dtype=np.float64)
    height, width = image_size_hw
    z = vertices[:, 2]
    with np.errstate(divide="ignore", invalid="ignore"):
        uv = (vertices / z[:, None]) @ k.T
    fragments = _rasterise(uv[:, :2], z, tris, (height, width), near_m)
    light = np.asarray(light_dir_cam, dtype=np.float64)
    intensity = _intensity(
        vertices, tris, fragments, light / np.linalg.norm(light), ambient, smooth
    )
    if face_colours is None:
        colours = intensity[:, None] * np.asarray(base_colour, dtype=np.float32)
    else:
        per_face = np.asarray(face_colours, dtype=np.float32).reshape(len(tris), 3)
        colours = intensity[:, None] * per_face[fragments.face]
    rgb = np.zeros((height * width, 3), dtype=np.uint8)
    rgb[fragments.pixel] = np.round(np.clip(colours, 0.0, 1.0) * 255.0).astype(np.uint8)
    depth = np.full(height * width, np.inf)
    depth[fragments.pixel] = fragments.depth
    face_index = np.full(height * width, -1, dtype=np.int64)
    face_index[fragments.pixel] = fragments.face
    return RenderedMesh(
        rgb=rgb.reshape(height, width, 3),
        mask=(face_index >= 0).reshape(height, width),
        depth=depth.reshape(height, width),
        face_index=face_index.reshape(height, width),
    )
