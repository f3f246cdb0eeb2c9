"""The agents' sub-commands of ``fg-env``: sft, train, evaluate, compare, sweep-weights, learned-vs-exact, sb3-compare.

``fg_env.cli`` finds :func:`register` through the ``fg_env.commands`` entry-point group, so the
environment package never imports agent code.

The flags of the settings are built from the settings dataclasses by
:func:`fg_env.command.add_config_arguments`, one flag per field with the field's help: ``train``,
``compare`` and ``sweep-weights`` take every :class:`~agents.algorithms.ppo.PPOConfig` field (the last two all but
``seed``: they take ``--seeds``) and the :class:`~agents.experiments.compare.EvaluationConfig` fields; ``sft`` takes
the :class:`~agents.policies.sft.SFTConfig` fields. ``--preset NAME`` (``--quick`` for ``--preset quick``) picks
one of :data:`agents.experiments.compare.PRESETS`, and flags given explicitly override it.

Every argument is checked before any training time is spent: numbers by the settings' own checks,
reward weights against the environment's reward models, model folders and checkpoints by opening
them. A bad value stops the command with one line naming the problem (exit status 2).
"""

from __future__ import annotations

import argparse
import functools
import json
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from fg_env.command import (
    CommandError,
    add_command,
    add_config_arguments,
    add_progress_flag,
    float_list,
    given_fields,
    int_list,
    name_list,
    name_number_map,
    positive_int,
)

DEFAULT_PRESET = "default"
DEFAULT_POLICY = ("default", "sft")  # --policy names of the cached default SFT policy
PPO_FIELDS, EVALUATION_FIELDS, SFT_FIELDS = "ppo_fields", "evaluation_fields", "sft_fields"  # set_defaults keys

# ----------------------------------------------------------------------------------------------------
# flags
# ----------------------------------------------------------------------------------------------------


def _preset_defaults(part: str) -> dict[str, str]:
    """Shown defaults of the fields a preset sets, e.g. ``{"iterations": "20; quick preset: 8"}``."""
    from agents.experiments.compare import PRESETS

    names = {name for preset in PRESETS.values() for name in getattr(preset, part)}
    shown = {}
    for name in sorted(names):
        default = getattr(PRESETS[DEFAULT_PRESET], part).get(name)
        others = [
            f"{preset_name} preset: {getattr(preset, part)[name]}"
            for preset_name, preset in PRESETS.items()
            if preset_name != DEFAULT_PRESET and getattr(preset, part).get(name, default) != default
        ]
        shown[name] = "; ".join(([] if default is None else [str(default)]) + others)
    return shown


def _add_experiment_arguments(parser: argparse.ArgumentParser, *, seed: bool) -> None:
    """The preset, the PPO budget in episodes, and every PPOConfig and EvaluationConfig field."""
    from agents.algorithms.ppo import PPOConfig
    from agents.experiments.compare import PRESETS, EvaluationConfig

    preset = parser.add_argument_group("experiment size (presets of the settings below; explicit flags override them)")
    choice = preset.add_mutually_exclusive_group()
    # No default here (None means DEFAULT_PRESET), so that argparse sees `--quick --preset default` as a conflict.
    choice.add_argument(
        "--preset",
        choices=list(PRESETS),
        help="; ".join(f"{name}: {p.description}" for name, p in PRESETS.items()) + f" (default: {DEFAULT_PRESET})",
    )
    choice.add_argument(
        "--quick", dest="preset", action="store_const", const="quick", help="the same as --preset quick"
    )
    preset.add_argument(
        "--episodes",
        type=positive_int,
        metavar="N",
        help="PPO episodes per run, rounded up to whole iterations (instead of --iterations)",
    )
    ppo = parser.add_argument_group("PPO (PPOConfig)")
    ppo_fields = add_config_arguments(
        ppo,
        PPOConfig,
        exclude=() if seed else ("seed",),
        defaults=_preset_defaults("ppo"),
        options={"value_model": {"metavar": "{head,separate}"}},
    )
    evaluation = parser.add_argument_group("evaluation (EvaluationConfig)")
    evaluation_fields = add_config_arguments(evaluation, EvaluationConfig, defaults=_preset_defaults("evaluation"))
    parser.set_defaults(**{PPO_FIELDS: ppo_fields, EVALUATION_FIELDS: evaluation_fields})


