"""fg_env's fine-grained rewards for verl (>= 0.9): dense token rewards for verl's PPO.

verl trains on a ``(batch, response_length)`` tensor of token-level scores. This adapter fills it the
way fg_env's own PPO does: each response is decoded, played through an fg_env environment sentence by
sentence (:func:`fg_env.envs.answers.play_answers` on a vector env, so each reward model is called once
per step for the whole batch), and every scored segment's ``weight x value`` is put on the last token
of the segment, episode-level rewards on the final token (:mod:`fg_env.tokens`, the one implementation
PPO and verl share). ``mode="holistic"`` plays the same answers under
:class:`~fg_env.wrappers.HolisticReward`: the weighted return, once, on the final token (the paper's
holistic baseline, as fg_env's ``holistic`` scheme).

Each row names its question by an id in verl's ``non_tensor_batch["extra_info"]`` (``extra_info`` is
the dataset column verl's ``RLHFDataset`` carries to the reward code untouched):
``{"example_id": ..., "split": ...}``; ``examples/verl/prepare_data.py`` writes such a dataset. A row
without it is an error, never a guess.

Three ways in, all sharing :class:`TokenRewardScorer`:

- :class:`FineGrainedAgentLoop` (verl's agent-loop registry, name ``fine_grained``): **the way to train
  on dense rewards with verl 0.9's PPO trainer.** In verl 0.9 the trainer never calls a reward manager
  on the batch: rewards come from the agent loop, per answer, and its reward loop carries one number per
  answer onto the last token. This agent loop generates as verl's ``single_turn_agent`` does, then
  writes the token rewards into the trajectory's ``rm_scores`` (verl's token-level scores) itself.
  Select it with ``actor_rollout_ref.rollout.agent.default_agent_loop=fine_grained`` and
  ``actor_rollout_ref.rollout.agent.agent_loop_config_path=examples/verl/agent_loops.yaml`` (which also
  sets the mode and the environment); it needs the V1 trainer (``trainer.use_v1=True``, verl 0.9's
  default), which keeps the token scores an agent loop writes.
- :class:`FineGrainedRewardManager` (verl's reward-manager registry ``verl.workers.reward_manager``,
  name ``fine_grained``): the batch reward function, ``manager(data, return_dict=True)`` on a
  ``DataProto`` returns ``{"reward_tensor": (B, R), "reward_extra_info": {...}}``, for recipes and
  trainers that call a reward function on the whole batch (verl's ``get_reward_manager_cls
  ("fine_grained")``, or build it directly).
- :class:`TokenRewardScorer`: the scoring itself, without verl: token ids and ``extra_info`` in, token
  rewards out.

Not registered: verl 0.9's reward-loop registry, which ``reward.reward_manager.name`` (formerly
``reward_model.reward_manager``) selects from. Its managers return one score per answer
(``run_single``), which verl puts on the answer's last token: that path cannot carry token rewards.

Importing this module registers both with verl when verl is installed (``pip install "fg-env[verl]"``;
verl pins ``transformers<5.11``, so it usually lives in a virtual environment of its own). Without
verl, the scorer works and the verl classes raise :class:`~fg_env.errors.MissingDependencyError`.

Example (the scorer alone, on a tiny byte-level tokenizer trained here):
    >>> from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers
    >>> from transformers import PreTrainedTokenizerFast
    >>> bpe = Tokenizer(models.BPE())
    >>> bpe.pre_tokenizer, bpe.decoder = pre_tokenizers.ByteLevel(add_prefix_space=False), decoders.ByteLevel()
    >>> bpe.train_from_iterator(["The sky is green."] * 9, trainers.BpeTrainer(
    ...     special_tokens=["<eos>"], initial_alphabet=pre_tokenizers.ByteLevel.alphabet(), show_progress=False))
    >>> tok = PreTrainedTokenizerFast(tokenizer_object=bpe, eos_token="<eos>")
    >>> scorer = TokenRewardScorer(tok, env_kwargs={"split": "dev"})
    >>> ids = tok(" The sky is green.").input_ids + [tok.eos_token_id]
    >>> question = {"example_id": scorer.examples("dev")[0].id, "split": "dev"}
    >>> scored = scorer.score([ids], [question])
    >>> [round(r, 2) for r in scored.token_rewards[0].tolist() if r], scored.component_names
    ([0.2], ('relevance', 'factuality', 'completeness'))
"""

