# Copyright 2026 The HGGT-ROS Authors
# SPDX-License-Identifier: Apache-2.0
"""Training data: dataset readers, the synthetic multi-view writer, augmentation, batching."""
