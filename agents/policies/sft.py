"""The project's default policy: a small decoder with a pointer (copy) head, supervised on the built-in world.

``build_default_policy()`` does, once per setting:

1. trains a byte-level BPE tokenizer (:mod:`agents.policies.tokenizer`, 4,096 tokens) on the world's ``train``
   prompts and gold answers;
2. builds a small decoder-only model from scratch with transformers: by default a Llama decoder with a
   pointer head (:mod:`agents.policies.pointer`: 4 layers x 192 dims, rotary positions, SwiGLU, tied embeddings,
   and a gate that mixes the vocabulary with a copy of an earlier token), or plain Llama
   (``architecture="llama"``) or GPT-2 (``"gpt2"``). The pointer is what makes the policy read: on the same
   20,000 generated questions and 2,500 steps, plain Llama reached factuality 0.18 on 100 dev questions
   (frequent names and years written where the passages have rare ones), the pointer model 0.86. The
   context, 512 positions, holds the longest prompt of the world (about 345 tokens) plus a 128-token answer;
3. supervises it on ``train_sft`` (1,000 questions, as the paper's train_1k) plus the ``train`` questions
   of ``extra_worlds`` (10) other worlds of the built-in dataset (:func:`supervised_pairs`): prompt -> first
   gold answer, loss on the answer tokens and the end-of-sequence token only, one epoch. The extra worlds'
   answers are written by a careless annotator (``careless_share`` 0.5, :mod:`agents.policies.demonstrations`): it
   copies a birth sentence after naming a person, and leaves the last sentence unfinished, each half of the
   time. Gold answers alone gave a policy with no Irrelevant and almost no Incoherent text (0% and 1% of
   100 greedy dev answers), leaving RL's relevance reward nothing to fix; with them, 47% and 31%;
4. evaluates greedy answers on ``dev`` with the world's annotator (error rates per type, ``eval.json``),
   so the error profile RL starts from is on record.

The result is cached under ``cache_root()/sft/<hash of the settings>/`` (a ``save_pretrained`` folder that
:meth:`LMPolicy.from_pretrained` loads) and reused by later calls. Training writes ``metrics.jsonl`` as it
goes and an atomic checkpoint every ``checkpoint_every`` steps and after every epoch, so a killed build
resumes where it stopped; the final folder appears in one rename, and a file lock makes concurrent callers
wait for one build. The default preset takes about 20 minutes on 2 cores, the ``quick`` one about one.

Prompts longer than the context are cut from the LEFT (the start of the question/passages goes; the end,
``... answer:``, stays), the same rule :class:`LMPolicy` uses at generation time; with the default
context no prompt of the built-in world is cut (``prompt_truncated`` in ``build.json`` counts them).
"""

from __future__ import annotations

import dataclasses
import fcntl
import hashlib
import json
import math
import os
import random
import shutil
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Literal, cast

import numpy as np
import torch
from transformers import GPT2Config, GPT2LMHeadModel, PreTrainedModel, PreTrainedTokenizerBase

from agents.policies.cache import atomic_directory, atomic_write_json, cache_root
from agents.policies.pointer import PointerLlamaForCausalLM
from agents.policies.policy import GENERATION_TOKENS, LMPolicy
from agents.policies.tokenizer import train_tokenizer
from fg_env.checkpoint import CHECKPOINT_NAME, check_settings, load_checkpoint, save_checkpoint
from fg_env.errors import InvalidValueError
from fg_env.rewards.versions import SCORED_BY, scored_by
from fg_env.training import (
    append_log,
    parameter_groups,
    read_log,
    restart_log,
    restore_training_state,
    training_state,
)

__all__ = [
    "SFTConfig",
    "build_default_policy",
    "default_policy_path",
    "evaluate_error_rates",
    "load_default_policy",
    "make_model",
    "rebuild_command",
    "scored_log_probs",
    "sft_sequences",
    "supervised_pairs",
    "train_lm",
]

# Bump when the build changes in a way that makes old caches wrong. fg_env 0.2.0 builds the same weights
# as 0.1.0 (checked bit for bit), so its caches stay valid; only the in-progress checkpoint's format and
# the "lr" column of metrics.jsonl (now the rate a step used) changed.
FORMAT_VERSION = 1

ARCHITECTURES = ("pointer", "llama", "gpt2")


#: Fields renamed since cached policies were first keyed, under the names their key, checkpoints and build
#: records use: a cached policy keeps its folder and an interrupted build still resumes.
RECORDED_NAMES: dict[str, str] = {"warmup_ratio": "warmup_fraction"}


