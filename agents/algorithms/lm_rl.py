"""The pieces every reinforcement-learning trainer of a language-model policy shares, whatever its update rule.

A trainer of :mod:`agents.algorithms.registry` (PPO, or a REINFORCE with a group baseline) samples answers,
replays them through the environment for their token rewards, and scores response tokens under its models.
Those steps live here, so a second trainer reuses them rather than copying PPO's:

1. **Masked statistics** (:func:`masked_mean`, :func:`masked_var`, :func:`whiten`) over ``[batch, tokens]``
   tensors whose ``mask`` is 1.0 on trained tokens; ``total`` sums over the processes of a data-parallel run.
2. **Batches grouped by prompt** (:class:`SequenceBatch`): the ``k`` answers to one question share a single
   pass over its prompt; :func:`forward_responses` gives the logits at each response token (causal or
   encoder-decoder models), :func:`logprobs_of` and :func:`reference_logprobs` their log-probabilities.
3. **Rollouts** (:func:`sample_rollouts`, :func:`build_rollouts`): one batched ``generate`` call, the answers
   replayed sentence by sentence through copies of the scheme-wrapped environment, every segment's weighted
   reward on its last token; and the per-component reward statistics logged beside them.
4. **Per-component normalisation** (:func:`normalized_token_rewards`, GDPO's normalise-then-sum on token
   rewards): each reward component's returns standardised over a group of answers before the weighted sum.

Example (a group baseline, the core of a REINFORCE or GRPO update):
    >>> import gymnasium as gym, fg_env
    >>> from fg_env.envs.vector import FineGrainedQAVectorEnv
    >>> from agents.experiments.schemes import get_scheme
    >>> from agents.testing import tiny_policy
    >>> policy, env = tiny_policy(), get_scheme("fine-grained").wrap(gym.make("FineGrainedQA-v0", max_sentences=2))
    >>> prompts = [env.unwrapped.examples[0].prompt] * 2
    >>> rollouts, _, _ = sample_rollouts(policy, FineGrainedQAVectorEnv.from_env(env, 2), prompts, [0, 0],
    ...                                  group_size=2, max_new_tokens=8, seed=0)
    >>> returns = rollouts.scores.sum(-1)
    >>> advantages = returns - returns.view(-1, 2).mean(-1).repeat_interleave(2)
    >>> logits, _ = forward_responses(policy.model, rollouts.batch)
    >>> logprobs_of(logits, rollouts.batch.response_ids).shape == rollouts.mask.shape
    True
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, cast

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from agents.algorithms.model_setup import autocast
from agents.policies.policy import forward_keywords
from fg_env.errors import InvalidValueError

__all__ = [
    "Rollouts",
    "SequenceBatch",
    "build_rollouts",
    "component_reward_stats",
    "exact_reward_stats",
    "forward_responses",
    "logprobs_of",
    "masked_mean",
    "masked_var",
    "NORMALIZATION_EPS",
    "component_returns",
    "group_mean_std",
    "normalized_token_rewards",
    "reference_logprobs",
    "sample_rollouts",
    "segment_weights",
    "whiten",
]

# ----------------------------------------------------------------------------------------------------
# 1. Masked statistics: ``mask`` is 1.0 on tokens that are trained on (real, inside the episode) and 0.0
#    on padding and on tokens cut off by truncation.
# ----------------------------------------------------------------------------------------------------


def _local(tensor: torch.Tensor) -> torch.Tensor:
    return tensor


def masked_mean(
    values: torch.Tensor, mask: torch.Tensor, total: Callable[[torch.Tensor], torch.Tensor] = _local
) -> torch.Tensor:
    """Mean of ``values`` over the entries where ``mask`` is 1; ``total`` adds a sum up over the processes of a
    data-parallel run (:meth:`agents.algorithms.distributed.Processes.sum`), so the mean is the global batch's."""
    return total((values * mask).sum()) / total(mask.sum()).clamp(min=1.0)


def masked_var(
    values: torch.Tensor, mask: torch.Tensor, total: Callable[[torch.Tensor], torch.Tensor] = _local
) -> torch.Tensor:
    """Unbiased variance of ``values`` over the entries where ``mask`` is 1 (0 for fewer than 2)."""
    count = total(mask.sum())
    if count < 2:
        return torch.zeros((), dtype=values.dtype, device=values.device)
    mean = masked_mean(values, mask, total)
    return total((((values - mean) ** 2) * mask).sum()) / (count - 1)


