"""Replaying answers through the environment: rewards on exactly the right tokens, truncation, separators."""

from __future__ import annotations

import gymnasium as gym
import numpy as np
import pytest

import fg_env.envs.answers as answers
from agents.policies.policy import Generation
from agents.baselines.random_agent import RandomSentenceAgent, passage_sentences
from agents.algorithms.rollout import replay, replay_batch, replay_many, run_episode, token_index_of_char, token_rewards
from fg_env.types import Span
from fg_env.wrappers import HolisticReward, LinearScalarization, RewardDensity, SelectRewards

EOS = 0
PAPER = {"relevance": 0.3, "factuality": 0.5, "completeness": 0.3}


def generation(prompt: str, pieces: list[str], finished: bool = True) -> Generation:
    """A hand-made generation whose token i is ``pieces[i]`` (then an eos when ``finished``)."""
    ends, position = [], 0
    for piece in pieces:
        position += len(piece)
        ends.append(position)
    ids = list(range(10, 10 + len(pieces)))
    if finished:
        ids, ends = ids + [EOS], ends + [position]
    return Generation(prompt, [1, 2, 3], ids, "".join(pieces), ends, finished)


@pytest.fixture
def prompt0(tiny_env) -> str:
    return tiny_env.examples[0].prompt  # "When was Mira Holt born?" (born in 1950 in Lisbon)


def test_rewards_land_on_each_segments_last_token(tiny_env, prompt0):
    pieces = [" Mira", " Holt", " was", " born", " in", " 1950", ".", " The", " weather", " was", " mild", "."]
    record = replay(tiny_env, generation(prompt0, pieces), index=0)
    assert record.response == "".join(pieces) and record.terminated and not record.truncated
    assert record.example_id == "tiny-train-0" and record.reward_names == ("relevance", "factuality", "completeness")
    placed = sorted((s.component, s.token_index, s.value) for s in record.segments)
    assert placed == [
        ("completeness", 12, 1.0),  # episode-level: the eos token
        ("factuality", 6, 1.0),  # "1950" is in the passages; the "." token ends the sentence
        ("factuality", 11, 1.0),
        ("relevance", 6, 1.0),
        ("relevance", 11, -1.0),  # the weather sentence is irrelevant
    ]
    expected = np.zeros(13, dtype=np.float32)
    expected[6] = 0.3 + 0.5
    expected[11] = -0.3 + 0.5
    expected[12] = 0.3
    np.testing.assert_allclose(token_rewards(record, PAPER), expected, atol=1e-6)
    np.testing.assert_allclose(token_rewards(record), expected, atol=1e-6)  # the env's default weights are the paper's
    np.testing.assert_allclose(token_rewards(record, [0.3, 0.5, 0.3]), expected, atol=1e-6)
    assert record.num_used_tokens == 13 and record.response_mask.all() and record.final_token_index == 12
    np.testing.assert_allclose(record.total_reward(), [0.0, 2.0, 1.0])
    assert record.step_rewards.shape == (3, 3) and record.step_reward_masks[:2, 2].tolist() == [False, False]


def test_sub_sentences_get_their_own_last_tokens(tiny_env, prompt0):
    # Two sub-sentences: the split after "1950," leaves more than five words after it.
    pieces = [" Mira", " Holt", " was", " born", " in", " 1950,", " and", " the", " weather", " was", " mild", " that", " day", "."]
    record = replay(tiny_env, generation(prompt0, pieces), index=0)
    relevance = [(s.text, s.token_index, s.value) for s in record.segments if s.component == "relevance"]
    assert relevance == [("Mira Holt was born in 1950,", 5, 1.0), ("and the weather was mild that day.", 13, -1.0)]
    [factuality] = [s for s in record.segments if s.component == "factuality"]
    assert factuality.token_index == 13


def test_multibyte_character_at_a_segment_end_goes_to_its_last_byte_token(tiny_env, prompt0):
    text = " Mira Holt was born in 1950 ✓"  # no final punctuation: the check mark ends the sentence
    # word tokens, then the check mark as three byte tokens that all end after it, then the eos
    ends = [5, 10, 14, 19, 22, 27, 28, 29, 29, 29, 29]
    g = Generation(prompt0, [1], list(range(10, 20)) + [EOS], text, ends, finished=True)
    record = replay(tiny_env, g, index=0)
    assert {s.component: s.token_index for s in record.segments} == {"relevance": 9, "factuality": 9, "completeness": 10}