@dataclass(frozen=True)
class SFTConfig:
    """Everything that decides the default policy; its hash names the cache folder.

    Example:
        >>> SFTConfig().n_layer, SFTConfig.quick().n_layer
        (4, 2)
        >>> SFTConfig().key() == SFTConfig().key() != SFTConfig.quick().key()
        True
    """

    # Each field's help is the help of its flag in `fg-env sft` (TRL's convention). metadata["key"] False:
    # not part of the cache key.

    # --- data and tokenizer -------------------------------------------------------------------------
    dataset: str = field(default="synthetic", metadata={"help": "Dataset name for fg_env.data.make_dataset."})
    dataset_kwargs: tuple[tuple[str, Any], ...] = field(
        default=(),
        metadata={"help": ("Keyword arguments of the dataset, as (name, value) pairs (e.g. the world's seed).")},
    )
    split: str = field(default="train_sft", metadata={"help": "Split supervised on (the paper's train_1k analogue)."})
    num_examples: int | None = field(
        default=None, metadata={"help": "How many questions of `split` (None, `none`: all)."}
    )
    extra_worlds: int = field(
        default=10,
        metadata={
            "help": (
                "Also supervise on the `train` questions of this many other worlds of the built-in dataset (world seeds "
                "seed+1 ... seed+N, 2,000 questions each; their facts differ from the evaluation world's, so only reading "
                "the passages pays). Only for the synthetic dataset."
            )
        },
    )
    careless_share: float = field(
        default=0.5,
        metadata={
            # At 0 the field leaves the cache key as it was before the field existed.
            "neutral": 0.0,
            "help": (
                "The extra worlds' answers are written by a careless annotator (agents.policies.demonstrations): after naming a "
                "person it copies their birth sentence (Irrelevant), and it leaves the last sentence unfinished "
                "(Incoherent), each with this probability; train_sft keeps its gold answers."
            ),
        },
    )
    tokenizer_split: str = field(
        default="train", metadata={"help": "Split whose prompts and answers train the tokenizer."}
    )
    tokenizer_examples: int = field(
        default=2000, metadata={"help": "How many questions of `tokenizer_split` train the tokenizer."}
    )
    vocab_size: int = field(default=4096, metadata={"help": "Tokens of the byte-level BPE tokenizer."})

    # --- model --------------------------------------------------------------------------------------
    architecture: str = field(
        default="pointer",
        metadata={
            "help": (
                "pointer (the default: the llama decoder plus a pointer head that copies tokens of the prompt, "
                "agents.policies.pointer), llama (rotary positions) or gpt2 (learned positions)."
            )
        },
    )
    n_layer: int = field(default=4, metadata={"help": "Decoder layers."})
    n_embd: int = field(default=192, metadata={"help": "Hidden size (divisible by n_head)."})
    n_head: int = field(default=6, metadata={"help": "Attention heads."})
    n_positions: int = field(
        default=512,
        metadata={"help": ("Context length; must hold prompt + answer (see the module docstring on truncation).")},
    )
    dropout: float = field(
        default=0.1,
        metadata={
            "help": (
                "Dropout while training (GPT-2 only; the llama decoder trains without); the saved policy has none."
            )
        },
    )

    # --- training -----------------------------------------------------------------------------------
    max_answer_tokens: int = field(
        default=128,
        metadata={"help": ("Answers longer than this many tokens are cut for training (the eos is then dropped too).")},
    )
    prompt_loss_weight: float = field(
        default=0.0,
        metadata={
            "help": (
                "Weight of an auxiliary language-modelling loss on the prompt tokens of the same train_sft questions (0: loss "
                "on the answer only). 0.5 with lr 4e-3 (2026-11-27, 100 dev questions, greedy): relevance ratio 0.75 -> 0.89, "
                "factuality 0.16 -> 0.19, ROUGE-L 0.34 -> 0.39, final answer loss 1.54 -> 1.33, but the build takes 278 -> 488 s "
                "(load ~5), too close to the 10-minute budget to be the default; `fg-env compare` results use the default."
            )
        },
    )
    epochs: int = field(default=1, metadata={"help": "Passes over the supervised questions."})
    batch_size: int = field(default=8, metadata={"help": "Sequences per optimiser step."})
    learning_rate: float = field(
        default=2e-3,
        metadata={"help": "Peak AdamW learning rate (linear warm-up, then a cosine down to 10%).", "aliases": ["--lr"]},
    )
    weight_decay: float = field(default=0.01, metadata={"help": "AdamW weight decay."})
    warmup_ratio: float = field(
        default=0.05,
        metadata={
            "help": "Share of the steps spent warming the learning rate up (transformers' and the reward models' name).",
            "aliases": ["--warmup-fraction"],  # its name before 0.3
        },
    )
    max_grad_norm: float = field(default=1.0, metadata={"help": "Gradient clipping norm."})
    seed: int = field(default=0, metadata={"help": "Seeds the initialisation, the batch order and dropout."})

    checkpoint_every: int = field(
        default=500,
        metadata={
            "key": False,
            "help": "Optimiser steps between checkpoints within an epoch (a killed build resumes there).",
        },
    )

    # --- evaluation after training (not part of the cache key) --------------------------------------
    eval_split: str = field(
        default="dev",
        metadata={"key": False, "help": ("Split whose questions are answered greedily and annotated after training.")},
    )
    eval_examples: int = field(
        default=100, metadata={"key": False, "help": "How many questions of `eval_split` (0: none)."}
    )
    eval_max_new_tokens: int = field(
        default=GENERATION_TOKENS, metadata={"key": False, "help": "Longest evaluated answer in tokens."}
    )

    @classmethod
    def quick(cls, **overrides: Any) -> SFTConfig:
        """The quick preset: a 2-layer, 128-dim model, 2 epochs (1-1.5 minutes on this 2-core CPU).

        Its small pointer decoder copies titles and many facts from the passages, less reliably than the
        default policy (dev factuality ratio about 0.6 against 0.86).
        """
        preset = dict(
            extra_worlds=0,
            careless_share=0.0,  # it applies to the extra worlds only
            n_layer=2,
            n_embd=128,
            n_head=4,
            tokenizer_examples=600,
            vocab_size=2048,
            epochs=2,
            learning_rate=3e-3,
            prompt_loss_weight=0.0,
            eval_examples=0,
        )
        preset.update(overrides)
        return cls(**preset)  # type: ignore[arg-type]

    @classmethod
    def detox(cls, quick: bool = False, **overrides: Any) -> SFTConfig:
        """The detoxification task's policy (``FineGrainedDetox-v0``): supervised on every continuation of the
        built-in prompt world's ``train`` corpus (8,000: 4 per prompt, toxic ones included, so that the policy
        continues heated prompts toxically often enough for RL to have something to remove), its tokenizer
        trained on that corpus. The prompts are one sentence beginning and the continuations one to three
        sentences (at most about 60 tokens), so the context is 192 positions. No annotator's evaluation after
        the build: the detoxification experiment evaluates the policy itself (``fg-env compare --env
        FineGrainedDetox-v0``). ``quick``: 2 layers x 128 dims; else 4 x 192, as the QA presets.

        Example:
            >>> SFTConfig.detox().dataset, SFTConfig.detox(quick=True).n_layer, SFTConfig.detox().eval_examples
            ('detox-synthetic', 2, 0)
        """
        preset: dict[str, Any] = dict(
            dataset="detox-synthetic",
            split="train",
            extra_worlds=0,
            careless_share=0.0,
            tokenizer_split="train",
            tokenizer_examples=8000,
            vocab_size=2048,
            n_positions=192,
            max_answer_tokens=96,
            eval_examples=0,
        )
        if quick:
            preset.update(n_layer=2, n_embd=128, n_head=4, learning_rate=3e-3)
        preset.update(overrides)
        return cls(**preset)

    def __post_init__(self) -> None:
        positive = (
            "vocab_size",
            "n_layer",
            "n_embd",
            "n_head",
            "n_positions",
            "max_answer_tokens",
            "epochs",
            "batch_size",
            "checkpoint_every",
        )
        for name in positive:
            value = getattr(self, name)
            if not isinstance(value, int) or value < 1:
                raise InvalidValueError(f"SFTConfig.{name} must be a positive integer, got {value!r}")
        if self.architecture not in ARCHITECTURES:
            raise InvalidValueError(f"SFTConfig.architecture must be one of {ARCHITECTURES}, got {self.architecture!r}")
        if not isinstance(self.extra_worlds, int) or self.extra_worlds < 0:
            raise InvalidValueError(f"SFTConfig.extra_worlds must be a non-negative integer, got {self.extra_worlds!r}")
        if (
            isinstance(self.careless_share, bool)
            or not isinstance(self.careless_share, (int, float))
            or not 0 <= self.careless_share <= 1
        ):
            raise InvalidValueError(
                f"SFTConfig.careless_share must be a probability in [0, 1], got {self.careless_share!r}"
            )
        if self.extra_worlds and self.dataset != "synthetic":
            raise InvalidValueError(
                f"SFTConfig.extra_worlds needs the synthetic dataset (other worlds), not {self.dataset!r}"
            )
        if self.n_embd % self.n_head:
            raise InvalidValueError(f"SFTConfig.n_embd={self.n_embd} must be divisible by n_head={self.n_head}")
        if not self.learning_rate > 0:
            raise InvalidValueError(f"SFTConfig.learning_rate must be > 0, got {self.learning_rate!r}")
        if self.max_answer_tokens >= self.n_positions:
            raise InvalidValueError(
                f"max_answer_tokens={self.max_answer_tokens} leaves no room for a prompt in n_positions={self.n_positions}"
            )
        if self.num_examples is not None and self.num_examples < 1:
            raise InvalidValueError(f"SFTConfig.num_examples must be None or positive, got {self.num_examples!r}")

    def key(self) -> str:
        """A short hash of the settings that decide the model (evaluation settings excluded), each under the name
        it had when the key was first taken (:data:`RECORDED_NAMES`), so that renaming a field rebuilds nothing."""
        keyed = {
            RECORDED_NAMES.get(f.name, f.name): getattr(self, f.name)
            for f in dataclasses.fields(self)
            if f.metadata.get("key", True)
            and ("neutral" not in f.metadata or getattr(self, f.name) != f.metadata["neutral"])
        }
        keyed["format_version"] = FORMAT_VERSION
        return hashlib.sha256(json.dumps(keyed, sort_keys=True, default=str).encode()).hexdigest()[:16]

    def to_dict(self) -> dict[str, Any]:
        """The settings as a build records them (``build.json``), under their recorded names."""
        return {RECORDED_NAMES.get(name, name): value for name, value in asdict(self).items()}


