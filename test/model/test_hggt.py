# Copyright 2026 The HGGT-ROS Authors
# SPDX-License-Identifier: Apache-2.0
import pytest
import torch

from hggt_core.model import HGGT, HGGTConfig
from hggt_core.model.checkpoint import cast_for_inference

ATOL = 1e-5


@pytest.mark.parametrize("num_views", range(1, 9))
def test_output_shapes_for_one_to_eight_views(tiny_model: HGGT, num_views: int) -> None:
    out = tiny_model(torch.rand(2, num_views, 3, 28, 28))
    assert out.hand_pose.shape == (2, 48)
    assert out.betas.shape == (2, 10)
    assert out.transl.shape == (2, 3)
    assert out.pose_enc.shape == (2, num_views, 9)
    assert len(out.hand_params_per_iteration) == tiny_model.config.num_iterations
    assert len(out.pose_enc_per_iteration) == tiny_model.config.num_iterations
    assert out.hand_params_per_iteration[-1].hand_pose is out.hand_pose
    assert out.pose_enc_per_iteration[-1] is out.pose_enc
    assert torch.isfinite(out.pose_enc).all()


def test_non_square_input_and_unbatched_views(tiny_model: HGGT) -> None:
    images = torch.rand(3, 3, 28, 42)
    out = tiny_model(images)
    assert out.pose_enc.shape == (1, 3, 9)
    torch.testing.assert_close(tiny_model(images[None]).hand_pose, out.hand_pose)


def test_fov_is_never_negative(tiny_model: HGGT) -> None:
    out = tiny_model(torch.rand(1, 4, 3, 28, 28))
    assert (out.pose_enc[..., 7:] >= 0).all()


def test_permuting_other_views_permutes_cameras_and_keeps_the_hand(
    trained_like_model: HGGT,
) -> None:
    images = torch.rand(1, 5, 3, 28, 28)
    order = torch.tensor([0, 3, 1, 4, 2])
    base = trained_like_model(images)
    permuted = trained_like_model(images[:, order])
    for name in ("hand_pose", "betas", "transl"):
        torch.testing.assert_close(getattr(permuted, name), getattr(base, name), atol=ATOL, rtol=0)
    torch.testing.assert_close(permuted.pose_enc, base.pose_enc[:, order], atol=ATOL, rtol=0)


def test_reference_view_is_special(trained_like_model: HGGT) -> None:
    """View 0 defines the frame: moving another view to slot 0 changes the hand prediction."""
    images = torch.rand(1, 3, 3, 28, 28)
    base = trained_like_model(images)
    swapped = trained_like_model(images[:, [1, 0, 2]])
    assert (swapped.hand_pose - base.hand_pose).abs().max() > 1e-2


def test_released_key_layout(tiny_model: HGGT) -> None:
    keys = tiny_model.state_dict().keys()
    prefixes = {key.split(".")[0] for key in keys}
    assert prefixes == {"aggregator", "camera_head", "mano_head"}
    assert not any("q_norm" in key for key in keys if key.startswith("mano_head."))


def test_full_size_parameter_counts() -> None:
    with torch.device("meta"):
        model = HGGT(HGGTConfig())
    counts = {
        name: sum(p.numel() for p in module.parameters())
        for name, module in model.named_children()
    }
    assert counts == {
        "aggregator": 909_112_320,
        "camera_head": 216_174_610,
        "mano_head": 242_550_906,
    }


def test_reduced_precision_backbone_keeps_float32_heads(tiny_model: HGGT) -> None:
    images = torch.rand(1, 2, 3, 28, 28)
    reference = tiny_model(images)
    cast_for_inference(tiny_model, torch.bfloat16)
    assert tiny_model.aggregator.camera_token.dtype == torch.bfloat16
    assert tiny_model.mano_head.token_norm.weight.dtype == torch.float32
    out = tiny_model(images)
    assert out.hand_pose.dtype == torch.float32
    assert out.pose_enc.dtype == torch.float32
    torch.testing.assert_close(out.hand_pose, reference.hand_pose, atol=0.05, rtol=0.05)
