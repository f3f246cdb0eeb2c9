"""Span rewards to token rewards, for any tokenizer and any trainer.

The environment scores character spans of an answer (``info["segments"]``); a token-level learner
(fg_env's own PPO, verl, OpenRLHF, SkyRL...) needs one reward per generated token. This module is the
one place that bridges the two, so every trainer places the paper's rewards the same way:

* each scored segment's ``weight x value`` lands on the **last token covering its last character**
  (when several tokens share that character, the bytes of one multi-byte character, the last of them,
  which completes it);
* episode-level segments (and empty spans) land on the **final token** the environment saw;
* tokens the environment never saw (after a truncation at ``max_sentences``) get 0, and are outside
  :attr:`TokenPlacement.response_mask`.

Two steps:

1. **Place**: :func:`place_played` takes an answer played through the environment
   (:func:`fg_env.envs.answers.play_answer` / :func:`~fg_env.envs.answers.play_answers`: a
   :class:`~fg_env.envs.answers.PlayedAnswer`) and where each response token ends in the answer's text
   (``token_end_chars``: from :func:`token_end_chars`, or a fast tokenizer's ``offset_mapping`` through
   :func:`ends_from_offsets`); :func:`place_segments` does the same from the ``info["segments"]`` of an
   episode you stepped yourself. Both give a :class:`TokenPlacement`: every segment with its token.
2. **Sum**: :func:`token_rewards` gives the per-token reward, shape ``(num_tokens,)``;
   :func:`component_token_rewards` keeps the components apart, shape ``(num_components, num_tokens)``
   (unweighted or weighted), for per-component normalisation.

A segment whose characters the token offsets cannot reach (offsets of another text, too few tokens)
raises :class:`~fg_env.errors.InvalidValueError` naming the segment: a reward is never dropped silently.

Example:
    >>> import gymnasium as gym, fg_env
    >>> from fg_env.envs.answers import play_answer
    >>> env = gym.make("FineGrainedQA-v0")
    >>> answer = " The sky is green. It rains."
    >>> played = play_answer(env, answer, index=0)
    >>> ends = [4, 8, 11, 17, 18, 21, 27, 28]  # " The"," sky"," is"," green","."," It"," rains","."
    >>> placement = place_played(played, ends, env=env)
    >>> sorted({(s.component, s.token_index) for s in placement.segments})
    [('completeness', 7), ('factuality', 4), ('factuality', 7), ('relevance', 4), ('relevance', 7)]
    >>> [round(r, 4) for r in token_rewards(placement).tolist()]  # the paper's weights: 0.3 x -1 + 0.5 x 1
    [0.0, 0.0, 0.0, 0.0, 0.2, 0.0, 0.0, 0.2]
    >>> component_token_rewards(placement)[:, 4].tolist()  # relevance, factuality, completeness
    [-1.0, 1.0, 0.0]
"""

from __future__ import annotations

import bisect
import functools
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol

import numpy as np

from fg_env.errors import InvalidTypeError, InvalidValueError
from fg_env.segments import ScoredSegment

if TYPE_CHECKING:
    from fg_env.envs.answers import PlayedAnswer

__all__ = [
    "TokenPlacement",
    "TokenSegment",
    "Weights",
    "component_token_rewards",
    "ends_from_offsets",
    "place_played",
    "place_segments",
    "reward_facts",
    "token_end_chars",
    "token_index_of_char",
    "token_rewards",
]

#: Weights by component name, or one per :attr:`TokenPlacement.reward_names` in order; None: the weight
#: each segment carries (a scalarising wrapper writes it), else the environment's default weights.
Weights = Mapping[str, float] | Sequence[float] | np.ndarray | None


class Tokenizer(Protocol):
    """What :func:`token_end_chars` needs of a tokenizer: a Hugging Face fast tokenizer has both."""

    def __call__(self, text: str, **kwargs: Any) -> Any: ...

    def batch_decode(self, sequences: Any, **kwargs: Any) -> list[str]: ...


# ------------------------------------------------------------------------------------ token offsets


