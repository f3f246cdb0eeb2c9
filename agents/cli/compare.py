"""``fg-env compare``: the paper's experiment, fine-grained versus holistic over seeds (:mod:`agents.experiments.compare`)."""

from __future__ import annotations

import argparse
from dataclasses import replace
from pathlib import Path
from typing import Any

from agents.cli import flags
from fg_env.command import CommandError, add_config_arguments, add_progress_flag, given_fields

#: The environments `fg-env compare` runs the paper's experiment on: long-form QA (the default) and detoxification.
ENVS = ("FineGrainedQA-v0", "FineGrainedDetox-v0")
#: Flags of the QA experiment only: its reward models, datasets and weights of three reward models.
QA_ONLY = {
    "weights": "--weights",
    "models": "--reward-models",
    "preference": "--preference-model",
    "name": "--dataset",
    "data_dir": "--data-dir",
    "train_split": "--train-split",
    "eval_split": "--eval-split",
}
#: The detoxification experiment's evaluation flags (agents.experiments.detox.DetoxProtocol).
DETOX_PROTOCOL_FIELDS = ("dev_prompts", "test_prompts", "eval_samples", "perplexity_model")


def arguments(parser: argparse.ArgumentParser) -> None:
    from agents.experiments.compare import Arms

    parser.add_argument(
        "--env",
        choices=ENVS,
        default=ENVS[0],
        help=(
            "the experiment: FineGrainedQA-v0 (long-form QA) or FineGrainedDetox-v0 "
            "(detoxification, Table 1 and Figure 2: agents/experiments/detox.py; its presets size the runs, and "
            "the reward-model, dataset and weight flags do not apply)"
        ),
    )
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
    from agents.experiments.detox import DETOX_PRESETS, DetoxProtocol

    detox = parser.add_argument_group(
        "detoxification evaluation (DetoxProtocol; --env FineGrainedDetox-v0 only; defaults: the preset's)"
    )
    shown = {
        name: "; ".join(f"{preset} preset: {getattr(p.protocol, name)}" for preset, p in DETOX_PRESETS.items())
        for name in DETOX_PROTOCOL_FIELDS
        if name != "perplexity_model"
    }
    parser.set_defaults(
        detox_fields=add_config_arguments(detox, DetoxProtocol, include=DETOX_PROTOCOL_FIELDS, defaults=shown)
    )


def run(args: argparse.Namespace) -> int:
    from agents.experiments.compare import Arms, compare

    flags.single_process("compare")
    arms = Arms(**given_fields(args, args.arms_fields))  # checks the schemes and seeds
    if args.env == "FineGrainedDetox-v0":
        return _run_detox(args, arms)
    detox_only = [f"--{name.replace('_', '-')}" for name in given_fields(args, args.detox_fields)]
    if detox_only:
        raise CommandError(
            f"{', '.join(detox_only)}: settings of the detoxification experiment (--env FineGrainedDetox-v0)"
        )
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


def _run_detox(args: argparse.Namespace, arms: Any) -> int:
    """The detoxification experiment (:func:`agents.experiments.detox.detox_compare`)."""
    from agents.experiments.detox import DETOX_PRESETS, detox_compare

    given = given_fields(args, [*args.run_fields, *QA_ONLY])
    refused = [flag for name, flag in QA_ONLY.items() if name in given]
    if refused:
        listed = ", ".join(refused)
        raise CommandError(f"{listed}: not a setting of the detoxification experiment (--env FineGrainedDetox-v0)")
    flags.check_policy_path(given.get("policy"))
    flags.check_report_to(args.report_to)
    config = flags.experiment_config(args, DETOX_PRESETS)
    policy = given.get("policy")
    if policy is not None and policy not in flags.DEFAULT_POLICY:
        from agents.policies.policy import LMPolicy

        LMPolicy.from_pretrained(policy)  # fails now, naming the problem, rather than after the first run
    else:
        policy = None
    protocol = replace(DETOX_PRESETS[flags.preset_name(args)].protocol, **given_fields(args, args.detox_fields))
    if protocol.perplexity_model is not None:
        from agents.policies.policy import LMPolicy

        flags.check_policy_path(protocol.perplexity_model)
        LMPolicy.from_pretrained(protocol.perplexity_model)  # a judge that cannot load fails before any training
    detox_compare(
        args.out,
        config,
        protocol,
        arms,
        policy_path=policy,
        progress=args.progress,
        report_to=args.report_to,
    )
    out = Path(args.out)
    print(f"results: {out / 'results.md'}, {out / 'results.json'}, {out / 'eval_curves.png'}, {out / 'report.html'}")
    return 0
