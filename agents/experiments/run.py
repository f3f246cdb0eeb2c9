"""One run, described once: :class:`RunSpec`.

A run is a start policy trained by a trainer (:mod:`agents.algorithms.registry`) with its settings in an
environment wrapped by a reward scheme (:mod:`agents.experiments.schemes`), on a dataset's train split with
some reward models, then evaluated on the dataset's evaluation split. Every part of that lives in the spec, so
every command builds its runs the same way and every run is identified by one versioned key
(:meth:`RunSpec.key`): a finished run whose key matches is reused, a run whose key changed is trained again
(or resumed from its checkpoint), and each run's ``run.json`` and ``result.json`` record that key.

The parts:

- :class:`RewardModels`: the reward models each arm trains on (the built-in annotator's, or learned ones);
- :class:`DatasetChoice`: the questions, with the split trained on and the split evaluated on;
- the environment (:data:`ENV_ID` and its arguments: the dataset, the reward models, and the episode length
  ``evaluation.max_sentences``), built by :func:`make_env`;
- the trainer's name and settings (their ``seed`` is the run's seed), and the evaluation settings.

Example:
    >>> from agents.experiments.settings import PRESETS
    >>> spec = RunSpec.from_experiment(PRESETS["quick"].config().for_run("holistic", 2), "runs/sft", "holistic")
    >>> spec.seed, spec.training.kl_coef, spec.dataset.eval_split
    (2, 0.2, 'dev')
    >>> key = spec.key()
    >>> key["version"], key["env"], key["trainer"], key["config"]["seed"], key["evaluation"]["max_sentences"]
    (3, 'FineGrainedQA-v0', 'ppo', 2, 6)
    >>> from fg_env.data.synthetic.annotator import ANNOTATOR_VERSION
    >>> key["annotator"] == ANNOTATOR_VERSION  # the built-in world's runs are scored by the annotator
    True
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

from agents.algorithms.registry import DEFAULT_TRAINER, TrainerSettings, get_trainer
from agents.experiments.schemes import get_scheme
from agents.experiments.settings import MAX_SENTENCES, EvaluationConfig, ExperimentConfig, default_settings
from fg_env.errors import InvalidValueError

__all__ = [
    "BUILT_IN",
    "ENV_ID",
    "EXACT",
    "RUN_KEY_VERSION",
    "DatasetChoice",
    "RewardModels",
    "RunSpec",
    "make_env",
]

ENV_ID = "FineGrainedQA-v0"
#: The version of :meth:`RunSpec.key`. 2: the run's whole description in one key (version 1, unversioned, was
#: assembled in two places of ``agents/compare.py``); a run recorded under another version is evaluated again
#: (resumed from its final checkpoint, not retrained). 3: the key names the annotator's version (``annotator``)
#: on the built-in world, where the annotator scores the run; a run that another annotator version scored,
#: or one recorded before versions were (key version 2 or older), is refused rather than mixed
#: (:func:`agents.experiments.runner.run_and_evaluate`).
RUN_KEY_VERSION = 3


@dataclass(frozen=True)
class RewardModels:
    """The reward models each arm trains on: by default the built-in annotator's three (exact rewards).

    ``models`` (names or folders of learned models, :func:`fg_env.rewards.make_reward_model`) replace
    them for every scheme; ``preference`` (a learned preference model's folder) is the holistic arm's one
    reward, as the paper's holistic baseline trained on a preference model. Runs on learned models are
    also scored, at every iteration, by the exact annotator (:func:`agents.algorithms.lm_rl.exact_reward_stats`).
    Each field's help is the help of its flag.

    Example:
        >>> arms = RewardModels(("runs/rm/relevance", "runs/rm/factuality"), preference="runs/rm/preference")
        >>> arms.for_scheme("holistic"), arms.for_scheme("fine-grained")
        (['runs/rm/preference'], ['runs/rm/relevance', 'runs/rm/factuality'])
        >>> RewardModels().learned
        False
    """

    models: tuple[str, ...] | None = field(
        default=None,
        metadata={
            "flag": "--reward-models",
            "metavar": "NAME_OR_DIR,...",
            "help": (
                "The reward models to train on, in --weights order: names (relevance, factuality, completeness, a "
                "plug-in's) or folders of learned models (`fg-env rm train`); runs on learned models are also scored "
                "by the exact annotator at every iteration (exact_return in metrics.jsonl)."
            ),
        },
    )
    preference: str | None = field(
        default=None,
        metadata={
            "flag": "--preference-model",
            "metavar": "DIR",
            "help": (
                "The holistic arm's one reward: a learned preference model's folder "
                "(`fg-env rm train --component preference`)."
            ),
        },
    )

    def __post_init__(self) -> None:
        if self.models is not None:
            object.__setattr__(self, "models", tuple(self.models))

    def for_scheme(self, scheme: str) -> list[str] | None:
        """The reward models of ``scheme``'s arm (None: the environment's defaults)."""
        if scheme == "holistic" and self.preference is not None:
            return [self.preference]
        return None if self.models is None else list(self.models)

    def weights_for(self, scheme: str, weights: Sequence[float] | None) -> Sequence[float] | None:
        """``weights`` weight ``models``; the preference model, alone, takes its default weight (1)."""
        return None if scheme == "holistic" and self.preference is not None else weights

    @property
    def learned(self) -> bool:
        """Whether any arm trains on something else than the built-in annotator's rewards."""
        from fg_env.rewards.defaults import DEFAULT_REWARD_MODELS

        return self.preference is not None or (self.models is not None and tuple(self.models) != DEFAULT_REWARD_MODELS)

    def key(self) -> dict[str, Any]:
        """What a run's key and an experiment's results record of them (nothing for the defaults)."""
        if self.models is None and self.preference is None:
            return {}
        return {"reward_models": None if self.models is None else list(self.models), "preference": self.preference}


