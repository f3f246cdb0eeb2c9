"""The paper's claim with standard agents: Stable-Baselines3 PPO and DQN, fine-grained versus holistic.

Each agent acts in the candidate-sentence view (:class:`fg_env.wrappers.CandidateSentences`): at every
step it picks one of the question's passage sentences or ends the answer. Its policy is the
candidate-scoring network of :mod:`fg_env.integrations.sb3` (one network scores every (state,
candidate) pair; ``--policy mlp`` takes SB3's ``MlpPolicy`` over the flat observation instead, which
does not learn the task). The two reward arms differ only in *when* the reward comes, never in how much:

- ``fine-grained``: :class:`~fg_env.wrappers.LinearScalarization`, the weights ``weights`` (the
  paper's 0.3/0.5/0.3 by default), dense: each sentence's relevance and factuality on its step,
  completeness at the end;
- ``holistic``: :class:`~fg_env.wrappers.HolisticReward`, the same weighted return as one scalar on the
  step that ends the answer.

Every run has the same budget (environment steps) and, per algorithm, the same hyperparameters in both
arms: PPO and MaskablePPO take :class:`~fg_env.integrations.sb3.CandidatePPOSettings` (measured with
the fine-grained reward: that arm's tuning is the holistic arm's too), DQN Stable-Baselines3's defaults
but for :data:`CANDIDATE_DQN_SETTINGS`. Two bounds frame the table: a random agent over valid actions
and a one-step greedy agent that tries every action on a copy of the environment and takes the best
immediate fine-grained reward (it sees the exact reward before acting, which no learning agent does).

The paper's weights pay +0.2 for a true sentence that is off topic (relevance -1 x 0.3, factuality +1 x
0.5), so an agent that maximises them pads its answers; :data:`NO_PADDING_WEIGHTS` (relevance weighted
as factuality) make such a sentence net 0: the ablation ``--weights 0.5,0.5,0.3``.

Every ``eval_every`` steps (and before training) a run answers ``eval_questions`` dev questions
deterministically; the answers are scored by fg_env's metrics (relevance and factuality ratios,
completeness, ROUGE-L, length, Irrelevant spans per answer) and their return under ``weights``. Runs go
to a pool of ``workers`` processes (one torch thread each); a finished run's record is written
atomically to ``runs/`` and is not run again, so a killed experiment resumes where it stopped.

Example:
    >>> import tempfile
    >>> config = SB3CompareConfig(timesteps=64, eval_every=32, eval_questions=2, num_candidates=4,
    ...                           feature_dim=16, workers=1)
    >>> with tempfile.TemporaryDirectory() as out:
    ...     result = sb3_compare(out, config, algorithms=["dqn"], seeds=[0], progress=False)
    >>> sorted(result["summary"])
    ['DQN fine-grained', 'DQN holistic', 'greedy (one step)', 'random']
    >>> [point["timesteps"] for point in result["runs"]["dqn-fine-grained-seed0"]["curve"]]
    [0, 32, 64]
"""

from __future__ import annotations

import concurrent.futures
import dataclasses
import json
import multiprocessing
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import gymnasium as gym
import numpy as np
from tqdm.auto import tqdm

from agents.experiments.run import BUILT_IN, DatasetChoice
from agents.experiments.settings import EVAL_QUESTIONS
from agents.reporting.stats import (
    METRIC_COLUMNS,
    format_estimate,
    mean_ci,
    paired_difference,
    sample_efficiency,
    sample_efficiency_table,
    save_figure,
    scorers_note,
)
from fg_env.atomic import atomic_write_json, atomic_write_text
from fg_env.errors import InvalidValueError, UnknownChoiceError
from fg_env.rewards.versions import SCORED_BY, check_same_scorers, merged, scored_by

