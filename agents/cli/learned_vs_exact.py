"""``fg-env learned-vs-exact``: PPO on reward models learned from the annotator's feedback, audited by the
annotator (:mod:`agents.experiments.learned_vs_exact`)."""

from __future__ import annotations

import argparse
from dataclasses import asdict
from pathlib import Path

from agents.cli import flags
from fg_env.command import add_config_arguments, add_progress_flag, given_fields


def arguments(parser: argparse.ArgumentParser) -> None:
    from agents.experiments.learned_vs_exact import LearnedRewardsConfig, StudyRuns

    flags.add_out_argument(
        parser,
        "learned-vs-exact",
        "folder for feedback/, reward_models/, compare/, learned_vs_exact.png and .md, results.json (resumed)",
    )
    runs = parser.add_argument_group("the runs (StudyRuns)")
    parser.set_defaults(study_fields=add_config_arguments(runs, StudyRuns))
    rewards = parser.add_argument_group("learned reward models (LearnedRewardsConfig)")
    names = add_config_arguments(rewards, LearnedRewardsConfig, options={"backbone": {"metavar": "PATH"}})
    parser.set_defaults(learned_fields=names)
    parser.set_defaults(run_fields=flags.add_run_arguments(parser, ("policy",)))
    add_progress_flag(parser)
    flags.add_experiment_arguments(parser, seed=False)


def run(args: argparse.Namespace) -> int:
    from agents.experiments.learned_vs_exact import LearnedRewardsConfig, StudyRuns, learned_vs_exact

    flags.single_process("learned-vs-exact")
    policy = given_fields(args, args.run_fields).get("policy")
    flags.check_policy_path(policy)
    study = StudyRuns(**given_fields(args, args.study_fields))  # checks the seeds
    settings = LearnedRewardsConfig(**given_fields(args, args.learned_fields))
    config = flags.experiment_config(args)
    learned_vs_exact(
        args.out,
        config,
        settings,
        **asdict(study),
        policy_path=flags.given_policy(policy, config, args.progress),
        progress=args.progress,
    )
    out = Path(args.out)
    print(f"results: {out / 'learned_vs_exact.md'}, {out / 'learned_vs_exact.png'}, {out / 'results.json'}")
    return 0
