# Copyright 2026 The HGGT-ROS Authors
# SPDX-License-Identifier: Apache-2.0
"""Bases for ``with`` blocks: close a resource, or finish an output all or nothing."""

from __future__ import annotations

from abc import ABC, abstractmethod
from types import TracebackType
from typing import Self


class Closeable(ABC):
    """``__enter__`` returns the object, ``__exit__`` calls :meth:`close` (errors propagate)."""

    @abstractmethod
    def close(self) -> None:
        """Release the resources (safe to call more than once)."""

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()


class AllOrNothing(ABC):
    """An output finished by :meth:`close` or discarded by :meth:`abort`, never half-written.

    ``__enter__`` returns the object; ``__exit__`` closes it when the block succeeds and aborts
    it when the block raises (the error propagates).
    """

    @abstractmethod
    def close(self) -> object:
        """Finish the output and put it in place (safe to call more than once)."""

    @abstractmethod
    def abort(self) -> None:
        """Discard everything written; the destination is left as it was (idempotent)."""

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        if exc_type is None:
            self.close()
        else:
            self.abort()
