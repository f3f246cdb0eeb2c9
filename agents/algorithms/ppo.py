"""Fine-grained PPO for language-model policies (Wu et al., NeurIPS 2023), written CleanRL style.

One file, read top to bottom:

1. :class:`PPOConfig`: every setting, defaults the paper's (scaled where the small default policy
   needs it; each field says so).
2. The math as small pure functions on ``[batch, response_tokens]`` tensors, each checked against
   hand calculations in ``tests/test_agents_ppo.py``:
   :func:`kl_penalized_rewards`, :func:`gae_advantages`, :func:`ppo_losses`, and the KL controllers
   (:func:`~agents.algorithms.lm_rl.whiten` is shared with every trainer: :mod:`agents.algorithms.lm_rl`).
3. The models: the policy with a value head on its trunk (default) or a separate value model, and a
   frozen copy of the initial policy as the KL reference. The answers sampled for one question share
   a single pass over its prompt (prompts are several times longer than answers here:
   :class:`~agents.algorithms.lm_rl.SequenceBatch`).
4. :class:`FineGrainedPPO`: the loop. Each iteration samples whole answers in one KV-cached
   ``generate`` call, replays them sentence by sentence through the environment (which may be
   wrapped by any reward scheme of :mod:`agents.experiments.schemes`), places every segment's reward on the
   segment's last token, and runs ``ppo_epochs`` epochs of clipped updates on minibatches.

The per-token reward of response token ``t`` is::

    r_t = sum_k w_k * reward_k(segment ending at t)  -  beta * (log pi(a_t|s_t) - log pi_ref(a_t|s_t))

(episode-level rewards land on the answer's final token). Rewards are divided by their standard
deviation over the batch (no mean shift), advantages come from GAE (gamma 1, lambda 0.95) and are
whitened, and the policy and value losses are clipped at 0.2.

With ``reward_normalization="per-component"`` (GDPO's normalise-then-sum; off by default, not the paper's),
each component's rewards are first standardised over the answers to the same question (over the whole batch
when there is one answer per question), so ``reward_k(segment)`` above becomes ``reward_k(segment) /
(sigma_k + eps)`` and ``- mu_k / (sigma_k + eps)`` lands on the final token:
:func:`~agents.algorithms.lm_rl.normalized_token_rewards` gives the formula.
"""

from __future__ import annotations

import copy
import math
import os
import random
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path
from typing import Any, Literal

import numpy as np
import torch
from torch import nn

from agents.algorithms.distributed import Processes, current_processes, split_evenly
from agents.algorithms.lm_rl import (
    Rollouts,
    SequenceBatch,
    component_reward_stats,
    exact_reward_stats,
    forward_responses,
    logprobs_of,
    masked_mean,
    normalized_token_rewards,
    reference_logprobs,
    sample_rollouts,
    segment_weights,
    whiten,
)
from agents.algorithms.model_setup import (
    PRECISIONS,
    adapters_disabled,
    apply_lora,
    autocast,
    check_model_options,
    check_precision,
    disable_dropout,
    enable_checkpointing,
    merged_for_saving,
)
from agents.policies.policy import ANSWER_TOKENS
from fg_env.checkpoint import CHECKPOINT_NAME, check_settings, load_checkpoint, save_checkpoint
from fg_env.envs.vector import FineGrainedVectorEnv
from fg_env.errors import CheckpointError, InvalidValueError
from fg_env.training import append_log, make_schedule, restart_log, restore_training_state, training_state

CHECKPOINT_KIND = "ppo"

# ----------------------------------------------------------------------------------------------------
# 1. Settings
# ----------------------------------------------------------------------------------------------------


