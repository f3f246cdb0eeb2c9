"""Fine-grained PPO: the arithmetic against hand calculations, rewards on the right tokens end to end,
a short run that raises a toy reward, checkpoints that resume to the same result, reward schemes."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from _agents_tiny import LetterShare, fixed_generation, save_tiny_policy, tiny_env, tiny_policy
from fg_env.checkpoint import CheckpointError, load_checkpoint, save_checkpoint
from _agents_tiny import plain_batch, plain_logprobs
from agents.policies.policy import LMPolicy
from agents.algorithms.ppo import (
    ActorCritic,
    AdaptiveKLController,
    FineGrainedPPO,
    FixedKLController,
    PPOConfig,
    gae_advantages,
    kl_penalized_rewards,
    ppo_losses,
)
from agents.algorithms.lm_rl import segment_weights, whiten
from agents.experiments.schemes import SCHEMES, get_scheme, resolve_weights
from fg_env.errors import UnknownChoiceError

T = torch.tensor


# ---------------------------------------------------------------------------------------------- math


def test_kl_penalized_rewards_by_hand():
    scores = T([[0.0, 0.0, 1.0], [0.5, 0.0, 0.0]])
    logprobs = T([[-1.0, -2.0, -3.0], [-0.5, -1.0, -7.0]])
    ref = T([[-1.5, -2.0, -2.0], [-1.0, -0.5, -0.1]])
    mask = T([[1.0, 1.0, 1.0], [1.0, 1.0, 0.0]])
    rewards, kl = kl_penalized_rewards(scores, logprobs, ref, mask, kl_coef=0.2)
    # kl = lp - ref = (0.5, 0, -1) and (0.5, -0.5, masked); r = score - 0.2 * kl
    assert torch.allclose(kl, T([[0.5, 0.0, -1.0], [0.5, -0.5, 0.0]]))
    assert torch.allclose(rewards, T([[-0.1, 0.0, 1.2], [0.4, 0.1, 0.0]]))
    # beta = 0 leaves the scores untouched
    assert torch.equal(kl_penalized_rewards(scores, logprobs, ref, mask, 0.0)[0], scores * mask)


def test_whiten_without_mean_shift_divides_by_std_only():
    values = T([[1.0, -3.0, 2.0], [4.0, 100.0, 100.0]])
    mask = T([[1.0, 1.0, 1.0], [1.0, 0.0, 0.0]])
    std = math.sqrt(26 / 3)  # entries 1, -3, 2, 4: mean 1, unbiased variance (0 + 16 + 1 + 9) / 3
    scaled = whiten(values, mask, shift_mean=False)
    assert torch.allclose(scaled, T([[1 / std, -3 / std, 2 / std], [4 / std, 0.0, 0.0]]), atol=1e-6)
    assert torch.all(torch.sign(scaled[mask.bool()]) == torch.sign(values[mask.bool()]))  # signs survive
    centred = whiten(values, mask, shift_mean=True)
    assert torch.allclose(centred, T([[0.0, -4 / std, 1 / std], [3 / std, 0.0, 0.0]]), atol=1e-6)
    kept = centred[mask.bool()]
    assert abs(kept.mean().item()) < 1e-6 and abs(kept.std().item() - 1.0) < 1e-5


def test_gae_by_hand_with_padding():
    rewards = T([[1.0, 0.0, 2.0], [0.5, 1.0, 0.0]])
    values = T([[0.5, 1.0, 1.5], [0.2, 0.4, 9.0]])  # 9.0 sits on padding and must be ignored
    mask = T([[1.0, 1.0, 1.0], [1.0, 1.0, 0.0]])
    adv, ret = gae_advantages(rewards, values, mask, gamma=0.9, lam=0.8)
    # row 0: deltas (1 + .9*1 - .5, 0 + .9*1.5 - 1, 2 - 1.5) = (1.4, .35, .5); A = delta + .72 * A_next
    # row 1: deltas (.5 + .9*.4 - .2, 1 - .4) = (.66, .6); the episode ends at t = 1
    assert torch.allclose(adv, T([[1.9112, 0.71, 0.5], [1.092, 0.6, 0.0]]), atol=1e-6)
    assert torch.allclose(ret, T([[2.4112, 1.71, 2.0], [1.292, 1.0, 0.0]]), atol=1e-6)


def test_gae_with_gamma_and_lambda_one_is_reward_to_go_minus_value():
    rewards, values, mask = T([[1.0, 0.0, 2.0]]), T([[0.5, 1.0, 1.5]]), torch.ones(1, 3)
    adv, ret = gae_advantages(rewards, values, mask, gamma=1.0, lam=1.0)
    assert torch.allclose(adv, T([[2.5, 1.0, 0.5]]))
    assert torch.allclose(ret, T([[3.0, 2.0, 2.0]]))


def test_ppo_losses_clip_by_hand():
    old = torch.zeros(1, 4)
    new = torch.log(T([[1.5, 0.5, 1.1, 10.0]])).requires_grad_(True)
    advantages = T([[1.0, -1.0, 2.0, 5.0]])
    values = T([[2.0, 0.0, 1.0, 9.0]]).requires_grad_(True)
    old_values, returns = T([[1.0, 0.1, 1.0, 0.0]]), T([[3.0, -1.0, 0.0, 0.0]])
    mask = T([[1.0, 1.0, 1.0, 0.0]])
    policy_loss, value_loss, stats = ppo_losses(new, old, advantages, values, old_values, returns, mask, 0.2, 0.2)
    # policy terms: max(-1.5, -1.2) = -1.2 (clipped), max(0.5, 0.8) = 0.8 (clipped), -2.2; token 4 masked
    assert policy_loss.item() == pytest.approx((-1.2 + 0.8 - 2.2) / 3)
    # value terms: max(1, (1.2 - 3)^2) = 3.24 (clipped), 1, 1
    assert value_loss.item() == pytest.approx(0.5 * (3.24 + 1 + 1) / 3)
    assert stats["policy_clip_fraction"] == pytest.approx(2 / 3)
    (policy_loss + value_loss).backward()
    # clipped tokens pass no gradient; the unclipped one gets -A * ratio / n
    assert torch.allclose(new.grad, T([[0.0, 0.0, -2.0 * 1.1 / 3, 0.0]]), atol=1e-6)
    assert values.grad[0, 0].item() == 0.0 and values.grad[0, 3].item() == 0.0


def test_kl_controllers():
    fixed = FixedKLController(0.3)
    fixed.update(50.0, 64)
    assert fixed.value == 0.3
    adaptive = AdaptiveKLController(0.3, target=6.0, horizon=100)
    adaptive.update(current_kl=3.0, n_episodes=10)  # error clip(0.5 - 1) = -0.2: beta * (1 - 0.02)
    assert adaptive.value == pytest.approx(0.3 * 0.98)
    adaptive.update(current_kl=6.3, n_episodes=100)  # error 0.05: beta * 1.05
    assert adaptive.value == pytest.approx(0.3 * 0.98 * 1.05)


@pytest.mark.parametrize(
    "field, value, message",
    [
        ("learning_rate", -1.0, "learning_rate must be > 0"),
        ("minibatch_size", 0, "minibatch_size must be a positive integer"),
        ("prompts_per_iteration", -4, "prompts_per_iteration must be a positive integer"),
        ("lam", 1.5, "lam must lie in [0, 1]"),
        ("kl_coef", -0.1, "kl_coef must be >= 0"),
        ("value_model", "tree", "value_model must be 'head' or 'separate'"),
        ("kl_threshold", -1.0, "kl_threshold must be > 0 or None"),
        ("kl_strikes", 0, "kl_strikes must be a positive integer"),
    ],
)
def test_config_rejects_bad_values(field, value, message):
    with pytest.raises(ValueError, match=message.replace("[", r"\[").replace("]", r"\]")):
        PPOConfig(**{field: value})


def test_config_defaults_are_the_papers():
    c = PPOConfig()
    assert (c.kl_coef, c.gamma, c.lam, c.clip_range, c.clip_range_value) == (0.3, 1.0, 0.95, 0.2, 0.2)
    assert (c.top_k, c.temperature, c.whiten_rewards, c.ppo_epochs, c.samples_per_prompt) == (20, 0.7, True, 4, 4)
    assert PPOConfig.from_dict(c.to_dict()) == c
    with pytest.raises(ValueError, match="unknown PPOConfig fields: bogus"):
        PPOConfig.from_dict({"bogus": 1})


# ---------------------------------------------------------------------------------------------- models


def test_actor_critic_logprobs_match_unpadded_forward():
    """Grouped prompts, left/right padding and the shared prompt cache change nothing."""
    from agents.algorithms.lm_rl import SequenceBatch, build_rollouts

    policy = tiny_policy()
    env = tiny_env()
    texts = [(0, " Mira Holt was born in 1950."), (0, " Mira."), (1, " Aldo Brenn."), (1, " Aldo was born in 1962 in Oslo.")]
    gens = [fixed_generation(policy, env.examples[i].prompt, text) for i, text in texts]
    records = [type("R", (), {"num_used_tokens": len(g.response_ids)})() for g in gens]
    rollouts = build_rollouts(gens, records, [np.zeros(len(g.response_ids)) for g in gens], 2, policy.pad_token_id)
    assert rollouts.batch.prompt_ids.shape[0] == 2  # one prompt pass per group
    ac = ActorCritic(policy.model)
    logprobs, values = ac(rollouts.batch)
    collated = plain_batch(policy.pad_token_id, gens)  # the plain layout: every row holds its own prompt
    assert torch.allclose(logprobs * collated.response_mask, plain_logprobs(policy.model, collated), atol=1e-5)
    assert torch.all(values == 0)  # the value head starts at 0
    for row, g in enumerate(gens):  # each row alone, no padding at all
        alone = SequenceBatch(torch.tensor([g.prompt_ids]), torch.ones(1, len(g.prompt_ids), dtype=torch.long),
                              torch.tensor([g.response_ids]), torch.ones(1, len(g.response_ids), dtype=torch.long), 1)
        assert torch.allclose(ac(alone)[0][0], logprobs[row, : len(g.response_ids)], atol=1e-5)
    subset = rollouts.batch.rows([1])  # a minibatch of the second group, padding trimmed
    assert torch.allclose(ac(subset)[0], logprobs[2:, : subset.response_ids.shape[1]], atol=1e-5)


def test_separate_value_model_has_its_own_trunk():
    policy = tiny_policy()
    ac = ActorCritic(policy.model, value_model="separate")
    assert ac.critic is not None and ac.critic is not policy.model
    policy_params = {id(p) for p in policy.model.parameters()}
    assert not policy_params & {id(p) for p in ac.critic.parameters()}


# ---------------------------------------------------------------------------------------------- end to end


def _trainer_with_fixed_answers(scheme: str, texts: list[str], max_sentences: int = 4, **config) -> FineGrainedPPO:
    policy = tiny_policy()
    env = get_scheme(scheme).wrap(tiny_env(max_sentences=max_sentences))
    settings = dict(prompts_per_iteration=1, samples_per_prompt=len(texts), minibatch_size=len(texts), max_new_tokens=16)
    settings.update(config)
    trainer = FineGrainedPPO(policy, env, PPOConfig(**settings), question_indices=[0])
    prompt = env.unwrapped.examples[0].prompt
    policy.generate = lambda prompts, **kw: [fixed_generation(policy, p, t) for p, t in zip(prompts, texts)]
    assert all(p == prompt for p in [prompt])
    return trainer


def _last_token_of(policy: LMPolicy, text: str, substring: str) -> int:
    """Index of the token that ends ``substring`` (its last character) in ``text``'s tokenisation."""
    end = text.index(substring) + len(substring)
    g = fixed_generation(policy, "", text)
    return next(i for i, e in enumerate(g.token_end_chars) if e >= end)


