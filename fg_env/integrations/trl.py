"""fg_env's reward models as TRL reward functions (``GRPOTrainer``, ``RLOOTrainer``).

TRL's trainers take one scalar per completion and per reward function: a sequence-level reward. So
each reward model of the environment becomes one reward function, named after it (TRL then logs
``rewards/relevance/mean`` and so on), whose value is the completion's **episode return** for that
model: the sum of its step rewards when the completion is played through FineGrainedQA-v0 sentence by
sentence and ended. The dense per-segment placement of the paper is lost on the way (TRL has nowhere
to put it); fg_env's own PPO (:class:`agents.algorithms.ppo.FineGrainedPPO`) keeps it, placing each segment's
reward on its last token.

- :class:`FineGrainedRewards`: the reward functions (``reward_funcs``) and the paper's weights in the
  same order (``reward_weights``, for ``GRPOConfig(reward_weights=...)``); ``grpo_kwargs()`` gives those
  weights with TRL's ``multi_objective_aggregation``, by default ``"normalize_then_sum"`` (GDPO: each reward
  model's returns normalised within the question's group before the weighted sum).
- :func:`prompt_dataset`: the ``datasets.Dataset`` of prompts to train on, with the ``example_id``
  column through which TRL tells the reward functions which question each completion answers.

The K reward functions of one batch share one :class:`EpisodeScorer`: the first to be called plays
the whole batch on a native vector env (one ``score`` call per reward model per step, for all the
answers together) and the others read its memoised result.

Example:
    >>> rewards = FineGrainedRewards(split="dev")
    >>> [f.__name__ for f in rewards.reward_funcs], rewards.reward_weights
    (['relevance', 'factuality', 'completeness'], [0.3, 0.5, 0.3])
    >>> question = rewards.examples[0]
    >>> gold = " " + question.references[0]
    >>> [f(prompts=[question.prompt], completions=[gold], example_id=[question.id]) for f in rewards.reward_funcs]
    [[4.0], [3.0], [1.0]]
    >>> rewards.scorer.batches_scored  # the three functions scored the batch once
    1

With TRL (the trainer needs a policy; ``examples/trl_grpo.py`` runs this on a tiny one):

    >>> from trl import GRPOConfig, GRPOTrainer  # doctest: +SKIP
    >>> trainer = GRPOTrainer(  # doctest: +SKIP
    ...     model="path/to/policy",
    ...     reward_funcs=rewards.reward_funcs,
    ...     args=GRPOConfig(output_dir="runs/grpo", reward_weights=rewards.reward_weights),
    ...     train_dataset=prompt_dataset("synthetic", "dev", limit=64),
    ... )

Per-component normalisation (GDPO), TRL's ``normalize_then_sum``, with the same weights:

    >>> args = GRPOConfig(output_dir="runs/gdpo", **rewards.grpo_kwargs())  # doctest: +SKIP
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

import gymnasium as gym
import numpy as np

from fg_env.data.base import QADataset, make_dataset
from fg_env.envs.answers import play_answers
from fg_env.envs.vector import FineGrainedQAVectorEnv
from fg_env.errors import InvalidTypeError, InvalidValueError, MissingDependencyError, UnknownChoiceError
from fg_env.prompts import answer_prompt, format_passages, question_context
from fg_env.types import QAExample

if TYPE_CHECKING:
    from datasets import Dataset

__all__ = ["EpisodeReward", "EpisodeScorer", "FineGrainedRewards", "completion_text", "prompt_dataset"]

INSTALL_HINT = 'pip install "fg-env[trl]"'
#: The values of TRL's ``GRPOConfig.multi_objective_aggregation`` (TRL 0.27 and later; 1.16's are these two).
AGGREGATIONS = ("normalize_then_sum", "sum_then_normalize")
# What TRL passes every reward function besides the dataset's columns (left out of error messages).
_TRL_KWARGS = frozenset({"prompts", "completion_ids", "trainer_state", "log_extra", "log_metric", "environments"})


# ------------------------------------------------------------------------------------ completions


def completion_text(completion: Any, position: int = 0) -> str:
    """The answer a TRL completion holds: the string itself (standard format), or the content of the
    last assistant message (conversational format: a list of ``{"role", "content"}`` dicts, the
    content a string or a list of ``{"type": "text", "text": ...}`` parts).

    Example:
        >>> completion_text(" Ann won.")
        ' Ann won.'
        >>> completion_text([{"role": "assistant", "content": [{"type": "text", "text": "Ann won."}]}])
        'Ann won.'
    """
    if isinstance(completion, str):
        return completion
    where = f"completion {position}"
    if not isinstance(completion, (list, tuple)) or not all(isinstance(m, Mapping) for m in completion):
        raise InvalidTypeError(
            f"{where} is a {type(completion).__name__}: a TRL completion is a str (standard format) "
            "or a list of message dicts (conversational format)"
        )
    replies = [m for m in completion if m.get("role") == "assistant"]
    if not replies:
        roles = [m.get("role") for m in completion]
        raise InvalidValueError(f"{where} holds no assistant message (roles {roles}): there is no answer to score")
    content = replies[-1].get("content")
    if isinstance(content, str):
        return content
    if isinstance(content, (list, tuple)) and all(isinstance(p, Mapping) for p in content):
        kinds = {p.get("type") for p in content}
        if kinds <= {"text"}:
            return "".join(str(p.get("text", "")) for p in content)
        raise InvalidValueError(
            f"{where}'s answer has non-text parts {sorted(map(str, kinds - {'text'}))}: only text is scored"
        )
    raise InvalidTypeError(
        f"{where}'s assistant content is a {type(content).__name__}: expected a str or a list of text parts"
    )


# ------------------------------------------------------------------------------------ scoring


class EpisodeScorer:
    """Episode returns of whole answers for all K reward models of ``envs`` at once, the last batch
    memoised (TRL calls K reward functions on the same batch, one after the other).

    Answers are played side by side on ``envs`` (:func:`~fg_env.envs.answers.play_answers`: each
    sentence with the whitespace before it as an action, then the empty action), so each step of a
    batch makes one ``score`` call per reward model for up to ``envs.num_envs`` answers.

    Example:
        >>> scorer = EpisodeScorer(FineGrainedQAVectorEnv(num_envs=2, split="dev"))
        >>> question = scorer.examples[0]
        >>> scorer([question.references[0], "The sky is green."], [question.id] * 2).tolist()
        [[4.0, 3.0, 1.0], [-1.0, 1.0, 0.0]]
    """

    def __init__(self, envs: FineGrainedQAVectorEnv) -> None:
        if envs.scalar_reward:
            raise InvalidValueError(
                "the environment's reward is scalarised: give TRL the reward vector (leave out "
                "LinearScalarization / HolisticReward's scalar) and weight it with reward_weights"
            )
        self.envs = envs
        self.reward_names: tuple[str, ...] = tuple(c.name for c in envs.reward_components)
        self.batches_scored = 0  # batches actually played (memoised repeats not counted)
        self._index_by_id: dict[str, int] | None = None
        self._last: tuple[tuple[str, ...], tuple[str, ...], np.ndarray] | None = None

    @property
    def examples(self) -> Sequence[QAExample]:
        """The questions of the environment's split, which ``example_id`` values must name."""
        return self.envs.core_envs[0].examples

    def __call__(self, answers: Sequence[str], example_ids: Sequence[str]) -> np.ndarray:
        """Returns of shape ``(len(answers), K)``, float32, read-only (a memoised batch is shared)."""
        answers, example_ids = tuple(answers), tuple(example_ids)
        if len(answers) != len(example_ids):
            raise InvalidValueError(f"{len(answers)} completions but {len(example_ids)} example_id values: one each")
        # Scoring is deterministic, so an equal batch has equal returns: comparing contents (not
        # identities, which Python reuses) is what makes the memo safe across training steps.
        if self._last is not None and self._last[0] == answers and self._last[1] == example_ids:
            return self._last[2]
        returns = self._episode_returns(answers, example_ids)
        returns.flags.writeable = False
        self._last = (answers, example_ids, returns)
        self.batches_scored += 1
        return returns

    def _episode_returns(self, answers: Sequence[str], example_ids: Sequence[str]) -> np.ndarray:
        """The seam every batch goes through: ``(B, K)`` unweighted episode returns."""
        indices = self._indices(example_ids)
        played = play_answers(self.envs, list(answers), indices=indices)
        returns = np.zeros((len(answers), len(self.reward_names)), dtype=np.float32)
        for row, answer in enumerate(played):
            returns[row] = answer.episode_return()
        return returns

    def _indices(self, example_ids: Sequence[str]) -> list[int]:
        """Each id's position in the split, every id checked before anything is played."""
        if self._index_by_id is None:
            self._index_by_id = {example.id: i for i, example in enumerate(self.examples)}
        qa = self.envs.core_envs[0]
        indices = []
        for position, example_id in enumerate(example_ids):
            index = self._index_by_id.get(example_id) if isinstance(example_id, str) else None
            if index is None:
                raise KeyError(
                    f"example_id {example_id!r} (completion {position}) is no question of split {qa.split!r} "
                    f"of dataset {qa.dataset.name!r} (ids such as {self.examples[0].id!r}): build the prompts "
                    "with prompt_dataset() from the same dataset and split as the reward functions"
                )
            indices.append(index)
        return indices