def whiten(
    values: torch.Tensor,
    mask: torch.Tensor,
    shift_mean: bool = True,
    eps: float = 1e-8,
    total: Callable[[torch.Tensor], torch.Tensor] = _local,
) -> torch.Tensor:
    """Normalise ``values`` over the masked entries (of every process, with ``total``); masked-out entries
    come back as 0.

    ``shift_mean=True`` gives ``(x - mean) / std`` (used for advantages). ``shift_mean=False`` gives
    ``x / std``: a pure rescaling that keeps every reward's sign (the paper's reward whitening).

    Example:
        >>> x = torch.tensor([[1.0, 3.0, 99.0]]); m = torch.tensor([[1.0, 1.0, 0.0]])
        >>> whiten(x, m, shift_mean=False)  # std of (1, 3) is sqrt(2)
        tensor([[0.7071, 2.1213, 0.0000]])
    """
    std = torch.sqrt(masked_var(values, mask, total) + eps)
    centred = values - masked_mean(values, mask, total) if shift_mean else values
    return centred / std * mask


# ----------------------------------------------------------------------------------------------------
# 2. Batches grouped by prompt, and the log-probabilities of their responses
# ----------------------------------------------------------------------------------------------------


@dataclass
class SequenceBatch:
    """Answers grouped by prompt: ``G`` prompts, each with ``k`` sampled responses (``B = G * k`` rows).

    The paper samples several answers per question; the ``k`` answers of a question share its prompt,
    so every forward pass runs the prompt once per group and its keys and values are repeated for the
    group's responses (exactly the same result as running each prompt+response row, at a fraction of
    the cost: prompts are several times longer than answers here).
    """

    prompt_ids: torch.Tensor  # (G, P) left-padded
    prompt_mask: torch.Tensor  # (G, P) 1 on real prompt tokens
    response_ids: torch.Tensor  # (B, R) right-padded
    response_mask: torch.Tensor  # (B, R) 1 on real response tokens (attention; not the training mask)
    group_size: int  # k

    def rows(self, groups: np.ndarray | Sequence[int]) -> SequenceBatch:
        """The given groups (and their responses), with all-padding columns cut off.

        Prompt columns that are padding in every kept group carry no attention and, with explicit
        position ids, shift nothing; response columns past every kept row's end cannot affect earlier
        tokens of a causal model. Results are the same up to float rounding.
        """
        index = torch.as_tensor(np.asarray(groups), dtype=torch.long, device=self.prompt_ids.device)
        k = self.group_size
        episode_rows = (index[:, None] * k + torch.arange(k, device=index.device)).flatten()
        prompt_ids, prompt_mask = self.prompt_ids[index], self.prompt_mask[index]
        used = prompt_mask.any(dim=0).nonzero()
        left = int(used[0]) if len(used) else prompt_mask.shape[1] - 1
        response_ids, response_mask = self.response_ids[episode_rows], self.response_mask[episode_rows]
        used = response_mask.any(dim=0).nonzero()
        width = int(used[-1]) + 1 if len(used) else 1
        return SequenceBatch(
            prompt_ids[:, left:], prompt_mask[:, left:], response_ids[:, :width], response_mask[:, :width], k
        )

    def to(self, device: torch.device | str) -> SequenceBatch:
        """The batch on ``device`` (the policy's)."""
        return SequenceBatch(
            self.prompt_ids.to(device),
            self.prompt_mask.to(device),
            self.response_ids.to(device),
            self.response_mask.to(device),
            self.group_size,
        )

    def episode_rows(self, groups: np.ndarray | Sequence[int]) -> np.ndarray:
        """Row indices (into ``B``) of the responses of ``groups``."""
        groups = np.asarray(groups)
        return (groups[:, None] * self.group_size + np.arange(self.group_size)).reshape(-1)


