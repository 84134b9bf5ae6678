# Copyright 2026 The HGGT-ROS Authors
# SPDX-License-Identifier: Apache-2.0
"""Tests of the POEM-v2 layout reader on small shards written here, and of its safe unpickler."""

from __future__ import annotations

import os
import pickle
import tarfile
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import torch

from hggt_core.mano.layer import ManoLayer
from hggt_core.mano.synthetic import make_synthetic_mano
from hggt_core.pipeline.mirror import mirror_axis_angle, mirror_cam_from_ref, mirror_points
from hggt_core.render.scene import SyntheticExample, render_multiview_example
from hggt_core.render.scene_config import SceneConfig
from training.data.augment import AugmentConfig
from training.data.poem import (
    PoemDataset,
    PoemReaderConfig,
    mano_rest_root,
    parse_poem_sample,
    poem_sample_members,
)
from training.data.sample import HandSample
from training.data.shards import (
    UnsafeLabelError,
    dump_label,
    iter_tar_samples,
    load_label,
    write_tar_sample,
)
from training.data.synthetic import synthetic_label
from training.data.views import MultiViewRecord, build_sample

_SCENE = SceneConfig(image_size_hw=(96, 128), crop_size=56, supersample=1)
_EVAL = AugmentConfig.evaluation(crop_size=56)


@pytest.fixture(scope="module")
def example() -> SyntheticExample:
    layer = ManoLayer(make_synthetic_mano("right"))
    return render_multiview_example(layer, np.random.default_rng(2), 4, _SCENE)


def _write_shard(path: Path, samples: dict[str, dict[str, bytes]]) -> Path:
    with tarfile.open(path, "w") as archive:
        for key, members in samples.items():
            write_tar_sample(archive, key, members)
    return path


def _members(example: SyntheticExample, **changes: Any) -> dict[str, bytes]:
    label = synthetic_label(example)
    label.update(changes)
    return poem_sample_members([view.image for view in example.views], label)


def _read_all(members: dict[str, bytes], config: PoemReaderConfig) -> MultiViewRecord:
    return parse_poem_sample("k", members, config)


class _RunsShell:
    def __reduce__(self) -> tuple[Any, ...]:
        return (os.system, ("touch pwned_by_label",))