def token_end_chars(tokenizer: Tokenizer, ids: Sequence[int], text: str) -> list[int]:
    """Where each of ``ids`` ends in ``text`` (their decoding), as a non-decreasing list of char offsets.

    First try: tokenise ``text`` with offsets; if that yields exactly ``ids`` the offsets are exact. Otherwise
    (non-canonical tokenisation from sampling, special tokens skipped by decode, tokenizers whose decode
    is not the inverse of encode) decode every prefix ``ids[:i+1]`` in one batched call: when that prefix
    decodes to a prefix of ``text`` its length is the token's end; when it does not (the token holds only
    some bytes of a multi-byte character, which decodes to U+FFFD), the token ends where the next token
    that completes a clean prefix ends. A running maximum keeps the ends monotone.

    ``text`` must be the ids decoded with ``skip_special_tokens=True, clean_up_tokenization_spaces=False``
    (what a trainer's reward function sees as the answer).

    Example (a byte-level tokenizer that has never seen "ü" spends two tokens on its two bytes; both
    end after it):
        >>> from tokenizers import Tokenizer as BPE, decoders, models, pre_tokenizers, trainers
        >>> from transformers import PreTrainedTokenizerFast
        >>> bpe = BPE(models.BPE())
        >>> bpe.pre_tokenizer, bpe.decoder = pre_tokenizers.ByteLevel(add_prefix_space=False), decoders.ByteLevel()
        >>> alphabet = pre_tokenizers.ByteLevel.alphabet()
        >>> bpe.train_from_iterator(["Ada was born."] * 20, trainers.BpeTrainer(initial_alphabet=alphabet, show_progress=False))
        >>> tok = PreTrainedTokenizerFast(tokenizer_object=bpe)
        >>> ids = tok(" Zü", add_special_tokens=False).input_ids
        >>> list(zip([tok.decode([i]) for i in ids], token_end_chars(tok, ids, " Zü")))
        [(' ', 1), ('Z', 2), ('�', 3), ('�', 3)]
    """
    ids = list(ids)
    if not ids:
        return []
    encoding = tokenizer(text, add_special_tokens=False, return_offsets_mapping=True)
    if list(encoding["input_ids"]) == ids:
        ends = [int(end) for _, end in encoding["offset_mapping"]]
    else:
        prefixes = tokenizer.batch_decode(
            [ids[: i + 1] for i in range(len(ids))], skip_special_tokens=True, clean_up_tokenization_spaces=False
        )
        ends = [len(text)] * len(ids)
        pending: list[int] = []
        for i, prefix in enumerate(prefixes):
            pending.append(i)
            if text.startswith(prefix):
                for j in pending:
                    ends[j] = len(prefix)
                pending = []
    return _monotone(ends, len(text))


def ends_from_offsets(offset_mapping: Iterable[Sequence[int]], text_length: int | None = None) -> list[int]:
    """Token end offsets from a fast tokenizer's ``offset_mapping`` (``(start, end)`` per token) of the
    answer's text, made a partition of the text: a running maximum, so zero-width tokens (special
    tokens, whitespace some tokenizers trim to nothing) end where the token before them ends.

    Example:
        >>> ends_from_offsets([(0, 3), (3, 7), (0, 0), (7, 8)])  # a special token inside gets (0, 0)
        [3, 7, 7, 8]
    """
    ends = []
    for position, pair in enumerate(offset_mapping):
        try:
            _, end = pair
        except (TypeError, ValueError) as error:
            raise InvalidValueError(
                f"offset_mapping entry {position} is {pair!r}: each token's offsets are a (start, end) pair"
            ) from error
        ends.append(int(end))
    return _monotone(ends, text_length)


def _monotone(ends: list[int], text_length: int | None) -> list[int]:
    # Offsets of whitespace-only tokens can be trimmed to zero width by some tokenizers (trim_offsets); a
    # running maximum keeps "token i covers [ends[i-1], ends[i])" a partition of the text.
    running = 0
    for i, end in enumerate(ends):
        running = max(running, end) if text_length is None else min(max(running, end), text_length)
        ends[i] = running
    return ends


