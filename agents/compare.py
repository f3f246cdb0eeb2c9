"""Experiments on the trainer: one PPO run, the fine-grained-versus-holistic comparison, weight sweeps.

``compare`` reproduces the paper's central experiment on the built-in world: the SFT policy once, then
PPO with the fine-grained reward and PPO with the holistic reward, equal episode budgets, several
seeds, all evaluated greedily on the same dev questions. Its folder receives ``results.json``,
``results.md`` (the paper's table: relevance ratio, factuality ratio, completeness, ROUGE-L, length;
mean +- standard deviation over seeds) and ``learning_curve.png``.

Every run keeps its own folder with ``metrics.jsonl`` and checkpoints, so an interrupted comparison
picks up where it stopped when run again with the same arguments.
"""

from __future__ import annotations

import json
import os
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, Callable, Sequence

import numpy as np

from agents.ppo import FineGrainedPPO, PPOConfig
from agents.schemes import get_scheme, resolve_weights
from fg_env.atomic import atomic_write_json

METRIC_COLUMNS: tuple[tuple[str, str], ...] = (
    ("relevance_ratio", "Rel. ratio ↑"),
    ("factuality_ratio", "Fact. ratio ↑"),
    ("completeness", "Comp. ↑"),
    ("rouge_l", "ROUGE-L ↑"),
    ("length", "Length (words)"),
)


@dataclass(frozen=True)
class Scale:
    """How big an experiment is: the SFT preset, the PPO budget per run and the evaluation set.

    Example:
        >>> SCALES["quick"].episodes_per_run
        64
    """

    name: str
    sft_quick: bool
    iterations: int
    prompts_per_iteration: int
    samples_per_prompt: int
    minibatch_size: int
    max_new_tokens: int
    eval_questions: int
    max_sentences: int = 6

    @property
    def episodes_per_run(self) -> int:
        return self.iterations * self.prompts_per_iteration * self.samples_per_prompt

    def ppo_config(self, seed: int, **overrides: Any) -> PPOConfig:
        """The PPO settings of one run at this scale; ``overrides`` set other PPOConfig fields."""
        settings = dict(
            iterations=self.iterations,
            prompts_per_iteration=self.prompts_per_iteration,
            samples_per_prompt=self.samples_per_prompt,
            minibatch_size=self.minibatch_size,
            max_new_tokens=self.max_new_tokens,
            seed=seed,
        )
        settings.update(overrides)
        return PPOConfig(**settings)


# Sized for a 2-core CPU, from a fresh cache with the SFT build included: quick in <= 5 minutes (measured 73 s
# idle), default in <= 45 (see the README for the measured times).
SCALES: dict[str, Scale] = {
    "quick": Scale("quick", sft_quick=True, iterations=8, prompts_per_iteration=2, samples_per_prompt=4,
                   minibatch_size=8, max_new_tokens=64, eval_questions=24),
    "default": Scale("default", sft_quick=False, iterations=20, prompts_per_iteration=4, samples_per_prompt=4,
                     minibatch_size=8, max_new_tokens=80, eval_questions=100),
}


def make_env(scheme: str, weights: Sequence[float] | None, split: str = "train", max_sentences: int = 6,
             dataset: str = "synthetic") -> Any:
    """The FineGrainedQA-v0 environment wrapped by reward scheme ``scheme``."""
    import gymnasium as gym

    import fg_env  # noqa: F401 - registers the environment

    env = gym.make("FineGrainedQA-v0", dataset=dataset, split=split, max_sentences=max_sentences)
    return get_scheme(scheme).wrap(env, weights)


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
) -> tuple[Any, list[dict[str, Any]]]:
    """Train a copy of the policy at ``policy_path`` with PPO; save it to ``out_dir/policy``.

    With ``resume``, continue from ``out_dir/checkpoint.pt``. Returns ``(policy, metrics)``.
    """
    from fg_env.checkpoint import CHECKPOINT_NAME
    from agents.policy import LMPolicy

    out = Path(out_dir)
    env = make_env(scheme, weights, "train", max_sentences)
    policy = LMPolicy.from_pretrained(policy_path)
    trainer = FineGrainedPPO(policy, env, config)
    if resume:
        trainer.load_checkpoint(out / CHECKPOINT_NAME)
    metrics = trainer.train(out, progress=progress)
    policy.save_pretrained(out / "policy")
    (out / "run.json").write_text(json.dumps({
        "policy": str(policy_path), "scheme": scheme,
        "weights": None if weights is None else [float(w) for w in weights],
        "config": config.to_dict(), "max_sentences": max_sentences,
    }, indent=2))
    return policy, metrics


