# Copyright 2026 The HGGT-ROS Authors
# SPDX-License-Identifier: Apache-2.0
"""The ground floor: helpers and vocabulary every other subpackage may use; imports none of them.

- ``atomic``: all-or-nothing file and folder replacement.
- ``safe_pickle``: an unpickler that loads only an allow-list of globals.
- ``closeable``: a base for objects holding resources, closed by ``with`` blocks.
- ``hand_skeleton``: MANO's 16-joint tree, the 21-joint OpenPose order, fingertip vertex ids
  and mesh sizes (geometry, MANO, I/O and rendering all speak it).
"""
