"""fg_env.tokens: span rewards to token rewards for any tokenizer, the one implementation PPO and verl share."""

from __future__ import annotations

import gymnasium as gym
import numpy as np
import pytest

import fg_env  # noqa: F401 - registers the environments
from agents.algorithms.rollout import replay, token_rewards as agent_token_rewards
from agents.policies.policy import Generation
from agents.policies.tokenizer import train_tokenizer
from fg_env.envs.answers import play_answer, play_answers
from fg_env.envs.vector import FineGrainedQAVectorEnv
from fg_env.errors import InvalidTypeError, InvalidValueError
from fg_env.segments import ScoredSegment
from fg_env.tokens import (
    TokenPlacement,
    TokenSegment,
    component_token_rewards,
    ends_from_offsets,
    place_played,
    place_segments,
    reward_facts,
    token_end_chars,
    token_rewards,
)
from fg_env.wrappers import HolisticReward, LinearScalarization

PAPER = {"relevance": 0.3, "factuality": 0.5, "completeness": 0.3}


@pytest.fixture(scope="module")
def env():
    return gym.make("FineGrainedQA-v0", split="dev", max_sentences=6)


@pytest.fixture(scope="module")
def tokenizer(env):
    examples = env.unwrapped.examples
    texts = [ex.prompt + " " + ref for ex in list(examples)[:20] for ref in ex.references] * 3
    return train_tokenizer(texts, vocab_size=400)


def answers(env) -> list[tuple[int, str]]:
    """Gold answers and flawed ones for the first questions: (index, answer)."""
    examples = env.unwrapped.examples
    gold = [(i, " " + examples[i].references[0]) for i in range(3)]
    wrong = [(0, " The weather was mild. " + examples[0].references[0]), (1, " Nobody knows. It is 1492.")]
    return gold + wrong


def tokenized(tokenizer, text: str) -> tuple[list[int], list[int]]:
    """The answer's ids with an eos, and where each ends (the eos at the text's end)."""
    ids = tokenizer(text, add_special_tokens=False).input_ids
    ends = token_end_chars(tokenizer, ids, text)
    return ids + [tokenizer.eos_token_id], ends + [len(text)]


def test_place_played_is_what_fg_env_ppo_places(env, tokenizer):
    for index, text in answers(env):
        ids, ends = tokenized(tokenizer, text)
        played = play_answer(env, text, index=index)
        placement = place_played(played, ends, num_text_tokens=len(ids) - 1, env=env)
        prompt = env.unwrapped.examples[index].prompt
        record = replay(env, Generation(prompt, [1], ids, text, ends, finished=True), index=index)
        assert placement.segments == record.segments
        assert (placement.num_used_tokens, placement.final_token_index) == (record.num_used_tokens, record.final_token_index)
        np.testing.assert_array_equal(token_rewards(placement), agent_token_rewards(record))
        np.testing.assert_array_equal(token_rewards(placement, PAPER), agent_token_rewards(record, PAPER))


def test_rewards_sit_on_each_segments_last_token(env, tokenizer):
    index, text = answers(env)[3]  # an irrelevant sentence, then the gold answer
    ids, ends = tokenized(tokenizer, text)
    placement = place_played(play_answer(env, text, index=index), ends, num_text_tokens=len(ids) - 1, env=env)
    for segment in placement.segments:
        if segment.granularity == "episode":
            assert segment.token_index == len(ids) - 1  # the eos token
            continue
        t = segment.token_index
        start = ends[t - 1] if t else 0
        assert start <= segment.end - 1 < ends[t], segment  # the token holds the segment's last character
    rewards = token_rewards(placement)
    expected = np.zeros(len(ids), dtype=np.float32)
    weights = dict(zip(placement.reward_names, placement.default_weights))
    for s in placement.segments:
        expected[s.token_index] += weights[s.component] * s.value
    np.testing.assert_array_equal(rewards, expected)
    assert any(s.value < 0 for s in placement.segments)  # the weather sentence is penalised


