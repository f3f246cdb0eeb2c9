"""The ``fg-env`` command.

Sub-commands come from this package (``info``, ``integrity``, ``serve``, ``rm``) and from plug-ins that declare a
``register(subparsers)`` function in the ``fg_env.commands`` entry-point group (the ``agents`` package
adds ``sft``, ``train``, ``evaluate``, ``compare`` and ``sweep-weights`` this way), so ``fg_env``
never imports agent code. Every sub-command is a :class:`fg_env.command.CommandParser`: its flags are
added when it is parsed, and bad input is reported in one line with exit status 2.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Sequence
from importlib.metadata import entry_points
from typing import Any

from fg_env.command import CommandParser, add_command

COMMAND_GROUP = "fg_env.commands"


def _info(args: argparse.Namespace) -> int:
    import gymnasium as gym

    import fg_env  # noqa: F401 - registers the environment
    from fg_env.data import available_datasets
    from fg_env.rewards import available_reward_models

    env = gym.make("FineGrainedQA-v0")
    unwrapped: Any = env.unwrapped  # FineGrainedQAEnv
    print(f"fg_env {fg_env.__version__}")
    print(f"datasets:       {', '.join(available_datasets())}")
    print(f"reward models:  {', '.join(available_reward_models())}")
    print(f"default env:    FineGrainedQA-v0, dataset=synthetic, split=train ({len(unwrapped.examples)} questions)")
    weights = ", ".join(f"{w:g}" for w in unwrapped.default_weights.tolist())
    print(f"reward vector:  {unwrapped.reward_names} (default weights {weights})")
    return 0


def _integrity_arguments(parser: argparse.ArgumentParser) -> None:
    from fg_env.data.synthetic.integrity import add_arguments

    add_arguments(parser)


def _integrity(args: argparse.Namespace) -> int:
    from fg_env.data.synthetic.integrity import run_command

    return run_command(args)


def _serve_arguments(parser: argparse.ArgumentParser) -> None:
    import json

    from fg_env.command import float_list, positive_int

    example = '{"max_sentences": 6}'

    def json_object(text: str) -> dict[str, Any]:
        try:
            value = json.loads(text)
        except json.JSONDecodeError as error:
            raise argparse.ArgumentTypeError(f"expected a JSON object such as {example}: {error}") from None
        if not isinstance(value, dict):
            raise argparse.ArgumentTypeError(f"expected a JSON object such as {example}, got {text!r}")
        return value

    parser.add_argument(
        "--env",
        default="FineGrainedQA-v0",
        help="registered env id to serve; 'package:Env-v0' imports its package first",
    )
    parser.add_argument(
        "--env-kwargs", type=json_object, default=None, help=f"the env's arguments, as a JSON object ({example})"
    )
    parser.add_argument("--host", default="127.0.0.1", help="address to listen on (127.0.0.1: this machine only)")
    parser.add_argument("--port", type=positive_int, default=8000, help="port to listen on")
    parser.add_argument(
        "--weights", type=float_list, default=None, help="weights of OpenEnv's scalar reward (default: the env's)"
    )
    parser.add_argument("--max-sessions", type=positive_int, default=64, help="sessions (connections) open at once")
    parser.add_argument("--log-level", default="info", help="uvicorn's log level")


def _serve(args: argparse.Namespace) -> int:
    import fg_env  # noqa: F401 - registers the environments
    from fg_env.integrations.openenv import serve

    serve(
        args.env,
        host=args.host,
        port=args.port,
        weights=args.weights,
        max_sessions=args.max_sessions,
        env_kwargs=args.env_kwargs,
        log_level=args.log_level,
    )
    return 0


def _register_builtin(subparsers: argparse._SubParsersAction) -> None:
    add_command(subparsers, "info", _info, help="list datasets, reward models and the default environment")
    add_command(
        subparsers,
        "integrity",
        _integrity,
        arguments=_integrity_arguments,
        help="probe the built-in world's annotator with adversarial and fair answers and report pass rates",
        description="Probe the built-in world's annotator with adversarial variants of gold sentences, each "
        "with the label a careful annotator gives it, and print each class's pass rate; then with fair "
        "rewordings of gold sentences, which must keep their credit, and print each family's pass rate on "
        "the dev and held-out halves of its phrasings.",
    )
    add_command(
        subparsers,
        "serve",
        _serve,
        arguments=_serve_arguments,
        help="serve an environment over OpenEnv (WebSocket sessions; needs the openenv extra)",
        description="Serve an fg_env environment over OpenEnv: one session per WebSocket connection, the reward "
        "vector and the scored segments in each step's metadata, the weighted sum as OpenEnv's reward. Clients: "
        "fg_env.integrations.openenv.RemoteFineGrainedEnv (a Gymnasium env) or FineGrainedEnvClient (OpenEnv's).",
    )
    try:
        from fg_env.rewards.learned.cli import register as register_rm
    except ModuleNotFoundError as error:  # only when the learned-reward package is absent from this build
        if error.name is None or not error.name.startswith("fg_env.rewards.learned"):
            raise
    else:
        register_rm(subparsers)


def _plugins() -> list[Callable[[argparse._SubParsersAction], None]]:
    return [ep.load() for ep in sorted(entry_points(group=COMMAND_GROUP), key=lambda ep: ep.name)]


def build_parser() -> argparse.ArgumentParser:
    """The ``fg-env`` parser with every sub-command (whose flags are added when it is parsed).

    Example:
        >>> build_parser().parse_args(["info"]).command
        'info'
    """
    parser = CommandParser(prog="fg-env", description="Fine-grained reward environments for language-model RL.")
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND")
    _register_builtin(subparsers)
    for register in _plugins():
        register(subparsers)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "func", None):
        parser.print_help()
        return 2
    return int(args.func(args) or 0)


if __name__ == "__main__":
    sys.exit(main())
