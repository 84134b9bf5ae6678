# Copyright 2026 The HGGT-ROS Authors
# SPDX-License-Identifier: Apache-2.0
"""Tar shards (WebDataset layout), safe label pickles, images, and a streaming base dataset.

Shards are plain tar files whose members ``<key>.<suffix>`` are grouped into samples by key,
members of one sample adjacent (the WebDataset convention used by POEM-v2 and HaMeR). Label
pickles (``label.pyd``, ``data.pyd``) are read with a restricted unpickler
(:func:`load_label`): only builtin containers, numbers, strings and numpy array / dtype /
scalar reconstruction can appear; anything else (``os.system``, arbitrary classes) raises
:class:`UnsafeLabelError` and nothing from the file is executed.
"""

from __future__ import annotations

import io
import pickle
import tarfile
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

import cv2
import numpy as np
from torch.utils.data import IterableDataset, get_worker_info

from hggt_core.base.safe_pickle import RestrictedUnpickler, UnsafePickleError
from hggt_core.pipeline.types import ImageArray
from training.data.augment import AugmentConfig
from training.data.sample import HandSample
from training.data.views import MultiViewRecord, build_sample


class UnsafeLabelError(UnsafePickleError):
    """A label pickle references something outside the allow-list (or is not a pickle)."""


def load_label(data: bytes, name: str = "label.pyd") -> Any:
    """Unpickle a label safely (builtin containers, numbers, strings, numpy arrays only).

    Args:
        data: the pickle bytes.
        name: what the bytes are, for error messages.

    Raises:
        UnsafeLabelError: a refused global, or bytes that are not a readable pickle.
    """
    try:
        return RestrictedUnpickler(io.BytesIO(data)).load()
    except UnsafePickleError as exc:
        raise UnsafeLabelError(f"{name}: {exc}") from exc
    except Exception as exc:  # any other unpickling failure means a bad file
        raise UnsafeLabelError(f"{name}: not a readable label pickle: {exc}") from exc


def dump_label(label: Any) -> bytes:
    """Pickle a label of builtin containers and numpy arrays (protocol 4, readable above)."""
    return pickle.dumps(label, protocol=4)


def iter_tar_samples(path: str | Path) -> Iterator[tuple[str, dict[str, bytes]]]:
    """Group a WebDataset tar's members into samples: (key, {suffix: bytes}).

    The key is the member path up to the first dot of its file name, the suffix the rest
    (``abc/000001.image_0.jpg`` -> key ``abc/000001``, suffix ``image_0.jpg``).
    """
    key: str | None = None
    members: dict[str, bytes] = {}
    with tarfile.open(path, "r:*") as archive:
        for info in archive:
            if not info.isfile():
                continue
            folder, _, base = info.name.rpartition("/")
            stem, dot, suffix = base.partition(".")
            if not dot:
                continue
            member_key = f"{folder}/{stem}" if folder else stem
            if member_key != key and key is not None:
                yield key, members
                members = {}
            key = member_key
            stream = archive.extractfile(info)
            if stream is not None:
                members[suffix] = stream.read()
    if key is not None:
        yield key, members


def write_tar_sample(archive: tarfile.TarFile, key: str, members: Mapping[str, bytes]) -> None:
    """Append one sample's members (``<key>.<suffix>``) to an open tar."""
    for suffix, data in members.items():
        info = tarfile.TarInfo(f"{key}.{suffix}")
        info.size = len(data)
        archive.addfile(info, io.BytesIO(data))


def decode_image(data: bytes, name: str) -> ImageArray:
    """Decode JPEG/PNG bytes to [H, W, 3] uint8 RGB.

    Raises:
        ValueError: if the bytes are not a decodable colour image.
    """
    bgr = cv2.imdecode(np.frombuffer(data, dtype=np.uint8), cv2.IMREAD_COLOR)
    if bgr is None:
        raise ValueError(f"{name}: not a decodable image")
    return np.ascontiguousarray(bgr[:, :, ::-1])


def encode_jpeg(image: ImageArray, quality: int = 95) -> bytes:
    """Encode [H, W, 3] uint8 RGB as JPEG bytes."""
    ok, buffer = cv2.imencode(
        ".jpg", np.ascontiguousarray(image[:, :, ::-1]), [cv2.IMWRITE_JPEG_QUALITY, quality]
    )
    if not ok:
        raise ValueError("JPEG encoding failed")
    return bytes(buffer.tobytes())


class ShardDataset(IterableDataset[HandSample]):
    """Streams samples from tar shards; subclasses turn tar samples into records.

    Shards are split over DataLoader workers (shard i goes to worker i mod num_workers); the
    shard order is shuffled per epoch (:meth:`set_epoch`) unless ``shuffle_shards`` is False.
    Every sample's randomness comes from a generator seeded by (seed, epoch, worker).
    """

    def __init__(
        self,
        shards: Sequence[str | Path],
        augment: AugmentConfig,
        seed: int = 0,
        views: tuple[int, int] | int | None = None,
        random_first_view: bool = True,
        shuffle_shards: bool = True,
    ) -> None:
        """Store the settings (arguments: see :func:`training.data.views.build_sample`)."""
        super().__init__()
        if not shards:
            raise ValueError("no shards given")
        self.shards = tuple(Path(s) for s in shards)
        self.augment = augment
        self.seed = seed
        self.views = views
        self.random_first_view = random_first_view
        self.shuffle_shards = shuffle_shards
        self.epoch = 0

    def set_epoch(self, epoch: int) -> None:
        """Select the epoch (it reseeds the shard order and the augmentation)."""
        self.epoch = epoch

    def records_from(self, key: str, members: Mapping[str, bytes]) -> Iterator[MultiViewRecord]:
        """The records of one tar sample (subclasses implement)."""
        raise NotImplementedError

    def _worker_shards(self, rng: np.random.Generator) -> list[Path]:
        worker = get_worker_info()
        worker_id, num_workers = (0, 1) if worker is None else (worker.id, worker.num_workers)
        order = (
            rng.permutation(len(self.shards)) if self.shuffle_shards else range(len(self.shards))
        )
        return [self.shards[i] for i in order][worker_id::num_workers]

    def records(self, rng: np.random.Generator | None = None) -> Iterator[MultiViewRecord]:
        """Every record of this worker's shards (in shard order when ``rng`` is None)."""
        shards = self._worker_shards(rng) if rng is not None else list(self.shards)
        for shard in shards:
            for key, members in iter_tar_samples(shard):
                yield from self.records_from(f"{shard.name}:{key}", members)

    def __iter__(self) -> Iterator[HandSample]:
        """Samples of this worker's shards with fresh augmentation."""
        worker = get_worker_info()
        rng = np.random.default_rng([self.seed, self.epoch, 0 if worker is None else worker.id])
        for record in self.records(rng):
            yield build_sample(record, rng, self.augment, self.views, None, self.random_first_view)