def test_offset_mapping_gives_the_same_ends(env, tokenizer):
    for _, text in answers(env):
        encoding = tokenizer(text, add_special_tokens=False, return_offsets_mapping=True)
        assert ends_from_offsets(encoding["offset_mapping"], len(text)) == token_end_chars(
            tokenizer, encoding["input_ids"], text
        )


def test_place_segments_from_a_live_episode(env, tokenizer):
    """An agent that steps the env itself and keeps each step's info["segments"]."""
    index, text = answers(env)[3]
    played = play_answer(env, text, index=index)
    ids, ends = tokenized(tokenizer, text)
    live = place_segments(
        [info["segments"] for info in played.infos], ends, num_text_tokens=len(ids) - 1,
        reward_names=env.unwrapped.reward_names, default_weights=env.unwrapped.default_weights.tolist(),
    )
    replayed = place_played(played, ends, num_text_tokens=len(ids) - 1, env=env)
    assert live.segments == replayed.segments
    np.testing.assert_array_equal(token_rewards(live), token_rewards(replayed))
    scored = place_segments([[ScoredSegment.from_info(s) for s in info["segments"]] for info in played.infos], ends,
                            num_text_tokens=len(ids) - 1)
    assert [s.token_index for s in scored.segments] == [s.token_index for s in live.segments]
    assert scored.reward_names == ("relevance", "factuality", "completeness")  # as the segments first name them


def test_vector_env_placement_matches_single_env(env, tokenizer):
    pairs = answers(env)
    played = play_answers(FineGrainedQAVectorEnv.from_env(env, 2), [t for _, t in pairs], indices=[i for i, _ in pairs])
    for (index, text), batch_played in zip(pairs, played):
        ends = tokenized(tokenizer, text)[1]
        alone = place_played(play_answer(env, text, index=index), ends, num_text_tokens=len(ends) - 1, env=env)
        together = place_played(batch_played, ends, num_text_tokens=len(ends) - 1, env=env)
        assert alone == together


def test_component_rows(env, tokenizer):
    index, text = answers(env)[3]
    ids, ends = tokenized(tokenizer, text)
    placement = place_played(play_answer(env, text, index=index), ends, num_text_tokens=len(ids) - 1, env=env)
    rows = component_token_rewards(placement)
    assert rows.shape == (3, len(ids)) and rows.dtype == np.float32
    for k, name in enumerate(placement.reward_names):
        assert rows[k].sum() == pytest.approx(sum(s.value for s in placement.segments if s.component == name))
    weighted = component_token_rewards(placement, weighted=True)
    np.testing.assert_allclose(weighted.sum(axis=0), token_rewards(placement), atol=1e-6)
    np.testing.assert_allclose(component_token_rewards(placement, weighted=True, weights=PAPER), weighted, atol=1e-6)
    assert not np.any(rows[:2, -1]) or placement.num_used_tokens == len(ids)  # sentence rows: nothing on the eos
    with pytest.raises(InvalidValueError, match="weights= applies to weighted=True only"):
        component_token_rewards(placement, weights=PAPER)


def test_truncated_answer_masks_the_tail_in_every_form(env, tokenizer):
    examples = env.unwrapped.examples
    text = " " + " ".join([examples[0].references[0]] * 3)  # more than max_sentences=6 sentences
    ids, ends = tokenized(tokenizer, text)
    played = play_answer(env, text, index=0)
    assert played.truncated
    placement = place_played(played, ends, num_text_tokens=len(ids) - 1, env=env)
    used = placement.num_used_tokens
    assert 0 < used < len(ids) and ends[used - 1] == played.consumed_end
    assert placement.response_mask.tolist() == [True] * used + [False] * (len(ids) - used)
    assert not token_rewards(placement)[used:].any()
    assert not component_token_rewards(placement)[:, used:].any()
    [episode] = [s for s in placement.segments if s.granularity == "episode"]
    assert episode.token_index == used - 1