# ---------------------------------------------------------------------------------------------- data


def _dataset(settings: SFTConfig):
    from fg_env.data import make_dataset

    return make_dataset(settings.dataset, **dict(settings.dataset_kwargs))


def supervised_pairs(settings: SFTConfig, dataset: Any | None = None) -> list[tuple[str, str]]:
    """(prompt, first gold answer) of the questions ``settings`` supervises on: ``split`` (``num_examples`` of
    them), then the ``train`` questions of ``extra_worlds`` other worlds, world by world.

    Example:
        >>> pairs = supervised_pairs(SFTConfig(num_examples=2, extra_worlds=0))
        >>> len(pairs), pairs[0][0].startswith("question:")
        (2, True)
    """
    dataset = dataset if dataset is not None else _dataset(settings)
    if hasattr(dataset, "supervised_pairs"):
        # A dataset with a corpus of its own (the detoxification world: several continuations per prompt,
        # toxic ones included) says what to imitate; num_examples counts its pairs.
        pairs = list(dataset.supervised_pairs(settings.split))
        return pairs if settings.num_examples is None else pairs[: settings.num_examples]
    examples = dataset.split(settings.split)
    count = len(examples) if settings.num_examples is None else min(settings.num_examples, len(examples))
    pairs = [(examples[i].prompt, examples[i].references[0]) for i in range(count)]
    if settings.extra_worlds:
        from fg_env.data import make_dataset

        kwargs = dict(settings.dataset_kwargs)
        base_seed = int(kwargs.pop("seed", 0))
        for offset in range(1, settings.extra_worlds + 1):
            world = make_dataset(settings.dataset, seed=base_seed + offset, **kwargs)
            examples = world.split("train")
            if settings.careless_share:
                from agents.policies.demonstrations import careless_answer

                rng = random.Random(f"careless-{settings.seed}-{offset}")
                pairs += [
                    (e.prompt, careless_answer(e, e.references[0], rng, settings.careless_share)) for e in examples
                ]
            else:
                pairs += [(example.prompt, example.references[0]) for example in examples]
    return pairs


