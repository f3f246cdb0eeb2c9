"""Reward-model inputs: the context and the answer as a tokenised pair, cut to fit, with an
answer-causal attention mask.

**Input.** The first sequence is the context, ``question: Q`` (relevance, as the paper) or
``question: Q context: wikipage: T text: ... | ...`` (the other components); the second is the answer.

**Truncation rule.** The answer is kept whole and the context is cut from its end, so passages are
cut first and the question only when no passage is left. Only an answer too long to leave
:data:`MIN_CONTEXT_TOKENS` tokens of context is itself cut, from its *start* (the judged segment is at
its end).

**Answer-causal attention.** Context tokens attend to the context; answer token *t* attends to the
context and to answer tokens up to *t*. The hidden state at the last token of a segment is therefore a
function of the answer up to that token only: a reward read there never depends on later text
(Markov, as the environment requires), and one forward pass over a whole answer gives every
segment's reward, in training and in scoring alike. The encoder must honour 4-D attention masks
(BERT, RoBERTa, ELECTRA, DistilBERT, MiniLM do); :func:`check_answer_causal` verifies it.

**Token positions.** A segment ending at character ``e`` of the answer is read at the last answer token
whose end offset (from the fast tokenizer's offset mapping) is at most ``e``; prefixes are never
re-tokenised.
"""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Sequence
from dataclasses import dataclass

import torch

from fg_env.errors import InvalidTypeError, InvalidValueError
from fg_env.prompts import question_context
from fg_env.types import QAExample

MIN_CONTEXT_TOKENS = 32


@dataclass(frozen=True)
class EncodedRow:
    """One tokenised (context, answer) pair.

    ``answer_start`` is the index of the first answer token (None when the answer has none);
    ``answer_ends`` the end offset, in characters of the original answer, of each answer token;
    ``answer_cut`` how many leading characters of the answer were cut; ``context_complete`` whether the
    whole context fits.
    """

    input_ids: list[int]
    token_type_ids: list[int] | None
    answer_start: int | None
    answer_ends: list[int]
    answer_cut: int
    context_complete: bool

    def __len__(self) -> int:
        return len(self.input_ids)

    def position(self, char_end: int) -> int:
        """Index of the token read for a segment ending at character ``char_end`` of the answer.

        The last answer token ending at or before ``char_end``; when there is none (an empty answer),
        the token just before the answer, or the row's last token.
        """
        k = bisect_right(self.answer_ends, char_end) - 1
        if self.answer_start is not None and k >= 0:
            return self.answer_start + k
        if self.answer_start is not None:
            return self.answer_start - 1
        return len(self.input_ids) - 1

    @property
    def shareable(self) -> bool:
        """Whether prefixes of this row's answer score exactly as they would alone (see module doc)."""
        return self.context_complete and self.answer_cut == 0 and self.answer_start is not None


