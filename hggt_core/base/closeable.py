# Copyright 2026 The HGGT-ROS Authors
# SPDX-License-Identifier: Apache-2.0
"""A base for objects holding resources: ``with`` blocks call their ``close``."""

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