from __future__ import annotations

import asyncio
import importlib.util
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import gymnasium as gym
import numpy as np

from fg_env.envs.answers import PlayedAnswer, play_answers
from fg_env.envs.vector import FineGrainedVectorEnv
from fg_env.errors import InvalidTypeError, InvalidValueError, MissingDependencyError, UnknownChoiceError
from fg_env.tokens import TokenPlacement, place_played, token_end_chars, token_rewards
from fg_env.wrappers import HolisticReward

__all__ = [
    "INSTALL_HINT",
    "MODES",
    "NAME",
    "FineGrainedAgentLoop",  # noqa: F822 - defined by register_with_verl() (module __getattr__)
    "FineGrainedRewardManager",  # noqa: F822
    "ScoredResponses",
    "TokenRewardScorer",
    "dataset_rows",
    "register_with_verl",
]

INSTALL_HINT = (
    'pip install "fg-env[verl]" (verl pins transformers<5.11: install it in a virtual environment of its own)'
)
#: The name under which verl finds the reward manager and the agent loop.
NAME = "fine_grained"
#: ``fine_grained``: each segment's weighted reward on its last token; ``holistic``: the weighted return on
#: the final token.
MODES = ("fine_grained", "holistic")
#: The instruction before each question in :func:`dataset_rows`' chat prompt (an instruct model's system turn).
INSTRUCTION = (
    "Answer the question in a few complete sentences, using only facts stated in the passages. "
    "If the question is ambiguous, answer each reading of it."
)


# ------------------------------------------------------------------------------------ the dataset (no verl)


def dataset_rows(
    dataset: str = "synthetic",
    split: str = "train",
    *,
    limit: int | None = None,
    instruction: str | None = INSTRUCTION,
    data_dir: str | None = None,
) -> list[dict[str, Any]]:
    """The questions of an fg_env dataset's split as rows of verl's RL dataset (one parquet row each).

    Each row holds ``prompt`` (chat messages: ``instruction`` as the system turn when given, then the
    question's canonical prompt ``question: ... context: wikipage: ... answer:`` as the user turn),
    ``data_source`` (``fg_env/<dataset>``), ``ability``, ``reward_model`` (verl's usual column: the first
    gold answer as ``ground_truth``, which verl prints in its logs; fg_env scores against all of them) and
    ``extra_info``: the question's ``example_id`` and ``split`` (what :class:`TokenRewardScorer` reads),
    its ``index`` in the split (verl's sample index) and the ``dataset``.

    Example:
        >>> [row] = dataset_rows("synthetic", "dev", limit=1)
        >>> row["extra_info"], [m["role"] for m in row["prompt"]], row["data_source"]
        ({'example_id': 'synthetic-dev-00000', 'split': 'dev', 'index': 0, 'dataset': 'synthetic'}, ['system', 'user'], 'fg_env/synthetic')
    """
    from fg_env.data.base import make_dataset

    if limit is not None and (isinstance(limit, bool) or not isinstance(limit, int) or limit < 0):
        raise InvalidValueError(f"limit must be a non-negative integer, got {limit!r}")
    examples = make_dataset(dataset, **({"data_dir": data_dir} if data_dir is not None else {})).split(split)
    count = len(examples) if limit is None else min(limit, len(examples))
    rows = []
    for index in range(count):
        example = examples[index]
        messages = [{"role": "system", "content": instruction}] if instruction else []
        messages.append({"role": "user", "content": example.prompt})
        rows.append(
            {
                "data_source": f"fg_env/{dataset}",
                "prompt": messages,
                "ability": "long-form-qa",
                "reward_model": {
                    "style": "fg_env",
                    "ground_truth": example.references[0] if example.references else "",
                },
                "extra_info": {"example_id": example.id, "split": split, "index": index, "dataset": dataset},
            }
        )
    return rows


# ------------------------------------------------------------------------------------ scoring (no verl)