def forward_responses(
    model: nn.Module, batch: SequenceBatch, output_hidden: bool = False, one_pass: bool = False
) -> tuple[torch.Tensor, torch.Tensor | None]:
    """Logits (and last hidden states) at the positions that predict each response token.

    Returns ``(logits (B, R, V), hidden (B, R, H) or None)``: position ``t`` holds the model's output
    for the state "prompt + response[:t]", which predicts response token ``t`` and is the state the
    critic values. The prompt runs once per group; its KV cache is repeated for the ``k`` responses.
    ``one_pass`` runs each prompt and response as one sequence instead, without a cache (gradient
    checkpointing keeps none).
    """
    if getattr(getattr(model, "config", None), "is_encoder_decoder", False):
        return _forward_encoder_decoder(model, batch, output_hidden)
    if one_pass:
        return _forward_one_pass(model, batch, output_hidden)
    k = batch.group_size
    prompt_positions = (batch.prompt_mask.cumsum(-1) - 1).clamp(min=0)
    cache_keyword, takes_logits_to_keep = forward_keywords(model)
    # Only the prompt's last position predicts a response token: the output layer runs there alone.
    keep = {"logits_to_keep": 1} if takes_logits_to_keep else {}
    prompt_out = model(
        input_ids=batch.prompt_ids,
        attention_mask=batch.prompt_mask,
        position_ids=prompt_positions,
        use_cache=True,
        output_hidden_states=output_hidden,
        **keep,
    )
    cache = prompt_out.get("cache", None) or prompt_out.get("past_key_values")
    cache.batch_repeat_interleave(k)
    attention = torch.cat([batch.prompt_mask.repeat_interleave(k, dim=0), batch.response_mask], dim=1)
    prompt_lengths = batch.prompt_mask.sum(-1).repeat_interleave(k)
    response_positions = prompt_lengths[:, None] + torch.arange(
        batch.response_ids.shape[1], device=prompt_lengths.device
    )
    response_out = model(
        input_ids=batch.response_ids,
        attention_mask=attention,
        position_ids=response_positions,
        use_cache=True,
        output_hidden_states=output_hidden,
        **{cache_keyword: cache},
    )
    # Token 0 is predicted by the prompt's last position; token t >= 1 by response position t - 1.
    logits = torch.cat([prompt_out.logits[:, -1:].repeat_interleave(k, dim=0), response_out.logits[:, :-1]], dim=1)
    hidden = None
    if output_hidden:
        hidden = torch.cat(
            [prompt_out.hidden_states[-1][:, -1:].repeat_interleave(k, dim=0), response_out.hidden_states[-1][:, :-1]],
            dim=1,
        )
    return logits.float(), hidden


def _forward_encoder_decoder(
    model: nn.Module, batch: SequenceBatch, output_hidden: bool
) -> tuple[torch.Tensor, torch.Tensor | None]:
    """:func:`forward_responses` for an encoder-decoder model (T5): the encoder reads each prompt once, its
    states are repeated for the group's ``k`` answers, and the decoder reads each answer shifted right
    behind its start token, so position ``t`` predicts response token ``t``."""
    from transformers.modeling_outputs import BaseModelOutput

    k = batch.group_size
    encoded = model.get_encoder()(input_ids=batch.prompt_ids, attention_mask=batch.prompt_mask)  # type: ignore[operator]
    states = BaseModelOutput(last_hidden_state=encoded.last_hidden_state.repeat_interleave(k, dim=0))
    rows = batch.response_ids.shape[0]
    start = torch.full(
        (rows, 1),
        int(cast(Any, model).config.decoder_start_token_id),
        dtype=torch.long,
        device=batch.response_ids.device,
    )
    out = model(
        encoder_outputs=states,
        attention_mask=batch.prompt_mask.repeat_interleave(k, dim=0),
        decoder_input_ids=torch.cat([start, batch.response_ids[:, :-1]], dim=1),
        decoder_attention_mask=torch.cat([torch.ones_like(start), batch.response_mask[:, :-1]], dim=1),
        output_hidden_states=output_hidden,
        use_cache=False,
    )
    hidden = out.decoder_hidden_states[-1] if output_hidden else None
    return out.logits.float(), hidden


def _forward_one_pass(
    model: nn.Module, batch: SequenceBatch, output_hidden: bool
) -> tuple[torch.Tensor, torch.Tensor | None]:
    """:func:`forward_responses` with prompt and response as one sequence per answer (no KV cache)."""
    k = batch.group_size
    prompt_ids = batch.prompt_ids.repeat_interleave(k, dim=0)
    prompt_mask = batch.prompt_mask.repeat_interleave(k, dim=0)
    attention = torch.cat([prompt_mask, batch.response_mask], dim=1)
    positions = (attention.cumsum(-1) - 1).clamp(min=0)
    out = model(
        input_ids=torch.cat([prompt_ids, batch.response_ids], dim=1),
        attention_mask=attention,
        position_ids=positions,
        use_cache=False,
        output_hidden_states=output_hidden,
    )
    width, length = prompt_ids.shape[1], batch.response_ids.shape[1]
    # Position width - 1 (the prompt's last token) predicts response token 0, and so on.
    logits = out.logits[:, width - 1 : width - 1 + length]
    hidden = out.hidden_states[-1][:, width - 1 : width - 1 + length] if output_hidden else None
    return logits.float(), hidden