__all__ = [
    "ALGORITHMS",
    "CANDIDATE_DQN_SETTINGS",
    "MLP_DQN_SETTINGS",
    "NO_PADDING_WEIGHTS",
    "PAPER_WEIGHTS",
    "REWARD_ARMS",
    "SB3Arms",
    "SB3CompareConfig",
    "build_model",
    "evaluate_agent",
    "greedy_agent",
    "sb3_compare",
]

ALGORITHMS: tuple[str, ...] = ("ppo", "maskable-ppo", "dqn")
REWARD_ARMS: tuple[str, ...] = ("fine-grained", "holistic")
POLICIES: tuple[str, ...] = ("candidate", "mlp")
#: The paper's weights of relevance, factuality and completeness.
PAPER_WEIGHTS: tuple[float, float, float] = (0.3, 0.5, 0.3)
#: Relevance weighted as factuality: a true but irrelevant sentence (relevance -1, factuality +1) nets 0
#: instead of the paper's +0.2, so padding an answer with true off-topic sentences no longer pays.
NO_PADDING_WEIGHTS: tuple[float, float, float] = (0.5, 0.5, 0.3)
#: DQN's departures from Stable-Baselines3's defaults with the candidate-scoring Q-network, the same for
#: both reward arms (the buffer is sized to the budget too: the default 1M is never filled). Measured with
#: the fine-grained reward, seed 0, 20,480 steps: at the default learning rate (1e-4) the greedy return on
#: the 100 dev questions peaked at 4.89 after 5k steps and sank to 4.54; at 1e-3 it ended at 4.84. The
#: default target interval (10,000 steps) would update the target network once or twice in a run.
CANDIDATE_DQN_SETTINGS: dict[str, Any] = {"learning_rate": 1e-3, "target_update_interval": 1_000}
#: DQN's departures with ``MlpPolicy`` (the first study's): the default target interval (10,000 steps)
#: would update the target network once or twice in a run.
MLP_DQN_SETTINGS: dict[str, Any] = {"target_update_interval": 1_000}
#: Columns of the table: fg_env's metrics, the Irrelevant spans of an answer (padding shows there), then
#: the return of the answers under the run's weights.
COLUMNS: tuple[tuple[str, str], ...] = (
    *METRIC_COLUMNS,
    ("irrelevant_per_answer", "Irrelevant / answer ↓"),
    ("return", "Return ↑"),
)
#: The metrics of the sample-efficiency table: steps for fine-grained to reach holistic's final score.
EFFICIENCY_METRICS: tuple[str, ...] = ("return", "relevance_ratio", "completeness")
RANDOM, GREEDY = "random", "greedy (one step)"