@dataclass(frozen=True)
class ScoredResponses:
    """What :meth:`TokenRewardScorer.score` gives a batch of responses.

    ``token_rewards[b]`` holds one float32 reward per token of response ``b`` (its valid tokens, end-of-sequence
    token included); ``component_returns[b, k]`` is the unweighted episode return of reward model
    ``component_names[k]`` (for logs: in holistic mode too, it is what the holistic reward weighs);
    ``placements[b]`` says which token got which segment (None for an empty response, which has no token).

    Example:
        >>> s = ScoredResponses([np.array([0.0, 0.8], np.float32)], np.array([[1.0, 1.0, 0.5]], np.float32),
        ...                     ("relevance", "factuality", "completeness"), [None])
        >>> s.extra_info()
        {'relevance': [1.0], 'factuality': [1.0], 'completeness': [0.5], 'score': [0.800000011920929]}
    """

    token_rewards: list[np.ndarray]
    component_returns: np.ndarray
    component_names: tuple[str, ...]
    placements: list[TokenPlacement | None]

    def extra_info(self) -> dict[str, list[float]]:
        """verl's ``reward_extra_info``: each component's unweighted return per response, and ``score``, the
        sum of the response's token rewards (what it earned)."""
        info = {name: [float(v) for v in self.component_returns[:, k]] for k, name in enumerate(self.component_names)}
        info["score"] = [float(r.sum()) for r in self.token_rewards]
        return info

    def row(self, b: int) -> ScoredResponses:
        """Response ``b`` alone."""
        return ScoredResponses(
            [self.token_rewards[b]], self.component_returns[b : b + 1], self.component_names, [self.placements[b]]
        )


