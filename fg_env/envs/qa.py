"""FineGrainedQA-v0: long-form question answering, one sentence per action, a reward vector per step."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, cast

from gymnasium import spaces

from fg_env.data.base import QA_TASK, QADataset, available_datasets, open_dataset
from fg_env.envs.core import FineGrainedEnv
from fg_env.errors import InvalidTypeError
from fg_env.rewards.base import RewardModel
from fg_env.rewards.defaults import DEFAULT_REWARD_MODELS, PAPER_WEIGHTS
from fg_env.spaces import UnicodeText
from fg_env.types import Observation, QAExample

__all__ = ["FineGrainedQAEnv"]


class FineGrainedQAEnv(FineGrainedEnv[QAExample]):
    """Answer a long-form question one sentence at a time; get one reward per fine-grained reward model.

    Each ``step(sentence)`` appends the sentence to the answer and returns an unweighted ``float32``
    reward vector with one entry per reward model (MO-Gymnasium's convention; ``reward_space``,
    ``reward_names`` and the paper's ``default_weights`` are on the unwrapped env). Segment-level
    models score each new sub-sentence or sentence right away; episode-level models score the final
    answer on the step that ends it. ``info["segments"]`` lists every scored segment with its
    character span in the response and ``info["reward_mask"]`` tells "not scored this step" from 0.
    All of that is the core's (:class:`~fg_env.envs.core.FineGrainedEnv`); this class adds the
    question-answering task: the dataset, and the observation ``{"question", "passages", "response"}``.

    Args:
        dataset: ``"synthetic"`` (the built-in world, default), ``"qa-feedback"`` (needs ``data_dir``),
            or a :class:`~fg_env.data.base.QADataset`.
        split: which split questions are drawn from.
        reward_models: names, folders of saved learned models, or :class:`RewardModel` objects.
        max_sentences: the episode is truncated once the answer holds this many sentences.
        data_dir: folder of the dataset's files (QA-Feedback).
        dataset_kwargs: further arguments of the dataset (e.g. ``{"seed": 1}`` for the built-in world).

    Example:
        >>> import gymnasium as gym, fg_env
        >>> env = gym.make("FineGrainedQA-v0")
        >>> obs, info = env.reset(seed=0)
        >>> obs, reward, terminated, truncated, info = env.step(info["references"][0])
        >>> env.unwrapped.reward_names
        ('relevance', 'factuality', 'completeness')
        >>> reward.shape, reward.dtype.name
        ((3,), 'float32')
    """

    env_name = "FineGrainedQA-v0"
    example_noun = "question"
    weights_by_model = PAPER_WEIGHTS

    def __init__(
        self,
        dataset: str | QADataset = "synthetic",
        split: str = "train",
        reward_models: Sequence[str | RewardModel] = DEFAULT_REWARD_MODELS,
        max_sentences: int = 10,
        data_dir: str | None = None,
        dataset_kwargs: dict[str, Any] | None = None,
        render_mode: str | None = None,
    ) -> None:
        self.dataset = open_dataset(dataset, data_dir, dataset_kwargs)
        if not isinstance(self.dataset, QADataset):
            raise InvalidTypeError(
                f"dataset {self.dataset.name!r} does not hold questions: FineGrainedQA-v0 takes a question-answering "
                f"dataset ({', '.join(available_datasets(QA_TASK))}, or a QADataset)"
            )
        self.split = split
        super().__init__(self.dataset.split(split), reward_models, max_sentences, render_mode)
        self.observation_space = cast(
            spaces.Space[Observation],
            spaces.Dict({"question": UnicodeText(), "passages": UnicodeText(), "response": UnicodeText()}),
        )

    @property
    def example_source(self) -> str:
        return f"split {self.split!r} of dataset {self.dataset.name!r}"

    def shared_parts(self) -> list[Any]:
        return [self.dataset, *super().shared_parts()]

    def _observation(self) -> Observation:
        example = self.example
        return {"question": example.question, "passages": example.context, "response": self._response}

    def _render_question(self) -> str:
        return self.example.question
