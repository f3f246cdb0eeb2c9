"""The native vector environment of any env of the core: ``gym.make_vec("FineGrainedQA-v0", num_envs=N)``.

N answers are written side by side. The reward models are built once and shared by the N sub-envs,
and each step makes **one** ``score`` call per reward model for all N sub-envs together (a learned
model then runs one padded forward pass per step instead of N), which is what Gymnasium's
``SyncVectorEnv`` cannot do: it steps each copy on its own, and it holds one scalar reward per env.

Conventions (Gymnasium 1.x):

- Rewards: float32, shape ``(N, K)``, one row per sub-env, one column per reward model. Sub-envs
  wrapped by a scalarising wrapper (``env_wrappers=[LinearScalarization]``) give shape ``(N,)``.
- Observations: a dict of tuples (``obs["response"][i]`` is sub-env ``i``'s answer so far), as
  Gymnasium batches ``Text`` spaces.
- Infos: stacked as ``VectorEnv._add_info`` stacks them (:func:`stack_infos`) (``info["reward_mask"]`` has shape ``(N, K)``,
  ``info["segments"]`` is an object array of per-env lists), each key with its ``_key`` mask.
- Autoreset: ``AutoresetMode.NEXT_STEP`` (Gymnasium's default). The step that ends sub-env ``i``'s
  answer returns its final answer as usual, with ``terminated[i]`` or ``truncated[i]``; the next
  ``step`` resets it (its action is ignored) and returns the new question's observation with a zero
  reward and the reset's info. So a finished episode's final observation and info are those of the
  step that ended it: nothing moves to a ``final_obs`` key.
- Seeding: ``reset(seed=s)`` seeds sub-env ``i`` with ``s + i`` (a list gives one seed per env);
  ``options={"index": [i_0, ..., i_{N-1}]}`` or ``{"example_id": [...]}`` picks each one's question
  (a single value applies to every sub-env); ``options={"reset_mask": mask}`` resets only some.
- Stepping some sub-envs only (EnvPool's ``env_id``): ``step(actions, env_ids=[...])`` steps just
  those, and returns arrays in their order with ``info["env_id"]``. Answers of different lengths are
  then replayed side by side without padding actions (:func:`fg_env.envs.answers.play_answers`).

Sub-envs may be wrapped (``env_wrappers=[...]``, or :meth:`FineGrainedVectorEnv.from_env` copies a
wrapped env's whole stack): reward-shaping wrappers then act per sub-env exactly as on a single env,
while scoring stays batched. The vector env plans each sub-env's step, scores all of them, hands
each sub-env its scores (:meth:`FineGrainedEnv.prescore <fg_env.envs.core.FineGrainedEnv.prescore>`),
then steps it through its wrappers. A wrapper that rewrites the action text makes that sub-env score
on its own: slower, never wrong.

:class:`FineGrainedVectorEnv` steps any environment of the core (:class:`~fg_env.envs.core.FineGrainedEnv`),
built by the ``env_factory`` it is given; :class:`FineGrainedQAVectorEnv` is FineGrainedQA-v0's,
registered as its ``vector_entry_point``.

Example:
    >>> import gymnasium as gym, fg_env
    >>> envs = gym.make_vec("FineGrainedQA-v0", num_envs=3, max_sentences=4)
    >>> obs, info = envs.reset(seed=0)
    >>> rewards = envs.step(["Harlow Bridge is a film.", "", "It rained."])[1]
    >>> rewards.shape, rewards.dtype.name
    ((3, 3), 'float32')
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Sequence
from typing import Any, Generic

import gymnasium as gym
import numpy as np
from gymnasium import spaces
from gymnasium.vector import AutoresetMode, VectorEnv
from gymnasium.vector.utils import batch_space, concatenate, create_empty_array
from typing_extensions import Self, TypeVar

from fg_env.envs.core import FineGrainedEnv, core_env, score_checked
from fg_env.envs.qa import FineGrainedQAEnv
from fg_env.errors import InvalidTypeError, InvalidValueError, ResetNeededError
from fg_env.rewards.base import RewardModel, ScoringRequest, SegmentScore
from fg_env.rewards.vector import RewardComponent, RewardVectorFacts, is_scalarised
from fg_env.spaces import UnicodeText
from fg_env.types import Observation

__all__ = ["FineGrainedQAVectorEnv", "FineGrainedVectorEnv", "copy_env", "stack_infos"]

EnvWrapper = Callable[[gym.Env], gym.Env]
#: The sub-envs' core class: FineGrainedQAEnv for FineGrainedQAVectorEnv, any env of the core by default.
CoreEnvT = TypeVar("CoreEnvT", bound=FineGrainedEnv[Any], default=FineGrainedEnv[Any])


class FineGrainedVectorEnv(RewardVectorFacts, VectorEnv, Generic[CoreEnvT]):
    """N environments of the core stepped together, their segments scored in one call per reward model.

    ``env_factory(**env_kwargs)`` builds the first sub-env (a :class:`~fg_env.envs.core.FineGrainedEnv`,
    usually its class); the others are copies of it that share what it declares heavy
    (:meth:`~fg_env.envs.core.FineGrainedEnv.shared_parts`: its examples, its reward models, a task's
    dataset), so the reward models are made once. ``env_wrappers`` wrap each sub-env, in order
    (Gymnasium's ``wrappers=`` of ``make_vec`` is refused for native vector envs, hence the other
    name); they must keep the action a string. ``core_envs[i]`` is sub-env ``i`` without its wrappers.

    A task registers it as its ``vector_entry_point`` with its factory bound, e.g.
    ``functools.partial(FineGrainedVectorEnv, env_factory=MyEnv)``, as ``tests/test_second_env.py`` does.

    Example:
        >>> from fg_env.envs.qa import FineGrainedQAEnv
        >>> envs = FineGrainedVectorEnv(3, FineGrainedQAEnv, max_sentences=4)
        >>> _ = envs.reset(seed=0)
        >>> envs.step(["Harlow Bridge is a film.", "", "It rained."])[1].shape
        (3, 3)
        >>> envs.core_envs[1].reward_models is envs.core_envs[0].reward_models
        True
    """

    metadata = {"autoreset_mode": AutoresetMode.NEXT_STEP, "render_modes": []}
    #: What every sub-env is, under its wrappers (checked when the vector env is built).
    core_class: type[FineGrainedEnv[Any]] = FineGrainedEnv

    def __init__(
        self,
        num_envs: int,
        env_factory: Callable[..., CoreEnvT],
        *,
        env_wrappers: Sequence[EnvWrapper] = (),
        **env_kwargs: Any,
    ) -> None:
        _check_num_envs(num_envs)
        if env_kwargs.get("render_mode") is not None:
            raise InvalidValueError("the vector environment does not render; render a single environment instead")
        first = env_factory(**env_kwargs)
        self._check_core(first)
        # The copies are made before any reset, so each is what env_factory(**env_kwargs) would build,
        # sharing the first one's heavy parts instead of building them again.
        bare = [first] + [copy_env(first) for _ in range(num_envs - 1)]
        self._set_up([_wrap(env, env_wrappers) for env in bare])

    @classmethod
    def from_env(cls, env: gym.Env, num_envs: int) -> Self:
        """``num_envs`` copies of ``env`` (an env of the core under any wrappers) stepped together.

        Each copy has ``env``'s whole wrapper stack, but shares its heavy parts and every reward model
        in it (the environment's and any a wrapper holds), so no model is copied. ``env`` is not changed.

        Example:
            >>> import gymnasium as gym, fg_env
            >>> from fg_env.wrappers import HolisticReward
            >>> envs = FineGrainedVectorEnv.from_env(HolisticReward(gym.make("FineGrainedQA-v0")), 4)
            >>> envs.num_envs, envs.segment_weights
            (4, {'holistic': 1.0})
        """
        _check_num_envs(num_envs)
        cls._check_core(env)
        vector = cls.__new__(cls)
        vector._set_up([copy_env(env) for _ in range(num_envs)])
        return vector

    @classmethod
    def _check_core(cls, env: gym.Env) -> None:
        if not isinstance(env.unwrapped, cls.core_class):
            raise InvalidTypeError(
                f"{cls.__name__} steps {cls.core_class.__name__} environments (under any wrappers), "
                f"got {type(env.unwrapped).__name__}"
            )

    def _set_up(self, envs: list[gym.Env]) -> None:
        first = envs[0]
        if not isinstance(first.action_space, UnicodeText):
            raise InvalidTypeError(
                f"the native vector env steps text actions, but its wrapped sub-env takes {first.action_space}: "
                "vectorise such a view with gym.vector.SyncVectorEnv (or SB3's DummyVecEnv) instead"
            )
        self.envs = envs
        self.core_envs: list[CoreEnvT] = [env.unwrapped for env in envs]  # type: ignore[misc]
        self.num_envs = len(envs)
        self.reward_models: tuple[RewardModel, ...] = self.core_envs[0].reward_models
        self.scalar_reward = is_scalarised(first)
        if self.scalar_reward:
            self.segment_weights = dict(first.get_wrapper_attr("segment_weights"))
        else:
            self._components = tuple(first.get_wrapper_attr("reward_components"))
        self.single_observation_space = first.observation_space
        self.single_action_space = first.action_space
        self.observation_space = batch_space(self.single_observation_space, self.num_envs)
        space = self.single_observation_space
        self._text_keys: tuple[str, ...] | None = None
        if isinstance(space, spaces.Dict) and all(isinstance(s, spaces.Text) for s in space.spaces.values()):
            self._text_keys = tuple(space.spaces)
        self.action_space = batch_space(self.single_action_space, self.num_envs)
        self._env_obs: list[Observation | None] = [None] * self.num_envs
        self._autoreset = np.zeros(self.num_envs, dtype=bool)
        self._started = np.zeros(self.num_envs, dtype=bool)

    @property
    def reward_components(self) -> tuple[RewardComponent, ...]:  # type: ignore[override]
        """The components of the reward vector each sub-env returns (none once it is scalarised)."""
        if self.scalar_reward:
            raise AttributeError("the sub-envs return a scalar reward (scalarised): it has no reward components")
        return self._components

    @property
    def reward_versions(self) -> dict[str, str | None]:
        """``{reward model name: version}`` of the sub-envs' shared reward models (as a single env's)."""
        return {model.name: model.version for model in self.reward_models}

    @property
    def reward_shape(self) -> tuple[int, ...]:
        """The shape of one step's rewards: ``(N, K)``, or ``(N,)`` for scalarised sub-envs."""
        return (self.num_envs,) if self.scalar_reward else (self.num_envs, len(self._components))

    @property
    def started(self) -> np.ndarray:
        """Which sub-envs have been reset at least once (a copy): ``reset_mask`` must include the others."""
        return self._started.copy()

    # ------------------------------------------------------------------------------------ reset

    def reset(
        self, *, seed: int | Sequence[int | None] | None = None, options: dict[str, Any] | None = None
    ) -> tuple[dict[str, tuple[str, ...]], dict[str, Any]]:
        options = dict(options or {})
        mask = self._reset_mask(options.pop("reset_mask", None))
        seeds = self._seeds(seed)
        indices = np.flatnonzero(mask).tolist()
        per_env = self._per_env_options(options, indices)
        rows: list[tuple[int, dict[str, Any]]] = []
        for i, env_options in zip(indices, per_env):
            self._env_obs[i], info = self.envs[i].reset(seed=seeds[i], options=env_options)
            rows.append((i, info))
        infos = stack_infos(rows, self.num_envs)
        self._autoreset[mask] = False
        self._started[mask] = True
        return self._batch(list(range(self.num_envs))), infos

    def _reset_mask(self, mask: Any) -> np.ndarray:
        """Which sub-envs to reset: Gymnasium's ``options["reset_mask"]`` (a bool array), else all."""
        if mask is None:
            return np.ones(self.num_envs, dtype=bool)
        if not isinstance(mask, np.ndarray) or mask.dtype != np.bool_ or mask.shape != (self.num_envs,):
            raise InvalidValueError(
                f"options['reset_mask'] must be a numpy bool array of shape ({self.num_envs},), got {mask!r}"
            )
        if not self._started.all() and not mask[~self._started].all():
            unstarted = np.flatnonzero(~self._started & ~mask).tolist()
            raise ResetNeededError(f"reset_mask leaves sub-envs {unstarted} that were never reset: reset them too")
        return mask

    def _seeds(self, seed: int | Sequence[int | None] | None) -> list[int | None]:
        if seed is None:
            return [None] * self.num_envs
        if isinstance(seed, (int, np.integer)):
            return [int(seed) + i for i in range(self.num_envs)]
        seeds = list(seed)
        if len(seeds) != self.num_envs:
            raise InvalidValueError(f"reset(seed=...) got {len(seeds)} seeds for {self.num_envs} environments")
        return seeds

    def _per_env_options(self, options: dict[str, Any], indices: list[int]) -> list[dict[str, Any]]:
        """The reset options of sub-envs ``indices``: sequences (one value per sub-env) are spread,
        other values shared."""
        spread: list[dict[str, Any]] = [{} for _ in indices]
        for key, value in options.items():
            if isinstance(value, (list, tuple, np.ndarray)):
                if len(value) != self.num_envs:
                    raise InvalidValueError(
                        f"reset option {key!r} has {len(value)} values for {self.num_envs} environments"
                    )
                for env_options, i in zip(spread, indices):
                    v = value[i]
                    env_options[key] = v.item() if isinstance(v, np.generic) else v
            else:
                for env_options in spread:
                    env_options[key] = value
        return spread

    # ------------------------------------------------------------------------------------ step

    def step(
        self, actions: Sequence[str], env_ids: Sequence[int] | np.ndarray | None = None
    ) -> tuple[dict[str, tuple[str, ...]], np.ndarray, np.ndarray, np.ndarray, dict[str, Any]]:
        """Step every sub-env (or only ``env_ids``, one action each, results in their order)."""
        ids = self._check_env_ids(env_ids)
        actions = self._check_actions(actions, ids)
        stepping = [(i, a) for i, a in zip(ids, actions) if not self._autoreset[i]]
        self._prescore(stepping)

        rewards = np.zeros((len(ids), *self.reward_shape[1:]), dtype=np.float64 if self.scalar_reward else np.float32)
        terminated = np.zeros(len(ids), dtype=bool)
        truncated = np.zeros(len(ids), dtype=bool)
        rows: list[tuple[int, dict[str, Any]]] = []
        for row, (i, action) in enumerate(zip(ids, actions)):
            if self._autoreset[i]:
                self._env_obs[i], info = self.envs[i].reset()
            else:
                self._env_obs[i], rewards[row], terminated[row], truncated[row], info = self.envs[i].step(action)
            rows.append((row, info))
        infos = stack_infos(rows, len(ids))
        self._autoreset[ids] = terminated | truncated
        if env_ids is not None:
            infos["env_id"] = np.asarray(ids)
        return self._batch(ids), rewards, terminated, truncated, infos

    def _check_env_ids(self, env_ids: Sequence[int] | np.ndarray | None) -> list[int]:
        if env_ids is None:
            ids = list(range(self.num_envs))
        else:
            ids = [int(i) for i in np.asarray(env_ids, dtype=np.int64).reshape(-1)]
            if any(not 0 <= i < self.num_envs for i in ids) or len(set(ids)) != len(ids):
                raise InvalidValueError(
                    f"env_ids must be distinct sub-env indices in 0..{self.num_envs - 1}, got {ids}"
                )
        if not all(self._started[ids]):
            raise ResetNeededError("step() before reset(): call reset() to start the episodes")
        return ids

    def _check_actions(self, actions: Sequence[str], ids: list[int]) -> list[str]:
        """Every misuse is reported before any sub-env changes."""
        if isinstance(actions, str):
            raise InvalidTypeError(
                f"step() takes one action per environment (a sequence of {len(ids)} strings), got one str"
            )
        actions = list(actions)
        if len(actions) != len(ids):
            raise InvalidValueError(f"step() got {len(actions)} actions for {len(ids)} environments")
        for i, action in zip(ids, actions):
            if not self._autoreset[i]:
                self.core_envs[i].check_step(action)
        return actions

    def _prescore(self, stepping: list[tuple[int, str]]) -> None:
        """Plan each stepping sub-env's step, score all of them with one call per reward model, and
        hand each sub-env its scores for the step it is about to take."""
        plans = {i: self.core_envs[i].plan(action) for i, action in stepping}
        requests = {i: self.core_envs[i].scoring_requests(plans[i]) for i in plans}
        scores = self._score_together(requests)
        for i, action in stepping:
            self.core_envs[i].prescore(action, plans[i], requests[i], scores[i])

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

    def _batch(self, ids: list[int]) -> Any:
        observations = [self._env_obs[i] for i in ids]
        if self._text_keys is not None:
            # The environment's own observation (a Dict of texts): what Gymnasium's concatenate gives, a
            # tuple of strings per key, built directly (its generic path costs more than a step here).
            return {key: tuple(obs[key] for obs in observations) for key in self._text_keys}  # type: ignore[index]
        out = create_empty_array(self.single_observation_space, len(ids))
        return concatenate(self.single_observation_space, observations, out)  # type: ignore[arg-type]

    def close_extras(self, **kwargs: Any) -> None:
        for env in self.envs:
            env.close()