class EpisodeReward:
    """One reward model's episode return, as a TRL reward function: ``f(prompts, completions,
    example_id, **kwargs) -> list[float]``. Its ``__name__`` is the reward model's name.

    Example:
        >>> rewards = FineGrainedRewards(split="dev")
        >>> factuality = rewards.reward_funcs[1]
        >>> factuality.__name__, factuality(completions=["The sky is green."], example_id=[rewards.examples[0].id])
        ('factuality', [1.0])
    """

    def __init__(self, scorer: EpisodeScorer, index: int) -> None:
        self.scorer, self.index = scorer, index
        # TRL names a callable by its __name__ (an instance attribute is read too): the log keys.
        self.__name__ = scorer.reward_names[index]

    def __call__(
        self, completions: Sequence[Any], example_id: Sequence[str] | None = None, **kwargs: Any
    ) -> list[float]:
        if example_id is None:
            columns = sorted(set(kwargs) - _TRL_KWARGS)
            raise KeyError(
                f"reward function {self.__name__!r} needs the dataset's 'example_id' column to know which question "
                f"each completion answers; the dataset's other columns are {columns}: build it with "
                "fg_env.integrations.trl.prompt_dataset()"
            )
        if isinstance(completions, str) or isinstance(example_id, str):
            raise InvalidTypeError("completions and example_id are lists, one entry per completion (got a single str)")
        answers = [completion_text(c, position) for position, c in enumerate(completions)]
        return [float(v) for v in self.scorer(answers, list(example_id))[:, self.index]]

    def __repr__(self) -> str:
        return f"EpisodeReward({self.__name__!r})"