@dataclass
class PPOConfig:
    """Settings of fine-grained PPO; defaults are the paper's unless a field says otherwise.

    The paper (and its released code, ``fine_grained_config.yml``) trains T5-large with 4 samples per
    question, lr 1e-5, 4 PPO epochs per batch and a separate T5-base value model. The default policy of
    this project is a few-million-parameter GPT-2 trained from scratch on a CPU, so the learning rate
    is scaled up and the batch down; those fields say so.

    Example:
        >>> config = PPOConfig(kl_coef=0.1, iterations=3)
        >>> config.episodes_per_iteration
        16
        >>> PPOConfig(learning_rate=-1.0)
        Traceback (most recent call last):
        ...
        fg_env.errors.InvalidValueError: PPOConfig.learning_rate must be > 0, got -1.0
    """

    # Each field's help is the help of its flag in `fg-env train` (TRL's convention, so
    # transformers.HfArgumentParser reads this class too).

    # --- budget -------------------------------------------------------------------------------------
    iterations: int = field(
        default=20,
        metadata={
            "help": (
                "PPO iterations (one batch of rollouts, then `ppo_epochs` epochs of updates, per iteration). "
                "The paper trains for 80,000 episodes; the budget of an experiment here is "
                "iterations x episodes per iteration (prompts_per_iteration x samples_per_prompt)."
            )
        },
    )
    prompts_per_iteration: int = field(
        default=4,
        metadata={
            "help": (
                "Questions sampled per iteration (paper: 2 per GPU on 8 GPUs, i.e. 16). Scaled down so that an "
                "iteration of the default policy takes seconds, not minutes, on a 2-core CPU."
            )
        },
    )
    samples_per_prompt: int = field(default=4, metadata={"help": "Answers sampled per question (paper: 4)."})

    # --- rollouts -----------------------------------------------------------------------------------
    max_new_tokens: int = field(
        default=ANSWER_TOKENS,
        metadata={
            "help": (
                "Longest answer in tokens (also at evaluation). Paper: 200 T5 tokens; the built-in world's answers "
                "are shorter."
            )
        },
    )
    top_k: int = field(default=20, metadata={"help": "Top-k sampling for rollouts (paper: 20)."})
    temperature: float = field(
        default=0.7,
        metadata={"help": ("Sampling temperature for rollouts (paper: 0.7). Evaluation always decodes greedily.")},
    )

    # --- reward -------------------------------------------------------------------------------------
    kl_coef: float = field(
        default=0.3, metadata={"help": ("beta: weight of the per-token KL penalty log pi - log pi_ref (paper: 0.3).")}
    )
    adaptive_kl: bool = field(
        default=False, metadata={"help": ("Adapt beta with Ziegler et al.'s proportional controller (paper: off).")}
    )
    kl_target: float = field(default=6.0, metadata={"help": "Target KL (nats per answer) of the adaptive controller."})
    kl_horizon: int = field(default=10_000, metadata={"help": "Horizon (episodes) of the adaptive controller."})
    kl_threshold: float | None = field(
        default=10.0,
        metadata={
            "help": (
                "Stop the run early once the KL per answer has exceeded this many nats in `kl_strikes` "
                "iterations: the policy has left its reference and is degenerating (the paper's code: 10 nats, "
                "5 times). None (`none`) never stops."
            )
        },
    )
    kl_strikes: int = field(
        default=5, metadata={"help": "How many iterations above `kl_threshold` stop the run (paper: 5)."}
    )
    whiten_rewards: bool = field(
        default=True,
        metadata={
            "help": (
                "Divide per-token rewards by their standard deviation over the batch, without shifting their "
                "mean (paper: on), so a reward's sign survives and the value targets have unit scale."
            )
        },
    )
    reward_normalization: Literal["none", "per-component"] = field(
        default="none",
        metadata={
            "help": (
                "none: the scheme's weighted sum of segment rewards (the paper's). per-component: GDPO's "
                "normalise-then-sum (TRL's multi_objective_aggregation=normalize_then_sum): before the weighted "
                "sum, each reward component's segment rewards are divided by the std of its episode returns over "
                "the group and its group mean is subtracted once on the final token, so each answer's return of "
                "component c is (R_c - mean_c) / (std_c + 1e-4) and no component drowns the others by its spread; "
                "a component without spread in a group adds 0 there. The group is a question's samples_per_prompt "
                "answers, or the whole batch (all processes) when samples_per_prompt is 1. The KL penalty and "
                "whiten_rewards apply after it; the logged return stays the scheme's weighted sum."
            )
        },
    )

    # --- advantages and losses ----------------------------------------------------------------------
    gamma: float = field(default=1.0, metadata={"help": "Discount (paper: 1.0)."})
    lam: float = field(default=0.95, metadata={"help": "GAE lambda (paper: 0.95)."})
    clip_range: float = field(default=0.2, metadata={"help": "PPO clip of the probability ratio (paper: 0.2)."})
    clip_range_value: float = field(
        default=0.2, metadata={"help": ("Clip of the value update around the rollout's values (paper: 0.2).")}
    )
    vf_coef: float = field(
        default=0.1,
        metadata={
            "help": (
                "Weight of the value loss. Paper: 1.0, with a separate value model, whose loss cannot move the "
                "policy. The default value head shares the policy's trunk, and at 1.0 its loss (early on 250 to "
                "900 times the policy loss) drags the trunk: the default policy then drifts over 100 nats "
                "from its reference within 40 iterations and degenerates into runs of commas. At 0.1 the KL stays "
                "near 1-2 nats over the same 40 iterations (measured; see the README)."
            )
        },
    )

    # --- optimisation -------------------------------------------------------------------------------
    ppo_epochs: int = field(default=4, metadata={"help": "Passes over each batch of rollouts (paper: 4)."})
    minibatch_size: int = field(
        default=8,
        metadata={
            "aliases": ["--batch-size"],
            "help": (
                "Episodes per gradient step, rounded down to whole groups of `samples_per_prompt` answers (at "
                "least one group), since a question's answers share one prompt pass. The paper takes one step per "
                "epoch over the whole batch; the small policy learns faster with several smaller steps (CleanRL)."
            ),
        },
    )
    learning_rate: float = field(
        default=2e-5,
        metadata={
            "aliases": ["--lr"],
            "help": (
                "Adam learning rate. Paper: 1e-5 for T5-large; doubled for the small default policy, whose runs "
                "here are far shorter. At 1e-4 the default policy drifted about 30 nats from its reference within "
                "17 iterations and its answers shrank to 7 words; at 5e-5 it held about 4 nats over 20 iterations "
                "(measured with the value-loss weight 0.1, seed 0)."
            ),
        },
    )
    warmup_steps: int = field(
        default=10,
        metadata={"help": ("Linear learning-rate warm-up in optimiser steps (paper: 100, for its far longer run).")},
    )
    max_grad_norm: float | None = field(
        default=1.0,
        metadata={
            "help": (
                "Clip the gradient norm to this value; None (`none`) turns clipping off (the paper's setting). On by "
                "default because the small policy's early updates are otherwise noisy."
            )
        },
    )
    adam_eps: float = field(default=1e-5, metadata={"help": "Adam epsilon (CleanRL's PPO value)."})

    # --- models -------------------------------------------------------------------------------------
    value_model: Literal["head", "separate"] = field(
        default="head",
        metadata={
            "help": (
                "head: a linear value head on the policy's trunk (cheap; the default here). "
                "separate: a copy of the initial policy's trunk with its own head (the paper's layout)."
            )
        },
    )

    precision: Literal["fp32", "bf16", "fp16"] = field(
        default="fp32",
        metadata={
            "help": (
                "Forward passes under torch.autocast in bf16 or fp16 (weights, gradients and Adam stay float32); "
                "fp16 needs a CUDA device, bf16 a device that supports it (agents.algorithms.model_setup)."
            )
        },
    )
    gradient_checkpointing: bool = field(
        default=False,
        metadata={"help": "Recompute activations in the backward pass (less memory, about a third more time)."},
    )
    lora_rank: int = field(
        default=0,
        metadata={
            "help": (
                "Train LoRA adapters of this rank instead of every weight (0: full fine-tuning; needs peft). The "
                "reference policy is then the base model with its adapters off, not a second copy."
            )
        },
    )
    lora_alpha: int = field(
        default=16, metadata={"help": "LoRA's scaling numerator (alpha / rank scales the adapters)."}
    )
    lora_target_modules: str | None = field(
        default=None,
        metadata={
            "help": (
                "Comma-separated layer names LoRA adapts (e.g. c_attn,c_proj for GPT-2, q_proj,v_proj for Llama); none: "
                "peft's default for the architecture."
            )
        },
    )

    # --- bookkeeping --------------------------------------------------------------------------------
    seed: int = field(
        default=0, metadata={"help": "Seeds question sampling, token sampling, minibatch order and dropout."}
    )
    checkpoint_every: int = field(
        default=5, metadata={"help": ("Write an atomic checkpoint every this many iterations (0: only at the end).")}
    )

    def __post_init__(self) -> None:
        positive_ints = (
            "iterations",
            "prompts_per_iteration",
            "samples_per_prompt",
            "max_new_tokens",
            "top_k",
            "ppo_epochs",
            "minibatch_size",
            "kl_horizon",
            "kl_strikes",
        )
        for name in positive_ints:
            value = getattr(self, name)
            if not isinstance(value, int) or isinstance(value, bool) or value <= 0:
                raise InvalidValueError(f"PPOConfig.{name} must be a positive integer, got {value!r}")
        for name in ("learning_rate", "temperature", "kl_target", "adam_eps"):
            value = getattr(self, name)
            if not (isinstance(value, (int, float)) and math.isfinite(value) and value > 0):
                raise InvalidValueError(f"PPOConfig.{name} must be > 0, got {value!r}")
        for name in ("kl_coef", "clip_range", "clip_range_value", "vf_coef"):
            value = getattr(self, name)
            if not (isinstance(value, (int, float)) and math.isfinite(value) and value >= 0):
                raise InvalidValueError(f"PPOConfig.{name} must be >= 0, got {value!r}")
        for name in ("gamma", "lam"):
            value = getattr(self, name)
            if not 0.0 <= value <= 1.0:
                raise InvalidValueError(f"PPOConfig.{name} must lie in [0, 1], got {value!r}")
        if self.warmup_steps < 0 or self.checkpoint_every < 0:
            raise InvalidValueError("PPOConfig.warmup_steps and checkpoint_every must be >= 0")
        if self.max_grad_norm is not None and not self.max_grad_norm > 0:
            raise InvalidValueError(f"PPOConfig.max_grad_norm must be > 0 or None, got {self.max_grad_norm!r}")
        if self.kl_threshold is not None and not (math.isfinite(self.kl_threshold) and self.kl_threshold > 0):
            raise InvalidValueError(f"PPOConfig.kl_threshold must be > 0 or None, got {self.kl_threshold!r}")
        if self.reward_normalization not in REWARD_NORMALIZATIONS:
            raise InvalidValueError(
                f"PPOConfig.reward_normalization must be 'none' or 'per-component', got {self.reward_normalization!r}"
            )
        if self.value_model not in ("head", "separate"):
            raise InvalidValueError(f"PPOConfig.value_model must be 'head' or 'separate', got {self.value_model!r}")
        if self.precision not in PRECISIONS:
            raise InvalidValueError(f"PPOConfig.precision must be fp32, bf16 or fp16, got {self.precision!r}")
        if not isinstance(self.lora_rank, int) or isinstance(self.lora_rank, bool) or self.lora_rank < 0:
            raise InvalidValueError(f"PPOConfig.lora_rank must be a non-negative integer, got {self.lora_rank!r}")
        if not isinstance(self.lora_alpha, int) or self.lora_alpha <= 0:
            raise InvalidValueError(f"PPOConfig.lora_alpha must be a positive integer, got {self.lora_alpha!r}")

    @property
    def lora_targets(self) -> list[str]:
        """``lora_target_modules`` as a list (empty: peft's default)."""
        return [name.strip() for name in (self.lora_target_modules or "").split(",") if name.strip()]

    @property
    def episodes_per_iteration(self) -> int:
        return self.prompts_per_iteration * self.samples_per_prompt

    @property
    def normalization_group(self) -> int | None:
        """The group ``reward_normalization`` standardises each component over: a question's
        ``samples_per_prompt`` answers (GRPO's and GDPO's group, always within one process), or None for the
        whole batch (over every process) when each question gets one answer.

        Example:
            >>> PPOConfig(samples_per_prompt=4).normalization_group, PPOConfig(samples_per_prompt=1).normalization_group
            (4, None)
        """
        return self.samples_per_prompt if self.samples_per_prompt > 1 else None

    def to_dict(self) -> dict[str, Any]:
        """The settings; those added after runs were recorded appear only when set, so the records (and
        result keys) of earlier runs stay valid."""
        record = asdict(self)
        defaults = {f.name: f.default for f in fields(self)}
        for name in _LATER_FIELDS:
            if record[name] == defaults[name]:
                del record[name]
        return record

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> PPOConfig:
        known = {f.name for f in fields(cls)}
        unknown = sorted(set(data) - known)
        if unknown:
            raise InvalidValueError(f"unknown PPOConfig fields: {', '.join(unknown)}")
        return cls(**dict(data))


