"""The flags and checks the agents' commands share, built from the settings dataclasses.

Every setting is a field of a dataclass with its ``metadata["help"]``, and its flag is made from it by
:func:`fg_env.command.add_config_arguments`: the trainer's settings (``PPOConfig``) and
:class:`~agents.experiments.settings.EvaluationConfig` (:func:`add_experiment_arguments`), the parts of a run
(:class:`~agents.experiments.run.RunSpec`'s policy, scheme and weights; :class:`~agents.experiments.run.RewardModels`;
:class:`~agents.experiments.run.DatasetChoice`), and each command's own plan (``Arms``, ``Sweep``...). What is
left by hand here names no setting: ``--out`` (``runs/<command>`` by default, :func:`add_out_argument`), the
preset (``--preset NAME``; ``--quick`` is ``--preset quick`` in every command that takes it), ``--episodes``
and ``--report-to``.

Every argument is checked before any training time is spent: numbers by the settings' own checks, reward
weights against the environment's reward models, model folders and checkpoints by opening them. A bad value
stops the command with one line naming the problem (exit status 2).
"""

from __future__ import annotations

import argparse
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from fg_env.command import CommandError, add_config_arguments, given_fields, name_list, positive_int

DEFAULT_POLICY = ("default", "sft")  # --policy names of the cached default SFT policy
TRAINING_FIELDS, EVALUATION_FIELDS = "training_fields", "evaluation_fields"  # set_defaults keys


def add_out_argument(parser: argparse.ArgumentParser, command: str, contents: str, *, required: bool = False) -> None:
    """``--out DIR``: the folder a command writes (``runs/<command>`` unless it must be named)."""
    if required:
        parser.add_argument("--out", required=True, metavar="DIR", help=contents)
    else:
        parser.add_argument("--out", default=f"runs/{command}", metavar="DIR", help=contents)


def add_preset_argument(parser: argparse.ArgumentParser | argparse._ArgumentGroup, what: str) -> None:
    """``--preset NAME``, and ``--quick`` for ``--preset quick``: the same presets in every command, of which
    ``what`` says what this command takes."""
    from agents.experiments.settings import DEFAULT_PRESET, PRESETS

    choice = parser.add_mutually_exclusive_group()
    # No default here (None means DEFAULT_PRESET), so that argparse sees `--quick --preset default` as a conflict.
    choice.add_argument(
        "--preset",
        choices=list(PRESETS),
        help="; ".join(f"{name}: {p.description}" for name, p in PRESETS.items())
        + f" (default: {DEFAULT_PRESET}). This command takes {what}.",
    )
    choice.add_argument(
        "--quick", dest="preset", action="store_const", const="quick", help="the same as --preset quick"
    )


def preset_name(args: argparse.Namespace) -> str:
    from agents.experiments.settings import DEFAULT_PRESET

    return getattr(args, "preset", None) or DEFAULT_PRESET


def _preset_defaults(part: str) -> dict[str, str]:
    """Shown defaults of the fields a preset sets, e.g. ``{"iterations": "20; quick preset: 8"}``."""
    from agents.experiments.settings import DEFAULT_PRESET, PRESETS

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


