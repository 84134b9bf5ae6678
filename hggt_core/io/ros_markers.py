# Copyright 2026 The HGGT-ROS Authors
# SPDX-License-Identifier: Apache-2.0
"""RViz markers of the node's ``/hand/markers`` topic, ROS-free: plain dataclasses and numpy.

:func:`hand_markers` draws one hand as ``visualization_msgs/Marker`` specs (mesh, joints,
bones, estimated camera frusta); the node and the rosbag2 sink turn them into messages. The
topic name is :data:`hggt_core.io.ros_schema.MARKERS_TOPIC`. Points are metres in the frame
the caller gives (the reference camera's optical frame); colours are RGBA in [0, 1].
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from hggt_core.base.hand_skeleton import NUM_JOINTS_WITH_TIPS, OPENPOSE_BONES
from hggt_core.geometry.numpy_transforms import invert_rigid
from hggt_core.pipeline.types import FloatArray, HandResult

# visualization_msgs/Marker type and action constants (the ones this project uses).
MARKER_LINE_STRIP = 4
MARKER_LINE_LIST = 5
MARKER_SPHERE_LIST = 7
MARKER_POINTS = 8
MARKER_TRIANGLE_LIST = 11
MARKER_ADD = 0
MARKER_DELETE = 2
MARKER_DELETEALL = 3

_Color = tuple[float, float, float, float]


@dataclass(frozen=True)
class MarkerSpec:
    """One ``visualization_msgs/Marker``; its pose is the identity (points are in the frame).

    Attributes:
        ns: namespace; (ns, id) identifies the marker in RViz, so a new one replaces it.
        id: id within the namespace.
        type: a ``MARKER_*`` type constant.
        frame_id: frame of the points.
        stamp_ns: header stamp (integer nanoseconds), the frameset's reference stamp.
        points: [N, 3] points (metres); triangles / segments are consecutive triples / pairs.
        color: RGBA in [0, 1], used for points without ``colors``.
        scale: marker scale (metres): sphere diameters for SPHERE_LIST, line width in x for
            LINE_LIST, (1, 1, 1) for TRIANGLE_LIST.
        lifetime_s: seconds before RViz removes it unless replaced (0: never).
        colors: [N, 4] per-point RGBA in [0, 1], or None for ``color`` everywhere.
        action: ``MARKER_ADD`` (add or modify).
    """

    ns: str
    id: int
    type: int
    frame_id: str
    stamp_ns: int
    points: FloatArray
    color: _Color
    scale: tuple[float, float, float]
    lifetime_s: float
    colors: FloatArray | None = None
    action: int = MARKER_ADD


@dataclass(frozen=True)
class MarkerStyle:
    """What :func:`hand_markers` draws and how.

    Attributes:
        right_color: mesh RGBA of right hands.
        left_color: mesh RGBA of left hands.
        camera_color: frustum RGBA.
        joint_diameter_m: joint sphere diameter.
        bone_width_m: bone line width.
        frustum_depth_m: distance of a frustum's far rectangle from the camera centre.
        frustum_line_width_m: frustum line width.
        lifetime_s: marker lifetime, so a hand that disappears vanishes (0: never).
        mesh: draw the mesh (TRIANGLE_LIST).
        skeleton: draw the joints (SPHERE_LIST) and bones (LINE_LIST), coloured per finger.
        cameras: draw a frustum per estimated camera (LINE_LIST).
    """

    right_color: _Color = (0.95, 0.6, 0.3, 0.85)
    left_color: _Color = (0.3, 0.6, 0.95, 0.85)
    camera_color: _Color = (0.9, 0.9, 0.2, 1.0)
    joint_diameter_m: float = 0.01
    bone_width_m: float = 0.004
    frustum_depth_m: float = 0.1
    frustum_line_width_m: float = 0.002
    lifetime_s: float = 0.5
    mesh: bool = True
    skeleton: bool = True
    cameras: bool = True


# Wrist, then thumb, index, middle, ring, pinky (the OpenPose finger order).
_FINGER_COLORS = np.array(
    [[1.0, 1.0, 1.0, 1.0], [0.9, 0.2, 0.2, 1.0], [0.9, 0.8, 0.1, 1.0],
     [0.2, 0.8, 0.2, 1.0], [0.1, 0.7, 0.9, 1.0], [0.7, 0.3, 0.9, 1.0]]
)  # fmt: skip
_JOINT_COLORS = _FINGER_COLORS[[0, *((j - 1) // 4 + 1 for j in range(1, NUM_JOINTS_WITH_TIPS))]]
_BONE_ENDS = np.array([(parent, child) for child, parent in OPENPOSE_BONES]).reshape(-1)


def hand_markers(
    result: HandResult,
    faces: npt.NDArray[np.integer],
    frame_id: str,
    style: MarkerStyle | None = None,
    image_sizes: Mapping[str, tuple[int, int]] | None = None,
) -> list[MarkerSpec]:
    """The ``/hand/markers`` content of one hand.

    Namespaces are ``<side>_mesh``, ``<side>_joints``, ``<side>_bones`` (id 0) and
    ``<side>_cameras`` (id = the camera's index in ``result.cameras``).

    Args:
        result: the hand, in the reference camera frame.
        faces: [F, 3] MANO triangles (vertex indices, counter-clockwise from outside).
        frame_id: the reference camera frame.
        style: what to draw; the :class:`MarkerStyle` defaults when None.
        image_sizes: view name -> (width, height) in pixels for the frusta; views not given
            are assumed to have the principal point at the image centre (size = 2 * (cx, cy)).

    Returns:
        Marker specs stamped with ``result.stamp_ns``.
    """
    style = MarkerStyle() if style is None else style
    side = result.side
    color = style.right_color if side == "right" else style.left_color

    def spec(
        ns: str,
        kind: int,
        points: FloatArray,
        scale: tuple[float, float, float],
        color: _Color = color,
        colors: FloatArray | None = None,
        index: int = 0,
    ) -> MarkerSpec:
        return MarkerSpec(
            f"{side}_{ns}", index, kind, frame_id, result.stamp_ns, points, color, scale,
            style.lifetime_s, colors,
        )  # fmt: skip

    markers: list[MarkerSpec] = []
    if style.mesh:
        triangles = np.asarray(result.vertices, dtype=np.float64)[np.asarray(faces).reshape(-1)]
        markers.append(spec("mesh", MARKER_TRIANGLE_LIST, triangles, (1.0, 1.0, 1.0)))
    if style.skeleton:
        joints = np.asarray(result.joints, dtype=np.float64)
        diameter = (style.joint_diameter_m,) * 3
        markers.append(spec("joints", MARKER_SPHERE_LIST, joints, diameter, colors=_JOINT_COLORS))
        bone_width = (style.bone_width_m, 0.0, 0.0)
        bone_colors = _JOINT_COLORS[_BONE_ENDS]
        bones = joints[_BONE_ENDS]
        markers.append(spec("bones", MARKER_LINE_LIST, bones, bone_width, colors=bone_colors))
    if style.cameras:
        sizes = {} if image_sizes is None else image_sizes
        line_width = (style.frustum_line_width_m, 0.0, 0.0)
        for index, camera in enumerate(result.cameras):
            size = sizes.get(camera.name)
            lines = frustum_lines(
                camera.intrinsics, camera.cam_from_ref, style.frustum_depth_m, size
            )
            markers.append(
                spec("cameras", MARKER_LINE_LIST, lines, line_width, style.camera_color,
                     index=index)
            )  # fmt: skip
    return markers


def frustum_lines(
    intrinsics: FloatArray,
    cam_from_ref: FloatArray,
    depth_m: float,
    image_size: tuple[int, int] | None = None,
) -> FloatArray:
    """LINE_LIST points of a camera frustum in the reference frame.

    Args:
        intrinsics: [3, 3] K in full-image pixels.
        cam_from_ref: [4, 4] rigid transform, reference frame -> camera.
        depth_m: z of the far rectangle in the camera frame.
        image_size: (width, height) in pixels; None: 2 * (cx, cy).

    Returns:
        [16, 3]: four segments from the camera centre to the image corners (u, v) = (0, 0),
        (W, 0), (W, H), (0, H) at depth ``depth_m``, then the four edges of that rectangle.
    """
    k = np.asarray(intrinsics, dtype=np.float64)
    width, height = (2.0 * k[0, 2], 2.0 * k[1, 2]) if image_size is None else image_size
    pixels = np.array(
        [[0.0, 0.0, 1.0], [width, 0.0, 1.0], [width, height, 1.0], [0.0, height, 1.0]]
    )
    corners_cam = np.linalg.solve(k, pixels.T).T * depth_m
    ref_from_cam = invert_rigid(cam_from_ref)
    corners = corners_cam @ ref_from_cam[:3, :3].T + ref_from_cam[:3, 3]
    apex = ref_from_cam[:3, 3]
    spokes = [point for corner in corners for point in (apex, corner)]
    rim = [point for i in range(4) for point in (corners[i], corners[(i + 1) % 4])]
    return np.array(spokes + rim)
