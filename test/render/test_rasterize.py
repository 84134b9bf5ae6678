# Copyright 2026 The HGGT-ROS Authors
# SPDX-License-Identifier: Apache-2.0
"""Known answers of the numpy rasteriser: coverage, depth, occlusion, culling, silhouettes."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from hggt_core.render.rasterize import render_mesh, vertex_normals

FOCAL = 100.0
K_PLAIN = np.array([[FOCAL, 0.0, 0.0], [0.0, FOCAL, 0.0], [0.0, 0.0, 1.0]])


def _lift(uv: list[tuple[float, float]], depth: list[float]) -> np.ndarray:
    """Camera-frame points that project (with K_PLAIN) to ``uv`` at the given depths."""
    return np.array(
        [[u * z / FOCAL, v * z / FOCAL, z] for (u, v), z in zip(uv, depth, strict=True)]
    )


def test_single_triangle_covers_exactly_the_pixel_centres_inside() -> None:
    vertices = _lift([(1.0, 1.0), (9.0, 1.0), (1.0, 9.0)], [1.0, 1.0, 1.0])
    result = render_mesh(vertices, [[0, 1, 2]], K_PLAIN, (10, 12))
    rows, cols = np.mgrid[0:10, 0:12]
    # Centres (i + 0.5, j + 0.5) with u, v >= 1 and u + v <= 10 (the hypotenuse is inclusive).
    expected = (cols >= 1) & (rows >= 1) & (cols + rows <= 9)
    np.testing.assert_array_equal(result.mask, expected)
    assert result.mask.sum() == 36
    np.testing.assert_allclose(result.depth[expected], 1.0, rtol=0, atol=1e-12)
    assert np.all(np.isinf(result.depth[~expected]))
    assert np.all(result.face_index[expected] == 0)
    assert np.all(result.face_index[~expected] == -1)
    assert np.all(result.rgb[~expected] == 0)
    assert np.all(result.rgb[expected].max(axis=1) > 0)


def test_depth_is_exact_at_vertices_and_perspective_correct_inside() -> None:
    uv = [(2.5, 2.5), (40.5, 6.5), (8.5, 30.5)]
    depths = [0.5, 2.0, 1.2]
    vertices = _lift(uv, depths)
    result = render_mesh(vertices, [[0, 1, 2]], K_PLAIN, (40, 48))
    for (u, v), z in zip(uv, depths, strict=True):
        assert result.depth[int(v), int(u)] == pytest.approx(z, abs=1e-12)
    # Inside, the depth is where each pixel's ray meets the triangle's plane.
    normal = np.cross(vertices[1] - vertices[0], vertices[2] - vertices[0])
    rows, cols = np.nonzero(result.mask)
    rays = np.stack([(cols + 0.5) / FOCAL, (rows + 0.5) / FOCAL, np.ones(len(rows))], axis=1)
    expected = (normal @ vertices[0]) / (rays @ normal)
    np.testing.assert_allclose(result.depth[rows, cols], expected, rtol=1e-12)
    # A linear (non perspective-correct) interpolation would differ by far more than this.
    assert np.ptp(expected) > 1.0


@pytest.mark.parametrize("near_first", [True, False])
def test_nearer_triangle_occludes_whatever_the_face_order(near_first: bool) -> None:
    far = _lift([(0.0, 0.0), (30.0, 0.0), (0.0, 30.0)], [2.0, 2.0, 2.0])
    near = _lift([(2.0, 2.0), (14.0, 2.0), (2.0, 14.0)], [1.0, 1.0, 1.0])
    vertices = np.concatenate([near, far] if near_first else [far, near])
    faces = np.array([[0, 1, 2], [3, 4, 5]])
    near_face = 0 if near_first else 1
    colours = np.zeros((2, 3))
    colours[near_face] = (0.0, 0.0, 1.0)
    colours[1 - near_face] = (1.0, 0.0, 0.0)
    result = render_mesh(vertices, faces, K_PLAIN, (32, 32), face_colours=colours, ambient=1.0)
    inner = (slice(3, 7), slice(3, 7))
    assert np.all(result.face_index[inner] == near_face)
    np.testing.assert_allclose(result.depth[inner], 1.0)
    assert np.all(result.rgb[inner] == (0, 0, 255))
    assert result.face_index[20, 5] == 1 - near_face
    assert np.all(result.rgb[20, 5] == (255, 0, 0))


def test_triangles_behind_or_crossing_the_near_plane_are_culled() -> None:
    in_front = _lift([(1.0, 1.0), (9.0, 1.0), (1.0, 9.0)], [1.0, 1.0, 1.0])
    behind = in_front * np.array([1.0, 1.0, -1.0])
    crossing = in_front.copy()
    crossing[2, 2] = -0.5
    for vertices in (behind, crossing):
        assert not render_mesh(vertices, [[0, 1, 2]], K_PLAIN, (10, 10)).mask.any()
    near_plane = render_mesh(in_front * 1e-3, [[0, 1, 2]], K_PLAIN, (10, 10), near_m=0.01)
    assert not near_plane.mask.any()


def test_both_sides_render_alike() -> None:
    vertices = _lift([(2.0, 3.0), (28.0, 5.0), (6.0, 25.0)], [1.0, 1.5, 1.2])
    front = render_mesh(vertices, [[0, 1, 2]], K_PLAIN, (30, 30), smooth=False)
    back = render_mesh(vertices, [[0, 2, 1]], K_PLAIN, (30, 30), smooth=False)
    np.testing.assert_array_equal(front.mask, back.mask)
    np.testing.assert_array_equal(front.rgb, back.rgb)


def test_lambert_shading_follows_the_light() -> None:
    vertices = _lift([(0.0, 0.0), (20.0, 0.0), (0.0, 20.0)], [1.0, 1.0, 1.0])
    colour = (1.0, 1.0, 1.0)

    def brightness(light: tuple[float, float, float]) -> int:
        result = render_mesh(vertices, [[0, 1, 2]], K_PLAIN, (20, 20), colour, light, ambient=0.2)
        return int(result.rgb[3, 3, 0])

    assert brightness((0.0, 0.0, -1.0)) == 255  # head-on
    assert brightness((0.0, 1.0, 0.0)) == round(0.2 * 255)  # grazing: ambient only
    tilted = 0.2 + 0.8 * np.cos(np.deg2rad(60.0))
    assert brightness((0.0, np.sin(np.deg2rad(60.0)), -0.5)) == pytest.approx(255 * tilted, abs=1)


def _cube(side: float) -> tuple[np.ndarray, np.ndarray]:
    corners = np.array([[x, y, z] for x in (0, 1) for y in (0, 1) for z in (0, 1)], float)
    quads = [(0, 1, 3, 2), (4, 6, 7, 5), (0, 4, 5, 1), (2, 3, 7, 6), (0, 2, 6, 4), (1, 5, 7, 3)]
    faces = np.array([tri for a, b, c, d in quads for tri in ((a, b, c), (a, c, d))])
    return (corners - 0.5) * side, faces


def test_cube_silhouette_matches_the_projected_convex_hull() -> None:
    corners, faces = _cube(0.3)
    angle = np.deg2rad([25.0, 40.0, 10.0])
    rotation, _ = cv2.Rodrigues(angle)
    vertices = corners @ rotation.T + np.array([0.02, -0.03, 1.0])
    k = np.array([[300.0, 0.0, 128.0], [0.0, 300.0, 128.0], [0.0, 0.0, 1.0]])
    result = render_mesh(vertices, faces, k, (256, 256))
    uv = (vertices / vertices[:, 2:]) @ k.T
    hull = cv2.convexHull(uv[:, :2].astype(np.float32))
    area = cv2.contourArea(hull)
    assert area > 5000
    assert result.mask.sum() == pytest.approx(area, rel=0.01)
    depth = result.depth[result.mask]
    assert depth.min() >= vertices[:, 2].min() - 1e-9
    assert depth.max() <= vertices[:, 2].max() + 1e-9


def test_vertex_normals_of_a_flat_patch() -> None:
    vertices = np.array([[0.0, 0.0, 0.0], [1.0, 0.0, 0.0], [1.0, 1.0, 0.0], [0.0, 1.0, 0.0]])
    normals = vertex_normals(vertices, np.array([[0, 1, 2], [0, 2, 3]]))
    np.testing.assert_allclose(normals, np.tile([0.0, 0.0, 1.0], (4, 1)))