def add_experiment_arguments(parser: argparse.ArgumentParser, *, seed: bool, scheme_kl_coef: bool = False) -> None:
    """The preset, the budget in episodes, the trainer, every field of every registered trainer's settings
    (shared names once; a field the chosen trainer lacks is refused) and the EvaluationConfig fields."""
    from agents.algorithms.registry import available_trainers, get_trainer
    from agents.experiments.settings import EvaluationConfig, ExperimentConfig

    preset = parser.add_argument_group("experiment size (presets of the settings below; explicit flags override them)")
    add_preset_argument(preset, "the preset's trainer settings, evaluation and SFT policy")
    preset.add_argument(
        "--episodes",
        type=positive_int,
        metavar="N",
        help="episodes per run, rounded up to whole iterations (instead of --iterations)",
    )
    add_config_arguments(
        preset,
        ExperimentConfig,
        include=("trainer", *(("scheme_kl_coef",) if scheme_kl_coef else ())),
        options={"trainer": {"choices": available_trainers()}},
    )
    names: list[str] = []
    shown = _preset_defaults("training")
    for trainer in available_trainers():
        settings = get_trainer(trainer).settings
        group = parser.add_argument_group(f"{trainer} trainer ({settings.__name__})")
        names += add_config_arguments(
            group,
            settings,
            exclude={*names, *(() if seed else ("seed",))},
            defaults=shown,
            options={"value_model": {"metavar": "{head,separate}"}},
        )
    evaluation = parser.add_argument_group("evaluation (EvaluationConfig)")
    evaluation_fields = add_config_arguments(evaluation, EvaluationConfig, defaults=_preset_defaults("evaluation"))
    parser.set_defaults(**{TRAINING_FIELDS: names, EVALUATION_FIELDS: evaluation_fields})


def experiment_config(args: argparse.Namespace, presets: Mapping[str, Any] | None = None) -> Any:
    """The experiment's settings: the preset (of ``presets``, by default the QA experiments'), overridden by the
    flags given (checked by the settings classes)."""
    from dataclasses import fields

    from agents.algorithms.registry import get_trainer
    from agents.experiments.settings import PRESETS

    sizes = presets or PRESETS

    trainer = getattr(args, "trainer", None) or sizes[preset_name(args)].trainer
    training = given_fields(args, getattr(args, TRAINING_FIELDS))
    foreign = sorted(set(training) - {f.name for f in fields(get_trainer(trainer).settings)})
    if foreign:
        flags = ", ".join(f"--{name.replace('_', '-')}" for name in foreign)
        raise CommandError(f"{flags}: not a setting of the {trainer} trainer")
    config = sizes[preset_name(args)].config(
        training=training,
        evaluation=given_fields(args, getattr(args, EVALUATION_FIELDS)),
        scheme_kl_coef=getattr(args, "scheme_kl_coef", None),
        trainer=trainer,
    )
    if args.episodes is not None:
        if "iterations" in training:
            raise CommandError("--episodes and --iterations both set the budget of a run; give one of them")
        config = config.with_episodes(args.episodes)
    return config


def add_run_arguments(parser: argparse.ArgumentParser, names: Sequence[str]) -> list[str]:
    """Flags of :class:`~agents.experiments.run.RunSpec`'s fields ``names`` (policy, scheme, weights)."""
    from agents.experiments.run import RunSpec
    from fg_env.command import float_list

    # --weights as a list only (absent: the paper's), so that a malformed list says what it expected.
    options: dict[str, dict[str, Any]] = {"policy": {"required": False}, "weights": {"type": float_list}}
    shown = {"weights": "the paper's, 0.3,0.5,0.3"}
    return add_config_arguments(parser, RunSpec, include=names, defaults=shown, options=options)


def add_report_to_argument(parser: argparse.ArgumentParser) -> None:
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


def check_report_to(targets: Sequence[str]) -> None:
    """Unknown names and missing packages stop the command before any training time is spent."""
    from fg_env.reporting import check_report_targets

    try:
        check_report_targets(targets)
    except ImportError as error:
        raise CommandError(str(error)) from error


def add_reward_model_arguments(parser: argparse.ArgumentParser) -> None:
    from agents.experiments.run import RewardModels

    group = parser.add_argument_group("reward models (RewardModels; default: the built-in annotator's three, exact)")
    add_config_arguments(group, RewardModels, defaults={"models": "the built-in annotator's three, exact"})