@dataclass(frozen=True)
class SB3CompareConfig:
    """Settings of :func:`sb3_compare`: the budget, the policy, the reward weights, the candidate view,
    the evaluation and the pool.

    Example:
        >>> SB3CompareConfig(timesteps=100, eval_every=30)
        Traceback (most recent call last):
        ...
        fg_env.errors.InvalidValueError: eval_every (30) must divide timesteps (100)
    """

    timesteps: int = field(default=20_480, metadata={"help": "environment steps per training run"})
    eval_every: int = field(
        default=4_096, metadata={"help": "steps between evaluations (learning-curve points); divides --timesteps"}
    )
    eval_questions: int = field(default=EVAL_QUESTIONS, metadata={"help": "dev questions each evaluation answers"})
    policy: str = field(
        default="candidate",
        metadata={"help": "candidate (fg_env.integrations.sb3's candidate-scoring policies) or mlp (SB3's MlpPolicy)"},
    )
    weights: tuple[float, ...] = field(
        default=PAPER_WEIGHTS,
        metadata={
            "metavar": "REL,FACT,COMP",
            "help": "weights of relevance, factuality and completeness in both arms' reward and the return; "
            "0.5,0.5,0.3 makes a true off-topic sentence net 0 (the no-padding ablation)",
        },
    )
    num_candidates: int = field(default=24, metadata={"help": "candidate slots of the view (actions: slots + end)"})
    featurizer: str = field(default="hashing", metadata={"help": "sentence featuriser: hashing, minilm or both"})
    feature_dim: int = field(default=256, metadata={"help": "vector size of the hashing featuriser (alone or in both)"})
    # The environment's own default episode length, unlike the LM experiments' MAX_SENTENCES (6): the first
    # study was measured with it.
    max_sentences: int = field(default=10, metadata={"help": "an answer is truncated at this many sentences"})
    train_split: str = field(default=BUILT_IN.train_split, metadata={"help": "split of the built-in world to train on"})
    eval_split: str = field(default=BUILT_IN.eval_split, metadata={"help": "split to evaluate on"})
    workers: int = field(default=2, metadata={"help": "runs trained at once (processes, one torch thread each)"})

    def __post_init__(self) -> None:
        for name in (
            "timesteps",
            "eval_every",
            "eval_questions",
            "num_candidates",
            "feature_dim",
            "max_sentences",
            "workers",
        ):
            value = getattr(self, name)
            if not isinstance(value, int) or isinstance(value, bool) or value < 1:
                raise InvalidValueError(f"{name} must be a positive integer, got {value!r}")
        if self.timesteps % self.eval_every:
            raise InvalidValueError(f"eval_every ({self.eval_every}) must divide timesteps ({self.timesteps})")
        if self.policy not in POLICIES:
            raise UnknownChoiceError("policy", self.policy, POLICIES)
        weights = tuple(self.weights)
        if len(weights) != 3 or any(not isinstance(w, (int, float)) or isinstance(w, bool) or w < 0 for w in weights):
            raise InvalidValueError(
                f"weights must be three non-negative numbers (relevance, factuality, completeness), got {self.weights!r}"
            )
        object.__setattr__(self, "weights", tuple(float(w) for w in weights))

    @property
    def dataset(self) -> DatasetChoice:
        """The built-in world's splits these runs train and are evaluated on, as every experiment names them."""
        return DatasetChoice(train_split=self.train_split, eval_split=self.eval_split)

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)


@dataclass(frozen=True)
class SB3Arms:
    """Which runs :func:`sb3_compare` makes: every algorithm x reward arm x seed (and the two bounds). Each
    field's help is the help of its flag in ``fg-env sb3-compare``.

    Example:
        >>> SB3Arms().algorithms, SB3Arms().seeds
        (('ppo', 'dqn'), (0, 1, 2, 3, 4))
    """

    algorithms: tuple[str, ...] = field(
        default=("ppo", "dqn"),
        metadata={"help": f"Stable-Baselines3 algorithms among {', '.join(ALGORITHMS)}."},
    )
    rewards: tuple[str, ...] = field(
        default=REWARD_ARMS, metadata={"help": f"Reward arms among {', '.join(REWARD_ARMS)}."}
    )
    seeds: tuple[int, ...] = field(default=(0, 1, 2, 3, 4), metadata={"metavar": "S,S,...", "help": "Seeds."})


# ----------------------------------------------------------------------------------------------------
# environments and agents
# ----------------------------------------------------------------------------------------------------


def make_view(config: SB3CompareConfig, reward: str, split: str) -> gym.Env:
    """The candidate view of ``split`` with the ``reward`` arm's scalar reward."""
    from fg_env.features import make_featurizer
    from fg_env.wrappers import CandidateSentences, HolisticReward, LinearScalarization

    if reward not in REWARD_ARMS:
        raise UnknownChoiceError("reward arm", reward, REWARD_ARMS)
    options = {"dim": config.feature_dim} if config.featurizer in ("hashing", "both") else {}
    view: gym.Env = CandidateSentences(  # any observation: the reward wrappers pass it through
        gym.make("FineGrainedQA-v0", split=split, max_sentences=config.max_sentences),
        num_candidates=config.num_candidates,
        featurizer=make_featurizer(config.featurizer, **options),
    )
    weights = list(config.weights)
    if reward == "fine-grained":
        return LinearScalarization(view, weights=weights)
    return HolisticReward(view, weights=weights)