class FineGrainedQAVectorEnv(FineGrainedVectorEnv[FineGrainedQAEnv]):
    """N FineGrainedQA environments stepped together: ``gym.make_vec("FineGrainedQA-v0", num_envs=N)``.

    Takes :class:`~fg_env.envs.qa.FineGrainedQAEnv`'s arguments (``dataset``, ``split``,
    ``reward_models``, ``max_sentences``, ...) besides ``num_envs`` and ``env_wrappers``; the dataset
    and the reward models are made once and shared (:class:`FineGrainedVectorEnv`).

    Example:
        >>> from fg_env.wrappers import LinearScalarization
        >>> envs = FineGrainedQAVectorEnv(num_envs=2, env_wrappers=[LinearScalarization])
        >>> _ = envs.reset(seed=1, options={"index": [0, 5]})
        >>> envs.step(["Harlow Bridge is a film.", ""])[1].shape, envs.segment_weights["factuality"]
        ((2,), 0.5)
    """

    core_class = FineGrainedQAEnv

    def __init__(self, num_envs: int = 1, *, env_wrappers: Sequence[EnvWrapper] = (), **env_kwargs: Any) -> None:
        super().__init__(num_envs, FineGrainedQAEnv, env_wrappers=env_wrappers, **env_kwargs)


