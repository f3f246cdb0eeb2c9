"""Learned versus exact rewards: PPO on learned reward models, every iteration scored by the exact annotator.

Only an environment with an exact annotator can measure how far a learned reward model leads a policy
astray (Gao et al. 2023 needed a 6B "gold" reward model for it). This experiment, one command::

    fg-env learned-vs-exact --out results/learned_vs_exact

1. samples answers from the SFT policy to the first train questions (as in training: top-k 20,
   temperature 0.7) and writes them to ``feedback/sft_answers.json``;
2. trains the paper's reward models on the annotator's feedback for those answers, the gold answers and
   perturbations of them (:mod:`fg_env.rewards.learned`): relevance, factuality and completeness for the
   fine-grained arm, a holistic preference model for the holistic arm;
3. runs ``fg-env compare`` with ``--reward-models`` (the three) and ``--preference-model``: every PPO
   iteration's answers carry the learned (proxy) reward the policy trains on and the exact annotator's
   return under the paper's weights (``exact_return``), at the iteration's KL from the SFT policy;
4. writes ``learned_vs_exact.png`` (proxy and exact gain against KL, per arm: every iteration of every
   seed grouped by KL into eight bins, mean with a 95% band) and ``learned_vs_exact.md`` (the learned models' agreement with the annotator on held-out dev
   answers, and per arm the gains at the end and at the exact return's peak).

Every step is cached in ``--out`` and resumes where it stopped.

Example (the gains of one run, from its metrics):
    >>> rows = [{"kl": 0.0, "return": 1.0, "exact_return": 2.0, "episodes": 4},
    ...         {"kl": 1.5, "return": 1.6, "exact_return": 1.8, "episodes": 8}]
    >>> run_gains(rows)["proxy_gain"].tolist(), run_gains(rows)["exact_gain"].tolist()
    ([0.0, 0.6000000000000001], [0.0, -0.19999999999999996])
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from agents.experiments.compare import Arms, compare
from agents.experiments.run import RewardModels
from agents.experiments.settings import ExperimentConfig
from agents.reporting.stats import mean_ci, save_figure, scorers_note
from fg_env.atomic import atomic_write_json
from fg_env.errors import InvalidValueError
from fg_env.rewards.versions import SCORED_BY, check_same_scorers, scored_by
from fg_env.training import read_log

ARMS = ("fine-grained", "holistic")
FINE_GRAINED_COMPONENTS = ("relevance", "factuality", "completeness")
ANSWERS_FILE = "sft_answers.json"


@dataclass(frozen=True)
class LearnedRewardsConfig:
    """How the learned reward models are made: whose answers are labelled, and how long they train.

    Each field's help is the help of its flag in ``fg-env learned-vs-exact``.

    Example:
        >>> LearnedRewardsConfig(policy_samples=2).agreement_questions
        100
    """

    feedback_questions: int = field(
        default=300, metadata={"help": "Train questions whose answers the annotator labels for the reward models."}
    )
    policy_samples: int = field(
        default=4,
        metadata={"help": "Answers sampled from the SFT policy per question (the paper's source of feedback)."},
    )
    perturbed_samples: int = field(
        default=2, metadata={"help": "Perturbed gold answers per question besides them (errors of every type)."}
    )
    epochs: int = field(default=2, metadata={"help": "Training epochs of each reward model."})
    max_length: int = field(
        default=256, metadata={"help": "Longest reward-model input in tokens (passages are cut first)."}
    )
    backbone: str | None = field(
        default=None, metadata={"help": "Encoder of the reward models (default: the bundled MiniLM-L6)."}
    )
    agreement_questions: int = field(
        default=100,
        metadata={"help": "Dev questions whose SFT answers measure each model's agreement with the annotator."},
    )

    def __post_init__(self) -> None:
        for name in ("feedback_questions", "policy_samples", "epochs", "max_length", "agreement_questions"):
            if getattr(self, name) < 1:
                raise InvalidValueError(f"{name} must be a positive integer, got {getattr(self, name)!r}")
        if self.perturbed_samples < 0:
            raise InvalidValueError(f"perturbed_samples must not be negative, got {self.perturbed_samples!r}")


@dataclass(frozen=True)
class StudyRuns:
    """The PPO runs of the study, and how their curves are read. Each field's help is the help of its flag.

    Example:
        >>> StudyRuns().seeds, StudyRuns().window
        ((0, 1, 2), 5)
    """

    seeds: tuple[int, ...] = field(default=(0, 1, 2), metadata={"metavar": "S,S,...", "help": "PPO seeds per arm."})
    window: int = field(default=5, metadata={"help": "Iterations averaged per point of the curves."})

    def __post_init__(self) -> None:
        if not self.seeds or len(set(self.seeds)) < len(self.seeds):
            raise InvalidValueError(f"--seeds must be distinct, got {list(self.seeds)}")
        if self.window < 1:
            raise InvalidValueError(f"--window must be a positive integer, got {self.window!r}")


# ----------------------------------------------------------------------------------------------------
# feedback and reward models
# ----------------------------------------------------------------------------------------------------


def sample_policy_answers(
    policy: Any,
    examples: Sequence[Any],
    *,
    samples: int,
    max_new_tokens: int,
    max_sentences: int,
    top_k: int = 20,
    temperature: float = 0.7,
    seed: int = 0,
    batch: int = 16,
) -> dict[str, list[str]]:
    """``samples`` answers of ``policy`` to each example, sampled as in training and cut as the env cuts
    them (``max_sentences``): question id -> answers.

    Example:
        >>> from agents.testing import tiny_examples, tiny_policy
        >>> answers = sample_policy_answers(tiny_policy(), tiny_examples(2), samples=2, max_new_tokens=8, max_sentences=6)
        >>> [len(a) for a in answers.values()]
        [2, 2]
    """
    from agents.experiments.evaluate import truncate_to_sentences

    answers: dict[str, list[str]] = {}
    for first in range(0, len(examples), batch):
        chunk = examples[first : first + batch]
        generations = policy.generate(
            [e.prompt for e in chunk],
            max_new_tokens=max_new_tokens,
            top_k=top_k,
            temperature=temperature,
            seed=seed + first,
            num_return_sequences=samples,
        )
        for k, generation in enumerate(generations):
            text = truncate_to_sentences(generation.response_text, max_sentences).strip()
            answers.setdefault(chunk[k // samples].id, []).append(text)
    return answers


def _policy_answers(
    path: Path, policy_path: str | os.PathLike[str], split: str, count: int, samples: int, config: ExperimentConfig
) -> dict[str, list[str]]:
    """The SFT policy's answers to the first ``count`` questions of ``split``, cached in ``path``."""
    from agents.experiments.evaluate import load_examples
    from agents.policies.policy import LMPolicy

    key = {"policy": str(policy_path), "split": split, "questions": count, "samples": samples}
    if path.is_file():
        cached = json.loads(path.read_text())
        if cached.get("key") == key:
            return cached["answers"]
    training = config.training
    # Sampled as the trainer samples its rollouts: its own top-k and temperature where it has them (PPO's).
    sampling = {name: getattr(training, name) for name in ("top_k", "temperature") if hasattr(training, name)}
    answers = sample_policy_answers(
        LMPolicy.from_pretrained(policy_path),
        load_examples(split, count),
        samples=samples,
        max_new_tokens=training.max_new_tokens,
        max_sentences=config.evaluation.max_sentences,
        **sampling,
    )
    atomic_write_json(path, {"key": key, "answers": answers})
    return answers