def test_rewards_land_on_the_segments_last_tokens():
    text = " Mira Holt was born in 1950. The weather was mild."
    trainer = _trainer_with_fixed_answers("fine-grained", [text])
    rollouts, _ = trainer.collect_rollouts()
    scores = rollouts.scores[0]
    first_end = _last_token_of(trainer.policy, text, "1950.")
    second_end = _last_token_of(trainer.policy, text, "mild.")
    eos = int(rollouts.mask[0].sum()) - 1
    assert eos == second_end + 1  # the eos token ends the answer and is trained on
    expected = torch.zeros_like(scores)
    expected[first_end] = 0.3 * 1 + 0.5 * 1  # relevant (+1) and grounded (+1)
    expected[second_end] = 0.3 * -1 + 0.5 * 1  # the weather is irrelevant (-1), but not a wrong fact
    expected[eos] = 0.3 * 1.0  # completeness: the answer names the year
    assert torch.allclose(scores, expected, atol=1e-6)
    assert torch.all(rollouts.mask[0, : eos + 1] == 1)


def test_holistic_reward_is_one_scalar_on_the_final_token():
    text = " Mira Holt was born in 1950. The weather was mild."
    trainer = _trainer_with_fixed_answers("holistic", [text])
    rollouts, _ = trainer.collect_rollouts()
    scores = rollouts.scores[0]
    eos = int(rollouts.mask[0].sum()) - 1
    assert scores.nonzero().flatten().tolist() == [eos]
    assert scores[eos].item() == pytest.approx(0.3 * (1 - 1) + 0.5 * (1 + 1) + 0.3 * 1)