EXACT = RewardModels()


@dataclass(frozen=True)
class DatasetChoice:
    """The questions a run trains and is evaluated on: the built-in world (exact rewards, the annotator's
    metrics) or a real dataset (QA-Feedback), whose rewards and metrics come from learned reward models.
    Each field's help is the help of its flag.

    Example:
        >>> choice = DatasetChoice("qa-feedback", "data/qa_feedback", train_split="dev")
        >>> choice.env_kwargs(), choice.exact
        ({'dataset': 'qa-feedback', 'data_dir': 'data/qa_feedback'}, False)
        >>> DatasetChoice().key()
        {}
    """

    name: str = field(default="synthetic", metadata={"flag": "--dataset", "help": "The questions to train on."})
    data_dir: str | None = field(
        default=None,
        metadata={"metavar": "DIR", "help": "The dataset's folder (QA-Feedback: dev.json, train.json, ...)."},
    )
    train_split: str = field(default="train", metadata={"help": "Split the trainer samples its questions from."})
    eval_split: str = field(
        default="dev", metadata={"help": "Split every policy (and the random baseline) is evaluated on."}
    )

    @property
    def exact(self) -> bool:
        """Whether the built-in annotator judges this dataset (only the built-in world has one)."""
        return self.name == "synthetic"

    @property
    def annotator(self) -> str | None:
        """The version of the annotator that judges this dataset
        (:data:`~fg_env.data.synthetic.annotator.ANNOTATOR_VERSION`), None where none does."""
        from fg_env.rewards.versions import annotator_version

        return annotator_version() if self.exact else None

    def env_kwargs(self) -> dict[str, Any]:
        return {"dataset": self.name, **({"data_dir": self.data_dir} if self.data_dir is not None else {})}

    def eval_examples(self, count: int) -> list[Any]:
        """The first ``count`` questions of the evaluation split: the questions every policy answers."""
        from agents.experiments.evaluate import load_examples

        return load_examples(self.eval_split, count, self.name, self.data_dir)

    def key(self) -> dict[str, Any]:
        """What a run's key and an experiment's results record of it (nothing for the built-in world's defaults)."""
        return {} if self == DatasetChoice() else {"dataset": asdict(self)}


BUILT_IN = DatasetChoice()


def make_env(
    scheme: str,
    weights: Sequence[float] | None = None,
    split: str = "train",
    max_sentences: int = MAX_SENTENCES,
    dataset: str | DatasetChoice = BUILT_IN,
    reward_models: RewardModels = EXACT,
    env_id: str = ENV_ID,
) -> Any:
    """The environment ``env_id`` on ``dataset``'s ``split`` and ``reward_models``' models of ``scheme``,
    wrapped by that scheme (weighted by ``weights``; None: the paper's)."""
    import gymnasium as gym

    import fg_env  # noqa: F401 - registers the environment

    choice = dataset if isinstance(dataset, DatasetChoice) else DatasetChoice(dataset)
    models = reward_models.for_scheme(scheme)
    extra: dict[str, Any] = {} if models is None else {"reward_models": models}
    env = gym.make(env_id, split=split, max_sentences=max_sentences, **choice.env_kwargs(), **extra)
    return get_scheme(scheme).wrap(env, reward_models.weights_for(scheme, weights))