def train_learned_models(
    out: Path,
    settings: LearnedRewardsConfig,
    answers: Mapping[str, Sequence[str]],
    *,
    progress: bool = True,
    log: Callable[[str], None] = print,
) -> dict[str, Path]:
    """The four reward models trained on the annotator's feedback (cached: a finished folder is reused, unless
    another annotator version labelled its data, or it records none: refused, naming both versions)."""
    from fg_env.rewards.learned.config import CONFIG_FILE, WEIGHTS_FILE, TrainingConfig
    from fg_env.rewards.learned.data import load_feedback_data
    from fg_env.rewards.learned.train import train_reward_model

    folders = {}
    for name in (*FINE_GRAINED_COMPONENTS, "preference"):
        folder = out / name
        folders[name] = folder
        if (folder / CONFIG_FILE).is_file() and (folder / WEIGHTS_FILE).is_file():
            labelled_by = json.loads((folder / CONFIG_FILE).read_text()).get("training", {}).get("data", {})
            recorded = labelled_by.get("annotator")
            check_same_scorers(
                None if recorded is None else {"annotator": recorded}, scored_by(annotator=True), str(folder)
            )
            continue
        data = load_feedback_data(
            name,
            "synthetic",
            split="train",
            questions=f"0:{settings.feedback_questions}",
            samples_per_question=settings.perturbed_samples,
            answers=answers,
        )
        log(f"[learned-vs-exact] training the {name} reward model on {data.describe()}")
        config = TrainingConfig(
            name, backbone=settings.backbone, epochs=settings.epochs, max_length=settings.max_length
        )
        train_reward_model(config, data, folder, resume=(folder / "checkpoint.pt").is_file(), progress=progress)
    return folders