def _tokenizer_texts(settings: SFTConfig, dataset: Any) -> Iterable[str]:
    """What the tokenizer learns from: the first ``tokenizer_examples`` questions of ``tokenizer_split`` (their
    prompts and gold answers), or, for a dataset with a corpus of its own, that split's first supervised pairs."""
    if hasattr(dataset, "supervised_pairs"):
        for prompt, text in dataset.supervised_pairs(settings.tokenizer_split)[: settings.tokenizer_examples]:
            yield prompt
            yield text
        return
    examples = dataset.split(settings.tokenizer_split)
    yield from tokenizer_corpus(examples[i] for i in range(min(settings.tokenizer_examples, len(examples))))


def tokenizer_corpus(examples: Iterable[Any]) -> Iterable[str]:
    """The text a tokenizer learns from: each question's prompt and its gold answers."""
    for example in examples:
        yield example.prompt
        yield from example.references


def sft_sequences(
    tokenizer: PreTrainedTokenizerBase, pairs: Sequence[tuple[str, str]], n_positions: int, max_answer_tokens: int
) -> tuple[list[tuple[list[int], int]], int]:
    """Token sequences ``prompt + answer + eos`` and the number of prompt tokens of each.

    The answer is tokenised on its own (as the policy generates it after the prompt), with a leading space
    when it has none, so the model learns to start with one, as in ``"answer: The ..."``. Returns the
    sequences and how many prompts were cut from the left to fit ``n_positions``.
    """
    eos = tokenizer.eos_token_id
    sequences, truncated = [], 0
    for prompt, answer in pairs:
        answer = answer if answer[:1].isspace() else " " + answer
        answer_ids = list(tokenizer(answer, add_special_tokens=False)["input_ids"])[:max_answer_tokens]
        if len(answer_ids) < max_answer_tokens:
            answer_ids.append(eos)  # an answer cut short must not teach the model to stop there
        prompt_ids = list(tokenizer(prompt)["input_ids"])
        room = n_positions - len(answer_ids)
        if len(prompt_ids) > room:
            prompt_ids, truncated = prompt_ids[-room:], truncated + 1
        sequences.append((prompt_ids + answer_ids, len(prompt_ids)))
    return sequences, truncated


def _batches(lengths: Sequence[int], batch_size: int, rng: random.Random) -> list[list[int]]:
    """Shuffled batches of similar lengths: less padding, so fewer wasted FLOPs on a CPU."""
    order = list(range(len(lengths)))
    rng.shuffle(order)
    chunk = batch_size * 32
    batches = []
    for start in range(0, len(order), chunk):
        block = sorted(order[start : start + chunk], key=lambda i: lengths[i])
        batches += [block[i : i + batch_size] for i in range(0, len(block), batch_size)]
    rng.shuffle(batches)
    return batches


def _collate(sequences: list[tuple[list[int], int]], pad_id: int) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Right-padded ids, attention mask, and per-position flags: 1 answer token, 0 prompt token, -1 padding."""
    width = max(len(ids) for ids, _ in sequences)
    input_ids = torch.full((len(sequences), width), pad_id, dtype=torch.long)
    attention = torch.zeros((len(sequences), width), dtype=torch.long)
    is_answer = torch.full((len(sequences), width), -1, dtype=torch.long)
    for row, (ids, n_prompt) in enumerate(sequences):
        input_ids[row, : len(ids)] = torch.tensor(ids)
        attention[row, : len(ids)] = 1
        is_answer[row, : len(ids)] = 0
        is_answer[row, n_prompt : len(ids)] = 1
    return input_ids, attention, is_answer


# ---------------------------------------------------------------------------------------------- model and training


def make_model(settings: SFTConfig, tokenizer: PreTrainedTokenizerBase) -> PreTrainedModel:
    """A freshly initialised decoder of the settings' shape for ``tokenizer``."""
    torch.manual_seed(settings.seed)
    if settings.architecture in ("llama", "pointer"):
        from transformers import LlamaConfig, LlamaForCausalLM

        from agents.policies.pointer import PointerLlamaConfig

        shape = dict(
            vocab_size=len(tokenizer),
            hidden_size=settings.n_embd,
            intermediate_size=settings.n_embd * 8 // 3,
            num_hidden_layers=settings.n_layer,
            num_attention_heads=settings.n_head,
            num_key_value_heads=settings.n_head,
            max_position_embeddings=settings.n_positions,
            tie_word_embeddings=True,
            bos_token_id=tokenizer.eos_token_id,
            eos_token_id=tokenizer.eos_token_id,
            pad_token_id=tokenizer.pad_token_id,
        )
        if settings.architecture == "pointer":
            return PointerLlamaForCausalLM(PointerLlamaConfig(**shape))
        return LlamaForCausalLM(LlamaConfig(**shape))
    config = GPT2Config(
        vocab_size=len(tokenizer),
        n_positions=settings.n_positions,
        n_embd=settings.n_embd,
        n_layer=settings.n_layer,
        n_head=settings.n_head,
        activation_function="gelu_pytorch_tanh",  # GPT-2's tanh GELU, fused by torch (the python one is slow)
        resid_pdrop=settings.dropout,
        embd_pdrop=settings.dropout,
        attn_pdrop=settings.dropout,
        bos_token_id=tokenizer.eos_token_id,
        eos_token_id=tokenizer.eos_token_id,
        pad_token_id=tokenizer.pad_token_id,
    )
    return GPT2LMHeadModel(config)


CHECKPOINT_KIND = "sft"


