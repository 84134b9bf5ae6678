# Copyright 2026 The HGGT-ROS Authors
# SPDX-License-Identifier: Apache-2.0
"""Checkpoint loading on small files the tests write themselves."""

import dataclasses
import pickle
from pathlib import Path

import numpy as np
import pytest
import torch
from safetensors.torch import save_file

from hggt_core.model import HGGT, HGGTConfig, checkpoint
from hggt_core.model.checkpoint import (
    CheckpointError,
    build_hggt_from_checkpoint,
    load_hggt_checkpoint,
    load_vggt_checkpoint,
    read_checkpoint,
    save_hggt_checkpoint,
)

IMAGES = torch.rand(1, 2, 3, 28, 28)


def _fresh_like(model: HGGT, seed: int = 1) -> HGGT:
    torch.manual_seed(seed)
    return HGGT(model.config).eval()


def _assert_same_predictions(a: HGGT, b: HGGT) -> None:
    out_a, out_b = a(IMAGES), b(IMAGES)
    torch.testing.assert_close(out_a.hand_pose, out_b.hand_pose, atol=0, rtol=0)
    torch.testing.assert_close(out_a.pose_enc, out_b.pose_enc, atol=0, rtol=0)


@pytest.mark.parametrize("layout", ["flat.pt", "nested.pt", "ddp.pth", "weights.safetensors"])
def test_released_layouts_load(tiny_model: HGGT, tmp_path: Path, layout: str) -> None:
    state = {k: v.clone() for k, v in tiny_model.state_dict().items()}
    path = tmp_path / layout
    if layout == "flat.pt":
        torch.save(state, path)
    elif layout == "nested.pt":
        torch.save({"model": state, "epoch": 3}, path)
    elif layout == "ddp.pth":
        torch.save({f"module.{k}": v for k, v in state.items()}, path)
    else:
        save_file(state, str(path))
    other = _fresh_like(tiny_model)
    load_hggt_checkpoint(other, path)
    _assert_same_predictions(other, tiny_model)


def test_unused_dense_heads_are_ignored(tiny_model: HGGT, tmp_path: Path) -> None:
    state = dict(tiny_model.state_dict())
    state["depth_head.projects.0.weight"] = torch.zeros(4, 4)
    state["point_head.scratch.output_conv2.0.bias"] = torch.zeros(4)
    torch.save(state, tmp_path / "hggt.pt")
    other = _fresh_like(tiny_model)
    load_hggt_checkpoint(other, tmp_path / "hggt.pt")
    _assert_same_predictions(other, tiny_model)


def test_half_precision_weights_are_cast_to_the_model_dtype(
    tiny_model: HGGT, tmp_path: Path
) -> None:
    state = {k: v.to(torch.bfloat16) for k, v in tiny_model.state_dict().items()}
    save_file(state, str(tmp_path / "bf16.safetensors"))
    other = _fresh_like(tiny_model)
    load_hggt_checkpoint(other, tmp_path / "bf16.safetensors")
    weight = other.mano_head.embed_shape.weight
    assert weight.dtype == torch.float32
    torch.testing.assert_close(weight, state["mano_head.embed_shape.weight"].float())


def _one_line_error(path: Path, load: object = read_checkpoint) -> str:
    """The CheckpointError message of loading ``path``, checked to be one line naming it."""
    with pytest.raises(CheckpointError) as error:
        load(path)  # type: ignore[operator]
    message = str(error.value)
    assert len(message.splitlines()) == 1 and str(path) in message
    return message


def test_mismatch_lists_missing_unexpected_and_wrong_shape_keys(
    tiny_model: HGGT, tmp_path: Path
) -> None:
    state = dict(tiny_model.state_dict())
    del state["mano_head.shape_token"]
    state["mano_head.extra_token"] = torch.zeros(3)
    state["camera_head.embed_pose.bias"] = torch.zeros(5)
    torch.save(state, tmp_path / "bad.pt")
    message = _one_line_error(
        tmp_path / "bad.pt", lambda path: load_hggt_checkpoint(_fresh_like(tiny_model), path)
    )
    assert message.startswith(f"checkpoint {tmp_path / 'bad.pt'} does not fit the model: ")
    assert "1 key missing: mano_head.shape_token;" in message
    assert "1 key unexpected: mano_head.extra_token;" in message
    assert "1 key with the wrong shape: camera_head.embed_pose.bias (file [5], model [64])" in (
        message
    )