def logprobs_of(logits: torch.Tensor, tokens: torch.Tensor) -> torch.Tensor:
    """``log softmax(logits)[token]`` for each position: ``[B, T, V], [B, T] -> [B, T]``."""
    return torch.gather(F.log_softmax(logits, dim=-1), -1, tokens.unsqueeze(-1)).squeeze(-1)


@torch.no_grad()
def reference_logprobs(ref_model: nn.Module, batch: SequenceBatch, one_pass: bool = False) -> torch.Tensor:
    """Log-probs of the response tokens under the frozen reference policy."""
    logits, _ = forward_responses(ref_model, batch, one_pass=one_pass)
    return logprobs_of(logits, batch.response_ids)


# ----------------------------------------------------------------------------------------------------
# 3. Rollouts: sample, replay through the environment, rewards on tokens
# ----------------------------------------------------------------------------------------------------


@dataclass
class Rollouts:
    """One iteration's episodes, as tensors ready for PPO (``B`` episodes, ``R`` response tokens)."""

    batch: SequenceBatch  # prompts (one per group of k samples) and responses
    mask: torch.Tensor  # (B, R) float: 1 on response tokens the environment saw (not padding, not cut off)
    scores: torch.Tensor  # (B, R): weighted segment rewards on each segment's last token
    records: list[Any] = field(default_factory=list)  # the EpisodeRecords, for logging


def build_rollouts(
    generations: Sequence[Any],
    records: Sequence[Any],
    token_scores: Sequence[np.ndarray],
    group_size: int,
    pad_token_id: int,
) -> Rollouts:
    """Pad generations (``group_size`` consecutive ones per prompt) and their token rewards into tensors."""
    if len(generations) % group_size:
        raise InvalidValueError(f"{len(generations)} generations do not form groups of {group_size}")
    groups = [generations[i : i + group_size] for i in range(0, len(generations), group_size)]
    for group in groups:
        if any(g.prompt_ids != group[0].prompt_ids for g in group):
            raise InvalidValueError("the generations of a group must share one prompt")
    prompt_width = max(len(group[0].prompt_ids) for group in groups)
    response_width = max(max(len(g.response_ids) for g in generations), 1)
    prompt_ids = torch.full((len(groups), prompt_width), pad_token_id, dtype=torch.long)
    prompt_mask = torch.zeros_like(prompt_ids)
    for row, group in enumerate(groups):
        ids = group[0].prompt_ids
        prompt_ids[row, prompt_width - len(ids) :] = torch.tensor(ids, dtype=torch.long)
        prompt_mask[row, prompt_width - len(ids) :] = 1
    response_ids = torch.full((len(generations), response_width), pad_token_id, dtype=torch.long)
    response_mask = torch.zeros_like(response_ids)
    mask = torch.zeros(len(generations), response_width)
    scores = torch.zeros(len(generations), response_width)
    for row, (g, record, values) in enumerate(zip(generations, records, token_scores)):
        n = len(g.response_ids)
        response_ids[row, :n] = torch.tensor(g.response_ids, dtype=torch.long)
        response_mask[row, :n] = 1
        mask[row, : record.num_used_tokens] = 1.0
        scores[row, :n] = torch.as_tensor(np.asarray(values[:n]), dtype=torch.float32)
    batch = SequenceBatch(prompt_ids, prompt_mask, response_ids, response_mask, group_size)
    return Rollouts(batch=batch, mask=mask, scores=scores * mask, records=list(records))


def segment_weights(env: Any) -> dict[str, float]:
    """The weight of each reward component's segments in the reward ``env`` returns.

    A scalarising wrapper (a reward scheme) states them as ``segment_weights`` and writes them on every
    segment; a bare vector environment gets its ``default_weights`` (the paper's), as
    :func:`agents.algorithms.rollout.token_rewards` gives it.

    Example:
        >>> import gymnasium as gym, fg_env
        >>> from fg_env.wrappers import HolisticReward
        >>> segment_weights(HolisticReward(gym.make("FineGrainedQA-v0")))
        {'holistic': 1.0}
    """
    try:
        return {name: float(w) for name, w in env.get_wrapper_attr("segment_weights").items()}
    except AttributeError:
        names = env.get_wrapper_attr("reward_names")
        return {name: float(w) for name, w in zip(names, np.asarray(env.get_wrapper_attr("default_weights")).tolist())}


