"""A decoder that can copy: Llama with a pointer head (See et al. 2017's pointer-generator, decoder-only).

Answers in a grounded QA world are mostly names, titles and years read from the passages. A small
language model trained from scratch learns the answers' phrasing quickly but copies badly: it writes a
frequent first name or year where the passage has a rare one (measured on the default policy: factuality
ratio 0.18 after 20k questions). A pointer head gives copying its own path: at each position an attention
over every earlier token proposes "the next token is the token at position j", and a learned gate mixes
that distribution with the vocabulary's::

    p(w) = g * softmax(lm_head(h_t))[w] + (1 - g) * sum_{j <= t, x_j = w} a_tj

The model returns ``log p`` as its logits, so everything that samples from or scores a causal LM
(``generate``, PPO's log-probabilities, top-k/temperature sampling) works unchanged: ``softmax(log p) = p``.

The pointer's keys are cached like one more attention layer (the last entry of the KV cache; its
"values" are the token ids), so ``generate`` and step-wise acting reuse the cache as for any decoder:
``crop``, ``batch_repeat_interleave`` and ``reorder`` treat it as they treat the other layers.

Example:
    >>> import torch
    >>> config = PointerLlamaConfig(vocab_size=50, hidden_size=32, intermediate_size=64, num_hidden_layers=1,
    ...                             num_attention_heads=4, num_key_value_heads=4)
    >>> model = PointerLlamaForCausalLM(config)
    >>> logits = model(torch.tensor([[5, 6, 7]])).logits
    >>> logits.shape, bool(torch.allclose(logits.exp().sum(-1), torch.ones(1, 3), atol=1e-5))
    (torch.Size([1, 3, 50]), True)
"""

from __future__ import annotations

import math
from typing import Any

import torch
from torch import nn
from transformers import AutoConfig, AutoModelForCausalLM, LlamaConfig, LlamaForCausalLM
from transformers.cache_utils import Cache, DynamicLayer
from transformers.modeling_outputs import CausalLMOutputWithPast

from fg_env.errors import InvalidValueError

__all__ = ["PointerLlamaConfig", "PointerLlamaForCausalLM"]


class PointerLlamaConfig(LlamaConfig):
    """:class:`~transformers.LlamaConfig` plus the pointer head's size (``pointer_dim``, default the hidden size)."""

    model_type = "fg_pointer_llama"
    # Hub configs of custom code carry `auto_map`; tools that load a model by its config (TRL's RLOO
    # reference model) read it. This class is registered with the Auto classes instead: none needed.
    auto_map = {}  # type: ignore[var-annotated]  # noqa: RUF012 - read, never written

    def __init__(self, pointer_dim: int | None = None, **kwargs: Any):
        super().__init__(**kwargs)
        self.pointer_dim = pointer_dim or self.hidden_size