Agent = Callable[[np.ndarray, gym.Env], int]


def greedy_agent(obs: np.ndarray, env: gym.Env) -> int:
    """The valid action with the best immediate reward, tried on copies of ``env`` (ties: lowest index).

    Example:
        >>> from fg_env.envs.vector import copy_env
        >>> env = make_view(SB3CompareConfig(num_candidates=8), "fine-grained", "dev")
        >>> obs, _ = env.reset(seed=0, options={"index": 0})
        >>> best = copy_env(env).step(greedy_agent(obs, env))[1]
        >>> all(copy_env(env).step(action)[1] <= best for action in range(9))
        True
    """
    from fg_env.envs.vector import copy_env

    masks = env.get_wrapper_attr("action_masks")()
    valid = np.flatnonzero(masks)
    rewards = [float(copy_env(env).step(int(action))[1]) for action in valid]
    return int(valid[int(np.argmax(rewards))])


def random_agent(seed: int) -> Agent:
    """Uniform over the valid actions (the candidates and the end), from its own generator."""
    rng = np.random.default_rng(seed)

    def act(obs: np.ndarray, env: gym.Env) -> int:
        return int(rng.choice(np.flatnonzero(env.get_wrapper_attr("action_masks")())))

    return act


def model_agent(model: Any) -> Agent:
    """A Stable-Baselines3 model acting deterministically (a masked pick ends the answer: the view's rule;
    MaskablePPO is given the view's action masks)."""
    maskable = type(model).__name__ == "MaskablePPO"

    def act(obs: np.ndarray, env: gym.Env) -> int:
        if maskable:
            action, _ = model.predict(obs, deterministic=True, action_masks=env.get_wrapper_attr("action_masks")())
        else:
            action, _ = model.predict(obs, deterministic=True)
        return int(action)

    return act


def evaluate_agent(agent: Agent, env: gym.Env, questions: int) -> dict[str, Any]:
    """fg_env's metrics of ``agent``'s answers to the first ``questions`` of ``env``'s split, and their
    mean return (``env`` is a fine-grained view: the weighted return both arms are paid; the view's
    shuffle is seeded by the question, the same for every agent)."""
    from agents.experiments.evaluate import metrics_of
    from fg_env.envs.core import core_env

    qa = core_env(env)
    if questions > len(qa.examples):
        raise InvalidValueError(f"eval_questions ({questions}) is more than the split's {len(qa.examples)} questions")
    answers, returns = [], []
    for index in range(questions):
        obs, _ = env.reset(seed=10_000 + index, options={"index": index})
        total, done = 0.0, False
        while not done:
            obs, reward, terminated, truncated, _ = env.step(agent(obs, env))
            total += float(reward)
            done = terminated or truncated
        answers.append(qa.response)
        returns.append(total)
    metrics = metrics_of(qa.examples[:questions], answers)
    metrics["irrelevant_per_answer"] = metrics["error_counts"].get("Irrelevant", 0) / questions
    metrics["return"] = float(np.mean(returns))
    return metrics


# ----------------------------------------------------------------------------------------------------
# one run (in a worker process)
# ----------------------------------------------------------------------------------------------------


PPO_ROLLOUT = 2048  # Stable-Baselines3's default n_steps, and CandidatePPOSettings'


def ppo_rollout(timesteps: int) -> int:
    """PPO's rollout length: its default, or the whole budget when that is shorter (tiny runs)."""
    return min(PPO_ROLLOUT, timesteps)


