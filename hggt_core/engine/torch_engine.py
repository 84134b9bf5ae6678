# Copyright 2026 The HGGT-ROS Authors
# SPDX-License-Identifier: Apache-2.0
"""The PyTorch engine: float32 on CPU, reduced-precision weights and fused attention on CUDA.

Speed options, from cheapest to most involved:

- Only the last aggregator layer is kept (HGGT reads no other), so the 24 layer outputs of
  [B, S, P, 2C] are never stored together; the RoPE tables are cached per patch grid.
- On CUDA, bf16/fp16 *weights* instead of autocast (autocast keeps float32 copies of the token
  tensors and about doubles the activation memory).
- On CUDA, attention runs with the fused scaled-dot-product kernels chosen by
  :data:`CUDA_SDPA_BACKENDS` through :func:`torch.nn.attention.sdpa_kernel`: FlashAttention-2
  (fp16/bf16, head width <= 256: the aggregator's 64-wide heads) first, then the
  memory-efficient kernel (any dtype: the float32 heads' 128-wide heads), and the math
  fallback only for inputs neither accepts. Both fused kernels never materialise the
  [S P, S P] attention matrix of global attention.
- ``compile=True``: :func:`torch.compile` with static shapes, for a fixed view count (each new
  S recompiles, up to torch's recompile limit); on CUDA with the "reduce-overhead" mode, which
  replays the forward as a CUDA graph and removes the per-kernel launch cost.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Sequence

import numpy as np
import torch
from torch.nn.attention import SDPBackend, sdpa_kernel

from hggt_core.engine.base import Float32Array, RawPrediction
from hggt_core.model.checkpoint import cast_for_inference
from hggt_core.model.hggt import HGGT, HGGTOutput

_REDUCED_DTYPES = (torch.bfloat16, torch.float16)
CUDA_SDPA_BACKENDS = (
    SDPBackend.FLASH_ATTENTION,
    SDPBackend.EFFICIENT_ATTENTION,
    SDPBackend.MATH,
)
"""Attention kernels allowed on CUDA, in priority order (see the module docstring)."""


def _to_float32(tensor: torch.Tensor) -> Float32Array:
    return np.ascontiguousarray(tensor.detach().float().cpu().numpy(), dtype=np.float32)


class TorchEngine:
    """Runs an :class:`~hggt_core.model.hggt.HGGT` module (implements ``Engine``).

    The model is moved to ``device`` and put in eval mode (in place). With ``dtype`` bf16 or
    fp16 on CUDA, the backbone's *weights* are cast (the heads stay float32, as in the
    release) by :func:`~hggt_core.model.checkpoint.cast_for_inference`; no autocast is used.

    Args:
        model: the network, weights loaded.
        device: torch device string, e.g. "cpu" or "cuda:0".
        dtype: backbone weight dtype on CUDA (torch.bfloat16 or torch.float16), or None /
            torch.float32 for full precision. CPU runs float32 only.
        crop_size: square input side in pixels; defaults to ``model.config.img_size``. Must be
            a positive multiple of the patch size (14).
        compile: wrap the model in :func:`torch.compile` (static shapes; CUDA graphs on CUDA).
            The first call for each view count S compiles (seconds to minutes); off by default.
        sdpa_backends: attention kernels allowed, in priority order; None uses
            :data:`CUDA_SDPA_BACKENDS` on CUDA and torch's own choice elsewhere.

    Raises:
        ValueError: an unsupported dtype, reduced precision off CUDA, or a bad crop size.
    """

    name = "torch"

    def __init__(
        self,
        model: HGGT,
        device: str | torch.device = "cpu",
        dtype: torch.dtype | None = None,
        crop_size: int | None = None,
        compile: bool = False,
        sdpa_backends: Sequence[SDPBackend] | None = None,
    ) -> None:
        torch_device = torch.device(device)
        patch = model.config.patch_size
        size = model.config.img_size if crop_size is None else crop_size
        if size <= 0 or size % patch:
            raise ValueError(f"crop_size must be a positive multiple of {patch}, got {size}")
        if dtype not in (None, torch.float32, *_REDUCED_DTYPES):
            raise ValueError(f"unsupported dtype {dtype}; use bfloat16, float16 or float32")
        reduced = dtype in _REDUCED_DTYPES
        if reduced and torch_device.type != "cuda":
            raise ValueError(f"reduced precision ({dtype}) is for CUDA only; {device} runs fp32")
        self.device = str(torch_device)
        self.crop_size = size
        self.model = model.to(torch_device).float().eval()
        if reduced and dtype is not None:
            cast_for_inference(self.model, dtype)
        if sdpa_backends is None and torch_device.type == "cuda":
            sdpa_backends = CUDA_SDPA_BACKENDS
        self.sdpa_backends = None if sdpa_backends is None else tuple(sdpa_backends)
        self.compiled = compile
        self._forward: Callable[[torch.Tensor], HGGTOutput] = self.model
        if compile:
            mode = "reduce-overhead" if torch_device.type == "cuda" else None
            self._forward = torch.compile(self.model, dynamic=False, mode=mode)

    def run(self, crops: Float32Array) -> RawPrediction:
        """Predict from [S, 3, crop_size, crop_size] float32 RGB crops in [0, 1].

        Raises:
            ValueError: if the crops' shape or dtype is not the expected one.
        """
        expected = (3, self.crop_size, self.crop_size)
        if crops.ndim != 4 or crops.shape[1:] != expected or crops.dtype != np.float32:
            raise ValueError(
                f"expected [S, {', '.join(map(str, expected))}] float32 crops, "
                f"got {crops.shape} {crops.dtype}"
            )
        with torch.inference_mode(), self._attention_kernels():
            images = torch.from_numpy(np.ascontiguousarray(crops)).to(self.device)
            output = self._forward(images[None])
            return RawPrediction(
                hand_pose=_to_float32(output.hand_pose[0]),
                betas=_to_float32(output.betas[0]),
                transl=_to_float32(output.transl[0]),
                pose_enc=_to_float32(output.pose_enc[0]),
            )

    def _attention_kernels(self) -> contextlib.AbstractContextManager[None]:
        if self.sdpa_backends is None:
            return contextlib.nullcontext()
        return sdpa_kernel(list(self.sdpa_backends), set_priority=True)