def component_reward_stats(records: Sequence[Any]) -> dict[str, float]:
    """Each reward component's episode return over ``records`` (:class:`~agents.algorithms.rollout.EpisodeRecord`; unweighted segment values summed per
    answer), as mean and std under the names TRL logs: ``rewards/relevance/mean`` and so on.

    Example:
        >>> from types import SimpleNamespace as R
        >>> seg = lambda name, value: R(component=name, value=value)
        >>> component_reward_stats([R(segments=(seg("relevance", 1.0), seg("relevance", -1.0))),
        ...                         R(segments=(seg("relevance", 1.0), seg("completeness", 0.5)))])
        {'rewards/relevance/mean': 0.5, 'rewards/relevance/std': 0.5, 'rewards/completeness/mean': 0.25, 'rewards/completeness/std': 0.25}
    """
    totals: list[dict[str, float]] = []
    names: dict[str, None] = {}
    for record in records:
        per_answer: dict[str, float] = {}
        for segment in record.segments:
            names.setdefault(segment.component)
            per_answer[segment.component] = per_answer.get(segment.component, 0.0) + float(segment.value)
        totals.append(per_answer)
    stats = {}
    for name in names:
        values = np.array([t.get(name, 0.0) for t in totals])
        stats[f"rewards/{name}/mean"] = float(values.mean())
        stats[f"rewards/{name}/std"] = float(values.std())
    return stats


def exact_reward_stats(records: Sequence[Any]) -> dict[str, float]:
    """What the exact reward says of answers a policy trained on another reward: their mean return under the
    exact env's own weights (``exact_return``), and per component ``exact_rewards/relevance/mean`` and so on.

    Example:
        >>> import gymnasium as gym, fg_env
        >>> from agents.algorithms.rollout import replay
        >>> from agents.testing import tiny_policy
        >>> env = gym.make("FineGrainedQA-v0", max_sentences=2)
        >>> generation = tiny_policy().generate([env.unwrapped.examples[0].prompt], max_new_tokens=12, seed=0)[0]
        >>> sorted(exact_reward_stats([replay(env, generation, index=0)]))[:2]
        ['exact_return', 'exact_rewards/completeness/mean']
    """
    returns = [float(np.dot(record.default_weights, record.total_reward())) for record in records]
    stats = {"exact_return": float(np.mean(returns)) if returns else 0.0}
    stats.update({f"exact_{key}": value for key, value in component_reward_stats(records).items()})
    return stats


def sample_rollouts(
    policy: Any,
    vector_env: Any,
    prompts: Sequence[str],
    indices: Sequence[int],
    *,
    group_size: int,
    max_new_tokens: int,
    seed: int,
    top_k: int = 20,
    temperature: float = 0.7,
    precision: str = "fp32",
) -> tuple[Rollouts, list[Any], dict[str, float]]:
    """Sample one answer per prompt (``group_size`` consecutive prompts per question) in one ``generate``
    call, replay them through ``vector_env`` (copies of the scheme-wrapped env, on questions ``indices``),
    and pad them with their token rewards into :class:`Rollouts` on the policy's device.

    Returns ``(rollouts, generations, timing)``; ``timing`` holds ``time_generate`` and ``time_env``.
    """
    from agents.algorithms.rollout import replay_batch, token_rewards

    start = time.perf_counter()
    with autocast(precision, policy.device):
        generations = policy.generate(
            list(prompts),
            max_new_tokens=max_new_tokens,
            do_sample=True,
            top_k=top_k,
            temperature=temperature,
            seed=seed,
        )
    generated = time.perf_counter()
    records = replay_batch(vector_env, generations, indices=list(indices))
    # Each segment carries the weight its scheme gave it (a bare env: the paper's weights).
    token_scores = [token_rewards(r) for r in records]
    replayed = time.perf_counter()

    rollouts = build_rollouts(generations, records, token_scores, group_size, policy.pad_token_id)
    device = policy.device  # the env's rewards are built on the CPU; the update runs where the policy is
    rollouts.batch, rollouts.mask, rollouts.scores = (
        rollouts.batch.to(device),
        rollouts.mask.to(device),
        rollouts.scores.to(device),
    )
    return rollouts, generations, {"time_generate": generated - start, "time_env": replayed - generated}


