# Copyright 2026 The HGGT-ROS Authors
# SPDX-License-Identifier: Apache-2.0
"""Landmark engine: MediaPipe landmarks per view -> cameras from the hand -> fused joints -> MANO.

Import the submodules directly, e.g. ``from hggt_core.landmarks.landmarker import
HandLandmarker``; MediaPipe itself is imported only when a landmarker is built.
``detector`` is the same landmarker used as HGGT's hand detector (the ``mediapipe``
localiser).
"""
