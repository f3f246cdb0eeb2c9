"""LMPolicy on a tiny GPT-2 trained in seconds: batched generation, token offsets, KV-cached act(), errors."""

from __future__ import annotations

import json
import re

import numpy as np
import pytest
import torch
from transformers import GPT2Config, GPT2LMHeadModel, PreTrainedTokenizer

from agents.policies.cache import atomic_directory, cache_root
from _agents_tiny import plain_batch, plain_logprobs
from agents.policies.policy import Generation, LMPolicy, PolicyLoadError, token_end_chars
from fg_env.prompts import answer_prompt
from agents.algorithms.rollout import replay, token_rewards
from agents.policies.sft import SFTConfig, build_default_policy, default_policy_path, make_model, sft_sequences, train_lm
from agents.policies.tokenizer import train_tokenizer
from conftest import TinyDataset

# Answers to the tiny dataset's three questions: several sentences, an irrelevant one, non-ASCII text.
ANSWERS = [
    " Mira Holt was born in 1950 in Lisbon. The weather was mild, and the sky was clear that day. Mira Holt is a painter.",
    " Aldo Brenn was born in 1962 in Oslo. Café Zürich was his first studio, he said. Aldo Brenn is a painter.",
    " Kai Verde was born in 1977 in Quito. The weather was mild.",
]


