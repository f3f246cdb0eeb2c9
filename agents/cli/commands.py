"""The agents' sub-commands of ``fg-env``: sft, train, evaluate, compare, sweep-weights, learned-vs-exact, sb3-compare.

``fg_env.cli`` finds :func:`register` through the ``fg_env.commands`` entry-point group, so the environment
package never imports agent code. Each command is a module of this package with ``arguments(parser)`` (its
flags, built from the settings dataclasses: :mod:`agents.cli.flags`) and ``run(args)``, imported only when
that command is parsed or run, so ``fg-env --help`` imports no torch.
"""

from __future__ import annotations

import argparse
import importlib
from collections.abc import Callable
from typing import Any

from fg_env.command import add_command

#: Each command's module and its one-line help.
COMMANDS: dict[str, tuple[str, str]] = {
    "sft": ("agents.cli.sft", "build (or reuse) the default SFT policy and report its error rates"),
    "train": ("agents.cli.train", "fine-tune a policy with a trainer (PPO by default) under a reward scheme"),
    "evaluate": ("agents.cli.evaluate", "greedy answers of a policy on dev or test, scored by fg_env's metrics"),
    "compare": ("agents.cli.compare", "SFT, then fine-grained versus holistic PPO over seeds: table and plot"),
    "sweep-weights": (
        "agents.cli.sweep",
        "train with several weights of one reward component; tabulate length and ratios",
    ),
    "learned-vs-exact": (
        "agents.cli.learned_vs_exact",
        "PPO on reward models learned from the annotator's feedback, scored by the annotator: proxy vs exact against KL",
    ),
    "sb3-compare": (
        "agents.cli.sb3_compare",
        "Stable-Baselines3 PPO and DQN on the candidate view: fine-grained versus holistic, with bounds",
    ),
}


def _arguments(module: str) -> Callable[[argparse.ArgumentParser], Any]:
    def arguments(parser: argparse.ArgumentParser) -> Any:
        return importlib.import_module(module).arguments(parser)

    return arguments


def _run(module: str) -> Callable[[argparse.Namespace], int]:
    """The command's ``run``, with transformers' own progress bars ("Loading weights") off under ``--no-progress``."""

    def run(args: argparse.Namespace) -> int:
        if not getattr(args, "progress", True):
            from transformers.utils import logging as hf_logging

            hf_logging.disable_progress_bar()
        return int(importlib.import_module(module).run(args))

    return run


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add the agents' commands to ``fg-env`` (entry point ``fg_env.commands: agents``).

    Registering imports nothing heavy: each command's module (and the settings classes its flags come
    from) is imported when that command is parsed.
    """
    for name, (module, help_text) in COMMANDS.items():
        add_command(subparsers, name, _run(module), arguments=_arguments(module), help=help_text)