def build_model(config: SB3CompareConfig, algorithm: str, env: gym.Env, seed: int) -> Any:
    """The untrained Stable-Baselines3 model of one run: ``algorithm`` with ``config.policy`` on ``env``.

    Example:
        >>> config = SB3CompareConfig(timesteps=64, eval_every=32, num_candidates=4, feature_dim=16)
        >>> model = build_model(config, "dqn", make_view(config, "fine-grained", "dev"), seed=0)
        >>> type(model).__name__, type(model.policy).__name__
        ('DQN', 'CandidateDQNPolicy')
    """
    from stable_baselines3 import DQN, PPO

    if algorithm not in ALGORITHMS:
        raise UnknownChoiceError("algorithm", algorithm, ALGORITHMS)
    n_steps = ppo_rollout(config.timesteps)
    if config.policy == "mlp":
        if algorithm == "dqn":
            return DQN("MlpPolicy", env, seed=seed, device="cpu", buffer_size=config.timesteps, **MLP_DQN_SETTINGS)
        ppo: Any = PPO
        if algorithm == "maskable-ppo":
            from sb3_contrib import MaskablePPO

            ppo = MaskablePPO
        return ppo("MlpPolicy", env, seed=seed, device="cpu", n_steps=n_steps, batch_size=min(64, n_steps))

    from fg_env.integrations.sb3 import CandidateDQNPolicy, CandidatePPOSettings, candidate_ppo

    if algorithm == "dqn":
        return DQN(
            CandidateDQNPolicy, env, seed=seed, device="cpu", buffer_size=config.timesteps, **CANDIDATE_DQN_SETTINGS
        )
    settings = CandidatePPOSettings()
    settings = dataclasses.replace(settings, n_steps=n_steps, batch_size=min(settings.batch_size, n_steps))
    return candidate_ppo(env, settings, maskable=algorithm == "maskable-ppo", seed=seed)


def run_name(algorithm: str, reward: str, seed: int) -> str:
    return f"{algorithm}-{reward}-seed{seed}"


def _train_run(config: SB3CompareConfig, algorithm: str, reward: str, seed: int, curve_path: str) -> dict[str, Any]:
    """Train one agent, evaluating it every ``eval_every`` steps; the curve is appended to ``curve_path``."""
    import torch
    from stable_baselines3.common.callbacks import BaseCallback

    torch.set_num_threads(1)
    started = time.perf_counter()
    env = make_view(config, reward, config.dataset.train_split)
    eval_env = make_view(config, "fine-grained", config.dataset.eval_split)
    model = build_model(config, algorithm, env, seed)
    curve: list[dict[str, Any]] = []
    Path(curve_path).write_text("")
    final: dict[str, Any] = {}

    def evaluate() -> None:
        nonlocal final
        final = evaluate_agent(model_agent(model), eval_env, config.eval_questions)
        point = {"timesteps": int(model.num_timesteps), **{k: v for k, v in final.items() if k != "samples"}}
        curve.append(point)
        with open(curve_path, "a") as stream:
            stream.write(json.dumps(point) + "\n")

    class Evaluations(BaseCallback):
        """Evaluate every ``eval_every`` steps, inside ``learn`` so that the schedules (DQN's exploration)
        see one run; the last point is taken after ``learn``, once PPO has used its last rollout."""

        def _on_step(self) -> bool:
            if self.num_timesteps % config.eval_every == 0 and self.num_timesteps < config.timesteps:
                evaluate()
            return True

    evaluate()
    model.learn(config.timesteps, callback=Evaluations())
    evaluate()
    return {
        "kind": algorithm,
        "reward": reward,
        "seed": seed,
        "final": final,
        "curve": curve,
        "seconds": time.perf_counter() - started,
    }


def _bound_run(config: SB3CompareConfig, kind: str, seed: int) -> dict[str, Any]:
    started = time.perf_counter()
    env = make_view(config, "fine-grained", config.dataset.eval_split)
    agent = greedy_agent if kind == GREEDY else random_agent(seed)
    final = evaluate_agent(agent, env, config.eval_questions)
    return {"kind": kind, "seed": seed, "final": final, "curve": [], "seconds": time.perf_counter() - started}


# ----------------------------------------------------------------------------------------------------
# the experiment
# ----------------------------------------------------------------------------------------------------


ALGORITHM_NAMES: dict[str, str] = {"ppo": "PPO", "maskable-ppo": "MaskablePPO", "dqn": "DQN"}