def _run_key(policy_path: str, scheme: str, weights: Sequence[float] | None, config: PPOConfig, scale: Scale) -> dict[str, Any]:
    return {"policy": str(policy_path), "scheme": scheme,
            "weights": None if weights is None else [float(w) for w in weights],
            "config": config.to_dict(), "scale": asdict(scale)}


def run_and_evaluate(
    policy_path: str | os.PathLike[str],
    scheme: str,
    weights: Sequence[float] | None,
    config: PPOConfig,
    scale: Scale,
    out_dir: str | os.PathLike[str],
    examples: Sequence[Any],
    *,
    progress: bool = True,
) -> dict[str, Any]:
    """Train one run (or reuse/resume it from ``out_dir``) and evaluate it greedily on ``examples``."""
    from fg_env.checkpoint import CHECKPOINT_NAME, CheckpointError
    from agents.evaluate import evaluate_policy

    out = Path(out_dir)
    key = _run_key(str(policy_path), scheme, weights, config, scale)
    result_file = out / "result.json"
    if result_file.is_file():
        previous = json.loads(result_file.read_text())
        if previous.get("key") == key:
            return previous  # finished by an earlier invocation with the same settings
    resume = (out / CHECKPOINT_NAME).is_file()
    try:
        policy, metrics = train_policy(policy_path, scheme, weights, config, out, max_sentences=scale.max_sentences,
                                       resume=resume, progress=progress)
    except CheckpointError as error:
        if not resume:
            raise
        raise CheckpointError(f"{error}; delete {str(out)!r} to train this run afresh") from None
    evaluation = evaluate_policy(policy, examples, max_new_tokens=scale.max_new_tokens,
                                 max_sentences=scale.max_sentences, progress=progress)
    # Fewer than the budget when the KL safeguard (PPOConfig.kl_threshold) stopped the run.
    episodes = metrics[-1]["episodes"] if metrics else 0
    result = {"key": key, "scheme": scheme, "seed": config.seed, "episodes": episodes, "eval": evaluation,
              "curve": metrics}
    atomic_write_json(result_file, result)  # read back by reruns: never half-written
    return result


# ----------------------------------------------------------------------------------------------------
# The comparison
# ----------------------------------------------------------------------------------------------------


def compare(
    out_dir: str | os.PathLike[str],
    scale: Scale,
    *,
    seeds: Sequence[int] = (0, 1, 2),
    schemes: Sequence[str] = ("fine-grained", "holistic"),
    weights: Sequence[float] | None = None,
    policy_path: str | os.PathLike[str] | None = None,
    include_random: bool = True,
    progress: bool = True,
    log: Callable[[str], None] = print,
) -> dict[str, Any]:
    """SFT once, then PPO per scheme and seed with equal budgets; evaluate all on the same questions."""
    from agents.evaluate import evaluate_sentence_agent, load_examples

    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    for scheme in schemes:
        get_scheme(scheme)  # unknown names fail here, before any training
    if policy_path is None:
        from agents.sft import build_default_policy

        log(f"[compare] SFT policy ({'quick' if scale.sft_quick else 'default'} preset; cached after the first build)")
        policy_path = build_default_policy(quick=scale.sft_quick, progress=progress)
    examples = load_examples("dev", scale.eval_questions)
    log(f"[compare] evaluating on {len(examples)} dev questions; {scale.episodes_per_run} episodes per PPO run")

    rows: dict[str, list[dict[str, Any]]] = {"SFT": [evaluate_start_policy(policy_path, examples, scale, out, progress)]}

    if include_random:
        from agents.random_agent import RandomSentenceAgent

        env = make_env("fine-grained", weights, "dev", scale.max_sentences)
        rows["random sentences"] = [evaluate_sentence_agent(RandomSentenceAgent(seed=0), env, range(len(examples)))]

    curves: dict[str, list[list[dict[str, Any]]]] = {}
    stopped: list[str] = []
    for scheme in schemes:
        for seed in seeds:
            log(f"[compare] PPO {scheme}, seed {seed}")
            config = scale.ppo_config(seed)
            result = run_and_evaluate(policy_path, scheme, weights, config, scale, out / "runs" / f"{scheme}-seed{seed}",
                                      examples, progress=progress)
            rows.setdefault(f"PPO {scheme}", []).append(result["eval"])
            curves.setdefault(scheme, []).append(result["curve"])
            stopped.extend(_stopped_early(result, scale, f"{scheme} seed {seed}", log))

    summary = {name: summarise(evals) for name, evals in rows.items()}
    results = {
        "scale": asdict(scale), "seeds": list(seeds), "schemes": list(schemes), "policy": str(policy_path),
        "weights": None if weights is None else [float(w) for w in weights],
        "eval_split": "dev", "eval_questions": len(examples),
        "summary": summary, "per_seed": rows, "curves": curves, "stopped_early": stopped,
    }
    (out / "results.json").write_text(json.dumps(results, indent=2))
    table = markdown_table(summary, caption=(
        f"Greedy decoding on {len(examples)} dev questions of the built-in world; PPO: {scale.episodes_per_run} "
        f"episodes per run, mean ± standard deviation over seeds {', '.join(map(str, seeds))}."
        + "".join(f" {note}." for note in stopped)
    ))
    (out / "results.md").write_text(table)
    plot_learning_curves(curves, out / "learning_curve.png")
    log(table)
    return results


