"""A language-model policy for fg_env: any Hugging Face causal LM, or encoder-decoder LM (the paper's T5), with a
fast tokenizer.

Two ways to act:

* :meth:`LMPolicy.generate` writes whole answers for a batch of prompts in ONE KV-cached
  ``model.generate`` call (top-k 20, temperature 0.7 by default, as in the paper; greedy on request) and
  returns, for each answer, the character offset where every response token ends. Rollouts replay the
  answers sentence by sentence through the environment and use those offsets to put each segment's reward
  on its last token (:mod:`agents.algorithms.rollout`).
* :meth:`LMPolicy.act` is a Gymnasium-style agent, ``act(obs) -> sentence``. It keeps the KV cache of the
  episode between calls, so each step costs only the tokens it generates, never a re-encoding of the
  prompt (``benchmarks/agent_act_vs_generate.py`` measures it against one-shot generation).

Token end offsets come from the tokenizer's offset mapping: the response is decoded once, the decoded text
is run through the fast tokenizer with ``return_offsets_mapping=True``, and when that gives back the very
ids that were generated the offsets are the tokenizer's own. Sampling often produces a tokenisation that
is not the canonical one (" the" generated as " t" + "he"); then the ids do not round-trip and the ends are
read from incremental decoding instead (see :func:`fg_env.tokens.token_end_chars`). Prefixes of the text are never
re-tokenised: that would split tokens differently from what the model generated.

An encoder-decoder model reads the prompt with its encoder and writes the answer with its decoder:
:meth:`LMPolicy.generate` and everything PPO needs work the same (``agents.algorithms.lm_rl.forward_responses`` runs
the encoder once per prompt); :meth:`LMPolicy.act`'s kept decoder cache is for causal models only.
"""

from __future__ import annotations

import inspect
import os
from collections import OrderedDict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, cast

import torch
from transformers import (
    AutoConfig,
    AutoModelForCausalLM,
    AutoModelForSeq2SeqLM,
    AutoTokenizer,
    DynamicCache,
    GenerationConfig,
    PreTrainedModel,
    PreTrainedTokenizerBase,
)

import agents.policies.pointer  # noqa: F401 - registers the pointer decoder with the Auto classes, so saved ones load
from agents.policies.cache import atomic_directory
from fg_env.errors import InvalidTypeError, InvalidValueError, PolicyLoadError
from fg_env.prompts import answer_prompt
from fg_env.text import split_sentences
from fg_env.tokens import token_end_chars  # where each token ends in the answer: fg_env's, re-exported here

__all__ = [
    "ANSWER_TOKENS",
    "GENERATION_TOKENS",
    "Generation",
    "LMPolicy",
    "PolicyLoadError",
    "auto_model_class",
    "forward_keywords",
    "token_end_chars",
]

#: The longest answer in tokens when an experiment names none: PPO's rollouts (``PPOConfig.max_new_tokens``)
#: and every greedy evaluation (``evaluate_policy``, ``fg-env evaluate``). The presets size it down (quick 64,
#: default 80); the paper's was 200 T5 tokens, for longer answers than the built-in world's.
ANSWER_TOKENS = 96
#: The longest generation of :meth:`LMPolicy.generate` and :meth:`LMPolicy.act` when the caller names none.
GENERATION_TOKENS = 128


@dataclass(frozen=True)
class Generation:
    """One generated answer with the token/character bookkeeping rollouts need.

    ``token_end_chars[i]`` is the offset in ``response_text`` where response token ``i`` ends: token ``i``
    covers ``response_text[token_end_chars[i-1]:token_end_chars[i]]``. Several tokens can end at the same
    offset (the bytes of one multi-byte character; a special token that decodes to nothing), and the
    end-of-sequence token ends at ``len(response_text)``.

    Example:
        >>> g = Generation("q answer:", [5, 6], [7, 8, 0], " Hi there", [3, 9, 9], finished=True)
        >>> g.response_text[: g.token_end_chars[0]]
        ' Hi'
    """

    prompt: str
    prompt_ids: list[int]
    response_ids: list[int]
    response_text: str
    token_end_chars: list[int]
    finished: bool
    prompt_truncated: bool = False

    def __post_init__(self) -> None:
        if len(self.token_end_chars) != len(self.response_ids):
            raise InvalidValueError(
                f"token_end_chars has {len(self.token_end_chars)} entries for {len(self.response_ids)} response tokens"
            )