def row_name(algorithm: str, reward: str) -> str:
    return f"{ALGORITHM_NAMES[algorithm]} {reward}"


def sb3_compare(
    out: str | Path,
    config: SB3CompareConfig,
    *,
    algorithms: Sequence[str] = SB3Arms.algorithms,
    rewards: Sequence[str] = SB3Arms.rewards,
    seeds: Sequence[int] = SB3Arms.seeds,
    progress: bool = True,
) -> dict[str, Any]:
    """Train every algorithm x reward arm x seed, evaluate them and the two bounds, and write
    ``results.json``, ``results.md`` and ``learning_curves.png`` under ``out`` (runs under ``out/runs``)."""
    for algorithm in algorithms:
        if algorithm not in ALGORITHMS:
            raise UnknownChoiceError("algorithm", algorithm, ALGORITHMS)
    for reward in rewards:
        if reward not in REWARD_ARMS:
            raise UnknownChoiceError("reward arm", reward, REWARD_ARMS)
    if not seeds or len(set(seeds)) != len(seeds):
        raise InvalidValueError(f"seeds must be distinct and at least one, got {list(seeds)}")
    if any(a.endswith("ppo") for a in algorithms) and config.timesteps % ppo_rollout(config.timesteps):
        raise InvalidValueError(
            f"PPO updates every {PPO_ROLLOUT} steps: timesteps ({config.timesteps}) must be a multiple of it, "
            "so that every run gets the same budget"
        )
    out = Path(out)
    runs_dir = out / "runs"
    runs_dir.mkdir(parents=True, exist_ok=True)
    _check_same_config(out, config)
    # The view's rewards and the evaluation are the built-in annotator's (FineGrainedQA-v0's default models).
    scorers = scored_by(annotator=True)

    jobs: dict[str, tuple[Callable[..., dict[str, Any]], tuple[Any, ...]]] = {}
    jobs[f"greedy-seed{seeds[0]}"] = (_bound_run, (config, GREEDY, seeds[0]))  # deterministic: one run
    for seed in seeds:
        jobs[f"random-seed{seed}"] = (_bound_run, (config, RANDOM, seed))
    for algorithm in algorithms:
        for reward in rewards:
            for seed in seeds:
                name = run_name(algorithm, reward, seed)
                jobs[name] = (_train_run, (config, algorithm, reward, seed, str(runs_dir / f"{name}.curve.jsonl")))

    records = {
        name: json.loads((runs_dir / f"{name}.json").read_text())
        for name in jobs
        if (runs_dir / f"{name}.json").is_file()
    }
    for name, record in records.items():  # runs another annotator scored would be mixed into the table
        check_same_scorers(record.get(SCORED_BY), scorers, f"{out} (runs/{name}.json)")
    todo = [name for name in jobs if name not in records]
    started = time.perf_counter()
    context = multiprocessing.get_context("spawn")  # no forked torch thread pools
    with concurrent.futures.ProcessPoolExecutor(max_workers=config.workers, mp_context=context) as pool:
        futures = {pool.submit(jobs[name][0], *jobs[name][1]): name for name in todo}
        bar = tqdm(total=len(jobs), initial=len(records), desc="sb3-compare runs", disable=not progress)
        for future in concurrent.futures.as_completed(futures):
            name = futures[future]
            records[name] = {**future.result(), SCORED_BY: scorers}
            atomic_write_json(runs_dir / f"{name}.json", records[name])
            bar.update()
        bar.close()
    result = _summarise(config, {name: records[name] for name in jobs}, algorithms, rewards, seeds)
    result[SCORED_BY] = merged(*(records[name].get(SCORED_BY) for name in jobs))
    result["seconds_this_invocation"] = time.perf_counter() - started
    atomic_write_json(out / "results.json", result)
    atomic_write_text(out / "results.md", results_markdown(result))
    plot_curves(result, out / "learning_curves.png")
    return result


