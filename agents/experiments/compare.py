"""The paper's central experiment: fine-grained versus holistic rewards, equal budgets, several seeds.

``compare`` reproduces it on the built-in world: the SFT policy once, then a run per reward scheme and seed
(PPO by default: any trainer of :mod:`agents.algorithms.registry`), each a
:class:`~agents.experiments.run.RunSpec` built from one :class:`~agents.experiments.settings.ExperimentConfig`,
all evaluated greedily on the same questions of the dataset's evaluation split. Its folder receives
``results.json``, ``results.md`` (the paper's table: relevance ratio, factuality ratio, completeness,
ROUGE-L, length; mean +- half-width of the 95% confidence interval over seeds; then the paired differences
between fine-grained and each other arm, seed by seed, with a paired t-test), ``learning_curve.png`` and
``report.html`` (the table, the curves, and sample answers of every policy side by side, each segment
coloured by its reward: :mod:`agents.reporting.html`). With ``EvaluationConfig.eval_every``, each run is
also evaluated during training: ``eval_curves.png`` and the sample-efficiency table (the episodes
fine-grained PPO needs to reach holistic PPO's final score, per metric).

Holistic PPO may take its own KL coefficient (``ExperimentConfig.scheme_kl_coef``; the presets hold the
value a grid chose, as the paper tuned 0.2 for holistic against 0.3 for fine-grained). Runs smaller than
the default preset check the pipeline, not the claim: their table says so (:func:`scale_notice`).

Every run keeps its own folder (:mod:`agents.experiments.runner`), so an interrupted comparison picks up
where it stopped when run again with the same arguments (a run whose key changed is trained again).
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from agents.experiments.run import BUILT_IN, EXACT, DatasetChoice, RewardModels, RunSpec, make_env
from agents.experiments.runner import curve_point, evaluate_start_policy, run_and_evaluate, start_policy
from agents.experiments.schemes import get_scheme
from agents.experiments.settings import DEFAULT_PRESET, PRESETS, ExperimentConfig
from agents.reporting.html import write_report
from agents.reporting.stats import (
    CURVE_METRICS,
    METRIC_COLUMNS,
    comparison_caption,
    markdown_table,
    paired_comparison,
    paired_table,
    plot_eval_curves,
    plot_learning_curves,
    sample_efficiency,
    sample_efficiency_table,
    summarise,
)
from fg_env.errors import InvalidValueError
from fg_env.rewards.versions import SCORED_BY, merged, scored_by

__all__ = [
    "DEFAULT_SCALE_COMMAND",
    "DEFAULT_SCALE_RESULTS",
    "Arms",
    "Outcome",
    "arms_sample_efficiency",
    "compared_pairs",
    "compare",
    "paired_arms",
    "scale_notice",
    "stopped_early",
]

#: The committed results of the comparison at default scale, and the command that reproduces them.
DEFAULT_SCALE_RESULTS = "results/compare_default/results.md"
DEFAULT_SCALE_COMMAND = "fg-env compare --eval-every 5 --out results/compare_default"


def scale_notice(config: ExperimentConfig) -> str | None:
    """What a comparison smaller than the default preset is (a check that the pipeline runs end to end, not a
    result), and where the result is; None at default scale or above.

    Example:
        >>> print(scale_notice(PRESETS["quick"].config()))  # doctest: +ELLIPSIS
        **A pipeline check, not a result**: 64 episodes per run (the default preset runs 320): ...
        >>> scale_notice(PRESETS["default"].config()) is None
        True
    """
    default = PRESETS[DEFAULT_PRESET].config().episodes_per_run
    if config.episodes_per_run >= default:
        return None
    return (
        f"**A pipeline check, not a result**: {config.episodes_per_run} episodes per run (the default preset runs "
        f"{default}): it checks that the pipeline runs end to end, and its differences, significant or not, do not "
        f"measure the paper's claim (a few updates move a policy by whatever is cheapest, such as answer length). "
        f"The default-scale results are in `{DEFAULT_SCALE_RESULTS}`; `{DEFAULT_SCALE_COMMAND}` reproduces them."
    )


@dataclass(frozen=True)
class Arms:
    """Which runs a comparison makes: one per reward scheme and seed (equal budgets), and whether the
    random-sentence baseline gets a row. Each field's help is the help of its flag in ``fg-env compare``.

    Example:
        >>> Arms().schemes, Arms(seeds=(0, 1)).seeds
        (('fine-grained', 'holistic'), (0, 1))
        >>> Arms(seeds=(0, 0))
        Traceback (most recent call last):
        ...
        fg_env.errors.InvalidValueError: --seeds must be distinct, got [0, 0]
    """

    schemes: tuple[str, ...] = field(
        default=("fine-grained", "holistic"),
        metadata={
            "help": "Reward schemes to compare (agents/experiments/schemes.py); fine-grained is tested against each other."
        },
    )
    seeds: tuple[int, ...] = field(
        default=(0, 1, 2, 3, 4),
        metadata={"metavar": "S,S,...", "help": "Seeds: one run per scheme and seed (at least 3 for a spread)."},
    )
    random_baseline: bool = field(default=True, metadata={"help": "The random-sentence agent's row."})

    def __post_init__(self) -> None:
        object.__setattr__(self, "schemes", tuple(self.schemes))
        object.__setattr__(self, "seeds", tuple(self.seeds))
        for scheme in self.schemes:
            get_scheme(scheme)  # unknown names fail here, before any training
        if not self.schemes or not self.seeds:
            raise InvalidValueError("a comparison needs at least one scheme and one seed")
        if len(set(self.seeds)) < len(self.seeds):
            raise InvalidValueError(f"--seeds must be distinct, got {list(self.seeds)}")


@dataclass
class Outcome:
    """What the runs of a comparison give: per row its evaluations, per scheme its training and evaluation
    curves, notes on runs cut short, and what scored each run (``scored_by`` records, merged in results.json)."""

    rows: dict[str, list[dict[str, Any]]]
    curves: dict[str, list[list[dict[str, Any]]]] = field(default_factory=dict)
    eval_curves: dict[str, list[list[dict[str, Any]]]] = field(default_factory=dict)
    stopped: list[str] = field(default_factory=list)
    scorers: list[dict[str, Any] | None] = field(default_factory=list)


def compare(
    out_dir: str | os.PathLike[str],
    config: ExperimentConfig,
    arms: Arms = Arms(),
    *,
    weights: Sequence[float] | None = None,
    policy_path: str | os.PathLike[str] | None = None,
    progress: bool = True,
    log: Callable[[str], None] = print,
    report_to: Sequence[str] = (),
    reward_models: RewardModels = EXACT,
    dataset: DatasetChoice = BUILT_IN,
) -> dict[str, Any]:
    """SFT once, then a run per scheme and seed of ``arms`` with equal budgets, each on ``dataset`` and its
    ``reward_models``; evaluate all on the same questions of ``dataset.eval_split`` (by the annotator on the
    built-in world, by the fine-grained arm's reward models elsewhere). Each run's training metrics also go
    to ``report_to`` (:mod:`fg_env.reporting`)."""
    if not dataset.exact and reward_models.models is None:
        raise InvalidValueError(
            f"{dataset.name} has no annotator: give --reward-models (learned models judge the answers)"
        )
    for scheme in arms.schemes:  # a scheme that sets a setting the trainer lacks fails now, not after SFT
        get_scheme(scheme).settings_for(config.training)
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    seeds, schemes = arms.seeds, arms.schemes
    policy_path = start_policy(policy_path, config, progress, log, "compare")
    base = RunSpec.from_experiment(config, policy_path, weights=weights, reward_models=reward_models, dataset=dataset)
    examples = dataset.eval_examples(config.evaluation.eval_questions)
    log(
        f"[compare] evaluating on {len(examples)} {dataset.eval_split} questions; "
        f"{config.episodes_per_run} episodes per {config.trainer.upper()} run"
    )
    # Off the built-in world, the fine-grained arm's reward models judge every policy.
    judge = None if dataset.exact else base.make_env(dataset.eval_split)
    judge_key = {**reward_models.key(), **dataset.key()}
    outcome = Outcome({"SFT": [evaluate_start_policy(policy_path, examples, config, out, progress, judge, judge_key)]})
    # The annotator's rewards draw the report and score the random agent (on the evaluation split); on learned
    # models the weights given are theirs, so those take the paper's.
    exact_weights = None if reward_models.learned else weights
    if arms.random_baseline and dataset.exact:  # the random agent's row is the annotator's
        outcome.rows["random sentences"] = [_random_row(config, dataset, exact_weights, len(examples))]
    _train_arms(outcome, base, config, arms, out / "runs", examples, progress=progress, log=log, report_to=report_to)
    # What scored the table: each run's record, and the SFT and random rows' judge (the annotator on the built-in
    # world, the fine-grained arm's reward models elsewhere).
    outcome.scorers.append(scored_by(judge) if judge is not None else scored_by(annotator=True))
    results = _results(outcome, config, base, seeds, schemes, len(examples))
    caption = comparison_caption(
        len(examples),
        config.episodes_per_run,
        seeds,
        outcome.stopped,
        split=dataset.eval_split,
        dataset="the built-in world" if dataset.exact else dataset.name,
        trainer=config.trainer.upper(),
        scorers=results[SCORED_BY],
    )
    report_env = judge or make_env(
        "fine-grained", exact_weights, dataset.eval_split, config.evaluation.max_sentences, dataset
    )
    _write_reports(out, results, outcome, caption, scale_notice(config), report_env, log)
    return results


def _random_row(
    config: ExperimentConfig, dataset: DatasetChoice, weights: Sequence[float] | None, questions: int
) -> dict[str, Any]:
    """The random-sentence agent's answers to the first ``questions`` of the evaluation split."""
    from agents.baselines.random_agent import RandomSentenceAgent
    from agents.experiments.evaluate import evaluate_sentence_agent

    env = make_env("fine-grained", weights, dataset.eval_split, config.evaluation.max_sentences, dataset)
    return evaluate_sentence_agent(RandomSentenceAgent(seed=0), env, range(questions))


def _train_arms(
    outcome: Outcome,
    base: RunSpec,
    config: ExperimentConfig,
    arms: Arms,
    runs: Path,
    examples: Sequence[Any],
    *,
    progress: bool,
    log: Callable[[str], None],
    report_to: Sequence[str],
) -> None:
    """A run per scheme and seed of ``arms`` (``config.for_run``: its seed, its scheme's KL coefficient), each
    in its folder under ``runs``, into ``outcome``."""
    for scheme in arms.schemes:
        for seed in arms.seeds:
            log(f"[compare] {config.trainer.upper()} {scheme}, seed {seed}")
            spec = RunSpec.from_experiment(
                config.for_run(scheme, seed),
                base.policy,
                scheme,
                weights=base.weights,
                reward_models=base.reward_models,
                dataset=base.dataset,
            )
            result = run_and_evaluate(
                spec, runs / f"{scheme}-seed{seed}", examples, progress=progress, report_to=report_to
            )
            outcome.rows.setdefault(_row(config, scheme), []).append(result["eval"])
            outcome.scorers.append(result.get(SCORED_BY))
            outcome.curves.setdefault(scheme, []).append(result["curve"])
            if "eval_curve" in result:
                # Every run starts from the SFT policy: its evaluation is each curve's first point.
                start = curve_point(0, 0, outcome.rows["SFT"][0])
                outcome.eval_curves.setdefault(scheme, []).append([start, *result["eval_curve"]])
            outcome.stopped.extend(stopped_early(result, config, f"{scheme} seed {seed}", log))


def _results(
    outcome: Outcome,
    config: ExperimentConfig,
    base: RunSpec,
    seeds: Sequence[int],
    schemes: Sequence[str],
    questions: int,
) -> dict[str, Any]:
    """``results.json``: the settings, the table's numbers, the paired tests, every run's evaluation and curve."""
    summary = {name: summarise(evals) for name, evals in outcome.rows.items()}
    return {
        "config": config.to_dict(),
        "seeds": list(seeds),
        "schemes": list(schemes),
        "policy": base.policy,
        "weights": None if base.weights is None else list(base.weights),
        **base.reward_models.key(),
        **base.dataset.key(),
        SCORED_BY: merged(*outcome.scorers),
        "eval_split": base.dataset.eval_split,
        "eval_questions": questions,
        "summary": summary,
        "paired": paired_arms(outcome.rows, schemes, _row(config, "").strip()),
        "sample_efficiency": arms_sample_efficiency(outcome.eval_curves, schemes),
        "per_seed": outcome.rows,
        "curves": outcome.curves,
        "eval_curves": outcome.eval_curves,
        "stopped_early": outcome.stopped,
    }


def _write_reports(
    out: Path,
    results: dict[str, Any],
    outcome: Outcome,
    caption: str,
    notice: str | None,
    report_env: Any,
    log: Callable[[str], None],
) -> None:
    """``results.json``, ``results.md`` (headed by the scale notice of a small run), the plots and ``report.html``
    (sample answers replayed through ``report_env``, on the evaluation split, to draw their rewards)."""
    (out / "results.json").write_text(json.dumps(results, indent=2))
    table = markdown_table(results["summary"], caption=caption)
    tables = [paired_table(differences, *name.split(" vs ")) for name, differences in results["paired"].items()]
    tables += [sample_efficiency_table(r, *name.split(" vs ")) for name, r in results["sample_efficiency"].items()]
    (out / "results.md").write_text("\n".join([*([notice, ""] if notice else []), table, *tables]))
    images = [plot_learning_curves(outcome.curves, out / "learning_curve.png").name]
    if outcome.eval_curves:
        images.append(plot_eval_curves(outcome.eval_curves, out / "eval_curves.png").name)
    write_report(out, results["summary"], outcome.rows, report_env, caption=caption, images=images, tables=tables)
    log("\n".join([table, *tables, *(["", notice] if notice else [])]))


def compared_pairs(schemes: Sequence[str]) -> list[tuple[str, str]]:
    """The pairs of schemes a comparison tests: fine-grained against each other scheme when it is run,
    otherwise the first scheme against the others."""
    first = "fine-grained" if "fine-grained" in schemes else schemes[0]
    return [(first, other) for other in schemes if other != first]


def _row(config: ExperimentConfig, scheme: str) -> str:
    """A trained arm's row: ``PPO fine-grained`` (the trainer's name, then the scheme)."""
    return f"{config.trainer.upper()} {scheme}"


def paired_arms(
    rows: Mapping[str, Sequence[dict[str, Any]]],
    schemes: Sequence[str],
    trainer: str = "PPO",
    *,
    columns: Sequence[tuple[str, str]] = METRIC_COLUMNS,
) -> dict[str, Any]:
    """Paired differences (run by run: the same seeds and questions) of the metrics of ``columns`` between the
    first scheme, or fine-grained, and each other arm of ``trainer``, keyed ``"a vs b"`` (needs at least two
    seeds).

    Example:
        >>> rows = {"PPO fine-grained": [{"length": 50.0}, {"length": 52.0}],
        ...         "PPO holistic": [{"length": 55.0}, {"length": 54.0}]}
        >>> round(paired_arms(rows, ["fine-grained", "holistic"])["fine-grained vs holistic"]["length"]["mean"], 2)
        -3.5
    """
    return {
        f"{a} vs {b}": paired_comparison(rows[f"{trainer} {a}"], rows[f"{trainer} {b}"], columns=columns)
        for a, b in compared_pairs(schemes)
        if len(rows[f"{trainer} {a}"]) > 1
    }


def arms_sample_efficiency(
    eval_curves: Mapping[str, Sequence[Sequence[dict[str, Any]]]],
    schemes: Sequence[str],
    *,
    metrics: Sequence[str] = CURVE_METRICS,
    lower_is_better: Collection[str] = (),
) -> dict[str, Any]:
    """:func:`~agents.reporting.stats.sample_efficiency` of each pair of :func:`compared_pairs` that has
    evaluation curves, keyed ``"a vs b"``."""
    return {
        f"{a} vs {b}": sample_efficiency(
            eval_curves[a], eval_curves[b], metrics=metrics, lower_is_better=lower_is_better
        )
        for a, b in compared_pairs(schemes)
        if a in eval_curves and b in eval_curves
    }


def stopped_early(result: dict[str, Any], config: ExperimentConfig, run: str, log: Callable[[str], None]) -> list[str]:
    """A note (logged, and returned for the table's caption) when the KL safeguard cut a run short."""
    episodes = result.get("episodes", config.episodes_per_run)
    if episodes >= config.episodes_per_run:
        return []
    note = f"{run} was stopped by the KL safeguard after {episodes} episodes"
    log(f"[warning] {note}")
    return [note]