def agreement(folders: Mapping[str, Path], answers: Mapping[str, Sequence[str]], questions: int) -> dict[str, Any]:
    """Each learned model's agreement with the annotator on held-out dev answers (the SFT policy's and
    the gold ones): error F1 and accuracy of the token models, pairwise accuracy of the pairwise ones."""
    from fg_env.rewards.learned.data import load_feedback_data
    from fg_env.rewards.learned.evaluate import evaluate_reward_model
    from fg_env.rewards.learned.model import load_reward_model

    result = {}
    for name, folder in folders.items():
        data = load_feedback_data(
            name, "synthetic", split="dev", questions=f"0:{questions}", samples_per_question=0, answers=answers
        )
        result[name] = evaluate_reward_model(load_reward_model(folder), data)
    return result


# ----------------------------------------------------------------------------------------------------
# proxy and exact against KL
# ----------------------------------------------------------------------------------------------------


def run_gains(metrics: Sequence[Mapping[str, Any]]) -> dict[str, np.ndarray]:
    """A run's KL and its proxy and exact returns as gains over its first iteration (the SFT policy's own
    answers: iteration 1 samples before any update)."""
    kl = np.array([m["kl"] for m in metrics], dtype=float)
    proxy = np.array([m["return"] for m in metrics], dtype=float)
    exact = np.array([m["exact_return"] for m in metrics], dtype=float)
    episodes = np.array([m["episodes"] for m in metrics], dtype=float)
    gains = {"kl": kl, "proxy_gain": proxy - proxy[0], "exact_gain": exact - exact[0], "episodes": episodes}
    for name in FINE_GRAINED_COMPONENTS:  # where the exact return moved (unweighted episode sums)
        key = f"exact_rewards/{name}/mean"
        if all(key in m for m in metrics):
            values = np.array([m[key] for m in metrics], dtype=float)
            gains[f"exact_{name}_gain"] = values - values[0]
    return gains


def smooth(values: np.ndarray, window: int) -> np.ndarray:
    """A trailing moving average over ``window`` iterations (shorter at the start).

    Example:
        >>> smooth(np.array([0.0, 2.0, 4.0, 6.0]), 2).tolist()
        [0.0, 1.0, 3.0, 5.0]
    """
    cumulative = np.cumsum(np.insert(values, 0, 0.0))
    starts = np.maximum(np.arange(1, len(values) + 1) - window, 0)
    return (cumulative[1:] - cumulative[starts]) / (np.arange(1, len(values) + 1) - starts)


def arm_curves(runs: Sequence[Mapping[str, np.ndarray]], window: int) -> dict[str, np.ndarray]:
    """Per iteration, over seeds: mean KL, and mean and 95% half-width of the smoothed gains."""
    length = min(len(run["kl"]) for run in runs)
    curves: dict[str, np.ndarray] = {"kl": np.mean([run["kl"][:length] for run in runs], axis=0)}
    for key in ("proxy_gain", "exact_gain"):
        values = np.array([smooth(run[key][:length], window) for run in runs])
        cis = [mean_ci(values[:, i]) for i in range(length)]
        curves[key] = np.array([c["mean"] for c in cis])
        curves[f"{key}_ci"] = np.array([c["half_width"] for c in cis])
    curves["kl"] = smooth(curves["kl"], window)
    return curves