# Settings added after runs were recorded (real-model support, then reward normalisation): left out of a run's
# record while at their defaults, so the keys of earlier runs stay valid.
_LATER_FIELDS = (
    "precision",
    "gradient_checkpointing",
    "lora_rank",
    "lora_alpha",
    "lora_target_modules",
    "reward_normalization",
)
#: The values of PPOConfig.reward_normalization.
REWARD_NORMALIZATIONS = ("none", "per-component")


# ----------------------------------------------------------------------------------------------------
# 2. The math: pure functions on [batch, response_tokens] tensors. ``mask`` is 1.0 on tokens that are
#    trained on (real, inside the episode) and 0.0 on padding and on tokens cut off by truncation.
# ----------------------------------------------------------------------------------------------------


def kl_penalized_rewards(
    scores: torch.Tensor,
    logprobs: torch.Tensor,
    ref_logprobs: torch.Tensor,
    mask: torch.Tensor,
    kl_coef: float,
) -> tuple[torch.Tensor, torch.Tensor]:
    """Per-token rewards ``scores - kl_coef * (logprobs - ref_logprobs)`` on the masked tokens.

    ``scores[b, t]`` already holds the weighted reward of every segment whose last token is ``t``.
    Returns ``(rewards, kl)`` where ``kl`` is the per-token estimate ``log pi - log pi_ref``.

    Example:
        >>> s = torch.tensor([[0.0, 1.0]]); lp = torch.tensor([[-1.0, -2.0]]); ref = torch.tensor([[-1.5, -1.0]])
        >>> kl_penalized_rewards(s, lp, ref, torch.ones(1, 2), kl_coef=0.1)[0]
        tensor([[-0.0500,  1.1000]])
    """
    kl = (logprobs - ref_logprobs) * mask
    return (scores - kl_coef * kl) * mask, kl


