# Copyright 2026 The HGGT-ROS Authors
# SPDX-License-Identifier: Apache-2.0
"""Inference pipeline: multi-view synchronisation, hand localisation, crops, prediction.

Sources (ROS topics, rosbag2 files, image folders) feed framesets through these modules to
the predictor, so the node and the CLI run the same code. Import the submodules directly,
e.g. ``from hggt_core.pipeline.sync import MultiViewSynchroniser``.
"""
