# Copyright 2026 The HGGT-ROS Authors
# SPDX-License-Identifier: Apache-2.0
"""The HGGT network's inference engines (PyTorch, ONNX Runtime, TensorRT) behind one interface.

``base``: the :class:`Engine` interface; ``*_engine``: the backends; ``export`` and
``tensorrt_build``: ONNX export and TensorRT engine builds; ``registry``: the engines by name.
"""

from hggt_core.engine.base import Engine, RawPrediction

__all__ = ["Engine", "RawPrediction"]
