"""``fg-env sweep-weights``: fine-grained runs over one component's weight (:mod:`agents.experiments.sweep`)."""

from __future__ import annotations

import argparse

from agents.cli import flags
from fg_env.command import add_config_arguments, add_progress_flag, given_fields


def arguments(parser: argparse.ArgumentParser) -> None:
    from agents.experiments.sweep import Sweep

    flags.add_out_argument(parser, "sweep-weights", "folder for results.json, results.md, sweep.png and runs/")
    sweep = parser.add_argument_group("the sweep (Sweep)")
    parser.set_defaults(sweep_fields=add_config_arguments(sweep, Sweep))
    parser.set_defaults(run_fields=flags.add_run_arguments(parser, ("policy", "weights")))
    flags.add_report_to_argument(parser)
    add_progress_flag(parser)
    flags.add_experiment_arguments(parser, seed=False)


def run(args: argparse.Namespace) -> int:
    from agents.experiments.sweep import Sweep, sweep_weights

    flags.single_process("sweep-weights")
    sweep = Sweep(**given_fields(args, args.sweep_fields))  # checks the component, values and seeds
    given = given_fields(args, args.run_fields)
    flags.check_weights(given.get("weights"))
    flags.check_policy_path(given.get("policy"))
    flags.check_report_to(args.report_to)
    config = flags.experiment_config(args)
    sweep_weights(
        args.out,
        config,
        sweep,
        weights=given.get("weights"),
        policy_path=flags.given_policy(given.get("policy"), config, args.progress),
        progress=args.progress,
        report_to=args.report_to,
    )
    return 0