def test_episode_density_moves_every_reward_to_the_end():
    text = " Mira Holt was born in 1950. The weather was mild."
    rollouts, _ = _trainer_with_fixed_answers("episode", [text]).collect_rollouts()
    scores = rollouts.scores[0]
    eos = int(rollouts.mask[0].sum()) - 1
    assert scores.nonzero().flatten().tolist() == [eos]
    assert scores[eos].item() == pytest.approx(1.3)  # same return as fine-grained, delivered at the end


def test_truncated_tokens_are_masked_and_get_no_reward():
    text = " Mira Holt was born in 1950. The weather was mild."
    trainer = _trainer_with_fixed_answers("fine-grained", [text], max_sentences=1)
    rollouts, _ = trainer.collect_rollouts()
    first_end = _last_token_of(trainer.policy, text, "1950.")
    assert rollouts.mask[0].tolist()[: first_end + 2] == [1.0] * (first_end + 1) + [0.0]
    # relevance + factuality + completeness all on the last token the env saw
    assert rollouts.scores[0].nonzero().flatten().tolist() == [first_end]
    assert rollouts.scores[0, first_end].item() == pytest.approx(0.3 + 0.5 + 0.3)


def test_padding_rows_get_no_reward_and_no_loss():
    texts = [" Mira Holt was born in 1950. The weather was mild.", " Mira."]
    trainer = _trainer_with_fixed_answers("fine-grained", texts)
    rollouts, _ = trainer.collect_rollouts()
    short = int(rollouts.mask[1].sum())
    assert short < rollouts.mask.shape[1]
    assert torch.all(rollouts.scores[1, short:] == 0) and torch.all(rollouts.mask[1, short:] == 0)
    stats = trainer.update(rollouts)
    assert stats["trained_tokens"] == int(rollouts.mask.sum())
    assert math.isfinite(stats["policy_loss"]) and math.isfinite(stats["value_loss"])