def _stopped_early(result: dict[str, Any], scale: Scale, run: str, log: Callable[[str], None]) -> list[str]:
    """A note (logged, and returned for the table's caption) when the KL safeguard cut a run short."""
    episodes = result.get("episodes", scale.episodes_per_run)
    if episodes >= scale.episodes_per_run:
        return []
    note = f"{run} was stopped by the KL safeguard after {episodes} episodes"
    log(f"[warning] {note}")
    return [note]


def evaluate_start_policy(policy_path: str | os.PathLike[str], examples: Sequence[Any], scale: Scale,
                          out: Path, progress: bool = True) -> dict[str, Any]:
    """Greedy metrics of the policy PPO starts from, cached in ``out/sft_eval.json`` for reruns."""
    from agents.evaluate import evaluate_policy
    from agents.policy import LMPolicy

    key = {"policy": str(policy_path), "eval_questions": len(examples), "max_new_tokens": scale.max_new_tokens,
           "max_sentences": scale.max_sentences}
    cache = out / "sft_eval.json"
    if cache.is_file():
        previous = json.loads(cache.read_text())
        if all(previous.get(k) == v for k, v in key.items()):
            return previous["eval"]
    metrics = evaluate_policy(LMPolicy.from_pretrained(policy_path), examples, max_new_tokens=scale.max_new_tokens,
                              max_sentences=scale.max_sentences, progress=progress)
    atomic_write_json(cache, {**key, "eval": metrics})
    return metrics


def summarise(evals: Sequence[dict[str, Any]]) -> dict[str, Any]:
    """Mean and sample standard deviation (0 for one run) of each metric over runs."""
    summary: dict[str, Any] = {"runs": len(evals)}
    for key, _ in METRIC_COLUMNS:
        values = [e[key] for e in evals if e.get(key) is not None]
        if not values:
            summary[key] = None
            continue
        summary[key] = {"mean": float(np.mean(values)), "std": float(np.std(values, ddof=1)) if len(values) > 1 else 0.0}
    return summary


def markdown_table(summary: dict[str, dict[str, Any]], caption: str = "", first_column: str = "Policy") -> str:
    """The paper's table layout: one row per policy, one column per metric, ``mean ± std``.

    Example:
        >>> s = {"SFT": summarise([{"relevance_ratio": .5, "factuality_ratio": .6, "completeness": .7, "rouge_l": .3, "length": 20}])}
        >>> print(markdown_table(s).splitlines()[2])
        | SFT | 0.500 | 0.600 | 0.700 | 0.300 | 20.0 |
    """
    header = f"| {first_column} | " + " | ".join(title for _, title in METRIC_COLUMNS) + " |"
    lines = [header, "|" + " --- |" * (len(METRIC_COLUMNS) + 1)]
    for name, row in summary.items():
        cells = []
        for key, _ in METRIC_COLUMNS:
            cell = row.get(key)
            if cell is None:
                cells.append("n/a")
                continue
            digits = 1 if key == "length" else 3
            text = f"{cell['mean']:.{digits}f}"
            if row.get("runs", 1) > 1:
                text += f" ± {cell['std']:.{digits}f}"
            cells.append(text)
        lines.append(f"| {name} | " + " | ".join(cells) + " |")
    if caption:
        lines += ["", caption]
    return "\n".join(lines) + "\n"