def _add_report_to_argument(parser: argparse.ArgumentParser) -> None:
    from fg_env.reporting import REPORT_TARGETS

    parser.add_argument(
        "--report-to",
        type=name_list,
        default=[],
        metavar="NAME,...",
        help=(
            f"also report training metrics to {', '.join(REPORT_TARGETS[1:])} (default: none; metrics.jsonl is "
            "always written; W&B runs offline unless WANDB_MODE says otherwise)"
        ),
    )


def _check_report_to(targets: Sequence[str]) -> None:
    """Unknown names and missing packages stop the command before any training time is spent."""
    from fg_env.reporting import check_report_targets

    try:
        check_report_targets(targets)
    except ImportError as error:
        raise CommandError(str(error)) from error


def _add_reward_model_arguments(parser: argparse.ArgumentParser) -> None:
    rewards = parser.add_argument_group("reward models (default: the built-in annotator's three, exact)")
    rewards.add_argument(
        "--reward-models",
        type=name_list,
        metavar="NAME_OR_DIR,...",
        help=(
            "the reward models to train on, in --weights order: names (relevance, factuality, completeness, a "
            "plug-in's) or folders of learned models (`fg-env rm train`); runs on learned models are also scored "
            "by the exact annotator at every iteration (exact_return in metrics.jsonl)"
        ),
    )
    rewards.add_argument(
        "--preference-model",
        metavar="DIR",
        help="the holistic arm's one reward: a learned preference model's folder (`fg-env rm train --component preference`)",
    )


def _add_dataset_arguments(parser: argparse.ArgumentParser) -> None:
    from fg_env.data import available_datasets

    data = parser.add_argument_group("dataset (default: the built-in world, judged by its annotator)")
    data.add_argument("--dataset", default="synthetic", choices=available_datasets(), help="the questions to train on")
    data.add_argument("--data-dir", metavar="DIR", help="the dataset's folder (QA-Feedback: dev.json, train.json, ...)")
    data.add_argument("--train-split", default="train", help="split PPO samples its questions from (default: train)")
    data.add_argument("--eval-split", default="dev", help="split the policies are evaluated on (default: dev)")


def _dataset(args: argparse.Namespace, reward_models: Any) -> Any:
    """The dataset of the run, checked to load (both splits) before any training time is spent."""
    from agents.experiments.compare import DatasetChoice
    from agents.experiments.evaluate import load_examples

    choice = DatasetChoice(args.dataset, args.data_dir, args.train_split, args.eval_split)
    if not choice.exact and reward_models.models is None:
        raise CommandError(
            f"--dataset {choice.name} has no annotator to reward or judge answers: give --reward-models (e.g. the "
            "folders `fg-env rm train` wrote)"
        )
    for split in (choice.train_split, choice.eval_split):
        load_examples(split, 1, choice.name, choice.data_dir)  # a missing folder or split: a clear error now
    return choice


def _reward_models(args: argparse.Namespace) -> Any:
    """The arms' reward models from the flags, each checked to exist before any training time is spent."""
    from agents.experiments.compare import RewardModels
    from fg_env.rewards.learned.config import RewardModelConfig
    from fg_env.rewards.registry import available_reward_models

    models = args.reward_models
    for spec in [*(models or []), *([args.preference_model] if args.preference_model else [])]:
        if Path(spec).is_dir():
            try:
                RewardModelConfig.load(Path(spec))
            except (FileNotFoundError, ValueError) as error:
                raise CommandError(f"reward model {spec!r}: {error}") from None
        elif spec not in available_reward_models():
            raise CommandError(
                f"reward model {spec!r} is neither a folder nor a known name ({', '.join(available_reward_models())})"
            )
    if args.preference_model and not Path(args.preference_model).is_dir():
        raise CommandError(f"--preference-model {args.preference_model!r} is not a folder of a learned model")
    if models is not None and args.weights is not None and len(args.weights) != len(models):
        raise CommandError(
            f"--weights needs {len(models)} values, one per --reward-models entry; got {len(args.weights)}"
        )
    return RewardModels(None if models is None else tuple(models), args.preference_model)


