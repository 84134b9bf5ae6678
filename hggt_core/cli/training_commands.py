# Copyright 2026 The HGGT-ROS Authors
# SPDX-License-Identifier: Apache-2.0
"""``hggt train`` and ``hggt eval``: the repository's ``training`` package under one command.

``training`` builds on ``hggt_core``, never the other way round; these commands import it by
name only when they run, so the core keeps no dependency on it. Every argument after the
command goes to ``python -m training.train`` / ``python -m training.eval`` unchanged (their
``--help`` lists the options).
"""

from __future__ import annotations

import argparse
import importlib
import logging

_COMMANDS = {
    "train": ("training.train", "train HGGT from a configuration file (DDP under torchrun)"),
    "eval": ("training.eval", "evaluate a checkpoint or a baseline on held-out sets"),
}


def add_training_parsers(
    commands: argparse._SubParsersAction[argparse.ArgumentParser],
) -> None:
    """Register ``hggt train`` and ``hggt eval``."""
    for name, (module, summary) in _COMMANDS.items():
        commands.add_parser(name, help=summary, add_help=False).set_defaults(
            run=run_training_command,
            pipeline=False,
            verbose=False,
            module=module,
            forwards_arguments=True,
        )


def run_training_command(args: argparse.Namespace) -> int:
    """Run the command's module with the remaining arguments; 0 on success."""
    try:
        module = importlib.import_module(args.module)
    except ModuleNotFoundError as error:
        raise ImportError(
            f"{args.module} is not installed ({error}); install the hggt_ros package from its "
            "source tree (pip install .[train])"
        ) from error
    logging.getLogger("training").setLevel(logging.INFO)
    module.main(args.forwarded)
    return 0
