"""Experiments on the trainer: one PPO run, the fine-grained-versus-holistic comparison, weight sweeps.

``compare`` reproduces the paper's central experiment on the built-in world: the SFT policy once, then
PPO with the fine-grained reward and PPO with the holistic reward, equal episode budgets, several
seeds, all evaluated greedily on the same dev questions. Its folder receives ``results.json``,
``results.md`` (the paper's table: relevance ratio, factuality ratio, completeness, ROUGE-L, length;
mean +- half-width of the 95% confidence interval over seeds; then the paired differences between
fine-grained and each other arm, seed by seed, with a paired t-test), ``learning_curve.png`` and
``report.html`` (the table, the curves, and sample answers of every policy side by side, each segment
coloured by its reward: :mod:`agents.reporting.html`). With ``EvaluationConfig.eval_every``, each run is
also evaluated during training: ``eval_curves.png`` and the sample-efficiency table (the episodes
fine-grained PPO needs to reach holistic PPO's final score, per metric).

Holistic PPO may take its own KL coefficient (``ExperimentConfig.scheme_kl_coef``; the presets hold
the value a grid chose, as the paper tuned 0.2 for holistic against 0.3 for fine-grained).

An experiment's settings are one :class:`ExperimentConfig`: a :class:`~agents.algorithms.ppo.PPOConfig` shared
by every run (each with its own seed), an :class:`EvaluationConfig` and the SFT preset. Its sizes are
named :data:`PRESETS` (``quick``, ``default``) of overrides of those settings; ``fg-env compare --quick``
picks one, and flags given explicitly override it. Tables and plots are drawn by
:mod:`agents.reporting.stats`.

Every run keeps its own folder with ``metrics.jsonl`` and checkpoints, so an interrupted comparison
picks up where it stopped when run again with the same arguments (a run's settings are stored in its
``result.json``; a run whose settings changed is trained again).
"""

from __future__ import annotations

import json
import math
import os
from collections.abc import Callable, Mapping, Sequence
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any, Literal

from agents.algorithms.ppo import FineGrainedPPO, PPOConfig
from agents.experiments.schemes import get_scheme, resolve_weights
from agents.reporting.html import write_report
from agents.reporting.stats import (
    METRIC_COLUMNS,
    comparison_caption,
    markdown_table,
    paired_comparison,
    paired_table,
    plot_eval_curves,
    plot_learning_curves,
    plot_sweep,
    sample_efficiency,
    sample_efficiency_table,
    summarise,
    sweep_caption,
)
from fg_env.atomic import atomic_write_json
from fg_env.errors import InvalidValueError, UnknownChoiceError

SFT_PRESETS = ("quick", "default")  # agents.policies.sft.SFTConfig.quick() and SFTConfig()
EVAL_CURVE_NAME = "eval_curve.json"  # a run's evaluations during training (EvaluationConfig.eval_every)