class InputEncoder:
    """Tokenises (context, answer) pairs by the module's rules and collates them into padded batches.

    Example:
        >>> from transformers import AutoTokenizer
        >>> from fg_env.rewards.learned.config import default_backbone
        >>> from fg_env.types import Passage
        >>> enc = InputEncoder(AutoTokenizer.from_pretrained(default_backbone()), 64, uses_passages=False)
        >>> ex = QAExample("q", "Who won?", (Passage("Race", ("Ann won.",)),), ("Ann won.",))
        >>> enc.context(ex)
        'question: Who won?'
        >>> row = enc.encode([(enc.context(ex), "Ann won. Bob lost.")])[0]
        >>> enc.tokenizer.convert_ids_to_tokens(row.input_ids[row.position(8)])
        '.'
    """

    def __init__(self, tokenizer, max_length: int, uses_passages: bool) -> None:
        if not getattr(tokenizer, "is_fast", False):
            raise InvalidTypeError(
                f"learned reward models need a fast (Rust) tokenizer for its offset mapping; "
                f"{type(tokenizer).__name__} is not one"
            )
        self.tokenizer = tokenizer
        self.max_length = int(max_length)
        self.uses_passages = uses_passages
        self.num_special = tokenizer.num_special_tokens_to_add(pair=True)
        self.min_context = min(MIN_CONTEXT_TOKENS, max(1, (self.max_length - self.num_special) // 4))
        self.max_answer_tokens = self.max_length - self.num_special - self.min_context
        if self.max_answer_tokens < 1:
            raise InvalidValueError(f"max_length {max_length} leaves no room for an answer")
        self.use_token_types = "token_type_ids" in tokenizer.model_input_names
        self.pad_id = tokenizer.pad_token_id if tokenizer.pad_token_id is not None else 0

    def context(self, example: QAExample) -> str:
        """The first sequence of the pair for ``example``."""
        return question_context(example.question, example.context if self.uses_passages else None)

    def encode(self, pairs: Sequence[tuple[str, str]]) -> list[EncodedRow]:
        """Tokenise ``(context, answer)`` pairs in one batched call of the fast tokenizer."""
        if not pairs:
            return []
        contexts = [c for c, _ in pairs]
        answers = [a for _, a in pairs]
        alone = self.tokenizer(answers, add_special_tokens=False, return_offsets_mapping=True)
        cuts = []
        for offsets in alone["offset_mapping"]:
            if len(offsets) > self.max_answer_tokens:
                # Keep the answer's end, where the judged segment is (see the module's truncation rule).
                cuts.append(offsets[len(offsets) - self.max_answer_tokens][0])
            else:
                cuts.append(0)
        kept = [a[c:] for a, c in zip(answers, cuts)]
        encoded = self.tokenizer(
            contexts,
            kept,
            truncation="only_first",
            max_length=self.max_length,
            return_offsets_mapping=True,
            return_token_type_ids=self.use_token_types,
        )
        rows = []
        for i in range(len(pairs)):
            sequence_ids = encoded.sequence_ids(i)
            offsets = encoded["offset_mapping"][i]
            answer_tokens = [t for t, s in enumerate(sequence_ids) if s == 1]
            context_tokens = [t for t, s in enumerate(sequence_ids) if s == 0]
            context_end = offsets[context_tokens[-1]][1] if context_tokens else 0
            rows.append(
                EncodedRow(
                    input_ids=list(encoded["input_ids"][i]),
                    token_type_ids=list(encoded["token_type_ids"][i]) if self.use_token_types else None,
                    answer_start=answer_tokens[0] if answer_tokens else None,
                    answer_ends=[offsets[t][1] + cuts[i] for t in answer_tokens],
                    answer_cut=cuts[i],
                    context_complete=context_end >= len(contexts[i].rstrip()),
                )
            )
        return rows

    def collate(
        self, rows: Sequence[EncodedRow], dtype: torch.dtype, device: torch.device | str
    ) -> dict[str, torch.Tensor]:
        """Pad ``rows`` to the longest and build the answer-causal 4-D additive attention mask."""
        length = max(len(r) for r in rows)
        input_ids = torch.full((len(rows), length), self.pad_id, dtype=torch.long)
        real = torch.zeros((len(rows), length), dtype=torch.bool)
        in_answer = torch.zeros((len(rows), length), dtype=torch.bool)
        token_types = torch.zeros((len(rows), length), dtype=torch.long) if self.use_token_types else None
        for i, row in enumerate(rows):
            input_ids[i, : len(row)] = torch.tensor(row.input_ids)
            real[i, : len(row)] = True
            if row.answer_start is not None:
                in_answer[i, row.answer_start : len(row)] = True
            if token_types is not None and row.token_type_ids is not None:
                token_types[i, : len(row)] = torch.tensor(row.token_type_ids)
        index = torch.arange(length)
        # allowed[b, query, key]: a real key, and either a context key or one not after the query.
        allowed = real[:, None, :] & (~in_answer[:, None, :] | (index[None, None, :] <= index[None, :, None]))
        mask = torch.zeros((len(rows), 1, length, length), dtype=dtype)
        mask.masked_fill_(~allowed[:, None], torch.finfo(dtype).min)
        batch = {"input_ids": input_ids.to(device), "attention_mask": mask.to(device)}
        if token_types is not None:
            batch["token_type_ids"] = token_types.to(device)
        return batch


@dataclass(frozen=True)
class ScoringPlan:
    """Which row answers which request: ``rows`` to run, and per request ``(row index, token index)``."""

    rows: list[EncodedRow]
    positions: list[tuple[int, int]]


def plan_rows(encoder: InputEncoder, pairs: Sequence[tuple[str, str]]) -> ScoringPlan:
    """Rows for ``(context, answer)`` requests, sharing one row among an answer's prefixes when exact.

    Identical pairs share a row. A request whose answer is a prefix of a longer one with the same
    context, ending at a whitespace boundary of it, is read inside the longer answer's row: with
    answer-causal attention the tokens up to its end, their positions and so its reward are exactly
    those of its own row, provided the longer row keeps the whole context and the whole answer (the
    truncation rule cuts the context by the *longer* answer's length); otherwise it gets its own row.

    Example:
        >>> from transformers import AutoTokenizer
        >>> from fg_env.rewards.learned.config import default_backbone
        >>> enc = InputEncoder(AutoTokenizer.from_pretrained(default_backbone()), 64, uses_passages=False)
        >>> plan = plan_rows(enc, [("question: Who?", "Ann won,"), ("question: Who?", "Ann won, Bob lost.")])
        >>> len(plan.rows), [row for row, _ in plan.positions]
        (1, [0, 0])
    """
    unique: dict[tuple[str, str], int] = {}
    for pair in pairs:
        unique.setdefault(pair, len(unique))
    keys = list(unique)
    by_context: dict[str, list[str]] = {}
    for context, answer in keys:
        by_context.setdefault(context, []).append(answer)
    carrier_of: dict[tuple[str, str], tuple[str, str]] = {}
    carriers: list[tuple[str, str]] = []
    for context, answers in by_context.items():
        own: list[str] = []
        for answer in sorted(answers, key=len, reverse=True):
            host = next((c for c in own if answer.strip() and c.startswith(answer) and c[len(answer)].isspace()), None)
            if host is None:
                own.append(answer)
                carriers.append((context, answer))
                carrier_of[(context, answer)] = (context, answer)
            else:
                carrier_of[(context, answer)] = (context, host)
    rows = encoder.encode(carriers)
    row_of = {pair: i for i, pair in enumerate(carriers)}
    # A host that lost part of its context or answer cannot stand in for its prefixes: give them rows.
    orphans = [k for k in keys if carrier_of[k] != k and not rows[row_of[carrier_of[k]]].shareable]
    for pair, encoded in zip(orphans, encoder.encode(orphans)):
        row_of[pair] = len(rows)
        rows.append(encoded)
        carrier_of[pair] = pair
    positions = []
    for pair in pairs:
        row = row_of[carrier_of[pair]]
        positions.append((row, rows[row].position(len(pair[1]))))
    return ScoringPlan(rows, positions)


def check_answer_causal(backbone: torch.nn.Module, use_token_types: bool) -> None:
    """Raise a TypeError when ``backbone`` ignores 4-D attention masks (answer-causality would break).

    Runs a 12-token input twice, whole and cut after 8 tokens, with the answer-causal mask: the first 8
    hidden states must agree.
    """
    was_training = backbone.training
    backbone.eval()
    vocab = int(getattr(backbone.config, "vocab_size", 100))
    generator = torch.Generator().manual_seed(0)
    ids = torch.randint(min(5, vocab - 1), vocab, (1, 12), generator=generator)
    index = torch.arange(12)
    allowed = (index[None, None, :] < 4) | (index[None, None, :] <= index[None, :, None])
    dtype = next(backbone.parameters()).dtype
    device = next(backbone.parameters()).device
    mask = torch.zeros((1, 1, 12, 12), dtype=dtype).masked_fill(~allowed[:, None], torch.finfo(dtype).min)
    extra = {"token_type_ids": (index[None] >= 4).long().to(device)} if use_token_types else {}
    try:
        with torch.no_grad():
            whole = backbone(input_ids=ids.to(device), attention_mask=mask.to(device), **extra).last_hidden_state
            cut_extra = {k: v[:, :8] for k, v in extra.items()}
            cut = backbone(
                input_ids=ids[:, :8].to(device), attention_mask=mask[:, :, :8, :8].to(device), **cut_extra
            ).last_hidden_state
        agrees = torch.allclose(whole[:, :8].float(), cut.float(), atol=1e-3, rtol=1e-3)
    except Exception as exc:  # noqa: BLE001 - any failure here means "does not take 4-D masks"
        raise InvalidTypeError(
            f"backbone {type(backbone).__name__} does not accept a 4-D attention mask ({type(exc).__name__}: {exc}); "
            "learned reward models need one (BERT, RoBERTa, ELECTRA, DistilBERT and MiniLM work)"
        ) from None
    finally:
        backbone.train(was_training)
    if not agrees:
        raise InvalidTypeError(
            f"backbone {type(backbone).__name__} ignores 4-D attention masks, so rewards would see text after "
            "their segment; use an encoder that honours them (BERT, RoBERTa, ELECTRA, DistilBERT, MiniLM)"
        )