def reward_models(args: argparse.Namespace) -> Any:
    """The arms' reward models from the flags, each checked to exist before any training time is spent."""
    from agents.experiments.run import RewardModels
    from fg_env.rewards.learned.config import RewardModelConfig
    from fg_env.rewards.registry import available_reward_models

    models, preference = getattr(args, "models", None), getattr(args, "preference", None)
    for spec in [*(models or []), *([preference] if preference else [])]:
        if Path(spec).is_dir():
            try:
                RewardModelConfig.load(Path(spec))
            except (FileNotFoundError, ValueError) as error:
                raise CommandError(f"reward model {spec!r}: {error}") from None
        elif spec not in available_reward_models():
            raise CommandError(
                f"reward model {spec!r} is neither a folder nor a known name ({', '.join(available_reward_models())})"
            )
    if preference and not Path(preference).is_dir():
        raise CommandError(f"--preference-model {preference!r} is not a folder of a learned model")
    weights = getattr(args, "weights", None)
    if models is not None and weights is not None and len(weights) != len(models):
        raise CommandError(f"--weights needs {len(models)} values, one per --reward-models entry; got {len(weights)}")
    return RewardModels(None if models is None else tuple(models), preference)


def add_dataset_arguments(parser: argparse.ArgumentParser) -> None:
    from agents.experiments.run import DatasetChoice
    from fg_env.data import available_datasets

    group = parser.add_argument_group("dataset (DatasetChoice; default: the built-in world, judged by its annotator)")
    add_config_arguments(group, DatasetChoice, options={"name": {"choices": available_datasets("qa")}})


def dataset(args: argparse.Namespace, models: Any) -> Any:
    """The dataset of the run, checked to load (both splits) before any training time is spent."""
    from agents.experiments.evaluate import load_examples
    from agents.experiments.run import DatasetChoice

    choice = DatasetChoice(**given_fields(args, ("name", "data_dir", "train_split", "eval_split")))
    if not choice.exact and models.models is None:
        raise CommandError(
            f"--dataset {choice.name} has no annotator to reward or judge answers: give --reward-models (e.g. the "
            "folders `fg-env rm train` wrote)"
        )
    for split in (choice.train_split, choice.eval_split):
        load_examples(split, 1, choice.name, choice.data_dir)  # a missing folder or split: a clear error now
    return choice


def check_policy_path(path: str | None) -> None:
    if path is not None and path not in DEFAULT_POLICY and not Path(path).exists():
        raise CommandError(
            f"policy path {path!r} does not exist (give a saved model folder, or omit --policy for the default SFT policy)"
        )


def check_weights(weights: Sequence[float] | None, reward_models: Sequence[str] | None = None) -> None:
    from agents.experiments.schemes import resolve_weights
    from fg_env.rewards.defaults import DEFAULT_REWARD_MODELS

    if weights is not None:
        resolve_weights(weights, reward_models or DEFAULT_REWARD_MODELS)
        if any(w < 0 for w in weights):
            raise CommandError(f"--weights must not be negative, got {list(weights)}")


def check_trainer(config: Any) -> None:
    """The trainer's own checks that need no model (PPO: the global batch shares evenly over the processes)."""
    from agents.algorithms.distributed import current_processes
    from agents.algorithms.registry import get_trainer

    get_trainer(config.trainer).check(None, config.training, current_processes())


def single_process(command: str) -> None:
    """Commands of many runs write shared reports: one process each (``fg-env train`` is data-parallel)."""
    from agents.algorithms.distributed import current_processes

    if current_processes().distributed:
        raise CommandError(
            f"`fg-env {command}` runs many trainings and writes one report, so it runs in one process; launch "
            "`fg-env train` under accelerate for data-parallel PPO, once per run"
        )


def resolve_policy(path: str | None, quick: bool, progress: bool) -> Path:
    """A saved policy folder: the given one (checked to load), or the cached default SFT policy."""
    from agents.policies.policy import LMPolicy

    if path is None or path in DEFAULT_POLICY:
        from agents.policies.sft import build_default_policy

        return Path(build_default_policy(quick=quick, progress=progress))
    LMPolicy.from_pretrained(path)  # fails now, naming the problem, rather than after SFT or a rollout
    return Path(path)


def given_policy(path: str | None, config: Any, progress: bool) -> Path | None:
    """The given start policy, checked to load; None for the default SFT policy (built by the experiment)."""
    return None if path is None or path in DEFAULT_POLICY else resolve_policy(path, config.sft == "quick", progress)