@dataclass(frozen=True)
class RunSpec:
    """Everything that decides one run's result, and its one key (:meth:`key`).

    ``policy`` is the folder of the policy the run starts from; ``training`` the settings of the trainer named
    ``trainer`` (their ``seed`` is the run's); ``weights`` weight the scheme's reward models (None: the
    paper's); ``evaluation.max_sentences`` is the episode length in training and evaluation.

    Example:
        >>> spec = RunSpec("runs/sft", scheme="sentence", weights=[0.2, 0.6, 0.2])
        >>> spec.weights, spec.seed, spec.episodes
        ((0.2, 0.6, 0.2), 0, 320)
        >>> from dataclasses import replace
        >>> replace(spec, training=replace(spec.training, seed=3)).key()["config"]["seed"]
        3
    """

    policy: str = field(
        metadata={
            "metavar": "DIR",
            "help": "Saved policy folder to start from (default: the cached SFT policy of the preset).",
        }
    )
    scheme: str = field(
        default="fine-grained",
        metadata={
            "help": (
                "Reward scheme (agents/experiments/schemes.py): fine-grained, holistic, sentence, episode, "
                "no-relevance, no-factuality, no-completeness, fine-grained-normalized (fine-grained with each "
                "reward model normalised per question before the weighted sum: GDPO; it sets "
                "--reward-normalization per-component)."
            )
        },
    )
    weights: tuple[float, ...] | None = field(
        default=None,
        metadata={
            "metavar": "W,W,W",
            "help": (
                "Reward weights, one per reward model in order (relevance,factuality,completeness unless "
                "--reward-models says otherwise); none: the paper's."
            ),
        },
    )
    trainer: str = DEFAULT_TRAINER
    training: TrainerSettings = field(default_factory=default_settings)
    evaluation: EvaluationConfig = field(default_factory=EvaluationConfig)
    reward_models: RewardModels = EXACT
    dataset: DatasetChoice = BUILT_IN
    env_id: str = ENV_ID

    def __post_init__(self) -> None:
        object.__setattr__(self, "policy", str(self.policy))
        if self.weights is not None:
            object.__setattr__(self, "weights", tuple(float(w) for w in self.weights))
        scheme = get_scheme(self.scheme)
        entry = get_trainer(self.trainer)
        if not isinstance(self.training, entry.settings):
            raise InvalidValueError(
                f"trainer {self.trainer!r} takes {entry.settings.__name__} settings, not {type(self.training).__name__}"
            )
        # A scheme that changes how the trainer treats the reward (fine-grained-normalized) sets its trainer
        # settings here, so every command's run of it gets them and its key says so.
        object.__setattr__(self, "training", scheme.settings_for(self.training))

    @classmethod
    def from_experiment(
        cls,
        config: ExperimentConfig,
        policy: str | os.PathLike[str],
        scheme: str = "fine-grained",
        *,
        weights: Sequence[float] | None = None,
        reward_models: RewardModels = EXACT,
        dataset: DatasetChoice = BUILT_IN,
    ) -> RunSpec:
        """The run of ``config``'s trainer, settings and evaluation (``config.for_run`` gives a run's seed and
        scheme KL coefficient first)."""
        return cls(
            str(policy),
            scheme,
            None if weights is None else tuple(weights),
            config.trainer,
            config.training,
            config.evaluation,
            reward_models,
            dataset,
        )

    @property
    def seed(self) -> int:
        return int(self.training.seed)

    @property
    def episodes(self) -> int:
        """The run's budget: iterations x episodes per iteration."""
        return int(self.training.iterations * self.training.episodes_per_iteration)

    def make_env(self, split: str, scheme: str | None = None) -> Any:
        """The run's environment on ``split``, wrapped by its scheme (or by ``scheme``, with the same weights)."""
        return make_env(
            scheme or self.scheme,
            self.weights,
            split,
            self.evaluation.max_sentences,
            self.dataset,
            self.reward_models,
            self.env_id,
        )

    def exact_env(self, split: str) -> Any:
        """The built-in annotator's fine-grained environment that audits a run on learned reward models (its
        rollouts are scored by it too), or None where the run's rewards are the annotator's or no annotator
        exists (another dataset than the built-in world)."""
        if not (self.reward_models.learned and self.dataset.exact):
            return None
        return make_env("fine-grained", None, split, self.evaluation.max_sentences, env_id=self.env_id)

    @property
    def annotator(self) -> str | None:
        """The version of the annotator that scores this run (its rewards, its exact audit or its evaluation):
        :data:`~fg_env.data.synthetic.annotator.ANNOTATOR_VERSION` on the built-in world, None on another
        dataset (no annotator there)."""
        return self.dataset.annotator

    def key(self) -> dict[str, Any]:
        """The run's identity, versioned (:data:`RUN_KEY_VERSION`): written to ``run.json`` and ``result.json``,
        and compared to reuse a finished run. On the built-in world it names the annotator's version: a run
        scored by another annotator is another run (and a folder holding one is refused, not resumed). The
        start policy's cache is keyed apart (:meth:`agents.policies.sft.SFTConfig.key`): its demonstrations are
        the world's gold answers, not the annotator's verdicts, so a new annotator rebuilds no policy."""
        annotator = self.annotator
        return {
            "version": RUN_KEY_VERSION,
            "env": self.env_id,
            "policy": self.policy,
            "scheme": self.scheme,
            "weights": None if self.weights is None else list(self.weights),
            "trainer": self.trainer,
            "config": self.training.to_dict(),
            "evaluation": self.evaluation.to_dict(),
            **self.reward_models.key(),
            **self.dataset.key(),
            **({} if annotator is None else {"annotator": annotator}),
        }
