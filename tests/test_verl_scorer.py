"""The verl adapter's scoring, without verl: token ids and extra_info in, fg_env PPO's token rewards out.

tests/test_verl_integration.py runs the same through verl's own classes where verl is installed.
"""

from __future__ import annotations

import importlib.util

import gymnasium as gym
import numpy as np
import pytest

import fg_env  # noqa: F401 - registers the environments
from agents.algorithms.rollout import replay, token_rewards
from agents.policies.policy import Generation
from agents.policies.tokenizer import train_tokenizer
from fg_env.errors import InvalidTypeError, InvalidValueError, MissingDependencyError, UnknownChoiceError
from fg_env.integrations import verl as fg_verl
from fg_env.tokens import token_end_chars
from fg_env.wrappers import HolisticReward


@pytest.fixture(scope="module")
def env():
    return gym.make("FineGrainedQA-v0", split="dev")


@pytest.fixture(scope="module")
def tokenizer(env):
    examples = list(env.unwrapped.examples)[:20]
    return train_tokenizer([ex.prompt + " " + r for ex in examples for r in ex.references] * 3, vocab_size=400)


def generation(tokenizer, env, index: int, text: str) -> Generation:
    ids = tokenizer(text, add_special_tokens=False).input_ids
    ends = token_end_chars(tokenizer, ids, text)
    return Generation(env.unwrapped.examples[index].prompt, [1], ids + [tokenizer.eos_token_id], text, ends + [len(text)], True)


@pytest.mark.parametrize("mode", ["fine_grained", "holistic"])
def test_scorer_gives_fg_env_ppos_token_rewards(env, tokenizer, mode):
    ex = env.unwrapped.examples
    answers = [(0, " " + ex[0].references[0]), (1, " The weather was mild. " + ex[1].references[0]), (2, " It was 1492.")]
    gens = [generation(tokenizer, env, i, text) for i, text in answers]
    scorer = fg_verl.TokenRewardScorer(tokenizer, mode=mode, env_kwargs={"split": "dev"}, num_envs=2)
    scored = scorer.score([g.response_ids for g in gens], [{"example_id": ex[i].id} for i, _ in answers])
    reference_env = env if mode == "fine_grained" else HolisticReward(env)
    for b, (g, (i, _)) in enumerate(zip(gens, answers)):
        record = replay(reference_env, g, index=i)
        assert np.array_equal(scored.token_rewards[b], token_rewards(record))
    assert scored.component_names == ("relevance", "factuality", "completeness")
    assert scored.component_returns.shape == (3, 3)
    assert scored.extra_info()["score"] == [float(r.sum()) for r in scored.token_rewards]


def test_scorer_refuses_bad_settings_and_rows(tokenizer):
    with pytest.raises(UnknownChoiceError, match="unknown fine-grained reward mode 'dense'"):
        fg_verl.TokenRewardScorer(tokenizer, mode="dense")
    with pytest.raises(InvalidValueError, match="num_envs must be a positive integer"):
        fg_verl.TokenRewardScorer(tokenizer, num_envs=0)
    with pytest.raises(InvalidTypeError, match="weights maps each reward model's name"):
        fg_verl.TokenRewardScorer(tokenizer, weights=[0.3, 0.5, 0.3])  # type: ignore[arg-type]
    scorer = fg_verl.TokenRewardScorer(tokenizer, env_kwargs={"split": "dev"})
    with pytest.raises(InvalidValueError, match="row 0 names no question: its extra_info has no 'example_id'"):
        scorer.score([[5, 6]], [{"index": 0}])
    with pytest.raises(InvalidValueError, match="row 0 names no question"):
        scorer.score([[5, 6]], [None])
    with pytest.raises(InvalidTypeError, match="is a question id"):
        scorer.score([[5, 6]], [{"example_id": 7}])
    with pytest.raises(InvalidValueError, match="2 responses but 1 extra_info"):
        scorer.score([[5], [6]], [{"example_id": "x"}])


@pytest.mark.skipif(importlib.util.find_spec("verl") is not None, reason="verl is installed here")
def test_without_verl_the_verl_classes_say_what_to_install():
    with pytest.raises(MissingDependencyError, match=r'pip install "fg-env\[verl\]"'):
        fg_verl.FineGrainedRewardManager  # noqa: B018
    with pytest.raises(AttributeError):
        fg_verl.NoSuchThing  # noqa: B018
