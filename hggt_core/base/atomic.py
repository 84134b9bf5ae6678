# Copyright 2026 The HGGT-ROS Authors
# SPDX-License-Identifier: Apache-2.0
"""Atomic outputs: a reader sees the old file or folder or the complete new one, never a part.

:func:`atomic_write` serves every single-file writer in :mod:`hggt_core.io` (results, meshes,
images); :class:`StagedDirectory` serves commands that write a whole folder (``hggt infer``):
the folder is built under a hidden name beside its destination and renamed into place when
complete, so a failed or interrupted run leaves either the earlier output or nothing. The
module has no dependencies beyond the standard library, so a module that only writes images
does not pull in the exporters.
"""

from __future__ import annotations

import contextlib
import os
import secrets
import shutil
import tempfile
from collections.abc import Collection, Iterator
from pathlib import Path
from typing import IO

from hggt_core.base.closeable import AllOrNothing

_NEW_FILE_MODE = 0o644  # rw-r--r-- whatever the umask, as for a file written with open()
_LISTED_ENTRIES = 3


class DestinationInUseError(ValueError):
    """A folder's destination holds something that is not an earlier output of the same kind."""


@contextlib.contextmanager
def atomic_write(path: str | os.PathLike[str]) -> Iterator[IO[bytes]]:
    """Open a binary stream whose content replaces ``path`` only if the block succeeds.

    The data goes to a hidden temporary file in the same folder, is flushed to disk, and is
    renamed over ``path``; on an exception the temporary file is removed and ``path`` is left
    as it was. A new file gets mode 0644; a replaced one keeps its mode.

    Raises:
        OSError: the folder does not exist or is not writable.
    """
    file = Path(path)
    descriptor, temporary = tempfile.mkstemp(
        dir=file.parent, prefix=f".{file.name}.", suffix=".tmp"
    )
    try:
        with os.fdopen(descriptor, "wb") as stream:
            yield stream
            stream.flush()
            os.fsync(stream.fileno())
        mode = file.stat().st_mode & 0o7777 if file.exists() else _NEW_FILE_MODE
        os.chmod(temporary, mode)
        os.replace(temporary, file)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(temporary)
        raise


def check_replaceable(path: str | os.PathLike[str], replaceable: Collection[str]) -> None:
    """Check that a folder may be written to ``path``, replacing what is there.

    Args:
        path: the destination folder.
        replaceable: the names of the entries an earlier output holds; an existing folder is
            replaced only when it holds nothing else (an empty folder always).

    Raises:
        DestinationInUseError: ``path`` is a file, or a folder that holds other entries
            (the first few named), which are never deleted.
    """
    destination = Path(path)
    if not os.path.lexists(destination):
        return
    if not destination.is_dir():
        raise DestinationInUseError(f"{destination} exists and is not a folder")
    others = sorted(entry.name for entry in destination.iterdir() if entry.name not in replaceable)
    if others:
        shown = ", ".join(others[:_LISTED_ENTRIES])
        more = f", ... (+{len(others) - _LISTED_ENTRIES})" if len(others) > _LISTED_ENTRIES else ""
        raise DestinationInUseError(
            f"{destination} exists and holds other files ({shown}{more}); not writing into "
            "it: choose a new or empty folder"
        )


class StagedDirectory(AllOrNothing):
    """A folder written under a hidden name beside its destination, moved there when complete.

    Write into :attr:`staging`; :meth:`commit` renames it to the destination (replacing an
    earlier output there), :meth:`abort` deletes it. As a context manager it commits when
    the block succeeds and discards on any exception, KeyboardInterrupt included. A symbolic
    link as destination is followed: its target is replaced, the link kept.

    Example:
        >>> with StagedDirectory("out", replaceable={"results.npz"}) as staged:  # doctest: +SKIP
        ...     save_npz(staged.staging / "results.npz", results)
    """

    def __init__(self, path: str | os.PathLike[str], replaceable: Collection[str] = ()) -> None:
        """Check the destination and create the hidden staging folder beside it.

        Args:
            path: the destination folder (its parent is created if missing).
            replaceable: entry names of an earlier output (see :func:`check_replaceable`).

        Raises:
            DestinationInUseError: the destination holds something else.
        """
        destination = Path(path)
        if destination.is_symlink() or destination.name in ("", ".."):  # e.g. "-o ."
            destination = destination.resolve()
        self.destination = destination
        """Where the folder goes."""
        self._replaceable = frozenset(replaceable)
        check_replaceable(self.destination, self._replaceable)
        self.destination.parent.mkdir(parents=True, exist_ok=True)
        self.staging = _new_hidden_folder(self.destination, "partial")
        """The folder to write into (same file system as the destination)."""
        self._finished = False

    def commit(self) -> Path:
        """Move the staged folder to the destination; returns the destination.

        An earlier output is moved aside first and deleted once the new folder is in place
        (it is put back if the move fails). On any failure the staged folder is discarded.

        Raises:
            DestinationInUseError: something else appeared at the destination meanwhile.
            RuntimeError: already committed or discarded.
        """
        if self._finished:
            raise RuntimeError(f"{self.staging} was already committed or discarded")
        try:
            check_replaceable(self.destination, self._replaceable)
            earlier = None
            if os.path.lexists(self.destination):
                earlier = self.destination.with_name(_hidden_name(self.destination, "old"))
                os.replace(self.destination, earlier)
            try:
                os.replace(self.staging, self.destination)
            except BaseException:
                if earlier is not None:
                    os.replace(earlier, self.destination)
                raise
        except BaseException:
            self.abort()
            raise
        self._finished = True
        if earlier is not None:
            shutil.rmtree(earlier, ignore_errors=True)
        return self.destination

    def close(self) -> Path:
        """Commit unless already committed or discarded; returns the destination."""
        if not self._finished:
            self.commit()
        return self.destination

    def abort(self) -> None:
        """Delete the staged folder; the destination is left as it was. Idempotent."""
        if not self._finished:
            self._finished = True
            shutil.rmtree(self.staging, ignore_errors=True)


def _hidden_name(destination: Path, kind: str) -> str:
    return f".{destination.name}.{secrets.token_hex(4)}.{kind}"


def _new_hidden_folder(destination: Path, kind: str) -> Path:
    """A new, empty folder beside ``destination``, with the umask's usual permissions."""
    while True:
        folder = destination.with_name(_hidden_name(destination, kind))
        try:
            folder.mkdir()  # not mkdtemp: its 0700 mode would become the output's
        except FileExistsError:
            continue
        return folder