def token_index_of_char(token_end_chars: Sequence[int], char: int) -> int:
    """Index of the LAST token whose character range ``[end[i-1], end[i])`` contains ``char``.

    Several tokens share one range when they hold the bytes of one multi-byte character; the last of them
    is the one that completes it, so it is the one that receives the reward.

    Example:
        >>> token_index_of_char([3, 4, 4, 9], 3)  # tokens 1 and 2 both end at 4: char 3 is completed by 2
        2
    """
    if not token_end_chars or not 0 <= char < token_end_chars[-1]:
        raise InvalidValueError(
            f"character {char} is outside the response tokens' text [0, {token_end_chars[-1] if token_end_chars else 0})"
        )
    first = bisect.bisect_right(token_end_chars, char)
    return bisect.bisect_right(token_end_chars, token_end_chars[first]) - 1


# ------------------------------------------------------------------------------------ placement


@dataclass(frozen=True, kw_only=True)
class TokenSegment(ScoredSegment):
    """A scored segment (the environment's :class:`~fg_env.segments.ScoredSegment`) and the response token
    that receives its reward.

    ``start``/``end`` are offsets in the environment's response, as in ``info["segments"]``; ``step`` is
    the environment step that scored it; ``weight`` is the weight a scalarising wrapper attached to it
    (None if none).

    Example:
        >>> s = TokenSegment(component="factuality", granularity="sentence", start=0, end=8, text="Ann won.",
        ...                  value=-1.0, label="Wrong-Grounding", step=0, token_index=2)
        >>> s.token_index, s.weighted_value(0.5)
        (2, -0.5)
    """

    step: int
    token_index: int


@dataclass(frozen=True)
class TokenPlacement:
    """Every scored segment of one answer on its response token.

    ``num_tokens`` is the response's length in tokens (end-of-sequence token included);
    ``num_used_tokens`` how many of them the environment saw: all, unless it truncated the answer at
    ``max_sentences``, when the tokens after the last sentence it took are left out (0 reward, outside
    :attr:`response_mask`: do not train on them). ``reward_names`` and ``default_weights`` are those of the
    reward the environment returned (a scalarised one: ``("reward",)``), for :func:`token_rewards`'s
    weights and :func:`component_token_rewards`'s rows.

    Example:
        >>> s = TokenSegment(component="factuality", granularity="sentence", start=0, end=8, text="Ann won.",
        ...                  value=-1.0, label=None, step=0, token_index=2)
        >>> p = TokenPlacement((s,), num_tokens=5, num_used_tokens=4, reward_names=("factuality",), default_weights=(0.5,))
        >>> p.final_token_index, p.response_mask.tolist()
        (3, [True, True, True, True, False])
    """

    segments: tuple[TokenSegment, ...]
    num_tokens: int
    num_used_tokens: int
    reward_names: tuple[str, ...]
    default_weights: tuple[float, ...]

    def __post_init__(self) -> None:
        if not 0 <= self.num_used_tokens <= self.num_tokens:
            raise InvalidValueError(
                f"num_used_tokens={self.num_used_tokens} is outside [0, num_tokens={self.num_tokens}]"
            )
        if len(self.default_weights) != len(self.reward_names):
            raise InvalidValueError(
                f"{len(self.default_weights)} default weights for {len(self.reward_names)} reward names "
                f"{list(self.reward_names)}"
            )
        for segment in self.segments:
            if not 0 <= segment.token_index < max(self.num_used_tokens, 1):
                raise InvalidValueError(
                    f"{segment.component} segment {segment.text!r} is placed on token {segment.token_index}, "
                    f"outside the {self.num_used_tokens} tokens the environment saw"
                )

    @property
    def final_token_index(self) -> int:
        """The last token the environment saw: it receives episode-level rewards."""
        return self.num_used_tokens - 1

    @property
    def response_mask(self) -> np.ndarray:
        """True on the tokens the environment saw, shape ``(num_tokens,)``."""
        mask = np.zeros(self.num_tokens, dtype=bool)
        mask[: self.num_used_tokens] = True
        return mask


