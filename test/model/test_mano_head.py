# Copyright 2026 The HGGT-ROS Authors
# SPDX-License-Identifier: Apache-2.0
"""The MANO head: outputs, release key layout, and equality with the uncached refinement."""

import pytest
import torch
from torch import Tensor

from hggt_core.model import HGGT, HGGTConfig
from hggt_core.model.layers.layer_scale import LayerScale
from hggt_core.model.mano_head import HandParams, ManoHead, ManoHeadOutput

DIM = 32
REDUCED = HGGTConfig(
    embed_dim=384,
    depth=4,
    num_heads=6,
    patch_embed="dinov2_vits14_reg",
    head_trunk_depth=4,
    head_num_heads=16,
    num_iterations=4,
)
"""The issue's reduced network: ViT-S patch embedding, 4 + 4 blocks, heads as released."""


def _head(**kwargs: object) -> ManoHead:
    torch.manual_seed(0)
    return ManoHead(dim_in=DIM, trunk_depth=2, num_heads=4, **kwargs).eval()  # type: ignore[arg-type]


def test_outputs_per_iteration_and_shapes() -> None:
    tokens = torch.randn(2, 3, 7, DIM)
    out = _head()(tokens, num_iterations=4)
    assert len(out.params_per_iteration) == 4
    final = out.params_per_iteration[-1]
    assert final.hand_pose.shape == (2, 48)
    assert final.betas.shape == (2, 10)
    assert final.transl.shape == (2, 3)
    assert out.view_tokens.shape == tokens.shape


def test_only_camera_tokens_are_rewritten() -> None:
    head = _head()
    tokens = torch.randn(1, 3, 6, DIM)
    out = head(tokens, num_iterations=2)
    normed = head.token_norm(tokens)
    torch.testing.assert_close(out.view_tokens[:, :, 1:], normed[:, :, 1:])
    assert (out.view_tokens[:, :, 0] - normed[:, :, 0]).abs().max() > 1e-3


def test_deltas_accumulate_over_iterations() -> None:
    """With the trunk muted and constant heads, iteration k predicts k times the head bias."""
    head = _head()
    with torch.no_grad():
        for block in head.cross_attn_trunk:
            block.ls1.gamma.zero_()
            block.ls2.gamma.zero_()
        for mlp in (head.hand_pose_head, head.shape_head, head.transl_head):
            mlp.fc2.weight.zero_()
            mlp.fc2.bias.fill_(0.5)
    out = head(torch.randn(2, 2, 5, DIM), num_iterations=3)
    for k, params in enumerate(out.params_per_iteration, start=1):
        torch.testing.assert_close(params.hand_pose, torch.full((2, 48), 0.5 * k))
        torch.testing.assert_close(params.transl, torch.full((2, 3), 0.5 * k))


def test_view_order_permutes_cameras_and_keeps_the_hand() -> None:
    head = _head()
    tokens = torch.randn(1, 4, 5, DIM)
    order = torch.tensor([2, 0, 3, 1])
    base = head(tokens)
    permuted = head(tokens[:, order])
    torch.testing.assert_close(
        permuted.params_per_iteration[-1].hand_pose, base.params_per_iteration[-1].hand_pose
    )
    torch.testing.assert_close(permuted.view_tokens, base.view_tokens[:, order])