def test_short_ppo_run_raises_a_toy_reward():
    env = tiny_env(reward_models=[LetterShare("a")])
    config = PPOConfig(iterations=12, prompts_per_iteration=2, samples_per_prompt=4, minibatch_size=4,
                       max_new_tokens=10, learning_rate=1e-2, kl_coef=0.05, warmup_steps=0, seed=0,
                       kl_threshold=None)  # a random tiny model moves far from itself, by design
    metrics = FineGrainedPPO(tiny_policy(), env, config).train(progress=False)
    returns = [m["return"] for m in metrics]
    assert np.mean(returns[-4:]) > np.mean(returns[:2]) + 0.3, returns
    assert metrics[0]["kl"] == pytest.approx(0.0, abs=1e-5)  # the policy starts as its reference
    assert metrics[-1]["kl"] > 0


# ---------------------------------------------------------------------------------------------- checkpoints


def _small_config(iterations: int, **kw) -> PPOConfig:
    settings = dict(iterations=iterations, prompts_per_iteration=2, samples_per_prompt=2, minibatch_size=2,
                    max_new_tokens=8, learning_rate=1e-3, checkpoint_every=2, seed=3)
    settings.update(kw)
    return PPOConfig(**settings)


def test_resume_equals_an_uninterrupted_run(tmp_path):
    initial = save_tiny_policy(tmp_path / "initial")
    straight = FineGrainedPPO(LMPolicy.from_pretrained(initial), tiny_env(), _small_config(4))
    straight.train(tmp_path / "straight", progress=False)

    first = FineGrainedPPO(LMPolicy.from_pretrained(initial), tiny_env(), _small_config(2))
    first.train(tmp_path / "split", progress=False)  # "killed" after the checkpoint at iteration 2
    resumed = FineGrainedPPO(LMPolicy.from_pretrained(initial), tiny_env(), _small_config(4))
    resumed.load_checkpoint(tmp_path / "split" / "checkpoint.pt")
    assert resumed.iteration == 2
    resumed.train(tmp_path / "split", progress=False)

    a, b = straight.actor_critic.state_dict(), resumed.actor_critic.state_dict()
    assert a.keys() == b.keys()
    for key in a:
        assert torch.allclose(a[key], b[key], atol=1e-6, rtol=0), key
    for x, y in zip(straight.metrics, resumed.metrics):
        assert x["return"] == y["return"] and x["kl"] == pytest.approx(y["kl"], abs=1e-6)
    lines = (tmp_path / "split" / "metrics.jsonl").read_text().splitlines()
    assert len(lines) == 4  # the log holds each iteration once


