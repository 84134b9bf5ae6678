# Copyright 2026 The HGGT-ROS Authors
# SPDX-License-Identifier: Apache-2.0
"""The one place where the core's :mod:`logging` records reach the node's ROS logger.

The core logs with :mod:`logging` (it is ROS-free). Inside the node, its records go to the
node's logger instead (rcutils: console with ``[WARN]`` severities, the ROS log files,
``/rosout``), as ``<node logger>.<python logger>``, e.g. ``hggt_node.hggt_core.assembly.factory``.
The Python loggers take the node logger's severity threshold, so records the node would not
show are not even built, and they stop propagating (no second copy on the root logger).
"""

from __future__ import annotations

import logging
from typing import Protocol

ROUTED_LOGGERS = ("hggt_core", "hggt_ros")
"""Python logger trees sent to the node's logger."""


class RosLogger(Protocol):
    """The part of ``rclpy``'s logger the bridge uses."""

    def get_child(self, name: str) -> RosLogger:
        """The logger ``<this name>.<name>``."""

    def get_effective_level(self) -> int:
        """The severity threshold (rclpy's levels have Python's numbers: 10 DEBUG ... 50)."""

    def debug(self, message: str) -> bool:
        """Log at DEBUG."""

    def info(self, message: str) -> bool:
        """Log at INFO."""

    def warning(self, message: str) -> bool:
        """Log at WARN."""

    def error(self, message: str) -> bool:
        """Log at ERROR."""

    def fatal(self, message: str) -> bool:
        """Log at FATAL."""


class RosLogHandler(logging.Handler):
    """Forwards each record to ``ros_logger.<record's logger name>`` at its severity.

    Args:
        ros_logger: the node's logger.
    """

    def __init__(self, ros_logger: RosLogger) -> None:
        super().__init__()
        self._ros_logger = ros_logger
        self.setFormatter(logging.Formatter("%(message)s"))

    def emit(self, record: logging.LogRecord) -> None:
        """Log the formatted record (message, and the traceback if any) through ROS."""
        try:
            text = self.format(record)
            logger = self._ros_logger.get_child(record.name)
            if record.levelno >= logging.CRITICAL:
                logger.fatal(text)
            elif record.levelno >= logging.ERROR:
                logger.error(text)
            elif record.levelno >= logging.WARNING:
                logger.warning(text)
            elif record.levelno >= logging.INFO:
                logger.info(text)
            else:
                logger.debug(text)
        except Exception:  # logging must never break the caller (logging.Handler's contract)
            self.handleError(record)


class CoreLogRoute:
    """Routes :data:`ROUTED_LOGGERS` to a ROS logger until :meth:`close`.

    Args:
        ros_logger: the node's logger.
    """

    def __init__(self, ros_logger: RosLogger) -> None:
        self._handler = RosLogHandler(ros_logger)
        self._saved: list[tuple[logging.Logger, int, bool]] = []
        for name in ROUTED_LOGGERS:
            logger = logging.getLogger(name)
            self._saved.append((logger, logger.level, logger.propagate))
            logger.addHandler(self._handler)
            logger.setLevel(ros_logger.get_effective_level())
            logger.propagate = False

    def close(self) -> None:
        """Detach the handler and restore the loggers' levels (idempotent)."""
        for logger, level, propagate in self._saved:
            logger.removeHandler(self._handler)
            logger.setLevel(level)
            logger.propagate = propagate
        self._saved = []