def reward_facts(env: Any, played: PlayedAnswer | None = None) -> tuple[tuple[str, ...], tuple[float, ...]]:
    """The names and default weights of the reward ``env`` returns: its reward vector's components, or one
    unnamed ``("reward",)`` entry of weight 1 when a wrapper scalarises it (its segments then carry their
    weights). ``env`` is a Gymnasium env of the core under any wrappers, or a
    :class:`~fg_env.envs.vector.FineGrainedVectorEnv`; ``played`` (an answer played on it) settles the
    shape for an env that does not say.

    Example:
        >>> import gymnasium as gym, fg_env
        >>> from fg_env.wrappers import HolisticReward
        >>> names, weights = reward_facts(gym.make("FineGrainedQA-v0"))
        >>> names, [round(w, 4) for w in weights]
        (('relevance', 'factuality', 'completeness'), [0.3, 0.5, 0.3])
        >>> reward_facts(HolisticReward(gym.make("FineGrainedQA-v0")))
        (('reward',), (1.0,))
    """
    import gymnasium as gym

    lookup: Callable[[str], Any]
    if isinstance(env, gym.Env):
        lookup = env.get_wrapper_attr
    else:  # a vector env states the facts of its sub-envs
        lookup = functools.partial(getattr, env)
    scalar = played is not None and played.rewards.ndim == 1
    if not scalar:
        try:
            lookup("segment_weights")
            scalar = True
        except AttributeError:
            scalar = False
    if scalar:
        return ("reward",), (1.0,)
    names = tuple(str(n) for n in lookup("reward_names"))
    try:
        weights = tuple(float(w) for w in lookup("default_weights"))
    except AttributeError:
        weights = (1.0,) * len(names)
    return names, weights


def place_played(
    played: PlayedAnswer,
    token_end_chars: Sequence[int],
    *,
    num_text_tokens: int | None = None,
    env: Any = None,
    reward_names: Sequence[str] | None = None,
    default_weights: Sequence[float] | None = None,
) -> TokenPlacement:
    """Put every segment of ``played`` on the response token holding its last character.

    Args:
        played: the answer as the environment played it (``play_answer`` / ``play_answers``).
        token_end_chars: where each response token ends in ``played.answer`` (the text that was played),
            non-decreasing: :func:`token_end_chars`, or :func:`ends_from_offsets` of a fast tokenizer's
            ``offset_mapping``. One entry per response token, the end-of-sequence token included.
        num_text_tokens: how many leading tokens hold the text (default: all). Trailing tokens that hold
            no character (an end-of-sequence token) end where the text ends but must never own a
            segment's last character: they get episode-level rewards through the final token instead.
        env: the environment ``played`` was played on (any wrappers, or its vector env), for the reward's
            names and default weights (:func:`reward_facts`); or give ``reward_names`` and
            ``default_weights``. With neither, the names are the segments' components in order of first
            appearance, of weight 1.

    The environment takes each sentence verbatim; if it inserted a separator between two actions, offsets
    are mapped back to the answer's text. An answer truncated at ``max_sentences`` uses only the tokens up
    to the last character the environment took (:attr:`TokenPlacement.num_used_tokens`).
    """
    num_tokens = len(token_end_chars)
    if num_tokens == 0:
        raise InvalidValueError("the response has no tokens: there is no token to put a reward on")
    ends = _check_ends(token_end_chars, num_text_tokens, len(played.answer), f"question {played.example_id!r}")
    num_used = num_tokens
    if played.truncated and played.consumed_end > 0:
        # Tokens after the last sentence the env took were never seen by it: mask them out of training.
        num_used = _owner(ends, played.consumed_end - 1, "the end of the text the environment took") + 1
    final_token = num_used - 1
    pieces = _pieces(played)
    placed = []
    for step, info in enumerate(played.infos):
        for s in info.get("segments", ()):
            segment = ScoredSegment.from_info({"text": played.response[s["start"] : s["end"]], **s})
            if segment.granularity == "episode" or segment.end <= segment.start:
                token = final_token
            else:
                char = _env_to_answer(pieces, segment.end - 1)
                token = min(_owner(ends, char, _describe(segment)), final_token)
            placed.append(TokenSegment(**vars(segment), step=step, token_index=token))
    names, weights = _facts(env, played, placed, reward_names, default_weights)
    return TokenPlacement(tuple(placed), num_tokens, num_used, names, weights)


