"""Stable-Baselines3 policies that score each candidate sentence with one shared network.

The candidate view (:class:`fg_env.wrappers.CandidateSentences`) gives SB3 a ``Discrete(N + 1)`` action
(candidate slot ``i``, or end the answer) and a flat ``Box`` observation (question, answer so far,
progress, then each slot's features and signals). SB3's ``MlpPolicy`` reads that vector flattened: it
must learn "is this sentence relevant to the question" once for every slot, from slots shuffled every
episode, and it does not learn the task. The policies here score every (state, slot) pair with one
network shared by all slots, as the Deep Reinforcement Relevance Network does for choice-based text
games (He et al., 2016), and take a softmax (or, for DQN, an arg-max of Q) over the slots and the end:

- :class:`CandidateScoringPolicy`: for ``PPO`` and ``A2C`` (an ``ActorCriticPolicy``);
- :class:`MaskableCandidateScoringPolicy`: for sb3-contrib's ``MaskablePPO``;
- :class:`CandidateDQNPolicy`: for ``DQN`` (its Q-network, :class:`CandidateQNetwork`, is the scorer);
- :class:`CandidatePPOSettings`: PPO settings under which the policy learns the task (measured), and
  :func:`candidate_ppo` which builds that PPO;
- :class:`CandidateLayout`: where each part of an observation lies, read from the view's spaces.

Each policy reads the layout from the observation and action spaces SB3 hands it, so nothing about the
view is passed twice; an observation of another layout (another ``num_candidates`` or featuriser) is
refused with a message naming both layouts. Padding slots (``valid`` signal 0) never get probability:
their logit is :data:`MASKED_LOGIT`, so even plain PPO and A2C never pick one.

The network (:class:`CandidateScorer`): a state encoder over (question, answer, progress); a slot
encoder over (slot features, slot x question, slot x answer, the slot's signals) -- the element-wise
products are the pairwise features that let one layer see "this sentence shares words with the
question"; a score head over (slot embedding, state embedding, their product) giving one logit per
slot; an end head over the state embedding and a mean- and max-pool of the valid slots' embeddings.
The critic's summary is the same permutation-invariant pool, so permuting the slots permutes the
action distribution and leaves the value unchanged.

Needs the ``sb3`` extra: ``pip install "fg-env[sb3]"``.

Example:
    >>> import gymnasium as gym, fg_env
    >>> from stable_baselines3 import PPO
    >>> from fg_env.wrappers import CandidateSentences, LinearScalarization
    >>> from fg_env.features import HashingFeaturizer
    >>> env = LinearScalarization(CandidateSentences(gym.make("FineGrainedQA-v0"), num_candidates=8,
    ...                                              featurizer=HashingFeaturizer(dim=16)))
    >>> model = PPO(CandidateScoringPolicy, env, n_steps=64, batch_size=32, n_epochs=1, seed=0, device="cpu")
    >>> model.policy.layout
    CandidateLayout(num_candidates=8, dim=16, num_signals=5)
    >>> _ = model.learn(64)
    >>> action, _ = model.predict(env.reset(seed=0)[0], deterministic=True)
    >>> 0 <= int(action) <= 8
    True
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import partial
from typing import Any

import gymnasium as gym
import numpy as np
import torch
from gymnasium import spaces
from torch import nn

from fg_env.errors import InvalidTypeError, InvalidValueError, MissingDependencyError
from fg_env.wrappers.candidates import SIGNAL_NAMES

try:
    from sb3_contrib.common.maskable.policies import MaskableActorCriticPolicy
    from stable_baselines3.common.policies import ActorCriticPolicy, BasePolicy
    from stable_baselines3.common.torch_layers import BaseFeaturesExtractor, FlattenExtractor
    from stable_baselines3.common.type_aliases import PyTorchObs, Schedule
    from stable_baselines3.dqn.policies import DQNPolicy, QNetwork
except ImportError as error:  # pragma: no cover - the sb3 extra is optional
    raise MissingDependencyError(
        'the Stable-Baselines3 policies need stable-baselines3 and sb3-contrib: pip install "fg-env[sb3]"'
    ) from error

__all__ = [
    "MASKED_LOGIT",
    "CandidateDQNPolicy",
    "CandidateLayout",
    "CandidatePPOSettings",
    "CandidateQNetwork",
    "CandidateScorer",
    "CandidateScoringPolicy",
    "MaskableCandidateScoringPolicy",
    "candidate_ppo",
]

#: The logit of a padding slot. Finite, as sb3-contrib's masking uses (-1e8): ``-inf`` would make the
#: entropy's ``p * log p`` a NaN; ``exp(-1e8)`` is exactly 0 in float32, so the probability is 0.
MASKED_LOGIT = -1e8
_VALID = SIGNAL_NAMES.index("valid")


# ----------------------------------------------------------------------------------------------------
# the layout of an observation
# ----------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class CandidateLayout:
    """Where each part of a :class:`~fg_env.wrappers.CandidateSentences` observation lies.

    An observation is ``[question (dim), answer (dim), progress (1)]`` (the head) followed by
    ``num_candidates`` rows of ``[features (dim), signals (num_signals)]``. The view's spaces determine
    the layout: the action space gives ``num_candidates`` (``n - 1``), and then the observation size
    gives ``dim`` (:meth:`from_spaces`).

    Example:
        >>> layout = CandidateLayout(num_candidates=24, dim=64)
        >>> layout.head, layout.row_width, layout.size
        (129, 69, 1785)
        >>> CandidateLayout.from_spaces(spaces.Box(-1, 1, (1785,)), spaces.Discrete(25)) == layout
        True
        >>> CandidateLayout.from_size(681, near=layout)  # an observation of another view
        CandidateLayout(num_candidates=8, dim=64, num_signals=5)
    """

    num_candidates: int
    dim: int
    num_signals: int = len(SIGNAL_NAMES)

    def __post_init__(self) -> None:
        for name in ("num_candidates", "dim", "num_signals"):
            value = getattr(self, name)
            if not isinstance(value, (int, np.integer)) or isinstance(value, bool) or value < 1:
                raise InvalidValueError(f"CandidateLayout.{name} must be a positive integer, got {value!r}")

    @property
    def head(self) -> int:
        """Floats before the first slot: question, answer, progress."""
        return 2 * self.dim + 1

    @property
    def row_width(self) -> int:
        """Floats per slot: its features and its signals."""
        return self.dim + self.num_signals

    @property
    def size(self) -> int:
        """Floats in one observation."""
        return self.head + self.num_candidates * self.row_width

    @property
    def num_actions(self) -> int:
        """The slots and the end action (the last)."""
        return self.num_candidates + 1

    def describe(self) -> str:
        """One line for error messages: the two numbers a user chose, and the size they give."""
        return f"num_candidates={self.num_candidates}, featuriser dim={self.dim} ({self.size} floats)"

    @classmethod
    def from_spaces(cls, observation_space: spaces.Space, action_space: spaces.Space) -> CandidateLayout:
        """The layout of the view whose spaces these are (what SB3 hands a policy)."""
        if not isinstance(action_space, spaces.Discrete) or int(action_space.n) < 2:
            raise InvalidTypeError(
                "a candidate-scoring policy acts in CandidateSentences' Discrete(num_candidates + 1) action space, "
                f"got {action_space}"
            )
        if not isinstance(observation_space, spaces.Box) or len(observation_space.shape) != 1:
            raise InvalidTypeError(
                "a candidate-scoring policy reads CandidateSentences' flat Box observation, "
                f"got {observation_space}: wrap the environment in fg_env.wrappers.CandidateSentences"
            )
        num_candidates, size = int(action_space.n) - 1, int(observation_space.shape[0])
        signals = len(SIGNAL_NAMES)
        dim, remainder = divmod(size - 1 - num_candidates * signals, num_candidates + 2)
        if remainder or dim < 1:
            raise InvalidValueError(
                f"an observation of {size} floats with {num_candidates} candidate slots is not a CandidateSentences "
                f"layout (2 * dim + 1 + num_candidates * (dim + {signals}) floats for some dim)"
            )
        return cls(num_candidates, dim, signals)

    @classmethod
    def from_env(cls, env: gym.Env) -> CandidateLayout:
        """The layout of ``env``: a candidate view, or a stack of wrappers over one."""
        return cls.from_spaces(env.observation_space, env.action_space)

    @classmethod
    def from_size(cls, size: int, near: CandidateLayout | None = None) -> CandidateLayout | None:
        """A layout whose observations have ``size`` floats, preferring one that shares ``num_candidates``
        or ``dim`` with ``near`` (a size alone can fit several); None when no layout fits."""
        signals = near.num_signals if near is not None else len(SIGNAL_NAMES)
        fits = []
        for num_candidates in range(1, max(size, 1)):
            dim, remainder = divmod(size - 1 - num_candidates * signals, num_candidates + 2)
            if dim >= 1 and not remainder:
                fits.append(cls(num_candidates, dim, signals))
        if not fits:
            return None
        if near is not None:
            for layout in fits:
                if layout.num_candidates == near.num_candidates or layout.dim == near.dim:
                    return layout
        return fits[0]

    def check(self, size: int) -> None:
        """Raise :class:`~fg_env.errors.InvalidValueError` naming both layouts unless an observation of
        ``size`` floats is one of this layout."""
        if size == self.size:
            return
        other = CandidateLayout.from_size(size, near=self)
        theirs = f"the layout {other.describe()}" if other is not None else "no candidate-view layout"
        raise InvalidValueError(
            f"this policy was built for the candidate layout {self.describe()} but got an observation of "
            f"{size} floats ({theirs}): a policy acts only in views with the layout it was built for"
        )


# ----------------------------------------------------------------------------------------------------
# the network
# ----------------------------------------------------------------------------------------------------


def _mlp(sizes: list[int], activation_fn: type[nn.Module], last_activation: bool = True) -> nn.Sequential:
    layers: list[nn.Module] = []
    for i, (fan_in, fan_out) in enumerate(zip(sizes, sizes[1:])):
        layers.append(nn.Linear(fan_in, fan_out))
        if last_activation or i < len(sizes) - 2:
            layers.append(activation_fn())
    return nn.Sequential(*layers)


class SlotEncoder(nn.Module):
    """Embeds the state (question, answer, progress) and every slot (features, products with the
    question and the answer, signals) with two MLPs, the slot one shared by every slot."""

    def __init__(self, layout: CandidateLayout, hidden_size: int, activation_fn: type[nn.Module]) -> None:
        super().__init__()
        self.layout = layout
        self.state = _mlp([layout.head, hidden_size, hidden_size], activation_fn)
        self.slot = _mlp([3 * layout.dim + layout.num_signals, hidden_size, hidden_size], activation_fn)

    def forward(self, obs: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """``(state (B, H), slots (B, N, H), valid (B, N) bool)`` of a batch of observations ``(B, size)``."""
        layout, dim = self.layout, self.layout.dim
        layout.check(int(obs.shape[-1]))
        question, answer = obs[:, :dim], obs[:, dim : 2 * dim]
        rows = obs[:, layout.head :].reshape(obs.shape[0], layout.num_candidates, layout.row_width)
        features, signals = rows[..., :dim], rows[..., dim:]
        slot_input = torch.cat(
            [features, features * question.unsqueeze(1), features * answer.unsqueeze(1), signals], dim=-1
        )
        valid = signals[..., _VALID] > 0.5
        return self.state(obs[:, : layout.head]), self.slot(slot_input), valid


def _pool(slots: torch.Tensor, valid: torch.Tensor) -> torch.Tensor:
    """Mean and max of the valid slots' embeddings, ``(B, 2H)``: permutation-invariant, and zeros for a
    state with no candidate (nothing to pool)."""
    weights = valid.unsqueeze(-1).to(slots.dtype)
    count = weights.sum(dim=1)
    mean = (slots * weights).sum(dim=1) / count.clamp(min=1.0)
    largest = slots.masked_fill(~valid.unsqueeze(-1), torch.finfo(slots.dtype).min).amax(dim=1)
    largest = torch.where(count > 0, largest, torch.zeros_like(largest))
    return torch.cat([mean, largest], dim=-1)


class CandidateScorer(nn.Module):
    """One logit per candidate slot and one for the end action, ``(B, N + 1)``, from one network shared
    by every slot; padding slots get :data:`MASKED_LOGIT`.

    A slot's logit is ``score([slot, state, slot * state])``; the end's is ``end([state, pool(slots)])``
    where the pool is the mean and max of the valid slots' embeddings. So the logits are equivariant to
    a permutation of the slots (the end's invariant).

    Example:
        >>> layout = CandidateLayout(num_candidates=3, dim=4)
        >>> scorer = CandidateScorer(layout, hidden_size=8)
        >>> obs = torch.zeros(2, layout.size)
        >>> obs[:, layout.head + layout.dim] = 1.0  # slot 0 is a candidate; slots 1 and 2 are padding
        >>> logits = scorer(obs)
        >>> logits.shape, bool((logits[:, 1:3] == MASKED_LOGIT).all())
        (torch.Size([2, 4]), True)
    """

    def __init__(
        self, layout: CandidateLayout, hidden_size: int = 64, activation_fn: type[nn.Module] = nn.ReLU
    ) -> None:
        super().__init__()
        self.layout = layout
        self.encoder = SlotEncoder(layout, hidden_size, activation_fn)
        self.score = nn.Sequential(_mlp([3 * hidden_size, hidden_size], activation_fn), nn.Linear(hidden_size, 1))
        self.end = nn.Sequential(_mlp([3 * hidden_size, hidden_size], activation_fn), nn.Linear(hidden_size, 1))

    @property
    def output_layers(self) -> list[nn.Linear]:
        """The two last layers (logits), which SB3's initialisation scales down to start near uniform."""
        return [self.score[-1], self.end[-1]]  # type: ignore[list-item]

    def forward(self, obs: torch.Tensor) -> torch.Tensor:
        state, slots, valid = self.encoder(obs)
        expanded = state.unsqueeze(1).expand_as(slots)
        slot_logits = self.score(torch.cat([slots, expanded, slots * expanded], dim=-1)).squeeze(-1)
        slot_logits = slot_logits.masked_fill(~valid, MASKED_LOGIT)
        end_logit = self.end(torch.cat([state, _pool(slots, valid)], dim=-1))
        return torch.cat([slot_logits, end_logit], dim=-1)


class CandidateCritic(nn.Module):
    """The value's features, ``(B, H)``: an MLP over the state embedding and the pooled slot embeddings
    (permutation-invariant)."""

    def __init__(self, layout: CandidateLayout, hidden_size: int, activation_fn: type[nn.Module]) -> None:
        super().__init__()
        self.encoder = SlotEncoder(layout, hidden_size, activation_fn)
        self.summary = _mlp([3 * hidden_size, hidden_size], activation_fn)

    def forward(self, obs: torch.Tensor) -> torch.Tensor:
        state, slots, valid = self.encoder(obs)
        return self.summary(torch.cat([state, _pool(slots, valid)], dim=-1))


class CandidateActorCritic(nn.Module):
    """What SB3's actor-critic policies call their ``mlp_extractor``: features in, ``(latent_pi,
    latent_vf)`` out. Here ``latent_pi`` already is the ``N + 1`` logits (the policy's ``action_net`` is
    the identity) and ``latent_vf`` the critic's summary (the ``value_net`` maps it to one number)."""

    def __init__(self, layout: CandidateLayout, hidden_size: int, activation_fn: type[nn.Module]) -> None:
        super().__init__()
        self.actor = CandidateScorer(layout, hidden_size, activation_fn)
        self.critic = CandidateCritic(layout, hidden_size, activation_fn)
        self.latent_dim_pi = layout.num_actions
        self.latent_dim_vf = hidden_size

    def forward(self, features: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        return self.forward_actor(features), self.forward_critic(features)

    def forward_actor(self, features: torch.Tensor) -> torch.Tensor:
        return self.actor(features)

    def forward_critic(self, features: torch.Tensor) -> torch.Tensor:
        return self.critic(features)


def _check_observation(layout: CandidateLayout, observation: Any) -> None:
    """Refuse an observation of another layout before SB3's own shape check, whose message names
    shapes, not layouts."""
    if isinstance(observation, dict):
        return  # not a candidate view's observation: SB3's check says so
    shape = np.shape(observation)
    if shape:
        layout.check(int(shape[-1]))


# ----------------------------------------------------------------------------------------------------
# actor-critic policies: PPO, A2C, MaskablePPO
# ----------------------------------------------------------------------------------------------------


def _check_policy_kwargs(kwargs: dict[str, Any]) -> None:
    if kwargs.get("net_arch") is not None:
        raise InvalidValueError(
            "a candidate-scoring policy has no net_arch: its layers are the shared slot scorer's; "
            "set their width with hidden_size"
        )
    extractor = kwargs.get("features_extractor_class", FlattenExtractor)
    if extractor is not FlattenExtractor:
        raise InvalidValueError(
            "a candidate-scoring policy reads the observation's layout itself; "
            f"features_extractor_class={getattr(extractor, '__name__', extractor)} is not supported"
        )


def _build_actor_critic(policy: Any, lr_schedule: Schedule) -> None:
    """The networks and optimizer of an SB3 actor-critic policy (PPO/A2C's or MaskablePPO's) with the
    scorer in place of the flat MLP.

    Both SB3 parents build their networks in ``_build`` (called from their ``__init__``) from
    ``mlp_extractor``'s ``latent_dim_pi`` and ``latent_dim_vf``, then read the logits as
    ``action_net(latent_pi)``. Replacing ``_build`` is the one place the logit path changes, so
    ``forward``, ``evaluate_actions``, ``get_distribution`` and MaskablePPO's masking stay SB3's own.
    """
    policy.mlp_extractor = CandidateActorCritic(policy.layout, policy.hidden_size, policy.activation_fn)
    policy.action_net = nn.Identity()  # the scorer's output already is the logits
    policy.value_net = nn.Linear(policy.mlp_extractor.latent_dim_vf, 1)
    if policy.ortho_init:
        # SB3's initialisation: orthogonal, gain sqrt(2) for hidden layers, 0.01 for the logits (a
        # near-uniform first policy) and 1 for the value.
        policy.mlp_extractor.apply(partial(BasePolicy.init_weights, gain=float(np.sqrt(2))))
        for layer in policy.mlp_extractor.actor.output_layers:
            BasePolicy.init_weights(layer, gain=0.01)
        BasePolicy.init_weights(policy.value_net, gain=1.0)
    policy.optimizer = policy.optimizer_class(policy.parameters(), lr=lr_schedule(1), **policy.optimizer_kwargs)


class _CandidatePolicy:
    """What every candidate policy shares: the layout read from the spaces, the layout check of every
    observation, and the saved constructor parameters (``hidden_size``, no ``net_arch``). Listed before
    SB3's policy class, so these methods come first in the method order."""

    layout: CandidateLayout

    def __init__(
        self,
        observation_space: spaces.Space,
        action_space: spaces.Space,
        lr_schedule: Schedule,
        hidden_size: int = 64,
        **kwargs: Any,
    ) -> None:
        _check_policy_kwargs(kwargs)
        self.layout = CandidateLayout.from_spaces(observation_space, action_space)
        self.hidden_size = hidden_size
        super().__init__(observation_space, action_space, lr_schedule, **kwargs)  # type: ignore[call-arg]

    def obs_to_tensor(self, observation: np.ndarray | dict[str, np.ndarray]) -> tuple[PyTorchObs, bool]:
        _check_observation(self.layout, observation)
        return super().obs_to_tensor(observation)  # type: ignore[misc]

    def _get_constructor_parameters(self) -> dict[str, Any]:
        data = super()._get_constructor_parameters()  # type: ignore[misc]
        data.pop("net_arch", None)  # SB3's default filled in; ours has none
        data["hidden_size"] = self.hidden_size
        return data


class _CandidateScoringActorCritic(_CandidatePolicy):
    """The actor-critic policies' networks: the per-slot scorer and critic in place of SB3's flat MLP
    (:func:`_build_actor_critic`)."""

    def _build(self, lr_schedule: Schedule) -> None:
        _build_actor_critic(self, lr_schedule)


class CandidateScoringPolicy(_CandidateScoringActorCritic, ActorCriticPolicy):
    """An ``ActorCriticPolicy`` for PPO and A2C on the candidate view: one network scores every slot.

    The logits come from :class:`CandidateScorer` (one per slot, shared weights, and one for the end;
    padding slots get probability 0), the value from a permutation-invariant summary of the state and
    the slots (:class:`CandidateCritic`, its own weights). The layout is read from the spaces SB3
    passes. Every ``ActorCriticPolicy`` keyword works except ``net_arch`` (the width is
    ``hidden_size``) and other features extractors; the activation is ``activation_fn`` (SB3's Tanh by
    default).

    Args:
        observation_space, action_space, lr_schedule: what SB3 passes.
        hidden_size: width of every layer of the encoders and heads.
        **kwargs: ``ActorCriticPolicy``'s other keywords (``activation_fn``, ``ortho_init``,
            ``optimizer_class``, ``optimizer_kwargs``...).

    Example:
        >>> import gymnasium as gym, fg_env
        >>> from stable_baselines3 import A2C
        >>> from fg_env.wrappers import CandidateSentences, LinearScalarization
        >>> env = LinearScalarization(CandidateSentences(gym.make("FineGrainedQA-v0"), num_candidates=6,
        ...                                              featurizer="hashing"))
        >>> model = A2C(CandidateScoringPolicy, env, policy_kwargs={"hidden_size": 32}, seed=0, device="cpu")
        >>> _ = model.learn(20)
        >>> obs = torch.as_tensor(env.reset(seed=0)[0]).unsqueeze(0)
        >>> model.policy.get_distribution(obs).distribution.probs.shape
        torch.Size([1, 7])
    """


class MaskableCandidateScoringPolicy(_CandidateScoringActorCritic, MaskableActorCriticPolicy):
    """:class:`CandidateScoringPolicy` for sb3-contrib's ``MaskablePPO``, which also applies the view's
    ``action_masks()`` (the same padding, and used candidates when the view masks them).

    Example:
        >>> import gymnasium as gym, fg_env
        >>> from sb3_contrib import MaskablePPO
        >>> from fg_env.wrappers import CandidateSentences, LinearScalarization
        >>> env = LinearScalarization(CandidateSentences(gym.make("FineGrainedQA-v0"), num_candidates=6))
        >>> model = MaskablePPO(MaskableCandidateScoringPolicy, env, n_steps=32, batch_size=16, n_epochs=1,
        ...                     seed=0, device="cpu")
        >>> _ = model.learn(32)
        >>> obs, _ = env.reset(seed=0)
        >>> action, _ = model.predict(obs, action_masks=env.get_wrapper_attr("action_masks")())
        >>> bool(env.get_wrapper_attr("action_masks")()[action])
        True
    """


# ----------------------------------------------------------------------------------------------------
# DQN
# ----------------------------------------------------------------------------------------------------


class CandidateQNetwork(QNetwork):
    """DQN's Q-network on the candidate view: ``Q(s, slot i)`` is the shared scorer's output for slot
    ``i``, ``Q(s, end)`` its end output.

    A padding slot's value is the end's: the view ends the answer when a padding slot is picked
    (``masked_action="end"``, its default), and DQN's random exploration does pick them. Greedy
    actions are taken among the valid slots and the end only.

    Example:
        >>> from stable_baselines3.common.torch_layers import FlattenExtractor
        >>> layout = CandidateLayout(num_candidates=3, dim=4)
        >>> space = spaces.Box(-1, 1, (layout.size,), np.float32)
        >>> q = CandidateQNetwork(space, spaces.Discrete(4), FlattenExtractor(space), layout.size, hidden_size=8)
        >>> obs = torch.zeros(1, layout.size)
        >>> obs[0, layout.head + layout.dim] = 1.0  # only slot 0 is a candidate
        >>> values = q(obs)
        >>> bool((values[0, 1:3] == values[0, 3]).all()), int(q._predict(obs)) in (0, 3)
        (True, True)
    """

    def __init__(
        self,
        observation_space: spaces.Space,
        action_space: spaces.Discrete,
        features_extractor: BaseFeaturesExtractor,
        features_dim: int,
        hidden_size: int = 64,
        activation_fn: type[nn.Module] = nn.ReLU,
        normalize_images: bool = True,
    ) -> None:
        # QNetwork.__init__ would build a flat MLP over the whole observation only to be replaced; its
        # parent sets up what QNetwork's methods need.
        BasePolicy.__init__(
            self,
            observation_space,
            action_space,
            features_extractor=features_extractor,
            normalize_images=normalize_images,
        )
        self.layout = CandidateLayout.from_spaces(observation_space, action_space)
        self.hidden_size = hidden_size
        self.net_arch = [hidden_size]
        self.activation_fn = activation_fn
        self.features_dim = features_dim
        self.q_net = CandidateScorer(self.layout, hidden_size, activation_fn)  # type: ignore[assignment]

    def forward(self, obs: PyTorchObs) -> torch.Tensor:
        values = self.q_net(self.extract_features(obs, self.features_extractor))
        return self._padding_as_end(values)

    def _padding_as_end(self, values: torch.Tensor) -> torch.Tensor:
        padding = values[:, :-1] <= MASKED_LOGIT / 2
        end = values[:, -1:].expand_as(values[:, :-1])
        return torch.cat([torch.where(padding, end, values[:, :-1]), values[:, -1:]], dim=-1)

    def _predict(self, observation: PyTorchObs, deterministic: bool = True) -> torch.Tensor:
        raw = self.q_net(self.extract_features(observation, self.features_extractor))
        return raw.argmax(dim=1).reshape(-1)  # padding holds MASKED_LOGIT: never the arg-max

    def obs_to_tensor(self, observation: np.ndarray | dict[str, np.ndarray]) -> tuple[PyTorchObs, bool]:
        _check_observation(self.layout, observation)
        return super().obs_to_tensor(observation)

    def _get_constructor_parameters(self) -> dict[str, Any]:
        data = super()._get_constructor_parameters()
        data.pop("net_arch", None)
        data["hidden_size"] = self.hidden_size
        return data


class CandidateDQNPolicy(_CandidatePolicy, DQNPolicy):
    """A ``DQNPolicy`` whose Q-network (and target network) is :class:`CandidateQNetwork`.

    Args:
        observation_space, action_space, lr_schedule: what SB3 passes.
        hidden_size: width of every layer of the scorer.
        **kwargs: ``DQNPolicy``'s other keywords (``activation_fn``, ``optimizer_class``...), not
            ``net_arch``.

    Example:
        >>> import gymnasium as gym, fg_env
        >>> from stable_baselines3 import DQN
        >>> from fg_env.wrappers import CandidateSentences, LinearScalarization
        >>> env = LinearScalarization(CandidateSentences(gym.make("FineGrainedQA-v0"), num_candidates=6))
        >>> model = DQN(CandidateDQNPolicy, env, learning_starts=16, buffer_size=64, seed=0, device="cpu")
        >>> _ = model.learn(32)
        >>> type(model.q_net).__name__
        'CandidateQNetwork'
    """

    q_net: CandidateQNetwork
    q_net_target: CandidateQNetwork

    def make_q_net(self) -> CandidateQNetwork:
        net_args = self._update_features_extractor(self.net_args, features_extractor=None)
        net_args.pop("net_arch", None)
        return CandidateQNetwork(**net_args, hidden_size=self.hidden_size).to(self.device)


# ----------------------------------------------------------------------------------------------------
# settings under which PPO learns the task
# ----------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class CandidatePPOSettings:
    """Stable-Baselines3 PPO settings under which :class:`CandidateScoringPolicy` learns the task.

    Each default is SB3's unless its field says otherwise, with the measured reason. Measured with the
    fine-grained reward (the paper's weights, :class:`~fg_env.wrappers.LinearScalarization`) on the view
    ``fg-env sb3-compare`` builds, 24 slots, and **256-dimensional hashing features** (the
    :class:`~fg_env.features.HashingFeaturizer` default; over seeds 0-2, 64 dimensions learned 4.38 ± 0.08
    by 20k steps against 256's 4.83 ± 0.21, and MiniLM (384 dimensions) 4.85 ± 0.59 at 2.6 times the time
    per run: "Featurisers" in BENCHMARKS.md). Greedy answers to the 100 dev questions after 20,480 steps, seeds 0, 1, 2: return 4.91, 4.83, 4.74 (one-step greedy agent
    5.08, random 1.80), relevance ratio 0.48-0.51, completeness 0.85-0.88; 4.90 after 40,960 steps at
    learning rate 1e-3 (seed 1). The answers are long (about 92 words, the greedy agent's 59): the
    paper's weights pay +0.2 for a true sentence that is off topic or redundant, and the agent takes it.

    Example:
        >>> settings = CandidatePPOSettings()
        >>> kwargs = settings.ppo_kwargs()
        >>> kwargs["policy"].__name__, kwargs["learning_rate"], kwargs["policy_kwargs"]["hidden_size"]
        ('CandidateScoringPolicy', 0.002, 64)
    """

    learning_rate: float = field(
        default=2e-3,
        metadata={
            "help": "Adam's step size; SB3's 3e-4 reached 4.47 by 20k steps (64-dim features), 1e-3 a mean of "
            "4.71 over three seeds, 2e-3 4.83; 3e-3 fell to 4.39 (one seed)"
        },
    )
    n_steps: int = field(
        default=2048,
        metadata={"help": "environment steps per rollout (SB3's default; 512 learned less by 20k steps: 4.24)"},
    )
    batch_size: int = field(
        default=256,
        metadata={
            "help": "minibatch size; SB3's 64 learned less at learning rate 1e-3 (4.43 against 4.63 by 20k "
            "steps, 64-dim features) and costs 1.5 times the CPU time: each minibatch scores every slot"
        },
    )
    n_epochs: int = field(
        default=10, metadata={"help": "passes over each rollout (SB3's default; 5 learned less: 4.28 by 20k steps)"}
    )
    gamma: float = field(default=0.99, metadata={"help": "discount (SB3's default; 1.0 learned no better)"})
    gae_lambda: float = field(default=0.95, metadata={"help": "GAE lambda (SB3's default; the paper's too)"})
    clip_range: float = field(default=0.2, metadata={"help": "PPO's ratio clip (SB3's default; the paper's too)"})
    ent_coef: float = field(
        default=0.0, metadata={"help": "entropy bonus (SB3's default; 0.01 changed the return by less than seeds do)"}
    )
    vf_coef: float = field(default=0.5, metadata={"help": "value-loss weight (SB3's default)"})
    max_grad_norm: float = field(default=0.5, metadata={"help": "gradient-norm clip (SB3's default)"})
    hidden_size: int = field(
        default=64,
        metadata={
            "help": "width of the scorer's layers (128: +0.08 by 20k steps, less than seeds differ, 1.6x the time)"
        },
    )
    activation: str = field(
        default="tanh", metadata={"help": "activation of the scorer: tanh (SB3's; relu learned no better) or relu"}
    )

    def __post_init__(self) -> None:
        if self.activation not in _ACTIVATIONS:
            raise InvalidValueError(f"activation must be one of {sorted(_ACTIVATIONS)}, got {self.activation!r}")
        for name in ("n_steps", "batch_size", "n_epochs", "hidden_size"):
            value = getattr(self, name)
            if not isinstance(value, int) or isinstance(value, bool) or value < 1:
                raise InvalidValueError(f"{name} must be a positive integer, got {value!r}")

    def policy_kwargs(self) -> dict[str, Any]:
        return {"hidden_size": self.hidden_size, "activation_fn": _ACTIVATIONS[self.activation]}

    def ppo_kwargs(self, policy: type[BasePolicy] | None = None) -> dict[str, Any]:
        """Keyword arguments of ``PPO(env=..., **kwargs)`` (or ``MaskablePPO`` with ``policy=``
        :class:`MaskableCandidateScoringPolicy`)."""
        names = (
            "learning_rate",
            "n_steps",
            "batch_size",
            "n_epochs",
            "gamma",
            "gae_lambda",
            "clip_range",
            "ent_coef",
            "vf_coef",
            "max_grad_norm",
        )
        return {
            "policy": policy or CandidateScoringPolicy,
            "policy_kwargs": self.policy_kwargs(),
            **{name: getattr(self, name) for name in names},
        }

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)


_ACTIVATIONS: dict[str, type[nn.Module]] = {"tanh": nn.Tanh, "relu": nn.ReLU}


def candidate_ppo(
    env: gym.Env | Any,
    settings: CandidatePPOSettings | None = None,
    *,
    maskable: bool = False,
    seed: int | None = None,
    device: str = "cpu",
    **overrides: Any,
) -> Any:
    """A PPO (``maskable=True``: sb3-contrib's MaskablePPO) on the candidate view ``env`` with
    :class:`CandidateScoringPolicy` and ``settings`` (default :class:`CandidatePPOSettings`);
    ``overrides`` go to the algorithm's constructor last (``verbose=1``, ``tensorboard_log=...``).

    Example:
        >>> import gymnasium as gym, fg_env
        >>> from fg_env.wrappers import CandidateSentences, LinearScalarization
        >>> env = LinearScalarization(CandidateSentences(gym.make("FineGrainedQA-v0"), num_candidates=6))
        >>> model = candidate_ppo(env, CandidatePPOSettings(n_steps=32, batch_size=16), seed=0)
        >>> type(model).__name__, type(model.policy).__name__
        ('PPO', 'CandidateScoringPolicy')
    """
    settings = settings or CandidatePPOSettings()
    if maskable:
        from sb3_contrib import MaskablePPO

        algorithm: Callable[..., Any] = MaskablePPO
        kwargs = settings.ppo_kwargs(MaskableCandidateScoringPolicy)
    else:
        from stable_baselines3 import PPO

        algorithm = PPO
        kwargs = settings.ppo_kwargs()
    return algorithm(env=env, seed=seed, device=device, **{**kwargs, **overrides})