@dataclass
class _Run:
    """One supervised run: the model, its data, the optimiser and schedule, and the batch-order generator."""

    model: PreTrainedModel
    sequences: list[tuple[list[int], int]]
    settings: SFTConfig
    pad_id: int
    optimizer: torch.optim.Optimizer
    schedule: torch.optim.lr_scheduler.LambdaLR
    batch_rng: random.Random
    steps_per_epoch: int

    @property
    def total_steps(self) -> int:
        return self.steps_per_epoch * self.settings.epochs


def _optimiser_and_schedule(
    model: PreTrainedModel, settings: SFTConfig, total_steps: int
) -> tuple[torch.optim.Optimizer, torch.optim.lr_scheduler.LambdaLR]:
    """AdamW (GPT betas; no decay on biases and norms); linear warm-up, then a cosine down to 10%.

    The one schedule the project keeps as its own rather than transformers': the default policy (and
    every committed result) was trained with the peak held for two updates (the end of the warm-up and
    the start of the cosine), and no transformers schedule does that. Its closest, ``cosine_with_min_lr``
    read one step ahead, differs by at most 1.7e-3 of the peak on the default run, yet that one-step shift
    changed the quick SFT policy's factuality ratio from 0.189 to 0.262 on the quick comparison's 24 dev
    questions (measured 2026-12-02): reproducing the results decides it.
    """
    warmup = max(1, int(settings.warmup_ratio * total_steps))
    optimizer = torch.optim.AdamW(
        parameter_groups(model, settings.weight_decay), lr=settings.learning_rate, betas=(0.9, 0.95)
    )
    return optimizer, torch.optim.lr_scheduler.LambdaLR(optimizer, lambda step: _lr_factor(step, total_steps, warmup))


def _lr_factor(step: int, total: int, warmup: int) -> float:
    """Update ``step``'s share of the peak rate: ``(step + 1) / warmup``, then a cosine down to 10%."""
    if step < warmup:
        return (step + 1) / warmup
    progress = (step - warmup) / max(total - warmup, 1)
    return 0.1 + 0.9 * 0.5 * (1.0 + math.cos(math.pi * min(progress, 1.0)))


def _checkpoint_settings(settings: SFTConfig, num_sequences: int) -> dict[str, Any]:
    """What a resumed run must share with the one that wrote the checkpoint: the keyed settings and the data size."""
    keyed = {
        RECORDED_NAMES.get(f.name, f.name): getattr(settings, f.name)
        for f in dataclasses.fields(settings)
        if f.metadata.get("key", True)
    }
    return {**keyed, "num_sequences": num_sequences}


@dataclass
class _Position:
    """Where a run stands: finished epochs, batches done in the current one, and that epoch's running sums.

    ``order_state`` is the batch generator's state at the start of the current epoch: a run resumed
    mid-epoch draws the same batch order from it and skips the batches already done.
    """

    epochs_done: int = 0
    epoch_steps: int = 0
    sums: tuple[float, int, int] = (0.0, 0, 0)  # answer-loss sum, answer tokens, trained tokens
    order_state: Any = None


def _resume(path: Path, run: _Run) -> tuple[_Position, list[dict[str, Any]]]:
    """Load the checkpoint at ``path`` into ``run``; return where it stood and the finished epochs' summaries."""
    checkpoint = load_checkpoint(path, CHECKPOINT_KIND)
    check_settings(path, checkpoint["config"], _checkpoint_settings(run.settings, len(run.sequences)))
    restore_training_state(path, checkpoint, run.model, run.optimizer, run.schedule, run.batch_rng)
    position = _Position(int(checkpoint["progress"]))
    if checkpoint.get("epoch_steps", 0):
        loss_sum, answer_tokens, trained_tokens = checkpoint["epoch_sums"]
        position.epoch_steps = int(checkpoint["epoch_steps"])
        position.sums = (float(loss_sum), int(answer_tokens), int(trained_tokens))
        run.batch_rng.setstate(_python_state(checkpoint["order_state"]))
    return position, list(checkpoint["metrics"])


def _python_state(saved: list[Any]) -> tuple[Any, ...]:
    """``random.Random.getstate()`` back from its checkpoint form (lists: what weights-only loading allows)."""
    version, internal, gauss = saved
    return (int(version), tuple(int(v) for v in internal), gauss)


def _save(path: Path, run: _Run, position: _Position, history: list[dict[str, Any]]) -> None:
    state = training_state(run.model, run.optimizer, run.schedule, run.batch_rng)
    config = _checkpoint_settings(run.settings, len(run.sequences))
    extra: dict[str, Any] = {}
    if position.epoch_steps:
        version, internal, gauss = position.order_state
        extra = {
            "epoch_steps": position.epoch_steps,
            "epoch_sums": list(position.sums),
            "order_state": [version, list(internal), gauss],
        }
    save_checkpoint(
        path,
        CHECKPOINT_KIND,
        {"config": config, "progress": position.epochs_done, "metrics": history, **state, **extra},
    )


def scored_log_probs(
    model: PreTrainedModel, input_ids: torch.Tensor, attention_mask: torch.Tensor, scored: torch.Tensor
) -> torch.Tensor:
    """``log p(next token)`` at the positions where ``scored`` (B, T-1) is set, one row per scored position.

    Position ``t`` predicts token ``t + 1``. Only scored positions go through the output layer (a quarter of a
    small model's FLOPs, and a pointer model's copy distribution would cost more than the rest).
    """
    hidden = model.base_model(input_ids=input_ids, attention_mask=attention_mask).last_hidden_state
    if isinstance(model, PointerLlamaForCausalLM):
        keys = model.pointer_key(hidden[:, :-1])
        return model.mixed_log_probs(hidden[:, :-1], keys, input_ids[:, :-1], attention_mask[:, :-1], select=scored)
    return torch.log_softmax(model.get_output_embeddings()(hidden[:, :-1][scored]).float(), dim=-1)


