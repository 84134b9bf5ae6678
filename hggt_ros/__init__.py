# Copyright 2026 The HGGT-ROS Authors
# SPDX-License-Identifier: Apache-2.0
"""Thin rclpy adapter around :mod:`hggt_core` (parameters, message conversions, publishing)."""