def test_killed_then_resumed_run_equals_an_uninterrupted_one(tmp_path):
    import json

    initial = save_tiny_policy(tmp_path / "initial")
    straight = FineGrainedPPO(LMPolicy.from_pretrained(initial), tiny_env(), _small_config(4))
    straight.train(tmp_path / "straight", progress=False)

    class Kill(Exception):
        pass

    def kill_at_iteration_3(metrics):
        if metrics["iteration"] == 3:  # logged, but after the last checkpoint (iteration 2)
            raise Kill

    killed = FineGrainedPPO(LMPolicy.from_pretrained(initial), tiny_env(), _small_config(4))
    with pytest.raises(Kill):
        killed.train(tmp_path / "killed", progress=False, on_iteration=kill_at_iteration_3)
    assert len((tmp_path / "killed" / "metrics.jsonl").read_text().splitlines()) == 3

    resumed = FineGrainedPPO(LMPolicy.from_pretrained(initial), tiny_env(), _small_config(4))  # a fresh process
    resumed.load_checkpoint(tmp_path / "killed")
    assert resumed.iteration == 2
    resumed.train(tmp_path / "killed", progress=False)

    a, b = straight.actor_critic.state_dict(), resumed.actor_critic.state_dict()
    assert a.keys() == b.keys() and all(torch.allclose(a[k], b[k], atol=1e-6, rtol=0) for k in a)
    assert resumed.scheduler.last_epoch == straight.scheduler.last_epoch
    assert resumed.scheduler.get_last_lr() == straight.scheduler.get_last_lr()
    timeless = lambda rows: [{k: v for k, v in r.items() if not k.startswith("time") and k != "trained_tokens_per_second"} for r in rows]  # noqa: E731
    assert timeless(resumed.metrics) == timeless(straight.metrics)
    logged = [json.loads(line) for line in (tmp_path / "killed" / "metrics.jsonl").read_text().splitlines()]
    assert [r["iteration"] for r in logged] == [1, 2, 3, 4]  # iteration 3 of the killed run was dropped, then redone
    assert timeless(logged) == timeless(straight.metrics)


def test_kl_safeguard_stops_the_run_and_a_resume_stays_stopped(tmp_path):
    # A threshold of 1e-6 nats: every iteration after the first (where the policy is its reference) strikes.
    config = _small_config(10, learning_rate=1e-2, kl_threshold=1e-6, kl_strikes=2, checkpoint_every=0)
    trainer = FineGrainedPPO(tiny_policy(), tiny_env(), config)
    metrics = trainer.train(tmp_path / "run", progress=False)
    strikes = [m["iteration"] for m in metrics if m["kl"] > 1e-6]
    assert trainer.stopped_early and len(strikes) == 2 and metrics[-1]["iteration"] == strikes[-1] < 10
    checkpoint = load_checkpoint(tmp_path / "run" / "checkpoint.pt", "ppo")  # written at the stop
    assert checkpoint["progress"] == len(metrics)

    resumed = FineGrainedPPO(tiny_policy(), tiny_env(), config)
    resumed.load_checkpoint(tmp_path / "run" / "checkpoint.pt")
    assert resumed.stopped_early and len(resumed.train(progress=False)) == len(metrics)

    never = FineGrainedPPO(tiny_policy(), tiny_env(), _small_config(3, learning_rate=1e-2, kl_threshold=None))
    assert len(never.train(progress=False)) == 3 and not never.stopped_early


