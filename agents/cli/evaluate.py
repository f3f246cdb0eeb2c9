"""``fg-env evaluate``: greedy answers of a policy (or the random-sentence agent) on dev or test, scored by
fg_env's metrics."""

from __future__ import annotations

import argparse
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

from agents.cli import flags
from agents.experiments.settings import MAX_SENTENCES
from agents.policies.policy import ANSWER_TOKENS
from fg_env.command import add_config_arguments, add_progress_flag, given_fields, positive_int


@dataclass(frozen=True)
class Evaluation:
    """What ``fg-env evaluate`` answers, and how; each field's help is the help of its flag. The answer lengths
    are the experiments' defaults (:data:`~agents.policies.policy.ANSWER_TOKENS`,
    :data:`~agents.experiments.settings.MAX_SENTENCES`).

    Example:
        >>> Evaluation().max_sentences, Evaluation().max_new_tokens
        (6, 96)
    """

    policy: str = field(
        default="default",
        metadata={
            "metavar": "DIR",
            "help": "Saved policy folder, 'default' (the preset's SFT policy) or 'random' (the random-sentence agent).",
        },
    )
    split: Literal["dev", "test"] = field(default="dev", metadata={"help": "Which split."})
    questions: int | None = field(
        default=None, metadata={"help": "Evaluate on the first N questions (None: all of them)."}
    )
    max_new_tokens: int = field(default=ANSWER_TOKENS, metadata={"help": "Longest answer in tokens."})
    max_sentences: int = field(default=MAX_SENTENCES, metadata={"help": "Answers are cut after this many sentences."})
    seed: int = field(default=0, metadata={"help": "Seed of the random-sentence agent."})


def arguments(parser: argparse.ArgumentParser) -> None:
    settings = parser.add_argument_group("evaluation (Evaluation)")
    # Counts are checked as the flags are read, so that a bad one names its flag.
    counts = {"type": positive_int, "metavar": "N"}
    names = add_config_arguments(
        settings,
        Evaluation,
        defaults={"questions": "all"},
        options={"questions": counts, "max_new_tokens": counts, "max_sentences": counts},
    )
    parser.set_defaults(evaluation_fields=names)
    flags.add_preset_argument(parser, "the preset's SFT policy, for --policy default")
    parser.add_argument("--out", metavar="FILE", help="also write the metrics to this JSON file")
    add_progress_flag(parser)


def run(args: argparse.Namespace) -> int:
    from agents.experiments.evaluate import evaluate_policy, evaluate_sentence_agent, load_examples
    from agents.experiments.settings import PRESETS
    from fg_env.rewards.versions import SCORED_BY, scored_by

    settings = Evaluation(**given_fields(args, args.evaluation_fields))
    if settings.policy != "random":
        flags.check_policy_path(settings.policy)
    examples = load_examples(settings.split, settings.questions)
    if settings.policy == "random":
        from agents.baselines.random_agent import RandomSentenceAgent
        from agents.experiments.run import make_env

        env = make_env("fine-grained", None, settings.split, settings.max_sentences)
        metrics = evaluate_sentence_agent(RandomSentenceAgent(seed=settings.seed), env, range(len(examples)))
        scorers = scored_by(env)
    else:
        from agents.policies.policy import LMPolicy

        quick = PRESETS[flags.preset_name(args)].sft == "quick"
        policy = LMPolicy.from_pretrained(flags.resolve_policy(settings.policy, quick, args.progress))
        metrics = evaluate_policy(
            policy,
            examples,
            max_new_tokens=settings.max_new_tokens,
            max_sentences=settings.max_sentences,
            progress=args.progress,
        )
        scorers = scored_by(annotator=True)  # evaluate_policy judges by the built-in annotator
    text = json.dumps({**metrics, SCORED_BY: scorers}, indent=2)
    if args.out:
        Path(args.out).parent.mkdir(parents=True, exist_ok=True)
        Path(args.out).write_text(text)
    print(text)
    return 0