# ----------------------------------------------------------------------------------------------------
# 4. Per-component normalisation (GDPO: normalise each reward, then sum)
# ----------------------------------------------------------------------------------------------------

#: The epsilon of ``(R - mean) / (std + eps)``: TRL's (``GRPOTrainer``'s ``normalize_then_sum``), so that the two
#: normalisations agree on the same returns. A component whose spread in a group is at most this is left out.
NORMALIZATION_EPS = 1e-4


def component_returns(records: Sequence[Any], components: Sequence[str]) -> np.ndarray:
    """Each episode's unweighted return per component, ``(B, C)`` float64: the sum of the values of the
    component's segments (0 for a component with no segment in the episode).

    Example:
        >>> from types import SimpleNamespace as R
        >>> seg = lambda name, value: R(component=name, value=value)
        >>> component_returns([R(segments=(seg("relevance", 1.0), seg("relevance", -1.0), seg("completeness", 0.5)))],
        ...                   ["relevance", "completeness"]).tolist()
        [[0.0, 0.5]]
    """
    column = {name: k for k, name in enumerate(components)}
    returns = np.zeros((len(records), len(components)), dtype=np.float64)
    for row, record in enumerate(records):
        for segment in record.segments:
            if segment.component not in column:
                raise InvalidValueError(
                    f"no weight for reward component {segment.component!r}; weights cover {sorted(column)}"
                )
            returns[row, column[segment.component]] += float(segment.value)
    return returns


