# Copyright 2026 The HGGT-ROS Authors
# SPDX-License-Identifier: Apache-2.0
"""Triangle meshes as files: ASCII Wavefront OBJ and binary PLY, each written atomically.

Writers go through :func:`hggt_core.base.atomic.atomic_write` (a complete temporary file is
renamed over the destination), like the result sinks of :mod:`hggt_core.io.exports`.
"""

from __future__ import annotations

import os

import numpy as np
import numpy.typing as npt

from hggt_core.base.atomic import atomic_write
from hggt_core.pipeline.types import FloatArray


def save_obj(path: str | os.PathLike[str], vertices: npt.ArrayLike, faces: npt.ArrayLike) -> None:
    """Write a triangle mesh as ASCII Wavefront OBJ (``v`` and 1-based ``f`` lines).

    Args:
        path: destination file.
        vertices: [V, 3] positions (metres for hand meshes).
        faces: [F, 3] 0-based vertex indices, counter-clockwise seen from outside.

    Raises:
        ValueError: wrong shapes or face indices outside [0, V).
    """
    points, triangles = _check_mesh(vertices, faces)
    lines = ["# hggt_ros mesh: vertices in metres"]
    lines += [f"v {x:.9g} {y:.9g} {z:.9g}" for x, y, z in points.tolist()]
    lines += [f"f {a} {b} {c}" for a, b, c in (triangles + 1).tolist()]
    with atomic_write(path) as stream:
        stream.write(("\n".join(lines) + "\n").encode("ascii"))


def save_ply(
    path: str | os.PathLike[str],
    vertices: npt.ArrayLike,
    faces: npt.ArrayLike,
    colors: npt.ArrayLike | None = None,
) -> None:
    """Write a triangle mesh as binary little-endian PLY.

    Vertices are stored as float32 ``x y z`` (plus ``uchar red green blue`` with colours),
    faces as ``list uchar int vertex_indices``.

    Args:
        path: destination file.
        vertices: [V, 3] positions.
        faces: [F, 3] 0-based vertex indices.
        colors: [V, 3] or [3] (one colour for all) uint8 RGB, or None.

    Raises:
        ValueError: wrong shapes, face indices outside [0, V) or non-uint8 colours.
    """
    points, triangles = _check_mesh(vertices, faces)
    fields = [("x", "<f4"), ("y", "<f4"), ("z", "<f4")]
    header = ["ply", "format binary_little_endian 1.0", f"element vertex {len(points)}"]
    header += [f"property float {axis}" for axis in "xyz"]
    rgb = None
    if colors is not None:
        rgb = np.asarray(colors)
        if rgb.dtype != np.uint8 or rgb.shape not in ((3,), (len(points), 3)):
            raise ValueError(f"colors must be uint8 [V, 3] or [3], got {rgb.dtype} {rgb.shape}")
        fields += [("red", "u1"), ("green", "u1"), ("blue", "u1")]
        header += [f"property uchar {channel}" for channel in ("red", "green", "blue")]
    header += [f"element face {len(triangles)}", "property list uchar int vertex_indices"]
    header += ["end_header"]
    vertex_records = np.empty(len(points), dtype=fields)
    for axis, column in zip("xyz", points.T, strict=True):
        vertex_records[axis] = column
    if rgb is not None:
        for index, channel in enumerate(("red", "green", "blue")):
            vertex_records[channel] = np.broadcast_to(rgb, (len(points), 3))[:, index]
    face_records = np.empty(len(triangles), dtype=[("count", "u1"), ("indices", "<i4", (3,))])
    face_records["count"] = 3
    face_records["indices"] = triangles
    with atomic_write(path) as stream:
        stream.write(("\n".join(header) + "\n").encode("ascii"))
        stream.write(vertex_records.tobytes())
        stream.write(face_records.tobytes())


def _check_mesh(
    vertices: npt.ArrayLike, faces: npt.ArrayLike
) -> tuple[FloatArray, npt.NDArray[np.int64]]:
    points = np.asarray(vertices, dtype=np.float64)
    triangles = np.asarray(faces)
    if points.ndim != 2 or points.shape[1] != 3:
        raise ValueError(f"vertices must be [V, 3], got {points.shape}")
    if triangles.ndim != 2 or triangles.shape[1] != 3 or triangles.dtype.kind not in "iu":
        raise ValueError(f"faces must be integer [F, 3], got {triangles.dtype} {triangles.shape}")
    if triangles.size and (triangles.min() < 0 or triangles.max() >= len(points)):
        raise ValueError(f"face indices must lie in [0, {len(points)})")
    return points, triangles.astype(np.int64)
