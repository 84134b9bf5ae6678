# Copyright 2026 The HGGT-ROS Authors
# SPDX-License-Identifier: Apache-2.0
"""OBJ and PLY mesh files: round trips through independent readers, bad input refused."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest

from hggt_core.io.mesh_files import save_obj, save_ply


def _read_obj(path: Path) -> tuple[np.ndarray, np.ndarray]:
    vertices, faces = [], []
    for line in path.read_text().splitlines():
        kind, *values = line.split() or [""]
        if kind == "v":
            vertices.append([float(v) for v in values])
        elif kind == "f":
            faces.append([int(v.split("/")[0]) - 1 for v in values])
    return np.array(vertices), np.array(faces)


def _read_ply(path: Path) -> tuple[np.ndarray, np.ndarray, np.ndarray | None]:
    data = path.read_bytes()
    header_end = data.index(b"end_header\n") + len(b"end_header\n")
    header = data[:header_end].decode("ascii").splitlines()
    assert header[:2] == ["ply", "format binary_little_endian 1.0"]
    counts = {
        line.split()[1]: int(line.split()[2]) for line in header if line.startswith("element")
    }
    colored = "property uchar red" in header
    fields = [("xyz", "<f4", (3,))] + ([("rgb", "u1", (3,))] if colored else [])
    vertex = np.frombuffer(data, dtype=fields, count=counts["vertex"], offset=header_end)
    face = np.frombuffer(
        data,
        dtype=[("n", "u1"), ("idx", "<i4", (3,))],
        count=counts["face"],
        offset=header_end + vertex.nbytes,
    )
    assert (face["n"] == 3).all() and header_end + vertex.nbytes + face.nbytes == len(data)
    return vertex["xyz"], face["idx"], vertex["rgb"] if colored else None


def _tetrahedron() -> tuple[np.ndarray, np.ndarray]:
    vertices = np.array([[0, 0, 0], [0.1, 0, 0], [0, 0.1, 0], [0, 0, 0.1]]) + 0.123456789
    faces = np.array([[0, 2, 1], [0, 1, 3], [0, 3, 2], [1, 2, 3]])
    return vertices, faces


def test_obj_round_trip(tmp_path: Path) -> None:
    vertices, faces = _tetrahedron()
    save_obj(tmp_path / "mesh.obj", vertices, faces)
    back_vertices, back_faces = _read_obj(tmp_path / "mesh.obj")
    np.testing.assert_allclose(back_vertices, vertices, rtol=1e-8)
    np.testing.assert_array_equal(back_faces, faces)
    assert "f 1 3 2" in (tmp_path / "mesh.obj").read_text()


def test_ply_round_trip_with_and_without_colours(tmp_path: Path) -> None:
    vertices, faces = _tetrahedron()
    save_ply(tmp_path / "plain.ply", vertices, faces)
    back_vertices, back_faces, colors = _read_ply(tmp_path / "plain.ply")
    np.testing.assert_allclose(back_vertices, vertices, rtol=1e-7)
    np.testing.assert_array_equal(back_faces, faces)
    assert colors is None
    rgb = np.array([[255, 0, 0], [0, 255, 0], [0, 0, 255], [9, 8, 7]], dtype=np.uint8)
    save_ply(tmp_path / "rgb.ply", vertices, faces, colors=rgb)
    np.testing.assert_array_equal(_read_ply(tmp_path / "rgb.ply")[2], rgb)
    save_ply(tmp_path / "one.ply", vertices, faces, colors=np.array([1, 2, 3], dtype=np.uint8))
    np.testing.assert_array_equal(_read_ply(tmp_path / "one.ply")[2], np.tile([1, 2, 3], (4, 1)))


def test_mesh_writers_reject_bad_input_and_keep_the_old_file(tmp_path: Path) -> None:
    vertices, faces = _tetrahedron()
    path = tmp_path / "mesh.ply"
    save_ply(path, vertices, faces)
    before = path.read_bytes()
    with pytest.raises(ValueError, match=r"face indices must lie in \[0, 4\)"):
        save_ply(path, vertices, faces + 1)
    with pytest.raises(ValueError, match="colors must be uint8"):
        save_ply(path, vertices, faces, colors=np.zeros((4, 3)))
    with pytest.raises(ValueError, match=r"vertices must be \[V, 3\]"):
        save_obj(tmp_path / "mesh.obj", vertices[:, :2], faces)
    with pytest.raises(ValueError, match="faces must be integer"):
        save_obj(tmp_path / "mesh.obj", vertices, faces.astype(float))
    assert path.read_bytes() == before
    assert sorted(os.listdir(tmp_path)) == ["mesh.ply"]
