# Copyright 2026 The HGGT-ROS Authors
# SPDX-License-Identifier: Apache-2.0
"""Grasp retargeting: a reconstructed hand -> joint targets of a robot hand or gripper.

ROS-free (the ``hggt_retarget`` node and ``hggt retarget`` wrap it):

* :mod:`~hggt_core.retarget.hand_frame`: 21 joints -> the wrist frame dex-retargeting uses
  -> the robot's palm frame; mirroring of a hand of the other side.
* :mod:`~hggt_core.retarget.robot_model`, :mod:`~hggt_core.retarget.robot_config`: the robot's
  URDF (also found inside installed Python packages) and the retargeting config file.
* :mod:`~hggt_core.retarget.dexterous`: dex-retargeting (vector, position, DexPilot) with
  warm start, scaling and a low-pass filter; :mod:`~hggt_core.retarget.gripper`: pinch
  distance -> parallel gripper opening.
* :mod:`~hggt_core.retarget.stream`: a hand side over time (lost hands: hold or open);
  :mod:`~hggt_core.retarget.trajectory`: offline inputs and outputs.
"""