def _add_policy_argument(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--policy",
        metavar="DIR",
        help="saved policy folder to start from (default: the cached SFT policy of the preset)",
    )


def _sft_arguments(parser: argparse.ArgumentParser) -> None:
    from agents.policies.sft import ARCHITECTURES, SFTConfig

    parser.add_argument(
        "--quick", action="store_true", help="start from the quick preset (SFTConfig.quick(): about a minute)"
    )
    parser.add_argument("--force", action="store_true", help="rebuild even when cached")
    parser.add_argument("--device", default=None, help="train on this device, e.g. cuda (default: cpu)")
    add_progress_flag(parser)
    default, quick = SFTConfig(), SFTConfig.quick()
    shown = {
        name: f"{getattr(default, name)}; --quick: {getattr(quick, name)}"
        for name in SFTConfig.__dataclass_fields__
        if getattr(default, name) != getattr(quick, name)
    }
    settings = parser.add_argument_group(
        "SFT (SFTConfig; other settings than the defaults build and cache another policy)"
    )
    names = add_config_arguments(
        settings,
        SFTConfig,
        exclude=("dataset_kwargs",),
        defaults=shown,
        options={"architecture": {"choices": list(ARCHITECTURES)}},
    )
    parser.set_defaults(**{SFT_FIELDS: names})


def _train_arguments(parser: argparse.ArgumentParser) -> None:
    from agents.experiments.schemes import SCHEMES

    parser.add_argument(
        "--out", required=True, metavar="DIR", help="run folder: metrics.jsonl, checkpoint.pt, policy/, result.json"
    )
    parser.add_argument("--scheme", default="fine-grained", help=f"reward scheme: {', '.join(SCHEMES)}")
    parser.add_argument(
        "--weights",
        type=float_list,
        metavar="W,W,W",
        help="reward weights for relevance,factuality,completeness (default: the paper's 0.3,0.5,0.3)",
    )
    parser.add_argument("--resume", action="store_true", help="continue the run in --out from its last checkpoint")
    _add_policy_argument(parser)
    _add_reward_model_arguments(parser)
    _add_dataset_arguments(parser)
    _add_report_to_argument(parser)
    add_progress_flag(parser)
    _add_experiment_arguments(parser, seed=True)


def _evaluate_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--policy",
        default="default",
        help="saved policy folder, 'default' (SFT policy) or 'random' (random-sentence agent)",
    )
    parser.add_argument("--split", choices=("dev", "test"), default="dev", help="which split")
    parser.add_argument(
        "--questions",
        type=positive_int,
        default=None,
        metavar="N",
        help="evaluate on the first N questions (default: all)",
    )
    parser.add_argument("--max-new-tokens", type=positive_int, default=96, metavar="N", help="longest answer in tokens")
    parser.add_argument(
        "--max-sentences", type=positive_int, default=6, metavar="N", help="answers are cut after this many sentences"
    )
    parser.add_argument("--seed", type=int, default=0, help="seed of the random-sentence agent")
    parser.add_argument("--quick", action="store_true", help="with the default policy: the quick SFT preset")
    parser.add_argument("--out", metavar="PATH", help="also write the metrics to this JSON file")
    add_progress_flag(parser)


def _compare_arguments(parser: argparse.ArgumentParser) -> None:
    from agents.experiments.schemes import SCHEMES

    parser.add_argument(
        "--out",
        default="runs/compare",
        metavar="DIR",
        help="folder for results.json, results.md, learning_curve.png, report.html and runs/",
    )
    parser.add_argument(
        "--seeds",
        type=int_list,
        default=[0, 1, 2, 3, 4],
        metavar="S,S,...",
        help="seeds (at least 3 for a spread; default: 0,1,2,3,4)",
    )
    parser.add_argument(
        "--scheme-kl-coef",
        type=name_number_map,
        metavar="NAME=X,...",
        help=(
            "a KL coefficient per scheme, overriding --kl-coef for those schemes (default: the preset's, holistic's "
            "tuned by a grid; an explicit --kl-coef alone applies to every scheme)"
        ),
    )
    parser.add_argument(
        "--schemes",
        type=name_list,
        default=["fine-grained", "holistic"],
        metavar="NAME,...",
        help=f"reward schemes among {', '.join(SCHEMES)} (default: fine-grained,holistic)",
    )
    parser.add_argument(
        "--weights", type=float_list, metavar="W,W,W", help="reward weights for relevance,factuality,completeness"
    )
    parser.add_argument(
        "--no-random-baseline", dest="random_baseline", action="store_false", help="skip the random-sentence row"
    )
    _add_policy_argument(parser)
    _add_reward_model_arguments(parser)
    _add_dataset_arguments(parser)
    _add_report_to_argument(parser)
    add_progress_flag(parser)
    _add_experiment_arguments(parser, seed=False)


