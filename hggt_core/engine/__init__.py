# Copyright 2026 The HGGT-ROS Authors
# SPDX-License-Identifier: Apache-2.0
"""Inference engines (PyTorch, ONNX Runtime, TensorRT) behind one interface."""

from hggt_core.engine.base import Engine, RawPrediction

__all__ = ["Engine", "RawPrediction"]
