"""Real models in PPO: Llama- and Qwen-family policies, LoRA with the reference as the base model, mixed
precision, gradient checkpointing, and the checks that stop a bad setting before any training."""

from __future__ import annotations

import gymnasium as gym
import pytest
import torch
from _agents_tiny import save_tiny_policy
from transformers import LlamaConfig, LlamaForCausalLM, Qwen2Config, Qwen2ForCausalLM

import fg_env  # noqa: F401 - registers the environment
from agents.algorithms.model_setup import (
    ModelTooLargeError,
    check_lora_targets,
    check_model_options,
    check_precision,
    training_bytes,
)
from agents.policies.policy import LMPolicy
from agents.algorithms.lm_rl import SequenceBatch, forward_responses, reference_logprobs
from agents.algorithms.ppo import FineGrainedPPO, PPOConfig
from agents.experiments.schemes import get_scheme
from agents.testing import tiny_policy
from fg_env.cli import main

SMALL = dict(iterations=2, prompts_per_iteration=2, samples_per_prompt=2, minibatch_size=4, max_new_tokens=12,
             learning_rate=1e-2, warmup_steps=0)


def _env():
    return get_scheme("fine-grained").wrap(gym.make("FineGrainedQA-v0", max_sentences=3))


def _family_policy(family: str) -> LMPolicy:
    """A random two-layer model of a Hugging Face family, with the tiny policy's tokenizer."""
    tokenizer = tiny_policy().tokenizer
    common = dict(vocab_size=len(tokenizer), hidden_size=32, intermediate_size=64, num_hidden_layers=2,
                  num_attention_heads=4, num_key_value_heads=2, max_position_embeddings=256,
                  eos_token_id=tokenizer.eos_token_id, pad_token_id=tokenizer.pad_token_id)
    torch.manual_seed(0)
    model = LlamaForCausalLM(LlamaConfig(**common)) if family == "llama" else Qwen2ForCausalLM(Qwen2Config(**common))
    return LMPolicy(model, tokenizer)


def _batch(policy: LMPolicy) -> SequenceBatch:
    prompt = policy.tokenizer("Who directed it?", add_special_tokens=False)["input_ids"]
    responses = [policy.tokenizer(t, add_special_tokens=False)["input_ids"] for t in (" Ann did.", " Bo did it.")]
    width = max(map(len, responses))
    ids = torch.full((2, width), policy.pad_token_id)
    mask = torch.zeros((2, width), dtype=torch.long)
    for row, r in enumerate(responses):
        ids[row, : len(r)], mask[row, : len(r)] = torch.tensor(r), 1
    return SequenceBatch(torch.tensor([prompt]), torch.ones(1, len(prompt), dtype=torch.long), ids, mask, group_size=2)


# ---------------------------------------------------------------------------------------- families and LoRA


@pytest.mark.parametrize("family, targets", [("llama", "q_proj,v_proj"), ("qwen2", "q_proj,k_proj,v_proj,o_proj")])
def test_llama_and_qwen_policies_train_with_and_without_lora(tmp_path, family, targets):
    for options in ({}, {"lora_rank": 4, "lora_target_modules": targets}):
        policy = _family_policy(family)
        trainer = FineGrainedPPO(policy, _env(), PPOConfig(**SMALL, **options))
        metrics = trainer.train(progress=False)
        assert len(metrics) == 2 and all(torch.isfinite(torch.tensor(m["kl"])) for m in metrics)
        trainer.save_policy(tmp_path / family)
        loaded = LMPolicy.from_pretrained(tmp_path / family)  # a plain folder: no peft needed to load it
        assert type(loaded.model).__name__ == type(policy.model).__name__.replace("PeftModel", "")
        assert not any("lora" in name for name in loaded.model.state_dict())


