"""FineGrainedQA-v0 as a native vector environment: ``gym.make_vec("FineGrainedQA-v0", num_envs=N)``.

N answers are written side by side. The reward models are built once and shared by the N sub-envs,
and each step makes **one** ``score`` call per reward model for all N sub-envs together (a learned
model then runs one padded forward pass per step instead of N), which is what Gymnasium's
``SyncVectorEnv`` cannot do: it steps each copy on its own, and it holds one scalar reward per env.

Conventions (Gymnasium 1.x):

- Rewards: float32, shape ``(N, K)``, one row per sub-env, one column per reward model.
- Observations: a dict of tuples (``obs["response"][i]`` is sub-env ``i``'s answer so far), as
  Gymnasium batches ``Text`` spaces.
- Infos: stacked by ``VectorEnv._add_info`` (``info["reward_mask"]`` has shape ``(N, K)``,
  ``info["segments"]`` is an object array of per-env lists), each key with its ``_key`` mask.
- Autoreset: ``AutoresetMode.NEXT_STEP`` (Gymnasium's default). The step that ends sub-env ``i``'s
  answer returns its final answer as usual, with ``terminated[i]`` or ``truncated[i]``; the next
  ``step`` resets it (its action is ignored) and returns the new question's observation with a zero
  reward and the reset's info. So a finished episode's final observation and info are those of the
  step that ended it: nothing moves to a ``final_obs`` key.
- Seeding: ``reset(seed=s)`` seeds sub-env ``i`` with ``s + i`` (a list gives one seed per env);
  ``options={"index": [i_0, ..., i_{N-1}]}`` or ``{"example_id": [...]}`` picks each one's question
  (a single value applies to every sub-env).

Example:
    >>> import gymnasium as gym, fg_env
    >>> envs = gym.make_vec("FineGrainedQA-v0", num_envs=3, max_sentences=4)
    >>> obs, info = envs.reset(seed=0)
    >>> rewards = envs.step(["Harlow Bridge is a film.", "", "It rained."])[1]
    >>> rewards.shape, rewards.dtype.name
    ((3, 3), 'float32')
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
from gymnasium.vector import AutoresetMode, VectorEnv
from gymnasium.vector.utils import batch_space, concatenate, create_empty_array

from fg_env.envs.qa import FineGrainedQAEnv, PendingStep, score_checked
from fg_env.rewards.base import ScoringRequest, SegmentScore
from fg_env.types import Observation
from fg_env.wrappers.components import RewardComponent, RewardVectorFacts

__all__ = ["FineGrainedQAVectorEnv"]


class FineGrainedQAVectorEnv(RewardVectorFacts, VectorEnv):
    """N FineGrainedQA environments stepped together, their segments scored in one call per model.

    Takes :class:`~fg_env.envs.qa.FineGrainedQAEnv`'s arguments (``dataset``, ``split``,
    ``reward_models``, ``max_sentences``, ...) besides ``num_envs``; the dataset and the reward models
    are made once and shared.

    Example:
        >>> envs = FineGrainedQAVectorEnv(num_envs=2)
        >>> _ = envs.reset(seed=1, options={"index": [0, 5]})
        >>> envs.reward_names, envs.num_envs
        (('relevance', 'factuality', 'completeness'), 2)
    """

    metadata = {"autoreset_mode": AutoresetMode.NEXT_STEP, "render_modes": []}

    def __init__(self, num_envs: int = 1, **env_kwargs: Any) -> None:
        if not isinstance(num_envs, int) or isinstance(num_envs, bool) or num_envs < 1:
            raise ValueError(f"num_envs must be a positive integer, got {num_envs!r}")
        if env_kwargs.get("render_mode") is not None:
            raise ValueError("the vector environment does not render; render a single FineGrainedQA-v0 instead")
        first = FineGrainedQAEnv(**env_kwargs)
        shared = {**env_kwargs, "dataset": first.dataset, "reward_models": first.reward_models}
        shared.pop("data_dir", None)
        shared.pop("dataset_kwargs", None)
        self.envs = [first] + [FineGrainedQAEnv(**shared) for _ in range(num_envs - 1)]
        self.num_envs = num_envs
        self.reward_models = first.reward_models
        self.reward_components: tuple[RewardComponent, ...] = first.reward_components
        self.single_observation_space = first.observation_space
        self.single_action_space = first.action_space
        self.observation_space = batch_space(self.single_observation_space, num_envs)
        self.action_space = batch_space(self.single_action_space, num_envs)
        self._observations = create_empty_array(self.single_observation_space, num_envs)
        self._autoreset = np.zeros(num_envs, dtype=bool)
        self._started = False

    # ------------------------------------------------------------------------------------ reset

    def reset(
        self, *, seed: int | Sequence[int | None] | None = None, options: dict[str, Any] | None = None
    ) -> tuple[dict[str, tuple[str, ...]], dict[str, Any]]:
        seeds = self._seeds(seed)
        per_env = self._per_env_options(options or {})
        observations: list[Observation] = []
        infos: dict[str, Any] = {}
        for i, (env, env_seed, env_options) in enumerate(zip(self.envs, seeds, per_env)):
            obs, info = env.reset(seed=env_seed, options=env_options)
            observations.append(obs)
            infos = self._add_info(infos, info, i)
        self._autoreset[:] = False
        self._started = True
        return self._batch(observations), infos

    def _seeds(self, seed: int | Sequence[int | None] | None) -> list[int | None]:
        if seed is None:
            return [None] * self.num_envs
        if isinstance(seed, (int, np.integer)):
            return [int(seed) + i for i in range(self.num_envs)]
        seeds = list(seed)
        if len(seeds) != self.num_envs:
            raise ValueError(f"reset(seed=...) got {len(seeds)} seeds for {self.num_envs} environments")
        return seeds

    def _per_env_options(self, options: dict[str, Any]) -> list[dict[str, Any]]:
        """Each sub-env's reset options: sequences are spread one value per env, others shared."""
        spread: list[dict[str, Any]] = [{} for _ in range(self.num_envs)]
        for key, value in options.items():
            if isinstance(value, (list, tuple, np.ndarray)):
                if len(value) != self.num_envs:
                    raise ValueError(f"reset option {key!r} has {len(value)} values for {self.num_envs} environments")
                for env_options, v in zip(spread, value):
                    env_options[key] = v.item() if isinstance(v, np.generic) else v
            else:
                for env_options in spread:
                    env_options[key] = value
        return spread

    # ------------------------------------------------------------------------------------ step

    def step(
        self, actions: Sequence[str]
    ) -> tuple[dict[str, tuple[str, ...]], np.ndarray, np.ndarray, np.ndarray, dict[str, Any]]:
        if not self._started:
            raise self._reset_needed()
        actions = list(actions)
        if len(actions) != self.num_envs:
            raise ValueError(f"step() got {len(actions)} actions for {self.num_envs} environments")
        stepping = [i for i in range(self.num_envs) if not self._autoreset[i]]
        for i in stepping:
            self.envs[i].check_step(actions[i])  # every misuse is reported before any env changes
        pending: dict[int, PendingStep] = {i: self.envs[i].advance(actions[i]) for i in stepping}
        requests = {i: self.envs[i].scoring_requests(pending[i]) for i in stepping}
        scores = self._score_together(requests)

        observations: list[Observation] = []
        rewards = np.zeros((self.num_envs, len(self.reward_models)), dtype=np.float32)
        terminated = np.zeros(self.num_envs, dtype=bool)
        truncated = np.zeros(self.num_envs, dtype=bool)
        infos: dict[str, Any] = {}
        for i, env in enumerate(self.envs):
            if self._autoreset[i]:
                obs, info = env.reset()
            else:
                obs, rewards[i], terminated[i], truncated[i], info = env.finish_step(pending[i], requests[i], scores[i])
            observations.append(obs)
            infos = self._add_info(infos, info, i)
        self._autoreset = terminated | truncated
        return self._batch(observations), rewards, terminated, truncated, infos

    def _score_together(self, requests: dict[int, list[list[ScoringRequest]]]) -> dict[int, list[list[SegmentScore]]]:
        """One ``score`` call per reward model for every sub-env's requests; split back per env."""
        scores: dict[int, list[list[SegmentScore]]] = {i: [] for i in requests}
        for k, model in enumerate(self.reward_models):
            batch = [r for i in requests for r in requests[i][k]]
            results = score_checked(model, batch)
            start = 0
            for i in requests:
                count = len(requests[i][k])
                scores[i].append(results[start : start + count])
                start += count
        return scores

    def _batch(self, observations: list[Observation]) -> Any:
        self._observations = concatenate(self.single_observation_space, observations, self._observations)  # type: ignore[arg-type]
        return self._observations

    @staticmethod
    def _reset_needed() -> Exception:
        from fg_env.errors import ResetNeededError

        return ResetNeededError("step() before reset(): call reset() to start the episodes")

    def close_extras(self, **kwargs: Any) -> None:
        for env in self.envs:
            env.close()
