"""``fg-env rm train`` and ``fg-env rm eval``: from feedback to a reward model, and its evaluation.

Examples (QA-Feedback's dev feedback, first 400 questions to train, last 100 to evaluate)::

    fg-env rm train --component relevance --feedback path/to/qa_feedback/dev_feedback.json \\
        --questions 0:400 --out runs/rm/relevance
    fg-env rm eval --model runs/rm/relevance --feedback path/to/qa_feedback/dev_feedback.json \\
        --questions 400:500 --json runs/rm/relevance/eval.json

torch and transformers are imported only when a command runs, so ``fg-env --help`` stays fast.
"""

from __future__ import annotations

import argparse
import sys
from typing import Sequence

from fg_env.rewards.learned.components import COMPONENTS

FEEDBACK_HELP = (
    "'synthetic' (the built-in world, labelled by its annotator), a QA-Feedback feedback file "
    "(dev_feedback.json, train_feedback.json) or the folder holding them"
)


def _positive_int(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {text}")
    return value


def _add_data_arguments(parser: argparse.ArgumentParser, default_questions: str | None) -> None:
    parser.add_argument("--feedback", required=True, metavar="PATH_OR_synthetic", help=FEEDBACK_HELP)
    parser.add_argument(
        "--split",
        default=None,
        help="feedback split in a QA-Feedback folder (train, dev), or the built-in world's split "
        "(default: train for `rm train`, dev for `rm eval`)",
    )
    parser.add_argument(
        "--questions",
        default=default_questions,
        metavar="START:END",
        help="questions to use, Python slice syntax over the file's or split's order (e.g. 0:400, 400:)",
    )
    parser.add_argument("--max-questions", type=_positive_int, default=None, metavar="N", help="use at most N questions of the selection")
    parser.add_argument(
        "--samples-per-question",
        type=_positive_int,
        default=4,
        metavar="N",
        help="synthetic only: perturbed answers sampled per question besides the gold one (default 4)",
    )
    parser.add_argument("--seed", type=int, default=0, help="seed of training and of synthetic answer sampling (default 0)")
    parser.add_argument("--threads", type=_positive_int, default=None, metavar="N", help="torch CPU threads (default: torch's choice)")
    parser.add_argument("--device", default=None, help="cpu or cuda (default: cuda when available)")


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add the ``rm`` command (``train``, ``eval``) to the ``fg-env`` parser."""
    rm = subparsers.add_parser("rm", help="train and evaluate learned reward models", description=__doc__.split("\n")[0])
    commands = rm.add_subparsers(dest="rm_command", metavar="SUBCOMMAND")
    rm.set_defaults(func=lambda args: (rm.print_help(), 2)[1])

    train = commands.add_parser(
        "train",
        help="train a reward model from fine-grained feedback",
        description="Train a reward model from fine-grained feedback and save it (safetensors + reward_model.json).",
    )
    train.add_argument("--component", required=True, choices=sorted(COMPONENTS), help="what the model judges")
    _add_data_arguments(train, default_questions=None)
    train.add_argument("--out", required=True, metavar="DIR", help="folder to save the model in")
    train.add_argument("--backbone", default=None, metavar="PATH", help="Hugging Face encoder (default: bundled MiniLM-L6)")
    train.add_argument("--epochs", type=_positive_int, default=3)
    train.add_argument("--batch-size", type=_positive_int, default=8, help="answers (token models) or questions (pairwise) per step")
    train.add_argument("--lr", type=float, default=5e-5)
    train.add_argument("--max-length", type=int, default=None, help="longest input in tokens (default: the backbone's limit)")
    train.add_argument("--resume", action="store_true", help="continue an interrupted run from its last finished epoch in --out")
    train.add_argument("--no-progress", action="store_true", help="hide progress bars")
    train.set_defaults(func=_train)

    evaluate = commands.add_parser(
        "eval",
        help="evaluate a reward model on held-out feedback",
        description="Segment-level P/R/F1 (token models) or pairwise accuracy (pairwise models), beside baselines.",
    )
    evaluate.add_argument("--model", required=True, metavar="DIR", help="a folder written by `fg-env rm train`")
    _add_data_arguments(evaluate, default_questions=None)
    evaluate.add_argument("--batch-size", type=_positive_int, default=32, help="rows per forward pass")
    evaluate.add_argument("--json", default=None, metavar="PATH", help="also write the result as JSON")
    evaluate.set_defaults(func=_eval)


def _setup(args: argparse.Namespace) -> None:
    import torch

    if args.threads:
        torch.set_num_threads(args.threads)


def _train(args: argparse.Namespace) -> int:
    _setup(args)
    from fg_env.rewards.learned.config import TrainingConfig
    from fg_env.rewards.learned.data import load_feedback_data
    from fg_env.rewards.learned.train import train_reward_model

    config = TrainingConfig(
        component=args.component,
        backbone=args.backbone,
        epochs=args.epochs,
        batch_size=args.batch_size,
        learning_rate=args.lr,
        max_length=args.max_length,
        seed=args.seed,
    )
    data = load_feedback_data(
        args.component,
        args.feedback,
        split=args.split,
        questions=args.questions,
        max_questions=args.max_questions,
        samples_per_question=args.samples_per_question,
        seed=args.seed,
    )
    print(f"training {args.component} on {data.describe()}", file=sys.stderr)
    result = train_reward_model(config, data, args.out, resume=args.resume, progress=not args.no_progress, device=args.device)
    losses = ", ".join(f"{x:.4f}" for x in result.epoch_losses)
    print(f"saved {args.component} reward model to {args.out} (epoch losses: {losses})")
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
    )
    result = evaluate_reward_model(model, data)
    result["model_dir"] = str(args.model)
    print(format_report(result))
    if args.json:
        write_json(result, args.json)
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    """Run ``rm`` on its own: ``python -m fg_env.rewards.learned.cli train ...``."""
    parser = argparse.ArgumentParser(prog="fg-env")
    register(parser.add_subparsers(dest="command"))
    args = parser.parse_args(["rm", *(argv if argv is not None else sys.argv[1:])])
    return int(args.func(args) or 0)


if __name__ == "__main__":
    sys.exit(main())