def plot_learning_curves(curves: dict[str, list[list[dict[str, Any]]]], path: str | os.PathLike[str]) -> Path:
    """Training return and KL against episodes, mean over seeds with a min-max band."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, 2, figsize=(10, 4))
    for scheme, runs in curves.items():
        if not runs or not runs[0]:
            continue
        length = min(len(run) for run in runs)
        episodes = [runs[0][i]["episodes"] for i in range(length)]
        for axis, key in zip(axes, ("return", "kl")):
            values = np.array([[run[i][key] for i in range(length)] for run in runs])
            (line,) = axis.plot(episodes, values.mean(axis=0), label=f"{scheme} ({len(runs)} seeds)")
            axis.fill_between(episodes, values.min(axis=0), values.max(axis=0), color=line.get_color(), alpha=0.2)
    axes[0].set(title="training return (weighted reward per answer)", xlabel="episodes", ylabel="return")
    axes[1].set(title="KL(policy || SFT) per answer", xlabel="episodes", ylabel="nats")
    for axis in axes:
        axis.grid(alpha=0.3)
        axis.legend()
    return _save_figure(fig, path)


def _save_figure(fig: Any, path: str | os.PathLike[str]) -> Path:
    import matplotlib.pyplot as plt

    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)
    return Path(path)


# ----------------------------------------------------------------------------------------------------
# Weight sweep
# ----------------------------------------------------------------------------------------------------


def sweep_weights(
    out_dir: str | os.PathLike[str],
    scale: Scale,
    component: str,
    values: Sequence[float],
    *,
    seeds: Sequence[int] = (0,),
    weights: Sequence[float] | None = None,
    policy_path: str | os.PathLike[str] | None = None,
    progress: bool = True,
    log: Callable[[str], None] = print,
) -> dict[str, Any]:
    """Train fine-grained PPO with several weights of one reward component; tabulate length and ratios."""
    from agents.evaluate import load_examples

    from fg_env.rewards.defaults import DEFAULT_REWARD_MODELS

    names = list(DEFAULT_REWARD_MODELS)
    if component not in names:
        from fg_env.errors import UnknownChoiceError

        raise UnknownChoiceError("reward component", component, names)
    base = resolve_weights(weights, names)
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    if policy_path is None:
        from agents.sft import build_default_policy

        policy_path = build_default_policy(quick=scale.sft_quick, progress=progress)
    examples = load_examples("dev", scale.eval_questions)
    rows: dict[str, list[dict[str, Any]]] = {}
    stopped: list[str] = []
    for value in values:
        swept = base.copy()
        swept[names.index(component)] = value
        for seed in seeds:
            log(f"[sweep] {component} weight {value}, seed {seed}")
            result = run_and_evaluate(policy_path, "fine-grained", swept.tolist(), scale.ppo_config(seed), scale,
                                      out / "runs" / f"{component}-{value:g}-seed{seed}", examples, progress=progress)
            rows.setdefault(f"{value:g}", []).append(result["eval"])
            stopped.extend(_stopped_early(result, scale, f"weight {value:g} seed {seed}", log))
    summary = {name: summarise(evals) for name, evals in rows.items()}
    # The policy PPO starts from, as the reference every weight moves away from.
    start = summarise([evaluate_start_policy(policy_path, examples, scale, out, progress)])
    table = markdown_table({**summary, "SFT (start)": start}, first_column=f"{component} weight", caption=(
        f"Fine-grained PPO, other weights {', '.join(f'{n} {w:g}' for n, w in zip(names, base.tolist()) if n != component)}; "
        f"{scale.episodes_per_run} episodes per run; "
        f"greedy decoding on {len(examples)} dev questions; seeds {', '.join(map(str, seeds))}."
        + "".join(f" {note}." for note in stopped)
    ))
    results = {"component": component, "values": [float(v) for v in values],
               "base_weights": [round(w, 6) for w in base.tolist()],  # float32 -> the decimals given
               "scale": asdict(scale), "seeds": list(seeds), "policy": str(policy_path), "summary": summary,
               "start": start, "per_seed": rows, "stopped_early": stopped}
    (out / "results.json").write_text(json.dumps(results, indent=2))
    (out / "results.md").write_text(table)
    plot_sweep(component, [float(v) for v in values], list(summary.values()), start, out / "sweep.png")
    log(table)
    return results


def plot_sweep(component: str, values: Sequence[float], summaries: Sequence[dict[str, Any]], start: dict[str, Any],
               path: str | os.PathLike[str]) -> Path:
    """Answer length and the two error-free ratios against one component's weight (error bars: std over seeds)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    panels = (("length", "length (words)"), ("relevance_ratio", "relevance ratio"), ("factuality_ratio", "factuality ratio"))
    fig, axes = plt.subplots(1, len(panels), figsize=(12, 3.6))
    for axis, (key, title) in zip(axes, panels):
        means = [row[key]["mean"] if row.get(key) else np.nan for row in summaries]
        spreads = [row[key]["std"] if row.get(key) else 0.0 for row in summaries]
        axis.errorbar(values, means, yerr=spreads, marker="o", capsize=3, label="fine-grained PPO")
        if start.get(key):
            axis.axhline(start[key]["mean"], color="grey", linestyle="--", label="SFT (start)")
        axis.set(title=title, xlabel=f"{component} weight")
        axis.grid(alpha=0.3)
    axes[0].legend()
    return _save_figure(fig, path)