def _release_layout(
    width: int, depth: int, num_heads: int, qk_norm: bool
) -> dict[str, tuple[int, ...]]:
    """Every ``mano_head.`` key of the released checkpoint and its shape, at width 2C = width."""
    layout: dict[str, tuple[int, ...]] = {
        "hand_pose_token": (1, 1, 48),
        "shape_token": (1, 1, 10),
        "transl_token": (1, 1, 3),
    }
    vectors = ["token_norm", "cross_attn_norm"]
    matrices = {}
    for kind, size in (("hand_pose", 48), ("shape", 10), ("transl", 3)):
        matrices |= {
            f"embed_{kind}": (width, size),
            f"{kind}_modulation.1": (3 * width, width),
            f"{kind}_head.fc1": (width // 4, width),
            f"{kind}_head.fc2": (size, width // 4),
        }
    for index in range(depth):
        block = f"cross_attn_trunk.{index}"
        vectors += [f"{block}.{norm}" for norm in ("norm_q", "norm_kv", "norm_mlp")]
        layout |= {f"{block}.ls1.gamma": (width,), f"{block}.ls2.gamma": (width,)}
        matrices |= {
            f"{block}.q_proj": (width, width),
            f"{block}.kv_proj": (2 * width, width),
            f"{block}.proj": (width, width),
            f"{block}.mlp.fc1": (4 * width, width),
            f"{block}.mlp.fc2": (width, 4 * width),
        }
        if qk_norm:
            for norm in ("q_norm", "k_norm"):
                layout |= {
                    f"{block}.{norm}.{p}": (width // num_heads,) for p in ("weight", "bias")
                }
    layout |= {f"{name}.{p}": (width,) for name in vectors for p in ("weight", "bias")}
    layout |= {f"{name}.weight": shape for name, shape in matrices.items()}
    return layout | {f"{name}.bias": shape[:1] for name, shape in matrices.items()}


@pytest.mark.parametrize("qk_norm", [False, True])
def test_state_dict_is_exactly_the_release_layout(qk_norm: bool) -> None:
    """Same keys and shapes as the released ``mano_head.*``: nothing added by the caching."""
    state = _head(qk_norm=qk_norm).state_dict()
    assert {key: tuple(value.shape) for key, value in state.items()} == _release_layout(
        DIM, 2, 4, qk_norm
    )


def test_full_size_parameter_count() -> None:
    with torch.device("meta"):
        head = ManoHead()
    assert sum(p.numel() for p in head.parameters()) == 242_550_906


def uncached_refinement(head: ManoHead, tokens: Tensor, num_iterations: int) -> ManoHeadOutput:
    """The refinement as MODEL_SPEC.md section 5 states it (and as it ran before caching).

    Every block projects the whole context, all view tokens and the hand tokens, to keys and
    values in every iteration.
    """
    batch, num_views, _, _ = tokens.shape
    view_tokens = head.token_norm(tokens)
    params: list[HandParams] = []
    for _ in range(num_iterations):
        hand_tokens = head._hand_tokens(params[-1] if params else None, batch)
        context = torch.cat([view_tokens.flatten(1, 2), hand_tokens], dim=1)
        queries = torch.cat([view_tokens[:, :, 0], hand_tokens], dim=1)
        for block in head.cross_attn_trunk:
            queries = block(queries, context)
        queries = head.cross_attn_norm(queries)
        view_tokens = torch.cat([queries[:, :num_views, None], view_tokens[:, :, 1:]], dim=2)
        delta = (
            head.hand_pose_head(queries[:, num_views]),
            head.shape_head(queries[:, num_views + 1]),
            head.transl_head(queries[:, num_views + 2]),
        )
        if params:
            delta = tuple(a + b for a, b in zip(_as_tuple(params[-1]), delta, strict=True))
        params.append(HandParams(*delta))
    return ManoHeadOutput(tuple(params), view_tokens)


def _as_tuple(params: HandParams) -> tuple[Tensor, Tensor, Tensor]:
    """(hand_pose, betas, transl)."""
    return params.hand_pose, params.betas, params.transl


def _open_signal_paths(model: HGGT) -> HGGT:
    """Trained-like regime (see conftest.trained_like_model): tokens and LayerScales at 1."""
    with torch.no_grad():
        model.aggregator.camera_token.normal_()
        model.aggregator.register_token.normal_()
        for module in model.modules():
            if isinstance(module, LayerScale):
                module.gamma.fill_(1.0)
    return model


def _max_relative(result: Tensor, reference: Tensor) -> float:
    return float((result - reference).abs().max() / reference.abs().max())


@pytest.mark.parametrize("num_views", [1, 4])
@pytest.mark.parametrize(
    ("network", "crop"), [("tiny", 28), ("reduced", 56)], ids=["tiny", "reduced"]
)
def test_matches_projecting_the_whole_context_every_iteration(
    network: str, crop: int, num_views: int, model_tiny_config: HGGTConfig
) -> None:
    """The whole network, fp32: within 1e-6 of the uncached refinement (the issue's bound)."""
    config = model_tiny_config if network == "tiny" else REDUCED
    torch.manual_seed(0)
    model = _open_signal_paths(HGGT(config).eval())
    images = torch.rand(1, num_views, 3, crop, crop)
    with torch.no_grad():
        result = model(images)
        tokens = model.aggregator(images, keep_layers=(-1,))[0][-1]
        reference = uncached_refinement(model.mano_head, tokens, config.num_iterations)
        pose_encodings = model.camera_head([reference.view_tokens], config.num_iterations)
    pairs = [(result.pose_enc_per_iteration, pose_encodings)]
    pairs += [
        (_as_tuple(ours), _as_tuple(theirs))
        for ours, theirs in zip(
            result.hand_params_per_iteration, reference.params_per_iteration, strict=True
        )
    ]
    errors = [
        _max_relative(ours, theirs)
        for group_ours, group_theirs in pairs
        for ours, theirs in zip(group_ours, group_theirs, strict=True)
    ]
    assert len(errors) == 4 * config.num_iterations
    assert max(errors) <= 1e-6


def test_unchanged_tokens_are_projected_once_per_block() -> None:
    """Each block's kv_proj sees the S (P - 1) unchanged tokens once, then S + 3 per iteration."""
    head = _head()
    rows: dict[int, list[int]] = {0: [], 1: []}
    for index, block in enumerate(head.cross_attn_trunk):
        block.kv_proj.register_forward_hook(
            lambda _module, inputs, _output, index=index: rows[index].append(inputs[0].shape[1])
        )
    views, per_view = 3, 7
    head(torch.randn(2, views, per_view, DIM), num_iterations=4)
    assert rows == {index: [views * (per_view - 1)] + 4 * [views + 3] for index in rows}


def test_gradients_match_the_uncached_refinement() -> None:
    """Training sees the same gradients: the cached keys and values collect every iteration's."""
    head = _head(qk_norm=True)
    tokens = torch.randn(2, 3, 6, DIM)
    gradients = []
    for refine in (lambda: head(tokens, 3), lambda: uncached_refinement(head, tokens, 3)):
        head.zero_grad()
        output = refine()
        loss = sum(
            (value**2).sum()
            for params in output.params_per_iteration
            for value in _as_tuple(params)
        )
        (loss + output.view_tokens[:, :, 0].sum()).backward()
        gradients.append({name: p.grad.clone() for name, p in head.named_parameters()})
    assert gradients[0].keys() == gradients[1].keys()
    # Softmax ignores a shift common to all keys, so k_norm's bias gets no gradient (rounding
    # noise only) and has no scale to compare against.
    shift = {name for name in gradients[0] if name.endswith("k_norm.bias")}
    assert len(shift) == 2
    assert all(gradients[0][name].abs().max() < 1e-6 for name in shift)
    errors = {
        name: _max_relative(grad, gradients[1][name])
        for name, grad in gradients[0].items()
        if name not in shift
    }
    assert max(errors.values()) <= 1e-6, errors
