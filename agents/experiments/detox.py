"""The paper's first experiment: detoxification, fine-grained versus holistic toxicity rewards (Table 1, Figure 2).

``fg-env compare --env FineGrainedDetox-v0`` runs :func:`detox_compare`: the detoxification SFT policy (the
built-in prompt world's corpus, :meth:`agents.policies.sft.SFTConfig.detox`; or any local causal LM with
``--policy DIR``), then PPO per reward scheme and seed at equal budgets on ``FineGrainedDetox-v0``:

- ``fine-grained``: the paper's dense reward, each sentence ``-(toxicity after it - toxicity before it)``;
- ``holistic``: the same signal summed at the end of the continuation (:class:`~fg_env.wrappers.HolisticReward`:
  ``-toxicity`` of the whole continuation, the paper's ``1 - toxicity`` less a constant).

Every policy is judged as the paper judges (:mod:`agents.experiments.detox_eval`): k continuations sampled
per prompt, their average maximum toxicity and toxicity probability under the default scorer, perplexity under
the start policy, dist-1/2/3. During training each run is evaluated every ``eval_every`` iterations on dev
prompts (Figure 2's curves, ``eval_curves.png``, and the sample-efficiency table); the final table is on test
prompts (Table 1's), beside the paper's numbers. The folder gets ``results.json``, ``results.md``,
``eval_curves.png``, ``learning_curve.png`` and ``report.html`` (sample continuations of every policy, each
sentence coloured by its toxicity change); the samples in ``results.json`` and ``report.html`` have the
built-in world's toxic words masked but for their first letter (the runs' own ``test_eval.json`` keep them). Runs keep their folders and resume as ``fg-env compare`` runs do.

Example (minutes; ``fg-env compare --env FineGrainedDetox-v0 --quick`` runs the same)::

    from agents.experiments.detox import DETOX_PRESETS, detox_compare
    preset = DETOX_PRESETS["quick"]
    detox_compare("runs/detox", preset.config(), preset.protocol)
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Mapping, Sequence
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any

from agents.experiments.compare import Arms, Outcome, arms_sample_efficiency, paired_arms, stopped_early
from agents.experiments.detox_eval import DETOX_COLUMNS, LOWER_IS_BETTER, DetoxSampling, detox_metrics
from agents.experiments.run import DatasetChoice, RunSpec
from agents.experiments.runner import curve_point, run_and_evaluate
from agents.experiments.settings import ExperimentConfig, Preset
from agents.reporting.html import write_report
from agents.reporting.stats import (
    SPREAD,
    markdown_table,
    paired_table,
    plot_eval_curves,
    plot_learning_curves,
    sample_efficiency_table,
    summarise,
)
from fg_env.atomic import atomic_write_json, atomic_write_text
from fg_env.data.detox import mask_toxic_words
from fg_env.errors import InvalidValueError
from fg_env.metrics_detox import RTP_SAMPLES_PER_PROMPT
from fg_env.rewards.toxicity import DEFAULT_TOXICITY_SCORER
from fg_env.rewards.versions import SCORED_BY, merged

__all__ = [
    "DETOX_DATASET",
    "DETOX_ENV_ID",
    "DETOX_PRESETS",
    "PAPER_TABLE_1",
    "DetoxPreset",
    "DetoxProtocol",
    "detox_compare",
]

DETOX_ENV_ID = "FineGrainedDetox-v0"
DEFAULT_ARMS = Arms()  # fine-grained and holistic, seeds 0-4
#: The built-in prompt world: PPO samples train prompts; the curves use dev prompts, the table test prompts.
DETOX_DATASET = DatasetChoice("detox-synthetic", train_split="train", eval_split="dev")
#: The paper's Table 1 (GPT-2 continuing RealToxicityPrompts test prompts, Perspective API toxicity).
PAPER_TABLE_1: dict[str, dict[str, float]] = {
    "GPT-2": {"avg_max_toxicity": 0.192, "perplexity": 9.58, "dist_2": 0.947, "dist_3": 0.931},
    "holistic RLHF": {"avg_max_toxicity": 0.130, "perplexity": 11.75, "dist_2": 0.943, "dist_3": 0.926},
    "fine-grained RLHF": {"avg_max_toxicity": 0.081, "perplexity": 9.77, "dist_2": 0.949, "dist_3": 0.932},
}
#: Figure 2's panels: the curves of these metrics against training episodes.
FIGURE_2_METRICS = ("avg_max_toxicity", "perplexity")
#: The published run of the default preset, and the command that reproduces it.
DEFAULT_SCALE_RESULTS = "results/detox_default/results.md"
DEFAULT_SCALE_COMMAND = "fg-env compare --env FineGrainedDetox-v0 --out results/detox_default"


@dataclass(frozen=True)
class DetoxProtocol:
    """How every policy of the experiment is judged: ``dev_prompts`` dev prompts during training (the curves),
    ``test_prompts`` test prompts at the end (the table), ``eval_samples`` samples each (RealToxicityPrompts' 25),
    toxicity by ``scorer``. Each field's help is the help of its flag in ``fg-env compare``. Sampling uses each run's top-k and temperature and a fixed seed.

    Example:
        >>> DetoxProtocol(dev_prompts=16, test_prompts=32).eval_samples
        25
    """

    dev_prompts: int = field(
        default=50,
        metadata={"help": "Dev prompts (the first N) every run is evaluated on during training (the curves)."},
    )
    test_prompts: int = field(
        default=100, metadata={"help": "Test prompts (the first N) of the final table, for every policy."}
    )
    eval_samples: int = field(
        default=RTP_SAMPLES_PER_PROMPT,
        metadata={"help": "Continuations sampled per prompt for the metrics (RealToxicityPrompts and DExperts: 25)."},
    )
    perplexity_model: str | None = field(
        default=None,
        metadata={
            "metavar": "DIR",
            "help": (
                "A local causal LM's folder that judges perplexity (DExperts and Quark: GPT-2 XL); default: the start "
                "policy, which also measures how far a policy drifted from it."
            ),
        },
    )
    scorer: str = DEFAULT_TOXICITY_SCORER

    def __post_init__(self) -> None:
        for name in ("dev_prompts", "test_prompts", "eval_samples"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise InvalidValueError(f"DetoxProtocol.{name} must be a positive integer, got {value!r}")

    def sampling(self, config: ExperimentConfig) -> DetoxSampling:
        """The evaluation's sampling for runs of ``config``: their decoding, length and episode cut."""
        training = config.training
        return DetoxSampling(
            samples_per_prompt=self.eval_samples,
            max_new_tokens=int(training.max_new_tokens),
            max_sentences=config.evaluation.max_sentences,
            top_k=int(getattr(training, "top_k", 20)),
            temperature=float(getattr(training, "temperature", 0.7)),
        )

    def key(self, config: ExperimentConfig, split: str) -> dict[str, Any]:
        """What decides an evaluation on ``split``: joins a run's key, so a change evaluates it again."""
        prompts = self.dev_prompts if split == "dev" else self.test_prompts
        judge = {} if self.perplexity_model is None else {"perplexity_model": self.perplexity_model}
        return {"split": split, "prompts": prompts, "scorer": self.scorer, **judge, **self.sampling(config).to_dict()}


@dataclass(frozen=True)
class DetoxPreset(Preset):
    """A :class:`~agents.experiments.settings.Preset` of the detoxification experiment, with its judging protocol."""

    protocol: DetoxProtocol = field(default_factory=DetoxProtocol)


# Sized for a 2-core CPU: quick <= 5 minutes and default <= 45 with the SFT build (BENCHMARKS.md, README).
# The same KL coefficient for both arms: no grid has tuned either here (the QA presets tune holistic's).
DETOX_PRESETS: dict[str, DetoxPreset] = {
    "quick": DetoxPreset(
        "the quick detoxification SFT policy, 128 episodes per PPO run, 8 dev / 16 test prompts x 25 samples "
        "(minutes; a check of the pipeline, not a result)",
        sft="quick",
        training={
            "iterations": 8,
            "prompts_per_iteration": 4,
            "samples_per_prompt": 4,
            "minibatch_size": 16,
            "max_new_tokens": 48,
            "learning_rate": 5e-5,
        },
        evaluation={"max_sentences": 4, "eval_every": 4},
        protocol=DetoxProtocol(dev_prompts=8, test_prompts=16),
    ),
    "default": DetoxPreset(
        "the default detoxification SFT policy, 1,280 episodes per PPO run, 50 dev / 100 test prompts x 25 samples",
        sft="default",
        training={
            "iterations": 80,
            "prompts_per_iteration": 4,
            "samples_per_prompt": 4,
            "minibatch_size": 16,
            "max_new_tokens": 48,
            # PPO's default (2e-5, the QA presets') left the average maximum toxicity where it started after 960
            # episodes (one seed); 5e-4 diverged (KL > 10 nats within 22 iterations). 1e-4 and 5e-5 both ran at
            # this scale (README, "Detoxification"): at 1e-4 the KL safeguard stopped 5 of the 10 runs early (4
            # of them holistic), so the arms' budgets were unequal; at 5e-5 none stopped. Chosen on that, not on
            # which arm won.
            "learning_rate": 5e-5,
        },
        evaluation={"max_sentences": 4, "eval_every": 16},
        protocol=DetoxProtocol(dev_prompts=50, test_prompts=100),
    ),
}


def start_policy(policy_path: str | os.PathLike[str] | None, config: ExperimentConfig, progress: bool) -> str:
    """The given policy, or the cached detoxification SFT policy of the preset's size."""
    if policy_path is not None:
        return str(policy_path)
    from agents.policies.sft import SFTConfig, build_default_policy

    return str(build_default_policy(SFTConfig.detox(quick=config.sft == "quick"), progress=progress))


class _Judge:
    """Evaluates policies on the first prompts of a split with the protocol; perplexity under the protocol's judge
    LM, or the start policy."""

    def __init__(self, protocol: DetoxProtocol, config: ExperimentConfig, reference: Any, split: str) -> None:
        from fg_env.data import make_dataset

        self.key = protocol.key(config, split)
        prompts = make_dataset(DETOX_DATASET.name).split(split)
        self.prompts = [prompts[i] for i in range(min(self.key["prompts"], len(prompts)))]
        self.sampling = protocol.sampling(config)
        self.scorer = protocol.scorer
        self.reference = reference  # the perplexity judge, an LMPolicy

    def __call__(self, policy: Any) -> dict[str, Any]:
        return detox_metrics(policy, self.prompts, self.reference, self.sampling, self.scorer)

    def cached(self, policy_dir: str | os.PathLike[str], path: Path, identity: Mapping[str, Any]) -> dict[str, Any]:
        """The evaluation of the policy in ``policy_dir``, kept in ``path`` under ``identity`` and this judge's key."""
        from agents.policies.policy import LMPolicy

        key = {"policy": dict(identity), "evaluation": self.key}
        if path.is_file():
            saved = json.loads(path.read_text())
            if saved.get("key") == key:
                return dict(saved["eval"])
        evaluation = self(LMPolicy.from_pretrained(policy_dir))
        atomic_write_json(path, {"key": key, "eval": evaluation})
        return evaluation


def detox_compare(
    out_dir: str | os.PathLike[str],
    config: ExperimentConfig,
    protocol: DetoxProtocol,
    arms: Arms = DEFAULT_ARMS,
    *,
    policy_path: str | os.PathLike[str] | None = None,
    progress: bool = True,
    log: Callable[[str], None] = print,
    report_to: Sequence[str] = (),
) -> dict[str, Any]:
    """The start policy, then a PPO run per scheme and seed of ``arms`` on ``FineGrainedDetox-v0`` at equal
    budgets; every policy judged by ``protocol`` (dev prompts during training, test prompts at the end)."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    log(f"[detox] start policy ({'given' if policy_path else config.sft + ' preset; cached after the first build'})")
    start = start_policy(policy_path, config, progress)
    from agents.policies.policy import LMPolicy

    reference = LMPolicy.from_pretrained(protocol.perplexity_model or start)  # one judge for both splits
    dev, test = _Judge(protocol, config, reference, "dev"), _Judge(protocol, config, reference, "test")
    log(
        f"[detox] {config.episodes_per_run} episodes per {config.trainer.upper()} run; {len(test.prompts)} test and "
        f"{len(dev.prompts)} dev prompts x {protocol.eval_samples} samples"
    )
    start_identity = {"start": start}
    sft_dev = dev.cached(start, out / "sft_dev_eval.json", start_identity)
    outcome = Outcome({"SFT": [test.cached(start, out / "sft_test_eval.json", start_identity)]})
    for scheme in arms.schemes:
        for seed in arms.seeds:
            log(f"[detox] {config.trainer.upper()} {scheme}, seed {seed}")
            spec = replace(
                RunSpec.from_experiment(config.for_run(scheme, seed), start, scheme, dataset=DETOX_DATASET),
                env_id=DETOX_ENV_ID,
            )
            folder = out / "runs" / f"{scheme}-seed{seed}"
            result = run_and_evaluate(
                spec,
                folder,
                progress=progress,
                report_to=report_to,
                evaluate=dev,
                evaluation_key=dev.key,
                columns=DETOX_COLUMNS,
            )
            outcome.rows.setdefault(f"{config.trainer.upper()} {scheme}", []).append(
                test.cached(folder / "policy", folder / "test_eval.json", result["key"])
            )
            outcome.scorers.append(result.get(SCORED_BY))
            outcome.curves.setdefault(scheme, []).append(result["curve"])
            if "eval_curve" in result:
                first = curve_point(0, 0, sft_dev, columns=DETOX_COLUMNS)
                outcome.eval_curves.setdefault(scheme, []).append([first, *result["eval_curve"]])
            outcome.stopped.extend(stopped_early(result, config, f"{scheme} seed {seed}", log))
    results = _results(outcome, config, protocol, arms, start, len(test.prompts), len(dev.prompts))
    _write_reports(out, results, outcome, config, protocol, log)
    return results


def _results(
    outcome: Outcome,
    config: ExperimentConfig,
    protocol: DetoxProtocol,
    arms: Arms,
    start: str,
    test_prompts: int,
    dev_prompts: int,
) -> dict[str, Any]:
    summary = {name: summarise(evals, columns=DETOX_COLUMNS) for name, evals in outcome.rows.items()}
    efficiency = arms_sample_efficiency(
        outcome.eval_curves, arms.schemes, metrics=[key for key, _ in DETOX_COLUMNS], lower_is_better=LOWER_IS_BETTER
    )
    return {
        "env": DETOX_ENV_ID,
        "config": config.to_dict(),
        "protocol": asdict(protocol),
        "seeds": list(arms.seeds),
        "schemes": list(arms.schemes),
        "policy": start,
        SCORED_BY: merged(*outcome.scorers),
        "test_prompts": test_prompts,
        "dev_prompts": dev_prompts,
        "summary": summary,
        "paired": paired_arms(outcome.rows, arms.schemes, config.trainer.upper(), columns=DETOX_COLUMNS),
        "sample_efficiency": efficiency,
        "paper_table_1": PAPER_TABLE_1,
        "per_seed": outcome.rows,
        "curves": outcome.curves,
        "eval_curves": outcome.eval_curves,
        "stopped_early": outcome.stopped,
    }


def paper_comparison(summary: Mapping[str, Mapping[str, Any]], trainer: str = "PPO") -> str:
    """Table 1 beside this run: each policy's average maximum toxicity, perplexity and dist-2/3, and the change
    of toxicity from the start policy in percent (the scales differ: the paper's GPT-2 on RealToxicityPrompts
    under the Perspective API, here the start policy on the built-in world under the default scorer).

    Example:
        >>> row = lambda tox: {"runs": 1, "avg_max_toxicity": {"mean": tox, "ci95": 0.0}, "perplexity": None,
        ...                    "dist_2": None, "dist_3": None}
        >>> table = paper_comparison({"SFT": row(0.5), "PPO holistic": row(0.4), "PPO fine-grained": row(0.25)})
        >>> print(table.splitlines()[4])
        | fine-grained RLHF | 0.081 (−58%) | 9.77 | 0.949 | 0.932 | PPO fine-grained | 0.250 (−50%) | n/a | n/a | n/a |
    """
    ours = {"GPT-2": "SFT", "holistic RLHF": f"{trainer} holistic", "fine-grained RLHF": f"{trainer} fine-grained"}
    paper_start = PAPER_TABLE_1["GPT-2"]["avg_max_toxicity"]
    start_row = summary.get("SFT", {}).get("avg_max_toxicity")
    lines = [
        "| paper (Table 1) | avg. max toxicity | perplexity | dist-2 | dist-3 "
        "| here | avg. max toxicity | perplexity | dist-2 | dist-3 |",
        "| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |",
    ]
    for paper_name, row_name in ours.items():
        paper = PAPER_TABLE_1[paper_name]
        change = "" if paper_name == "GPT-2" else f" ({_percent(paper['avg_max_toxicity'], paper_start)})"
        cells = [f"{paper['avg_max_toxicity']:.3f}{change}", f"{paper['perplexity']:.2f}"]
        cells += [f"{paper['dist_2']:.3f}", f"{paper['dist_3']:.3f}"]
        row = summary.get(row_name, {})
        mine = []
        for key, digits in (("avg_max_toxicity", 3), ("perplexity", 2), ("dist_2", 3), ("dist_3", 3)):
            cell = row.get(key)
            if cell is None:
                mine.append("n/a")
                continue
            text = f"{cell['mean']:.{digits}f}"
            if key == "avg_max_toxicity" and row_name != "SFT" and start_row is not None:
                text += f" ({_percent(cell['mean'], start_row['mean'])})"
            mine.append(text)
        lines.append(f"| {paper_name} | " + " | ".join(cells) + f" | {row_name} | " + " | ".join(mine) + " |")
    return "\n".join(lines) + "\n"


def _percent(value: float, start: float) -> str:
    change = (value - start) / start if start else float("nan")
    return f"{change:+.0%}".replace("-", "−")


def scale_notice(config: ExperimentConfig) -> str | None:
    """What a run smaller than the default preset is: a check of the pipeline, not a result."""
    default = DETOX_PRESETS["default"].config().episodes_per_run
    if config.episodes_per_run >= default:
        return None
    return (
        f"**A pipeline check, not a result**: {config.episodes_per_run} episodes per run (the default preset runs "
        f"{default}); its differences, significant or not, do not measure the paper's claim. The default-scale "
        f"results are in `{DEFAULT_SCALE_RESULTS}`; `{DEFAULT_SCALE_COMMAND}` reproduces them."
    )


def _masked(results: dict[str, Any]) -> dict[str, Any]:
    """``results`` with the sample continuations' toxic words masked (:func:`~fg_env.data.detox.mask_toxic_words`):
    results folders are kept and shared, the toxic words stay in the installed package that ships them."""
    rows = {
        name: [
            {**run, "samples": [{**s, "answer": mask_toxic_words(s["answer"])} for s in run.get("samples", [])]}
            for run in runs
        ]
        for name, runs in results["per_seed"].items()
    }
    return {**results, "per_seed": rows}


def _caption(results: Mapping[str, Any], config: ExperimentConfig, protocol: DetoxProtocol) -> str:
    from agents.reporting.stats import scorers_note

    seeds = ", ".join(map(str, results["seeds"]))
    stopped = "".join(f" {note}." for note in results["stopped_early"])
    return (
        f"{protocol.eval_samples} samples (top-k {protocol.sampling(config).top_k}, temperature "
        f"{protocol.sampling(config).temperature}) for each of {results['test_prompts']} test prompts of the built-in "
        f"prompt world; toxicity by {protocol.scorer}; perplexity under {protocol.perplexity_model or 'the start policy'}; "
        f"{config.trainer.upper()}: "
        f"{config.episodes_per_run} episodes per run, {SPREAD} over seeds {seeds}.{stopped} "
        + scorers_note(results[SCORED_BY])
    )


def _write_reports(
    out: Path,
    results: dict[str, Any],
    outcome: Outcome,
    config: ExperimentConfig,
    protocol: DetoxProtocol,
    log: Callable[[str], None],
) -> None:
    import gymnasium as gym

    import fg_env  # noqa: F401 - registers the environments

    atomic_write_json(out / "results.json", _masked(results))
    caption = _caption(results, config, protocol)
    notice = scale_notice(config)
    table = markdown_table(results["summary"], caption=caption, columns=DETOX_COLUMNS)
    tables = [
        paired_table(differences, *name.split(" vs "), columns=DETOX_COLUMNS)
        for name, differences in results["paired"].items()
    ]
    tables += [
        sample_efficiency_table(r, *name.split(" vs "), columns=DETOX_COLUMNS)
        for name, r in results["sample_efficiency"].items()
    ]
    comparison = paper_comparison(results["summary"], config.trainer.upper())
    sections = [*([notice, ""] if notice else []), table, *tables, "Beside the paper's Table 1:", "", comparison]
    (out / "results.md").write_text("\n".join(sections))
    images = [plot_learning_curves(outcome.curves, out / "learning_curve.png").name]
    if outcome.eval_curves:
        path = plot_eval_curves(
            outcome.eval_curves, out / "eval_curves.png", columns=DETOX_COLUMNS, metrics=FIGURE_2_METRICS
        )
        images.append(path.name)
    env = gym.make(DETOX_ENV_ID, split="test", max_sentences=config.evaluation.max_sentences)
    page = write_report(
        out,
        results["summary"],
        outcome.rows,
        env,
        caption=caption,
        title="fg-env compare --env FineGrainedDetox-v0",
        images=images,
        tables=[*tables, comparison],
        columns=DETOX_COLUMNS,
    )
    # Drawn from the samples as written (their toxicity colours the page), then masked like results.json.
    atomic_write_text(page, mask_toxic_words(page.read_text(encoding="utf-8")))
    log("\n".join([table, *tables, comparison, *(["", notice] if notice else [])]))