def test_checkpoint_errors_name_the_problem(tmp_path):
    with pytest.raises(CheckpointError, match="does not exist"):
        load_checkpoint(tmp_path / "nothing.pt")
    garbage = tmp_path / "garbage.pt"
    garbage.write_bytes(b"this is not a checkpoint")
    with pytest.raises(CheckpointError, match="corrupt"):
        load_checkpoint(garbage)

    trainer = FineGrainedPPO(tiny_policy(), tiny_env(), _small_config(1))
    path = trainer.save_checkpoint(tmp_path / "good.pt")
    truncated = tmp_path / "truncated.pt"
    truncated.write_bytes(path.read_bytes()[: path.stat().st_size // 2])
    with pytest.raises(CheckpointError, match="corrupt"):
        load_checkpoint(truncated)
    other = FineGrainedPPO(tiny_policy(), tiny_env(), _small_config(1, learning_rate=5e-4))
    with pytest.raises(CheckpointError, match="other settings .*learning_rate"):
        other.load_checkpoint(path)
    foreign = save_checkpoint(tmp_path / "foreign.pt", "sft", {k: v for k, v in load_checkpoint(path).items() if k not in ("format", "version", "kind")})
    with pytest.raises(CheckpointError, match="'sft' checkpoint, not a 'ppo' one"):
        trainer.load_checkpoint(foreign)
    reweighted = FineGrainedPPO(tiny_policy(), get_scheme("fine-grained").wrap(tiny_env(), [0.2, 0.7, 0.4]), _small_config(1))
    with pytest.raises(CheckpointError, match="reward weights"):
        reweighted.load_checkpoint(path)
    wider = PPOConfig(**{**_small_config(1).to_dict(), "value_model": "separate"})
    with pytest.raises(CheckpointError, match="other settings .*value_model"):
        FineGrainedPPO(tiny_policy(), tiny_env(), wider).load_checkpoint(path)
    assert not list(tmp_path.glob("*.tmp"))  # atomic writes leave no temporary files


# ---------------------------------------------------------------------------------------------- schemes


@pytest.mark.parametrize("scheme", sorted(SCHEMES))
def test_every_scheme_reward_equals_its_weighted_segments(scheme):
    env = get_scheme(scheme).wrap(tiny_env(), [0.2, 0.7, 0.4])
    env.reset(options={"index": 0})
    total = 0.0
    for action in (" Mira Holt was born in 1950.", " The weather was mild in 1999.", ""):
        _, reward, terminated, truncated, info = env.step(action)
        assert float(reward) == pytest.approx(sum(s["weight"] * s["value"] for s in info["segments"]), abs=1e-6)
        total += float(reward)
    assert terminated
    weights = segment_weights(env)
    assert all(w in (0.2, 0.7, 0.4, 1.0) or w == pytest.approx(0.2) or w == pytest.approx(0.7) or w == pytest.approx(0.4)
               for w in weights.values())
    dropped = scheme.removeprefix("no-") if scheme.startswith("no-") else None
    if dropped:
        assert dropped not in weights


def test_scheme_errors():
    with pytest.raises(UnknownChoiceError, match="unknown reward scheme 'dense'.*fine-grained"):
        get_scheme("dense")
    with pytest.raises(ValueError, match="needs 3 values, one per reward model"):
        get_scheme("fine-grained").wrap(tiny_env(), [0.3, 0.5])
    with pytest.raises(ValueError, match="finite"):
        resolve_weights([0.3, float("nan"), 0.3], ["a", "b", "c"])
    assert resolve_weights(None, ["relevance", "factuality", "completeness"]).tolist() == pytest.approx([0.3, 0.5, 0.3])
