# Copyright 2026 The HGGT-ROS Authors
# SPDX-License-Identifier: Apache-2.0
"""The ``hggt`` command: inference, demo, export and engines, bench, training (``--help``)."""

from hggt_core.cli.main import main

__all__ = ["main"]