def _losses(run: _Run, batch: list[int]) -> tuple[torch.Tensor, torch.Tensor, int, int]:
    """The training loss of one batch, its answer loss, and the numbers of answer tokens and of tokens."""
    settings = run.settings
    device = next(run.model.parameters()).device
    input_ids, attention, is_answer = (t.to(device) for t in _collate([run.sequences[i] for i in batch], run.pad_id))
    # The answer tokens are scored, plus the prompt tokens when prompt_loss_weight > 0.
    targets, kind = input_ids[:, 1:], is_answer[:, 1:]
    scored = kind == 1 if settings.prompt_loss_weight == 0 else kind >= 0
    log_probs = scored_log_probs(run.model, input_ids, attention, scored)
    token_losses = -log_probs.gather(1, targets[scored].unsqueeze(1)).squeeze(1)
    answer = kind[scored] == 1
    answer_loss = token_losses[answer].mean()
    loss = answer_loss
    if settings.prompt_loss_weight > 0 and (~answer).any():
        loss = loss + settings.prompt_loss_weight * token_losses[~answer].mean()
    return loss, answer_loss, int(answer.sum()), int(attention.sum())


def _update(run: _Run, loss: torch.Tensor) -> float:
    """One clipped AdamW step and one schedule step; returns the learning rate the step used."""
    lr = run.schedule.get_last_lr()[0]
    run.optimizer.zero_grad(set_to_none=True)
    loss.backward()
    torch.nn.utils.clip_grad_norm_(run.model.parameters(), run.settings.max_grad_norm)
    run.optimizer.step()
    run.schedule.step()
    return float(lr)


def _train_epoch(
    run: _Run,
    position: _Position,
    *,
    started: float,
    log_path: Path | None,
    log: Callable[[dict[str, Any]], None] | None,
    bar: Any,
    checkpoint: Callable[[_Position], None] | None,
) -> dict[str, Any]:
    """One shuffled pass over the sequences (from ``position``); logs every step, checkpoints every
    ``checkpoint_every`` steps, returns the epoch's summary."""
    epoch = position.epochs_done
    lengths = [len(ids) for ids, _ in run.sequences]
    position.order_state = run.batch_rng.getstate()
    batches = _batches(lengths, run.settings.batch_size, run.batch_rng)
    answer_loss_sum, answer_tokens, trained_tokens = position.sums
    for index in range(position.epoch_steps, len(batches)):
        loss, answer_loss, n_answer, n_tokens = _losses(run, batches[index])
        lr = _update(run, loss)
        answer_loss_sum += float(answer_loss.detach()) * n_answer
        answer_tokens += n_answer
        trained_tokens += n_tokens
        record = {
            "epoch": epoch,
            "step": epoch * run.steps_per_epoch + index + 1,
            "loss": round(float(loss.detach()), 5),
            "lr": lr,
            "elapsed_s": round(time.perf_counter() - started, 2),
        }
        if log_path is not None:
            append_log(log_path, record)
        if log is not None:
            log(record)
        bar.set_postfix(epoch=epoch, loss=f"{float(loss.detach()):.3f}")
        bar.update(1)
        done = index + 1
        if checkpoint is not None and done < len(batches) and done % run.settings.checkpoint_every == 0:
            position.epoch_steps, position.sums = done, (answer_loss_sum, answer_tokens, trained_tokens)
            checkpoint(position)
    return {
        "epoch": epoch,
        "answer_loss": answer_loss_sum / max(answer_tokens, 1),
        "tokens_trained": trained_tokens,
        "elapsed_s": round(time.perf_counter() - started, 2),
    }


def train_lm(
    model: PreTrainedModel,
    sequences: list[tuple[list[int], int]],
    settings: SFTConfig,
    *,
    pad_id: int,
    work_dir: str | os.PathLike[str] | None = None,
    progress: bool = True,
    log: Callable[[dict[str, Any]], None] | None = None,
) -> list[dict[str, Any]]:
    """Supervised training of ``model`` on ``sequences`` (loss on answer tokens); returns the epoch metrics.

    With ``work_dir``, metrics go to ``work_dir/metrics.jsonl`` as training runs and a checkpoint
    (:mod:`fg_env.checkpoint`: model, optimiser, schedule, RNG) is written atomically to
    ``work_dir/checkpoint.pt`` after each epoch and every ``settings.checkpoint_every`` steps within one;
    calling again with the same ``work_dir`` and settings resumes where the last checkpoint stood, to the
    same parameters as an uninterrupted run. ``log`` is
    called with every step's record (``epoch``, ``step``, ``loss``, ``lr``: the rate the step used).
    """
    from tqdm.auto import tqdm

    steps_per_epoch = math.ceil(len(sequences) / settings.batch_size)
    optimizer, schedule = _optimiser_and_schedule(model, settings, steps_per_epoch * settings.epochs)
    run = _Run(model, sequences, settings, pad_id, optimizer, schedule, random.Random(settings.seed), steps_per_epoch)
    work = Path(work_dir) if work_dir is not None else None
    checkpoint = work / CHECKPOINT_NAME if work is not None else None
    log_path = work / "metrics.jsonl" if work is not None else None
    if work is not None:
        work.mkdir(parents=True, exist_ok=True)

    position, history = _Position(), cast(list[dict[str, Any]], [])
    if checkpoint is not None and checkpoint.is_file():
        position, history = _resume(checkpoint, run)
    if log_path is not None:
        # Drop lines written after the checkpoint we resume from, so the log matches the model.
        done_steps = position.epochs_done * steps_per_epoch + position.epoch_steps
        restart_log(log_path, [row for row in read_log(log_path) if row["step"] <= done_steps])

    def save(at: _Position) -> None:
        if checkpoint is not None:
            _save(checkpoint, run, at, history)

    model.train()
    bar = tqdm(
        total=run.total_steps,
        initial=position.epochs_done * steps_per_epoch + position.epoch_steps,
        desc="sft",
        disable=not progress,
        unit="step",
    )
    started = time.perf_counter()
    while position.epochs_done < settings.epochs:
        summary = _train_epoch(
            run, position, started=started, log_path=log_path, log=log, bar=bar, checkpoint=save if checkpoint else None
        )
        history.append(summary)
        position = _Position(position.epochs_done + 1)
        save(position)
    bar.close()
    model.eval()
    return history