class FineGrainedRewards:
    """The environment's reward models as TRL reward functions, with the paper's weights.

    Takes FineGrainedQA-v0's arguments (``dataset``, ``split``, ``reward_models``, ``max_sentences``,
    ``data_dir``, ``env_wrappers``, ...) and ``num_envs``, how many answers are played side by side
    (a batch larger than that is played in chunks). A completion longer than ``max_sentences``
    sentences is truncated there, as in the environment: its tail earns nothing.

    Attributes:
        reward_funcs: one :class:`EpisodeReward` per reward model, for ``reward_funcs=``.
        reward_weights: each model's default weight (the paper's 0.3, 0.5, 0.3), in the same order,
            for ``GRPOConfig(reward_weights=...)`` / ``RLOOConfig(reward_weights=...)``.
        reward_names: the reward models' names, in the same order.
        scorer: the :class:`EpisodeScorer` the functions share.

    Example:
        >>> from fg_env.wrappers import SelectRewards
        >>> rewards = FineGrainedRewards(split="dev", env_wrappers=[lambda e: SelectRewards(e, ["factuality"])])
        >>> rewards.reward_names, rewards.reward_weights
        (('factuality',), [0.5])
    """

    def __init__(self, *, num_envs: int = 32, **env_kwargs: Any) -> None:
        self._set_up(FineGrainedQAVectorEnv(num_envs, **env_kwargs))

    @classmethod
    def from_env(cls, env: gym.Env, num_envs: int = 32) -> FineGrainedRewards:
        """The reward functions of ``env`` (a FineGrainedQA env under any reward-vector wrappers), its
        reward models shared, not copied (:meth:`FineGrainedQAVectorEnv.from_env`).

        Example:
            >>> import gymnasium as gym, fg_env
            >>> FineGrainedRewards.from_env(gym.make("FineGrainedQA-v0", split="dev")).reward_names
            ('relevance', 'factuality', 'completeness')
        """
        rewards = cls.__new__(cls)
        rewards._set_up(FineGrainedQAVectorEnv.from_env(env, num_envs))
        return rewards

    def _set_up(self, envs: FineGrainedQAVectorEnv) -> None:
        self.scorer = EpisodeScorer(envs)
        self.reward_names = self.scorer.reward_names
        self.reward_weights: list[float] = [float(c.default_weight) for c in envs.reward_components]
        self.reward_funcs: list[EpisodeReward] = [EpisodeReward(self.scorer, k) for k in range(len(self.reward_names))]

    @property
    def examples(self) -> Sequence[QAExample]:
        """The questions of the split the functions score against."""
        return self.scorer.examples

    def grpo_kwargs(self, aggregation: str = "normalize_then_sum") -> dict[str, Any]:
        """The ``GRPOConfig`` arguments that go with :attr:`reward_funcs`: ``reward_weights`` (in their order)
        and ``multi_objective_aggregation``.

        ``"normalize_then_sum"`` (the default here; GDPO, arXiv:2601.05242): TRL standardises each reward
        function's values over a prompt's ``num_generations`` completions, ``(R_k - mean_k) / (std_k + 1e-4)``,
        sums them with ``reward_weights`` and standardises that sum over the batch for the advantages
        (``scale_rewards`` is then not used). ``"sum_then_normalize"`` is TRL's default: the weighted sum first,
        then ``scale_rewards``. fg_env's own PPO does the former on token rewards:
        ``PPOConfig(reward_normalization="per-component")``, the ``fine-grained-normalized`` scheme.

        Needs a TRL whose ``GRPOConfig`` has ``multi_objective_aggregation`` (0.27 or later); only GRPO has it
        (``RLOOConfig`` takes ``reward_weights`` alone).

        Example:
            >>> rewards = FineGrainedRewards(split="dev", num_envs=1)
            >>> rewards.grpo_kwargs()  # doctest: +SKIP
            {'reward_weights': [0.3, 0.5, 0.3], 'multi_objective_aggregation': 'normalize_then_sum'}
            >>> rewards.grpo_kwargs("mean")
            Traceback (most recent call last):
            ...
            fg_env.errors.UnknownChoiceError: unknown multi_objective_aggregation 'mean'; valid choices: normalize_then_sum, sum_then_normalize
        """
        if aggregation not in AGGREGATIONS:
            raise UnknownChoiceError("multi_objective_aggregation", aggregation, AGGREGATIONS)
        try:
            import trl
            from trl import GRPOConfig
        except ImportError as error:  # the arguments are for TRL's GRPOConfig, an optional extra
            raise MissingDependencyError(f"grpo_kwargs() is for TRL's GRPOConfig: {INSTALL_HINT}") from error
        if "multi_objective_aggregation" not in {f.name for f in dataclasses.fields(GRPOConfig)}:
            raise MissingDependencyError(
                f"TRL {trl.__version__}'s GRPOConfig has no multi_objective_aggregation (added in TRL 0.27, with "
                'GDPO): pip install -U "trl>=0.27"'
            )
        return {"reward_weights": list(self.reward_weights), "multi_objective_aggregation": aggregation}

    def __repr__(self) -> str:
        qa = self.scorer.envs.core_envs[0]
        return f"FineGrainedRewards({list(self.reward_names)}, dataset={qa.dataset.name!r}, split={qa.split!r})"