def auto_model_class(config: Any) -> Any:
    """The Auto class that builds a policy of ``config``: seq2seq for an encoder-decoder model (T5), causal
    otherwise. Shared by loading a policy and by building it on the meta device to check it."""
    return AutoModelForSeq2SeqLM if getattr(config, "is_encoder_decoder", False) else AutoModelForCausalLM


def forward_keywords(model: torch.nn.Module) -> tuple[str, bool]:
    """The keyword a model's forward takes its KV cache by, and whether it accepts ``logits_to_keep``."""
    parameters = inspect.signature(model.forward).parameters
    cache_keyword = "cache" if "cache" in parameters else "past_key_values"
    return cache_keyword, "logits_to_keep" in parameters


def _context_length(model: PreTrainedModel) -> int | None:
    config = model.config
    for name in ("n_positions", "max_position_embeddings", "n_ctx", "max_sequence_length"):
        value = getattr(config, name, None)
        if isinstance(value, int) and value > 0:
            return value
    return None


@dataclass
class _ActState:
    """The state :meth:`LMPolicy.act` keeps for one episode between steps."""

    cache: Any
    next_logits: torch.Tensor  # logits for the next token, given everything in the cache
    num_cached: int  # tokens in the KV cache (prompt + response)
    base_text: str  # the observation's response when this state was created
    base_decoded: str  # decode(base ids); equals base_text unless the tokenizer does not round-trip
    ids: list[int]  # response ids: the base's, then generated ones
    num_base_ids: int
    emitted: int  # characters of ``text`` already returned as actions
    generated: int = 0  # tokens generated in this episode
    finished: bool = False
    generator: torch.Generator | None = None
    text: str = field(default="")