def test_truncation_masks_the_tokens_the_env_never_saw(tiny_env, prompt0):
    sentences = [" Mira Holt was born in 1950.", " The weather was mild.", " Mira Holt is a painter.",
                 " Mira Holt was born in 1950.", " The weather was mild.", " Bye."]
    pieces = [word for s in sentences for word in s.replace(" ", "| ").split("|") if word]
    record = replay(tiny_env, generation(prompt0, pieces), index=0)  # tiny_env truncates at 4 sentences
    assert record.truncated and not record.terminated
    used_text = "".join(sentences[:4])
    assert record.response == used_text
    assert record.num_used_tokens == used_text.count(" ")  # one token per word
    mask = record.response_mask
    assert mask[: record.num_used_tokens].all() and not mask[record.num_used_tokens :].any()
    rewards = token_rewards(record, PAPER)
    assert np.all(rewards[record.num_used_tokens :] == 0)
    [episode] = [s for s in record.segments if s.granularity == "episode"]
    assert episode.token_index == record.final_token_index == record.num_used_tokens - 1
    assert record.num_steps == 4  # no empty action after a truncation


def test_answer_cut_by_max_new_tokens_and_empty_answer(tiny_env, prompt0):
    record = replay(tiny_env, generation(prompt0, [" Mira", " Holt", " was", " born", " in", " 19"], finished=False), index=0)
    assert record.terminated and record.final_token_index == 5 and record.num_used_tokens == 6
    assert {s.component: s.token_index for s in record.segments} == {"relevance": 5, "factuality": 5, "completeness": 5}

    empty = replay(tiny_env, generation(prompt0, [], finished=True), index=0)  # eos straight away
    assert empty.num_steps == 1 and empty.terminated
    assert [(s.component, s.token_index, s.value) for s in empty.segments] == [("completeness", 0, 0.0)]
    np.testing.assert_allclose(token_rewards(empty, PAPER), [0.0])

    whitespace = replay(tiny_env, generation(prompt0, ["  ", "\n"], finished=True), index=0)
    assert [s.token_index for s in whitespace.segments] == [2]


def test_separator_inserted_by_the_env_is_mapped_back(tiny_env, prompt0, monkeypatch):
    pieces = [" Mira", " Holt", " was", " born", " in", " 1950", ".", "The", " weather", " was", " mild", "."]
    text = "".join(pieces)
    # Pretend the segmenter splits "1950.The" (BlingFire does not): the env then inserts one space.
    monkeypatch.setattr(answers, "split_sentences", lambda t: [Span(1, 28), Span(28, len(t))] if t == text else [])
    record = replay(tiny_env, generation(prompt0, pieces), index=0)
    assert record.response == " Mira Holt was born in 1950. The weather was mild."
    relevance = [(s.start, s.end, s.token_index, s.value) for s in record.segments if s.component == "relevance"]
    assert relevance == [(1, 28, 6, 1.0), (29, 50, 11, -1.0)]


def test_wrapped_environments(tiny_env, prompt0):
    pieces = [" Mira", " Holt", " was", " born", " in", " 1950", ".", " The", " weather", " was", " mild", "."]
    g = generation(prompt0, pieces)

    scalar = replay(LinearScalarization(tiny_env, [1.0, 2.0, 4.0]), g, index=0)
    assert scalar.reward_names == ("reward",) and scalar.step_rewards.shape == (3, 1)
    rewards = token_rewards(scalar)  # the wrapper's weights travel with the segments
    assert rewards[6] == pytest.approx(1 + 2) and rewards[11] == pytest.approx(-1 + 2) and rewards[12] == pytest.approx(4)

    holistic = replay(HolisticReward(tiny_env), g, index=0)
    rewards = token_rewards(holistic)
    assert np.count_nonzero(rewards) == 1
    assert rewards[12] == pytest.approx(0.3 * 0 + 0.5 * 2 + 0.3 * 1)
    with pytest.raises(ValueError, match="no weight for reward component 'holistic'"):
        token_rewards(holistic, PAPER)

    dense = replay(RewardDensity(tiny_env, "episode"), g, index=0)
    assert {s.token_index for s in dense.segments} == {12}
    np.testing.assert_allclose(token_rewards(dense, PAPER).sum(), 0.3 * 0 + 0.5 * 2 + 0.3 * 1, rtol=1e-6)

    selected = replay(SelectRewards(tiny_env, ["factuality"]), g, index=0)
    assert selected.reward_names == ("factuality",)
    np.testing.assert_allclose(token_rewards(selected, [1.0]), np.eye(13)[6] + np.eye(13)[11])