# ------------------------------------------------------------------------------------ prompts

Tokenizer = Callable[[str], Mapping[str, Any]]


def prompt_dataset(
    dataset: str | QADataset = "synthetic",
    split: str = "train",
    *,
    indices: Sequence[int] | None = None,
    limit: int | None = None,
    data_dir: str | None = None,
    dataset_kwargs: dict[str, Any] | None = None,
    tokenizer: Tokenizer | None = None,
    max_prompt_tokens: int | None = None,
) -> Dataset:
    """A ``datasets.Dataset`` of prompts for TRL: columns ``prompt`` (the canonical prompt,
    ``question: ... context: wikipage: ... answer:``) and ``example_id``.

    Args:
        dataset, split, data_dir, dataset_kwargs: as for FineGrainedQA-v0; the reward functions must
            be built on the same dataset and split.
        indices: which questions of the split (default: all of them, in order).
        limit: at most this many of them (the first ones).
        tokenizer, max_prompt_tokens: fit each prompt in ``max_prompt_tokens`` tokens of ``tokenizer``
            (a Hugging Face tokenizer) by keeping only the passage sentences that fit, in order; the
            question and the layout stay. TRL's ``GRPOTrainer`` no longer cuts prompts itself, so a
            policy with a short context needs this (leave room for ``max_completion_length``). The
            rewards still judge against the whole question.

    Example:
        >>> rows = prompt_dataset("synthetic", "dev", limit=2)
        >>> rows.column_names, rows[0]["example_id"], rows[0]["prompt"][:30]
        (['prompt', 'example_id'], 'synthetic-dev-00000', 'question: who was hidden horiz')
    """
    try:
        from datasets import Dataset
    except ImportError as error:  # datasets is an optional extra
        raise MissingDependencyError(f"prompt_dataset() needs the datasets library: {INSTALL_HINT}") from error
    if (tokenizer is None) != (max_prompt_tokens is None):
        raise InvalidValueError("give both tokenizer= and max_prompt_tokens= to fit prompts in a length, or neither")
    if max_prompt_tokens is not None and (not isinstance(max_prompt_tokens, int) or max_prompt_tokens < 1):
        raise InvalidValueError(f"max_prompt_tokens must be a positive integer, got {max_prompt_tokens!r}")
    if limit is not None and (not isinstance(limit, int) or limit < 0):
        raise InvalidValueError(f"limit must be a non-negative integer, got {limit!r}")
    kwargs = dict(dataset_kwargs or {})
    if data_dir is not None:
        kwargs["data_dir"] = data_dir
    examples = make_dataset(dataset, **kwargs).split(split)
    chosen = list(range(len(examples))) if indices is None else [int(i) for i in indices]
    bad = [i for i in chosen if not 0 <= i < len(examples)]
    if bad:
        raise IndexError(f"indices {bad[:5]} are outside split {split!r} (0..{len(examples) - 1})")
    chosen = chosen[:limit] if limit is not None else chosen
    rows: dict[str, list[str]] = {"prompt": [], "example_id": []}
    for i in chosen:
        example = examples[i]
        prompt = example.prompt
        if tokenizer is not None and max_prompt_tokens is not None:
            prompt = fitted_prompt(example, tokenizer, max_prompt_tokens)
        rows["prompt"].append(prompt)
        rows["example_id"].append(example.id)
    return Dataset.from_dict(rows)