def _check_same_config(out: Path, config: SB3CompareConfig) -> None:
    """Refuse to resume runs made with other settings (their records would be mixed into the table)."""
    path = out / "config.json"
    current = json.loads(json.dumps(config.to_dict()))  # as saved: tuples become lists
    if path.is_file():
        saved = json.loads(path.read_text())
        if saved != current:
            changed = sorted(k for k in set(saved) | set(current) if saved.get(k) != current.get(k))
            raise InvalidValueError(
                f"{out} holds runs made with other settings ({', '.join(changed)}): use another --out"
            )
    else:
        atomic_write_json(path, current)


def _summarise(
    config: SB3CompareConfig,
    records: dict[str, dict[str, Any]],
    algorithms: Sequence[str],
    rewards: Sequence[str],
    seeds: Sequence[int],
) -> dict[str, Any]:
    rows: dict[str, list[dict[str, Any]]] = {RANDOM: [], GREEDY: []}
    for record in records.values():
        name = record["kind"] if record["kind"] in (RANDOM, GREEDY) else row_name(record["kind"], record["reward"])
        rows.setdefault(name, []).append(record)
    order = [RANDOM, GREEDY] + [row_name(a, r) for a in algorithms for r in rewards]
    summary = {name: {key: mean_ci([r["final"][key] for r in rows[name]]) for key, _ in COLUMNS} for name in order}
    paired: dict[str, dict[str, Any]] = {}
    efficiency: dict[str, dict[str, Any]] = {}
    if set(REWARD_ARMS) <= set(rewards):
        for algorithm in algorithms:
            arms = {arm: {r["seed"]: r for r in rows[row_name(algorithm, arm)]} for arm in REWARD_ARMS}
            name = ALGORITHM_NAMES[algorithm]
            paired[name] = {
                key: paired_difference(
                    [arms["fine-grained"][s]["final"][key] for s in seeds],
                    [arms["holistic"][s]["final"][key] for s in seeds],
                )
                for key, _ in COLUMNS
            }
            efficiency[name] = sample_efficiency(
                [arms["fine-grained"][s]["curve"] for s in seeds],
                [arms["holistic"][s]["curve"] for s in seeds],
                metrics=EFFICIENCY_METRICS,
                unit="timesteps",
            )
    return {
        "config": config.to_dict(),
        "algorithms": list(algorithms),
        "rewards": list(rewards),
        "seeds": list(seeds),
        "settings": _settings(config),
        "summary": summary,
        "paired_fine_grained_minus_holistic": paired,
        "sample_efficiency": efficiency,
        "runs": records,
        "train_seconds": sum(r["seconds"] for r in records.values()),
    }


def _settings(config: SB3CompareConfig) -> dict[str, Any]:
    """The algorithms' settings the runs used, for the record."""
    if config.policy == "mlp":
        return {"ppo": "Stable-Baselines3 defaults (batch 64)", "dqn": MLP_DQN_SETTINGS}
    from fg_env.integrations.sb3 import CandidatePPOSettings

    return {"ppo": CandidatePPOSettings().to_dict(), "dqn": CANDIDATE_DQN_SETTINGS}