def test_lora_trains_only_adapters_and_the_reference_is_the_base_model(tmp_path):
    policy = tiny_policy()
    batch = _batch(policy)
    before = reference_logprobs(policy.model, batch)
    trainer = FineGrainedPPO(policy, _env(), PPOConfig(**SMALL, lora_rank=4, lora_target_modules="c_attn,c_proj"))
    assert trainer.ref_model is None  # no second copy of the model
    trained = {id(p) for group in trainer.optimizer.param_groups for p in group["params"]}
    names = [n for n, p in trainer.actor_critic.named_parameters() if id(p) in trained]
    assert names and all("lora_" in n or n.startswith("value_head") for n in names)
    trainer.train(progress=False)
    adapted = reference_logprobs(policy.model, batch)
    assert not torch.allclose(adapted, before, atol=1e-4)  # the adapters moved the policy
    assert torch.allclose(trainer._reference_logprobs(batch), before, atol=1e-6)  # the reference did not move
    # the saved policy (adapters merged) computes what the adapted policy computes
    trainer.save_policy(tmp_path / "merged")
    merged = LMPolicy.from_pretrained(tmp_path / "merged")
    assert torch.allclose(reference_logprobs(merged.model, batch), adapted, atol=1e-5)


def test_one_pass_forward_equals_the_cached_prompt_forward():
    policy = tiny_policy()
    batch = _batch(policy)
    cached, hidden = forward_responses(policy.model, batch, output_hidden=True)
    whole, whole_hidden = forward_responses(policy.model, batch, output_hidden=True, one_pass=True)
    mask = batch.response_mask.bool()
    assert torch.allclose(cached[mask], whole[mask], atol=1e-5)
    assert torch.allclose(hidden[mask], whole_hidden[mask], atol=1e-5)


def test_gradient_checkpointing_and_bf16_train_like_the_plain_run():
    plain = FineGrainedPPO(tiny_policy(), _env(), PPOConfig(**SMALL)).train(progress=False)
    checkpointed = FineGrainedPPO(tiny_policy(), _env(), PPOConfig(**SMALL, gradient_checkpointing=True)).train(progress=False)
    for a, b in zip(plain, checkpointed):
        assert b["kl"] == pytest.approx(a["kl"], abs=1e-4) and b["return"] == pytest.approx(a["return"], abs=1e-6)
    bf16 = FineGrainedPPO(tiny_policy(), _env(), PPOConfig(**SMALL, precision="bf16")).train(progress=False)
    assert bf16[0]["return"] == pytest.approx(plain[0]["return"], abs=0.5)  # same sampler, rounding aside
    assert all(torch.isfinite(torch.tensor(m["policy_loss"])) for m in bf16)


def test_later_settings_stay_out_of_records_at_their_defaults():
    record = PPOConfig().to_dict()
    assert not {"precision", "gradient_checkpointing", "lora_rank", "lora_alpha", "lora_target_modules"} & set(record)
    assert PPOConfig.from_dict(record) == PPOConfig()
    changed = PPOConfig(lora_rank=8, precision="bf16").to_dict()
    assert (changed["lora_rank"], changed["precision"]) == (8, "bf16")
    assert PPOConfig.from_dict(changed) == PPOConfig(lora_rank=8, precision="bf16")


# ---------------------------------------------------------------------------------------- bad settings


def test_bad_model_settings_are_named(tmp_path, monkeypatch):
    with pytest.raises(ValueError, match="precision fp16 needs a CUDA device"):
        check_precision("fp16", "cpu")
    with pytest.raises(ValueError, match="PPOConfig.lora_rank must be a non-negative integer"):
        PPOConfig(lora_rank=-1)
    with pytest.raises(ValueError, match="PPOConfig.precision must be fp32, bf16 or fp16"):
        PPOConfig(precision="int8")
    with pytest.raises(ValueError, match="q_proj match no layer of GPT2LMHeadModel; its linear layers: c_attn"):
        check_lora_targets(tiny_policy().model, ["q_proj"])
    folder = save_tiny_policy(tmp_path / "policy")
    assert check_model_options(str(folder), PPOConfig(), "cpu")["parameters"] > 0
    import agents.algorithms.model_setup

    monkeypatch.setattr(agents.algorithms.model_setup, "available_bytes", lambda device: 1000)
    with pytest.raises(ModelTooLargeError, match="PPO needs about 0.0 GiB .* but cpu has 0.0 GiB free; try --lora-rank 8"):
        check_model_options(str(folder), PPOConfig(), "cpu")
    assert training_bytes(10, trainable=1, reference_copy=False) == 4 * (10 + 3)


