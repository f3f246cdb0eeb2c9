"""Weight sweeps: fine-grained runs with several weights of one reward component (the paper's Table 6).

Each weight and seed is one :class:`~agents.experiments.run.RunSpec` (the experiment's settings, the swept
weights); every run is evaluated greedily on the evaluation questions of the built-in world, beside the policy
the runs start from. The folder receives ``results.json``, ``results.md`` and ``sweep.png``; runs keep their
own folders under ``runs/`` and are reused or resumed as :func:`agents.experiments.runner.run_and_evaluate` does.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from agents.experiments.compare import stopped_early
from agents.experiments.run import BUILT_IN, RunSpec
from agents.experiments.runner import evaluate_start_policy, run_and_evaluate, start_policy
from agents.experiments.schemes import resolve_weights
from agents.experiments.settings import ExperimentConfig
from agents.reporting.stats import markdown_table, plot_sweep, summarise, sweep_caption
from fg_env.errors import InvalidValueError, UnknownChoiceError
from fg_env.rewards.versions import SCORED_BY, merged, scored_by

__all__ = ["Sweep", "sweep_weights"]


@dataclass(frozen=True)
class Sweep:
    """Which runs a weight sweep makes: one per value of one component's weight and seed. Each field's help is
    the help of its flag in ``fg-env sweep-weights``.

    Example:
        >>> Sweep("relevance", (0.1, 0.5)).seeds
        (0,)
        >>> Sweep("fluency", (0.1,))
        Traceback (most recent call last):
        ...
        fg_env.errors.UnknownChoiceError: unknown reward component 'fluency'; valid choices: relevance, factuality, completeness
    """

    component: str = field(
        metadata={"help": "The reward model whose weight varies: relevance, factuality or completeness."}
    )
    values: tuple[float, ...] = field(metadata={"metavar": "W,W,...", "help": "Weights to try, e.g. 0.1,0.3,0.5."})
    seeds: tuple[int, ...] = field(
        default=(0,), metadata={"metavar": "S,S,...", "help": "Seeds: one run per weight and seed."}
    )

    def __post_init__(self) -> None:
        from fg_env.rewards.defaults import DEFAULT_REWARD_MODELS

        object.__setattr__(self, "values", tuple(float(v) for v in self.values))
        object.__setattr__(self, "seeds", tuple(self.seeds))
        if self.component not in DEFAULT_REWARD_MODELS:
            raise UnknownChoiceError("reward component", self.component, DEFAULT_REWARD_MODELS)
        if not self.values or any(v < 0 for v in self.values):
            raise InvalidValueError(f"--values must not be negative, got {list(self.values)}")
        if len(set(self.seeds)) < len(self.seeds):
            raise InvalidValueError(f"--seeds must be distinct, got {list(self.seeds)}")


def sweep_weights(
    out_dir: str | os.PathLike[str],
    config: ExperimentConfig,
    sweep: Sweep,
    *,
    weights: Sequence[float] | None = None,
    policy_path: str | os.PathLike[str] | None = None,
    progress: bool = True,
    log: Callable[[str], None] = print,
    report_to: Sequence[str] = (),
) -> dict[str, Any]:
    """Train fine-grained runs with several weights of one reward component (``weights`` hold the others;
    None: the paper's); tabulate length and ratios (each run's training metrics also go to ``report_to``:
    :mod:`fg_env.reporting`)."""
    from fg_env.rewards.defaults import DEFAULT_REWARD_MODELS

    names, component, seeds = list(DEFAULT_REWARD_MODELS), sweep.component, sweep.seeds
    base = resolve_weights(weights, names)
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    policy_path = start_policy(policy_path, config, progress, log, "sweep")
    examples = BUILT_IN.eval_examples(config.evaluation.eval_questions)
    rows: dict[str, list[dict[str, Any]]] = {}
    stopped: list[str] = []
    scorers: list[dict[str, Any] | None] = [scored_by(annotator=True)]  # the SFT row's judge, then each run's
    for value in sweep.values:
        swept = base.copy()
        swept[names.index(component)] = value
        for seed in seeds:
            log(f"[sweep] {component} weight {value}, seed {seed}")
            spec = RunSpec.from_experiment(config.with_seed(seed), policy_path, weights=swept.tolist())
            folder = out / "runs" / f"{component}-{value:g}-seed{seed}"
            result = run_and_evaluate(spec, folder, examples, progress=progress, report_to=report_to)
            rows.setdefault(f"{value:g}", []).append(result["eval"])
            scorers.append(result.get(SCORED_BY))
            stopped.extend(stopped_early(result, config, f"weight {value:g} seed {seed}", log))
    start = evaluate_start_policy(policy_path, examples, config, out, progress)
    return _write_results(
        out, sweep, config, base.tolist(), str(policy_path), len(examples), rows, start, stopped, merged(*scorers), log
    )


def _write_results(
    out: Path,
    sweep: Sweep,
    config: ExperimentConfig,
    base: list[float],
    policy: str,
    questions: int,
    rows: dict[str, list[dict[str, Any]]],
    start_eval: dict[str, Any],
    stopped: list[str],
    scorers: dict[str, Any],
    log: Callable[[str], None],
) -> dict[str, Any]:
    """``results.json``, ``results.md`` (the runs beside the policy they start from) and ``sweep.png``;
    ``scorers`` (a ``scored_by`` record) says what scored them, in both."""
    from fg_env.rewards.defaults import DEFAULT_REWARD_MODELS

    names, component, values = list(DEFAULT_REWARD_MODELS), sweep.component, list(sweep.values)
    summary = {name: summarise(evals) for name, evals in rows.items()}
    # The policy the runs start from, as the reference every weight moves away from.
    start = summarise([start_eval])
    caption = sweep_caption(
        component, dict(zip(names, base)), config.episodes_per_run, questions, sweep.seeds, stopped, scorers
    )
    table = markdown_table({**summary, "SFT (start)": start}, first_column=f"{component} weight", caption=caption)
    results = {
        "component": component,
        "values": [float(v) for v in values],
        "base_weights": [round(w, 6) for w in base],  # float32 -> the decimals given
        "config": config.to_dict(),
        "seeds": list(sweep.seeds),
        "policy": policy,
        SCORED_BY: scorers,
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
