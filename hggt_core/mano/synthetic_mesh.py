# Copyright 2026 The HGGT-ROS Authors
# SPDX-License-Identifier: Apache-2.0
"""Tessellation of the procedural right hand used by :mod:`hggt_core.mano.synthetic`.

The surface is one connected triangle mesh that is closed except for a 16-vertex opening at the
wrist, like the real MANO mesh. For such a surface Euler's formula gives F = 2 V - 2 - 16, so
778 vertices yield exactly 1538 faces. Construction (all counts are fixed by design):

- palm: a tube of 9 rings of 38 vertices (19 dorsal + 19 palmar "columns", radial to ulnar),
  joined to the 16-vertex wrist ring by a zipper strip; 9 * 38 + 16 = 358 vertices;
- thumb socket: a 2 x 2 block of palm quads on the radial side (palm rings 2-4, from palmar
  column 1 round the edge to dorsal column 0) is removed (its one inner vertex is dropped,
  357 left); the block's 8-vertex boundary is the thumb's base loop;
- finger bases: the last palm ring is the four finger base loops (4 columns dorsal + the same
  4 palmar = 8 vertices each) separated by 3 "web" columns whose hexagons are filled with
  4 triangles each;
- fingers: tubes of 8-vertex rings (thumb, index, middle, ring, pinky: 10, 10, 12, 11, 9
  rings, the last two forming a rounded cap) closed by a pole vertex at the tip;
  8 * 52 + 5 = 421 vertices. 357 + 421 = 778.

Vertex ids are then permuted so that the fingertip ids of all conventions in
:mod:`hggt_core.base.hand_skeleton` land on tip vertices: the FreiHAND ids
(744, 320, 443, 555, 672) are the poles, the other ids are vertices of the last cap ring
(under 1 mm behind the pole); all other vertices keep their construction order. Geometry is
built in a hand frame in millimetres (u distal, v towards the thumb, w dorsal) and mapped to
MANO's frame in metres: u -> -x, v -> +z, w -> +y, wrist joint at (0.09, 0.005, 0.005) as in
the real model.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from hggt_core.base.hand_skeleton import NUM_FACES, NUM_JOINTS, NUM_VERTICES, fingertip_vertex_ids

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]

# Fingers in MANO joint order; joint ids of finger f are 1 + 3 f, 2 + 3 f, 3 + 3 f.
FINGERS_MANO_ORDER = ("index", "middle", "pinky", "ring", "thumb")
_RING = 8
_PALM_RINGS = 9
_PALM_COLUMNS = 19
_WRIST_RING = 16
# Per finger (MANO order): MCP/CMC position (u, v, w) mm, direction (u, v, w), segment lengths
# (joint1->2, 2->3, 3->tip) mm, base and tip radius mm, ring count.
_FINGER_SPECS = {
    "index": ((86.0, 25.0, 2.0), (1.0, 0.10, 0.0), (39.0, 23.0, 20.0), 8.5, 6.5, 10),
    "middle": ((89.0, 4.0, 3.0), (1.0, 0.0, 0.0), (44.0, 27.0, 22.0), 9.0, 6.8, 12),
    "pinky": ((70.0, -32.0, 0.0), (1.0, -0.22, 0.0), (32.0, 20.0, 19.0), 7.5, 5.8, 9),
    "ring": ((82.0, -15.0, 2.0), (1.0, -0.10, 0.0), (41.0, 26.0, 22.0), 8.5, 6.5, 11),
    "thumb": ((22.0, 20.0, -2.0), (0.7, 0.6, -0.38), (34.0, 30.0, 27.0), 10.5, 7.5, 10),
}
_KNUCKLE_ORDER = ("index", "middle", "ring", "pinky")  # radial to ulnar palm columns
_WRIST_MODEL = np.array([0.09, 0.005, 0.005])
# Columns: the hand axes u, v, w expressed in the model frame (a proper rotation).
_HAND_TO_MODEL = np.array([[-1.0, 0.0, 0.0], [0.0, 0.0, 1.0], [0.0, 1.0, 0.0]]).T


@dataclass(frozen=True, eq=False)
class HandMesh:
    """Procedural right hand in MANO's model frame (metres).

    Attributes:
        vertices: [778, 3] vertex positions.
        faces: [1538, 3] triangles, counter-clockwise seen from outside.
        joints: [16, 3] skeleton joints in MANO order.
        finger: [778] finger of each vertex (index into FINGERS_MANO_ORDER), -1 for the palm.
        palm_column: [778] palm column 0..18 (radial to ulnar) of palm vertices, -1 otherwise.
        socket_center: [3] centre of the thumb socket on the palm surface.
        directions: [5, 3] unit axis of each finger (MANO order).
    """

    vertices: FloatArray
    faces: IntArray
    joints: FloatArray
    finger: IntArray
    palm_column: IntArray
    socket_center: FloatArray
    directions: FloatArray


class _Builder:
    """Accumulates vertices (hand frame, mm) with their labels, and faces."""

    def __init__(self) -> None:
        self.points: list[FloatArray] = []
        self.finger: list[int] = []
        self.column: list[int] = []
        self.faces: list[tuple[int, int, int]] = []

    def add(self, point: FloatArray, finger: int = -1, column: int = -1) -> int:
        self.points.append(np.asarray(point, dtype=np.float64))
        self.finger.append(finger)
        self.column.append(column)
        return len(self.points) - 1

    def strip(self, lower: list[int], upper: list[int]) -> None:
        """Quads between two loops of equal size, both counter-clockwise about the tube axis."""
        count = len(lower)
        for i in range(count):
            j = (i + 1) % count
            self.faces.append((lower[i], lower[j], upper[j]))
            self.faces.append((lower[i], upper[j], upper[i]))

    def zipper(self, lower: list[int], upper: list[int], axis: FloatArray) -> None:
        """Triangles between two loops of different sizes, advancing by angle about ``axis``."""
        centre_lo = np.mean([self.points[i] for i in lower], axis=0)
        centre_up = np.mean([self.points[i] for i in upper], axis=0)
        side = np.cross(axis, [0.0, 0.0, 1.0])
        up = np.cross(axis, side)

        def angles(loop: list[int], centre: FloatArray) -> FloatArray:
            rel = np.array([self.points[i] for i in loop]) - centre
            raw = np.arctan2(rel @ up, rel @ side)
            steps = np.cumsum(np.mod(np.diff(raw), 2 * np.pi))
            return np.asarray(raw[0] + np.concatenate([[0.0], steps]), dtype=np.float64)

        ang_lo, ang_up = angles(lower, centre_lo), angles(upper, centre_up)
        ang_up = ang_up - 2 * np.pi * np.round((ang_up[0] - ang_lo[0]) / (2 * np.pi))
        i = j = 0
        while i < len(lower) or j < len(upper):
            next_lo = ang_lo[i + 1] if i + 1 < len(ang_lo) else ang_lo[0] + 2 * np.pi
            next_up = ang_up[j + 1] if j + 1 < len(ang_up) else ang_up[0] + 2 * np.pi
            a, b = lower[i % len(lower)], upper[j % len(upper)]
            if j >= len(upper) or (i < len(lower) and next_lo <= next_up):
                self.faces.append((a, lower[(i + 1) % len(lower)], b))
                i += 1
            else:
                self.faces.append((a, upper[(j + 1) % len(upper)], b))
                j += 1

    def fan(self, loop: list[int], pole: int) -> None:
        for i in range(len(loop)):
            self.faces.append((loop[i], loop[(i + 1) % len(loop)], pole))


def _unit(vector: FloatArray) -> FloatArray:
    return np.asarray(vector, dtype=np.float64) / np.linalg.norm(vector)


def _finger_frame(direction: FloatArray) -> tuple[FloatArray, FloatArray]:
    """Lateral (towards the thumb side) and dorsal unit vectors perpendicular to a finger."""
    dorsal = _unit(np.array([0.0, 0.0, 1.0]) - direction * direction[2])
    lateral = np.cross(dorsal, direction)
    return lateral, dorsal


def _knuckle_loops() -> dict[str, FloatArray]:
    """Base loop points [8, 3] of the four fingers, counter-clockwise about their axes."""
    loops = {}
    angles = np.deg2rad(22.5 + 45.0 * np.arange(_RING))
    for name in _KNUCKLE_ORDER:
        base, direction, _, radius, _, _ = _FINGER_SPECS[name]
        lateral, dorsal = _finger_frame(_unit(np.array(direction)))
        offsets = np.cos(angles)[:, None] * lateral + np.sin(angles)[:, None] * dorsal
        loops[name] = np.array(base) + radius * offsets
    return loops


def _palm_ring_points() -> FloatArray:
    """[9, 38, 3] palm ring positions: dorsal columns 0..18 then palmar 18..0."""
    loops = _knuckle_loops()
    distal = np.zeros((2, _PALM_COLUMNS, 3))  # [dorsal/palmar, column]
    for k, name in enumerate(_KNUCKLE_ORDER):
        cols = slice(5 * k, 5 * k + 4)
        distal[0, cols] = loops[name][0:4]
        distal[1, cols] = loops[name][7:3:-1]
    for web in (4, 9, 14):
        distal[:, web] = 0.5 * (distal[:, web - 1] + distal[:, web + 1]) - [6.0, 0.0, 0.0]
    x = np.linspace(1.0, -1.0, _PALM_COLUMNS)
    profile = 0.45 + 0.55 * np.sqrt(1.0 - 0.95 * x**2)
    proximal = np.zeros_like(distal)
    proximal[:, :, 0] = 14.0
    proximal[:, :, 1] = -1.5 + 31.5 * x
    proximal[0, :, 2] = 12.0 * profile
    proximal[1, :, 2] = -14.0 * profile
    rings = np.zeros((_PALM_RINGS, 2 * _PALM_COLUMNS, 3))
    for r in range(_PALM_RINGS):
        t = r / (_PALM_RINGS - 1)
        blend = t * t * (3.0 - 2.0 * t)
        sides = (1.0 - blend) * proximal + blend * distal
        sides[..., 0] = (1.0 - t) * proximal[..., 0] + t * distal[..., 0]
        bulge = 3.0 * np.sin(np.pi * t) * profile
        sides[0, :, 2] += bulge
        sides[1, :, 2] -= bulge
        rings[r] = np.concatenate([sides[0], sides[1, ::-1]])
    return rings


def _palm_loop_column(position: int) -> int:
    return position if position < _PALM_COLUMNS else 2 * _PALM_COLUMNS - 1 - position


def _build_palm(builder: _Builder) -> tuple[list[list[int]], list[int]]:
    """Wrist ring, palm rings with the thumb socket, webs. Returns palm rings, socket loop."""
    angles = np.deg2rad(20.0) + 2 * np.pi * np.arange(_WRIST_RING) / _WRIST_RING
    wrist = [
        builder.add(np.array([-6.0, -2.0 + 27.0 * np.cos(a), 13.0 * np.sin(a)])) for a in angles
    ]
    points = _palm_ring_points()
    # Loop positions 36, 37, 0 are palmar column 1, palmar column 0, dorsal column 0.
    socket_rings, socket_positions = (1, 2, 3), (36, 37, 0)
    rings: list[list[int]] = []
    for r in range(_PALM_RINGS):
        ring = []
        for p in range(2 * _PALM_COLUMNS):
            if r == socket_rings[1] and p == socket_positions[1]:
                ring.append(-1)  # the socket's inner vertex is dropped
                continue
            ring.append(builder.add(points[r, p], column=_palm_loop_column(p)))
        rings.append(ring)
    builder.zipper(wrist, rings[0], np.array([1.0, 0.0, 0.0]))
    size = 2 * _PALM_COLUMNS
    for r in range(_PALM_RINGS - 1):
        for p in range(size):
            if r in socket_rings[:2] and p in socket_positions[:2]:
                continue
            q = (p + 1) % size
            lo, up = rings[r], rings[r + 1]
            builder.faces.append((lo[p], lo[q], up[q]))
            builder.faces.append((lo[p], up[q], up[p]))
    r1, r2, r3 = (rings[i] for i in socket_rings)
    socket = [r1[36], r1[37], r1[0], r2[0], r3[0], r3[37], r3[36], r2[36]]
    last = rings[-1]
    for web in (4, 9, 14):
        d1, dw, d2 = last[web - 1], last[web], last[web + 1]
        p1, pw, p2 = (last[size - 1 - c] for c in (web - 1, web, web + 1))
        builder.faces.extend([(d1, dw, pw), (d1, pw, p1), (dw, d2, p2), (dw, p2, pw)])
    return rings, socket


def _build_finger(builder: _Builder, index: int, base_loop: list[int]) -> None:
    """Tube of rings from a base loop to a pole at the fingertip."""
    base, direction_raw, lengths, r_base, r_tip, n_rings = _FINGER_SPECS[FINGERS_MANO_ORDER[index]]
    direction = _unit(np.array(direction_raw))
    lateral, dorsal = _finger_frame(direction)
    origin = np.array(base)
    base_pts = np.array([builder.points[i] for i in base_loop]) - origin
    base_angles = np.unwrap(np.arctan2(base_pts @ dorsal, base_pts @ lateral))
    if not np.all(np.diff(base_angles) > 0):
        raise RuntimeError(f"base loop of {FINGERS_MANO_ORDER[index]} is not counter-clockwise")
    regular = base_angles[0] + 2 * np.pi * np.arange(_RING) / _RING
    start = max(0.0, float(np.mean(base_pts @ direction)))
    length = float(sum(lengths))
    equator = length - r_tip
    n_straight = n_rings - 2
    stations = [
        (start + (equator - start) * (k + 1) / n_straight, 1.0) for k in range(n_straight)
    ] + [(equator + r_tip * np.cos(phi), np.sin(phi)) for phi in np.deg2rad([55.0, 25.0])]
    previous = base_loop
    for k, (s, shrink) in enumerate(stations):
        t = min(1.0, (k + 1) / 2.0)
        ring_angles = (1.0 - t) * base_angles + t * regular
        radius = shrink * (r_base + (r_tip - r_base) * min(1.0, s / equator))
        centre = origin + s * direction
        ring = [
            builder.add(centre + radius * (np.cos(a) * lateral + np.sin(a) * dorsal), finger=index)
            for a in ring_angles
        ]
        builder.strip(previous, ring)
        previous = ring
    pole = builder.add(origin + length * direction, finger=index)
    builder.fan(previous, pole)


def _tip_permutation(builder: _Builder) -> IntArray:
    """new_id -> construction id, placing the fingertip ids of every convention on tips."""
    finger = np.array(builder.finger)
    poles = {f: int(np.flatnonzero(finger == f)[-1]) for f in range(5)}
    conventions = ("freihand", "smplx", "manopth")
    tips_by_finger = zip(*(fingertip_vertex_ids(c) for c in conventions), strict=True)
    order = ("thumb", "index", "middle", "ring", "pinky")
    wanted: dict[int, int] = {}
    for name, ids in zip(order, tips_by_finger, strict=True):
        f = FINGERS_MANO_ORDER.index(name)
        cap_ring = [poles[f] - _RING + k for k in (6, 5, 7)]  # palmar side of the last ring
        extra = iter(cap_ring)
        for vertex_id in dict.fromkeys(ids):
            wanted[vertex_id] = poles[f] if vertex_id == ids[0] else next(extra)
    placed = set(wanted.values())
    rest = iter(i for i in range(NUM_VERTICES) if i not in placed)
    return np.array([wanted[i] if i in wanted else next(rest) for i in range(NUM_VERTICES)])


def build_right_hand_mesh() -> HandMesh:
    """Build the procedural right hand (deterministic).

    Returns:
        The mesh, its skeleton and per-vertex labels; see :class:`HandMesh`.
    """
    builder = _Builder()
    rings, socket = _build_palm(builder)
    last = rings[-1]
    size = 2 * _PALM_COLUMNS
    for k, name in enumerate(_KNUCKLE_ORDER):
        cols = range(5 * k, 5 * k + 4)
        loop = [last[c] for c in cols] + [last[size - 1 - c] for c in reversed(cols)]
        _build_finger(builder, FINGERS_MANO_ORDER.index(name), loop)
    _build_finger(builder, FINGERS_MANO_ORDER.index("thumb"), socket)
    if len(builder.points) != NUM_VERTICES or len(builder.faces) != NUM_FACES:
        raise RuntimeError(f"tessellation gave {len(builder.points)} / {len(builder.faces)}")

    new_to_old = _tip_permutation(builder)
    old_to_new = np.empty_like(new_to_old)
    old_to_new[new_to_old] = np.arange(NUM_VERTICES)
    points = np.array(builder.points)[new_to_old]
    joints = np.zeros((NUM_JOINTS, 3))
    directions = np.zeros((5, 3))
    for f, name in enumerate(FINGERS_MANO_ORDER):
        base, direction, lengths, *_ = _FINGER_SPECS[name]
        directions[f] = _unit(np.array(direction))
        offsets = np.cumsum([0.0, lengths[0], lengths[1]])
        joints[1 + 3 * f : 4 + 3 * f] = np.array(base) + offsets[:, None] * directions[f]
    socket_center = np.mean([builder.points[i] for i in socket], axis=0)
    return HandMesh(
        vertices=_to_model(points),
        faces=old_to_new[np.array(builder.faces)].astype(np.int64),
        joints=_to_model(joints),
        finger=np.array(builder.finger, dtype=np.int64)[new_to_old],
        palm_column=np.array(builder.column, dtype=np.int64)[new_to_old],
        socket_center=_to_model(socket_center[None])[0],
        directions=directions @ _HAND_TO_MODEL.T,
    )


def _to_model(points_mm: FloatArray) -> FloatArray:
    """Hand-frame millimetres [N, 3] -> MANO model-frame metres [N, 3]."""
    return np.asarray(_WRIST_MODEL + (points_mm @ _HAND_TO_MODEL.T) / 1000.0, dtype=np.float64)
