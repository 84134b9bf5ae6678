# Copyright 2026 The HGGT-ROS Authors
# SPDX-License-Identifier: Apache-2.0
import pytest
import torch

from hggt_core.model.mano_head import ManoHead

DIM = 32


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


@pytest.mark.parametrize("qk_norm", [False, True])
def test_state_dict_keys_follow_the_release(qk_norm: bool) -> None:
    keys = set(_head(qk_norm=qk_norm).state_dict())
    block = {
        f"cross_attn_trunk.0.{name}"
        for name in (
            "norm_q.weight",
            "norm_kv.bias",
            "norm_mlp.weight",
            "q_proj.weight",
            "kv_proj.bias",
            "proj.weight",
            "mlp.fc1.weight",
            "mlp.fc2.bias",
            "ls1.gamma",
            "ls2.gamma",
        )
    }
    top = {
        "token_norm.weight",
        "hand_pose_token",
        "shape_token",
        "transl_token",
        "embed_hand_pose.weight",
        "embed_shape.weight",
        "embed_transl.weight",
        "hand_pose_modulation.1.weight",
        "shape_modulation.1.bias",
        "transl_modulation.1.weight",
        "cross_attn_norm.weight",
        "hand_pose_head.fc1.weight",
        "shape_head.fc2.bias",
        "transl_head.fc2.weight",
    }
    assert block | top <= keys
    has_qk = {"cross_attn_trunk.0.q_norm.weight", "cross_attn_trunk.0.k_norm.weight"} <= keys
    assert has_qk == qk_norm
    assert not any(key.startswith("adaln_norm") for key in keys)


def test_full_size_parameter_count() -> None:
    with torch.device("meta"):
        head = ManoHead()
    assert sum(p.numel() for p in head.parameters()) == 242_550_906