def gae_advantages(
    rewards: torch.Tensor, values: torch.Tensor, mask: torch.Tensor, gamma: float, lam: float
) -> tuple[torch.Tensor, torch.Tensor]:
    """Generalised advantage estimates and returns, ``A_t = sum_l (gamma lam)^l delta_{t+l}``.

    ``delta_t = r_t + gamma V_{t+1} - V_t`` where ``V`` past the last masked token is 0 (the episode
    ends there). ``mask`` must be a prefix mask per row (1s then 0s), as responses are right padded.
    Returns ``(advantages, returns)`` with ``returns = advantages + values``; both 0 where masked out.

    Example:
        >>> r = torch.tensor([[0.0, 1.0]]); v = torch.tensor([[0.5, 0.2]])
        >>> adv, ret = gae_advantages(r, v, torch.ones(1, 2), gamma=1.0, lam=0.5)
        >>> adv  # delta = (0 + 0.2 - 0.5, 1 - 0.2) = (-0.3, 0.8); A_0 = -0.3 + 0.5 * 0.8
        tensor([[0.1000, 0.8000]])
    """
    values = values * mask
    advantages = torch.zeros_like(rewards)
    last_advantage = torch.zeros(rewards.shape[0], dtype=rewards.dtype, device=rewards.device)
    for t in reversed(range(rewards.shape[1])):
        next_values = values[:, t + 1] if t + 1 < rewards.shape[1] else torch.zeros_like(last_advantage)
        delta = rewards[:, t] + gamma * next_values - values[:, t]
        last_advantage = (delta + gamma * lam * last_advantage) * mask[:, t]
        advantages[:, t] = last_advantage
    return advantages, (advantages + values) * mask


def ppo_losses(
    logprobs: torch.Tensor,
    old_logprobs: torch.Tensor,
    advantages: torch.Tensor,
    values: torch.Tensor,
    old_values: torch.Tensor,
    returns: torch.Tensor,
    mask: torch.Tensor,
    clip_range: float,
    clip_range_value: float,
    token_count: torch.Tensor | None = None,
) -> tuple[torch.Tensor, torch.Tensor, dict[str, float]]:
    """Clipped policy loss and clipped value loss, each a mean over the masked tokens.

    ``token_count``, the global minibatch's token count in a data-parallel run, makes each loss this
    process's share of the global mean (gradients summed over processes are then the global gradient).

    Policy: ``max(-A * ratio, -A * clip(ratio, 1 - eps, 1 + eps))`` with ``ratio = exp(lp - old_lp)``.
    Value: ``0.5 * max((V - R)^2, (clip(V, V_old - eps_v, V_old + eps_v) - R)^2)``.
    Returns ``(policy_loss, value_loss, stats)``; stats hold the clip fractions and approximate KL.

    Example:
        >>> one = torch.ones(1, 1)
        >>> pl, vl, _ = ppo_losses(torch.log(1.5 * one), 0 * one, one, 2 * one, 1 * one, 3 * one, one, 0.2, 0.2)
        >>> round(pl.item(), 4), round(vl.item(), 4)  # ratio 1.5 clipped to 1.2; V=2 vs clipped 1.2
        (-1.2, 1.62)
    """
    log_ratio = (logprobs - old_logprobs) * mask
    ratio = torch.exp(log_ratio)
    policy_unclipped = -advantages * ratio
    policy_clipped = -advantages * torch.clamp(ratio, 1.0 - clip_range, 1.0 + clip_range)
    count = mask.sum().clamp(min=1.0) if token_count is None else token_count.clamp(min=1.0)
    policy_loss = (torch.max(policy_unclipped, policy_clipped) * mask).sum() / count

    values_clipped = old_values + torch.clamp(values - old_values, -clip_range_value, clip_range_value)
    value_unclipped = (values - returns) ** 2
    value_clipped = (values_clipped - returns) ** 2
    value_loss = 0.5 * (torch.max(value_unclipped, value_clipped) * mask).sum() / count

    with torch.no_grad():
        stats = {
            "policy_clip_fraction": masked_mean((policy_clipped > policy_unclipped).float(), mask).item(),
            "value_clip_fraction": masked_mean((value_clipped > value_unclipped).float(), mask).item(),
            # Schulman's low-variance estimator of KL(old || new), as in CleanRL.
            "approx_kl": masked_mean((ratio - 1) - log_ratio, mask).item(),
        }
    return policy_loss, value_loss, stats


class FixedKLController:
    """A constant KL coefficient.

    Example:
        >>> c = FixedKLController(0.3); c.update(100.0, 64); c.value
        0.3
    """

    def __init__(self, kl_coef: float) -> None:
        self.value = kl_coef

    def update(self, current_kl: float, n_episodes: int) -> None:
        """Nothing to adapt."""

    def state_dict(self) -> dict[str, float]:
        return {"value": self.value}

    def load_state_dict(self, state: Mapping[str, float]) -> None:
        self.value = float(state["value"])


class AdaptiveKLController(FixedKLController):
    """Ziegler et al.'s (2019) proportional controller that steers the KL towards a target.

    ``beta <- beta * (1 + clip(KL / target - 1, -0.2, 0.2) * n_episodes / horizon)``

    Example:
        >>> c = AdaptiveKLController(0.3, target=6.0, horizon=100)
        >>> c.update(current_kl=12.0, n_episodes=50)  # error clipped to 0.2: beta * (1 + 0.2 * 0.5)
        >>> round(c.value, 4)
        0.33
    """

    def __init__(self, kl_coef: float, target: float, horizon: int) -> None:
        super().__init__(kl_coef)
        self.target, self.horizon = target, horizon

    def update(self, current_kl: float, n_episodes: int) -> None:
        error = float(np.clip(current_kl / self.target - 1.0, -0.2, 0.2))
        self.value *= 1.0 + error * n_episodes / self.horizon


# ----------------------------------------------------------------------------------------------------
# 3. Models: policy (+ value head) and the frozen reference
# ----------------------------------------------------------------------------------------------------