def stack_infos(rows: Sequence[tuple[int, dict[str, Any]]], size: int) -> dict[str, Any]:
    """Sub-envs' infos stacked as Gymnasium's ``VectorEnv._add_info`` stacks them, in one pass.

    ``rows`` holds ``(row, info)`` pairs. Each key becomes an array of ``size`` (numbers: their type;
    numpy arrays: ``(size, *shape)`` of their dtype; anything else: objects) with the boolean mask
    ``_key`` of the rows that have it; nested dicts are stacked the same way; the type is the first
    row's, as Gymnasium's is.

    Example:
        >>> infos = stack_infos([(0, {"n": 2, "tag": "a"}), (2, {"n": 5})], 3)
        >>> infos["n"].tolist(), infos["_n"].tolist(), infos["tag"].tolist()
        ([2, 0, 5], [True, False, True], ['a', None, None])
    """
    by_key: dict[str, tuple[list[int], list[Any]]] = {}
    for row, info in rows:
        for key, value in info.items():
            found = by_key.get(key)
            if found is None:
                by_key[key] = ([row], [value])
            else:
                found[0].append(row)
                found[1].append(value)
    out: dict[str, Any] = {}
    for key, (where, values) in by_key.items():
        every_row = len(where) == size  # the usual case: rows 0..size-1 all have the key, in order
        first = values[0]
        kind = type(first)
        if kind is dict and key != "final_obs":
            array: Any = stack_infos(list(zip(where, values)), size)
        elif key != "final_obs" and (kind in (int, float, bool) or isinstance(first, np.number)):
            if every_row:
                array = np.array(values, dtype=kind)
            else:
                array = np.zeros(size, dtype=kind)
                array[where] = values
        elif key != "final_obs" and kind is np.ndarray:
            if every_row and all(v.shape == first.shape for v in values):
                array = np.stack(values).astype(first.dtype, copy=False)
            else:
                array = np.zeros((size, *first.shape), dtype=first.dtype)
                for row, value in zip(where, values):
                    array[row] = value
        else:
            array = np.empty(size, dtype=object)
            if not every_row:
                array.fill(None)
            for row, value in zip(where, values):
                array[row] = value
        if every_row:
            mask = np.ones(size, dtype=np.bool_)
        else:
            mask = np.zeros(size, dtype=np.bool_)
            mask[where] = True
        out[key], out[f"_{key}"] = array, mask
    return out


