# Copyright 2026 The HGGT-ROS Authors
# SPDX-License-Identifier: Apache-2.0
"""A minimal TF buffer, ROS-free: static transforms and the latest dynamic one of each frame.

tf2_ros cannot be installed where the tests run, and the calibration only needs the present
pose of each camera in the world, so this buffer keeps no history. It follows tf2's rules for
a tree: every frame has at most one parent, and a transform for a child replaces its edge
(also with a new parent, which is how a frame moves to another part of the tree); static
(``/tf_static``) and dynamic (``/tf``) transforms share one tree and a later one of either
kind replaces an earlier one. An edge that would close a loop is refused.

Frame ids are stored without a leading ``/`` (``"/base_link"`` and ``"base_link"`` name one
frame, as REP 105 and tf2 expect ids without it). Transforms are [4, 4] rigid matrices in
metres, named ``parent_from_child`` (``p_parent = T p_child``).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from hggt_core.calibration.rig import CalibrationError, FloatArray
from hggt_core.geometry.numpy_transforms import invert_rigid

RIGID_TOLERANCE = 1e-6
"""Largest deviation of ``R^T R`` from the identity (and of the bottom row) accepted."""


class TransformTreeError(CalibrationError):
    """A lookup the tree cannot answer, or a transform it refuses; one line naming the frames."""


@dataclass(frozen=True)
class _Edge:
    """One frame's link to its parent."""

    parent: str
    parent_from_child: FloatArray
    static: bool


class TransformTree:
    """Static transforms plus the latest dynamic transform of each child.

    tf2's rules for a child with one parent: a new parent replaces the old edge.

    Example:
        >>> tree = TransformTree()
        >>> tree.set_transform("base_link", "cam0_optical", np.eye(4), static=True)
        >>> tree.lookup("base_link", "cam0_optical").shape
        (4, 4)
    """

    def __init__(self) -> None:
        self._edges: dict[str, _Edge] = {}
        self._frames: set[str] = set()

    def set_transform(
        self, parent: str, child: str, parent_from_child: FloatArray, static: bool
    ) -> None:
        """Add or replace the edge ``parent -> child``.

        Args:
            parent: parent frame id (a leading ``/`` is dropped).
            child: child frame id (a leading ``/`` is dropped).
            parent_from_child: [4, 4] rigid transform, child frame -> parent frame, metres.
            static: whether it came from ``/tf_static`` (kept until replaced, like a dynamic
                one: this buffer holds no history).

        Raises:
            TransformTreeError: an empty frame id, ``parent == child``, a matrix that is not
                a finite 4x4 rigid transform, or an edge that would close a loop.
        """
        parent_id, child_id = _frame_id(parent), _frame_id(child)
        if parent_id == child_id:
            raise TransformTreeError(f"frame '{child_id}' cannot be its own parent")
        transform = _checked_rigid(parent_from_child, parent_id, child_id)
        if child_id in self._path_to_root(parent_id):
            raise TransformTreeError(
                f"transform '{parent_id}' -> '{child_id}' would close a loop: "
                f"'{parent_id}' already hangs from '{child_id}'"
            )
        self._edges[child_id] = _Edge(parent_id, transform, bool(static))
        self._frames.update((parent_id, child_id))

    def lookup(self, target: str, source: str) -> FloatArray:
        """The transform taking points in ``source`` to ``target``.

        Args:
            target: frame the result maps into.
            source: frame the result maps from.

        Returns:
            [4, 4] ``target_from_source`` (metres).

        Raises:
            TransformTreeError: an unknown frame (named), or two frames in different trees:
                ``frames 'a' and 'b' are not connected: 'a' hangs from 'root_a', 'b' from
                'root_b'``.
        """
        target_id, source_id = self._known(target), self._known(source)
        target_path = self._path_to_root(target_id)
        source_path = self._path_to_root(source_id)
        if target_path[-1] != source_path[-1]:
            raise TransformTreeError(
                f"frames '{target_id}' and '{source_id}' are not connected: '{target_id}' "
                f"hangs from '{target_path[-1]}', '{source_id}' from '{source_path[-1]}'"
            )
        # Climb from each frame to their closest common ancestor only.
        on_target_path = set(target_path)
        common = next(frame for frame in source_path if frame in on_target_path)
        ancestor_from_source = self._ancestor_from(source_path, common)
        ancestor_from_target = self._ancestor_from(target_path, common)
        return invert_rigid(ancestor_from_target) @ ancestor_from_source

    def can_transform(self, target: str, source: str) -> bool:
        """Whether :meth:`lookup` would answer (both frames known and connected)."""
        target_id, source_id = _frame_id_or_none(target), _frame_id_or_none(source)
        if target_id not in self._frames or source_id not in self._frames:
            return False
        return self._path_to_root(target_id)[-1] == self._path_to_root(source_id)[-1]

    def is_static(self, child: str) -> bool:
        """Whether ``child``'s edge to its parent came from a static transform.

        Raises:
            TransformTreeError: ``child`` is unknown or a root (it has no parent edge).
        """
        child_id = self._known(child)
        if child_id not in self._edges:
            raise TransformTreeError(f"frame '{child_id}' is a root: it has no parent")
        return self._edges[child_id].static

    @property
    def frames(self) -> frozenset[str]:
        """Every frame id the tree knows (parents and children)."""
        return frozenset(self._frames)

    def _known(self, frame: str) -> str:
        frame_id = _frame_id(frame)
        if frame_id not in self._frames:
            known = sorted(self._frames)
            shown = ", ".join(known[:8]) + (", ..." if len(known) > 8 else "")
            raise TransformTreeError(f"unknown frame '{frame_id}' (known: {shown or 'none'})")
        return frame_id

    def _path_to_root(self, frame: str) -> list[str]:
        """[frame, its parent, ..., its root]."""
        path = [frame]
        while path[-1] in self._edges:
            path.append(self._edges[path[-1]].parent)
        return path

    def _ancestor_from(self, path: list[str], ancestor: str) -> FloatArray:
        """[4, 4] ``ancestor_from_frame`` along ``path`` (frame first)."""
        transform = np.eye(4)
        for frame in path[: path.index(ancestor)]:
            transform = self._edges[frame].parent_from_child @ transform
        return transform


def _frame_id(frame: str) -> str:
    frame_id = frame.lstrip("/")
    if not frame_id:
        raise TransformTreeError(f"frame id {frame!r} is empty")
    return frame_id


def _frame_id_or_none(frame: str) -> str | None:
    return frame.lstrip("/") or None


def _checked_rigid(matrix: FloatArray, parent: str, child: str) -> FloatArray:
    """``matrix`` as a float64 [4, 4] copy, or an error naming the edge."""
    transform = np.array(matrix, dtype=np.float64)
    where = f"transform '{parent}' -> '{child}'"
    if transform.shape != (4, 4):
        raise TransformTreeError(f"{where} must be 4x4, got shape {transform.shape}")
    if not np.isfinite(transform).all():
        raise TransformTreeError(f"{where} has non-finite values")
    rotation = transform[:3, :3]
    orthonormal = np.abs(rotation.T @ rotation - np.eye(3)).max() <= RIGID_TOLERANCE
    bottom = np.abs(transform[3] - [0.0, 0.0, 0.0, 1.0]).max() <= RIGID_TOLERANCE
    if not (orthonormal and bottom and np.linalg.det(rotation) > 0):
        raise TransformTreeError(f"{where} is not a rigid transform [R | t; 0 0 0 1]")
    transform[3] = [0.0, 0.0, 0.0, 1.0]
    return transform