def place_segments(
    step_segments: Sequence[Iterable[Mapping[str, Any] | ScoredSegment]],
    token_end_chars: Sequence[int],
    *,
    num_text_tokens: int | None = None,
    num_used_tokens: int | None = None,
    reward_names: Sequence[str] | None = None,
    default_weights: Sequence[float] | None = None,
) -> TokenPlacement:
    """Put the segments of an episode you stepped yourself on tokens.

    ``step_segments[t]`` is step ``t``'s ``info["segments"]`` (dicts or
    :class:`~fg_env.segments.ScoredSegment`), whose offsets are in the environment's final response;
    ``token_end_chars`` says where each response token ends in that same response (your actions, concatenated
    as the environment concatenated them). ``num_used_tokens`` (default: all) is how many tokens the
    environment saw; ``num_text_tokens``, ``reward_names`` and ``default_weights`` are as for
    :func:`place_played`.

    Example:
        >>> segments = [[{"component": "factuality", "granularity": "sentence", "start": 0, "end": 8,
        ...               "text": "Ann won.", "value": 1.0, "label": None}],
        ...             [{"component": "completeness", "granularity": "episode", "start": 0, "end": 8,
        ...               "text": "Ann won.", "value": 0.5, "label": None}]]
        >>> p = place_segments(segments, [3, 7, 8, 8], num_text_tokens=3)  # "Ann", " won", ".", eos
        >>> [(s.component, s.token_index) for s in p.segments], p.reward_names
        ([('factuality', 2), ('completeness', 3)], ('factuality', 'completeness'))
    """
    if isinstance(step_segments, Mapping) or not isinstance(step_segments, Sequence):
        raise InvalidTypeError("step_segments is a list with one list of info['segments'] per step")
    num_tokens = len(token_end_chars)
    if num_tokens == 0:
        raise InvalidValueError("the response has no tokens: there is no token to put a reward on")
    ends = _check_ends(token_end_chars, num_text_tokens, None, "the episode")
    num_used = num_tokens if num_used_tokens is None else int(num_used_tokens)
    if not 1 <= num_used <= num_tokens:
        raise InvalidValueError(f"num_used_tokens={num_used_tokens} is outside [1, {num_tokens}]")
    placed = []
    for step, segments in enumerate(step_segments):
        if isinstance(segments, Mapping) or isinstance(segments, ScoredSegment):
            raise InvalidTypeError(
                f"step_segments[{step}] is one segment: give each step's info['segments'] list, one list per step"
            )
        for s in segments:
            segment = s if isinstance(s, ScoredSegment) else ScoredSegment.from_info(s)
            if segment.granularity == "episode" or segment.end <= segment.start:
                token = num_used - 1
            else:
                token = min(_owner(ends, segment.end - 1, _describe(segment)), num_used - 1)
            placed.append(TokenSegment(**vars(segment), step=step, token_index=token))
    names, weights = _facts(None, None, placed, reward_names, default_weights)
    return TokenPlacement(tuple(placed), num_tokens, num_used, names, weights)


def _check_ends(
    token_end_chars: Sequence[int], num_text_tokens: int | None, text_length: int | None, where: str
) -> list[int]:
    """The text tokens' end offsets, checked: integers, non-decreasing, covering exactly the text."""
    ends = [int(e) for e in token_end_chars]
    if num_text_tokens is not None and not 0 <= num_text_tokens <= len(ends):
        raise InvalidValueError(f"num_text_tokens={num_text_tokens} is outside [0, {len(ends)}] (the response tokens)")
    if any(b < a for a, b in zip(ends, ends[1:])) or (ends and ends[0] < 0):
        raise InvalidValueError(
            f"token_end_chars must be non-negative and non-decreasing (token i covers [end[i-1], end[i])), got {ends[:12]}"
        )
    text_ends = ends if num_text_tokens is None else ends[:num_text_tokens]
    covered = text_ends[-1] if text_ends else 0
    if text_length is not None and covered != text_length:
        raise InvalidValueError(
            f"the response tokens' offsets cover {covered} characters but the answer to {where} has {text_length}: "
            "token_end_chars must be the offsets of the played text itself (decode the ids with "
            "skip_special_tokens=True, clean_up_tokenization_spaces=False)"
        )
    return text_ends


