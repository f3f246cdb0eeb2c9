"""The agents' sub-commands of ``fg-env``: sft, train, evaluate, compare, sweep-weights.

``fg_env.cli`` finds :func:`register` through the ``fg_env.commands`` entry-point group, so the
environment package never imports agent code. Every argument is checked before any training time is
spent: numbers by argparse, reward weights against the environment's reward models, model folders and
checkpoints by opening them. A bad value stops the command with one line naming the problem.
"""

from __future__ import annotations

import argparse
import json
import math
import sys
from dataclasses import replace
from pathlib import Path
from typing import Any, Callable, Sequence

# ----------------------------------------------------------------------------------------------------
# argparse value types: each names what is wrong
# ----------------------------------------------------------------------------------------------------


def positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {text!r}") from None
    if value <= 0:
        raise argparse.ArgumentTypeError(f"must be a positive integer, got {value}")
    return value


def positive_float(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number > 0, got {text!r}") from None
    if not (math.isfinite(value) and value > 0):
        raise argparse.ArgumentTypeError(f"must be a number > 0, got {text}")
    return value


def non_negative_float(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number >= 0, got {text!r}") from None
    if not (math.isfinite(value) and value >= 0):
        raise argparse.ArgumentTypeError(f"must be a number >= 0, got {text}")
    return value


NO_THRESHOLD = "none"


def kl_threshold(text: str) -> float | str:
    """A KL threshold in nats, or ``none`` to switch the safeguard off."""
    if text.strip().lower() == NO_THRESHOLD:
        return NO_THRESHOLD
    return positive_float(text)


def float_list(text: str) -> list[float]:
    try:
        values = [float(part) for part in text.split(",") if part.strip()]
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected comma-separated numbers such as 0.3,0.5,0.3, got {text!r}") from None
    if not values or not all(math.isfinite(v) for v in values):
        raise argparse.ArgumentTypeError(f"expected comma-separated finite numbers, got {text!r}")
    return values


def int_list(text: str) -> list[int]:
    try:
        values = [int(part) for part in text.split(",") if part.strip()]
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected comma-separated integers such as 0,1,2, got {text!r}") from None
    if not values:
        raise argparse.ArgumentTypeError("expected at least one integer")
    return values


class CommandError(Exception):
    """A problem with the command's input, reported as ``fg-env COMMAND: error: ...`` (exit status 2)."""


def _reported(name: str, run: Callable[[argparse.Namespace], int]) -> Callable[[argparse.Namespace], int]:
    """Turn the known input errors into one clear line on stderr instead of a traceback."""

    def wrapped(args: argparse.Namespace) -> int:
        # Imported when a command runs, not when it registers: these pull in torch and transformers,
        # which would make `fg-env --help` take seconds.
        from fg_env.checkpoint import CheckpointError
        from agents.policy import PolicyLoadError
        from fg_env.errors import UnknownChoiceError

        if not getattr(args, "progress", True):
            from transformers.utils import logging as hf_logging

            hf_logging.disable_progress_bar()  # transformers' own "Loading weights" bars
        try:
            return run(args)
        except (CommandError, CheckpointError, PolicyLoadError, UnknownChoiceError, ValueError, FileNotFoundError) as error:
            print(f"fg-env {name}: error: {error}", file=sys.stderr)
            return 2

    return wrapped


# ----------------------------------------------------------------------------------------------------
# checks shared by the commands
# ----------------------------------------------------------------------------------------------------


def _check_policy_path(path: str | None) -> None:
    if path is not None and path not in ("default", "sft") and not Path(path).exists():
        raise CommandError(f"policy path {path!r} does not exist (give a saved model folder, or omit --policy for the default SFT policy)")


def _check_weights(weights: Sequence[float] | None) -> None:
    from agents.schemes import resolve_weights
    from fg_env.rewards.defaults import DEFAULT_REWARD_MODELS

    if weights is not None:
        resolve_weights(weights, DEFAULT_REWARD_MODELS)
        if any(w < 0 for w in weights):
            raise CommandError(f"--weights must not be negative, got {list(weights)}")


def _resolve_policy(path: str | None, quick: bool, progress: bool) -> Path:
    """A saved policy folder: the given one (checked to load), or the cached default SFT policy."""
    from agents.policy import LMPolicy

    if path is None or path in ("default", "sft"):
        from agents.sft import build_default_policy

        return Path(build_default_policy(quick=quick, progress=progress))
    LMPolicy.from_pretrained(path)  # fails now, naming the problem, rather than after SFT or a rollout
    return Path(path)


def _scale(args: argparse.Namespace) -> Any:
    from agents.compare import SCALES

    scale = SCALES["quick" if args.quick else "default"]
    overrides = {
        "iterations": getattr(args, "iterations", None),
        "prompts_per_iteration": getattr(args, "prompts_per_iteration", None),
        "samples_per_prompt": getattr(args, "samples_per_prompt", None),
        "minibatch_size": getattr(args, "minibatch_size", None),
        "max_new_tokens": getattr(args, "max_new_tokens", None),
        "eval_questions": getattr(args, "eval_questions", None),
        "max_sentences": getattr(args, "max_sentences", None),
    }
    episodes = getattr(args, "episodes", None)
    if episodes is not None:
        per_iteration = (overrides["prompts_per_iteration"] or scale.prompts_per_iteration) * (
            overrides["samples_per_prompt"] or scale.samples_per_prompt
        )
        overrides["iterations"] = max(1, math.ceil(episodes / per_iteration))
    return replace(scale, **{k: v for k, v in overrides.items() if v is not None})


def _add_scale_arguments(parser: argparse.ArgumentParser, budget: bool = True) -> None:
    parser.add_argument("--quick", action="store_true", help="the small preset (quick SFT policy, short runs)")
    if budget:
        group = parser.add_mutually_exclusive_group()
        group.add_argument("--iterations", type=positive_int, help="PPO iterations per run")
        group.add_argument("--episodes", type=positive_int, help="PPO episodes per run (rounded up to whole iterations)")
    parser.add_argument("--prompts-per-iteration", type=positive_int, help="questions sampled per iteration")
    parser.add_argument("--samples-per-prompt", type=positive_int, help="answers sampled per question")
    parser.add_argument("--minibatch-size", "--batch-size", dest="minibatch_size", type=positive_int, help="episodes per gradient step")
    parser.add_argument("--max-new-tokens", type=positive_int, help="longest answer in tokens")
    parser.add_argument("--max-sentences", type=positive_int, help="the environment truncates answers at this many sentences")
    parser.add_argument("--eval-questions", type=positive_int, help="dev questions to evaluate on")
    parser.add_argument("--policy", help="saved policy folder to start from (default: the cached SFT policy)")
    parser.add_argument("--no-progress", dest="progress", action="store_false", help="no progress bars")


def _add_ppo_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--lr", "--learning-rate", dest="learning_rate", type=positive_float, help="Adam learning rate")
    parser.add_argument("--kl-coef", type=non_negative_float, help="beta of the per-token KL penalty (paper: 0.3)")
    parser.add_argument("--adaptive-kl", action="store_true", default=None, help="adapt beta towards --kl-target")
    parser.add_argument("--kl-target", type=positive_float, help="target KL of the adaptive controller")
    parser.add_argument("--ppo-epochs", type=positive_int, help="PPO epochs per batch (paper: 4)")
    parser.add_argument("--value-model", choices=("head", "separate"), help="value head on the policy's trunk, or a separate model")
    parser.add_argument("--vf-coef", type=non_negative_float, help="weight of the value loss (default 0.1; paper: 1.0 with a separate value model)")
    parser.add_argument("--kl-threshold", type=kl_threshold,
                        help="stop once the KL per answer exceeds this many nats in 5 iterations (default 10, the paper's; 'none': never)")
    parser.add_argument("--checkpoint-every", type=positive_int, help="iterations between checkpoints")


def _ppo_overrides(args: argparse.Namespace) -> dict[str, Any]:
    keys = ("learning_rate", "kl_coef", "adaptive_kl", "kl_target", "ppo_epochs", "value_model", "vf_coef",
            "kl_threshold", "checkpoint_every")
    overrides = {k: getattr(args, k) for k in keys if getattr(args, k, None) is not None}  # flags given
    if overrides.get("kl_threshold") == NO_THRESHOLD:
        overrides["kl_threshold"] = None
    return overrides


# ----------------------------------------------------------------------------------------------------
# commands
# ----------------------------------------------------------------------------------------------------


def _sft(args: argparse.Namespace) -> int:
    from agents.sft import build_default_policy

    path = Path(build_default_policy(quick=args.quick, progress=args.progress, force=args.force))
    print(f"SFT policy: {path}")
    report = path / "eval.json"
    if report.is_file():
        print(json.dumps(json.loads(report.read_text()), indent=2))
    return 0


def _train(args: argparse.Namespace) -> int:
    from fg_env.checkpoint import CHECKPOINT_NAME, load_checkpoint
    from agents.compare import run_and_evaluate
    from agents.evaluate import load_examples
    from agents.schemes import get_scheme

    get_scheme(args.scheme)
    _check_weights(args.weights)
    _check_policy_path(args.policy)
    scale = _scale(args)
    config = scale.ppo_config(args.seed, **_ppo_overrides(args))  # PPOConfig validates every number
    out = Path(args.out)
    checkpoint = out / CHECKPOINT_NAME
    if args.resume:
        load_checkpoint(checkpoint)  # missing or corrupt: a clear error now, not after SFT
    elif checkpoint.exists():
        raise CommandError(f"{str(out)!r} already holds a run (checkpoint.pt); pass --resume to continue it or choose another --out")
    policy_path = _resolve_policy(args.policy, args.quick, args.progress)
    examples = load_examples("dev", scale.eval_questions)
    result = run_and_evaluate(policy_path, args.scheme, args.weights, config, scale, out, examples, progress=args.progress)
    summary = {k: result["eval"][k] for k in ("relevance_ratio", "factuality_ratio", "completeness", "rouge_l", "length")}
    print(f"trained policy: {out / 'policy'}")
    print(json.dumps(summary, indent=2))
    return 0


def _evaluate(args: argparse.Namespace) -> int:
    from agents.evaluate import evaluate_policy, evaluate_sentence_agent, load_examples

    if args.policy != "random":
        _check_policy_path(args.policy)
    examples = load_examples(args.split, args.questions)
    if args.policy == "random":
        from agents.compare import make_env
        from agents.random_agent import RandomSentenceAgent

        env = make_env("fine-grained", None, args.split, args.max_sentences)
        metrics = evaluate_sentence_agent(RandomSentenceAgent(seed=args.seed), env, range(len(examples)))
    else:
        from agents.policy import LMPolicy

        policy = LMPolicy.from_pretrained(_resolve_policy(args.policy, args.quick, args.progress))
        metrics = evaluate_policy(policy, examples, max_new_tokens=args.max_new_tokens,
                                  max_sentences=args.max_sentences, progress=args.progress)
    text = json.dumps(metrics, indent=2)
    if args.out:
        Path(args.out).parent.mkdir(parents=True, exist_ok=True)
        Path(args.out).write_text(text)
    print(text)
    return 0


def _compare(args: argparse.Namespace) -> int:
    from agents.compare import compare
    from agents.schemes import get_scheme

    for scheme in args.schemes:
        get_scheme(scheme)
    _check_weights(args.weights)
    _check_policy_path(args.policy)
    scale = _scale(args)
    scale.ppo_config(args.seeds[0])  # validates the numbers
    if len(set(args.seeds)) < len(args.seeds):
        raise CommandError(f"--seeds must be distinct, got {args.seeds}")
    policy_path = None if args.policy in (None, "default", "sft") else _resolve_policy(args.policy, args.quick, args.progress)
    compare(args.out, scale, seeds=args.seeds, schemes=args.schemes, weights=args.weights, policy_path=policy_path,
            include_random=args.random_baseline, progress=args.progress)
    print(f"results: {Path(args.out) / 'results.md'}, {Path(args.out) / 'results.json'}, {Path(args.out) / 'learning_curve.png'}")
    return 0


def _sweep(args: argparse.Namespace) -> int:
    from agents.compare import sweep_weights
    from fg_env.rewards.defaults import DEFAULT_REWARD_MODELS

    if args.component not in DEFAULT_REWARD_MODELS:
        raise CommandError(f"--component must be one of {', '.join(DEFAULT_REWARD_MODELS)}, got {args.component!r}")
    if any(v < 0 for v in args.values):
        raise CommandError(f"--values must not be negative, got {args.values}")
    _check_weights(args.weights)
    _check_policy_path(args.policy)
    scale = _scale(args)
    scale.ppo_config(args.seeds[0])
    policy_path = None if args.policy in (None, "default", "sft") else _resolve_policy(args.policy, args.quick, args.progress)
    sweep_weights(args.out, scale, args.component, args.values, seeds=args.seeds, weights=args.weights,
                  policy_path=policy_path, progress=args.progress)
    return 0


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add the agents' commands to ``fg-env`` (entry point ``fg_env.commands: agents``)."""
    from agents.schemes import SCHEMES

    sft = subparsers.add_parser("sft", help="build (or reuse) the default SFT policy and report its error rates")
    sft.add_argument("--quick", action="store_true", help="the small preset (about a minute)")
    sft.add_argument("--force", action="store_true", help="rebuild even when cached")
    sft.add_argument("--no-progress", dest="progress", action="store_false", help="no progress bars")
    sft.set_defaults(func=_reported("sft", _sft))

    train = subparsers.add_parser("train", help="fine-tune a policy with PPO under a reward scheme")
    train.add_argument("--scheme", default="fine-grained", help=f"reward scheme: {', '.join(SCHEMES)}")
    train.add_argument("--weights", type=float_list, help="reward weights for relevance,factuality,completeness (paper: 0.3,0.5,0.3)")
    train.add_argument("--seed", type=int, default=0, help="random seed")
    train.add_argument("--out", required=True, help="run folder: metrics.jsonl, checkpoint.pt, policy/, result.json")
    train.add_argument("--resume", action="store_true", help="continue the run in --out from its last checkpoint")
    _add_scale_arguments(train)
    _add_ppo_arguments(train)
    train.set_defaults(func=_reported("train", _train))

    evaluate = subparsers.add_parser("evaluate", help="greedy answers of a policy on dev or test, scored by fg_env's metrics")
    evaluate.add_argument("--policy", default="default", help="saved policy folder, 'default' (SFT policy) or 'random' (random-sentence agent)")
    evaluate.add_argument("--split", choices=("dev", "test"), default="dev", help="which split")
    evaluate.add_argument("--questions", type=positive_int, default=None, help="evaluate on the first N questions (default: all)")
    evaluate.add_argument("--max-new-tokens", type=positive_int, default=96, help="longest answer in tokens")
    evaluate.add_argument("--max-sentences", type=positive_int, default=6, help="answers are cut after this many sentences")
    evaluate.add_argument("--seed", type=int, default=0, help="seed of the random-sentence agent")
    evaluate.add_argument("--quick", action="store_true", help="with the default policy: the quick SFT preset")
    evaluate.add_argument("--out", help="also write the metrics to this JSON file")
    evaluate.add_argument("--no-progress", dest="progress", action="store_false", help="no progress bars")
    evaluate.set_defaults(func=_reported("evaluate", _evaluate))

    comp = subparsers.add_parser("compare", help="SFT, then fine-grained versus holistic PPO over seeds: table and plot")
    comp.add_argument("--out", default="runs/compare", help="folder for results.json, results.md, learning_curve.png and runs/")
    comp.add_argument("--seeds", type=int_list, default=[0, 1, 2], help="comma-separated seeds (at least 3 for a spread)")
    comp.add_argument("--schemes", type=lambda t: [s for s in t.split(",") if s], default=["fine-grained", "holistic"],
                      help=f"comma-separated reward schemes among {', '.join(SCHEMES)}")
    comp.add_argument("--weights", type=float_list, help="reward weights for relevance,factuality,completeness")
    comp.add_argument("--no-random-baseline", dest="random_baseline", action="store_false", help="skip the random-sentence row")
    _add_scale_arguments(comp)
    comp.set_defaults(func=_reported("compare", _compare))

    sweep = subparsers.add_parser("sweep-weights", help="train with several weights of one reward component; tabulate length and ratios")
    sweep.add_argument("--component", required=True, help="relevance, factuality or completeness")
    sweep.add_argument("--values", type=float_list, required=True, help="comma-separated weights to try, e.g. 0.1,0.3,0.5")
    sweep.add_argument("--weights", type=float_list, help="the other components' weights (default: the paper's)")
    sweep.add_argument("--seeds", type=int_list, default=[0], help="comma-separated seeds")
    sweep.add_argument("--out", default="runs/sweep", help="folder for results.json, results.md and runs/")
    _add_scale_arguments(sweep)
    sweep.set_defaults(func=_reported("sweep-weights", _sweep))
