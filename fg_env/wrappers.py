"""Reward-shaping wrappers: the one-line ablations of a fine-grained reward.

Each wrapper keeps ``info["segments"]`` consistent with the reward it returns, so an LM agent that
places token rewards from segment spans (the paper's PPO) trains on exactly the shaped reward:

- :class:`LinearScalarization`: weighted sum of the vector, a Python float (Stable-Baselines3 needs one);
- :class:`HolisticReward`: nothing until the answer ends, then one scalar (the paper's baseline);
- :class:`RewardDensity`: coarsen finer rewards to sentence or episode granularity;
- :class:`SelectRewards`: keep a subset of the reward models.

Vector-valued wrappers (density, selection) expose ``reward_names``, ``reward_space``,
``default_weights`` and ``reward_granularities`` for what they return; read them with
``env.get_wrapper_attr("reward_names")``. MO-Gymnasium's own wrappers read ``env.unwrapped``, so use
them directly on the environment (or above wrappers that keep the vector unchanged).
"""

from __future__ import annotations

from typing import Any, Literal, Sequence, SupportsFloat

import gymnasium as gym
import numpy as np
from gymnasium import spaces

from fg_env.errors import UnknownChoiceError
from fg_env.rewards.base import RewardModel, ScoringRequest, check_scores
from fg_env.rewards.registry import make_reward_model
from fg_env.types import Granularity, Span

Reduction = Literal["sum", "min", "mean"]
_ORDER = {Granularity.SUB_SENTENCE: 0, Granularity.SENTENCE: 1, Granularity.EPISODE: 2}


def _attr(env: gym.Env, name: str) -> Any:
    return env.get_wrapper_attr(name)


def _as_weights(weights: Sequence[float] | np.ndarray | None, env: gym.Env) -> np.ndarray:
    names = _attr(env, "reward_names")
    if weights is None:
        return np.asarray(_attr(env, "default_weights"), dtype=np.float32)
    array = np.asarray(weights, dtype=np.float32)
    if array.shape != (len(names),):
        raise ValueError(f"weights need one value per reward model {list(names)}: expected shape ({len(names)},), got {array.shape}")
    if not np.all(np.isfinite(array)):
        raise ValueError(f"weights must be finite numbers, got {array.tolist()}")
    return array


def _answer_span(response: str) -> Span:
    start = len(response) - len(response.lstrip())
    return Span(start, max(start, len(response.rstrip())))


class LinearScalarization(gym.Wrapper):
    """Return ``weights · reward_vector`` as a Python float; keep the vector in ``info["vector_reward"]``.

    The info keys are MO-Gymnasium's (``vector_reward``, ``reward_weights``). Default weights are the
    paper's (``env.unwrapped.default_weights``).

    Example:
        >>> import gymnasium as gym, fg_env
        >>> env = LinearScalarization(gym.make("FineGrainedQA-v0"), weights=[0.3, 0.5, 0.3])
        >>> _, info = env.reset(seed=0)
        >>> _, reward, *_ = env.step(info["references"][0])
        >>> type(reward).__name__
        'float'
    """

    def __init__(self, env: gym.Env, weights: Sequence[float] | np.ndarray | None = None) -> None:
        super().__init__(env)
        self.weights = _as_weights(weights, env)

    def step(self, action: str) -> tuple[Any, SupportsFloat, bool, bool, dict[str, Any]]:
        obs, vector, terminated, truncated, info = self.env.step(action)
        info["vector_reward"] = vector
        info["reward_weights"] = self.weights
        names = _attr(self.env, "reward_names")
        weight_of = dict(zip(names, self.weights.tolist()))
        # The scalar a token-level agent sees on each segment is its weighted value.
        info["segments"] = [dict(s, weight=weight_of.get(s["component"], 0.0)) for s in info["segments"]]
        return obs, float(np.dot(vector, self.weights)), terminated, truncated, info