def test_the_cli_stops_bad_model_settings_before_training(tmp_path, capsys, monkeypatch):
    import agents.algorithms.ppo

    monkeypatch.setattr(agents.algorithms.ppo.FineGrainedPPO, "train", lambda *a, **k: pytest.fail("training started"))
    policy = save_tiny_policy(tmp_path / "policy")
    capsys.readouterr()  # the saving progress bar
    argv = ["train", "--policy", str(policy), "--out", str(tmp_path / "run"), "--no-progress"]
    for extra, message in [
        (["--lora-rank", "4", "--lora-target-modules", "q_proj,v_proj"], "LoRA target module(s) q_proj, v_proj match no layer"),
        (["--precision", "fp16"], "precision fp16 needs a CUDA device"),
        (["--lora-rank", "-2"], "PPOConfig.lora_rank must be a non-negative integer"),
    ]:
        assert main([*argv, *extra]) == 2
        err = capsys.readouterr().err
        assert message in err and len(err.strip().splitlines()) == 1, err


# ---------------------------------------------------------------------------------------- encoder-decoder policies


def _t5_policy() -> LMPolicy:
    """A random two-layer T5 (the paper's family) with the tiny policy's tokenizer."""
    from transformers import T5Config, T5ForConditionalGeneration

    tokenizer = tiny_policy().tokenizer
    torch.manual_seed(0)
    config = T5Config(vocab_size=len(tokenizer), d_model=32, d_ff=64, d_kv=16, num_layers=2, num_heads=2,
                      pad_token_id=tokenizer.pad_token_id, eos_token_id=tokenizer.eos_token_id,
                      decoder_start_token_id=tokenizer.pad_token_id)
    return LMPolicy(T5ForConditionalGeneration(config), tokenizer)


@pytest.mark.parametrize("make", [tiny_policy, _t5_policy], ids=["causal", "encoder-decoder"])
def test_training_log_probs_are_the_ones_generation_sampled_with(make):
    """The log-probs PPO trains on equal those generate() computed for the same tokens (greedy scores)."""
    policy = make()
    prompt = "question: Who won? context: wikipage: Race text: Ann won. answer:"
    config = policy._generation_config(10, False, 20, 0.7)
    config.output_scores, config.return_dict_in_generate = True, True
    ids = policy.tokenizer(prompt, return_tensors="pt")
    out = policy.model.generate(**ids, generation_config=config)
    first = 1 if policy.is_encoder_decoder else ids["input_ids"].shape[1]
    response = out.sequences[0, first:]
    expected = torch.stack([torch.log_softmax(s[0].float(), -1)[t] for s, t in zip(out.scores, response)])
    batch = SequenceBatch(ids["input_ids"], ids["attention_mask"], response[None], torch.ones_like(response)[None], 1)
    assert torch.allclose(reference_logprobs(policy.model, batch)[0], expected, atol=1e-4)


def test_an_encoder_decoder_policy_trains_saves_and_loads(tmp_path):
    policy = _t5_policy()
    [generation] = policy.generate(["question: Who won? answer:"], max_new_tokens=6, seed=0)
    assert len(generation.response_ids) == len(generation.token_end_chars) <= 6
    trainer = FineGrainedPPO(policy, _env(), PPOConfig(**SMALL, lora_rank=4, lora_target_modules="q,v"))
    metrics = trainer.train(progress=False)
    assert len(metrics) == 2 and metrics[0]["kl"] == pytest.approx(0.0, abs=1e-5)
    trainer.save_policy(tmp_path / "t5")
    assert check_model_options(str(tmp_path / "t5"), PPOConfig(lora_rank=4, lora_target_modules="q,v"), "cpu")["parameters"] > 0
    loaded = LMPolicy.from_pretrained(tmp_path / "t5")
    assert loaded.is_encoder_decoder and type(loaded.model).__name__ == "T5ForConditionalGeneration"
    with pytest.raises(NotImplementedError, match="write whole answers with generate"):
        loaded.act({"question": "Who?", "passages": "", "response": ""})