def results_markdown(result: dict[str, Any]) -> str:
    """The table (mean ± 95% CI half-width over seeds) and the paired fine-grained - holistic differences."""
    config = result["config"]
    header = "| Agent | " + " | ".join(title for _, title in COLUMNS) + " |"
    lines = [header, "|" + " --- |" * (len(COLUMNS) + 1)]
    for name, row in result["summary"].items():
        cells = [
            format_estimate(key, row[key]["mean"], row[key]["half_width"] if row[key]["n"] > 1 else None)
            for key, _ in COLUMNS
        ]
        lines.append(f"| {name} | " + " | ".join(cells) + " |")
    seeds = ", ".join(map(str, result["seeds"]))
    policy = "the candidate-scoring policy" if config.get("policy", "candidate") == "candidate" else "MlpPolicy"
    weights = "/".join(f"{w:g}" for w in config.get("weights", PAPER_WEIGHTS))
    features = config["featurizer"] + (f" ({config['feature_dim']}-dim)" if config["featurizer"] == "hashing" else "")
    lines += [
        "",
        f"Stable-Baselines3 agents with {policy} on the candidate view ({config['num_candidates']} slots, "
        f"{features} features, at most {config['max_sentences']} sentences), reward weights {weights} "
        f"(relevance/factuality/completeness), {config['timesteps']:,} environment steps per run on the "
        f"{config['train_split']} split; deterministic answers to {config['eval_questions']} {config['eval_split']} "
        f"questions. Mean ± 95% confidence interval (Student t) over seeds {seeds}; the greedy bound is "
        f"deterministic (one run). {scorers_note(result.get(SCORED_BY))}",
    ]
    if result["paired_fine_grained_minus_holistic"]:
        lines += ["", "Fine-grained minus holistic, paired by seed (mean [95% CI], paired t-test p):", ""]
        lines += ["| Algorithm | " + " | ".join(title.rstrip(" ↑") for _, title in COLUMNS) + " |"]
        lines += ["|" + " --- |" * (len(COLUMNS) + 1)]
        for algorithm, cells in result["paired_fine_grained_minus_holistic"].items():
            texts = [
                f"{c['mean']:+.3f} [{c['low']:+.3f}, {c['high']:+.3f}] p={c['p_value']:.2f}"
                for c in (cells[key] for key, _ in COLUMNS)
            ]
            lines.append(f"| {algorithm} | " + " | ".join(texts) + " |")
    titles = dict(COLUMNS)
    for algorithm, efficiency in result.get("sample_efficiency", {}).items():
        lines += [
            "",
            f"{algorithm}: environment steps fine-grained needs to reach holistic's final score "
            "(mean curves; 95% CI by resampling the seeds):",
            "",
        ]
        lines.append(
            sample_efficiency_table(efficiency, "fine-grained", "holistic", unit="steps", titles=titles).rstrip("\n")
        )
    return "\n".join(lines) + "\n"


def plot_curves(result: dict[str, Any], path: str | Path) -> Path:
    """Return, relevance, factuality and completeness of the deterministic answers against training
    steps: mean over seeds with a 95% confidence band; the bounds as horizontal lines."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    panels = [
        ("return", "fine-grained return"),
        ("relevance_ratio", "relevance ratio"),
        ("factuality_ratio", "factuality ratio"),
        ("completeness", "completeness"),
    ]
    fig, axes = plt.subplots(1, len(panels), figsize=(4.2 * len(panels), 3.6))
    runs = result["runs"].values()
    for algorithm in result["algorithms"]:
        for reward in result["rewards"]:
            curves = [r["curve"] for r in runs if r["kind"] == algorithm and r.get("reward") == reward]
            if not curves:
                continue
            length = min(len(c) for c in curves)
            steps = [curves[0][i]["timesteps"] for i in range(length)]
            for axis, (key, _) in zip(axes, panels):
                cis = [mean_ci([c[i][key] for c in curves]) for i in range(length)]
                style = "-" if reward == "fine-grained" else "--"
                (line,) = axis.plot(steps, [c["mean"] for c in cis], style, label=row_name(algorithm, reward))
                axis.fill_between(
                    steps, [c["low"] for c in cis], [c["high"] for c in cis], color=line.get_color(), alpha=0.15
                )
    for name, color in ((RANDOM, "grey"), (GREEDY, "black")):
        for axis, (key, _) in zip(axes, panels):
            axis.axhline(result["summary"][name][key]["mean"], color=color, linestyle=":", label=name)
    for axis, (_, title) in zip(axes, panels):
        axis.set(title=title, xlabel="environment steps")
        axis.grid(alpha=0.3)
    axes[0].legend(fontsize=7)
    fig.suptitle(f"SB3 agents on the candidate view, mean and 95% CI over {len(result['seeds'])} seeds", fontsize=10)
    return save_figure(fig, path)