class HolisticReward(gym.Wrapper):
    """One scalar for the whole answer, given on the step that ends it; 0.0 on every other step.

    By default the scalar is the weighted sum of the episode's fine-grained rewards (same return as
    :class:`LinearScalarization`, but delivered at the end). With ``reward_model`` (an episode-level
    model, a name or a saved model's folder) the scalar is that model's score of the final answer, as the
    paper's preference-model baseline.

    Example:
        >>> import gymnasium as gym, fg_env
        >>> env = HolisticReward(gym.make("FineGrainedQA-v0"))
        >>> _, info = env.reset(seed=0)
        >>> env.step(info["references"][0])[1]
        0.0
    """

    def __init__(
        self,
        env: gym.Env,
        weights: Sequence[float] | np.ndarray | None = None,
        reward_model: str | RewardModel | None = None,
    ) -> None:
        super().__init__(env)
        self.weights = _as_weights(weights, env)
        self.reward_model = None if reward_model is None else make_reward_model(reward_model)
        if self.reward_model is not None and Granularity(self.reward_model.granularity) is not Granularity.EPISODE:
            raise ValueError(f"a holistic reward model must judge whole answers; {self.reward_model.name!r} is {self.reward_model.granularity}-level")
        self._episode_return = np.zeros_like(self.weights)

    def reset(self, **kwargs: Any) -> tuple[Any, dict[str, Any]]:
        self._episode_return = np.zeros_like(self.weights)
        return self.env.reset(**kwargs)

    def step(self, action: str) -> tuple[Any, SupportsFloat, bool, bool, dict[str, Any]]:
        obs, vector, terminated, truncated, info = self.env.step(action)
        self._episode_return += vector
        info["vector_reward"] = vector
        info["fine_grained_segments"] = info["segments"]
        info["segments"] = []
        if not (terminated or truncated):
            return obs, 0.0, terminated, truncated, info
        response = self.env.unwrapped.response
        span = _answer_span(response)
        if self.reward_model is None:
            value, label, name = float(np.dot(self._episode_return, self.weights)), None, "holistic"
        else:
            request = ScoringRequest(self.env.unwrapped.example, response[: span.end], span)
            (score,) = scores = self.reward_model.score([request])
            check_scores(self.reward_model, [request], scores)
            value, label, name = float(score.value), score.label, self.reward_model.name
        info["segments"] = [
            {"component": name, "granularity": "episode", "start": span.start, "end": span.end,
             "text": response[span.start : span.end], "value": value, "label": label, "weight": 1.0}
        ]
        return obs, value, terminated, truncated, info