# ---------------------------------------------------------------------------------------------- evaluation


def evaluate_error_rates(
    policy: LMPolicy, examples: Sequence[Any], *, max_new_tokens: int = GENERATION_TOKENS, batch_size: int = 16
) -> dict[str, Any]:
    """Greedy answers to ``examples`` (at most ``max_new_tokens``: ``SFTConfig.eval_max_new_tokens``) scored by
    the world's annotator: metrics and error rates per type.

    ``answers_with_error[type]`` is the share of answers with at least one error of that type;
    ``errors_per_answer[type]`` the mean number of such spans (or missing items) per answer.
    """
    from fg_env.data.synthetic.annotator import Annotator
    from fg_env.feedback.schema import MISSING_INFO_TYPES, SPAN_ERROR_TYPES
    from fg_env.metrics import evaluate_answers

    answers: list[str] = []
    for start in range(0, len(examples), batch_size):
        chunk = examples[start : start + batch_size]
        answers += [
            g.response_text
            for g in policy.generate([ex.prompt for ex in chunk], do_sample=False, max_new_tokens=max_new_tokens)
        ]
    annotator = Annotator()
    feedbacks = [annotator.annotate(ex, answer) for ex, answer in zip(examples, answers)]
    types = SPAN_ERROR_TYPES + MISSING_INFO_TYPES
    n = max(len(answers), 1)
    with_error = {t: 0 for t in types}
    per_answer = {t: 0 for t in types}
    for feedback in feedbacks:
        present = [e.error_type for e in feedback.errors] + [m.error_type for m in feedback.missing_info]
        for t in set(present):
            with_error[t] += 1
        for t in present:
            per_answer[t] += 1
    metrics = evaluate_answers(list(examples), answers).to_dict()
    return {
        "num_answers": len(answers),
        "metrics": {k: v for k, v in metrics.items() if k != "error_counts"},
        "answers_with_error": {t: with_error[t] / n for t in types},
        "errors_per_answer": {t: per_answer[t] / n for t in types},
        "examples": [{"id": ex.id, "answer": a} for ex, a in list(zip(examples, answers))[:5]],
    }


# ---------------------------------------------------------------------------------------------- the cached build


def default_policy_path(settings: SFTConfig | None = None, cache_dir: str | os.PathLike[str] | None = None) -> Path:
    """Where the default policy of ``settings`` is (or will be) cached. Builds nothing."""
    settings = settings or SFTConfig()
    return Path(cache_dir or cache_root()) / "sft" / settings.key()