def binned_by_kl(runs: Sequence[Mapping[str, np.ndarray]], bins: int = 8) -> dict[str, np.ndarray]:
    """Every iteration of every seed pooled and cut into ``bins`` groups of equal size by KL: per group the
    mean KL, and the mean and 95% half-width of the proxy and exact gains (Gao et al.'s axes). KL does not
    grow monotonically within a run, so grouping by KL, not by iteration, keeps the x axis honest.

    Example:
        >>> run = {"kl": np.arange(8.0), "proxy_gain": np.arange(8.0), "exact_gain": -np.arange(8.0)}
        >>> binned_by_kl([run], bins=2)["exact_gain"].tolist()
        [-1.5, -5.5]
    """
    kl = np.concatenate([run["kl"] for run in runs])
    order = np.argsort(kl, kind="stable")
    groups = [g for g in np.array_split(order, min(bins, len(order))) if len(g)]
    out: dict[str, np.ndarray] = {"kl": np.array([kl[g].mean() for g in groups])}
    for key in ("proxy_gain", "exact_gain"):
        values = np.concatenate([run[key] for run in runs])
        cis = [mean_ci(values[g]) if len(g) > 1 else {"mean": float(values[g][0]), "half_width": 0.0} for g in groups]
        out[key] = np.array([c["mean"] for c in cis])
        out[f"{key}_ci"] = np.array([c["half_width"] for c in cis])
    return out


def gains_table(arms: Mapping[str, Sequence[Mapping[str, np.ndarray]]], window: int) -> dict[str, Any]:
    """Per arm, over seeds (95% CI): the final KL, proxy and exact gains at the end (the last ``window``
    iterations' mean), the exact gain at its peak, and what was lost after the peak."""
    table = {}
    for arm, runs in arms.items():
        rows: dict[str, list[float]] = {k: [] for k in ("kl", "proxy_gain", "exact_gain", "exact_peak", "lost")}
        for name in FINE_GRAINED_COMPONENTS:
            if all(f"exact_{name}_gain" in run for run in runs):
                rows[f"exact_{name}_gain"] = [float(smooth(run[f"exact_{name}_gain"], window)[-1]) for run in runs]
        for run in runs:
            exact = smooth(run["exact_gain"], window)
            rows["kl"].append(float(np.mean(run["kl"][-window:])))
            rows["proxy_gain"].append(float(smooth(run["proxy_gain"], window)[-1]))
            rows["exact_gain"].append(float(exact[-1]))
            rows["exact_peak"].append(float(exact.max()))
            rows["lost"].append(float(exact.max() - exact[-1]))
        table[arm] = {key: {**mean_ci(values), "values": values} for key, values in rows.items()}
    return table