@dataclass(frozen=True)
class EvaluationConfig:
    """How an experiment evaluates its policies, and how long the environment lets an answer grow.

    Each field's help is the help of its flag in ``fg-env train``, ``compare`` and ``sweep-weights``.

    Example:
        >>> EvaluationConfig(eval_questions=24).max_sentences
        6
    """

    eval_questions: int = field(
        default=100,
        metadata={
            "help": ("Dev questions every policy is evaluated on, by greedy decoding (the first N of the split).")
        },
    )
    max_sentences: int = field(
        default=6,
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
            # Runs without evaluation curves keep the record (and so the resume key) they had before curves existed.
            del settings["eval_every"]
        return settings


@dataclass(frozen=True)
class ExperimentConfig:
    """One experiment's settings: the SFT preset PPO starts from, one :class:`PPOConfig` for every run
    (each run replaces its seed) and the evaluation.

    Example:
        >>> config = PRESETS["quick"].config()
        >>> config.sft, config.ppo.iterations, config.episodes_per_run, config.evaluation.eval_questions
        ('quick', 8, 64, 24)
        >>> config.with_episodes(100).ppo.iterations  # whole iterations of 2 x 4 episodes
        13
    """

    ppo: PPOConfig = field(default_factory=PPOConfig)
    evaluation: EvaluationConfig = field(default_factory=EvaluationConfig)
    sft: Literal["quick", "default"] = "default"
    scheme_kl_coef: Mapping[str, float] = field(default_factory=dict)
    """A KL coefficient per reward scheme that differs from ``ppo.kl_coef`` (the paper tuned holistic's apart)."""

    def __post_init__(self) -> None:
        if self.sft not in SFT_PRESETS:
            raise UnknownChoiceError("SFT preset", self.sft, SFT_PRESETS)
        for scheme, beta in self.scheme_kl_coef.items():
            get_scheme(scheme)
            if isinstance(beta, bool) or not isinstance(beta, (int, float)) or not beta >= 0:
                raise InvalidValueError(f"the KL coefficient of scheme {scheme!r} must be a number >= 0, got {beta!r}")

    @property
    def episodes_per_run(self) -> int:
        return self.ppo.iterations * self.ppo.episodes_per_iteration

    def with_seed(self, seed: int) -> ExperimentConfig:
        return replace(self, ppo=replace(self.ppo, seed=seed))

    def for_run(self, scheme: str, seed: int) -> ExperimentConfig:
        """The settings of one run: its seed, and its scheme's own KL coefficient where it has one.

        Example:
            >>> config = ExperimentConfig(scheme_kl_coef={"holistic": 0.2})
            >>> config.for_run("holistic", 3).ppo.kl_coef, config.for_run("fine-grained", 3).ppo.kl_coef
            (0.2, 0.3)
        """
        ppo = replace(self.ppo, seed=seed)
        if scheme in self.scheme_kl_coef:
            ppo = replace(ppo, kl_coef=float(self.scheme_kl_coef[scheme]))
        return replace(self, ppo=ppo, scheme_kl_coef={})

    def with_episodes(self, episodes: int) -> ExperimentConfig:
        """The same settings with enough whole iterations for ``episodes`` episodes per run."""
        if episodes <= 0:
            raise InvalidValueError(f"episodes must be a positive integer, got {episodes!r}")
        return replace(self, ppo=replace(self.ppo, iterations=math.ceil(episodes / self.ppo.episodes_per_iteration)))

    def to_dict(self) -> dict[str, Any]:
        settings = {"sft": self.sft, "ppo": self.ppo.to_dict(), "evaluation": self.evaluation.to_dict()}
        if self.scheme_kl_coef:
            settings["scheme_kl_coef"] = dict(self.scheme_kl_coef)
        return settings


@dataclass(frozen=True)
class Preset:
    """A named experiment size: overrides of :class:`PPOConfig` and :class:`EvaluationConfig` fields,
    and the SFT preset. Settings given explicitly (``fg-env compare --quick --iterations 4``) override it.

    Example:
        >>> PRESETS["quick"].config(ppo={"learning_rate": 1e-4}).ppo.learning_rate
        0.0001
        >>> PRESETS["default"].config().episodes_per_run
        320
    """

    description: str
    sft: Literal["quick", "default"]
    ppo: Mapping[str, Any]
    evaluation: Mapping[str, Any] = field(default_factory=dict)
    scheme_kl_coef: Mapping[str, float] = field(default_factory=dict)

    def config(
        self,
        ppo: Mapping[str, Any] | None = None,
        evaluation: Mapping[str, Any] | None = None,
        scheme_kl_coef: Mapping[str, float] | None = None,
    ) -> ExperimentConfig:
        """The preset's settings, ``ppo`` and ``evaluation`` overriding fields of theirs (checked by the configs).

        An explicit ``kl_coef`` in ``ppo`` applies to every scheme, unless ``scheme_kl_coef`` is given too.
        """
        ppo = dict(ppo or {})
        if scheme_kl_coef is None:
            scheme_kl_coef = {} if "kl_coef" in ppo else self.scheme_kl_coef
        return ExperimentConfig(
            ppo=PPOConfig.from_dict({**self.ppo, **ppo}),
            evaluation=EvaluationConfig(**{**self.evaluation, **(evaluation or {})}),
            sft=self.sft,
            scheme_kl_coef=dict(scheme_kl_coef),
        )


# Holistic PPO's KL coefficient, chosen from 0.1, 0.2, 0.3 at default scale (seeds 0-2) by the mean of the
# three ratios on the dev questions: 0.841, 0.843, 0.838 (README, "Holistic's KL coefficient"). The paper used
# 0.2 for holistic and 0.3 for fine-grained.
HOLISTIC_KL_COEF: Mapping[str, float] = {"holistic": 0.2}

# Sized for a 2-core CPU, from a fresh cache with the SFT build included: quick in <= 5 minutes (measured 73 s
# idle), default in <= 45 (see the README for the measured times).
PRESETS: dict[str, Preset] = {
    "quick": Preset(
        "the quick SFT policy, 64 episodes per PPO run, 24 evaluation questions (minutes)",
        sft="quick",
        ppo={
            "iterations": 8,
            "prompts_per_iteration": 2,
            "samples_per_prompt": 4,
            "minibatch_size": 8,
            "max_new_tokens": 64,
        },
        evaluation={"eval_questions": 24, "max_sentences": 6},
        scheme_kl_coef=HOLISTIC_KL_COEF,
    ),
    "default": Preset(
        "the default SFT policy, 320 episodes per PPO run, 100 evaluation questions",
        sft="default",
        ppo={
            "iterations": 20,
            "prompts_per_iteration": 4,
            "samples_per_prompt": 4,
            "minibatch_size": 8,
            "max_new_tokens": 80,
        },
        evaluation={"eval_questions": 100, "max_sentences": 6},
        scheme_kl_coef=HOLISTIC_KL_COEF,
    ),
}


@dataclass(frozen=True)
class RewardModels:
    """The reward models each arm trains on: by default the built-in annotator's three (exact rewards).

    ``models`` (names or folders of learned models, :func:`fg_env.rewards.make_reward_model`) replace
    them for every scheme; ``preference`` (a learned preference model's folder) is the holistic arm's one
    reward, as the paper's holistic baseline trained on a preference model. Runs on learned models are
    also scored, at every iteration, by the exact annotator (:func:`agents.algorithms.ppo.exact_reward_stats`).

    Example:
        >>> arms = RewardModels(("runs/rm/relevance", "runs/rm/factuality"), preference="runs/rm/preference")
        >>> arms.for_scheme("holistic"), arms.for_scheme("fine-grained")
        (['runs/rm/preference'], ['runs/rm/relevance', 'runs/rm/factuality'])
        >>> RewardModels().learned
        False
    """

    models: tuple[str, ...] | None = None
    preference: str | None = None

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
        """What a run's settings record of them (nothing for the defaults, so older results stay valid)."""
        if self.models is None and self.preference is None:
            return {}
        return {"reward_models": None if self.models is None else list(self.models), "preference": self.preference}


EXACT = RewardModels()


@dataclass(frozen=True)
class DatasetChoice:
    """The questions a run trains and is evaluated on: the built-in world (exact rewards, the annotator's
    metrics) or a real dataset (QA-Feedback), whose rewards and metrics come from learned reward models.

    Example:
        >>> choice = DatasetChoice("qa-feedback", "data/qa_feedback", train_split="dev")
        >>> choice.env_kwargs(), choice.exact
        ({'dataset': 'qa-feedback', 'data_dir': 'data/qa_feedback'}, False)
        >>> DatasetChoice().key()
        {}
    """

    name: str = "synthetic"
    data_dir: str | None = None
    train_split: str = "train"
    eval_split: str = "dev"

    @property
    def exact(self) -> bool:
        """Whether the built-in annotator judges this dataset (only the built-in world has one)."""
        return self.name == "synthetic"

    def env_kwargs(self) -> dict[str, Any]:
        return {"dataset": self.name, **({"data_dir": self.data_dir} if self.data_dir is not None else {})}

    def key(self) -> dict[str, Any]:
        """What a run's settings record of it (nothing for the built-in world's defaults)."""
        return {} if self == DatasetChoice() else {"dataset": asdict(self)}


BUILT_IN = DatasetChoice()


def make_env(
    scheme: str,
    weights: Sequence[float] | None,
    split: str = "train",
    max_sentences: int = 6,
    dataset: str | DatasetChoice = "synthetic",
    reward_models: RewardModels = EXACT,
) -> Any:
    """The FineGrainedQA-v0 environment on ``dataset`` and ``reward_models``' models of ``scheme``, wrapped
    by that scheme."""
    import gymnasium as gym

    import fg_env  # noqa: F401 - registers the environment

    choice = dataset if isinstance(dataset, DatasetChoice) else DatasetChoice(dataset)
    models = reward_models.for_scheme(scheme)
    extra: dict[str, Any] = {} if models is None else {"reward_models": models}
    env = gym.make("FineGrainedQA-v0", split=split, max_sentences=max_sentences, **choice.env_kwargs(), **extra)
    return get_scheme(scheme).wrap(env, reward_models.weights_for(scheme, weights))


def train_policy(
    policy_path: str | os.PathLike[str],
    scheme: str,
    weights: Sequence[float] | None,
    config: PPOConfig,
    out_dir: str | os.PathLike[str],
    *,
    max_sentences: int = 6,
    resume: bool = False,
    progress: bool = True,
    report_to: Sequence[str] = (),
    on_iteration: Callable[[Any, dict[str, Any]], None] | None = None,
    reward_models: RewardModels = EXACT,
    dataset: DatasetChoice = BUILT_IN,
) -> tuple[Any, list[dict[str, Any]]]:
    """Train a copy of the policy at ``policy_path`` with PPO; save it to ``out_dir/policy``.

    With ``resume``, continue from ``out_dir/checkpoint.pt``; ``on_iteration(policy, metrics)`` is
    called after each iteration. On learned ``reward_models``, every iteration's answers are also scored
    by the exact annotator (``exact_return``, ``exact_rewards/*`` in the metrics). Returns ``(policy, metrics)``.
    """
    from agents.algorithms.distributed import current_processes
    from agents.algorithms.model_setup import check_model_options
    from agents.algorithms.ppo import process_shares
    from agents.policies.policy import LMPolicy
    from fg_env.checkpoint import CHECKPOINT_NAME

    out = Path(out_dir)
    processes = current_processes()  # several under `accelerate launch`: agents.algorithms.distributed
    process_shares(config, processes)  # a global batch the processes cannot share fails before any model loads
    check_model_options(str(policy_path), config, processes.device)  # precision, LoRA targets, memory
    env = make_env(scheme, weights, dataset.train_split, max_sentences, dataset, reward_models)
    audit = reward_models.learned and dataset.exact  # the annotator exists for the built-in world only
    exact_env = make_env("fine-grained", None, dataset.train_split, max_sentences) if audit else None
    policy = LMPolicy.from_pretrained(policy_path, device=processes.device)
    trainer = FineGrainedPPO(policy, env, config, exact_env=exact_env, processes=processes)
    if resume:
        trainer.load_checkpoint(out / CHECKPOINT_NAME)
    callback = None if on_iteration is None else (lambda metrics: on_iteration(policy, metrics))
    metrics = trainer.train(out, progress=progress, report_to=report_to, on_iteration=callback)
    if processes.is_main:
        trainer.save_policy(out / "policy")
        record = {
            "policy": str(policy_path),
            "scheme": scheme,
            "weights": None if weights is None else [float(w) for w in weights],
            "config": config.to_dict(),
            "max_sentences": max_sentences,
            **reward_models.key(),
            **dataset.key(),
            "processes": processes.count,
            "global_batch": config.episodes_per_iteration,  # episodes per iteration, over all processes
            "per_process_batch": config.episodes_per_iteration // processes.count,
        }
        atomic_write_json(out / "run.json", record)
    processes.wait()
    return policy, metrics


def _run_key(
    policy_path: str,
    scheme: str,
    weights: Sequence[float] | None,
    config: ExperimentConfig,
    reward_models: RewardModels = EXACT,
    dataset: DatasetChoice = BUILT_IN,
) -> dict[str, Any]:
    return {
        "policy": str(policy_path),
        "scheme": scheme,
        "weights": None if weights is None else [float(w) for w in weights],
        "config": config.to_dict(),
        **reward_models.key(),
        **dataset.key(),
    }


def run_and_evaluate(
    policy_path: str | os.PathLike[str],
    scheme: str,
    weights: Sequence[float] | None,
    config: ExperimentConfig,
    out_dir: str | os.PathLike[str],
    examples: Sequence[Any],
    *,
    progress: bool = True,
    report_to: Sequence[str] = (),
    reward_models: RewardModels = EXACT,
    dataset: DatasetChoice = BUILT_IN,
) -> dict[str, Any]:
    """Train one run (or reuse/resume it from ``out_dir``) on ``dataset`` and ``reward_models`` and evaluate
    it greedily on ``examples`` (off the built-in world, by the arm's reward models: :func:`policy_metrics`);
    ``report_to`` names dashboards for its training metrics (:mod:`fg_env.reporting`).

    With ``config.evaluation.eval_every``, the run is also evaluated every that many iterations; the
    result's ``eval_curve`` lists those evaluations and the final one, each with its episode count.
    """
    from agents.algorithms.distributed import current_processes
    from fg_env.checkpoint import CHECKPOINT_NAME, CheckpointError

    out = Path(out_dir)
    processes = current_processes()
    key = _run_key(str(policy_path), scheme, weights, config, reward_models, dataset)
    result_file = out / "result.json"
    if result_file.is_file():
        previous = json.loads(result_file.read_text())
        if previous.get("key") == key:
            return previous  # finished by an earlier invocation with the same settings
    resume = (out / CHECKPOINT_NAME).is_file()
    max_sentences = config.evaluation.max_sentences
    every = config.evaluation.eval_every
    curve_file = out / EVAL_CURVE_NAME
    eval_curve: list[dict[str, Any]] = []
    if resume and curve_file.is_file():
        eval_curve = json.loads(curve_file.read_text())

    judge = (
        None if dataset.exact else make_env(scheme, weights, dataset.eval_split, max_sentences, dataset, reward_models)
    )

    def evaluate(policy: Any) -> dict[str, Any]:
        return policy_metrics(policy, examples, config, judge)

    def evaluate_during_training(policy: Any, metrics: dict[str, Any]) -> None:
        iteration = metrics["iteration"]
        if not every or iteration % every or iteration >= config.ppo.iterations:
            return  # the final evaluation below covers the last iteration (and a run the safeguard stops)
        # A resumed run repeats the iterations after its last checkpoint: drop their stale points.
        eval_curve[:] = [point for point in eval_curve if point["iteration"] < iteration]
        eval_curve.append(curve_point(iteration, metrics["episodes"], evaluate(policy)))
        atomic_write_json(curve_file, eval_curve)

    try:
        policy, metrics = train_policy(
            policy_path,
            scheme,
            weights,
            config.ppo,
            out,
            max_sentences=max_sentences,
            resume=resume,
            progress=progress,
            report_to=report_to,
            on_iteration=evaluate_during_training if every else None,
            reward_models=reward_models,
            dataset=dataset,
        )
    except CheckpointError as error:
        if not resume:
            raise
        raise CheckpointError(f"{error}; delete {str(out)!r} to train this run afresh") from None
    if not processes.is_main:  # the main process evaluates and writes the result
        return {"key": key, "scheme": scheme, "seed": config.ppo.seed, "curve": metrics}
    evaluation = evaluate(policy)
    # Fewer than the budget when the KL safeguard (PPOConfig.kl_threshold) stopped the run.
    episodes = metrics[-1]["episodes"] if metrics else 0
    iterations = metrics[-1]["iteration"] if metrics else 0
    result = {
        "key": key,
        "scheme": scheme,
        "seed": config.ppo.seed,
        "episodes": episodes,
        "eval": evaluation,
        "curve": metrics,
    }
    if every:
        points = [point for point in eval_curve if point["iteration"] < iterations]
        result["eval_curve"] = [*points, curve_point(iterations, episodes, evaluation)]
        # Kept whole, so that a run continued for more iterations keeps this end point on its curve.
        atomic_write_json(curve_file, result["eval_curve"])
    atomic_write_json(result_file, result)  # read back by reruns: never half-written
    return result


def policy_metrics(policy: Any, examples: Sequence[Any], config: ExperimentConfig, judge: Any = None) -> dict[str, Any]:
    """A policy's greedy answers to ``examples``, scored by the built-in annotator, or by the reward models
    of ``judge`` (an environment on another dataset: :func:`agents.experiments.evaluate.evaluate_with_reward_models`)."""
    from agents.experiments.evaluate import evaluate_policy, evaluate_with_reward_models, greedy_answers

    max_sentences = config.evaluation.max_sentences
    if judge is None:
        return evaluate_policy(
            policy, examples, max_new_tokens=config.ppo.max_new_tokens, max_sentences=max_sentences, progress=False
        )
    answers = greedy_answers(policy, examples, max_new_tokens=config.ppo.max_new_tokens, max_sentences=max_sentences)
    return evaluate_with_reward_models(judge, examples, answers)


def curve_point(iteration: int, episodes: int, evaluation: Mapping[str, Any]) -> dict[str, Any]:
    """One point of a run's evaluation curve: where in training it was taken, and the metrics of the table.

    Example:
        >>> curve_point(5, 80, {"relevance_ratio": 0.9, "samples": []})
        {'iteration': 5, 'episodes': 80, 'relevance_ratio': 0.9}
    """
    metrics = {key: evaluation[key] for key, _ in METRIC_COLUMNS if key in evaluation}
    return {"iteration": int(iteration), "episodes": int(episodes), **metrics}


def start_policy(
    policy_path: str | os.PathLike[str] | None,
    config: ExperimentConfig,
    progress: bool,
    log: Callable[[str], None],
    experiment: str,
) -> str | os.PathLike[str]:
    """The given policy, or the cached default SFT policy of the experiment's SFT preset."""
    if policy_path is not None:
        return policy_path
    from agents.policies.sft import build_default_policy

    log(f"[{experiment}] SFT policy ({config.sft} preset; cached after the first build)")
    return build_default_policy(quick=config.sft == "quick", progress=progress)


# ----------------------------------------------------------------------------------------------------
# The comparison
# ----------------------------------------------------------------------------------------------------


def compare(
    out_dir: str | os.PathLike[str],
    config: ExperimentConfig,
    *,
    seeds: Sequence[int] = (0, 1, 2),
    schemes: Sequence[str] = ("fine-grained", "holistic"),
    weights: Sequence[float] | None = None,
    policy_path: str | os.PathLike[str] | None = None,
    include_random: bool = True,
    progress: bool = True,
    log: Callable[[str], None] = print,
    report_to: Sequence[str] = (),
    reward_models: RewardModels = EXACT,
    dataset: DatasetChoice = BUILT_IN,
) -> dict[str, Any]:
    """SFT once, then PPO per scheme and seed with equal budgets, each arm on ``dataset`` and its
    ``reward_models``; evaluate all on the same questions (by the annotator on the built-in world, by the
    fine-grained arm's reward models elsewhere). Each run's training metrics also go to ``report_to``
    (:mod:`fg_env.reporting`)."""
    from agents.experiments.evaluate import evaluate_sentence_agent, load_examples

    if not dataset.exact and reward_models.models is None:
        raise InvalidValueError(
            f"{dataset.name} has no annotator: give --reward-models (learned models judge the answers)"
        )
    include_random = include_random and dataset.exact  # the random agent's row is the annotator's

    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    for scheme in schemes:
        get_scheme(scheme)  # unknown names fail here, before any training
    policy_path = start_policy(policy_path, config, progress, log, "compare")
    examples = load_examples(dataset.eval_split, config.evaluation.eval_questions, dataset.name, dataset.data_dir)
    log(
        f"[compare] evaluating on {len(examples)} {dataset.eval_split} questions; "
        f"{config.episodes_per_run} episodes per PPO run"
    )
    # Off the built-in world, the fine-grained arm's reward models judge every policy.
    judge = (
        None
        if dataset.exact
        else make_env(
            "fine-grained", weights, dataset.eval_split, config.evaluation.max_sentences, dataset, reward_models
        )
    )
    rows: dict[str, list[dict[str, Any]]] = {
        "SFT": [
            evaluate_start_policy(
                policy_path, examples, config, out, progress, judge, {**reward_models.key(), **dataset.key()}
            )
        ]
    }
    # The annotator's rewards draw the report and score the random agent; on learned models the
    # weights given are theirs, so those take the paper's.
    exact_weights = None if reward_models.learned else weights

    if include_random:
        from agents.baselines.random_agent import RandomSentenceAgent

        env = make_env("fine-grained", exact_weights, "dev", config.evaluation.max_sentences)
        rows["random sentences"] = [evaluate_sentence_agent(RandomSentenceAgent(seed=0), env, range(len(examples)))]

    curves: dict[str, list[list[dict[str, Any]]]] = {}
    eval_curves: dict[str, list[list[dict[str, Any]]]] = {}
    stopped: list[str] = []
    for scheme in schemes:
        for seed in seeds:
            log(f"[compare] PPO {scheme}, seed {seed}")
            result = run_and_evaluate(
                policy_path,
                scheme,
                weights,
                config.for_run(scheme, seed),
                out / "runs" / f"{scheme}-seed{seed}",
                examples,
                progress=progress,
                report_to=report_to,
                reward_models=reward_models,
                dataset=dataset,
            )
            rows.setdefault(f"PPO {scheme}", []).append(result["eval"])
            curves.setdefault(scheme, []).append(result["curve"])
            if "eval_curve" in result:
                # Every run starts from the SFT policy: its evaluation is each curve's first point.
                start = curve_point(0, 0, rows["SFT"][0])
                eval_curves.setdefault(scheme, []).append([start, *result["eval_curve"]])
            stopped.extend(_stopped_early(result, config, f"{scheme} seed {seed}", log))

    summary = {name: summarise(evals) for name, evals in rows.items()}
    paired = paired_arms(rows, schemes)
    efficiency = _sample_efficiency(eval_curves, schemes)
    results = {
        "config": config.to_dict(),
        "seeds": list(seeds),
        "schemes": list(schemes),
        "policy": str(policy_path),
        "weights": None if weights is None else [float(w) for w in weights],
        **reward_models.key(),
        **dataset.key(),
        "eval_split": dataset.eval_split,
        "eval_questions": len(examples),
        "summary": summary,
        "paired": paired,
        "sample_efficiency": efficiency,
        "per_seed": rows,
        "curves": curves,
        "eval_curves": eval_curves,
        "stopped_early": stopped,
    }
    (out / "results.json").write_text(json.dumps(results, indent=2))
    caption = comparison_caption(len(examples), config.episodes_per_run, seeds, stopped)
    table = markdown_table(summary, caption=caption)
    tables = [paired_table(differences, *name.split(" vs ")) for name, differences in paired.items()]
    tables += [sample_efficiency_table(result, *name.split(" vs ")) for name, result in efficiency.items()]
    (out / "results.md").write_text("\n".join([table, *tables]))
    images = [plot_learning_curves(curves, out / "learning_curve.png").name]
    if eval_curves:
        images.append(plot_eval_curves(eval_curves, out / "eval_curves.png").name)
    # Sample answers replayed through the fine-grained env on the evaluation split, to draw their rewards.
    report_env = judge or make_env("fine-grained", exact_weights, "dev", config.evaluation.max_sentences)
    write_report(out, summary, rows, report_env, caption=caption, images=images, tables=tables)
    log("\n".join([table, *tables]))
    return results


def _comparisons(schemes: Sequence[str]) -> list[tuple[str, str]]:
    """The pairs of schemes a comparison tests: fine-grained against each other scheme when it is run,
    otherwise the first scheme against the others."""
    first = "fine-grained" if "fine-grained" in schemes else schemes[0]
    return [(first, other) for other in schemes if other != first]


def paired_arms(rows: Mapping[str, Sequence[dict[str, Any]]], schemes: Sequence[str]) -> dict[str, Any]:
    """Paired differences (run by run: the same seeds and questions) between the first scheme, or
    fine-grained, and each other PPO arm, keyed ``"a vs b"`` (needs at least two seeds).

    Example:
        >>> rows = {"PPO fine-grained": [{"length": 50.0}, {"length": 52.0}],
        ...         "PPO holistic": [{"length": 55.0}, {"length": 54.0}]}
        >>> round(paired_arms(rows, ["fine-grained", "holistic"])["fine-grained vs holistic"]["length"]["mean"], 2)
        -3.5
    """
    return {
        f"{a} vs {b}": paired_comparison(rows[f"PPO {a}"], rows[f"PPO {b}"])
        for a, b in _comparisons(schemes)
        if len(rows[f"PPO {a}"]) > 1
    }


def _sample_efficiency(
    eval_curves: Mapping[str, Sequence[Sequence[dict[str, Any]]]], schemes: Sequence[str]
) -> dict[str, Any]:
    return {
        f"{a} vs {b}": sample_efficiency(eval_curves[a], eval_curves[b])
        for a, b in _comparisons(schemes)
        if a in eval_curves and b in eval_curves
    }


def _stopped_early(result: dict[str, Any], config: ExperimentConfig, run: str, log: Callable[[str], None]) -> list[str]:
    """A note (logged, and returned for the table's caption) when the KL safeguard cut a run short."""
    episodes = result.get("episodes", config.episodes_per_run)
    if episodes >= config.episodes_per_run:
        return []
    note = f"{run} was stopped by the KL safeguard after {episodes} episodes"
    log(f"[warning] {note}")
    return [note]


def evaluate_start_policy(
    policy_path: str | os.PathLike[str],
    examples: Sequence[Any],
    config: ExperimentConfig,
    out: Path,
    progress: bool = True,
    judge: Any = None,
    judge_key: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """Greedy metrics of the policy PPO starts from (judged as :func:`policy_metrics` judges), cached in
    ``out/sft_eval.json`` for reruns."""
    from agents.policies.policy import LMPolicy

    key = {
        "policy": str(policy_path),
        "eval_questions": len(examples),
        "max_new_tokens": config.ppo.max_new_tokens,
        "max_sentences": config.evaluation.max_sentences,
        **({} if judge is None else {"judge": dict(judge_key or {})}),
    }
    cache = out / "sft_eval.json"
    if cache.is_file():
        previous = json.loads(cache.read_text())
        if all(previous.get(k) == v for k, v in key.items()):
            return previous["eval"]
    metrics = policy_metrics(LMPolicy.from_pretrained(policy_path), examples, config, judge)
    atomic_write_json(cache, {**key, "eval": metrics})
    return metrics


# ----------------------------------------------------------------------------------------------------
# Weight sweep
# ----------------------------------------------------------------------------------------------------


def sweep_weights(
    out_dir: str | os.PathLike[str],
    config: ExperimentConfig,
    component: str,
    values: Sequence[float],
    *,
    seeds: Sequence[int] = (0,),
    weights: Sequence[float] | None = None,
    policy_path: str | os.PathLike[str] | None = None,
    progress: bool = True,
    log: Callable[[str], None] = print,
    report_to: Sequence[str] = (),
) -> dict[str, Any]:
    """Train fine-grained PPO with several weights of one reward component; tabulate length and ratios
    (each run's training metrics also go to ``report_to``: :mod:`fg_env.reporting`)."""
    from agents.experiments.evaluate import load_examples
    from fg_env.rewards.defaults import DEFAULT_REWARD_MODELS

    names = list(DEFAULT_REWARD_MODELS)
    if component not in names:
        raise UnknownChoiceError("reward component", component, names)
    base = resolve_weights(weights, names)
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    policy_path = start_policy(policy_path, config, progress, log, "sweep")
    examples = load_examples("dev", config.evaluation.eval_questions)
    rows: dict[str, list[dict[str, Any]]] = {}
    stopped: list[str] = []
    for value in values:
        swept = base.copy()
        swept[names.index(component)] = value
        for seed in seeds:
            log(f"[sweep] {component} weight {value}, seed {seed}")
            result = run_and_evaluate(
                policy_path,
                "fine-grained",
                swept.tolist(),
                config.with_seed(seed),
                out / "runs" / f"{component}-{value:g}-seed{seed}",
                examples,
                progress=progress,
                report_to=report_to,
            )
            rows.setdefault(f"{value:g}", []).append(result["eval"])
            stopped.extend(_stopped_early(result, config, f"weight {value:g} seed {seed}", log))
    summary = {name: summarise(evals) for name, evals in rows.items()}
    # The policy PPO starts from, as the reference every weight moves away from.
    start = summarise([evaluate_start_policy(policy_path, examples, config, out, progress)])
    caption = sweep_caption(
        component, dict(zip(names, base.tolist())), config.episodes_per_run, len(examples), seeds, stopped
    )
    table = markdown_table({**summary, "SFT (start)": start}, first_column=f"{component} weight", caption=caption)
    results = {
        "component": component,
        "values": [float(v) for v in values],
        "base_weights": [round(w, 6) for w in base.tolist()],  # float32 -> the decimals given
        "config": config.to_dict(),
        "seeds": list(seeds),
        "policy": str(policy_path),
        "summary": summary,
        "start": start,
        "per_seed": rows,
        "stopped_early": stopped,
    }
    (out / "results.json").write_text(json.dumps(results, indent=2))
    (out / "results.md").write_text(table)
    plot_sweep(component, [float(v) for v in values], list(summary.values()), start, out / "sweep.png")
    log(table)
    return results