class ValueHead(nn.Module):
    """A linear map from a trunk's hidden state to a scalar value, initialised to predict 0.

    Example:
        >>> ValueHead(8)(torch.zeros(2, 3, 8)).shape
        torch.Size([2, 3])
    """

    def __init__(self, hidden_size: int) -> None:
        super().__init__()
        self.linear = nn.Linear(hidden_size, 1)
        nn.init.zeros_(self.linear.weight)
        nn.init.zeros_(self.linear.bias)

    def forward(self, hidden: torch.Tensor) -> torch.Tensor:
        return self.linear(hidden).squeeze(-1)


def _hidden_size(model: nn.Module) -> int:
    config = model.config
    for name in ("hidden_size", "n_embd", "d_model"):
        if getattr(config, name, None):
            return int(getattr(config, name))
    raise InvalidValueError(f"cannot tell the hidden size of {type(model).__name__}; its config has no hidden_size")


class ActorCritic(nn.Module):
    """A causal LM policy and its critic: a value head on the policy's trunk, or a separate value model.

    ``forward`` returns, for each response token, the policy's log-probability of it and the critic's
    value of the state just before it (the prompt plus the response tokens before it).

    Example:
        >>> from transformers import GPT2Config, GPT2LMHeadModel
        >>> lm = GPT2LMHeadModel(GPT2Config(vocab_size=11, n_embd=8, n_layer=1, n_head=2, bos_token_id=0, eos_token_id=0))
        >>> ac = ActorCritic(lm, value_model="separate")
        >>> batch = SequenceBatch(torch.tensor([[1, 2]]), torch.ones(1, 2, dtype=torch.long),
        ...                       torch.tensor([[3, 4, 5], [6, 7, 8]]), torch.ones(2, 3, dtype=torch.long), group_size=2)
        >>> logprobs, values = ac(batch)
        >>> logprobs.shape, values.shape
        (torch.Size([2, 3]), torch.Size([2, 3]))
    """

    def __init__(
        self, policy_model: nn.Module, value_model: Literal["head", "separate"] = "head", one_pass: bool = False
    ) -> None:
        super().__init__()
        self.policy = policy_model
        self.one_pass = one_pass  # prompt and response as one sequence (gradient checkpointing)
        # The separate critic starts as a copy of the policy's trunk: a better start than random
        # weights, and no second model to ship (the paper starts its critic from T5-base).
        self.critic = copy.deepcopy(policy_model) if value_model == "separate" else None
        self.value_head = ValueHead(_hidden_size(policy_model))

    def forward(self, batch: SequenceBatch) -> tuple[torch.Tensor, torch.Tensor]:
        """Log-probs ``(B, R)`` of the response tokens and values ``(B, R)`` of the states before them."""
        logits, hidden = forward_responses(
            self.policy, batch, output_hidden=self.critic is None, one_pass=self.one_pass
        )
        logprobs = logprobs_of(logits, batch.response_ids)
        if self.critic is not None:
            _, hidden = forward_responses(self.critic, batch, output_hidden=True, one_pass=self.one_pass)
        assert hidden is not None  # forward_responses returns it when asked
        return logprobs, self.value_head(hidden.float())


# ----------------------------------------------------------------------------------------------------
# 4. The loop
# ----------------------------------------------------------------------------------------------------


def check_run(policy_path: str | os.PathLike[str] | None, config: PPOConfig, processes: Processes) -> None:
    """Everything about a run that can fail before a model loads: a global batch the processes cannot share,
    and (given the policy's folder) the precision, LoRA targets and memory (:mod:`agents.algorithms.model_setup`).

    Example:
        >>> check_run(None, PPOConfig(prompts_per_iteration=3), Processes(2, 0))
        Traceback (most recent call last):
        ...
        fg_env.errors.InvalidValueError: prompts_per_iteration (3) must be divisible by the number of processes (2): each process collects an equal share of the global batch
    """
    process_shares(config, processes)
    if policy_path is not None:
        check_model_options(str(policy_path), config, processes.device)