class LMPolicy:
    """A causal language model and its fast tokenizer, acting in fg_env.

    Example (a tiny random policy; ``LMPolicy.from_pretrained(folder)`` loads a real one):
        >>> from agents.testing import tiny_policy
        >>> policy = tiny_policy()
        >>> [g] = policy.generate(["question: Who? context: wikipage: A text: B. answer:"], max_new_tokens=8, do_sample=False)
        >>> len(g.response_ids) == len(g.token_end_chars) <= 8  # one end character per response token
        True
        >>> import gymnasium as gym, fg_env
        >>> env = gym.make("FineGrainedQA-v0")
        >>> obs, _ = env.reset(seed=0)
        >>> isinstance(policy.act(obs, max_new_tokens=8), str)  # one sentence at a time
        True
    """

    #: how many episodes :meth:`act` keeps KV caches for (least recently used ones are dropped)
    max_act_states: int = 16

    def __init__(self, model: PreTrainedModel, tokenizer: PreTrainedTokenizerBase, device: str | torch.device = "cpu"):
        if not getattr(tokenizer, "is_fast", False):
            raise PolicyLoadError(
                f"tokenizer {type(tokenizer).__name__} is not a fast (Rust `tokenizers`) tokenizer, so it has no "
                "offset mapping; LMPolicy needs offsets to place rewards on tokens. Load or convert a fast tokenizer."
            )
        try:
            tokenizer("probe", add_special_tokens=False, return_offsets_mapping=True)
        except NotImplementedError as error:
            raise PolicyLoadError(f"tokenizer {type(tokenizer).__name__} cannot return offsets: {error}") from error
        eos = tokenizer.eos_token_id
        if eos is None:
            eos = getattr(model.config, "eos_token_id", None)
            eos = eos[0] if isinstance(eos, (list, tuple)) and eos else eos
            if eos is None:
                raise PolicyLoadError("neither the tokenizer nor the model config defines an end-of-sequence token")
            tokenizer.eos_token = tokenizer.convert_ids_to_tokens(int(cast(int, eos)))
        if tokenizer.pad_token_id is None:
            # Padding only ever sits outside the attention mask, so the eos token is a safe stand-in.
            tokenizer.pad_token = tokenizer.eos_token
        tokenizer.padding_side = "left"
        self.device = torch.device(device)
        self.model: PreTrainedModel = model.to(self.device)  # type: ignore[arg-type]
        self.model.eval()
        self.tokenizer = tokenizer
        self.eos_token_id = int(tokenizer.eos_token_id)
        self.pad_token_id = int(tokenizer.pad_token_id)
        self.context_length = _context_length(model)
        # An encoder-decoder model (T5) reads the prompt with its encoder: the answer takes no room there.
        self.is_encoder_decoder = bool(getattr(model.config, "is_encoder_decoder", False))
        self._cache_keyword, self._logits_to_keep = forward_keywords(model)
        self._act_states: OrderedDict[tuple[str, str], _ActState] = OrderedDict()

    # ------------------------------------------------------------------ loading and saving
    @classmethod
    def from_pretrained(
        cls, path_or_name: str | os.PathLike[str], device: str | torch.device = "cpu", dtype: torch.dtype | None = None
    ) -> LMPolicy:
        """Load a model folder (``save_pretrained`` layout), or a hub name when online.

        A path that does not exist raises :class:`PolicyLoadError` at once, naming it; so does any name
        while ``HF_HUB_OFFLINE`` is set, since nothing would be downloaded.
        """
        text = os.fspath(path_or_name)
        path = Path(text).expanduser()
        offline = os.environ.get("HF_HUB_OFFLINE", "").lower() in {"1", "true", "yes", "on"}
        if path.exists():
            if not path.is_dir():
                raise PolicyLoadError(f"model path {str(path)!r} is a file, not a model folder")
            if not (path / "config.json").is_file():
                raise PolicyLoadError(
                    f"model path {str(path)!r} holds no config.json: it is not a Hugging Face model folder"
                )
            source, local_only = str(path), True
        else:
            looks_like_path = (
                text.startswith(("/", ".", "~")) or text.count("/") > 1 or os.sep != "/" and os.sep in text
            )
            if looks_like_path or offline:
                why = (
                    " (HF_HUB_OFFLINE is set, so hub names are not looked up)"
                    if offline and not looks_like_path
                    else ""
                )
                raise PolicyLoadError(f"model path {text!r} does not exist{why}")
            source, local_only = text, False
        try:
            tokenizer = AutoTokenizer.from_pretrained(source, local_files_only=local_only)
        except Exception as error:  # noqa: BLE001 - re-raised with the path named
            raise PolicyLoadError(f"could not load a tokenizer from {source!r}: {error}") from error
        if not getattr(tokenizer, "is_fast", False):
            raise PolicyLoadError(
                f"the tokenizer at {source!r} ({type(tokenizer).__name__}) is not a fast tokenizer, so it has no "
                "offset mapping; provide a tokenizer.json (fast tokenizer) with the model"
            )
        kwargs: dict[str, Any] = {"local_files_only": local_only}
        if dtype is not None:
            kwargs["dtype"] = dtype
        try:
            config = AutoConfig.from_pretrained(source, local_files_only=local_only)
            model = auto_model_class(config).from_pretrained(source, config=config, **kwargs)
        except Exception as error:  # noqa: BLE001
            raise PolicyLoadError(
                f"could not load a causal or encoder-decoder language model from {source!r}: {error}"
            ) from error
        return cls(model, tokenizer, device=device)

    def save_pretrained(self, path: str | os.PathLike[str]) -> None:
        """Write model and tokenizer to ``path`` atomically (a temporary folder, then one rename)."""
        with atomic_directory(path) as tmp:
            self.model.save_pretrained(tmp)
            self.tokenizer.save_pretrained(tmp)

    # ------------------------------------------------------------------ one-shot batched generation
    def _prompt_ids(self, prompt: str, max_new_tokens: int) -> tuple[list[int], bool]:
        """Token ids of ``prompt``, cut from the LEFT so that prompt + answer fit in the context."""
        ids = list(self.tokenizer(prompt)["input_ids"])
        if self.context_length is None:
            return ids, False
        room = self.context_length if self.is_encoder_decoder else self.context_length - max_new_tokens
        if room <= 0:
            raise InvalidValueError(
                f"max_new_tokens={max_new_tokens} leaves no room for the prompt in a context of {self.context_length} tokens"
            )
        # The end of the prompt ("... answer:") is what the answer continues, so the start is what goes.
        return (ids[-room:], True) if len(ids) > room else (ids, False)

    def _generation_config(
        self, max_new_tokens: int, do_sample: bool, top_k: int, temperature: float
    ) -> GenerationConfig:
        if max_new_tokens < 1:
            raise InvalidValueError(f"max_new_tokens must be >= 1, got {max_new_tokens}")
        settings: dict[str, Any] = dict(
            max_new_tokens=max_new_tokens,
            do_sample=do_sample,
            pad_token_id=self.pad_token_id,
            eos_token_id=self.eos_token_id,
            use_cache=True,
        )
        if do_sample:
            if temperature <= 0 or top_k < 1:
                raise InvalidValueError(f"sampling needs temperature > 0 and top_k >= 1, got {temperature} and {top_k}")
            # top_p=1.0 explicitly: a hub model's own generation_config must not change the paper's sampler.
            settings.update(top_k=top_k, temperature=temperature, top_p=1.0)
        return GenerationConfig(**settings)

    @torch.inference_mode()
    def generate(
        self,
        prompts: Sequence[str],
        *,
        max_new_tokens: int = GENERATION_TOKENS,
        do_sample: bool = True,
        top_k: int = 20,
        temperature: float = 0.7,
        seed: int | None = None,
        num_return_sequences: int = 1,
    ) -> list[Generation]:
        """Answers for ``prompts`` from ONE batched, KV-cached ``model.generate`` call (left padding).

        ``seed`` makes sampling reproducible without touching the caller's global torch RNG. With
        ``num_return_sequences=k`` each prompt gets k answers (consecutive in the result) and its prompt is
        encoded once: the prompt's KV cache is computed once and shared by its k answers.
        """
        if isinstance(prompts, str):
            raise InvalidTypeError("generate() takes a list of prompts; wrap a single prompt in a list")
        if not isinstance(num_return_sequences, int) or num_return_sequences < 1:
            raise InvalidValueError(f"num_return_sequences must be a positive integer, got {num_return_sequences!r}")
        if not prompts:
            return []
        config = self._generation_config(max_new_tokens, do_sample, top_k, temperature)
        encoded = [self._prompt_ids(p, max_new_tokens) for p in prompts]
        width = max(len(ids) for ids, _ in encoded)
        input_ids = torch.full((len(prompts), width), self.pad_token_id, dtype=torch.long)
        attention_mask = torch.zeros((len(prompts), width), dtype=torch.long)
        for row, (ids, _) in enumerate(encoded):
            input_ids[row, width - len(ids) :] = torch.tensor(ids, dtype=torch.long)
            attention_mask[row, width - len(ids) :] = 1
        input_ids, attention_mask = input_ids.to(self.device), attention_mask.to(self.device)
        k = num_return_sequences
        extra: dict[str, Any] = {}
        if k > 1:
            if not self.is_encoder_decoder:  # an encoder-decoder's prompt cache is its encoder's output
                extra[self._cache_keyword] = self._shared_prefill(input_ids, attention_mask, k)
            input_ids = input_ids.repeat_interleave(k, dim=0)
            attention_mask = attention_mask.repeat_interleave(k, dim=0)
        with torch.random.fork_rng(devices=[self.device] if self.device.type == "cuda" else []):
            if seed is not None:
                torch.manual_seed(seed)
            output = self.model.generate(  # type: ignore[operator]
                input_ids=input_ids, attention_mask=attention_mask, generation_config=config, **extra
            )
        generations = []
        rows = [(prompt, item) for prompt, item in zip(prompts, encoded) for _ in range(k)]
        # A causal model's output repeats the prompt; a decoder's starts with its start token.
        first = 1 if self.is_encoder_decoder else width
        for row, (prompt, (ids, truncated)) in enumerate(rows):
            response = output[row, first:].tolist()
            finished = self.eos_token_id in response
            if finished:  # keep the eos, drop the padding generate put after it
                response = response[: response.index(self.eos_token_id) + 1]
            generations.append(self._make_generation(prompt, ids, response, finished, truncated))
        return generations

    def _shared_prefill(self, input_ids: torch.Tensor, attention_mask: torch.Tensor, k: int) -> Any:
        """The KV cache of every prompt but its last token, computed once and repeated k times.

        ``generate`` then only runs the last prompt token for each of the k copies; without this it would
        encode each prompt k times (its own ``num_return_sequences`` expands the inputs before encoding).
        """
        cache = DynamicCache(config=self.model.config)
        if input_ids.shape[1] > 1:
            # Positions count real tokens only, as generate() computes them under left padding.
            positions = (attention_mask.cumsum(dim=1) - 1).clamp(min=0)
            kwargs: dict[str, Any] = {self._cache_keyword: cache, "use_cache": True}
            if self._logits_to_keep:
                kwargs["logits_to_keep"] = 1  # only the cache is wanted: skip the output layer's work
            self.model(
                input_ids=input_ids[:, :-1],
                attention_mask=attention_mask[:, :-1],
                position_ids=positions[:, :-1],
                **kwargs,
            )
            cache.batch_repeat_interleave(k)
        return cache

    def _make_generation(
        self, prompt: str, prompt_ids: list[int], response: list[int], finished: bool, truncated: bool
    ) -> Generation:
        body = response[:-1] if finished else response
        text = self._decode(body)
        ends = token_end_chars(self.tokenizer, body, text) + ([len(text)] if finished else [])
        return Generation(prompt, list(prompt_ids), list(response), text, ends, finished, truncated)

    # ------------------------------------------------------------------ step-wise acting with a kept KV cache
    def reset_act_cache(self) -> None:
        """Forget every episode's KV cache (they are also dropped when an episode ends)."""
        self._act_states.clear()

    def _forward(self, ids: list[int], cache: Any) -> torch.Tensor:
        """Run ``ids`` through the model on top of ``cache`` (updated in place); logits of the last position."""
        kwargs: dict[str, Any] = {self._cache_keyword: cache, "use_cache": True}
        if self._logits_to_keep:
            kwargs["logits_to_keep"] = 1
        # Every cached and new token is real (one sequence, no padding); an explicit mask says so, which
        # also keeps transformers from warning when a generated token happens to be the pad token.
        mask = torch.ones((1, cache.get_seq_length() + len(ids)), dtype=torch.long, device=self.device)
        output = self.model(
            input_ids=torch.tensor([ids], dtype=torch.long, device=self.device), attention_mask=mask, **kwargs
        )
        return output.logits[0, -1].float()

    def _new_state(self, prompt: str, response: str, max_new_tokens: int, seed: int | None) -> _ActState:
        prompt_ids, _ = self._prompt_ids(prompt, max_new_tokens)
        # The answer follows "answer:" after a space (as the default policy is trained, see agents.policies.sft); a
        # response written by someone else without it is encoded with it, so the model sees its usual layout.
        spaced = response if not response or response[0].isspace() else " " + response
        base_ids = list(self.tokenizer(spaced, add_special_tokens=False)["input_ids"]) if response else []
        if self.context_length is not None and len(prompt_ids) + len(base_ids) >= self.context_length:
            keep = max(self.context_length - len(base_ids) - 1, 1)
            prompt_ids = prompt_ids[-keep:]
        cache = DynamicCache(config=self.model.config)
        logits = self._forward(prompt_ids + base_ids, cache)
        base_decoded = self._decode(base_ids)
        generator = None
        if seed is not None:
            generator = torch.Generator(device=self.device)
            generator.manual_seed(seed)
        return _ActState(
            cache=cache,
            next_logits=logits,
            num_cached=len(prompt_ids) + len(base_ids),
            base_text=response,
            base_decoded=base_decoded,
            ids=base_ids,
            num_base_ids=len(base_ids),
            emitted=len(response),
            generator=generator,
            text=response,
        )

    def _next_token(self, logits: torch.Tensor, do_sample: bool, top_k: int, temperature: float, generator) -> int:
        if not do_sample:
            return int(torch.argmax(logits))
        # The same sampler as generate(): temperature, then keep the top k, then sample.
        scaled = logits / temperature
        k = min(top_k, scaled.shape[-1])
        values, indices = torch.topk(scaled, k)
        choice = torch.multinomial(torch.softmax(values, dim=-1), 1, generator=generator)
        return int(indices[choice])

    def _decode(self, ids: Sequence[int]) -> str:
        """Token ids to text exactly as generated: special tokens dropped, spacing left alone."""
        return cast(str, self.tokenizer.decode(list(ids), skip_special_tokens=True, clean_up_tokenization_spaces=False))

    def _decoded_text(self, state: _ActState) -> str:
        # Decoding the whole response every token keeps the text exactly equal to what one-shot generation
        # decodes (multi-byte characters split over tokens, tokenizers that add spaces between pieces).
        full = self._decode(state.ids)
        tail = full[len(state.base_decoded) :] if full.startswith(state.base_decoded) else full
        return state.base_text + tail

    @torch.inference_mode()
    def act(
        self,
        obs: Mapping[str, str],
        *,
        prompt: str | None = None,
        max_new_tokens: int = GENERATION_TOKENS,
        do_sample: bool = False,
        top_k: int = 20,
        temperature: float = 0.7,
        seed: int | None = None,
    ) -> str:
        """The next sentence of the answer to ``obs`` (with its leading whitespace), or ``""`` to stop.

        The episode's KV cache is found by (prompt, ``obs["response"]``): when the response is exactly the
        text this policy returned so far, generation continues from the cache; otherwise (a new episode, a
        separator the env inserted, someone else's text) the prompt and response are encoded once into a
        new cache. A sentence is known to be complete when the next one starts or the answer ends, so
        the tokens that start the next sentence are kept for the next call, never generated twice.
        ``max_new_tokens`` caps the whole answer, as in :meth:`generate`; ``seed`` seeds a new episode.
        """
        if self.is_encoder_decoder:
            raise NotImplementedError(
                "act() keeps a causal model's KV cache between sentences; with an encoder-decoder policy, write "
                "whole answers with generate() and replay them (agents.algorithms.rollout.replay)"
            )
        if prompt is None:
            try:
                prompt = answer_prompt(obs["question"], obs["passages"])
            except (KeyError, TypeError) as error:
                raise InvalidValueError(
                    "act() needs obs with 'question' and 'passages', or an explicit prompt="
                ) from error
        response = obs.get("response", "") if isinstance(obs, Mapping) else ""
        if do_sample and (temperature <= 0 or top_k < 1):
            raise InvalidValueError(f"sampling needs temperature > 0 and top_k >= 1, got {temperature} and {top_k}")
        state = self._act_states.pop((prompt, response), None)
        if state is None:
            state = self._new_state(prompt, response, max_new_tokens, seed)
        while True:
            pending = state.text[state.emitted :]
            sentences = split_sentences(pending)
            if len(sentences) >= 2 or state.finished:
                if len(sentences) >= 2:
                    action = pending[: sentences[0].end]
                else:
                    action = pending if pending.strip() else ""
                state.emitted += len(action)
                if action:  # keep the state under the response the env will show next
                    self._remember(prompt, state.text[: state.emitted], state)
                return action
            self._grow(state, max_new_tokens, do_sample, top_k, temperature)

    def _grow(self, state: _ActState, max_new_tokens: int, do_sample: bool, top_k: int, temperature: float) -> None:
        """Generate one token into ``state``."""
        token = self._next_token(state.next_logits, do_sample, top_k, temperature, state.generator)
        state.generated += 1
        if token == self.eos_token_id:
            state.finished = True
            return
        state.ids.append(token)
        state.text = self._decoded_text(state)
        full = self.context_length is not None and state.num_cached + 1 >= self.context_length
        if state.generated >= max_new_tokens or full:
            state.finished = True
            return
        state.next_logits = self._forward([token], state.cache)
        state.num_cached += 1

    def _remember(self, prompt: str, response: str, state: _ActState) -> None:
        self._act_states[(prompt, response)] = state
        while len(self._act_states) > self.max_act_states:
            self._act_states.popitem(last=False)
