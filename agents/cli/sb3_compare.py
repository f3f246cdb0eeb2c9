"""``fg-env sb3-compare``: Stable-Baselines3 agents on the candidate view, fine-grained versus holistic
(:mod:`agents.experiments.sb3_compare`)."""

from __future__ import annotations

import argparse
from dataclasses import asdict
from pathlib import Path

from agents.cli import flags
from fg_env.command import add_config_arguments, add_progress_flag, given_fields


def arguments(parser: argparse.ArgumentParser) -> None:
    from agents.experiments.sb3_compare import POLICIES, SB3Arms, SB3CompareConfig

    flags.add_out_argument(
        parser,
        "sb3-compare",
        "folder for results.json, results.md, learning_curves.png and runs/ (resumed if it holds runs)",
    )
    arms = parser.add_argument_group("the arms (SB3Arms)")
    parser.set_defaults(arms_fields=add_config_arguments(arms, SB3Arms))
    settings = parser.add_argument_group("experiment (SB3CompareConfig)")
    names = add_config_arguments(
        settings,
        SB3CompareConfig,
        options={"featurizer": {"choices": ["hashing", "minilm", "both"]}, "policy": {"choices": list(POLICIES)}},
    )
    parser.set_defaults(sb3_fields=names)
    add_progress_flag(parser)


def run(args: argparse.Namespace) -> int:
    from agents.experiments.sb3_compare import SB3Arms, SB3CompareConfig, sb3_compare

    # sb3_compare() checks the algorithms, reward arms and seeds before it writes anything.
    arms = SB3Arms(**given_fields(args, args.arms_fields))
    config = SB3CompareConfig(**given_fields(args, args.sb3_fields))
    sb3_compare(args.out, config, **asdict(arms), progress=args.progress)
    out = Path(args.out)
    print(f"results: {out / 'results.md'}, {out / 'results.json'}, {out / 'learning_curves.png'}")
    return 0
