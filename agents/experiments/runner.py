"""Train and evaluate one run described by a :class:`~agents.experiments.run.RunSpec`.

:func:`run_and_evaluate` is what every experiment calls per run: it reuses a finished run whose key matches
(``result.json``), resumes an interrupted one from its checkpoint, trains it with its trainer
(:func:`train_run`), and evaluates the trained policy greedily on the evaluation questions
(:func:`policy_metrics`: by the built-in annotator, or off the built-in world by the run's reward models).
With ``evaluation.eval_every`` the run is also evaluated during training (:class:`EvalCurve`). The policy a
run starts from is the given one or the cached default SFT policy (:func:`start_policy`), itself evaluated
once per experiment (:func:`evaluate_start_policy`).

A run's folder: ``metrics.jsonl``, ``checkpoint.pt``, ``policy/``, ``run.json`` (the key, the processes
that trained it and ``scored_by``, the versions of what scored it: :func:`fg_env.rewards.versions.scored_by`),
``result.json`` (the key, ``scored_by``, the evaluation, the training curve) and, with curves,
``eval_curve.json``. A folder whose run another annotator version scored (or that records none: written before
versions were) is refused, naming both versions (:func:`check_run_scorers`): resuming or reusing it would mix
two annotators' numbers in one experiment.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from agents.experiments.run import RunSpec
from agents.experiments.settings import ExperimentConfig
from agents.reporting.stats import METRIC_COLUMNS
from fg_env.atomic import atomic_write_json
from fg_env.rewards.versions import SCORED_BY, check_same_scorers, scored_by

__all__ = [
    "EVAL_CURVE_NAME",
    "EvalCurve",
    "check_run_scorers",
    "curve_point",
    "evaluate_start_policy",
    "policy_metrics",
    "run_and_evaluate",
    "run_scorers",
    "start_policy",
    "train_run",
]

EVAL_CURVE_NAME = "eval_curve.json"  # a run's evaluations during training (EvaluationConfig.eval_every)
RESULT_NAME = "result.json"


def train_run(
    spec: RunSpec,
    out_dir: str | os.PathLike[str],
    *,
    resume: bool = False,
    progress: bool = True,
    report_to: Sequence[str] = (),
    on_iteration: Callable[[Any, dict[str, Any]], None] | None = None,
) -> tuple[Any, list[dict[str, Any]]]:
    """Train a copy of ``spec.policy`` with ``spec``'s trainer; save it to ``out_dir/policy``.

    With ``resume``, continue from ``out_dir/checkpoint.pt``; ``on_iteration(policy, metrics)`` is called
    after each iteration. On learned reward models, every iteration's answers are also scored by the exact
    annotator (``exact_return``, ``exact_rewards/*`` in the metrics). Returns ``(policy, metrics)``.
    """
    from agents.algorithms.distributed import current_processes
    from agents.algorithms.registry import get_trainer
    from agents.policies.policy import LMPolicy
    from fg_env.checkpoint import CHECKPOINT_NAME

    out = Path(out_dir)
    entry = get_trainer(spec.trainer)
    processes = current_processes()  # several under `accelerate launch`: agents.algorithms.distributed
    entry.check(spec.policy, spec.training, processes)  # what can fail does, before any model loads
    env = spec.make_env(spec.dataset.train_split)
    exact_env = spec.exact_env(spec.dataset.train_split)
    policy = LMPolicy.from_pretrained(spec.policy, device=processes.device)
    trainer = entry.trainer(policy, env, spec.training, exact_env=exact_env, processes=processes)
    if resume:
        trainer.load_checkpoint(out / CHECKPOINT_NAME)
    batch = spec.training.episodes_per_iteration  # episodes per iteration, over all processes
    record = {**spec.key(), "processes": processes.count, "global_batch": batch}
    record = {**record, "per_process_batch": batch // processes.count, SCORED_BY: run_scorers(spec, env, exact_env)}
    if processes.is_main:
        # Written before training too, so an interrupted run's folder says which annotator scored it.
        out.mkdir(parents=True, exist_ok=True)
        atomic_write_json(out / "run.json", record)
    callback = None if on_iteration is None else (lambda metrics: on_iteration(policy, metrics))
    metrics = trainer.train(out, progress=progress, report_to=report_to, on_iteration=callback)
    if processes.is_main:
        trainer.save_policy(out / "policy")
        atomic_write_json(out / "run.json", record)
    processes.wait()
    return policy, metrics


def run_scorers(spec: RunSpec, env: Any, exact_env: Any = None) -> dict[str, Any]:
    """What scores a run (:func:`fg_env.rewards.versions.scored_by`): its training env's reward models, the
    exact env that audits them and, on the built-in world, the annotator that evaluates it."""
    return scored_by(env, *([] if exact_env is None else [exact_env]), annotator=spec.annotator is not None)


def check_run_scorers(annotator: str | None, out: str | os.PathLike[str]) -> None:
    """Refuse the run folder ``out`` when the run it holds (finished, ``result.json``, or interrupted,
    ``run.json`` or a bare checkpoint) was scored by another annotator version than ``annotator`` (the new
    run's: :attr:`RunSpec.annotator`), or records none (written before versions were): resuming it, or reusing
    its result, would mix two annotators' numbers. The message names both versions.

    Example:
        >>> import json, tempfile
        >>> from fg_env.data.synthetic.annotator import ANNOTATOR_VERSION
        >>> out = Path(tempfile.mkdtemp())
        >>> check_run_scorers(ANNOTATOR_VERSION, out)  # nothing there yet: nothing to mix
        >>> _ = (out / "result.json").write_text(json.dumps({"key": {"version": 3, "annotator": "2000.01.0"}}))
        >>> check_run_scorers(ANNOTATOR_VERSION, out)  # doctest: +ELLIPSIS
        Traceback (most recent call last):
        ...
        fg_env.errors.ScorerVersionError: ... holds results scored by annotator 2000.01.0, but this run is scored by annotator ...
    """
    from fg_env.checkpoint import CHECKPOINT_NAME

    out = Path(out)
    if annotator is None:
        return  # no annotator scores this run (another dataset): its reward models are in its key
    if (out / RESULT_NAME).is_file():  # the newer record, when there
        recorded = json.loads((out / RESULT_NAME).read_text()).get("key", {}).get("annotator")
    elif (out / "run.json").is_file():
        recorded = json.loads((out / "run.json").read_text()).get("annotator")
    elif (out / CHECKPOINT_NAME).is_file():
        recorded = None  # a run interrupted before run.json was written at its start: an older fg_env's
    else:
        return  # nothing of a run there yet
    check_same_scorers(None if recorded is None else {"annotator": recorded}, {"annotator": annotator}, str(out))


@dataclass
class EvalCurve:
    """A run's greedy evaluations every ``every`` iterations during training, kept in ``path`` so that a
    resumed run continues its curve (points of iterations it repeats are replaced)."""

    path: Path
    every: int
    iterations: int
    evaluate: Callable[[Any], dict[str, Any]]
    points: list[dict[str, Any]] = field(default_factory=list)
    columns: Sequence[tuple[str, str]] = METRIC_COLUMNS  # the metrics a point keeps

    @classmethod
    def open(
        cls,
        path: Path,
        every: int,
        iterations: int,
        evaluate: Callable[[Any], dict[str, Any]],
        resume: bool,
        columns: Sequence[tuple[str, str]] = METRIC_COLUMNS,
    ) -> EvalCurve:
        """The curve of a run, with the points a resumed run evaluated before it stopped."""
        points = json.loads(path.read_text()) if resume and path.is_file() else []
        return cls(path, every, iterations, evaluate, points, columns)

    def record(self, policy: Any, metrics: dict[str, Any]) -> None:
        """Evaluate after an iteration that falls on the interval (``on_iteration`` of a trainer)."""
        iteration = metrics["iteration"]
        if not self.every or iteration % self.every or iteration >= self.iterations:
            return  # the final evaluation covers the last iteration (and a run the safeguard stops)
        # A resumed run repeats the iterations after its last checkpoint: drop their stale points.
        self.points[:] = [point for point in self.points if point["iteration"] < iteration]
        self.points.append(curve_point(iteration, metrics["episodes"], self.evaluate(policy), columns=self.columns))
        atomic_write_json(self.path, self.points)

    def close(self, iterations: int, episodes: int, evaluation: Mapping[str, Any]) -> list[dict[str, Any]]:
        """The whole curve, ending on the final evaluation (kept whole, so that a run continued for more
        iterations keeps this end point on its curve)."""
        points = [point for point in self.points if point["iteration"] < iterations]
        curve = [*points, curve_point(iterations, episodes, evaluation, columns=self.columns)]
        atomic_write_json(self.path, curve)
        return curve


def run_and_evaluate(
    spec: RunSpec,
    out_dir: str | os.PathLike[str],
    examples: Sequence[Any] | None = None,
    *,
    progress: bool = True,
    report_to: Sequence[str] = (),
    evaluate: Callable[[Any], dict[str, Any]] | None = None,
    evaluation_key: Mapping[str, Any] | None = None,
    columns: Sequence[tuple[str, str]] = METRIC_COLUMNS,
) -> dict[str, Any]:
    """Train the run ``spec`` (or reuse/resume it from ``out_dir``) and evaluate it greedily on ``examples``
    (default: the spec's evaluation questions; off the built-in world judged by the run's reward models:
    :func:`policy_metrics`); ``report_to`` names dashboards for its training metrics (:mod:`fg_env.reporting`).

    With ``spec.evaluation.eval_every``, the run is also evaluated every that many iterations; the result's
    ``eval_curve`` lists those evaluations and the final one, each with its episode count.

    A task with its own evaluation (the detoxification experiment samples k continuations per prompt) passes
    ``evaluate(policy) -> metrics`` instead, ``evaluation_key`` (what decides that evaluation: it joins the
    run's key, so a finished run evaluated otherwise is evaluated again) and the ``columns`` its curve keeps.
    """
    from agents.algorithms.distributed import current_processes
    from fg_env.checkpoint import CHECKPOINT_NAME, CheckpointError

    out = Path(out_dir)
    processes = current_processes()
    key = spec.key() if evaluation_key is None else {**spec.key(), "evaluation_protocol": dict(evaluation_key)}
    check_run_scorers(spec.annotator, out)  # before reusing or resuming anything of another annotator's
    if (out / RESULT_NAME).is_file():
        previous = json.loads((out / RESULT_NAME).read_text())
        if previous.get("key") == key:
            return previous  # finished by an earlier invocation with the same settings
    resume = (out / CHECKPOINT_NAME).is_file()
    if evaluate is None:
        if examples is None:
            examples = spec.dataset.eval_examples(spec.evaluation.eval_questions)
        judge = None if spec.dataset.exact else spec.make_env(spec.dataset.eval_split)
        questions = examples

        def evaluate(policy: Any) -> dict[str, Any]:
            return policy_metrics(policy, questions, spec.training.max_new_tokens, spec.evaluation.max_sentences, judge)

    every = spec.evaluation.eval_every
    curve = EvalCurve.open(out / EVAL_CURVE_NAME, every, spec.training.iterations, evaluate, resume, columns)
    try:
        policy, metrics = train_run(
            spec,
            out,
            resume=resume,
            progress=progress,
            report_to=report_to,
            on_iteration=curve.record if every else None,
        )
    except CheckpointError as error:
        if not resume:
            raise
        raise CheckpointError(f"{error}; delete {str(out)!r} to train this run afresh") from None
    if not processes.is_main:  # the main process evaluates and writes the result
        return {"key": key, "scheme": spec.scheme, "seed": spec.seed, "curve": metrics}
    evaluation = evaluate(policy)
    # Fewer than the budget when the trainer stopped early (PPO's KL safeguard, PPOConfig.kl_threshold).
    episodes = metrics[-1]["episodes"] if metrics else 0
    iterations = metrics[-1]["iteration"] if metrics else 0
    # train_run recorded what scored the run (its env's reward models' versions) in run.json.
    scorers = json.loads((out / "run.json").read_text()).get(SCORED_BY, {})
    result = {"key": key, SCORED_BY: scorers, "scheme": spec.scheme, "seed": spec.seed, "episodes": episodes}
    result["eval"] = evaluation
    result["curve"] = metrics
    if every:
        result["eval_curve"] = curve.close(iterations, episodes, evaluation)
    atomic_write_json(out / RESULT_NAME, result)  # read back by reruns: never half-written
    return result


def policy_metrics(
    policy: Any, examples: Sequence[Any], max_new_tokens: int, max_sentences: int, judge: Any = None
) -> dict[str, Any]:
    """A policy's greedy answers to ``examples`` (at most ``max_new_tokens`` tokens, cut at ``max_sentences``),
    scored by the built-in annotator, or by the reward models of ``judge`` (an environment on another
    dataset: :func:`agents.experiments.evaluate.evaluate_with_reward_models`)."""
    from agents.experiments.evaluate import evaluate_policy, evaluate_with_reward_models, greedy_answers

    if judge is None:
        return evaluate_policy(
            policy, examples, max_new_tokens=max_new_tokens, max_sentences=max_sentences, progress=False
        )
    answers = greedy_answers(policy, examples, max_new_tokens=max_new_tokens, max_sentences=max_sentences)
    return evaluate_with_reward_models(judge, examples, answers)


def curve_point(
    iteration: int,
    episodes: int,
    evaluation: Mapping[str, Any],
    *,
    columns: Sequence[tuple[str, str]] = METRIC_COLUMNS,
) -> dict[str, Any]:
    """One point of a run's evaluation curve: where in training it was taken, and the metrics of the table
    (``columns``; those the evaluation has).

    Example:
        >>> curve_point(5, 80, {"relevance_ratio": 0.9, "samples": []})
        {'iteration': 5, 'episodes': 80, 'relevance_ratio': 0.9}
        >>> curve_point(5, 80, {"avg_max_toxicity": 0.3, "relevance_ratio": 0.9}, columns=[("avg_max_toxicity", "Tox. ↓")])
        {'iteration': 5, 'episodes': 80, 'avg_max_toxicity': 0.3}
    """
    metrics = {key: evaluation[key] for key, _ in columns if key in evaluation}
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


def evaluate_start_policy(
    policy_path: str | os.PathLike[str],
    examples: Sequence[Any],
    config: ExperimentConfig,
    out: Path,
    progress: bool = True,
    judge: Any = None,
    judge_key: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """Greedy metrics of the policy the runs start from (judged as :func:`policy_metrics` judges), cached in
    ``out/sft_eval.json`` for reruns; a cache another annotator (or judge) version scored is evaluated again."""
    from agents.policies.policy import LMPolicy

    key = {
        "policy": str(policy_path),
        "eval_questions": len(examples),
        "max_new_tokens": config.training.max_new_tokens,
        "max_sentences": config.evaluation.max_sentences,
        **({} if judge is None else {"judge": dict(judge_key or {})}),
        SCORED_BY: scored_by(judge) if judge is not None else scored_by(annotator=True),
    }
    cache = out / "sft_eval.json"
    if cache.is_file():
        previous = json.loads(cache.read_text())
        if all(previous.get(k) == v for k, v in key.items()):
            return previous["eval"]
    metrics = policy_metrics(
        LMPolicy.from_pretrained(policy_path),
        examples,
        config.training.max_new_tokens,
        config.evaluation.max_sentences,
        judge,
    )
    atomic_write_json(cache, {**key, "eval": metrics})
    return metrics