def test_many_missing_keys_are_counted_and_the_first_three_named(
    tiny_model: HGGT, tmp_path: Path
) -> None:
    state = {k: v for k, v in tiny_model.state_dict().items() if not k.startswith("mano_head.")}
    torch.save(state, tmp_path / "no_head.pt")
    message = _one_line_error(
        tmp_path / "no_head.pt", lambda path: load_hggt_checkpoint(_fresh_like(tiny_model), path)
    )
    missing = sorted(k for k in tiny_model.state_dict() if k.startswith("mano_head."))
    assert f"{len(missing)} keys missing: {', '.join(missing[:3])}, ... (+{len(missing) - 3})" in (
        message
    )
    assert "unexpected" not in message and "wrong shape" not in message


def test_another_models_weights_are_refused_before_building_a_network(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    torch.save(
        {"backbone.conv1.weight": torch.zeros(2), "fc.bias": torch.zeros(2)}, tmp_path / "r.pt"
    )

    def no_network(*_: object) -> HGGT:
        raise AssertionError("a network was built for another model's weights")

    monkeypatch.setattr(checkpoint, "HGGT", no_network)
    message = _one_line_error(tmp_path / "r.pt", build_hggt_from_checkpoint)
    assert "holds another model's weights: none of its 2 keys is an HGGT key" in message
    assert message.endswith("its first: backbone.conv1.weight, fc.bias")


def test_other_configuration_is_rejected(tiny_model: HGGT, tmp_path: Path) -> None:
    torch.save(tiny_model.state_dict(), tmp_path / "tiny.pt")
    wider = HGGT(dataclasses.replace(tiny_model.config, embed_dim=48, num_heads=3))
    with pytest.raises(CheckpointError, match="wrong shape"):
        load_hggt_checkpoint(wider, tmp_path / "tiny.pt")


def test_vggt_checkpoint_initialises_backbone_and_camera_head(
    tiny_model: HGGT, tmp_path: Path
) -> None:
    vggt_state = {
        k: v for k, v in tiny_model.state_dict().items() if not k.startswith("mano_head.")
    }
    vggt_state["track_head.feature_extractor.norm.weight"] = torch.ones(8)
    torch.save(vggt_state, tmp_path / "vggt.pt")
    other = _fresh_like(tiny_model)
    mano_before = {k: v.clone() for k, v in other.mano_head.state_dict().items()}
    load_vggt_checkpoint(other, tmp_path / "vggt.pt")
    torch.testing.assert_close(
        other.aggregator.state_dict(), tiny_model.aggregator.state_dict(), atol=0, rtol=0
    )
    torch.testing.assert_close(
        other.camera_head.state_dict(), tiny_model.camera_head.state_dict(), atol=0, rtol=0
    )
    torch.testing.assert_close(other.mano_head.state_dict(), mano_before, atol=0, rtol=0)


def test_vggt_checkpoint_without_camera_head_is_rejected(tiny_model: HGGT, tmp_path: Path) -> None:
    state = {k: v for k, v in tiny_model.state_dict().items() if k.startswith("aggregator.")}
    torch.save(state, tmp_path / "partial.pt")
    with pytest.raises(CheckpointError, match=r"keys missing: camera_head\."):
        load_vggt_checkpoint(_fresh_like(tiny_model), tmp_path / "partial.pt")


def test_missing_file_and_folder(tmp_path: Path) -> None:
    with pytest.raises(CheckpointError, match=r"checkpoint not found: .*absent\.pt"):
        read_checkpoint(tmp_path / "absent.pt")
    (tmp_path / "weights.pt").mkdir()
    assert _one_line_error(tmp_path / "weights.pt").endswith("weights.pt is a folder, not a file")


def _random_bytes(path: Path) -> None:
    path.write_bytes(torch.randint(0, 256, (4096,), generator=torch.Generator().manual_seed(1),
                                   dtype=torch.uint8).numpy().tobytes())  # fmt: skip


def _numpy_archive(path: Path) -> None:
    with path.open("wb") as stream:
        np.savez(stream, w=np.zeros(3))


@pytest.mark.parametrize(
    ("name", "write", "problem"),
    [
        ("random.pt", _random_bytes, "is not a PyTorch or safetensors file"),
        ("random.pth", _random_bytes, "is not a PyTorch or safetensors file"),
        ("random.safetensors", _random_bytes, "is not a PyTorch or safetensors file"),
        ("empty.pt", lambda path: path.write_bytes(b""), "is empty (0 bytes)"),
        (
            "lfs.safetensors",
            lambda path: path.write_text("version https://git-lfs.github.com/spec/v1\n"),
            "a Git LFS pointer, not the weights",
        ),
        (
            "page.pt",
            lambda path: path.write_text("<!DOCTYPE html><html>Not found</html>"),
            "a web page",
        ),
        (
            "pickle.pt",
            lambda path: path.write_bytes(pickle.dumps({"w": [1.0]})),
            "a plain Python pickle",
        ),
        ("notes.pt", lambda path: path.write_text("my weights\n"), "it starts with 'my weights'"),
        (
            "arrays.pt",
            _numpy_archive,
            "a zip archive without the data.pkl of a PyTorch file",
        ),
    ],
)
def test_files_that_are_no_checkpoint_say_so_in_one_line(
    tmp_path: Path, name: str, write: object, problem: str
) -> None:
    write(tmp_path / name)  # type: ignore[operator]
    message = _one_line_error(tmp_path / name)
    assert problem in message and len(message.replace(str(tmp_path), "")) < 120
    assert "weights_only" not in message and "objects other than tensors" not in message


@pytest.mark.parametrize("name", ["cut.pt", "cut.safetensors", "cut_legacy.pt"])
def test_truncated_file(tiny_model: HGGT, tmp_path: Path, name: str) -> None:
    path = tmp_path / name
    if name == "cut.safetensors":
        save_file(dict(tiny_model.state_dict()), str(path))
    else:
        legacy = name == "cut_legacy.pt"
        torch.save(tiny_model.state_dict(), path, _use_new_zipfile_serialization=not legacy)
    path.write_bytes(path.read_bytes()[: path.stat().st_size // 2])
    assert " is truncated: " in _one_line_error(path)


def test_damaged_safetensors_header(tmp_path: Path) -> None:
    path = tmp_path / "bad.safetensors"
    path.write_bytes((12).to_bytes(8, "little") + b"{not json!!}" + bytes(16))
    assert _one_line_error(path).endswith("is damaged: its header is not JSON")


class _Payload:
    """Stands in for arbitrary code a malicious pickle could carry."""


def test_pickled_objects_are_refused(tmp_path: Path) -> None:
    torch.save({"weight": torch.zeros(2), "payload": _Payload()}, tmp_path / "evil.pt")
    message = _one_line_error(tmp_path / "evil.pt")
    assert "holds pickled Python objects other than tensors (first: " in message
    assert "_Payload), which are never loaded" in message


def test_the_format_is_read_from_the_content_not_the_suffix(
    tiny_model: HGGT, tmp_path: Path
) -> None:
    save_file(dict(tiny_model.state_dict()), str(tmp_path / "weights.pt"))
    other = _fresh_like(tiny_model)
    load_hggt_checkpoint(other, tmp_path / "weights.pt")
    _assert_same_predictions(other, tiny_model)


def test_non_tensor_content_is_rejected(tmp_path: Path) -> None:
    torch.save({"weight": [1, 2, 3]}, tmp_path / "list.pt")
    with pytest.raises(CheckpointError, match="mapping of parameter names to tensors"):
        read_checkpoint(tmp_path / "list.pt")


def test_saved_checkpoint_rebuilds_the_same_network(tiny_model: HGGT, tmp_path: Path) -> None:
    save_hggt_checkpoint(tiny_model, tmp_path / "tiny.safetensors")
    assert not list(tmp_path.glob("*.partial"))
    rebuilt = build_hggt_from_checkpoint(tmp_path / "tiny.safetensors")
    assert rebuilt.config == tiny_model.config
    assert not rebuilt.training
    _assert_same_predictions(rebuilt, tiny_model)


def test_torch_training_checkpoint_carries_its_config(tiny_model: HGGT, tmp_path: Path) -> None:
    config = dataclasses.asdict(tiny_model.config)
    torch.save({"model": tiny_model.state_dict(), "hggt_config": config}, tmp_path / "step.pt")
    assert read_checkpoint(tmp_path / "step.pt").config == tiny_model.config
    _assert_same_predictions(build_hggt_from_checkpoint(tmp_path / "step.pt"), tiny_model)


def test_released_files_have_no_config(tiny_model: HGGT, tmp_path: Path) -> None:
    save_file(dict(tiny_model.state_dict()), str(tmp_path / "release.safetensors"))
    assert read_checkpoint(tmp_path / "release.safetensors").config is None


def test_unknown_config_field_is_rejected(tiny_model: HGGT, tmp_path: Path) -> None:
    config = {**dataclasses.asdict(tiny_model.config), "enable_depth": True}
    torch.save({"model": tiny_model.state_dict(), "hggt_config": config}, tmp_path / "x.pt")
    with pytest.raises(CheckpointError, match="enable_depth"):
        read_checkpoint(tmp_path / "x.pt")


def test_default_config_is_the_release() -> None:
    assert HGGTConfig().embed_dim == 1024 and HGGTConfig().patch_embed == "dinov2_vitl14_reg"