def test_scalarised_environments(env, tokenizer):
    index, text = answers(env)[3]
    ids, ends = tokenized(tokenizer, text)
    linear = LinearScalarization(env, [1.0, 2.0, 4.0])
    placement = place_played(play_answer(linear, text, index=index), ends, num_text_tokens=len(ids) - 1, env=linear)
    assert placement.reward_names == ("reward",) and reward_facts(linear) == (("reward",), (1.0,))
    rows = component_token_rewards(placement, weighted=True, components=list(linear.segment_weights))
    np.testing.assert_allclose(rows.sum(axis=0), token_rewards(placement), atol=1e-6)
    with pytest.raises(InvalidValueError, match="has no row among components \\['reward'\\]"):
        component_token_rewards(placement)  # never a silent drop of the relevance/factuality rows

    holistic = HolisticReward(env)
    placement = place_played(play_answer(holistic, text, index=index), ends, num_text_tokens=len(ids) - 1, env=holistic)
    rewards = token_rewards(placement)
    assert np.flatnonzero(rewards).tolist() == [len(ids) - 1]
    [segment] = placement.segments
    assert rewards[-1] == np.float32(segment.value)


# ---------------------------------------------------------------------------------------------- bad input


def test_offsets_of_another_text_are_refused_by_name(env, tokenizer):
    index, text = answers(env)[0]
    played = play_answer(env, text, index=index)
    short = tokenized(tokenizer, text[: len(text) // 2])[1]
    with pytest.raises(InvalidValueError, match=r"offsets cover \d+ characters but the answer to question .* has"):
        place_played(played, short, env=env)
    with pytest.raises(InvalidValueError, match="non-negative and non-decreasing"):
        place_played(played, [5, 3, len(text)], env=env)
    with pytest.raises(InvalidValueError, match="num_text_tokens=9 is outside"):
        place_played(played, [len(text)], num_text_tokens=9, env=env)
    with pytest.raises(InvalidValueError, match="no tokens"):
        place_played(played, [], env=env)
    with pytest.raises(InvalidValueError, match="give env= or reward_names="):
        place_played(played, tokenized(tokenizer, text)[1], env=env, reward_names=["relevance"])


def test_a_segment_the_offsets_cannot_reach_is_an_error_not_a_zero():
    segment = {"component": "factuality", "granularity": "sentence", "start": 0, "end": 12,
               "text": "Ann won Rome", "value": -1.0, "label": "Wrong-Grounding"}
    with pytest.raises(InvalidValueError, match=r"factuality segment 'Ann won Rome' \[0, 12\) ends at character 11, "
                                                r"outside .*\[0, 7\): the token offsets do not map this segment"):
        place_segments([[segment]], [3, 7])
    with pytest.raises(InvalidTypeError, match="one list per step"):
        place_segments([segment], [3, 12])  # type: ignore[list-item]
    with pytest.raises(InvalidValueError, match="num_used_tokens=3 is outside"):
        place_segments([[segment]], [3, 12], num_used_tokens=3)


def test_placement_checks_itself():
    s = TokenSegment(component="factuality", granularity="sentence", start=0, end=3, text="Ann",
                     value=1.0, label=None, step=0, token_index=4)
    with pytest.raises(InvalidValueError, match="placed on token 4, outside the 3 tokens the environment saw"):
        TokenPlacement((s,), 5, 3, ("factuality",), (1.0,))
    with pytest.raises(InvalidValueError, match="num_used_tokens=6 is outside"):
        TokenPlacement((), 5, 6, (), ())
    ok = TokenPlacement((s,), 5, 5, ("factuality",), (0.5,))
    with pytest.raises(InvalidValueError, match="weights has 2 entries but the episode has 1 reward models"):
        token_rewards(ok, [1.0, 2.0])
    with pytest.raises(InvalidValueError, match="no weight for reward component 'factuality'"):
        token_rewards(ok, {"relevance": 1.0})
    with pytest.raises(InvalidValueError, match="offset_mapping entry 1 is 7"):
        ends_from_offsets([(0, 3), 7])  # type: ignore[list-item]