def plot_learned_vs_exact(curves: Mapping[str, Mapping[str, np.ndarray]], path: str | os.PathLike[str]) -> Path:
    """Exact gain of both arms against KL, then proxy and exact gain of each arm against KL (``curves``:
    :func:`binned_by_kl` of each arm)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, 1 + len(curves), figsize=(5 * (1 + len(curves)), 4))

    def draw(axis: Any, x: np.ndarray, curve: Mapping[str, np.ndarray], key: str, label: str, **style: Any) -> None:
        (line,) = axis.plot(x, curve[key], marker="o", markersize=3, label=label, **style)
        axis.fill_between(
            x, curve[key] - curve[f"{key}_ci"], curve[key] + curve[f"{key}_ci"], color=line.get_color(), alpha=0.15
        )

    for arm, curve in curves.items():
        draw(axes[0], curve["kl"], curve, "exact_gain", f"{arm} (learned)")
    axes[0].set(title="exact return gain (annotator, paper's weights)", ylabel="gain over the SFT policy")
    for axis, (arm, curve) in zip(axes[1:], curves.items()):
        draw(axis, curve["kl"], curve, "proxy_gain", "proxy (learned reward trained on)", color="tab:orange")
        draw(axis, curve["kl"], curve, "exact_gain", "exact (annotator)", color="tab:blue")
        axis.set(title=f"{arm} PPO on learned rewards", ylabel="gain over the SFT policy")
    for axis in axes:
        axis.axhline(0.0, color="grey", linewidth=0.8)
        axis.set_xlabel("KL(policy || SFT), nats per answer")
        axis.grid(alpha=0.3)
        axis.legend()
    return save_figure(fig, path)


def _cell(stat: Mapping[str, float]) -> str:
    return f"{stat['mean']:+.3f} ± {stat['half_width']:.3f}"


def markdown_report(table: Mapping[str, Any], agreement_report: Mapping[str, Any], caption: str) -> str:
    """The learned models' agreement with the annotator, then the gains per arm."""
    lines = [
        "| learned model | held-out dev answers | agreement with the annotator |",
        "| --- | --- | --- |",
    ]
    for name, report in agreement_report.items():
        model = report["model"]
        if report["kind"] == "token":
            size = f"{report['segments']} segments, {report['errors']} with errors"
            shown = (
                f"error F1 {model['error']['f1']:.3f} (P {model['error']['precision']:.3f}, R "
                f"{model['error']['recall']:.3f}); accuracy {model['accuracy']:.3f}, majority class "
                f"{report['majority']['accuracy']:.3f}"
            )
        else:
            size = f"{report['pairs']} pairs"
            shown = (
                f"pairwise accuracy {model['accuracy']:.3f}; longer answer {report['longer_answer']['accuracy']:.3f}"
            )
        lines.append(f"| {name} | {size} | {shown} |")
    lines += [
        "",
        caption,
        "",
        "| arm | KL at the end | proxy gain | exact gain | exact gain at its peak | exact lost after the peak |",
        "| --- | --- | --- | --- | --- | --- |",
    ]
    for arm, row in table.items():
        lines.append(
            f"| {arm} | {row['kl']['mean']:.2f} ± {row['kl']['half_width']:.2f} | {_cell(row['proxy_gain'])} | "
            f"{_cell(row['exact_gain'])} | {_cell(row['exact_peak'])} | {_cell(row['lost'])} |"
        )
    names = [n for n in FINE_GRAINED_COMPONENTS if all(f"exact_{n}_gain" in row for row in table.values())]
    if names:
        lines += [
            "",
            "Where the exact return moved: the annotator's unweighted episode sums per answer, gain at the end.",
            "",
            "| arm | " + " | ".join(names) + " |",
            "| --- |" + " --- |" * len(names),
        ]
        for arm, row in table.items():
            lines.append(f"| {arm} | " + " | ".join(_cell(row[f"exact_{n}_gain"]) for n in names) + " |")
    return "\n".join(lines) + "\n"


# ----------------------------------------------------------------------------------------------------
# the experiment
# ----------------------------------------------------------------------------------------------------


def learned_vs_exact(
    out_dir: str | os.PathLike[str],
    config: ExperimentConfig,
    settings: LearnedRewardsConfig,
    *,
    seeds: Sequence[int] = StudyRuns.seeds,
    policy_path: str | os.PathLike[str] | None = None,
    window: int = StudyRuns.window,
    progress: bool = True,
    log: Callable[[str], None] = print,
) -> dict[str, Any]:
    """Feedback, reward models, PPO on them per arm and seed, then the figure and the table (module doc)."""
    from agents.experiments.runner import start_policy

    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    policy_path = start_policy(policy_path, config, progress, log, "learned-vs-exact")
    folders, agreement_report = _learned_models(out, policy_path, config, settings, progress, log)
    reward_models = RewardModels(tuple(str(folders[n]) for n in FINE_GRAINED_COMPONENTS), str(folders["preference"]))
    compared = compare(
        out / "compare",
        config,
        Arms(schemes=ARMS, seeds=tuple(seeds), random_baseline=False),
        policy_path=policy_path,
        progress=progress,
        log=log,
        reward_models=reward_models,
    )
    arms = {
        arm: [run_gains(read_log(out / "compare" / "runs" / f"{arm}-seed{seed}" / "metrics.jsonl")) for seed in seeds]
        for arm in ARMS
    }
    results = {
        "config": config.to_dict(),
        "settings": asdict(settings),
        "seeds": list(seeds),
        "policy": str(policy_path),
        "reward_models": {k: str(v) for k, v in folders.items()},
        # compare's runs: the learned models' checkpoints and the annotator that labelled, audits and evaluates.
        SCORED_BY: compared[SCORED_BY],
        "agreement": agreement_report,
        **_write_report(out, arms, agreement_report, config.episodes_per_run, seeds, window, compared[SCORED_BY]),
    }
    atomic_write_json(out / "results.json", results)
    log((out / "learned_vs_exact.md").read_text())
    return results


