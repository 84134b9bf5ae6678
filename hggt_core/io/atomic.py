# Copyright 2026 The HGGT-ROS Authors
# SPDX-License-Identifier: Apache-2.0
"""Atomic file replacement: a reader sees the old file or the complete new one, never a part.

Used by every single-file writer in :mod:`hggt_core.io` (results, meshes, images). It has no
dependencies beyond the standard library, so a module that only writes images does not pull
in the exporters.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import IO

_NEW_FILE_MODE = 0o644  # rw-r--r-- whatever the umask, as for a file written with open()


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