class PointerLlamaForCausalLM(LlamaForCausalLM):
    """Llama whose next-token distribution mixes the vocabulary with a copy of an earlier token (module docstring)."""

    config_class = PointerLlamaConfig

    def __init__(self, config: PointerLlamaConfig):
        super().__init__(config)
        self.pointer_query = nn.Linear(config.hidden_size, config.pointer_dim, bias=False)
        self.pointer_key = nn.Linear(config.hidden_size, config.pointer_dim, bias=False)
        self.pointer_gate = nn.Linear(config.hidden_size, 1)
        self.post_init()

    def _pointer_layer(self, cache: Cache) -> int:
        """The cache index of the pointer's keys: one past the decoder layers (added on first use)."""
        index = self.config.num_hidden_layers
        while len(cache.layers) <= index:
            cache.layers.append(DynamicLayer())
        return index

    def forward(
        self,
        input_ids: torch.LongTensor | None = None,
        attention_mask: torch.Tensor | None = None,
        position_ids: torch.LongTensor | None = None,
        cache: Cache | None = None,
        inputs_embeds: torch.Tensor | None = None,
        labels: torch.LongTensor | None = None,
        use_cache: bool | None = None,
        logits_to_keep: int | torch.Tensor = 0,
        **kwargs: Any,
    ) -> CausalLMOutputWithPast:
        if input_ids is None:
            raise InvalidValueError("PointerLlamaForCausalLM needs input_ids: the pointer copies token ids")
        outputs = self.model(
            input_ids=input_ids,
            attention_mask=attention_mask,
            position_ids=position_ids,
            cache=cache,
            use_cache=use_cache,
            **kwargs,
        )
        hidden = outputs.last_hidden_state  # (B, T, H), after the final norm
        keys = self.pointer_key(hidden).unsqueeze(1)  # (B, 1, T, D): one "head"
        ids = input_ids.to(hidden.dtype).unsqueeze(1).unsqueeze(-1)  # (B, 1, T, 1)
        kept_cache = outputs.cache if use_cache is not False else None
        if kept_cache is not None:
            keys, ids = kept_cache.layers[self._pointer_layer(kept_cache)].update(keys, ids)
        if isinstance(logits_to_keep, int) and logits_to_keep > 0:
            hidden = hidden[:, -logits_to_keep:]
        elif isinstance(logits_to_keep, torch.Tensor):
            hidden = hidden[:, logits_to_keep]
        log_probs = self.mixed_log_probs(hidden, keys.squeeze(1), ids.squeeze(1).squeeze(-1).long(), attention_mask)
        loss = None
        if labels is not None:
            loss = self.loss_function(logits=log_probs, labels=labels, vocab_size=self.config.vocab_size, **kwargs)
        return CausalLMOutputWithPast(
            loss=loss,
            logits=log_probs,
            cache=outputs.cache,
            hidden_states=outputs.hidden_states,
            attentions=outputs.attentions,
        )

    def mixed_log_probs(
        self,
        hidden: torch.Tensor,
        keys: torch.Tensor,
        ids: torch.Tensor,
        attention_mask: torch.Tensor | None,
        select: torch.Tensor | None = None,
    ) -> torch.Tensor:
        """``log p`` of the next token at ``hidden``'s positions, the last ``T`` of the ``S`` keyed ones.

        ``hidden`` (B, T, H); ``keys`` (B, S, D) and ``ids`` (B, S) for every position so far;
        ``attention_mask`` (B, >= S) marks real tokens. Returns (B, T, V), or (N, V) for the N positions
        where the boolean ``select`` (B, T) is set: training scores only answer tokens, and the (T, V)
        copy distribution of every prompt token would cost more than the rest of the model.
        """
        steps, total = hidden.shape[1], keys.shape[1]
        first = total - steps  # absolute position of hidden[:, 0]
        scores = self.pointer_query(hidden) @ keys.transpose(1, 2) / math.sqrt(keys.shape[-1])  # (B, T, S)
        key_positions = torch.arange(total, device=hidden.device)
        query_positions = first + torch.arange(steps, device=hidden.device)
        allowed = (key_positions.unsqueeze(0) <= query_positions.unsqueeze(1)).unsqueeze(0)  # a token and its past
        if attention_mask is not None:
            allowed = allowed & attention_mask[:, -total:].bool().unsqueeze(1)
        scores = scores.float().masked_fill(~allowed, torch.finfo(torch.float32).min)
        rows = torch.arange(hidden.shape[0], device=hidden.device).unsqueeze(1).expand(-1, steps)
        if select is not None:
            hidden, scores, rows = hidden[select], scores[select], rows[select]
        attention = torch.softmax(scores, dim=-1)  # (..., S)
        copy = torch.zeros(*attention.shape[:-1], self.config.vocab_size, device=hidden.device)
        copy.scatter_add_(-1, ids[rows], attention)
        gate = self.pointer_gate(hidden).float()  # the vocabulary's share, as a logit
        vocab = torch.log_softmax(self.lm_head(hidden).float(), dim=-1)
        log_copy = torch.log(copy.clamp_min(1e-30))
        return torch.logaddexp(nn.functional.logsigmoid(gate) + vocab, nn.functional.logsigmoid(-gate) + log_copy)


# Saved folders name model_type "fg_pointer_llama"; registering makes the Auto classes load them.
AutoConfig.register(PointerLlamaConfig.model_type, PointerLlamaConfig)
AutoModelForCausalLM.register(PointerLlamaConfig, PointerLlamaForCausalLM)