def _learned_models(
    out: Path,
    policy_path: str | os.PathLike[str],
    config: ExperimentConfig,
    settings: LearnedRewardsConfig,
    progress: bool,
    log: Callable[[str], None],
) -> tuple[dict[str, Path], dict[str, Any]]:
    """Steps 1-2: the SFT policy's answers labelled by the annotator, the four reward models trained on them,
    and their agreement with the annotator on held-out dev answers (each step cached in ``out``)."""
    log("[learned-vs-exact] sampling the SFT policy's answers for the annotator to label")
    feedback = out / "feedback"
    train_answers = _policy_answers(
        feedback / ANSWERS_FILE, policy_path, "train", settings.feedback_questions, settings.policy_samples, config
    )
    dev_answers = _policy_answers(
        feedback / f"dev_{ANSWERS_FILE}", policy_path, "dev", settings.agreement_questions, 2, config
    )
    folders = train_learned_models(out / "reward_models", settings, train_answers, progress=progress, log=log)
    agreement_file = out / "agreement.json"
    current = scored_by(annotator=True)["annotator"]
    if agreement_file.is_file():
        cached = json.loads(agreement_file.read_text())
        # Derived numbers: measured again (not refused) when another annotator's labels, or none recorded, made them.
        if all(report.get(SCORED_BY, {}).get("annotator") == current for report in cached.values()):
            return folders, cached
    agreement_report = agreement(folders, dev_answers, settings.agreement_questions)
    atomic_write_json(agreement_file, agreement_report)
    return folders, agreement_report


def _write_report(
    out: Path,
    arms: Mapping[str, Sequence[Mapping[str, np.ndarray]]],
    agreement_report: Mapping[str, Any],
    episodes_per_run: int,
    seeds: Sequence[int],
    window: int,
    scorers: Mapping[str, Any],
) -> dict[str, Any]:
    """Step 4: ``learned_vs_exact.md`` and ``.png`` (``scorers``, a ``scored_by`` record, closes the caption);
    returns the gains and curves for ``results.json``."""
    curves = {arm: arm_curves(runs, window) for arm, runs in arms.items()}
    binned = {arm: binned_by_kl(runs) for arm, runs in arms.items()}
    table = gains_table(arms, window)
    caption = (
        f"PPO on learned rewards, {episodes_per_run} episodes per run, seeds {', '.join(map(str, seeds))}; "
        f"gains over the SFT policy's own answers, on each iteration's training answers, averaged over the "
        f"last {window} iterations; mean ± 95% CI over seeds. Proxy: the learned reward trained on (fine-grained: "
        f"0.3/0.5/0.3 over the three learned models; holistic: the preference model's standardised score). Exact: "
        f"the annotator's return under the paper's weights. {scorers_note(scorers)}"
    )
    (out / "learned_vs_exact.md").write_text(markdown_report(table, agreement_report, caption))
    plot_learned_vs_exact(binned, out / "learned_vs_exact.png")
    return {
        "gains": table,
        "curves": {arm: {k: v.tolist() for k, v in curve.items()} for arm, curve in curves.items()},
        "binned_by_kl": {arm: {k: v.tolist() for k, v in curve.items()} for arm, curve in binned.items()},
    }