def _check_num_envs(num_envs: Any) -> None:
    if not isinstance(num_envs, int) or isinstance(num_envs, bool) or num_envs < 1:
        raise InvalidValueError(f"num_envs must be a positive integer, got {num_envs!r}")


def _wrap(env: gym.Env, wrappers: Sequence[EnvWrapper]) -> gym.Env:
    for wrapper in wrappers:
        env = wrapper(env)
    return env


def copy_env(env: gym.Env) -> gym.Env:
    """A deep copy of ``env`` (an env of the core under any wrappers, mid-episode or not) that shares
    its heavy parts (:meth:`~fg_env.envs.core.FineGrainedEnv.shared_parts`: examples, reward models, a
    task's dataset) and any reward model a wrapper holds: stepping the copy leaves ``env`` where it was.

    Example:
        >>> import gymnasium as gym, fg_env
        >>> env = gym.make("FineGrainedQA-v0")
        >>> _ = env.reset(seed=0)
        >>> twin = copy_env(env)
        >>> _ = twin.step(" It is a film.")
        >>> env.unwrapped.response, twin.unwrapped.reward_models is env.unwrapped.reward_models
        ('', True)
    """
    parts: list[Any] = core_env(env).shared_parts()
    layer: gym.Env = env
    while isinstance(layer, gym.Wrapper):
        parts += [value for value in vars(layer).values() if isinstance(value, RewardModel)]
        layer = layer.env
    return copy.deepcopy(env, {id(part): part for part in parts})