def test_malicious_label_is_refused_and_never_executed(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    payload = pickle.dumps({"cam_intr": [np.eye(3)], "x": _RunsShell()})
    with pytest.raises(UnsafeLabelError, match="refused to load global"):
        load_label(payload)
    assert not (tmp_path / "pwned_by_label").exists()
    with pytest.raises(UnsafeLabelError, match="not a readable"):
        load_label(b"not a pickle")
    shard = _write_shard(tmp_path / "bad.tar", {"s0": {"label.pyd": payload, "image_0.jpg": b""}})
    dataset = PoemDataset([shard], PoemReaderConfig("synthetic"), _EVAL)
    with pytest.raises(UnsafeLabelError):
        next(iter(dataset))
    assert not (tmp_path / "pwned_by_label").exists()


@pytest.mark.parametrize("protocol", [2, 4, 5])
def test_labels_of_every_pickle_protocol_load(protocol: int) -> None:
    label = {
        "a": [np.arange(6, dtype=np.float32).reshape(2, 3), np.eye(3)[:, ::2]],
        "flag": np.bool_(True),
        "size": (640, 480),
        "name": "cam0",
        "raw": b"\x00\xff",
        "scalar": np.float64(2.5),
    }
    loaded = load_label(pickle.dumps(label, protocol=protocol))
    np.testing.assert_array_equal(loaded["a"][0], label["a"][0])
    np.testing.assert_array_equal(loaded["a"][1], label["a"][1])
    assert loaded["flag"] and loaded["size"] == (640, 480) and loaded["raw"] == b"\x00\xff"
    assert loaded["scalar"] == 2.5


def test_tar_members_are_grouped_per_sample(tmp_path: Path) -> None:
    shard = _write_shard(
        tmp_path / "s.tar",
        {"a/001": {"x.txt": b"1", "y.bin": b"2"}, "a/002": {"x.txt": b"3"}},
    )
    grouped = list(iter_tar_samples(shard))
    assert grouped == [("a/001", {"x.txt": b"1", "y.bin": b"2"}), ("a/002", {"x.txt": b"3"})]


def test_record_matches_the_rendered_ground_truth(example: SyntheticExample) -> None:
    record = _read_all(_members(example), PoemReaderConfig("synthetic"))
    assert record.num_views == 4 and not record.is_left
    cams = np.stack([view.cam_from_ref for view in example.views])
    np.testing.assert_allclose(record.cam_from_ref, cams, atol=1e-5)
    np.testing.assert_allclose(record.joints_3d, example.joints, atol=1e-6)
    np.testing.assert_allclose(record.hand_pose, example.hand_pose, atol=1e-6)
    np.testing.assert_allclose(record.transl, example.transl, atol=1e-6)
    np.testing.assert_allclose(record.intrinsics[2], example.views[2].intrinsics, rtol=1e-6)
    for box, view in zip(record.boxes, example.views, strict=True):
        inside = (view.joints_2d >= box[:2]) & (view.joints_2d <= box[2:])
        assert inside.all()


def test_world_to_camera_extrinsics_are_inverted_for_interhand_style_sets(
    example: SyntheticExample,
) -> None:
    label = synthetic_label(example)
    inverted = [np.linalg.inv(extr) for extr in label["cam_extr"]]
    members = _members(example, cam_extr=inverted)
    record = _read_all(members, PoemReaderConfig("Interhand"))
    cams = np.stack([view.cam_from_ref for view in example.views])
    np.testing.assert_allclose(record.cam_from_ref, cams, atol=1e-5)


def test_absolute_finger_pose_sets_need_mano_and_subtract_its_mean(
    example: SyntheticExample, tmp_path: Path
) -> None:
    mano = make_synthetic_mano("right")
    label = synthetic_label(example)
    absolute = [pose.copy() for pose in label["mano_pose"]]
    for pose in absolute:
        pose[3:] += mano.hands_mean.astype(np.float32)
    members = _members(example, mano_pose=absolute)
    shard = _write_shard(tmp_path / "ho3d.tar", {"s": members})
    with pytest.raises(ValueError, match="absolute finger poses"):
        PoemDataset([shard], PoemReaderConfig("HO3D"), _EVAL)
    record = parse_poem_sample("s", members, PoemReaderConfig("HO3D"), mano)
    np.testing.assert_allclose(record.hand_pose, example.hand_pose, atol=1e-5)
    # Without mano_trans the translation comes from the wrist and the rest root.
    del_trans = {k: v for k, v in label.items() if k != "mano_trans"}
    del_trans["mano_pose"] = absolute
    members = poem_sample_members([view.image for view in example.views], del_trans)
    record = parse_poem_sample("s", members, PoemReaderConfig("HO3D"), mano)
    np.testing.assert_allclose(record.transl, example.transl, atol=1e-5)
    np.testing.assert_allclose(
        mano_rest_root(mano, example.betas), example.joints[0] - example.transl, atol=1e-6
    )


def test_labels_without_mano_give_joint_only_samples(example: SyntheticExample) -> None:
    label = {k: v for k, v in synthetic_label(example).items() if not k.startswith("mano")}
    members = poem_sample_members([view.image for view in example.views], label)
    record = _read_all(members, PoemReaderConfig("Oakink", cam_from_world=False))
    assert record.hand_pose is None and record.joints_3d is not None
    sample = build_sample(record, np.random.default_rng(0), _EVAL, views=2)
    assert not sample.has_mano and sample.has_joints_3d
    assert float(sample.hand_pose.abs().sum()) == 0.0


def test_request_flip_flips_images_only(example: SyntheticExample) -> None:
    plain = _read_all(_members(example), PoemReaderConfig("synthetic"))
    flipped = _read_all(_members(example, request_flip=True), PoemReaderConfig("synthetic"))
    np.testing.assert_array_equal(flipped.images[1], plain.images[1][:, ::-1])
    width = plain.images[1].shape[1]
    np.testing.assert_allclose(flipped.intrinsics[1, 0, 2], width - plain.intrinsics[1, 0, 2])
    np.testing.assert_allclose(flipped.joints_3d, plain.joints_3d)
    assert not flipped.is_left


def test_left_hand_is_mirrored_into_the_same_right_hand(example: SyntheticExample) -> None:
    """A left twin (mirrored images and labels) reads as the original right hand."""
    label = synthetic_label(example)
    left = dict(label)
    left["hand_side"] = "left"
    left["cam_extr"] = [mirror_cam_from_ref(np.asarray(e, np.float64)) for e in label["cam_extr"]]
    left["joints_3d"] = [mirror_points(j) for j in label["joints_3d"]]
    left["verts_3d"] = [mirror_points(v) for v in label["verts_3d"]]
    left["mano_pose"] = [mirror_axis_angle(p) for p in label["mano_pose"]]
    left["mano_trans"] = [mirror_points(t) for t in label["mano_trans"]]
    left["cam_intr"] = [k.copy() for k in label["cam_intr"]]
    for k, view in zip(left["cam_intr"], example.views, strict=True):
        k[0, 2] = view.image.shape[1] - k[0, 2]
    images = [view.image[:, ::-1] for view in example.views]
    config = PoemReaderConfig("synthetic")
    right = parse_poem_sample(
        "r", poem_sample_members([v.image for v in example.views], label), config
    )
    mirrored = parse_poem_sample("l", poem_sample_members(images, left), config)
    assert mirrored.is_left
    right_sample = _sample(right)
    left_sample = _sample(mirrored)
    for name in ("cam_from_ref", "intrinsics", "joints_3d", "joints_2d", "hand_pose", "transl"):
        torch.testing.assert_close(
            getattr(left_sample, name), getattr(right_sample, name), atol=1e-4, rtol=1e-4
        )
    # JPEG blocks differ after flipping: compare the crops loosely.
    assert float((left_sample.images - right_sample.images).abs().mean()) < 0.03


def _sample(record: MultiViewRecord) -> HandSample:
    return build_sample(record, np.random.default_rng(0), _EVAL, views=4, random_first_view=False)


def test_dataset_streams_samples_from_several_shards(
    example: SyntheticExample, tmp_path: Path
) -> None:
    first = _write_shard(tmp_path / "a.tar", {"s0": _members(example), "s1": _members(example)})
    second = _write_shard(tmp_path / "b.tar", {"s2": _members(example)})
    dataset = PoemDataset(
        [first, second], PoemReaderConfig("synthetic"), AugmentConfig(crop_size=56)
    )
    samples = list(dataset)
    assert len(samples) == 3
    assert all(2 <= s.num_views <= 4 and s.dataset == "synthetic" for s in samples)
    dataset.set_epoch(1)
    assert len(list(dataset)) == 3
    with pytest.raises(ValueError, match="do not match"):
        members = _members(example)
        del members["image_2.jpg"]
        parse_poem_sample("x", members, PoemReaderConfig("synthetic"))
    assert load_label(dump_label({"a": 1})) == {"a": 1}
