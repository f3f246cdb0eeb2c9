"""``fg-env rm train`` and ``fg-env rm eval``: from feedback to a reward model, and its evaluation.

Examples (QA-Feedback's dev feedback, first 400 questions to train, last 100 to evaluate)::

    fg-env rm train --component relevance --feedback path/to/qa_feedback/dev_feedback.json \\
        --questions 0:400 --out runs/rm/relevance
    fg-env rm eval --model runs/rm/relevance --feedback path/to/qa_feedback/dev_feedback.json \\
        --questions 400:500 --json runs/rm/relevance/eval.json

The training flags are the fields of :class:`~fg_env.rewards.learned.config.TrainingConfig` (their help
is the fields' help). Bad input (a missing feedback file, a malformed one, a negative learning rate...)
is reported in one line with exit status 2. torch and transformers are imported only when a command
runs, so ``fg-env --help`` stays fast.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from fg_env.command import (
    CommandParser,
    add_command,
    add_config_arguments,
    add_progress_flag,
    given_fields,
    positive_int,
)
from fg_env.rewards.learned.components import COMPONENTS

FEEDBACK_HELP = (
    "'synthetic' (the built-in world, labelled by its annotator), a QA-Feedback feedback file "
    "(dev_feedback.json, train_feedback.json) or the folder holding them"
)
TRAINING_FIELDS = "training_fields"  # where `rm train` keeps the names of its TrainingConfig flags


def _add_data_arguments(parser: argparse.ArgumentParser, seed: bool = True) -> None:
    data = parser.add_argument_group("feedback")
    data.add_argument("--feedback", required=True, metavar="PATH_OR_synthetic", help=FEEDBACK_HELP)
    data.add_argument(
        "--split",
        default=None,
        help="feedback split in a QA-Feedback folder (train, dev), or the built-in world's split "
        "(default: train for `rm train`, dev for `rm eval`)",
    )
    data.add_argument(
        "--questions",
        default=None,
        metavar="START:END",
        help="questions to use, Python slice syntax over the file's or split's order (e.g. 0:400, 400:)",
    )
    data.add_argument(
        "--max-questions", type=positive_int, default=None, metavar="N", help="use at most N questions of the selection"
    )
    data.add_argument(
        "--samples-per-question",
        type=positive_int,
        default=4,
        metavar="N",
        help="synthetic only: perturbed answers sampled per question besides the gold one",
    )
    data.add_argument(
        "--answers",
        default=None,
        metavar="FILE",
        help="synthetic only: a JSON file of question id -> answers (e.g. a policy's samples) to label besides them",
    )
    if seed:  # `rm train` has TrainingConfig's --seed, which seeds the sampled answers too
        data.add_argument("--seed", type=int, default=0, help="seed of synthetic answer sampling")
    machine = parser.add_argument_group("machine")
    machine.add_argument(
        "--threads", type=positive_int, default=None, metavar="N", help="torch CPU threads (default: torch's choice)"
    )
    machine.add_argument("--device", default=None, help="cpu or cuda (default: cuda when available)")


def _train_arguments(parser: argparse.ArgumentParser) -> None:
    from fg_env.rewards.learned.config import TrainingConfig

    parser.add_argument("--out", required=True, metavar="DIR", help="folder to save the model in")
    parser.add_argument(
        "--resume", action="store_true", help="continue an interrupted run from its last finished epoch in --out"
    )
    add_progress_flag(parser)
    training = parser.add_argument_group("training (TrainingConfig)")
    names = add_config_arguments(
        training,
        TrainingConfig,
        options={
            "component": {"choices": sorted(COMPONENTS)},
            "backbone": {"metavar": "PATH"},
        },
    )
    parser.set_defaults(**{TRAINING_FIELDS: names})
    _add_data_arguments(parser, seed=False)


def _eval_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--model", required=True, metavar="DIR", help="a folder written by `fg-env rm train`")
    parser.add_argument("--batch-size", type=positive_int, default=32, help="rows per forward pass")
    parser.add_argument("--json", default=None, metavar="PATH", help="also write the result as JSON")
    _add_data_arguments(parser)


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add the ``rm`` command (``train``, ``eval``) to the ``fg-env`` parser."""
    rm = subparsers.add_parser(
        "rm", help="train and evaluate learned reward models", description=__doc__.split("\n")[0]
    )
    commands = rm.add_subparsers(dest="rm_command", metavar="SUBCOMMAND")
    rm.set_defaults(func=lambda args: (rm.print_help(), 2)[1])
    add_command(
        commands,
        "train",
        _train,
        arguments=_train_arguments,
        help="train a reward model from fine-grained feedback",
        description="Train a reward model from fine-grained feedback and save it (safetensors + reward_model.json).",
    )
    add_command(
        commands,
        "eval",
        _eval,
        arguments=_eval_arguments,
        help="evaluate a reward model on held-out feedback",
        description="Segment-level P/R/F1 (token models) or pairwise accuracy (pairwise models), beside baselines.",
    )


def _setup(args: argparse.Namespace) -> None:
    import torch

    if args.threads:
        torch.set_num_threads(args.threads)


def _train(args: argparse.Namespace) -> int:
    from fg_env.rewards.learned.config import TrainingConfig

    config = TrainingConfig(**given_fields(args, getattr(args, TRAINING_FIELDS)))  # checks every number first
    _setup(args)
    from fg_env.rewards.learned.data import load_feedback_data
    from fg_env.rewards.learned.train import train_reward_model

    data = load_feedback_data(
        config.component,
        args.feedback,
        split=args.split,
        questions=args.questions,
        max_questions=args.max_questions,
        samples_per_question=args.samples_per_question,
        seed=config.seed,
        answers=args.answers,
    )
    print(f"training {config.component} on {data.describe()}", file=sys.stderr)
    result = train_reward_model(config, data, args.out, resume=args.resume, progress=args.progress, device=args.device)
    losses = ", ".join(f"{x:.4f}" for x in result.epoch_losses)
    print(f"saved {config.component} reward model to {args.out} (epoch losses: {losses})")
    return 0


def _eval(args: argparse.Namespace) -> int:
    _setup(args)
    from fg_env.rewards.learned.data import SYNTHETIC, load_feedback_data
    from fg_env.rewards.learned.evaluate import evaluate_reward_model, format_report, write_json
    from fg_env.rewards.learned.model import load_reward_model

    model = load_reward_model(args.model, batch_size=args.batch_size, device=args.device)
    split = args.split or ("dev" if args.feedback == SYNTHETIC else None)
    data = load_feedback_data(
        model.config.component,
        args.feedback,
        split=split,
        questions=args.questions,
        max_questions=args.max_questions,
        samples_per_question=args.samples_per_question,
        seed=args.seed,
        answers=args.answers,
    )
    result = evaluate_reward_model(model, data)
    result["model_dir"] = str(args.model)
    print(format_report(result))
    if args.json:
        write_json(result, args.json)
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    """Run ``rm`` on its own: ``python -m fg_env.rewards.learned.cli train ...``."""
    parser = CommandParser(prog="fg-env")
    register(parser.add_subparsers(dest="command"))
    args = parser.parse_args(["rm", *(argv if argv is not None else sys.argv[1:])])
    return int(args.func(args) or 0)


if __name__ == "__main__":
    sys.exit(main())