def _sweep_arguments(parser: argparse.ArgumentParser) -> None:
    from fg_env.rewards.defaults import DEFAULT_REWARD_MODELS

    parser.add_argument(
        "--component", required=True, help=f"the reward model whose weight varies: {', '.join(DEFAULT_REWARD_MODELS)}"
    )
    parser.add_argument(
        "--values", type=float_list, required=True, metavar="W,W,...", help="weights to try, e.g. 0.1,0.3,0.5"
    )
    parser.add_argument(
        "--weights", type=float_list, metavar="W,W,W", help="the other components' weights (default: the paper's)"
    )
    parser.add_argument("--seeds", type=int_list, default=[0], metavar="S,S,...", help="seeds (default: 0)")
    parser.add_argument(
        "--out", default="runs/sweep", metavar="DIR", help="folder for results.json, results.md and runs/"
    )
    _add_policy_argument(parser)
    _add_report_to_argument(parser)
    add_progress_flag(parser)
    _add_experiment_arguments(parser, seed=False)


# ----------------------------------------------------------------------------------------------------
# checks shared by the commands
# ----------------------------------------------------------------------------------------------------


def _experiment(args: argparse.Namespace) -> Any:
    """The experiment's settings: the preset, overridden by the flags given (checked by the configs)."""
    from agents.experiments.compare import PRESETS

    ppo = given_fields(args, getattr(args, PPO_FIELDS))
    config = PRESETS[args.preset or DEFAULT_PRESET].config(
        ppo=ppo,
        evaluation=given_fields(args, getattr(args, EVALUATION_FIELDS)),
        scheme_kl_coef=getattr(args, "scheme_kl_coef", None),
    )
    if args.episodes is not None:
        if "iterations" in ppo:
            raise CommandError("--episodes and --iterations both set the budget of a run; give one of them")
        config = config.with_episodes(args.episodes)
    return config


def _check_policy_path(path: str | None) -> None:
    if path is not None and path not in DEFAULT_POLICY and not Path(path).exists():
        raise CommandError(
            f"policy path {path!r} does not exist (give a saved model folder, or omit --policy for the default SFT policy)"
        )


def _check_weights(
    weights: Sequence[float] | None, name: str = "--weights", reward_models: Sequence[str] | None = None
) -> None:
    from agents.experiments.schemes import resolve_weights
    from fg_env.rewards.defaults import DEFAULT_REWARD_MODELS

    if weights is not None:
        resolve_weights(weights, reward_models or DEFAULT_REWARD_MODELS)
        _check_not_negative(weights, name)


def _check_not_negative(values: Sequence[float], name: str) -> None:
    if any(v < 0 for v in values):
        raise CommandError(f"{name} must not be negative, got {list(values)}")


def _check_process_shares(config: Any) -> None:
    """Under ``accelerate launch``, the global batch must split evenly over the processes."""
    from agents.algorithms.distributed import current_processes
    from agents.algorithms.ppo import process_shares

    try:
        process_shares(config.ppo, current_processes())
    except ValueError as error:
        raise CommandError(str(error)) from None


def _single_process(command: str) -> None:
    """Commands of many runs write shared reports: one process each (``fg-env train`` is data-parallel)."""
    from agents.algorithms.distributed import current_processes

    if current_processes().distributed:
        raise CommandError(
            f"`fg-env {command}` runs many trainings and writes one report, so it runs in one process; launch "
            "`fg-env train` under accelerate for data-parallel PPO, once per run"
        )