def test_bad_input_is_named(tiny_env, prompt0):
    g = generation(prompt0, [" Mira", " Holt", "."])
    with pytest.raises(ValueError, match="exactly one of example_id= or index="):
        replay(tiny_env, g)
    with pytest.raises(ValueError, match="another prompt than question 'tiny-train-1'"):
        replay(tiny_env, g, index=1)
    with pytest.raises(ValueError, match="no response tokens"):
        replay(tiny_env, Generation(prompt0, [1], [], "", [], finished=False), index=0)
    record = replay(tiny_env, g, example_id="tiny-train-0")
    with pytest.raises(ValueError, match="weights has 2 entries but the episode has 3 reward models"):
        token_rewards(record, [0.3, 0.5])
    with pytest.raises(ValueError, match="no weight for reward component 'completeness'"):
        token_rewards(record, {"relevance": 1.0, "factuality": 1.0})
    with pytest.raises(ValueError, match="outside the response tokens"):
        token_index_of_char([3, 5], 5)
    with pytest.raises(ValueError, match="2 generations but 1 example ids"):
        replay_many(tiny_env, [g, g], ["tiny-train-0"])


def test_token_index_of_char_prefers_the_token_completing_a_character():
    ends = [2, 4, 4, 4, 7]  # tokens 1..3 are the bytes of one character at index 3
    assert [token_index_of_char(ends, c) for c in range(7)] == [0, 0, 3, 3, 4, 4, 4]


def test_replay_many_matches_single_replays(tiny_env):
    gens = [generation(ex.prompt, [" It", " was", " 1962", "."]) for ex in tiny_env.examples]
    records = replay_many(tiny_env, gens, [ex.id for ex in tiny_env.examples])
    assert [r.example_id for r in records] == [ex.id for ex in tiny_env.examples]
    assert [float(r.total_reward()[1]) for r in records] == [-1.0, 1.0, -1.0]  # 1962 is only in question 1's passage



@pytest.mark.parametrize("wrap", [lambda e: e, lambda e: LinearScalarization(e, [1.0, 2.0, 4.0]), HolisticReward,
                                  lambda e: RewardDensity(SelectRewards(e, ["relevance", "completeness"]), "episode")])
def test_replay_batch_gives_what_replay_gives(tiny_env, wrap):
    from fg_env.envs.vector import FineGrainedQAVectorEnv

    pieces = [
        [" Mira", " Holt", " was", " born", " in", " 1950", "."],
        [" The", " weather", " was", " mild", ".", " It", " was", " 1962", "."],
        ["  "],
        [" Ann", " won", ".", " Bob", " lost", ".", " Cy", " ran", ".", " Di", " sat", ".", " Ed", " ate", "."],  # 5 sentences
        [" It", " was", " 1962", "."],
    ]
    indices = [0, 1, 2, 0, 1]
    gens = [generation(tiny_env.examples[i].prompt, p) for i, p in zip(indices, pieces)]
    env = wrap(tiny_env)
    batch = replay_batch(FineGrainedQAVectorEnv.from_env(env, 2), gens, indices=indices)
    for g, i, record in zip(gens, indices, batch):
        alone = replay(env, g, index=i)
        np.testing.assert_array_equal(record.step_rewards, alone.step_rewards)
        np.testing.assert_array_equal(record.step_reward_masks, alone.step_reward_masks)
        assert record.segments == alone.segments and record.reward_names == alone.reward_names
        assert (record.num_used_tokens, record.final_token_index, record.truncated) == (
            alone.num_used_tokens, alone.final_token_index, alone.truncated)
        np.testing.assert_array_equal(token_rewards(record), token_rewards(alone))
    assert batch[3].truncated and batch[3].num_used_tokens == 12  # truncated at 4 sentences
    with pytest.raises(ValueError, match="another prompt"):
        replay_batch(FineGrainedQAVectorEnv.from_env(env, 2), gens[:2], indices=[1, 1])
    with pytest.raises(ValueError, match="2 answers but 1 questions"):
        replay_batch(FineGrainedQAVectorEnv.from_env(env, 2), gens[:2], indices=[1])