class TokenRewardScorer:
    """Token rewards of tokenized responses to an fg_env environment's questions.

    Args:
        tokenizer: the policy's Hugging Face tokenizer (fast), to decode responses and find where each
            token ends.
        mode: ``"fine_grained"`` or ``"holistic"`` (:data:`MODES`).
        env_id: any fg_env environment id (``gym.make(env_id, **env_kwargs)``), default FineGrainedQA-v0.
        env_kwargs: its arguments (``dataset``, ``max_sentences``, ``reward_models``, ...). A row's
            ``extra_info["split"]`` picks the split; ``env_kwargs["split"]`` is the default for rows without.
        weights: the weight of each reward model by name (all of them); default the environment's
            ``default_weights`` (the paper's 0.3 / 0.5 / 0.3).
        num_envs: answers played side by side (a larger batch plays in chunks).
        id_key, split_key: the ``extra_info`` keys of the question's id and split.

    Responses decode with ``skip_special_tokens=True, clean_up_tokenization_spaces=False``; trailing special
    tokens (the end-of-sequence token) hold no character, so they own no segment, and the last of them is
    the final token that gets episode-level rewards, as in fg_env's PPO. The environments (one vector env
    per split) are built on first use.

    Example: see the module's.
    """

    def __init__(
        self,
        tokenizer: Any,
        *,
        mode: str = "fine_grained",
        env_id: str = "FineGrainedQA-v0",
        env_kwargs: Mapping[str, Any] | None = None,
        weights: Mapping[str, float] | None = None,
        num_envs: int = 64,
        id_key: str = "example_id",
        split_key: str = "split",
    ) -> None:
        if mode not in MODES:
            raise UnknownChoiceError("fine-grained reward mode", mode, MODES)
        if isinstance(num_envs, bool) or not isinstance(num_envs, int) or num_envs < 1:
            raise InvalidValueError(f"num_envs must be a positive integer, got {num_envs!r}")
        if weights is not None and not isinstance(weights, Mapping):
            raise InvalidTypeError(f"weights maps each reward model's name to its weight, got {type(weights).__name__}")
        self.tokenizer = tokenizer
        self.mode = mode
        self.env_id = env_id
        self.env_kwargs = dict(env_kwargs or {})
        self.weights = None if weights is None else {str(k): float(v) for k, v in weights.items()}
        self.num_envs = num_envs
        self.id_key, self.split_key = id_key, split_key
        self._envs: dict[str | None, FineGrainedVectorEnv[Any]] = {}
        self._ids: dict[str | None, frozenset[str]] = {}
        self._special_ids = frozenset(int(i) for i in (getattr(tokenizer, "all_special_ids", None) or ()))

    # ------------------------------------------------------------------ environments

    def envs(self, split: str | None = None) -> FineGrainedVectorEnv[Any]:
        """The vector env that plays the answers of ``split`` (None: ``env_kwargs``' split, else the env's default)."""
        if split not in self._envs:
            kwargs = dict(self.env_kwargs)
            if split is not None:
                kwargs["split"] = split
            env = gym.make(self.env_id, **kwargs)
            names = tuple(env.get_wrapper_attr("reward_names"))
            weights = self._weights_for(names)
            if self.mode == "holistic":
                env = HolisticReward(env, weights)
            self._envs[split] = FineGrainedVectorEnv.from_env(env, self.num_envs)
            self._ids[split] = frozenset(example.id for example in self._envs[split].core_envs[0].examples)
        return self._envs[split]

    def examples(self, split: str | None = None) -> Sequence[Any]:
        """The questions of ``split``, which the rows' ids must name."""
        return self.envs(split).core_envs[0].examples

    def _weights_for(self, names: tuple[str, ...]) -> list[float] | None:
        if self.weights is None:
            return None
        unknown = sorted(set(self.weights) - set(names))
        missing = [n for n in names if n not in self.weights]
        if unknown or missing:
            raise InvalidValueError(
                f"weights must give one weight to each reward model {list(names)}: "
                + (f"unknown {unknown}" if unknown else f"missing {missing}")
            )
        return [self.weights[n] for n in names]

    # ------------------------------------------------------------------ scoring

    def score(self, response_ids: Sequence[Sequence[int]], extra_infos: Sequence[Any]) -> ScoredResponses:
        """Token rewards of each response (its valid token ids, padding removed) to the question its
        ``extra_info`` names; responses of one split are played together, in chunks of ``num_envs``."""
        if len(response_ids) != len(extra_infos):
            raise InvalidValueError(f"{len(response_ids)} responses but {len(extra_infos)} extra_info entries")
        questions = [self._question(row, info) for row, info in enumerate(extra_infos)]
        decoded = [self._decode(ids) for ids in response_ids]
        played: list[PlayedAnswer | None] = [None] * len(decoded)
        for split in dict.fromkeys(split for _, split in questions):
            rows = [b for b, (_, s) in enumerate(questions) if s == split]
            envs = self.envs(split)
            for b in rows:
                if questions[b][0] not in self._ids[split]:
                    raise InvalidValueError(
                        f"row {b}: extra_info[{self.id_key!r}]={questions[b][0]!r} is no question of "
                        f"{self._where(split)} (ids such as {self.examples(split)[0].id!r}): write the dataset "
                        "from the environment's own questions (examples/verl/prepare_data.py)"
                    )
            answers = play_answers(envs, [decoded[b][0] for b in rows], example_ids=[questions[b][0] for b in rows])
            for b, one in zip(rows, answers):
                played[b] = one
        names = tuple(str(n) for n in self.envs(questions[0][1]).core_envs[0].reward_names) if questions else ()
        rewards: list[np.ndarray] = []
        placements: list[TokenPlacement | None] = []
        returns = np.zeros((len(decoded), len(names)), dtype=np.float32)
        for b, ((_, ends, num_text), answer) in enumerate(zip(decoded, played)):
            assert answer is not None
            returns[b] = _component_returns(answer)
            if not ends:  # nothing generated: no token to put a reward on
                rewards.append(np.zeros(0, dtype=np.float32))
                placements.append(None)
                continue
            envs = self.envs(questions[b][1])
            placement = place_played(answer, ends, num_text_tokens=num_text, env=envs)
            # Holistic: the wrapper already weighed the return (its one segment carries weight 1).
            rewards.append(token_rewards(placement, self.weights if self.mode == "fine_grained" else None))
            placements.append(placement)
        return ScoredResponses(rewards, returns, names, placements)

    def _question(self, row: int, extra_info: Any) -> tuple[str, str | None]:
        if not isinstance(extra_info, Mapping) or self.id_key not in extra_info:
            keys = sorted(map(str, extra_info)) if isinstance(extra_info, Mapping) else type(extra_info).__name__
            raise InvalidValueError(
                f"row {row} names no question: its extra_info has no {self.id_key!r} (it holds {keys}); each row "
                f"of verl's dataset needs extra_info={{{self.id_key!r}: <the question's id>, {self.split_key!r}: "
                "<its split>}} (examples/verl/prepare_data.py writes it)"
            )
        example_id = extra_info[self.id_key]
        if not isinstance(example_id, str):
            raise InvalidTypeError(f"row {row}: extra_info[{self.id_key!r}] is a question id (str), got {example_id!r}")
        split = extra_info.get(self.split_key)
        return example_id, None if split is None else str(split)

    def _where(self, split: str | None) -> str:
        core = self._envs[split].core_envs[0]
        return f"{self.env_id} (split {getattr(core, 'split', split)!r})"

    def _decode(self, ids: Sequence[int]) -> tuple[str, list[int], int]:
        """The response's text, where each token ends in it, and how many leading tokens hold the text."""
        ids = [int(i) for i in ids]
        num_text = len(ids)
        while num_text and ids[num_text - 1] in self._special_ids:
            num_text -= 1  # end-of-sequence and other trailing special tokens: no character
        text = self.tokenizer.decode(ids[:num_text], skip_special_tokens=True, clean_up_tokenization_spaces=False)
        ends = token_end_chars(self.tokenizer, ids[:num_text], text) + [len(text)] * (len(ids) - num_text)
        return text, ends, num_text