def _check_seeds(seeds: Sequence[int]) -> None:
    if len(set(seeds)) < len(seeds):
        raise CommandError(f"--seeds must be distinct, got {list(seeds)}")


def _resolve_policy(path: str | None, quick: bool, progress: bool) -> Path:
    """A saved policy folder: the given one (checked to load), or the cached default SFT policy."""
    from agents.policies.policy import LMPolicy

    if path is None or path in DEFAULT_POLICY:
        from agents.policies.sft import build_default_policy

        return Path(build_default_policy(quick=quick, progress=progress))
    LMPolicy.from_pretrained(path)  # fails now, naming the problem, rather than after SFT or a rollout
    return Path(path)


def _given_policy(path: str | None, config: Any, progress: bool) -> Path | None:
    """The given start policy, checked to load; None for the default SFT policy (built by the experiment)."""
    return None if path is None or path in DEFAULT_POLICY else _resolve_policy(path, config.sft == "quick", progress)


# ----------------------------------------------------------------------------------------------------
# commands
# ----------------------------------------------------------------------------------------------------


def _sft(args: argparse.Namespace) -> int:
    from agents.policies.sft import SFTConfig, build_default_policy

    settings = given_fields(args, getattr(args, SFT_FIELDS))
    config = SFTConfig.quick(**settings) if args.quick else SFTConfig(**settings)  # checks every number
    path = Path(build_default_policy(config, progress=args.progress, force=args.force, device=args.device))
    print(f"SFT policy: {path}")
    report = path / "eval.json"
    if report.is_file():
        print(json.dumps(json.loads(report.read_text()), indent=2))
    return 0


def _train(args: argparse.Namespace) -> int:
    from agents.experiments.compare import run_and_evaluate
    from agents.experiments.evaluate import load_examples
    from agents.experiments.schemes import get_scheme
    from fg_env.checkpoint import CHECKPOINT_NAME, load_checkpoint

    get_scheme(args.scheme)
    reward_models = _reward_models(args)
    dataset = _dataset(args, reward_models)
    _check_weights(args.weights, reward_models=reward_models.for_scheme(args.scheme))
    _check_policy_path(args.policy)
    _check_report_to(args.report_to)
    config = _experiment(args)
    _check_process_shares(config)
    out = Path(args.out)
    checkpoint = out / CHECKPOINT_NAME
    if args.resume:
        load_checkpoint(checkpoint)  # missing or corrupt: a clear error now, not after SFT
    elif checkpoint.exists():
        raise CommandError(
            f"{str(out)!r} already holds a run (checkpoint.pt); pass --resume to continue it or choose another --out"
        )
    policy_path = _resolve_policy(args.policy, config.sft == "quick", args.progress)
    examples = load_examples(dataset.eval_split, config.evaluation.eval_questions, dataset.name, dataset.data_dir)
    result = run_and_evaluate(
        policy_path,
        args.scheme,
        args.weights,
        config,
        out,
        examples,
        progress=args.progress,
        report_to=args.report_to,
        reward_models=reward_models,
        dataset=dataset,
    )
    if "eval" not in result:  # another than the main process of a data-parallel run: it has nothing to print
        return 0
    summary = {
        k: result["eval"][k] for k in ("relevance_ratio", "factuality_ratio", "completeness", "rouge_l", "length")
    }
    print(f"trained policy: {out / 'policy'}")
    print(json.dumps(summary, indent=2))
    return 0


def _evaluate(args: argparse.Namespace) -> int:
    from agents.experiments.evaluate import evaluate_policy, evaluate_sentence_agent, load_examples

    if args.policy != "random":
        _check_policy_path(args.policy)
    examples = load_examples(args.split, args.questions)
    if args.policy == "random":
        from agents.baselines.random_agent import RandomSentenceAgent
        from agents.experiments.compare import make_env

        env = make_env("fine-grained", None, args.split, args.max_sentences)
        metrics = evaluate_sentence_agent(RandomSentenceAgent(seed=args.seed), env, range(len(examples)))
    else:
        from agents.policies.policy import LMPolicy

        policy = LMPolicy.from_pretrained(_resolve_policy(args.policy, args.quick, args.progress))
        metrics = evaluate_policy(
            policy,
            examples,
            max_new_tokens=args.max_new_tokens,
            max_sentences=args.max_sentences,
            progress=args.progress,
        )
    text = json.dumps(metrics, indent=2)
    if args.out:
        Path(args.out).parent.mkdir(parents=True, exist_ok=True)
        Path(args.out).write_text(text)
    print(text)
    return 0