def fitted_prompt(example: QAExample, tokenizer: Tokenizer, max_tokens: int) -> str:
    """``example``'s prompt with as many of its passage sentences, in order, as fit in ``max_tokens``.

    Example:
        >>> from fg_env.types import Passage
        >>> ex = QAExample("q", "Who?", (Passage("T", ("Ann did.", "Bob did not.")),), ("Ann.",))
        >>> words = lambda text: {"input_ids": text.split()}  # a tokenizer of whitespace words
        >>> fitted_prompt(ex, words, 9), fitted_prompt(ex, words, 3)
        ('question: Who? context: wikipage: T text: Ann did. answer:', 'question: Who? answer:')
    """

    def length(text: str) -> int:
        return len(tokenizer(text)["input_ids"])

    if length(example.prompt) <= max_tokens:
        return example.prompt
    sentences = [(i, sentence) for i, passage in enumerate(example.passages) for sentence in passage.sentences]

    def prompt_with(count: int) -> str:
        if count == 0:
            return f"{question_context(example.question)} answer:"
        kept: dict[int, list[str]] = {}  # by passage position: two passages may share a title
        for i, sentence in sentences[:count]:
            kept.setdefault(i, []).append(sentence)
        passages = ((example.passages[i].title, " ".join(texts)) for i, texts in kept.items())
        return answer_prompt(example.question, format_passages(passages))

    # Binary search for the most sentences that fit: a prompt grows with the sentences it keeps.
    low, high = 0, len(sentences) - 1  # all of them do not fit (checked above)
    if length(prompt_with(0)) > max_tokens:
        raise InvalidValueError(
            f"question {example.id!r} needs {length(prompt_with(0))} tokens without any passage, "
            f"more than max_prompt_tokens={max_tokens}"
        )
    while low < high:
        middle = (low + high + 1) // 2
        if length(prompt_with(middle)) <= max_tokens:
            low = middle
        else:
            high = middle - 1
    return prompt_with(low)