def _owner(ends: list[int], char: int, what: str) -> int:
    """The token that completes character ``char``; a clear error when no token holds it."""
    if not ends or not 0 <= char < ends[-1]:
        raise InvalidValueError(
            f"{what} ends at character {char}, outside the characters the response tokens' offsets cover "
            f"[0, {ends[-1] if ends else 0}): the token offsets do not map this segment (offsets of another "
            "text, or too few tokens)"
        )
    return token_index_of_char(ends, char)


def _describe(segment: ScoredSegment) -> str:
    text = segment.text if len(segment.text) <= 40 else segment.text[:37] + "..."
    return f"{segment.component} segment {text!r} [{segment.start}, {segment.end})"


def _facts(
    env: Any,
    played: PlayedAnswer | None,
    placed: Sequence[TokenSegment],
    reward_names: Sequence[str] | None,
    default_weights: Sequence[float] | None,
) -> tuple[tuple[str, ...], tuple[float, ...]]:
    if env is not None:
        if reward_names is not None or default_weights is not None:
            raise InvalidValueError("give env= or reward_names=/default_weights=, not both")
        return reward_facts(env, played)
    names = tuple(reward_names) if reward_names is not None else tuple(dict.fromkeys(s.component for s in placed))
    weights = tuple(float(w) for w in default_weights) if default_weights is not None else (1.0,) * len(names)
    return names, weights


@dataclass
class _Piece:
    """An action as appended by the env: env chars [env_start, env_start+length) are answer chars [start, ...)."""

    env_start: int
    answer_start: int
    length: int


def _env_to_answer(pieces: list[_Piece], char: int) -> int:
    """The answer character that env response character ``char`` came from.

    A separator the env inserted between two actions belongs to no answer character; it maps to the
    character before it (segments never end on whitespace, so no reward lands there anyway).
    """
    for piece in reversed(pieces):
        if char >= piece.env_start:
            return piece.answer_start + min(char - piece.env_start, piece.length - 1)
    raise InvalidValueError(f"response character {char} precedes every action")


def _pieces(played: PlayedAnswer) -> list[_Piece]:
    """Where the env put each non-empty action in its response."""
    pieces, before = [], ""
    for (start, end), after in zip(played.actions, played.responses):
        if end > start:
            pieces.append(_appended_piece(before, after, played.answer[start:end], start))
        before = after
    return pieces


def _appended_piece(before: str, after: str, action: str, answer_start: int) -> _Piece:
    """Where the env put ``action`` in its response (verbatim, after at most one separator)."""
    separator = len(after) - len(before) - len(action)
    if separator not in (0, 1) or not after.startswith(before) or not after.endswith(action):
        raise RuntimeError(
            f"the environment did not append action {action!r} to the response (verbatim, with at most one "
            f"separator): got {after[len(before) :]!r}"
        )
    return _Piece(len(before) + separator, answer_start, len(action))


# ------------------------------------------------------------------------------------ rewards


def _weight_lookup(placement: TokenPlacement, weights: Weights) -> Callable[[TokenSegment], float]:
    if weights is None:
        defaults = dict(zip(placement.reward_names, placement.default_weights))
        # A scalarising wrapper already attached each segment's weight; otherwise the env's defaults.
        return lambda s: s.weight if s.weight is not None else defaults.get(s.component, 1.0)
    if isinstance(weights, Mapping):
        table = {str(k): float(v) for k, v in weights.items()}
    else:
        values = np.asarray(weights, dtype=np.float64).reshape(-1)
        if values.shape[0] != len(placement.reward_names):
            raise InvalidValueError(
                f"weights has {values.shape[0]} entries but the episode has {len(placement.reward_names)} reward "
                f"models {list(placement.reward_names)}"
            )
        table = dict(zip(placement.reward_names, values.tolist()))

    def lookup(s: TokenSegment) -> float:
        if s.component not in table:
            raise InvalidValueError(f"no weight for reward component {s.component!r}; weights cover {sorted(table)}")
        return table[s.component]

    return lookup