def build_default_policy(
    settings: SFTConfig | None = None,
    *,
    quick: bool = False,
    cache_dir: str | os.PathLike[str] | None = None,
    progress: bool = True,
    force: bool = False,
    num_threads: int | None | Literal["auto"] = "auto",
    device: str | None = None,
) -> Path:
    """The default policy's folder, building (or resuming the build of) it when not cached yet.

    ``quick`` picks :meth:`SFTConfig.quick` when ``settings`` is None. ``force`` rebuilds from scratch.
    ``num_threads`` sets torch's CPU threads for the build and restores them after (None leaves torch's
    setting, every core). ``"auto"``: one thread for a model no larger than the quick preset's (on this
    2-core machine shared with other jobs, the quick build took 67 s with one thread and 248 s with two:
    OpenMP threads wait on each other when one is descheduled, and a model this small gains little from
    a second thread), torch's setting for larger ones (the default build: 1,086 s on both cores, idle).
    ``device`` (e.g. ``"cuda"``) trains there; it is not part of the cache key (the same settings on
    another device give a policy equal up to floating-point rounding).

    Example (a build of minutes; ``fg-env sft --quick`` runs the same)::

        from agents.policies.policy import LMPolicy
        policy = LMPolicy.from_pretrained(build_default_policy(quick=True))
    """
    settings = settings or (SFTConfig.quick() if quick else SFTConfig())
    final = default_policy_path(settings, cache_dir)
    if not force and (final / "config.json").is_file():
        _verify_cached(final, settings)
        return final
    final.parent.mkdir(parents=True, exist_ok=True)
    # One builder per setting at a time: a second process waits here, then finds the finished folder.
    with open(final.parent / f"{final.name}.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        work = final.parent / f"{final.name}.partial"
        if force:
            shutil.rmtree(final, ignore_errors=True)
            shutil.rmtree(work, ignore_errors=True)
        if (final / "config.json").is_file():
            return final
        if work.exists():
            _say(progress, f"[sft] resuming the interrupted build in {work}")
        work.mkdir(parents=True, exist_ok=True)
        previous_threads = torch.get_num_threads()
        if num_threads == "auto":
            num_threads = 1 if _size(settings) <= _size(SFTConfig.quick()) else None
        if num_threads is not None:
            torch.set_num_threads(num_threads)
        try:
            _build(settings, work, final, progress, device)
        finally:
            torch.set_num_threads(previous_threads)
    return final


def _size(settings: SFTConfig) -> int:
    """Layers x width: what decides whether a second CPU thread pays for itself."""
    return settings.n_layer * settings.n_embd


def rebuild_command(settings: SFTConfig) -> str:
    """The ``fg-env sft`` command that builds ``settings`` afresh: the nearer preset, then a flag per other field.

    Example:
        >>> rebuild_command(SFTConfig.quick(epochs=3))
        'fg-env sft --force --quick --epochs 3'
    """
    quick = SFTConfig.quick()
    presets = [(SFTConfig(), ""), (quick, " --quick")]
    keyed = [f.name for f in dataclasses.fields(SFTConfig) if f.metadata.get("key", True)]

    def differing(preset: SFTConfig) -> list[str]:
        return [name for name in keyed if getattr(settings, name) != getattr(preset, name)]

    preset, flag = min(presets, key=lambda pair: len(differing(pair[0])))
    flags = "".join(
        f" --{name.replace('_', '-')} {getattr(settings, name)}"
        for name in differing(preset)
        if name != "dataset_kwargs"
    )
    return f"fg-env sft --force{flag}{flags}"


def _verify_cached(folder: Path, settings: SFTConfig) -> None:
    """A cached build's files against the fingerprints it recorded (builds before they were recorded pass)."""
    from agents.policies.policy_files import verify_policy_files

    try:
        recorded = json.loads((folder / "build.json").read_text()).get("files")
    except (OSError, ValueError):
        recorded = None  # the record itself is damaged: the files are checked when they load
    if recorded:
        verify_policy_files(folder, recorded, rebuild_command(settings))


def _say(progress: bool, message: str) -> None:
    if progress:
        print(message, flush=True)


def _build(settings: SFTConfig, work: Path, final: Path, progress: bool, device: str | None = None) -> None:
    from agents.policies.policy_files import file_fingerprints

    started = time.perf_counter()
    dataset = _dataset(settings)
    from transformers import AutoTokenizer

    tokenizer_dir = work / "tokenizer"
    if (tokenizer_dir / "tokenizer.json").is_file():
        tokenizer = AutoTokenizer.from_pretrained(tokenizer_dir)
    else:
        _say(progress, f"[sft] training a {settings.vocab_size}-token BPE tokenizer on {settings.tokenizer_split!r}")
        tokenizer = train_tokenizer(_tokenizer_texts(settings, dataset), vocab_size=settings.vocab_size)
        with atomic_directory(tokenizer_dir) as tmp:
            tokenizer.save_pretrained(tmp)

    pairs = supervised_pairs(settings, dataset)
    sequences, truncated = sft_sequences(tokenizer, pairs, settings.n_positions, settings.max_answer_tokens)
    lengths = [len(ids) for ids, _ in sequences]
    _say(
        progress,
        f"[sft] {len(sequences)} sequences, tokens per sequence: mean {np.mean(lengths):.0f}, max {max(lengths)}; "
        f"{truncated} prompts cut to fit {settings.n_positions} positions",
    )

    tokenizer_seconds = time.perf_counter() - started
    model = make_model(settings, tokenizer)
    model.to(torch.device(device or "cpu"))  # type: ignore[arg-type]
    history = train_lm(model, sequences, settings, pad_id=tokenizer.pad_token_id, work_dir=work, progress=progress)
    model.to(torch.device("cpu"))  # type: ignore[arg-type]
    train_seconds = time.perf_counter() - started - tokenizer_seconds

    # The saved policy runs without dropout: RL needs the log-probabilities it samples with to be the ones it
    # trains on (the module's weights are unchanged; only the config's dropout rates).
    for name in ("resid_pdrop", "embd_pdrop", "attn_pdrop", "attention_dropout"):
        if hasattr(model.config, name):
            setattr(model.config, name, 0.0)
    with atomic_directory(final) as tmp:
        policy = LMPolicy(model, tokenizer)
        policy.model.save_pretrained(tmp)
        tokenizer.save_pretrained(tmp)
        shutil.copy(work / "metrics.jsonl", tmp / "metrics.jsonl")
        build = {
            "settings": settings.to_dict(),
            "key": settings.key(),
            "history": history,
            "data_and_tokenizer_seconds": round(tokenizer_seconds, 1),
            "train_seconds": round(train_seconds, 1),
            "num_sequences": len(sequences),
            "mean_tokens": float(np.mean(lengths)),
            "max_tokens": int(max(lengths)),
            "prompt_truncated": truncated,
            "parameters": sum(p.numel() for p in model.parameters()),
            "torch_threads": torch.get_num_threads(),
        }
        if settings.eval_examples > 0:
            _say(
                progress,
                f"[sft] evaluating greedy answers on {settings.eval_examples} {settings.eval_split!r} questions",
            )
            dev = dataset.split(settings.eval_split)
            dev = [dev[i] for i in range(min(settings.eval_examples, len(dev)))]
            evaluation = evaluate_error_rates(policy, dev, max_new_tokens=settings.eval_max_new_tokens)
            # The annotator's verdicts; its version is recorded, not keyed: the policy does not depend on it.
            atomic_write_json(tmp / "eval.json", {**evaluation, SCORED_BY: scored_by(annotator=True)})
            build["eval_seconds"] = round(time.perf_counter() - started - tokenizer_seconds - train_seconds, 1)
        build["total_seconds"] = round(time.perf_counter() - started, 1)
        build["files"] = file_fingerprints(tmp)  # checked on every cache hit: a damaged file is named, not loaded
        atomic_write_json(tmp / "build.json", build)
    shutil.rmtree(work, ignore_errors=True)
    _say(progress, f"[sft] built in {time.perf_counter() - started:.0f} s: {final}")


def load_default_policy(quick: bool = False, device: str = "cpu", **kwargs: Any) -> LMPolicy:
    """:func:`build_default_policy` (cached) then :meth:`LMPolicy.from_pretrained`."""
    return LMPolicy.from_pretrained(build_default_policy(quick=quick, **kwargs), device=device)
