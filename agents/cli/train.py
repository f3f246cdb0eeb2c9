"""``fg-env train``: one run (:class:`~agents.experiments.run.RunSpec`) trained, resumable, and evaluated."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from agents.cli import flags
from fg_env.command import CommandError, add_progress_flag, given_fields

RUN_FIELDS = ("policy", "scheme", "weights")


def arguments(parser: argparse.ArgumentParser) -> None:
    flags.add_out_argument(
        parser,
        "train",
        "run folder: metrics.jsonl, checkpoint.pt, policy/, run.json, result.json (named: one folder per run)",
        required=True,
    )
    parser.add_argument("--resume", action="store_true", help="continue the run in --out from its last checkpoint")
    parser.set_defaults(run_fields=flags.add_run_arguments(parser, RUN_FIELDS))
    flags.add_reward_model_arguments(parser)
    flags.add_dataset_arguments(parser)
    flags.add_report_to_argument(parser)
    add_progress_flag(parser)
    flags.add_experiment_arguments(parser, seed=True)


def run(args: argparse.Namespace) -> int:
    from agents.experiments.run import RunSpec
    from agents.experiments.runner import check_run_scorers, run_and_evaluate
    from agents.experiments.schemes import get_scheme
    from fg_env.checkpoint import CHECKPOINT_NAME, load_checkpoint

    given = given_fields(args, args.run_fields)
    scheme, weights, policy = given.get("scheme", "fine-grained"), given.get("weights"), given.get("policy")
    get_scheme(scheme)
    reward_models = flags.reward_models(args)
    dataset = flags.dataset(args, reward_models)
    flags.check_weights(weights, reward_models=reward_models.for_scheme(scheme))
    flags.check_policy_path(policy)
    flags.check_report_to(args.report_to)
    config = flags.experiment_config(args)
    flags.check_trainer(config)
    get_scheme(scheme).settings_for(config.training)  # a setting the trainer lacks fails now, not after SFT
    out = Path(args.out)
    checkpoint = out / CHECKPOINT_NAME
    if args.resume:
        load_checkpoint(checkpoint)  # missing or corrupt: a clear error now, not after SFT
        check_run_scorers(dataset.annotator, out)  # another annotator's run: refused now, not after SFT
    elif checkpoint.exists():
        raise CommandError(
            f"{str(out)!r} already holds a run (checkpoint.pt); pass --resume to continue it or choose another --out"
        )
    policy_path = flags.resolve_policy(policy, config.sft == "quick", args.progress)
    # `train` runs the experiment's settings as given: a scheme's own KL coefficient (compare's) is not applied;
    # a scheme's trainer settings (fine-grained-normalized's) are, by RunSpec.
    spec = RunSpec.from_experiment(
        config, policy_path, scheme, weights=weights, reward_models=reward_models, dataset=dataset
    )
    result = run_and_evaluate(spec, out, progress=args.progress, report_to=args.report_to)
    if "eval" not in result:  # another than the main process of a data-parallel run: it has nothing to print
        return 0
    summary = {
        k: result["eval"][k] for k in ("relevance_ratio", "factuality_ratio", "completeness", "rouge_l", "length")
    }
    print(f"trained policy: {out / 'policy'}")
    print(json.dumps(summary, indent=2))
    return 0