def token_rewards(placement: TokenPlacement, weights: Weights = None) -> np.ndarray:
    """Per-token rewards of one answer, shape ``(num_tokens,)``, float32: THE token reward of fg_env, used
    by its own PPO (:func:`agents.algorithms.rollout.token_rewards`) and its verl adapter
    (:mod:`fg_env.integrations.verl`).

    Each segment adds ``weight x value`` on its token (episode-level ones on the final token); tokens
    outside ``response_mask`` are 0. ``weights`` maps component names to weights, or lists one per
    ``placement.reward_names``; None uses the weight a scalarising wrapper attached to each segment, else
    the environment's ``default_weights`` (the paper's).

    Example (one -1 factuality verdict on token 2 of 4):
        >>> s = TokenSegment(component="factuality", granularity="sentence", start=0, end=8, text="Ann won.",
        ...                  value=-1.0, label="Wrong-Grounding", step=0, token_index=2)
        >>> p = TokenPlacement((s,), 4, 4, ("factuality",), (0.5,))
        >>> token_rewards(p).tolist(), token_rewards(p, {"factuality": 2.0}).tolist()
        ([0.0, 0.0, -0.5, 0.0], [0.0, 0.0, -2.0, 0.0])
    """
    lookup = _weight_lookup(placement, weights)
    out = np.zeros(placement.num_tokens, dtype=np.float32)
    for segment in placement.segments:
        out[segment.token_index] += lookup(segment) * segment.value
    out[placement.num_used_tokens :] = 0.0
    return out


def component_token_rewards(
    placement: TokenPlacement,
    *,
    weighted: bool = False,
    weights: Weights = None,
    components: Sequence[str] | None = None,
) -> np.ndarray:
    """Per-token rewards of each component apart, shape ``(num_components, num_tokens)``, float32.

    Row ``k`` holds the values of component ``components[k]``'s segments on their tokens (default
    components: ``placement.reward_names``), unweighted, or ``weight x value`` with ``weighted=True``
    (``weights`` as for :func:`token_rewards`). Summed over rows, the weighted form is
    :func:`token_rewards` (up to float rounding). A segment of a component not among the rows is an error,
    never dropped: a scalarised env's segments are named by its ``segment_weights``, pass those.

    Example:
        >>> seg = lambda c, v, t: TokenSegment(component=c, granularity="sentence", start=0, end=1, text="A",
        ...                                    value=v, label=None, step=0, token_index=t)
        >>> p = TokenPlacement((seg("relevance", 1.0, 1), seg("factuality", -1.0, 1)), 3, 3,
        ...                    ("relevance", "factuality"), (0.3, 0.5))
        >>> component_token_rewards(p).tolist()
        [[0.0, 1.0, 0.0], [0.0, -1.0, 0.0]]
        >>> component_token_rewards(p, weighted=True).sum(axis=0).tolist() == token_rewards(p).tolist()
        True
    """
    if weights is not None and not weighted:
        raise InvalidValueError("weights= applies to weighted=True only: the unweighted rows are the raw values")
    rows = tuple(placement.reward_names if components is None else components)
    index = {name: k for k, name in enumerate(rows)}
    lookup = _weight_lookup(placement, weights) if weighted else None
    out = np.zeros((len(rows), placement.num_tokens), dtype=np.float32)
    for segment in placement.segments:
        if segment.component not in index:
            raise InvalidValueError(
                f"{segment.component} segment {segment.text[:40]!r} has no row among components {list(rows)}: "
                "pass components= naming every component the environment reports"
            )
        value = segment.value if lookup is None else lookup(segment) * segment.value
        out[index[segment.component], segment.token_index] += value
    out[:, placement.num_used_tokens :] = 0.0
    return out
