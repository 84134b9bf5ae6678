# Copyright 2026 The HGGT-ROS Authors
# SPDX-License-Identifier: Apache-2.0
"""MANO skeleton, the 21-joint OpenPose hand order and the fingertip vertex conventions.

MANO's kinematic tree has 16 joints: the wrist and three joints per finger, stored finger by
finger in the order index, middle, pinky, ring, thumb (joint 1 of each finger is the
metacarpophalangeal joint, 3 the distal one; for the thumb 1 is the carpometacarpal joint).
Fingertips are not MANO joints: they are mesh vertices, and which vertex counts as "the tip"
differs between datasets (see :class:`FingertipConvention`).

The 21-joint OpenPose order used by the rest of the project is built by appending the five tip
vertices as joints 16-20 (thumb, index, middle, ring, pinky) and then reindexing with
:data:`OPENPOSE_FROM_MANO`, which gives wrist, then thumb 1-3 + tip, index 1-3 + tip, middle,
ring, pinky.
"""

from __future__ import annotations

from enum import Enum

NUM_VERTICES = 778
"""Vertices of the MANO mesh."""
NUM_FACES = 1538
"""Triangles of the MANO mesh (the mesh is open at the wrist)."""
NUM_JOINTS = 16
"""Skeleton joints of MANO (wrist + 15 finger joints)."""
NUM_JOINTS_WITH_TIPS = 21
"""Skeleton joints plus the five fingertip vertices."""
NUM_BETAS = 10
"""Shape coefficients of the MANO shape space."""
NUM_POSE_PARAMS = 45
"""Axis-angle finger pose parameters (15 joints x 3)."""

MANO_JOINT_NAMES: tuple[str, ...] = (
    "wrist",
    "index1",
    "index2",
    "index3",
    "middle1",
    "middle2",
    "middle3",
    "pinky1",
    "pinky2",
    "pinky3",
    "ring1",
    "ring2",
    "ring3",
    "thumb1",
    "thumb2",
    "thumb3",
)
"""Names of the 16 MANO joints, in MANO order."""

MANO_PARENTS: tuple[int, ...] = (-1, 0, 1, 2, 0, 4, 5, 0, 7, 8, 0, 10, 11, 0, 13, 14)
"""Parent of each MANO joint (-1 for the wrist, the root)."""

FINGER_NAMES: tuple[str, ...] = ("thumb", "index", "middle", "ring", "pinky")
"""Finger order of the fingertip tuples and of the appended tip joints 16-20."""

OPENPOSE_FROM_MANO: tuple[int, ...] = (
    0, 13, 14, 15, 16, 1, 2, 3, 17, 4, 5, 6, 18, 10, 11, 12, 19, 7, 8, 9, 20,
)  # fmt: skip
"""Indices into [16 MANO joints, 5 tips] that give the 21-joint OpenPose order."""

OPENPOSE_JOINT_NAMES: tuple[str, ...] = (
    "wrist",
    *(f"{finger}{part}" for finger in FINGER_NAMES for part in ("1", "2", "3", "_tip")),
)
"""Names of the 21 joints in OpenPose order (wrist, thumb1..thumb_tip, ..., pinky_tip)."""

OPENPOSE_PARENTS: tuple[int, ...] = (
    -1,
    *(0 if joint % 4 == 1 else joint - 1 for joint in range(1, NUM_JOINTS_WITH_TIPS)),
)
"""Parent of each joint in the 21-joint OpenPose order (-1 for the wrist)."""

OPENPOSE_BONES: tuple[tuple[int, int], ...] = tuple(
    (child, parent) for child, parent in enumerate(OPENPOSE_PARENTS) if parent >= 0
)
"""(child, parent) index pairs of the 20 bones of the 21-joint skeleton, for drawing."""


class FingertipConvention(str, Enum):
    """Which mesh vertex is taken as each fingertip.

    Each convention lists vertex ids in the order (thumb, index, middle, ring, pinky):

    - ``FREIHAND`` (the default): 744, 320, 443, 555, 672. Used by the FreiHAND and POEM
      datasets and evaluation, hence by the HGGT paper's ground truth.
    - ``SMPLX``: 744, 320, 443, 554, 671. The ids of ``smplx.vertex_ids['mano']``, used by
      smplx-based projects such as HaMeR.
    - ``MANOPTH``: 745, 317, 445, 556, 673. The ids hard-coded in manopth, which the released
      HGGT inference code uses for its predicted joints.
    """

    FREIHAND = "freihand"
    SMPLX = "smplx"
    MANOPTH = "manopth"


_FINGERTIP_VERTEX_IDS: dict[FingertipConvention, tuple[int, int, int, int, int]] = {
    FingertipConvention.FREIHAND: (744, 320, 443, 555, 672),
    FingertipConvention.SMPLX: (744, 320, 443, 554, 671),
    FingertipConvention.MANOPTH: (745, 317, 445, 556, 673),
}


def fingertip_vertex_ids(
    convention: FingertipConvention | str = FingertipConvention.FREIHAND,
) -> tuple[int, int, int, int, int]:
    """Return the fingertip vertex ids of a convention.

    Args:
        convention: a :class:`FingertipConvention` or its string value
            ("freihand", "smplx", "manopth").

    Returns:
        Vertex ids in the order (thumb, index, middle, ring, pinky).

    Raises:
        ValueError: if ``convention`` is not a known convention.
    """
    try:
        key = FingertipConvention(convention)
    except ValueError:
        known = ", ".join(repr(c.value) for c in FingertipConvention)
        raise ValueError(
            f"unknown fingertip convention {convention!r}; use one of {known}"
        ) from None
    return _FINGERTIP_VERTEX_IDS[key]