@pytest.fixture(scope="module", autouse=True)
def one_thread():
    """Models this small only lose time to thread synchronisation (badly so on a busy 2-core machine)."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


@pytest.fixture(scope="module")
def examples():
    return list(TinyDataset().split("train"))


@pytest.fixture(scope="module")
def policy(examples, one_thread) -> LMPolicy:
    """A 2-layer, 32-dim GPT-2 that has memorised ANSWERS (about a second of training)."""
    pairs = [(ex.prompt, answer) for ex, answer in zip(examples, ANSWERS)]
    tokenizer = train_tokenizer([text for pair in pairs for text in pair], vocab_size=320, min_frequency=1)
    settings = SFTConfig(
        architecture="gpt2", n_layer=2, n_embd=32, n_head=2, n_positions=160, max_answer_tokens=64, epochs=150,
        batch_size=3, learning_rate=1e-2, dropout=0.0,
    )
    sequences, truncated = sft_sequences(tokenizer, pairs, settings.n_positions, settings.max_answer_tokens)
    assert truncated == 0
    model = make_model(settings, tokenizer)
    history = train_lm(model, sequences, settings, pad_id=tokenizer.pad_token_id, progress=False)
    assert history[-1]["answer_loss"] < 0.05
    return LMPolicy(model, tokenizer)


# GPT-2's byte <-> printable-character table, written out independently of the code under test.
def _byte_decoder() -> dict[str, int]:
    bs = list(range(ord("!"), ord("~") + 1)) + list(range(ord("¡"), ord("¬") + 1)) + list(range(ord("®"), ord("ÿ") + 1))
    cs = bs[:]
    n = 0
    for b in range(256):
        if b not in bs:
            bs.append(b)
            cs.append(256 + n)
            n += 1
    return {chr(c): b for b, c in zip(bs, cs)}


def _oracle_ends(tokenizer, ids: list[int], text: str) -> list[int]:
    """Each token's end: the end of the character that holds the token's last byte."""
    decoder = _byte_decoder()
    char_end_of_byte = []
    for index, char in enumerate(text):
        char_end_of_byte += [index + 1] * len(char.encode("utf-8"))
    ends, position = [], 0
    for token in tokenizer.convert_ids_to_tokens(ids):
        position += len([decoder[c] for c in token])  # one printable character per byte
        ends.append(char_end_of_byte[position - 1])
    return ends


# ----------------------------------------------------------------------------------------------- offsets


@pytest.mark.parametrize("text", [" Café Zürich 😀 was his studio.", "naïve — ✓ 東京  \n x", "plain ascii, words."])
def test_token_end_chars_match_byte_oracle_for_canonical_ids(policy, text):
    tokenizer = policy.tokenizer
    ids = tokenizer(text, add_special_tokens=False)["input_ids"]
    ends = token_end_chars(tokenizer, ids, text)
    assert ends == _oracle_ends(tokenizer, ids, text)
    assert ends[-1] == len(text)


def test_token_end_chars_for_non_canonical_byte_ids(policy):
    """Sampling can emit one byte per token; then ids do not round-trip and incremental decoding is used."""
    tokenizer = policy.tokenizer
    text = " Zürich was born 😀!"
    byte_to_char = {b: c for c, b in _byte_decoder().items()}
    ids = tokenizer.convert_tokens_to_ids([byte_to_char[b] for b in text.encode("utf-8")])
    assert ids != tokenizer(text, add_special_tokens=False)["input_ids"]
    ends = token_end_chars(tokenizer, ids, text)
    # " Z" -> 1, 2; "ü" is 2 bytes, both end after it (3); "😀" is 4 bytes, all ending after it (18).
    assert ends == [1, 2, 3, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 18, 18, 18, 19]
    assert ends == _oracle_ends(tokenizer, ids, text)


# ----------------------------------------------------------------------------------------------- generation


def test_generate_greedy_reproduces_the_memorised_answers(policy, examples):
    generations = policy.generate([ex.prompt for ex in examples], do_sample=False, max_new_tokens=64)
    assert [g.response_text for g in generations] == ANSWERS
    for g, ex in zip(generations, examples):
        assert g.prompt == ex.prompt and g.finished and not g.prompt_truncated
        assert g.response_ids[-1] == policy.eos_token_id
        assert policy.eos_token_id not in g.response_ids[:-1]
        assert len(g.token_end_chars) == len(g.response_ids)
        assert g.token_end_chars[-1] == len(g.response_text)
        assert g.token_end_chars == sorted(g.token_end_chars)
        body = g.response_ids[:-1]
        assert g.token_end_chars[:-1] == _oracle_ends(policy.tokenizer, body, g.response_text)
        assert g.prompt_ids == policy.tokenizer(ex.prompt)["input_ids"]


def test_batched_generation_equals_one_prompt_at_a_time(policy, examples):
    prompts = [examples[2].prompt, examples[0].prompt, "question: Who? context: wikipage: X text: Y. answer:"]
    batched = policy.generate(prompts, do_sample=False, max_new_tokens=40)
    single = [policy.generate([p], do_sample=False, max_new_tokens=40)[0] for p in prompts]
    assert [g.response_ids for g in batched] == [g.response_ids for g in single]
    assert not batched[2].finished or batched[2].response_ids[-1] == policy.eos_token_id
    assert all(len(g.response_ids) <= 40 for g in batched)


def test_several_answers_per_prompt_share_one_prompt_encoding(policy, examples, monkeypatch):
    prompts = [examples[0].prompt, examples[2].prompt]
    shared = policy.generate(prompts, do_sample=False, max_new_tokens=40, num_return_sequences=3)
    repeated = policy.generate([p for p in prompts for _ in range(3)], do_sample=False, max_new_tokens=40)
    assert [g.prompt for g in shared] == [prompts[0]] * 3 + [prompts[1]] * 3
    assert [g.response_ids for g in shared] == [g.response_ids for g in repeated]
    sampled = policy.generate(prompts, seed=2, temperature=2.0, max_new_tokens=20, num_return_sequences=4)
    assert len({tuple(g.response_ids) for g in sampled[:4]}) > 1  # k different samples, not one copied
    assert [g.response_ids for g in sampled] == [
        g.response_ids for g in policy.generate(prompts, seed=2, temperature=2.0, max_new_tokens=20, num_return_sequences=4)
    ]
    # the prompt tokens go through the model once per prompt, not once per answer
    widths = []
    forward = policy.model.forward
    monkeypatch.setattr(policy.model, "forward", lambda *a, **kw: widths.append(kw["input_ids"].shape) or forward(*a, **kw))
    policy.generate(prompts, do_sample=False, max_new_tokens=3, num_return_sequences=3)
    width = max(len(policy.tokenizer(p)["input_ids"]) for p in prompts)
    assert widths[0] == (2, width - 1) and all(shape[1] == 1 for shape in widths[1:])
    with pytest.raises(ValueError, match="num_return_sequences"):
        policy.generate(prompts, num_return_sequences=0)


def test_sampling_is_seeded_and_leaves_the_global_rng_alone(policy, examples):
    prompts = [ex.prompt for ex in examples] * 2
    before = torch.get_rng_state()
    first = policy.generate(prompts, seed=7, max_new_tokens=30, temperature=1.5)
    assert torch.equal(torch.get_rng_state(), before)
    second = policy.generate(prompts, seed=7, max_new_tokens=30, temperature=1.5)
    assert [g.response_ids for g in first] == [g.response_ids for g in second]
    for g in first:  # the offsets of sampled (possibly non-canonical, even invalid UTF-8) tokenisations
        body = g.response_ids[:-1] if g.finished else g.response_ids
        ends = g.token_end_chars
        assert ends == sorted(ends) and ends[-1] == len(g.response_text)
        for i in range(len(body)):
            prefix = policy.tokenizer.decode(body[: i + 1])
            if g.response_text.startswith(prefix):  # the prefix ends on a character boundary
                assert ends[i] == len(prefix)
        if g.response_text.isprintable() and "\ufffd" not in g.response_text:
            assert ends[: len(body)] == _oracle_ends(policy.tokenizer, body, g.response_text)


def test_long_prompt_is_cut_from_the_left(policy, examples):
    long_prompt = "question: " + "filler words " * 200 + examples[0].prompt[len("question: ") :]
    [g] = policy.generate([long_prompt], do_sample=False, max_new_tokens=40)
    assert g.prompt_truncated
    assert len(g.prompt_ids) == policy.context_length - 40
    full = policy.tokenizer(long_prompt)["input_ids"]
    assert g.prompt_ids == full[-len(g.prompt_ids) :]


def test_generate_rejects_bad_arguments(policy):
    with pytest.raises(TypeError, match="list of prompts"):
        policy.generate("a prompt")
    with pytest.raises(ValueError, match="max_new_tokens"):
        policy.generate(["x"], max_new_tokens=0)
    with pytest.raises(ValueError, match="temperature"):
        policy.generate(["x"], temperature=0.0)
    with pytest.raises(ValueError, match="no room for the prompt"):
        policy.generate(["x"], max_new_tokens=policy.context_length)
    assert policy.generate([]) == []


# ----------------------------------------------------------------------------------------------- act()


def _play(policy, prompt: str, **kwargs) -> list[str]:
    response, actions = "", []
    for _ in range(50):
        action = policy.act({"response": response}, prompt=prompt, **kwargs)
        if not action:
            return actions
        actions.append(action)
        response += action  # what the environment appends (no separator: actions keep their whitespace)
    raise AssertionError("act() never ended the answer")


def test_act_reuses_the_cache_and_matches_one_shot_greedy(policy, examples, monkeypatch):
    calls = []
    original = policy._forward
    monkeypatch.setattr(policy, "_forward", lambda ids, cache: calls.append(len(ids)) or original(ids, cache))
    for example, answer in zip(examples, ANSWERS):
        calls.clear()
        actions = _play(policy, example.prompt, max_new_tokens=64)
        [g] = policy.generate([example.prompt], do_sample=False, max_new_tokens=64)
        assert "".join(actions) == g.response_text == answer
        assert len(actions) == answer.count(". ") + 1  # one sentence per step
        # The prompt is encoded once; after that every forward call feeds exactly one new token.
        assert calls[0] == len(g.prompt_ids)
        assert calls[1:] == [1] * (len(calls) - 1)
        assert len(calls) - 1 == len(g.response_ids) - 1  # each generated token but the eos is fed back once


def test_act_builds_the_prompt_from_the_observation_and_handles_foreign_responses(policy, examples, tiny_env):
    obs, info = tiny_env.reset(options={"index": 0})
    assert answer_prompt(obs["question"], obs["passages"]) == info["prompt"]
    first = policy.act(obs, max_new_tokens=64)  # the context (160) must hold prompt + 64 new tokens
    assert first == " Mira Holt was born in 1950 in Lisbon."
    # A response the policy did not write (here: without the leading space) is encoded afresh, not an error.
    foreign = dict(obs, response="Mira Holt was born in 1950 in Lisbon.")
    assert policy.act(foreign, max_new_tokens=64).strip().startswith("The weather")
    with pytest.raises(ValueError, match="question"):
        policy.act({"response": ""})


def test_act_in_the_environment_equals_replaying_the_one_shot_answer(policy, examples, tiny_env):
    policy.reset_act_cache()
    obs, _ = tiny_env.reset(options={"index": 1})
    total = np.zeros(3, dtype=np.float32)
    while True:
        obs, reward, terminated, truncated, info = tiny_env.step(policy.act(obs, max_new_tokens=64))
        total += reward
        if terminated or truncated:
            break
    [g] = policy.generate([examples[1].prompt], do_sample=False, max_new_tokens=64)
    record = replay(tiny_env, g, index=1)
    assert obs["response"] == record.response == g.response_text
    np.testing.assert_allclose(total, record.total_reward())


def test_act_sampling_with_seed_is_reproducible(policy, examples):
    a = _play(policy, examples[0].prompt, do_sample=True, seed=3, temperature=2.0, max_new_tokens=30)
    policy.reset_act_cache()
    b = _play(policy, examples[0].prompt, do_sample=True, seed=3, temperature=2.0, max_new_tokens=30)
    assert a == b
    assert len("".join(a)) > 0


# ----------------------------------------------------------------------------------------------- rewards from a real generation


def test_rewards_land_on_the_last_token_of_each_segment(policy, examples, tiny_env):
    [g] = policy.generate([examples[0].prompt], do_sample=False, max_new_tokens=64)
    record = replay(tiny_env, g, index=0)
    text = g.response_text
    for segment in record.segments:
        if segment.granularity == "episode":
            assert segment.token_index == len(g.response_ids) - 1  # the eos token
            continue
        t = segment.token_index
        # the segment's last character lies in token t, and token t does not end before it
        token_start = g.token_end_chars[t - 1] if t else 0
        assert token_start <= segment.end - 1 < g.token_end_chars[t]
        # ... and it is the last token holding it: the next one ends later, or is the eos
        assert t + 1 == len(g.response_ids) - 1 or g.token_end_chars[t + 1] > g.token_end_chars[t]
        assert policy.tokenizer.decode(g.response_ids[: t + 1]).rstrip().endswith(segment.text)
    rewards = token_rewards(record, {"relevance": 0.3, "factuality": 0.5, "completeness": 0.3})
    expected = np.zeros(len(g.response_ids), dtype=np.float32)
    for segment in record.segments:
        expected[segment.token_index] += {"relevance": 0.3, "factuality": 0.5, "completeness": 0.3}[segment.component] * segment.value
    np.testing.assert_allclose(rewards, expected)
    # the weather sub-sentence is the only negative relevance reward
    negative = [s for s in record.segments if s.component == "relevance" and s.value < 0]
    assert [s.text for s in negative] == ["The weather was mild, and the sky was clear that day."]


# ----------------------------------------------------------------------------------------------- training helpers


def test_collate_and_logprobs_agree_with_a_plain_forward(policy, examples):
    generations = policy.generate([ex.prompt for ex in examples], do_sample=False, max_new_tokens=64)
    batch = plain_batch(policy.pad_token_id, generations, num_used_tokens=[len(generations[0].response_ids), 5, 3])
    assert batch.response_mask.sum(dim=1).tolist() == [len(generations[0].response_ids), 5, 3]
    logprobs = plain_logprobs(policy.model, batch)
    g = generations[1]
    with torch.no_grad():
        ids = torch.tensor([g.prompt_ids + g.response_ids])
        logits = policy.model(input_ids=ids).logits[0]
    reference = torch.log_softmax(logits[len(g.prompt_ids) - 1 : -1], dim=-1)
    expected = reference.gather(-1, torch.tensor(g.response_ids)[:, None]).squeeze(-1)
    torch.testing.assert_close(logprobs[1, :5], expected[:5], atol=1e-4, rtol=1e-4)
    assert torch.all(logprobs[1, 5:] == 0)
    with pytest.raises(ValueError, match="num_used_tokens"):
        plain_batch(policy.pad_token_id, generations, num_used_tokens=[1])


# ----------------------------------------------------------------------------------------------- bad input


class _CharTokenizer(PreTrainedTokenizer):
    """A pure-Python (slow) tokenizer: no Rust backend, so no offset mapping."""

    def __init__(self, **kwargs):
        self._vocab = {chr(i): i - 32 for i in range(32, 127)}
        super().__init__(eos_token="~", **kwargs)

    def get_vocab(self):
        return dict(self._vocab)

    @property
    def vocab_size(self):
        return len(self._vocab)

    def _tokenize(self, text):
        return list(text)

    def _convert_token_to_id(self, token):
        return self._vocab.get(token, 0)

    def _convert_id_to_token(self, index):
        return chr(index + 32)


def test_slow_tokenizer_is_refused_at_construction():
    model = GPT2LMHeadModel(GPT2Config(vocab_size=100, n_positions=32, n_embd=16, n_layer=1, n_head=2))
    with pytest.raises(PolicyLoadError, match="not a fast"):
        LMPolicy(model, _CharTokenizer())


def test_missing_or_invalid_model_paths_are_named(tmp_path, monkeypatch):
    missing = tmp_path / "no_such_model"
    with pytest.raises(PolicyLoadError, match="does not exist") as error:
        LMPolicy.from_pretrained(missing)
    assert str(missing) in str(error.value)
    (tmp_path / "empty").mkdir()
    with pytest.raises(PolicyLoadError, match="no config.json"):
        LMPolicy.from_pretrained(tmp_path / "empty")
    (tmp_path / "file.bin").write_bytes(b"0")
    with pytest.raises(PolicyLoadError, match="is a file"):
        LMPolicy.from_pretrained(tmp_path / "file.bin")
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    with pytest.raises(PolicyLoadError, match="HF_HUB_OFFLINE"):
        LMPolicy.from_pretrained("some-org/some-model")


def test_save_and_load_round_trip(policy, examples, tmp_path):
    policy.save_pretrained(tmp_path / "saved")
    policy.save_pretrained(tmp_path / "saved")  # overwriting an existing folder is atomic too
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")]  # no temporary folders left behind
    loaded = LMPolicy.from_pretrained(tmp_path / "saved")
    [g] = loaded.generate([examples[2].prompt], do_sample=False, max_new_tokens=64)
    assert g.response_text == ANSWERS[2]
    config = json.loads((tmp_path / "saved" / "config.json").read_text())
    assert config["n_positions"] == 160


def test_generation_checks_its_offsets():
    with pytest.raises(ValueError, match="token_end_chars"):
        Generation("p", [1], [2, 3], "ab", [1], finished=False)


# ----------------------------------------------------------------------------------------------- SFT build and cache


def _micro_settings(**overrides) -> SFTConfig:
    values = dict(n_layer=1, n_embd=32, n_head=2, n_positions=512, num_examples=12, extra_worlds=0,
                  vocab_size=1000, tokenizer_examples=80, epochs=2, batch_size=4, eval_examples=3, eval_max_new_tokens=12)
    values.update(overrides)
    return SFTConfig(**values)


@pytest.mark.parametrize(
    ("checkpoint_every", "kill_at", "progress", "epoch_steps"),
    [(500, (2, 5), 2, 0), (1, (1, 4), 1, 1)],
    ids=["at-an-epoch-end", "mid-epoch"],
)
def test_killed_then_resumed_training_equals_an_uninterrupted_run(
    policy, examples, tmp_path, checkpoint_every, kill_at, progress, epoch_steps
):
    from dataclasses import replace

    from fg_env.checkpoint import CheckpointError, load_checkpoint

    pairs = [(ex.prompt, answer) for ex, answer in zip(examples, ANSWERS)]
    tokenizer = policy.tokenizer
    # GPT-2 with dropout: the resumed run must also restore torch's generator to draw the same masks.
    settings = SFTConfig(architecture="gpt2", n_layer=1, n_embd=16, n_head=2, n_positions=160, max_answer_tokens=64,
                         epochs=3, batch_size=2, warmup_ratio=0.2, checkpoint_every=checkpoint_every)
    sequences, _ = sft_sequences(tokenizer, pairs, 160, 64)

    straight = make_model(settings, tokenizer)
    straight_history = train_lm(straight, sequences, settings, pad_id=tokenizer.pad_token_id, work_dir=tmp_path / "a", progress=False)

    class Kill(Exception):
        pass

    def kill_in_epoch_2(record):
        # After the last checkpoint (the end of epoch 1, or the first batch of epoch 1), one more step.
        if (record["epoch"], record["step"]) == kill_at:
            raise Kill

    interrupted = make_model(settings, tokenizer)
    with pytest.raises(Kill):
        train_lm(interrupted, sequences, settings, pad_id=tokenizer.pad_token_id, work_dir=tmp_path / "b",
                 progress=False, log=kill_in_epoch_2)
    saved = load_checkpoint(tmp_path / "b", "sft")
    assert (saved["progress"], saved.get("epoch_steps", 0)) == (progress, epoch_steps)
    with pytest.raises(CheckpointError, match=r"other settings \(learning_rate\)"):
        train_lm(make_model(settings, tokenizer), sequences, replace(settings, learning_rate=1e-3),
                 pad_id=tokenizer.pad_token_id, work_dir=tmp_path / "b", progress=False)

    resumed = make_model(settings, tokenizer)  # a fresh process: new model, state from the checkpoint
    history = train_lm(resumed, sequences, settings, pad_id=tokenizer.pad_token_id, work_dir=tmp_path / "b", progress=False)
    assert [h["epoch"] for h in history] == [0, 1, 2]
    assert [(h["answer_loss"], h["tokens_trained"]) for h in history] == [(h["answer_loss"], h["tokens_trained"]) for h in straight_history]
    for (name, a), b in zip(straight.state_dict().items(), resumed.state_dict().values()):
        assert torch.allclose(a, b, atol=1e-6, rtol=0), name
    logged = {run: [json.loads(line) for line in (tmp_path / run / "metrics.jsonl").read_text().splitlines()] for run in "ab"}
    assert [r["step"] for r in logged["b"]] == list(range(1, 7))  # 3 epochs x 2 steps, no duplicate after the resume
    assert [(r["loss"], r["lr"]) for r in logged["b"]] == [(r["loss"], r["lr"]) for r in logged["a"]]
    assert logged["a"][0]["lr"] > 0  # the first update does not run at a learning rate of 0


def test_build_default_policy_caches_by_settings(tmp_path):
    pytest.importorskip("fg_env.data.synthetic")
    settings = _micro_settings()
    path = build_default_policy(settings, cache_dir=tmp_path, progress=False)
    assert path == default_policy_path(settings, tmp_path) and path.parent == tmp_path / "sft"
    assert {"config.json", "tokenizer.json", "build.json", "metrics.jsonl", "eval.json"} <= {p.name for p in path.iterdir()}
    assert not (tmp_path / "sft" / f"{path.name}.partial").exists()
    build = json.loads((path / "build.json").read_text())
    assert build["key"] == settings.key() and build["num_sequences"] == 12 and build["max_tokens"] <= 512
    evaluation = json.loads((path / "eval.json").read_text())
    assert evaluation["num_answers"] == 3
    assert set(evaluation["answers_with_error"]) >= {"Irrelevant", "Unverifiable", "Missing-Answer"}
    assert all(0.0 <= v <= 1.0 for v in evaluation["answers_with_error"].values())
    config = json.loads((path / "config.json").read_text())
    assert config["attention_dropout"] == 0.0  # the policy samples and trains without dropout
    stamp = (path / "config.json").stat().st_mtime_ns
    assert build_default_policy(settings, cache_dir=tmp_path, progress=False) == path  # reused, not rebuilt
    assert (path / "config.json").stat().st_mtime_ns == stamp
    other = _micro_settings(seed=1)
    assert default_policy_path(other, tmp_path) != path
    # evaluation settings are not part of the key
    assert default_policy_path(_micro_settings(eval_examples=7), tmp_path) == path
    policy = LMPolicy.from_pretrained(path)
    assert type(policy.model).__name__ == "PointerLlamaForCausalLM"  # the default architecture: Llama + pointer
    assert policy.context_length == 512 and policy.eos_token_id == 0 and policy.pad_token_id == 1
    # act() keeps a rotary model's KV cache across steps too, and writes the one-shot greedy answer
    example = __import__("fg_env.data", fromlist=["make_dataset"]).make_dataset("synthetic").split("dev")[0]
    [g] = policy.generate([example.prompt], do_sample=False, max_new_tokens=24)
    assert "".join(_play(policy, example.prompt, max_new_tokens=24)) == g.response_text.rstrip()


def test_a_damaged_cached_policy_is_named_with_the_command_that_rebuilds_it(tmp_path):
    from agents.policies.policy_files import PolicyFilesError
    from agents.policies.sft import rebuild_command

    settings = _micro_settings(epochs=1, eval_examples=0)
    path = build_default_policy(settings, cache_dir=tmp_path, progress=False)
    recorded = json.loads((path / "build.json").read_text())["files"]
    assert set(recorded) >= {"model.safetensors", "config.json", "tokenizer.json"}
    weights = path / "model.safetensors"
    intact = weights.read_bytes()
    weights.write_bytes(intact[: len(intact) // 2])  # truncated, as by a full disk or a killed copy
    command = rebuild_command(settings)
    assert command.startswith("fg-env sft --force") and "--n-layer 1" in command
    with pytest.raises(PolicyFilesError, match=r"model\.safetensors' is corrupt or truncated .*" + re.escape(command)):
        build_default_policy(settings, cache_dir=tmp_path, progress=False)
    weights.write_bytes(intact[:-1] + bytes([intact[-1] ^ 1]))  # same size, one bit flipped
    with pytest.raises(PolicyFilesError, match="SHA-256 differs"):
        build_default_policy(settings, cache_dir=tmp_path, progress=False)
    (path / "tokenizer.json").unlink()
    weights.write_bytes(intact)
    with pytest.raises(PolicyFilesError, match=r"tokenizer\.json' is missing"):
        build_default_policy(settings, cache_dir=tmp_path, progress=False)
    # The command it names rebuilds it: force=True is what --force does.
    assert build_default_policy(settings, cache_dir=tmp_path, progress=False, force=True) == path
    assert LMPolicy.from_pretrained(path).model is not None


def test_supervised_pairs_add_other_worlds_whose_facts_differ():
    from agents.policies.sft import supervised_pairs
    from fg_env.data import make_dataset

    base = supervised_pairs(SFTConfig(num_examples=5, extra_worlds=0))
    assert len(base) == 5
    extended = supervised_pairs(SFTConfig(num_examples=5, extra_worlds=1, careless_share=0.0))  # gold answers
    world_one = make_dataset("synthetic", seed=1).split("train")
    assert len(extended) == 5 + len(world_one) and extended[:5] == base
    assert extended[5] == (world_one[0].prompt, world_one[0].references[0])
    evaluation_prompts = {ex.prompt for ex in make_dataset("synthetic").split("dev")}
    assert not evaluation_prompts & {prompt for prompt, _ in extended[5:]}  # no evaluation question is supervised
    with pytest.raises(ValueError, match="extra_worlds needs the synthetic dataset"):
        SFTConfig(dataset="qa-feedback", extra_worlds=1)
    with pytest.raises(ValueError, match="extra_worlds must be a non-negative integer"):
        SFTConfig(extra_worlds=-1)


def test_sft_settings_reject_bad_values():
    with pytest.raises(ValueError, match="learning_rate"):
        SFTConfig(learning_rate=-1e-3)
    with pytest.raises(ValueError, match="batch_size"):
        SFTConfig(batch_size=0)
    with pytest.raises(ValueError, match="divisible"):
        SFTConfig(n_embd=100, n_head=3)
    with pytest.raises(ValueError, match="no room for a prompt"):
        SFTConfig(n_positions=64, max_answer_tokens=64)
    with pytest.raises(ValueError, match="vocab_size must be at least 258"):
        train_tokenizer(["a b c"], vocab_size=100)


def test_cache_root_and_atomic_directory(tmp_path, monkeypatch):
    monkeypatch.setenv("FG_ENV_CACHE", str(tmp_path / "explicit"))
    assert cache_root() == tmp_path / "explicit"
    monkeypatch.delenv("FG_ENV_CACHE")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    assert cache_root() == tmp_path / "xdg" / "fg_env"
    monkeypatch.delenv("XDG_CACHE_HOME")
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    assert cache_root() == tmp_path / "home" / ".cache" / "fg_env"

    target = tmp_path / "model"
    with atomic_directory(target) as tmp:
        (tmp / "a.txt").write_text("first")
    with pytest.raises(RuntimeError):
        with atomic_directory(target) as tmp:
            (tmp / "a.txt").write_text("half-written")
            raise RuntimeError("killed")
    assert (target / "a.txt").read_text() == "first"  # a failed write leaves the old folder whole
    assert sorted(p.name for p in tmp_path.iterdir()) == ["model"]
