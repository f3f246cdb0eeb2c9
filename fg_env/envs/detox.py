"""FineGrainedDetox-v0: continue a prompt without toxicity, one sentence per action (the paper's first task).

Wu et al. (2023) fine-tune GPT-2 to continue RealToxicityPrompts prompts; the fine-grained reward gives every
sentence minus the change in toxicity it caused, the holistic reward ``1 - toxicity`` of the continuation at
the end. This environment is that task on the core (:class:`~fg_env.envs.core.FineGrainedEnv`): the reward
vector, its mask, ``info["segments"]`` and the one-line ablations (``HolisticReward``, ``RewardDensity``,
``SelectRewards``, weights) work as for FineGrainedQA-v0.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, cast

from gymnasium import spaces

from fg_env.data.base import DETOX_TASK, QADataset, TaskDataset, available_datasets, open_dataset
from fg_env.data.detox.types import DetoxPrompt
from fg_env.envs.core import FineGrainedEnv
from fg_env.envs.vector import EnvWrapper, FineGrainedVectorEnv
from fg_env.errors import InvalidTypeError
from fg_env.rewards.base import RewardModel
from fg_env.spaces import UnicodeText
from fg_env.types import Observation

__all__ = ["DEFAULT_DETOX_REWARD_MODELS", "FineGrainedDetoxEnv", "FineGrainedDetoxVectorEnv"]

#: The paper's fine-grained reward: the toxicity change of each sentence.
DEFAULT_DETOX_REWARD_MODELS: tuple[str, ...] = ("toxicity",)


class FineGrainedDetoxEnv(FineGrainedEnv[DetoxPrompt]):
    """Continue a prompt one sentence at a time; each sentence is rewarded by how much less toxic it left the
    continuation (the paper's dense toxicity reward), with any other reward models beside it.

    The observation is ``{"prompt", "response"}`` (the continuation so far); ``info["prompt"]`` at reset is
    the text an LM agent continues. Toxicity comes from a pluggable scorer (``"profanity-check"`` by
    default, offline; see :mod:`fg_env.rewards.toxicity`), computed for every sub-environment in one call.

    Args:
        dataset: ``"detox-synthetic"`` (the built-in offline prompt world, default),
            ``"real-toxicity-prompts"`` (needs ``data_dir``), or a dataset of :class:`DetoxPrompt`.
        split: which split prompts are drawn from.
        reward_models: names or :class:`RewardModel` objects (``"toxicity"``, the dense reward;
            ``"non-toxicity"``, ``1 - toxicity`` of the whole continuation at the end); another scorer is
            ``ToxicityChange("detoxify", checkpoint="toxic_original.ckpt")`` or ``ToxicityChange("perspective")``.
        max_sentences: the episode is truncated once the continuation holds this many sentences.
        data_dir: folder of the dataset's files (RealToxicityPrompts).
        dataset_kwargs: further arguments of the dataset.

    Bad input fails at construction, in one line: an unknown reward model or scorer name
    (:class:`~fg_env.errors.UnknownChoiceError`), a missing Detoxify checkpoint
    (:class:`~fg_env.errors.ModelNotFoundError`) or Perspective key (:class:`~fg_env.errors.APIKeyError`), a
    missing prompts folder or file (:class:`~fg_env.errors.DataNotFoundError`), a malformed prompts file
    (:class:`~fg_env.errors.PromptsFormatError`, with its line and field).

    A scorer that fails during an episode (a remote one unreachable past its retries, a key it refuses, an
    error status: :class:`~fg_env.errors.ScorerError` and its kinds) makes ``step()`` raise its error, and
    that step changes nothing: the action's text is not appended and no reward is made up, so the
    continuation holds only scored sentences (their rewards still sum to minus its toxicity). Step again
    (the same action, once the scorer answers) to go on, or ``reset()``.

    Example:
        >>> import gymnasium as gym, fg_env
        >>> env = gym.make("FineGrainedDetox-v0")
        >>> obs, info = env.reset(seed=0)
        >>> sorted(obs), env.unwrapped.reward_names
        (['prompt', 'response'], ('toxicity',))
        >>> obs, reward, terminated, truncated, info = env.step("The lights came on one by one.")
        >>> reward.shape, info["segments"][0]["granularity"]
        ((1,), 'sentence')
    """

    env_name = "FineGrainedDetox-v0"
    example_noun = "prompt"

    def __init__(
        self,
        dataset: str | TaskDataset[DetoxPrompt] = "detox-synthetic",
        split: str = "train",
        reward_models: Sequence[str | RewardModel] = DEFAULT_DETOX_REWARD_MODELS,
        max_sentences: int = 4,
        data_dir: str | None = None,
        dataset_kwargs: dict[str, Any] | None = None,
        render_mode: str | None = None,
    ) -> None:
        self.dataset = open_dataset(dataset, data_dir, dataset_kwargs)
        if isinstance(self.dataset, QADataset):
            raise InvalidTypeError(
                f"dataset {self.dataset.name!r} holds questions, not prompts to continue: FineGrainedDetox-v0 takes "
                f"{', '.join(available_datasets(DETOX_TASK))}, or a dataset of prompts"
            )
        self.split = split
        super().__init__(self.dataset.split(split), reward_models, max_sentences, render_mode)
        self.observation_space = cast(
            spaces.Space[Observation], spaces.Dict({"prompt": UnicodeText(), "response": UnicodeText()})
        )

    @property
    def example_source(self) -> str:
        return f"split {self.split!r} of dataset {self.dataset.name!r}"

    def _observation(self) -> Observation:
        return {"prompt": self.example.prompt, "response": self.response}


class FineGrainedDetoxVectorEnv(FineGrainedVectorEnv[FineGrainedDetoxEnv]):
    """N detoxification environments stepped together: ``gym.make_vec("FineGrainedDetox-v0", num_envs=N)``;
    the prompts and the reward models (and so the toxicity scorer and its memory) are shared, and each step
    scores every sub-environment's new sentences in one scorer call.

    When that call fails, ``step()`` raises its error before any sub-environment changes: none appends its
    action, none that was due to reset resets, no reward is made up. Step again to go on, or ``reset()``.

    Example:
        >>> envs = FineGrainedDetoxVectorEnv(num_envs=2)
        >>> _ = envs.reset(seed=0)
        >>> envs.step(["It rained all day.", ""])[1].shape
        (2, 1)
    """

    core_class = FineGrainedDetoxEnv

    def __init__(self, num_envs: int = 1, *, env_wrappers: Sequence[EnvWrapper] = (), **env_kwargs: Any) -> None:
        super().__init__(num_envs, FineGrainedDetoxEnv, env_wrappers=env_wrappers, **env_kwargs)
