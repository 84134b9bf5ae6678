# Copyright 2026 The HGGT-ROS Authors
# SPDX-License-Identifier: Apache-2.0
"""Tests of VGGT's iterative camera head."""

from __future__ import annotations

import pytest
import torch

from hggt_core.model.vggt import Aggregator, CameraHead, activate_pose_encoding

DIM = 32


def _tiny_head(**overrides: object) -> CameraHead:
    torch.manual_seed(0)
    kwargs: dict[str, object] = {"dim_in": DIM, "trunk_depth": 2, "num_heads": 4}
    kwargs.update(overrides)
    return CameraHead(**kwargs).eval()  # type: ignore[arg-type]


def test_outputs_one_activated_encoding_per_iteration() -> None:
    head = _tiny_head()
    tokens = torch.randn(2, 3, 7, DIM)
    with torch.no_grad():
        encodings = head([tokens])
        three = head([tokens], num_iterations=3)
    assert len(encodings) == 4 and len(three) == 3
    for encoding in encodings:
        assert encoding.shape == (2, 3, 9)
        assert (encoding[..., 7:] >= 0).all()
    for a, b in zip(three, encodings[:3], strict=True):
        torch.testing.assert_close(a, b)


def test_reads_only_camera_token_of_last_element() -> None:
    head = _tiny_head()
    tokens = torch.randn(1, 3, 7, DIM)
    changed = tokens.clone()
    changed[:, :, 1:] = torch.randn(1, 3, 6, DIM)
    with torch.no_grad():
        reference = head([tokens])[-1]
        assert torch.equal(head([torch.zeros(1), changed[:, :, :1]])[-1], head([changed])[-1])
        torch.testing.assert_close(head([changed])[-1], reference)


def test_first_iteration_follows_the_formula() -> None:
    head = _tiny_head(trunk_depth=1)
    with torch.no_grad():
        head.empty_pose_tokens.normal_()
    tokens = torch.randn(2, 3, 5, DIM)
    with torch.no_grad():
        camera = head.token_norm(tokens[:, :, 0])
        shift, scale, gate = head.poseLN_modulation(head.embed_pose(head.empty_pose_tokens)).chunk(
            3, dim=-1
        )
        normed = torch.nn.functional.layer_norm(camera, (DIM,), eps=1e-6)
        x = head.trunk(gate * (normed * (1 + scale) + shift) + camera)
        raw = head.pose_branch(head.trunk_norm(x))
        expected = torch.cat([raw[..., :7], raw[..., 7:].relu()], dim=-1)
        got = head([tokens], num_iterations=1)[0]
    torch.testing.assert_close(got, expected)


def test_previous_predictions_are_detached() -> None:
    head = _tiny_head().train()
    tokens = torch.randn(1, 2, 3, DIM)
    head([tokens], num_iterations=2)[-1].sum().backward()
    # The learned empty pose only feeds iteration 0, whose output enters iteration 1 detached.
    grad = head.empty_pose_tokens.grad
    assert grad is None or torch.count_nonzero(grad) == 0
    head.zero_grad()
    head([tokens], num_iterations=1)[-1].sum().backward()
    assert head.empty_pose_tokens.grad is not None
    assert torch.count_nonzero(head.empty_pose_tokens.grad) > 0


def test_views_are_permutation_equivariant_with_the_aggregator() -> None:
    torch.manual_seed(0)
    aggregator = Aggregator(img_size=28, embed_dim=16, depth=2, num_heads=1, patch_embed="conv")
    aggregator.eval()
    with torch.no_grad():
        aggregator.camera_token.normal_()
    head = _tiny_head(dim_in=32)
    images = torch.rand(1, 4, 3, 28, 28)
    order = torch.tensor([0, 2, 3, 1])
    with torch.no_grad():
        encodings = head(aggregator(images, keep_layers=(-1,))[0])[-1]
        permuted = head(aggregator(images[:, order], keep_layers=(-1,))[0])[-1]
    torch.testing.assert_close(permuted, encodings[:, order], atol=1e-5, rtol=1e-5)


def test_activations_known_answers() -> None:
    raw = torch.tensor([[-1.0, 0.5, 2.0, -0.1, 0.2, 0.3, 0.9, -0.4, 1.2]])
    expected = raw.clone()
    expected[0, 7] = 0.0
    torch.testing.assert_close(activate_pose_encoding(raw), expected)
    out = activate_pose_encoding(raw, trans_act="inv_log", quat_act="exp", fl_act="linear")
    torch.testing.assert_close(out[0, :3], torch.sign(raw[0, :3]) * torch.expm1(raw[0, :3].abs()))
    torch.testing.assert_close(out[0, 3:7], raw[0, 3:7].exp())
    torch.testing.assert_close(out[0, 7:], raw[0, 7:])
    with pytest.raises(ValueError, match="unknown activation"):
        activate_pose_encoding(raw, fl_act="softplus")


def test_bad_configs_are_rejected() -> None:
    with pytest.raises(ValueError, match="pose encoding"):
        _tiny_head(pose_encoding_type="relT_quaR_FoV")
    with pytest.raises(ValueError, match="unknown activation"):
        _tiny_head(quat_act="tanh")


def test_full_size_parameter_count_and_keys() -> None:
    with torch.device("meta"):
        head = CameraHead()
    assert sum(p.numel() for p in head.parameters()) == 216_174_610
    shapes = {key: tuple(value.shape) for key, value in head.state_dict().items()}
    assert shapes["empty_pose_tokens"] == (1, 1, 9)
    assert shapes["embed_pose.weight"] == (2048, 9)
    assert shapes["poseLN_modulation.1.weight"] == (3 * 2048, 2048)
    assert shapes["pose_branch.fc1.weight"] == (1024, 2048)
    assert shapes["pose_branch.fc2.weight"] == (9, 1024)
    assert shapes["token_norm.weight"] == shapes["trunk_norm.bias"] == (2048,)
    assert shapes["trunk.3.ls2.gamma"] == (2048,)
    assert shapes["trunk.3.mlp.fc1.weight"] == (8192, 2048)
    assert "trunk.4.norm1.weight" not in shapes
    assert not any("q_norm" in key or "adaln_norm" in key for key in shapes)
    assert head.adaln_norm.eps == 1e-6 and head.trunk[0].norm1.eps == 1e-5