def process_shares(config: PPOConfig, processes: Processes) -> tuple[int, int]:
    """Each process's prompts per iteration and per minibatch; a global batch the processes cannot share
    evenly raises a ValueError naming the setting (checked before any model loads).

    Example:
        >>> process_shares(PPOConfig(prompts_per_iteration=4, samples_per_prompt=4, minibatch_size=8), Processes(2, 0))
        (2, 1)
    """
    prompts = split_evenly(config.prompts_per_iteration, processes, "prompts_per_iteration")
    groups_per_minibatch = max(1, config.minibatch_size // config.samples_per_prompt)
    groups = split_evenly(
        groups_per_minibatch, processes, "minibatch_size // samples_per_prompt (prompts per minibatch)"
    )
    return prompts, groups


class FineGrainedPPO:
    """The paper's PPO for an :class:`agents.policies.policy.LMPolicy` acting in a FineGrainedQA environment.

    ``env`` is the environment wrapped by a reward scheme (:mod:`agents.experiments.schemes`); the trainer only
    reads ``info["segments"]`` through :func:`agents.algorithms.rollout.replay_batch` (on copies of ``env`` stepped
    side by side, :meth:`~fg_env.envs.vector.FineGrainedVectorEnv.from_env`), so any scheme works. The policy's
    model is trained in place; a frozen copy of it, made here, is the KL reference.

    Example:
        >>> import gymnasium as gym, fg_env
        >>> from agents.experiments.schemes import get_scheme
        >>> from agents.testing import tiny_policy  # or LMPolicy.from_pretrained("path/to/sft-policy")
        >>> env = get_scheme("fine-grained").wrap(gym.make("FineGrainedQA-v0", max_sentences=2))
        >>> config = PPOConfig(iterations=1, prompts_per_iteration=1, samples_per_prompt=2, max_new_tokens=12)
        >>> metrics = FineGrainedPPO(tiny_policy(), env, config).train(progress=False)
        >>> len(metrics), metrics[0]["episodes"]
        (1, 2)
    """

    def __init__(
        self,
        policy: Any,
        env: Any,
        config: PPOConfig | None = None,
        *,
        question_indices: Sequence[int] | None = None,
        exact_env: Any = None,
        processes: Processes | None = None,
    ) -> None:
        self.config = config = config or PPOConfig()
        # Under `accelerate launch`, this process's share of every iteration (agents.algorithms.distributed).
        self.processes = processes = processes or current_processes()
        self.local_prompts, self.local_groups_per_minibatch = process_shares(config, processes)
        self.policy, self.env = policy, env
        n_questions = len(env.unwrapped.examples)
        self.question_indices = np.arange(n_questions) if question_indices is None else np.asarray(question_indices)
        if len(self.question_indices) == 0:
            raise InvalidValueError("question_indices is empty: PPO needs at least one question to sample")
        if self.question_indices.min() < 0 or self.question_indices.max() >= n_questions:
            raise InvalidValueError(f"question_indices must lie in 0..{n_questions - 1} (the environment's split)")
        self.weights = segment_weights(env)
        # Copies of the scheme-wrapped env, stepped side by side: each rollout step scores every answer's
        # new segments with one call per reward model (the models themselves are shared, not copied).
        local_episodes = self.local_prompts * config.samples_per_prompt
        self.vector_env = FineGrainedVectorEnv.from_env(env, local_episodes)
        # The exact measure beside a proxy reward: every rollout is also scored by ``exact_env`` (the
        # built-in annotator), which the policy never trains on (Gao et al. 2023's gold reward model).
        self.exact_vector_env = None if exact_env is None else FineGrainedVectorEnv.from_env(exact_env, local_episodes)

        # Every random draw of a run comes from these two sources, so a checkpoint that saves both
        # resumes to the same result: numpy for question sampling, generation seeds and minibatch
        # order; torch's global generator for anything torch draws on its own. Each process of a
        # data-parallel run draws its own questions.
        random.seed(config.seed)
        torch.manual_seed(config.seed)
        self.np_rng = np.random.default_rng(config.seed if processes.is_main else [config.seed, processes.index])

        # Dropout off: the ratio pi/pi_old is then 1 (up to rounding) on the first minibatch, and log-probs
        # under the rollout and under the update agree (as in TRL, which zeroes dropout for RLHF).
        policy.model.eval()
        check_precision(config.precision, policy.device)
        self.one_pass = config.gradient_checkpointing
        if config.gradient_checkpointing:
            # Hugging Face models checkpoint in training mode only: dropout off keeps it deterministic.
            disable_dropout(policy.model)
            enable_checkpointing(policy.model)
        # LoRA: the reference is the same model with its adapters off; otherwise a frozen copy.
        self.peft_model = (
            apply_lora(policy.model, config.lora_rank, config.lora_alpha, config.lora_targets)
            if config.lora_rank
            else None
        )
        self.ref_model = (
            None if self.peft_model is not None else copy.deepcopy(policy.model).eval().requires_grad_(False)
        )
        self.actor_critic = (
            ActorCritic(policy.model, config.value_model, one_pass=self.one_pass).to(policy.device).eval()
        )
        # Plain Adam, no weight decay (the paper's), so one parameter group; only what trains (LoRA: the adapters).
        trained = [p for p in self.actor_critic.parameters() if p.requires_grad]
        self.optimizer = torch.optim.Adam(trained, lr=config.learning_rate, eps=config.adam_eps)
        # fp16 gradients are scaled against underflow (a no-op for fp32 and bf16).
        self.scaler = torch.amp.GradScaler(policy.device.type, enabled=config.precision == "fp16")
        # Update k runs at min(1, (k + 1) / (warmup_steps + 1)) of the rate: transformers' constant schedule
        # with warmup_steps + 1 steps of warm-up, read one step ahead (fg_env.training.make_schedule).
        self.scheduler = make_schedule("constant_with_warmup", self.optimizer, config.warmup_steps + 1)
        self.kl_controller: FixedKLController = (
            AdaptiveKLController(config.kl_coef, config.kl_target, config.kl_horizon)
            if config.adaptive_kl
            else FixedKLController(config.kl_coef)
        )
        self.iteration = 0
        self.metrics: list[dict[str, Any]] = []

    # ------------------------------------------------------------------------------- rollouts

    def collect_rollouts(self) -> tuple[Rollouts, dict[str, float]]:
        """Sample answers in one ``generate`` call, replay them through the env, place token rewards."""
        from agents.algorithms.rollout import replay_batch

        config = self.config
        chosen = self.np_rng.choice(
            self.question_indices,
            size=self.local_prompts,
            replace=self.local_prompts > len(self.question_indices),
        )
        indices = [int(i) for i in chosen for _ in range(config.samples_per_prompt)]
        examples = self.env.unwrapped.examples
        prompts = [examples[i].prompt for i in indices]
        generation_seed = int(self.np_rng.integers(2**31 - 1))
        rollouts, generations, timing = sample_rollouts(
            self.policy,
            self.vector_env,
            prompts,
            indices,
            group_size=config.samples_per_prompt,
            max_new_tokens=config.max_new_tokens,
            top_k=config.top_k,
            temperature=config.temperature,
            seed=generation_seed,
            precision=config.precision,
        )
        if self.exact_vector_env is not None:
            timing.update(exact_reward_stats(replay_batch(self.exact_vector_env, generations, indices=indices)))
        return rollouts, timing

    # ------------------------------------------------------------------------------- update

    def update(self, rollouts: Rollouts) -> dict[str, float]:
        """Rewards -> advantages -> ``ppo_epochs`` epochs of clipped minibatch updates."""
        config = self.config
        batch, mask, scores = rollouts.batch, rollouts.mask, rollouts.scores
        n_groups = batch.prompt_ids.shape[0]
        total = self.processes.sum  # sums over the processes: every mean below is the global batch's

        # Log-probs and values of the rollout (the "old" policy), and the reference's log-probs.
        began = time.perf_counter()
        precision = autocast(config.precision, self.policy.device)
        with torch.no_grad():
            with precision:
                old_logprobs, old_values = self.actor_critic(batch)
                ref_logprobs = self._reference_logprobs(batch)
            old_values = old_values * mask

            # r_t = weighted segment rewards on last tokens - beta * (log pi - log pi_ref)
            task_rewards, normalization_stats = self.task_rewards(rollouts)
            rewards, kl = kl_penalized_rewards(task_rewards, old_logprobs, ref_logprobs, mask, self.kl_controller.value)
            if config.whiten_rewards:
                rewards = whiten(rewards, mask, shift_mean=False, total=total)
            advantages, returns = gae_advantages(rewards, old_values, mask, config.gamma, config.lam)
            advantages = whiten(advantages, mask, shift_mean=True, total=total)
        scored = time.perf_counter()

        # Minibatches hold whole groups (a prompt and its k answers), so each prompt runs once; in a
        # data-parallel run each process holds its share of every global minibatch.
        groups_per_minibatch = self.local_groups_per_minibatch
        stats: dict[str, list[float]] = {
            "policy_loss": [],
            "value_loss": [],
            "policy_clip_fraction": [],
            "value_clip_fraction": [],
            "approx_kl": [],
        }
        # Gradient checkpointing works in training mode only (dropout is off: the same function).
        self.actor_critic.train(self.one_pass)
        for _ in range(config.ppo_epochs):
            order = self.np_rng.permutation(n_groups)
            for first in range(0, n_groups, groups_per_minibatch):
                groups = np.sort(order[first : first + groups_per_minibatch])
                minibatch = batch.rows(groups)
                rows = batch.episode_rows(groups)
                width = minibatch.response_ids.shape[1]
                with autocast(config.precision, self.policy.device):
                    logprobs, values = self.actor_critic(minibatch)
                policy_loss, value_loss, mb_stats = ppo_losses(
                    logprobs,
                    old_logprobs[rows, :width],
                    advantages[rows, :width],
                    values,
                    old_values[rows, :width],
                    returns[rows, :width],
                    mask[rows, :width],
                    config.clip_range,
                    config.clip_range_value,
                    token_count=total(mask[rows, :width].sum()),  # the global minibatch's tokens
                )
                loss = policy_loss + config.vf_coef * value_loss
                self.optimizer.zero_grad(set_to_none=True)
                self.scaler.scale(loss).backward()
                self.processes.sum_gradients(self.actor_critic.parameters())
                self.scaler.unscale_(self.optimizer)
                if config.max_grad_norm is not None:
                    nn.utils.clip_grad_norm_(self.actor_critic.parameters(), config.max_grad_norm)
                self.scaler.step(self.optimizer)
                self.scaler.update()
                self.scheduler.step()
                stats["policy_loss"].append(policy_loss.item())
                stats["value_loss"].append(value_loss.item())
                for key, value in mb_stats.items():
                    stats[key].append(value)

        episodes = total(torch.tensor(float(mask.shape[0]), device=mask.device))
        self.actor_critic.eval()
        sequence_kl = float(total(kl.sum()) / episodes)
        kl_coef_used = self.kl_controller.value
        self.kl_controller.update(sequence_kl, mask.shape[0])
        summary = {key: float(np.mean(values)) for key, values in stats.items()}
        summary.update(
            {
                "kl": sequence_kl,
                "kl_coef": kl_coef_used,
                "score": float(total(scores.sum()) / episodes),
                "reward_penalized": float(total(((scores - kl_coef_used * kl) * mask).sum()) / episodes),
                "trained_tokens": int(mask.sum()),
                # forward passes of the rollout (policy, critic, reference) vs. the epochs of updates
                "time_update_forward": scored - began,
                "time_update_optimise": time.perf_counter() - scored,
                **normalization_stats,
            }
        )
        return summary

    def task_rewards(self, rollouts: Rollouts) -> tuple[torch.Tensor, dict[str, float]]:
        """The per-token rewards PPO maximises before the KL penalty, and statistics to log.

        ``reward_normalization="none"``: ``rollouts.scores`` itself, the scheme's weighted segment rewards.
        ``"per-component"``: each component standardised over its group first
        (:func:`~agents.algorithms.lm_rl.normalized_token_rewards`, weighted by the scheme's weights), with the
        share of episodes whose group had no spread in each component.
        """
        config = self.config
        if config.reward_normalization == "none":
            return rollouts.scores, {}
        rewards, zero_spread = normalized_token_rewards(
            rollouts.records,
            self.weights,
            rollouts.scores.shape[1],
            group_size=config.normalization_group,
            total=self.processes.sum,  # used for the whole-batch group only: a question's answers share a process
            device=rollouts.scores.device,
        )
        return rewards * rollouts.mask, zero_spread

    def _reference_logprobs(self, batch: SequenceBatch) -> torch.Tensor:
        if self.peft_model is None:
            assert self.ref_model is not None
            return reference_logprobs(self.ref_model, batch, one_pass=self.one_pass)
        with adapters_disabled(self.peft_model):
            return reference_logprobs(self.policy.model, batch, one_pass=self.one_pass)

    def save_policy(self, path: str | os.PathLike[str]) -> None:
        """Save the trained policy as a plain model folder (LoRA adapters merged into the weights)."""
        if self.peft_model is None:
            self.policy.save_pretrained(path)
            return
        from agents.policies.policy import LMPolicy

        merged: Any = merged_for_saving(self.peft_model)
        LMPolicy(merged, self.policy.tokenizer, self.policy.device).save_pretrained(path)

    # ------------------------------------------------------------------------------- iterations

    def train_iteration(self) -> dict[str, Any]:
        """One PPO iteration: rollouts, then updates. Returns the iteration's metrics."""
        rollouts, timing = self.collect_rollouts()
        start = time.perf_counter()
        stats = self.update(rollouts)
        timing["time_update"] = time.perf_counter() - start
        self.iteration += 1
        records = rollouts.records
        metrics: dict[str, Any] = {
            "iteration": self.iteration,
            "episodes": self.iteration * self.config.episodes_per_iteration,
            # The scheme's return: the weighted reward an episode collected (before the KL penalty).
            "return": stats.pop("score"),
            "response_tokens": float(np.mean([r.num_used_tokens for r in records])),
            # every token generated this iteration, also those after the env's last sentence (throughput)
            "completion_tokens": int(sum(len(r.generation.response_ids) for r in records)),
            "sentences": float(np.mean([len(r.step_rewards) - (1 if r.terminated else 0) for r in records])),
            **stats,
            **timing,
        }
        metrics.update(component_reward_stats(records))
        total = timing["time_generate"] + timing["time_env"] + timing["time_update"]
        metrics["time_iteration"] = total
        metrics = self.processes.mean_metrics(metrics)  # this process's numbers -> the global batch's
        metrics["trained_tokens_per_second"] = metrics["trained_tokens"] / max(metrics["time_update"], 1e-9)
        self.metrics.append(metrics)
        return metrics

    @property
    def stopped_early(self) -> bool:
        """Whether the KL safeguard has ended the run (``kl_strikes`` iterations above ``kl_threshold``).

        Counted from the metrics, so a resumed run remembers its strikes.
        """
        threshold = self.config.kl_threshold
        if threshold is None:
            return False
        return sum(m["kl"] > threshold for m in self.metrics) >= self.config.kl_strikes

    def train(
        self,
        out_dir: str | os.PathLike[str] | None = None,
        *,
        progress: bool = True,
        on_iteration: Callable[[dict[str, Any]], None] | None = None,
        report_to: Sequence[str] = (),
    ) -> list[dict[str, Any]]:
        """Run until ``config.iterations`` (or the KL safeguard); with ``out_dir``, write metrics.jsonl
        and checkpoints there, and report each iteration to ``report_to`` (``tensorboard``, ``wandb``:
        :mod:`fg_env.reporting`; they need ``out_dir``).

        A trainer restored with :meth:`load_checkpoint` continues from its iteration.
        """

        from fg_env.reporting import make_reporters

        out = Path(out_dir) if out_dir is not None else None
        if out is None and [t for t in report_to if t != "none"]:
            raise InvalidValueError(f"report_to={list(report_to)} needs an out_dir for the reporters' files")
        if out is not None and self.processes.is_main:  # the other processes of a data-parallel run write nothing
            out.mkdir(parents=True, exist_ok=True)
            # Rewrite the log from the metrics this trainer holds: iterations logged after the last
            # checkpoint of a killed run are dropped, so the file matches the resumed run.
            restart_log(out / "metrics.jsonl", self.metrics)
        reporters = (
            make_reporters(report_to, out, run_name=out.name, config=self.config.to_dict())
            if out and self.processes.is_main
            else []
        )
        try:
            return self._train_loop(out, progress, on_iteration, reporters)
        finally:
            for reporter in reporters:
                reporter.close()

    def _train_loop(
        self,
        out: Path | None,
        progress: bool,
        on_iteration: Callable[[dict[str, Any]], None] | None,
        reporters: Sequence[Any],
    ) -> list[dict[str, Any]]:
        from tqdm.auto import tqdm

        main = self.processes.is_main  # the other processes of a data-parallel run write nothing
        bar = tqdm(
            total=self.config.iterations, initial=self.iteration, desc="PPO", unit="it", disable=not (progress and main)
        )
        while self.iteration < self.config.iterations and not self.stopped_early:
            metrics = self.train_iteration()
            bar.update(1)
            bar.set_postfix(ret=f"{metrics['return']:.3f}", kl=f"{metrics['kl']:.2f}")
            if self.stopped_early and main:
                tqdm.write(
                    f"[ppo] stopping at iteration {self.iteration}: KL per answer above "
                    f"{self.config.kl_threshold:g} nats in {self.config.kl_strikes} iterations"
                )
            if out is not None:
                if main:
                    append_log(out / "metrics.jsonl", metrics)
                every = self.config.checkpoint_every
                last = self.iteration == self.config.iterations or self.stopped_early
                if (every and self.iteration % every == 0) or last:
                    self.save_checkpoint(out / CHECKPOINT_NAME)  # every process takes part (its RNG state)
            for reporter in reporters:
                reporter.log(metrics, step=self.iteration)
            if on_iteration is not None and main:
                on_iteration(metrics)
        bar.close()
        return self.metrics

    # ------------------------------------------------------------------------------- checkpoints

    def save_checkpoint(self, path: str | os.PathLike[str], extra: Mapping[str, Any] | None = None) -> Path:
        """Atomically write everything needed to resume this run to ``path`` (a ``"ppo"`` checkpoint of
        :mod:`fg_env.checkpoint`); ``extra`` entries are stored beside it."""
        state = training_state(self.actor_critic, self.optimizer, self.scheduler, self.np_rng)
        # In a data-parallel run every process draws its own questions: the main process saves each one's
        # generators, and every process waits until the file is written.
        rngs = self.processes.gather(state["rng"])
        path = Path(path)
        if self.processes.is_main:
            save_checkpoint(
                path,
                CHECKPOINT_KIND,
                {
                    "config": self.config.to_dict(),
                    "progress": self.iteration,
                    "metrics": self.metrics,
                    **state,
                    **({"process_rngs": rngs} if self.processes.distributed else {}),
                    "processes": self.processes.count,
                    "kl_controller": self.kl_controller.state_dict(),
                    "weights": self.weights,
                    **dict(extra or {}),
                },
            )
        self.processes.wait()
        return path

    def load_checkpoint(self, path: str | os.PathLike[str]) -> dict[str, Any]:
        """Restore a checkpoint of a run with the same settings and reward weights; raise CheckpointError otherwise.

        ``iterations`` and ``checkpoint_every`` may differ: a resumed run may go on for longer.
        """
        data = load_checkpoint(path, CHECKPOINT_KIND)
        check_settings(path, data["config"], self.config.to_dict(), ignore=("iterations", "checkpoint_every"))
        if data.get("weights") != self.weights:
            raise CheckpointError(
                f"checkpoint {str(path)!r} was trained with reward weights {data.get('weights')}, not {self.weights}"
            )
        saved_processes = int(data.get("processes", 1))
        if saved_processes != self.processes.count:
            raise CheckpointError(
                f"checkpoint {str(path)!r} was written by a run of {saved_processes} process(es); resume it with "
                f"the same number, not {self.processes.count} (each process continues its own sampling)"
            )
        if self.processes.distributed:
            data = {**data, "rng": data["process_rngs"][self.processes.index]}
        restore_training_state(path, data, self.actor_critic, self.optimizer, self.scheduler, self.np_rng)
        self.kl_controller.load_state_dict(data["kl_controller"])
        self.iteration = int(data["progress"])
        self.metrics = list(data["metrics"])
        return data