def group_mean_std(
    returns: torch.Tensor, group_size: int | None, total: Callable[[torch.Tensor], torch.Tensor] = _local
) -> tuple[torch.Tensor, torch.Tensor]:
    """Mean and unbiased standard deviation of each column of ``returns`` (``(B, C)``) over each episode's group,
    broadcast back to ``(B, C)``.

    ``group_size=k``: the groups are ``k`` consecutive rows (the answers sampled for one question, GRPO's and
    GDPO's group); they lie within one process, so ``total`` is not used. ``None``: one group, the whole batch,
    over every process of a data-parallel run (``total`` sums over them). A group of one row has std 0.

    Example:
        >>> r = torch.tensor([[1.0], [3.0], [5.0], [5.0]], dtype=torch.float64)
        >>> mean, std = group_mean_std(r, 2)
        >>> mean.flatten().tolist(), std.flatten().tolist()  # groups (1, 3) and (5, 5)
        ([2.0, 2.0, 5.0, 5.0], [1.4142135623730951, 1.4142135623730951, 0.0, 0.0])
        >>> [round(x, 4) for x in group_mean_std(r, None)[1].flatten().tolist()]  # one group of 4
        [1.9149, 1.9149, 1.9149, 1.9149]
    """
    rows, columns = returns.shape
    if group_size is not None:
        if group_size < 1 or rows % group_size:
            raise InvalidValueError(f"{rows} episodes do not form groups of {group_size}")
        grouped = returns.view(rows // group_size, group_size, columns)
        mean = grouped.mean(dim=1, keepdim=True)
        if group_size > 1:
            std = grouped.std(dim=1, keepdim=True)  # unbiased, as TRL's nanstd
        else:
            std = torch.zeros_like(mean)
        return mean.expand_as(grouped).reshape(rows, columns), std.expand_as(grouped).reshape(rows, columns)
    # The whole batch: sums over every process, the mean first, then the squared deviations from it.
    count = total(torch.tensor(float(rows), dtype=returns.dtype, device=returns.device))
    mean = total(returns.sum(dim=0)) / count.clamp(min=1.0)
    squares = total(((returns - mean) ** 2).sum(dim=0))
    std = torch.sqrt(squares / (count - 1)) if count > 1 else torch.zeros_like(mean)
    return mean.expand(rows, columns), std.expand(rows, columns)


def normalized_token_rewards(
    records: Sequence[Any],
    weights: Mapping[str, float],
    width: int,
    *,
    group_size: int | None,
    eps: float = NORMALIZATION_EPS,
    total: Callable[[torch.Tensor], torch.Tensor] = _local,
    device: torch.device | str = "cpu",
) -> tuple[torch.Tensor, dict[str, float]]:
    """Per-token rewards ``(B, width)`` with each reward component normalised over its group before the weighted
    sum (GDPO's normalise-then-sum, with the dense placement kept), and the share of episodes whose group had no
    spread in each component (``rewards/<name>/zero_spread``).

    For component ``c`` with weight ``w_c`` (``weights``: the scheme's, :func:`segment_weights`), episode ``b``
    of group ``g`` and ``R_c(b)`` the sum of the values of ``c``'s segments in ``b``::

        mu_c,g, sigma_c,g = mean and unbiased std of R_c over the episodes of g     (group_mean_std)
        r_t(b) = sum_c w_c / (sigma_c,g + eps) * [ sum of c's segment values whose last token is t
                                                    - (t == final token of b) * mu_c,g ]

    so the variable part keeps its placement (each segment's value, scaled, on its last token) and the mean
    is removed once, on the final token: each episode's normalised return of ``c`` is exactly
    ``(R_c(b) - mu_c,g) / (sigma_c,g + eps)``, and its total return ``sum_c w_c (R_c - mu_c,g) / (sigma_c,g + eps)``.
    A component with ``sigma_c,g <= eps`` in a group contributes 0 there: its answers agree (up to rounding),
    so it says nothing to prefer one over another, and dividing its segment values by ``eps`` would put
    rewards of order ``value / eps`` on single tokens that only cancel in the return.

    ``group_size=k``: each run of ``k`` consecutive records (a question's answers) is a group; ``None``: the
    whole batch, over every process with ``total``. Tokens past an episode's ``num_used_tokens`` get 0.

    Example (one group: relevance returns 1, 2, 0 with mean 1 and std 1; completeness 0.5 everywhere: no spread):
        >>> from agents.algorithms.rollout import EpisodeRecord, SegmentRecord
        >>> from agents.policies.policy import Generation
        >>> def record(relevance_tokens):
        ...     g = Generation("p", [0], [5, 6, 7], "a b c", [1, 3, 5], finished=False)
        ...     seg = lambda c, v, t: SegmentRecord(component=c, granularity="sentence", start=0, end=1, text="a",
        ...                                         value=v, label=None, step=0, token_index=t)
        ...     segments = [seg("relevance", 1.0, t) for t in relevance_tokens] + [seg("completeness", 0.5, 2)]
        ...     return EpisodeRecord("q", g, "a b c", ("relevance", "completeness"), (0.3, 0.3), np.zeros((1, 2)),
        ...                          np.ones((1, 2), bool), tuple(segments), True, False, 3, 2)
        >>> rewards, zero = normalized_token_rewards([record([0]), record([0, 1]), record([])],
        ...                                          {"relevance": 1.0, "completeness": 1.0}, 3, group_size=3)
        >>> [[round(x, 3) for x in row] for row in rewards.tolist()]  # (R - 1) / (1 + eps) per answer
        [[1.0, 0.0, -1.0], [1.0, 1.0, -1.0], [0.0, 0.0, -1.0]]
        >>> zero
        {'rewards/relevance/zero_spread': 0.0, 'rewards/completeness/zero_spread': 1.0}
    """
    from fg_env.tokens import component_token_rewards

    components = list(weights)
    rows = len(records)
    returns = torch.as_tensor(component_returns(records, components), device=device)
    # (C, B, width): component c's unweighted segment values on their tokens (fg_env.tokens' placement).
    values = torch.zeros(len(components), rows, width, dtype=torch.float64)
    for row, record in enumerate(records):
        placed = component_token_rewards(record.placement, components=components)[:, :width]
        values[:, row, : placed.shape[1]] = torch.from_numpy(placed.astype(np.float64))
    values = values.to(device)

    mean, std = group_mean_std(returns, group_size, total)  # (B, C) each
    spread = std > eps
    scale = torch.where(spread, 1.0 / (std + eps), torch.zeros_like(std))  # (B, C): 0 for no spread
    weight = torch.tensor([float(weights[name]) for name in components], dtype=torch.float64, device=device)
    rewards = torch.einsum("cbt,bc,c->bt", values, scale, weight)
    finals = torch.tensor([record.final_token_index for record in records], dtype=torch.long, device=device)
    rewards[torch.arange(rows, device=device), finals] -= (mean * scale * weight).sum(dim=1)
    zero_spread = {
        f"rewards/{name}/zero_spread": float((~spread[:, k]).double().mean()) if rows else 0.0
        for k, name in enumerate(components)
    }
    return rewards.float(), zero_spread