class RewardDensity(gym.Wrapper):
    """Coarsen rewards finer than ``granularity`` to that granularity (the density ablation).

    With ``granularity="sentence"`` the sub-sentence rewards of each sentence become one reward on the
    sentence; with ``"episode"`` every finer reward is held back and given, as one reward per model, on
    the step that ends the answer. ``reduce="sum"`` (default) keeps each model's return unchanged and
    only delays it, so the ablation isolates *when* feedback arrives; ``"min"`` marks a coarse segment
    with its worst piece (an error anywhere makes it -1) and ``"mean"`` averages.

    Example:
        >>> import gymnasium as gym, fg_env
        >>> env = RewardDensity(gym.make("FineGrainedQA-v0"), "episode")
        >>> _, info = env.reset(seed=0)
        >>> _, reward, *_ = env.step("The sky is green.")
        >>> reward.tolist()
        [0.0, 0.0, 0.0]
    """

    def __init__(self, env: gym.Env, granularity: str | Granularity = "sentence", reduce: Reduction = "sum") -> None:
        super().__init__(env)
        self.target = Granularity(granularity)
        if self.target is Granularity.SUB_SENTENCE:
            raise ValueError("density coarsens rewards: granularity must be 'sentence' or 'episode'")
        if reduce not in ("sum", "min", "mean"):
            raise UnknownChoiceError("reduction", reduce, ["sum", "min", "mean"])
        self.reduce = reduce
        inner = _attr(env, "reward_granularities")
        self._coarsened = np.array([_ORDER[g] < _ORDER[self.target] for g in inner])
        self.reward_granularities = tuple(self.target if c else g for g, c in zip(inner, self._coarsened))
        low, high = _attr(env, "reward_space").low.copy(), _attr(env, "reward_space").high.copy()
        self.reward_space = spaces.Box(low, high, dtype=np.float32)
        if reduce != "sum":
            # A min or mean of segment values stays inside one segment's bounds.
            for k, model in enumerate(env.unwrapped.reward_models):
                if self._coarsened[k] and self.target is Granularity.EPISODE:
                    self.reward_space.low[k], self.reward_space.high[k] = model.bounds
        self._held: list[list[dict[str, Any]]] = []

    def reset(self, **kwargs: Any) -> tuple[Any, dict[str, Any]]:
        self._held = [[] for _ in self._coarsened]
        return self.env.reset(**kwargs)

    def _reduce(self, values: list[float]) -> float:
        if self.reduce == "sum":
            return float(sum(values))
        return float(min(values)) if self.reduce == "min" else float(np.mean(values))

    def _merge(self, pieces: list[dict[str, Any]], span: Span, component: str, response: str) -> dict[str, Any]:
        labels = [p["label"] for p in pieces if p["label"]]
        return {"component": component, "granularity": self.target.value, "start": span.start, "end": span.end,
                "text": response[span.start : span.end], "value": self._reduce([p["value"] for p in pieces]),
                "label": labels[0] if labels else None}

    def step(self, action: str) -> tuple[Any, np.ndarray, bool, bool, dict[str, Any]]:
        obs, vector, terminated, truncated, info = self.env.step(action)
        response = obs["response"]
        names = _attr(self.env, "reward_names")
        vector, mask = vector.copy(), info["reward_mask"].copy()
        kept = [s for s in info["segments"] if not self._coarsened[names.index(s["component"])]]
        merged: list[dict[str, Any]] = []
        for k, name in enumerate(names):
            if not self._coarsened[k]:
                continue
            pieces = [s for s in info["segments"] if s["component"] == name]
            if self.target is Granularity.SENTENCE:
                for sentence in self._sentences_of(pieces):
                    group = [p for p in pieces if sentence.start <= p["start"] and p["end"] <= sentence.end]
                    merged.append(self._merge(group, sentence, name, response))
                vector[k] = sum(m["value"] for m in merged if m["component"] == name)
            else:
                self._held[k].extend(pieces)
                vector[k], mask[k] = 0.0, False
                if (terminated or truncated) and self._held[k]:
                    segment = self._merge(self._held[k], _answer_span(response), name, response)
                    merged.append(segment)
                    vector[k], mask[k] = segment["value"], True
        info["segments"] = kept + merged
        info["reward_mask"] = mask
        return obs, vector.astype(np.float32), terminated, truncated, info

    def _sentences_of(self, pieces: list[dict[str, Any]]) -> list[Span]:
        """The sentences (of this step) that the sub-sentence pieces belong to."""
        return [s for s in self.env.unwrapped.sentences if any(s.start <= p["start"] and p["end"] <= s.end for p in pieces)]


class SelectRewards(gym.Wrapper):
    """Keep only the named reward models (the leave-one-out ablation), in the order given.

    Example:
        >>> import gymnasium as gym, fg_env
        >>> env = SelectRewards(gym.make("FineGrainedQA-v0"), ["factuality", "completeness"])
        >>> env.reward_names
        ('factuality', 'completeness')
    """

    def __init__(self, env: gym.Env, names: Sequence[str]) -> None:
        super().__init__(env)
        available = list(_attr(env, "reward_names"))
        if isinstance(names, str):
            names = [names]
        if not names:
            raise ValueError("SelectRewards needs at least one reward model name")
        for name in names:
            if name not in available:
                raise UnknownChoiceError("reward model", name, available)
        self.reward_names = tuple(names)
        self._index = np.array([available.index(n) for n in names])
        inner_space = _attr(env, "reward_space")
        self.reward_space = spaces.Box(inner_space.low[self._index], inner_space.high[self._index], dtype=np.float32)
        self.default_weights = np.asarray(_attr(env, "default_weights"))[self._index].astype(np.float32)
        inner_granularities = _attr(env, "reward_granularities")
        self.reward_granularities = tuple(inner_granularities[i] for i in self._index)

    def step(self, action: str) -> tuple[Any, np.ndarray, bool, bool, dict[str, Any]]:
        obs, vector, terminated, truncated, info = self.env.step(action)
        info["reward_mask"] = info["reward_mask"][self._index]
        info["segments"] = [s for s in info["segments"] if s["component"] in self.reward_names]
        return obs, vector[self._index].astype(np.float32), terminated, truncated, info
