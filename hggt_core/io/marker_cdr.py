# Copyright 2026 The HGGT-ROS Authors
# SPDX-License-Identifier: Apache-2.0
"""``/hand/markers`` as serialised bytes: a ROS 2 Jazzy ``visualization_msgs/msg/MarkerArray``.

The mesh marker holds 4.6k points; building them as message objects and letting rclpy or
rosbags convert them one by one costs ~8 ms per frameset. Here the point and colour arrays are
copied into the CDR buffer as whole numpy blocks, so a frameset's markers take well under a
millisecond. rclpy publishers take the bytes as they are (``publish(bytes)``) and the rosbag2
sink writes them unchanged; the tests read them back with rclpy's and rosbags' own
deserialisers.

Encoding: OMG CDR (XCDR1), little endian, with the 4-byte encapsulation header ROS 2 uses;
primitives aligned to their size (at most 8) from the end of that header; strings as a
uint32 length counting a terminating NUL, then the bytes and the NUL; sequences as a uint32
count, then the elements. The fields a hand marker does not use (texture, UV coordinates,
text, mesh resource and file) are written empty.
"""

from __future__ import annotations

import struct
from collections.abc import Sequence

import numpy as np

from hggt_core.io.ros_markers import MarkerSpec
from hggt_core.pipeline.types import NS_PER_S, seconds_to_ns

_ENCAPSULATION = b"\x00\x01\x00\x00"
"""CDR_LE representation identifier and options."""
_IDENTITY_POSE = (0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 1.0)
"""Position, then the orientation quaternion (x, y, z, w)."""


class _CdrBuffer:
    """Appends aligned little-endian values after the encapsulation header."""

    def __init__(self) -> None:
        self.data = bytearray(_ENCAPSULATION)

    def _align(self, size: int) -> None:
        self.data += bytes(-(len(self.data) - len(_ENCAPSULATION)) % size)

    def pack(self, fmt: str, alignment: int, *values: object) -> None:
        """``values`` packed with struct format ``fmt`` after aligning to ``alignment``."""
        self._align(alignment)
        self.data += struct.pack("<" + fmt, *values)

    def string(self, text: str) -> None:
        encoded = text.encode("utf-8")
        self.pack("I", 4, len(encoded) + 1)
        self.data += encoded + b"\x00"

    def block(self, values: np.ndarray, dtype: str) -> None:
        """A sequence of fixed-size structs of one primitive type, as one contiguous block.

        The count is written first; an empty sequence adds no alignment padding (the padding
        belongs to its first element).
        """
        self.pack("I", 4, len(values))
        if len(values):
            self._align(np.dtype(dtype).itemsize)
            self.data += np.ascontiguousarray(values, dtype=dtype).tobytes()

    def stamp(self, sec: int, nanosec: int) -> None:
        """A ``builtin_interfaces/Time`` or ``Duration``."""
        self.pack("iI", 4, sec, nanosec)


def _marker(buffer: _CdrBuffer, spec: MarkerSpec) -> None:
    buffer.stamp(*divmod(spec.stamp_ns, NS_PER_S))
    buffer.string(spec.frame_id)
    buffer.string(spec.ns)
    buffer.pack("iii", 4, spec.id, spec.type, spec.action)
    buffer.pack("7d", 8, *_IDENTITY_POSE)
    buffer.pack("3d", 8, *spec.scale)
    buffer.pack("4f", 4, *spec.color)
    buffer.stamp(*divmod(seconds_to_ns(spec.lifetime_s), NS_PER_S))
    buffer.pack("?", 1, False)  # frame_locked
    buffer.block(np.asarray(spec.points).reshape(-1, 3), "<f8")
    colors = np.zeros((0, 4)) if spec.colors is None else np.asarray(spec.colors)
    buffer.block(colors.reshape(-1, 4), "<f4")
    buffer.string("")  # texture_resource
    buffer.stamp(0, 0)  # texture: sensor_msgs/CompressedImage (header, format, data)
    buffer.string("")
    buffer.string("")
    buffer.pack("I", 4, 0)
    buffer.pack("I", 4, 0)  # uv_coordinates
    buffer.string("")  # text
    buffer.string("")  # mesh_resource
    buffer.string("")  # mesh_file: visualization_msgs/MeshFile (filename, data)
    buffer.pack("I", 4, 0)
    buffer.pack("?", 1, False)  # mesh_use_embedded_materials


def marker_array_cdr(specs: Sequence[MarkerSpec]) -> bytes:
    """The serialised ``visualization_msgs/msg/MarkerArray`` of ``specs``.

    Args:
        specs: the markers, in order; each header is stamped with its spec's exact
            ``stamp_ns`` (the frameset's reference stamp).
    """
    buffer = _CdrBuffer()
    buffer.pack("I", 4, len(specs))
    for spec in specs:
        _marker(buffer, spec)
    return bytes(buffer.data)