def _component_returns(played: PlayedAnswer) -> np.ndarray:
    """The unweighted return of each reward model (under HolisticReward: of the vector it weighs)."""
    steps = [
        np.asarray(info.get("vector_reward", reward), dtype=np.float32)
        for reward, info in zip(played.rewards, played.infos)
    ]
    return np.sum(steps, axis=0)


def _settings_key(tokenizer: Any, settings: Mapping[str, Any]) -> tuple[int, str]:
    """A key for one scorer per tokenizer and settings (agent loops are built per answer; their scorer is not)."""
    return id(tokenizer), json.dumps(settings, sort_keys=True, default=str)


class _Batcher:
    """Scores together the answers that wait at the same time.

    Every ``score`` call made before the event loop gets back to the flush joins one
    :meth:`TokenRewardScorer.score` call: a batch of concurrent agent loops (or reward-loop calls) makes one
    ``score`` call per reward model per step, as the batch reward manager does. It runs on the event loop's
    thread, so the environments are never stepped from two threads.
    """

    def __init__(self, scorer: TokenRewardScorer) -> None:
        self.scorer = scorer
        self._waiting: list[tuple[Sequence[int], Any, asyncio.Future[ScoredResponses]]] = []

    async def score(self, response_ids: Sequence[int], extra_info: Any) -> ScoredResponses:
        loop = asyncio.get_running_loop()
        future: asyncio.Future[ScoredResponses] = loop.create_future()
        self._waiting.append((response_ids, extra_info, future))
        if len(self._waiting) == 1:
            loop.call_soon(self._flush)
        return await future

    def _flush(self) -> None:
        waiting, self._waiting = self._waiting, []
        try:
            scored = self.scorer.score([w[0] for w in waiting], [w[1] for w in waiting])
        except Exception as error:  # every waiting answer learns why
            for *_, future in waiting:
                if not future.done():
                    future.set_exception(error)
            return
        for b, (*_, future) in enumerate(waiting):
            if not future.done():
                future.set_result(scored.row(b))


_SCORERS: dict[tuple[int, str], _Batcher] = {}


def _shared_batcher(tokenizer: Any, **settings: Any) -> _Batcher:
    """One scorer per process, tokenizer and settings: its environments and reward models are built once."""
    key = _settings_key(tokenizer, settings)
    if key not in _SCORERS:
        _SCORERS[key] = _Batcher(TokenRewardScorer(tokenizer, **settings))
    return _SCORERS[key]


# ------------------------------------------------------------------------------------ verl classes

_VERL_CLASSES: dict[str, type] = {}