# ----------------------------------------------------------------------------------------------- random agent


def test_passage_sentences_strip_headers():
    passages = "wikipage: Mira Holt text: Mira is a painter. She was born in 1950. | wikipage: X text: X is big."
    assert passage_sentences(passages) == ["Mira is a painter.", "She was born in 1950.", "X is big."]


def test_random_agent_answers_with_passage_sentences(tiny_env):
    agent = RandomSentenceAgent(seed=0, max_sentences=3, other_passage_prob=0.5)
    all_sentences = {s for ex in tiny_env.examples for p in ex.passages for s in p.sentences}
    lengths = []
    for index in [0, 1, 2, 0, 1, 2]:
        response, total, info = run_episode(tiny_env, agent, options={"index": index})
        sentences = [response[s.start : s.end] for s in tiny_env.sentences]
        assert 1 <= len(sentences) <= 3 and set(sentences) <= all_sentences
        assert total.shape == (3,)
        lengths.append(len(sentences))
    assert len(set(lengths)) > 1  # the number of sentences is random

    replayed = [run_episode(tiny_env, RandomSentenceAgent(seed=5), options={"index": 1})[0] for _ in range(2)]
    assert replayed[0] == replayed[1]  # seeded


def test_random_agent_works_under_wrappers_and_rejects_bad_settings(tiny_env):
    response, total, _ = run_episode(LinearScalarization(tiny_env), RandomSentenceAgent(seed=1), options={"index": 2})
    assert response and total.shape == (1,)
    with pytest.raises(ValueError, match="max_sentences"):
        RandomSentenceAgent(max_sentences=0)
    with pytest.raises(ValueError, match="other_passage_prob"):
        RandomSentenceAgent(other_passage_prob=1.5)


def test_run_episode_stops_a_runaway_agent(tiny_env):
    class Forever(gym.Env):
        def reset(self, *, seed=None, options=None):
            return {"response": ""}, {}

        def step(self, action):
            return {"response": ""}, 0.0, False, False, {}

    with pytest.raises(RuntimeError, match="did not end the episode within 3 steps"):
        run_episode(Forever(), lambda obs: "x", max_steps=3)


def test_the_episode_density_scheme_gives_the_holistic_token_rewards():
    """Why the ablations need no `episode` arm beside holistic at the same KL coefficient: for a
    token-level learner both put the same weighted episode return on the same final token."""
    from agents.experiments.schemes import get_scheme

    base = gym.make("FineGrainedQA-v0", split="dev", max_sentences=6)
    holistic, episode = get_scheme("holistic").wrap(base), get_scheme("episode").wrap(gym.make(base.spec))
    example = base.unwrapped.examples[0]
    gold = example.references[0]
    returns = []
    for text in (gold, gold + " " + gold, "The weather was mild. " + gold[: len(gold) // 2]):
        pieces = [text[i : i + 7] for i in range(0, len(text), 7)]
        g = generation(example.prompt, pieces)
        a, b = token_rewards(replay(holistic, g, index=0)), token_rewards(replay(episode, g, index=0))
        assert np.count_nonzero(a) == 1 and np.flatnonzero(a).tolist() == np.flatnonzero(b).tolist()
        np.testing.assert_allclose(a, b, rtol=1e-6, atol=1e-6)
        returns.append(float(a.sum()))
    assert len(set(returns)) == 3  # three different answers, three different returns
