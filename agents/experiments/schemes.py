"""Reward schemes: which reward an agent trains on, built from fg_env's wrappers in one line each.

Every scheme returns an environment whose scalar reward is the sum of ``weight * value`` over the
step's ``info["segments"]``, and whose segments carry that ``weight``. A token-level learner (the
paper's PPO) puts each segment's ``weight * value`` on the segment's last token, so it trains on
exactly the reward the scheme defines, whatever the scheme:

======================  ======================================================================
``fine-grained``        the paper: every reward model at its own granularity, weighted (0.3/0.5/0.3)
``holistic``            one scalar on the final token: the weighted sum of the episode's rewards
``sentence``            fine-grained, but sub-sentence rewards merged per sentence
``episode``             fine-grained rewards all held back to the answer's end (one per model)
``no-relevance`` etc.   fine-grained without one reward model (leave-one-out)
``fine-grained-         fine-grained, each reward model's rewards normalised over the question's
normalized``            answers before the weighted sum (GDPO; sets PPO's ``reward_normalization``)
======================  ======================================================================

Weights always name the environment's reward models in order (``relevance, factuality,
completeness`` by default); a leave-one-out scheme ignores the weight of the model it drops.

A scheme may also set trainer settings (``trainer_settings``) where what it changes is how the trainer
treats the reward rather than the reward the environment returns: ``fine-grained-normalized`` wraps the
environment as ``fine-grained`` does and sets ``reward_normalization="per-component"``. Every run of it
gets them (:class:`agents.experiments.run.RunSpec` applies :meth:`RewardScheme.settings_for`), and a
trainer whose settings lack them is refused.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, fields, replace
from typing import Any, TypeVar

import gymnasium as gym
import numpy as np

from fg_env.errors import InvalidValueError, UnknownChoiceError
from fg_env.rewards.defaults import paper_weights
from fg_env.wrappers import HolisticReward, LinearScalarization, RewardDensity, SelectRewards

Settings = TypeVar("Settings")


@dataclass(frozen=True)
class RewardScheme:
    """A named way to turn the environment's reward vector into the reward an agent learns from.

    Example:
        >>> import gymnasium as gym, fg_env
        >>> scheme = get_scheme("holistic")
        >>> env = scheme.wrap(gym.make("FineGrainedQA-v0"), weights=None)
        >>> type(env).__name__
        'HolisticReward'
    """

    name: str
    description: str
    _wrap: Callable[[gym.Env, np.ndarray], gym.Env]
    trainer_settings: Mapping[str, Any] = field(default_factory=dict)

    def settings_for(self, settings: Settings) -> Settings:
        """``settings`` (a trainer's settings dataclass) with this scheme's ``trainer_settings`` set; the same
        object for a scheme that sets none. Settings that lack one of them are refused, naming it.

        Example:
            >>> from agents.algorithms.ppo import PPOConfig
            >>> get_scheme("fine-grained-normalized").settings_for(PPOConfig()).reward_normalization
            'per-component'
            >>> get_scheme("fine-grained").settings_for(PPOConfig()).reward_normalization
            'none'
        """
        if not self.trainer_settings:
            return settings
        missing = sorted(set(self.trainer_settings) - {f.name for f in fields(settings)})  # type: ignore[arg-type]
        if missing:
            raise InvalidValueError(
                f"reward scheme {self.name!r} sets the trainer setting(s) {', '.join(missing)}, which "
                f"{type(settings).__name__} does not have: run it with a trainer that has them (ppo)"
            )
        return replace(settings, **self.trainer_settings)  # type: ignore[type-var]

    def wrap(self, env: gym.Env, weights: Sequence[float] | np.ndarray | None = None) -> gym.Env:
        """Wrap ``env``; ``weights`` (one per reward model of ``env``) default to the paper's."""
        return self._wrap(env, resolve_weights(weights, env.get_wrapper_attr("reward_names"), env))


def resolve_weights(
    weights: Sequence[float] | np.ndarray | None, reward_names: Sequence[str], env: gym.Env | None = None
) -> np.ndarray:
    """Check ``weights`` against the reward models they weight; ``None`` gives the paper's weights.

    Example:
        >>> resolve_weights([0.3, 0.5], ["relevance", "factuality", "completeness"])
        Traceback (most recent call last):
        ...
        fg_env.errors.InvalidValueError: --weights needs 3 values, one per reward model (relevance, factuality, completeness); got 2: [0.3, 0.5]
    """
    names = list(reward_names)
    if weights is None:
        if env is not None:
            return np.asarray(env.get_wrapper_attr("default_weights"), dtype=np.float32)
        return paper_weights(names)
    values = [float(w) for w in weights]
    if len(values) != len(names):
        raise InvalidValueError(
            f"--weights needs {len(names)} values, one per reward model ({', '.join(names)}); "
            f"got {len(values)}: {values}"
        )
    if not all(np.isfinite(values)):
        raise InvalidValueError(f"--weights must be finite numbers, got {values}")
    return np.asarray(values, dtype=np.float32)


def _leave_out(name: str) -> Callable[[gym.Env, np.ndarray], gym.Env]:
    def wrap(env: gym.Env, weights: np.ndarray) -> gym.Env:
        names = list(env.get_wrapper_attr("reward_names"))
        if name not in names:
            raise UnknownChoiceError("reward model to leave out", name, names)
        kept = [n for n in names if n != name]
        kept_weights = [w for n, w in zip(names, weights.tolist()) if n != name]
        return LinearScalarization(SelectRewards(env, kept), kept_weights)

    return wrap


SCHEMES: dict[str, RewardScheme] = {
    s.name: s
    for s in (
        RewardScheme(
            "fine-grained",
            "each reward model at its own granularity, weighted (the paper)",
            lambda env, w: LinearScalarization(env, w),
        ),
        RewardScheme(
            "holistic",
            "one scalar on the final token: the weighted sum of the episode's rewards",
            lambda env, w: HolisticReward(env, w),
        ),
        RewardScheme(
            "sentence",
            "fine-grained with sub-sentence rewards merged per sentence",
            lambda env, w: LinearScalarization(RewardDensity(env, "sentence"), w),
        ),
        RewardScheme(
            "episode",
            "fine-grained rewards held back to the answer's end, one per model",
            lambda env, w: LinearScalarization(RewardDensity(env, "episode"), w),
        ),
        RewardScheme("no-relevance", "fine-grained without the relevance reward", _leave_out("relevance")),
        RewardScheme("no-factuality", "fine-grained without the factuality reward", _leave_out("factuality")),
        RewardScheme("no-completeness", "fine-grained without the completeness reward", _leave_out("completeness")),
        RewardScheme(
            "fine-grained-normalized",
            "fine-grained, each reward model normalised over the question's answers before the weighted sum (GDPO)",
            lambda env, w: LinearScalarization(env, w),
            trainer_settings={"reward_normalization": "per-component"},
        ),
    )
}


def get_scheme(name: str) -> RewardScheme:
    """The scheme called ``name``; an unknown name raises an error listing the valid ones."""
    if name not in SCHEMES:
        raise UnknownChoiceError("reward scheme", name, list(SCHEMES))
    return SCHEMES[name]