def _compare(args: argparse.Namespace) -> int:
    from agents.experiments.compare import compare
    from agents.experiments.schemes import get_scheme

    _single_process("compare")
    for scheme in args.schemes:
        get_scheme(scheme)
    reward_models = _reward_models(args)
    dataset = _dataset(args, reward_models)
    _check_weights(args.weights, reward_models=reward_models.models)
    _check_policy_path(args.policy)
    _check_report_to(args.report_to)
    _check_seeds(args.seeds)
    config = _experiment(args)
    compare(
        args.out,
        config,
        seeds=args.seeds,
        schemes=args.schemes,
        weights=args.weights,
        policy_path=_given_policy(args.policy, config, args.progress),
        include_random=args.random_baseline,
        progress=args.progress,
        report_to=args.report_to,
        reward_models=reward_models,
        dataset=dataset,
    )
    print(
        f"results: {Path(args.out) / 'results.md'}, {Path(args.out) / 'results.json'}, "
        f"{Path(args.out) / 'learning_curve.png'}, {Path(args.out) / 'report.html'}"
    )
    return 0


def _sweep(args: argparse.Namespace) -> int:
    from agents.experiments.compare import sweep_weights
    from fg_env.errors import UnknownChoiceError
    from fg_env.rewards.defaults import DEFAULT_REWARD_MODELS

    _single_process("sweep-weights")
    if args.component not in DEFAULT_REWARD_MODELS:
        raise UnknownChoiceError("reward component", args.component, DEFAULT_REWARD_MODELS)
    _check_not_negative(args.values, "--values")
    _check_weights(args.weights)
    _check_policy_path(args.policy)
    _check_report_to(args.report_to)
    _check_seeds(args.seeds)
    config = _experiment(args)
    sweep_weights(
        args.out,
        config,
        args.component,
        args.values,
        seeds=args.seeds,
        weights=args.weights,
        policy_path=_given_policy(args.policy, config, args.progress),
        progress=args.progress,
        report_to=args.report_to,
    )
    return 0


def _learned_vs_exact_arguments(parser: argparse.ArgumentParser) -> None:
    from agents.experiments.learned_vs_exact import LearnedRewardsConfig

    parser.add_argument(
        "--out",
        default="runs/learned_vs_exact",
        metavar="DIR",
        help="folder for feedback/, reward_models/, compare/, learned_vs_exact.png and .md, results.json (resumed)",
    )
    parser.add_argument(
        "--seeds", type=int_list, default=[0, 1, 2], metavar="S,S,...", help="PPO seeds per arm (default: 0,1,2)"
    )
    parser.add_argument(
        "--window", type=positive_int, default=5, metavar="N", help="iterations averaged per point (default: 5)"
    )
    rewards = parser.add_argument_group("learned reward models (LearnedRewardsConfig)")
    names = add_config_arguments(rewards, LearnedRewardsConfig, options={"backbone": {"metavar": "PATH"}})
    parser.set_defaults(learned_fields=names)
    _add_policy_argument(parser)
    add_progress_flag(parser)
    _add_experiment_arguments(parser, seed=False)


def _learned_vs_exact(args: argparse.Namespace) -> int:
    from agents.experiments.learned_vs_exact import LearnedRewardsConfig, learned_vs_exact

    _single_process("learned-vs-exact")
    _check_policy_path(args.policy)
    _check_seeds(args.seeds)
    settings = LearnedRewardsConfig(**given_fields(args, args.learned_fields))
    config = _experiment(args)
    learned_vs_exact(
        args.out,
        config,
        settings,
        seeds=args.seeds,
        policy_path=_given_policy(args.policy, config, args.progress),
        window=args.window,
        progress=args.progress,
    )
    out = Path(args.out)
    print(f"results: {out / 'learned_vs_exact.md'}, {out / 'learned_vs_exact.png'}, {out / 'results.json'}")
    return 0


