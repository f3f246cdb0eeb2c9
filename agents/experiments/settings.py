"""An experiment's settings: which trainer with which settings, how its policies are evaluated, and which SFT
policy they start from; and the named sizes of those settings (:data:`PRESETS`: ``quick``, ``default``).

One :class:`ExperimentConfig` sizes every run of an experiment (each run replaces the seed, and a reward scheme
may take its own KL coefficient); :class:`agents.experiments.run.RunSpec` describes one run built from it.
Every default here has one home: the episode length :data:`MAX_SENTENCES` and the evaluation's
:data:`EVAL_QUESTIONS` (also read by ``fg-env evaluate`` and ``sb3-compare``); the longest answer in tokens
is the trainer's ``max_new_tokens`` (PPO's default: :data:`agents.policies.policy.ANSWER_TOKENS`).

Example:
    >>> config = PRESETS["quick"].config()
    >>> config.trainer, config.training.iterations, config.episodes_per_run, config.evaluation.max_sentences
    ('ppo', 8, 64, 6)
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field, fields, replace
from typing import Any, Literal

from agents.algorithms.registry import DEFAULT_TRAINER, TrainerSettings, get_trainer
from agents.experiments.schemes import get_scheme
from fg_env.errors import InvalidValueError, UnknownChoiceError

__all__ = [
    "DEFAULT_PRESET",
    "EVAL_QUESTIONS",
    "HOLISTIC_KL_COEF",
    "MAX_SENTENCES",
    "PRESETS",
    "SFT_PRESETS",
    "EvaluationConfig",
    "ExperimentConfig",
    "Preset",
    "default_settings",
]

SFT_PRESETS = ("quick", "default")  # agents.policies.sft.SFTConfig.quick() and SFTConfig()
DEFAULT_PRESET = "default"
#: The experiments' episode length: the environment ends an answer after this many sentences, in training and
#: in evaluation. Shorter than the environment's own default (10): the built-in world's gold answers hold 2-5.
MAX_SENTENCES = 6
#: Questions of the evaluation split every policy answers (the first N), in every experiment.
EVAL_QUESTIONS = 100


@dataclass(frozen=True)
class EvaluationConfig:
    """How an experiment evaluates its policies, and how long the environment lets an answer grow.

    Each field's help is the help of its flag in ``fg-env train``, ``compare`` and ``sweep-weights``.

    Example:
        >>> EvaluationConfig(eval_questions=24).max_sentences
        6
    """

    eval_questions: int = field(
        default=EVAL_QUESTIONS,
        metadata={
            "help": ("Dev questions every policy is evaluated on, by greedy decoding (the first N of the split).")
        },
    )
    max_sentences: int = field(
        default=MAX_SENTENCES,
        metadata={"help": ("The environment ends an answer after this many sentences, in training and in evaluation.")},
    )
    eval_every: int = field(
        default=0,
        metadata={
            "help": (
                "Also evaluate each PPO run greedily on the same questions every N iterations, for learning curves "
                "of the metrics and the sample-efficiency table (0: only at the end)."
            )
        },
    )

    def __post_init__(self) -> None:
        for name in ("eval_questions", "max_sentences", "eval_every"):
            value = getattr(self, name)
            minimum = 0 if name == "eval_every" else 1
            if not isinstance(value, int) or isinstance(value, bool) or value < minimum:
                kind = "a non-negative" if minimum == 0 else "a positive"
                raise InvalidValueError(f"EvaluationConfig.{name} must be {kind} integer, got {value!r}")

    def to_dict(self) -> dict[str, Any]:
        settings = asdict(self)
        if not self.eval_every:
            # Runs without evaluation curves keep the record they had before curves existed.
            del settings["eval_every"]
        return settings


def default_settings() -> TrainerSettings:
    """The default trainer's default settings (PPO's :class:`~agents.algorithms.ppo.PPOConfig`)."""
    settings: TrainerSettings = get_trainer(DEFAULT_TRAINER).settings()
    return settings


def _field_names(settings_class: type) -> set[str]:
    return {f.name for f in fields(settings_class)}


@dataclass(frozen=True)
class ExperimentConfig:
    """One experiment's settings: a trainer's settings for every run (each run replaces its seed), the
    evaluation, the SFT preset the runs start from, and the KL coefficients of schemes that take their own.

    ``training`` is the settings dataclass of the trainer named ``trainer`` (:mod:`agents.algorithms.registry`;
    PPO's :class:`~agents.algorithms.ppo.PPOConfig` by default).

    Example:
        >>> config = PRESETS["quick"].config()
        >>> config.sft, config.training.iterations, config.episodes_per_run, config.evaluation.eval_questions
        ('quick', 8, 64, 24)
        >>> config.with_episodes(100).training.iterations  # whole iterations of 2 x 4 episodes
        13
    """

    training: TrainerSettings = field(default_factory=default_settings)
    evaluation: EvaluationConfig = field(default_factory=EvaluationConfig)
    sft: Literal["quick", "default"] = "default"
    scheme_kl_coef: Mapping[str, float] = field(
        default_factory=dict,
        metadata={
            "help": (
                "A KL coefficient per reward scheme, overriding --kl-coef for those schemes (default: the preset's, "
                "holistic's tuned by a grid; an explicit --kl-coef alone applies to every scheme)."
            )
        },
    )
    trainer: str = field(
        default=DEFAULT_TRAINER,
        metadata={
            "help": "The trainer of every run (agents/algorithms/registry.py); its settings are the flags below."
        },
    )

    def __post_init__(self) -> None:
        entry = get_trainer(self.trainer)
        if not isinstance(self.training, entry.settings):
            raise InvalidValueError(
                f"trainer {self.trainer!r} takes {entry.settings.__name__} settings, not {type(self.training).__name__}"
            )
        if self.sft not in SFT_PRESETS:
            raise UnknownChoiceError("SFT preset", self.sft, SFT_PRESETS)
        if self.scheme_kl_coef and "kl_coef" not in _field_names(entry.settings):
            raise InvalidValueError(f"trainer {self.trainer!r} has no KL coefficient for scheme_kl_coef to set")
        for scheme, beta in self.scheme_kl_coef.items():
            get_scheme(scheme)
            if isinstance(beta, bool) or not isinstance(beta, (int, float)) or not beta >= 0:
                raise InvalidValueError(f"the KL coefficient of scheme {scheme!r} must be a number >= 0, got {beta!r}")

    @property
    def episodes_per_run(self) -> int:
        return int(self.training.iterations * self.training.episodes_per_iteration)

    def with_seed(self, seed: int) -> ExperimentConfig:
        return replace(self, training=replace(self.training, seed=seed))

    def for_run(self, scheme: str, seed: int) -> ExperimentConfig:
        """The settings of one run: its seed, and its scheme's own KL coefficient where it has one.

        Example:
            >>> config = ExperimentConfig(scheme_kl_coef={"holistic": 0.2})
            >>> config.for_run("holistic", 3).training.kl_coef, config.for_run("fine-grained", 3).training.kl_coef
            (0.2, 0.3)
        """
        training = replace(self.training, seed=seed)
        if scheme in self.scheme_kl_coef:
            training = replace(training, kl_coef=float(self.scheme_kl_coef[scheme]))
        return replace(self, training=training, scheme_kl_coef={})

    def with_episodes(self, episodes: int) -> ExperimentConfig:
        """The same settings with enough whole iterations for ``episodes`` episodes per run."""
        if episodes <= 0:
            raise InvalidValueError(f"episodes must be a positive integer, got {episodes!r}")
        iterations = math.ceil(episodes / self.training.episodes_per_iteration)
        return replace(self, training=replace(self.training, iterations=iterations))

    def to_dict(self) -> dict[str, Any]:
        """The settings as recorded in an experiment's ``results.json`` (the trainer's under its name)."""
        settings: dict[str, Any] = {"sft": self.sft}
        if self.trainer != DEFAULT_TRAINER:
            settings["trainer"] = self.trainer
        settings[self.trainer] = self.training.to_dict()
        settings["evaluation"] = self.evaluation.to_dict()
        if self.scheme_kl_coef:
            settings["scheme_kl_coef"] = dict(self.scheme_kl_coef)
        return settings


@dataclass(frozen=True)
class Preset:
    """A named experiment size: its trainer (PPO), overrides of the trainer's settings and
    :class:`EvaluationConfig` fields, and the SFT preset. Settings given explicitly (``fg-env compare --quick --iterations 4``) override it.

    A preset sizes any trainer by the fields its settings share with the preset's (the budget and batch
    names PPO uses); fields a trainer's settings lack are left out for it, and so is ``scheme_kl_coef``
    for a trainer without a KL coefficient.

    Example:
        >>> PRESETS["quick"].config(training={"learning_rate": 1e-4}).training.learning_rate
        0.0001
        >>> PRESETS["default"].config().episodes_per_run
        320
    """

    description: str
    sft: Literal["quick", "default"]
    training: Mapping[str, Any]
    evaluation: Mapping[str, Any] = field(default_factory=dict)
    scheme_kl_coef: Mapping[str, float] = field(default_factory=dict)
    trainer: str = DEFAULT_TRAINER

    def config(
        self,
        training: Mapping[str, Any] | None = None,
        evaluation: Mapping[str, Any] | None = None,
        scheme_kl_coef: Mapping[str, float] | None = None,
        trainer: str | None = None,
    ) -> ExperimentConfig:
        """The preset's settings for ``trainer`` (None: the preset's), ``training`` and ``evaluation``
        overriding fields of theirs (checked by the settings classes).

        An explicit ``kl_coef`` in ``training`` applies to every scheme, unless ``scheme_kl_coef`` is given too.
        """
        trainer = trainer or self.trainer
        entry = get_trainer(trainer)
        names = _field_names(entry.settings)
        given = dict(training or {})
        sized = {name: value for name, value in self.training.items() if name in names}
        if scheme_kl_coef is None:
            scheme_kl_coef = {} if "kl_coef" in given or "kl_coef" not in names else self.scheme_kl_coef
        return ExperimentConfig(
            training=entry.make_settings({**sized, **given}),
            evaluation=EvaluationConfig(**{**self.evaluation, **(evaluation or {})}),
            sft=self.sft,
            scheme_kl_coef=dict(scheme_kl_coef),
            trainer=trainer,
        )


# Holistic PPO's KL coefficient, chosen from 0.1, 0.2, 0.3 at default scale (seeds 0-2) by the mean of the
# three ratios on the dev questions: 0.841, 0.843, 0.838 (README, "Holistic's KL coefficient"). The paper used
# 0.2 for holistic and 0.3 for fine-grained.
HOLISTIC_KL_COEF: Mapping[str, float] = {"holistic": 0.2}

# Sized for a 2-core CPU, from a fresh cache with the SFT build included: quick in <= 5 minutes (measured 73 s
# idle), default in <= 45 (see the README for the measured times). Both evaluate on answers of MAX_SENTENCES.
PRESETS: dict[str, Preset] = {
    "quick": Preset(
        "the quick SFT policy, 64 episodes per PPO run, 24 evaluation questions (minutes; a check of the pipeline, "
        "not a result)",
        sft="quick",
        training={
            "iterations": 8,
            "prompts_per_iteration": 2,
            "samples_per_prompt": 4,
            "minibatch_size": 8,
            "max_new_tokens": 64,
        },
        evaluation={"eval_questions": 24},
        scheme_kl_coef=HOLISTIC_KL_COEF,
    ),
    "default": Preset(
        "the default SFT policy, 320 episodes per PPO run, 100 evaluation questions",
        sft="default",
        training={
            "iterations": 20,
            "prompts_per_iteration": 4,
            "samples_per_prompt": 4,
            "minibatch_size": 8,
            "max_new_tokens": 80,
        },
        evaluation={"eval_questions": EVAL_QUESTIONS},
        scheme_kl_coef=HOLISTIC_KL_COEF,
    ),
}
