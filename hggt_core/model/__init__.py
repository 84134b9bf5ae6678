# Copyright 2026 The HGGT-ROS Authors
# SPDX-License-Identifier: Apache-2.0
"""The HGGT network and its checkpoint loaders."""

from hggt_core.model.hggt import HGGT, HGGTConfig, HGGTOutput
from hggt_core.model.mano_head import HandParams

__all__ = ["HGGT", "HGGTConfig", "HGGTOutput", "HandParams"]