def _quiet_when_asked(run: Callable[[argparse.Namespace], int]) -> Callable[[argparse.Namespace], int]:
    """``run``, with transformers' own progress bars ("Loading weights") off under ``--no-progress``."""

    @functools.wraps(run)
    def command(args: argparse.Namespace) -> int:
        if not getattr(args, "progress", True):
            from transformers.utils import logging as hf_logging

            hf_logging.disable_progress_bar()
        return run(args)

    return command


def _sb3_compare_arguments(parser: argparse.ArgumentParser) -> None:
    from agents.experiments.sb3_compare import ALGORITHMS, REWARD_ARMS, SB3CompareConfig

    parser.add_argument(
        "--out",
        default="runs/sb3_compare",
        metavar="DIR",
        help="folder for results.json, results.md, learning_curves.png and runs/ (resumed if it holds runs)",
    )
    parser.add_argument(
        "--seeds", type=int_list, default=[0, 1, 2, 3, 4], metavar="S,S,...", help="seeds (default: 0,1,2,3,4)"
    )
    parser.add_argument(
        "--algorithms",
        type=name_list,
        default=list(ALGORITHMS),
        metavar="NAME,...",
        help=f"Stable-Baselines3 algorithms among {', '.join(ALGORITHMS)} (default: all)",
    )
    parser.add_argument(
        "--rewards",
        type=name_list,
        default=list(REWARD_ARMS),
        metavar="NAME,...",
        help=f"reward arms among {', '.join(REWARD_ARMS)} (default: both)",
    )
    settings = parser.add_argument_group("experiment (SB3CompareConfig)")
    names = add_config_arguments(
        settings, SB3CompareConfig, options={"featurizer": {"choices": ["hashing", "minilm", "both"]}}
    )
    parser.set_defaults(sb3_fields=names)
    add_progress_flag(parser)


def _sb3_compare(args: argparse.Namespace) -> int:
    from agents.experiments.sb3_compare import SB3CompareConfig, sb3_compare

    # sb3_compare() checks the algorithms, reward arms and seeds before it writes anything.
    config = SB3CompareConfig(**given_fields(args, args.sb3_fields))
    sb3_compare(
        args.out, config, algorithms=args.algorithms, rewards=args.rewards, seeds=args.seeds, progress=args.progress
    )
    out = Path(args.out)
    print(f"results: {out / 'results.md'}, {out / 'results.json'}, {out / 'learning_curves.png'}")
    return 0


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add the agents' commands to ``fg-env`` (entry point ``fg_env.commands: agents``).

    Registering imports nothing heavy: each command's flags (and the settings classes they come
    from) are added when that command is parsed.
    """
    commands: list[tuple[str, Callable[[argparse.Namespace], int], Callable[[argparse.ArgumentParser], None], str]] = [
        ("sft", _sft, _sft_arguments, "build (or reuse) the default SFT policy and report its error rates"),
        ("train", _train, _train_arguments, "fine-tune a policy with PPO under a reward scheme"),
        (
            "evaluate",
            _evaluate,
            _evaluate_arguments,
            "greedy answers of a policy on dev or test, scored by fg_env's metrics",
        ),
        (
            "compare",
            _compare,
            _compare_arguments,
            "SFT, then fine-grained versus holistic PPO over seeds: table and plot",
        ),
        (
            "sweep-weights",
            _sweep,
            _sweep_arguments,
            "train with several weights of one reward component; tabulate length and ratios",
        ),
        (
            "learned-vs-exact",
            _learned_vs_exact,
            _learned_vs_exact_arguments,
            "PPO on reward models learned from the annotator's feedback, scored by the annotator: proxy vs exact against KL",
        ),
        (
            "sb3-compare",
            _sb3_compare,
            _sb3_compare_arguments,
            "Stable-Baselines3 PPO and DQN on the candidate view: fine-grained versus holistic, with bounds",
        ),
    ]
    for name, run, arguments, help_text in commands:
        add_command(subparsers, name, _quiet_when_asked(run), arguments=arguments, help=help_text)