def register_with_verl() -> None:
    """Define the verl classes and register them with verl under :data:`NAME` (done on import when verl is
    installed); a :class:`~fg_env.errors.MissingDependencyError` with the install hint when it is not.

    Example:
        >>> register_with_verl()  # doctest: +SKIP
        >>> from verl.workers.reward_manager import get_reward_manager_cls  # doctest: +SKIP
        >>> get_reward_manager_cls("fine_grained").__name__  # doctest: +SKIP
        'FineGrainedRewardManager'
    """
    if _VERL_CLASSES:
        return
    try:
        import torch
        from verl.experimental.agent_loop.agent_loop import AgentLoopOutput
        from verl.experimental.agent_loop.agent_loop import register as register_agent_loop
        from verl.experimental.agent_loop.single_turn_agent_loop import SingleTurnAgentLoop
        from verl.workers.reward_manager import register as register_reward_manager
        from verl.workers.reward_manager.abstract import AbstractRewardManager
    except ImportError as error:
        raise MissingDependencyError(f"fg_env's verl adapter needs verl>=0.9: {INSTALL_HINT} ({error})") from error

    class FineGrainedRewardManager(AbstractRewardManager):
        """verl's batch reward function with fg_env's token rewards (registered as ``fine_grained``).

        ``manager(data)`` returns the ``(batch, response_length)`` float32 reward tensor;
        ``manager(data, return_dict=True)`` returns ``{"reward_tensor": ..., "reward_extra_info": {...}}``
        with each reward model's unweighted return and the response's ``score`` per row. ``data`` is
        verl's ``DataProto``: ``batch["prompts"]`` (left-padded), ``batch["responses"]`` (right-padded),
        ``batch["attention_mask"]`` over both, and ``non_tensor_batch["extra_info"]`` naming each row's
        question. A batch that already holds ``rm_scores`` (token scores an agent loop wrote) gets them back.

        Args: verl's (``tokenizer``, ``num_examine``: how many rows per data source to print;
        ``compute_score`` and ``reward_fn_key`` are accepted and unused: fg_env's environment is the score),
        then :class:`TokenRewardScorer`'s settings (``mode``, ``env_id``, ``env_kwargs``, ``weights``,
        ``num_envs``, ``id_key``, ``split_key``).

        Example (``tests/test_verl_integration.py`` builds a real ``DataProto``):
            >>> manager = FineGrainedRewardManager(tokenizer, num_examine=0, mode="fine_grained")  # doctest: +SKIP
            >>> out = manager(data, return_dict=True)  # doctest: +SKIP
            >>> out["reward_tensor"].shape == data.batch["responses"].shape  # doctest: +SKIP
            True
        """

        def __init__(
            self,
            tokenizer: Any,
            num_examine: int = 0,
            compute_score: Any = None,
            reward_fn_key: str = "data_source",
            **settings: Any,
        ) -> None:
            self.tokenizer = tokenizer
            self.num_examine = int(num_examine)
            self.reward_fn_key = reward_fn_key
            self.scorer = TokenRewardScorer(tokenizer, **settings)

        def __call__(self, data: Any, return_dict: bool = False) -> Any:
            already = self._extract_reward_from_rm_scores(data, return_dict)  # an agent loop's token scores
            if already is not None:
                return already
            responses = data.batch["responses"]
            prompt_length = data.batch["prompts"].shape[-1]
            lengths = data.batch["attention_mask"][:, prompt_length:].sum(dim=-1).tolist()
            if "extra_info" not in data.non_tensor_batch:
                raise InvalidValueError(
                    "the batch names no questions: verl's non_tensor_batch has no 'extra_info' (it holds "
                    f"{sorted(data.non_tensor_batch)}); each row needs extra_info={{'example_id': ..., 'split': ...}} "
                    "(examples/verl/prepare_data.py writes it)"
                )
            ids = [responses[b, : int(n)].tolist() for b, n in enumerate(lengths)]
            scored = self.scorer.score(ids, list(data.non_tensor_batch["extra_info"]))
            reward_tensor = torch.zeros_like(responses, dtype=torch.float32)
            for b, rewards in enumerate(scored.token_rewards):
                reward_tensor[b, : len(rewards)] = torch.from_numpy(rewards)
            self._examine(data, ids, scored)
            if return_dict:
                return {"reward_tensor": reward_tensor, "reward_extra_info": scored.extra_info()}
            return reward_tensor

        def _examine(self, data: Any, ids: list[list[int]], scored: ScoredResponses) -> None:
            """Print the first ``num_examine`` rows of each data source, as verl's managers do."""
            if self.num_examine <= 0:
                return
            sources = data.non_tensor_batch.get(self.reward_fn_key, np.array(["?"] * len(ids), dtype=object))
            shown: dict[str, int] = {}
            for b, source in enumerate(sources):
                if shown.get(str(source), 0) >= self.num_examine:
                    continue
                shown[str(source)] = shown.get(str(source), 0) + 1
                print("[response]", self.tokenizer.decode(ids[b], skip_special_tokens=True))
                print("[fine-grained]", {k: v[b] for k, v in scored.extra_info().items()})

    class FineGrainedAgentLoopOutput(AgentLoopOutput):
        """verl's agent-loop output that carries its own token scores into ``rm_scores``."""

        token_rewards: list[float] | None = None

        def as_dict(self) -> dict[str, Any]:
            output = super().as_dict()
            rewards = output.pop("token_rewards", None)
            if rewards is not None:
                # verl's own as_dict put the scalar on the last token; the dense scores replace it.
                output["rm_scores"] = torch.tensor(rewards, dtype=torch.float32)
            return output

    class FineGrainedAgentLoop(SingleTurnAgentLoop):
        """verl's single-turn agent loop that scores its answer with fg_env (registered as ``fine_grained``).

        It generates as ``single_turn_agent`` does, then scores the response (together with the other
        answers of this worker that finish at the same time) and hands verl the token rewards as the
        trajectory's ``rm_scores``, their sum as ``reward_score`` (so verl's reward loop has nothing left to
        do) and each reward model's return as ``reward_extra_info``. Its settings are
        :class:`TokenRewardScorer`'s, given as keys of its entry in ``agent_loop_config_path``'s file
        (``examples/verl/agent_loops.yaml``).

        Example (``examples/verl/agent_loops.yaml``):
            >>> print(open("examples/verl/agent_loops.yaml").read())  # doctest: +SKIP
            - name: fine_grained
              _target_: fg_env.integrations.verl.FineGrainedAgentLoop
              mode: fine_grained
            ...
        """

        def __init__(
            self,
            *args: Any,
            mode: str = "fine_grained",
            env_id: str = "FineGrainedQA-v0",
            env_kwargs: Mapping[str, Any] | None = None,
            weights: Mapping[str, float] | None = None,
            num_envs: int = 64,
            id_key: str = "example_id",
            split_key: str = "split",
            **kwargs: Any,
        ) -> None:
            super().__init__(*args, **kwargs)
            if mode == "fine_grained" and not self.config.trainer.get("use_v1", False):
                raise InvalidValueError(
                    "the fine_grained agent loop needs verl's V1 trainer (trainer.use_v1=True): the legacy trainer "
                    "keeps only one reward per answer, on its last token"
                )
            settings = {
                "mode": mode,
                "env_id": env_id,
                "env_kwargs": _plain(env_kwargs),
                "weights": _plain(weights),
                "num_envs": int(num_envs),
                "id_key": id_key,
                "split_key": split_key,
            }
            self.batcher = _shared_batcher(self.tokenizer, **settings)

        async def run(self, sampling_params: dict[str, Any], **kwargs: Any) -> Any:
            output = await super().run(sampling_params, **kwargs)
            return await scored_output(self.batcher, output, kwargs.get("extra_info"))

    async def scored_output(batcher: _Batcher, output: Any, extra_info: Any) -> Any:
        """``output`` (an ``AgentLoopOutput``) with fg_env's token rewards as its scores."""
        scored = await batcher.score(list(output.response_ids), extra_info)
        rewards = scored.token_rewards[0]
        fields = {name: getattr(output, name) for name in output.model_fields_set}
        fields["extra_fields"] = dict(output.extra_fields)
        fields["extra_fields"]["reward_extra_info"] = {k: v[0] for k, v in scored.extra_info().items()}
        return FineGrainedAgentLoopOutput(**fields, reward_score=float(rewards.sum()), token_rewards=rewards.tolist())

    for cls in (FineGrainedRewardManager, FineGrainedAgentLoopOutput, FineGrainedAgentLoop):
        # Module attributes under their own names: hydra's _target_, verl's registry and pickling find them so.
        cls.__module__, cls.__qualname__ = __name__, cls.__name__
        _VERL_CLASSES[cls.__name__] = cls
    globals().update(_VERL_CLASSES, scored_output=scored_output)
    register_reward_manager(NAME)(FineGrainedRewardManager)
    register_agent_loop(NAME)(FineGrainedAgentLoop)


def _plain(value: Any) -> Any:
    """A config value (OmegaConf's DictConfig from hydra, or a mapping) as plain Python data."""
    if value is None:
        return None
    try:
        from omegaconf import OmegaConf

        if OmegaConf.is_config(value):
            return OmegaConf.to_container(value, resolve=True)
    except ImportError:  # omegaconf comes with verl; a plain mapping needs none
        pass
    return dict(value)


def __getattr__(name: str) -> Any:
    # The verl classes exist once verl is imported: without it, asking for one says what to install.
    if name in ("FineGrainedRewardManager", "FineGrainedAgentLoop", "FineGrainedAgentLoopOutput", "scored_output"):
        register_with_verl()
        return globals()[name]
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


if importlib.util.find_spec("verl") is not None:
    register_with_verl()  # verl finds the reward manager and the agent loop by name once this module is imported
