"""``fg-env compare``: the paper's experiment, fine-grained versus holistic over seeds (:mod:`agents.experiments.compare`)."""

from __future__ import annotations

import argparse
from pathlib import Path

from agents.cli import flags
from fg_env.command import add_config_arguments, add_progress_flag, given_fields


def arguments(parser: argparse.ArgumentParser) -> None:
    from agents.experiments.compare import Arms

    flags.add_out_argument(
        parser, "compare", "folder for results.json, results.md, learning_curve.png, report.html and runs/"
    )
    arms = parser.add_argument_group("the arms (Arms)")
    parser.set_defaults(arms_fields=add_config_arguments(arms, Arms))
    parser.set_defaults(run_fields=flags.add_run_arguments(parser, ("policy", "weights")))
    flags.add_reward_model_arguments(parser)
    flags.add_dataset_arguments(parser)
    flags.add_report_to_argument(parser)
    add_progress_flag(parser)
    flags.add_experiment_arguments(parser, seed=False, scheme_kl_coef=True)


def run(args: argparse.Namespace) -> int:
    from agents.experiments.compare import Arms, compare

    flags.single_process("compare")
    arms = Arms(**given_fields(args, args.arms_fields))  # checks the schemes and seeds
    given = given_fields(args, args.run_fields)
    reward_models = flags.reward_models(args)
    dataset = flags.dataset(args, reward_models)
    flags.check_weights(given.get("weights"), reward_models=reward_models.models)
    flags.check_policy_path(given.get("policy"))
    flags.check_report_to(args.report_to)
    config = flags.experiment_config(args)
    compare(
        args.out,
        config,
        arms,
        weights=given.get("weights"),
        policy_path=flags.given_policy(given.get("policy"), config, args.progress),
        progress=args.progress,
        report_to=args.report_to,
        reward_models=reward_models,
        dataset=dataset,
    )
    out = Path(args.out)
    print(f"results: {out / 'results.md'}, {out / 'results.json'}, {out / 'learning_curve.png'}, {out / 'report.html'}")
    return 0
