"""The SB3 experiment: a tiny run end to end, resuming, refusing mixed settings, bad input."""

from __future__ import annotations

import json
import subprocess
import sys

import numpy as np
import pytest

pytest.importorskip("stable_baselines3")

from agents.experiments.sb3_compare import SB3CompareConfig, greedy_agent, make_view, random_agent, sb3_compare  # noqa: E402

TINY = SB3CompareConfig(timesteps=32, eval_every=16, eval_questions=2, num_candidates=4, feature_dim=16, workers=1)


@pytest.mark.slow
def test_tiny_experiment_writes_table_curves_and_resumes(tmp_path):
    result = sb3_compare(tmp_path, TINY, algorithms=["ppo"], seeds=[0, 1], progress=False)
    assert list(result["summary"]) == ["random", "greedy (one step)", "PPO fine-grained", "PPO holistic"]
    assert result["summary"]["PPO holistic"]["return"]["n"] == 2
    assert set(result["paired_fine_grained_minus_holistic"]["PPO"]) >= {"return", "completeness"}
    run = result["runs"]["ppo-holistic-seed1"]
    assert [p["timesteps"] for p in run["curve"]] == [0, 16, 32]
    table = (tmp_path / "results.md").read_text()
    assert "| PPO holistic |" in table and "paired t-test" in table
    assert (tmp_path / "learning_curves.png").stat().st_size > 10_000
    written = {p.name: p.stat().st_mtime_ns for p in (tmp_path / "runs").glob("*.json")}
    again = sb3_compare(tmp_path, TINY, algorithms=["ppo"], seeds=[0, 1], progress=False)
    assert {p.name: p.stat().st_mtime_ns for p in (tmp_path / "runs").glob("*.json")} == written  # nothing re-run
    assert json.dumps(again["summary"]) == json.dumps(result["summary"])  # NaN-safe: an empty answer has no ratio


def test_resuming_with_other_settings_is_refused(tmp_path):
    (tmp_path / "config.json").write_text(json.dumps({**TINY.to_dict(), "timesteps": 64}))
    with pytest.raises(ValueError, match="other settings \\(timesteps\\)"):
        sb3_compare(tmp_path, TINY, seeds=[0], progress=False)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"algorithms": ["sac"]}, "unknown algorithm 'sac'"),
        ({"rewards": ["dense"]}, "unknown reward arm 'dense'"),
        ({"seeds": [1, 1]}, "distinct"),
    ],
)
def test_bad_choices_are_named(tmp_path, kwargs, message):
    with pytest.raises(ValueError, match=message):
        sb3_compare(tmp_path, TINY, **{"seeds": [0], **kwargs}, progress=False)


def test_config_is_checked():
    with pytest.raises(ValueError, match="eval_every \\(5\\) must divide timesteps \\(32\\)"):
        SB3CompareConfig(timesteps=32, eval_every=5)
    with pytest.raises(ValueError, match="workers must be a positive integer"):
        SB3CompareConfig(workers=0)


def test_greedy_takes_the_best_immediate_reward_and_random_only_valid_actions():
    from fg_env.envs.vector import copy_env

    env = make_view(SB3CompareConfig(num_candidates=30), "fine-grained", "dev")
    obs, info = env.reset(seed=3, options={"index": 3})
    valid = [a for a in range(31) if env.get_wrapper_attr("action_masks")()[a]]
    rewards = {a: copy_env(env).step(a)[1] for a in valid}
    assert rewards[greedy_agent(obs, env)] == max(rewards.values())
    assert len(set(rewards.values())) > 1  # the choice is not trivial
    act = random_agent(0)
    assert {act(obs, env) for _ in range(200)} <= set(valid)


def test_command_line_reports_bad_input_in_one_line(tmp_path):
    done = subprocess.run(
        [sys.executable, "-m", "fg_env.cli", "sb3-compare", "--out", str(tmp_path), "--algorithms", "ppo,sac"],
        capture_output=True,
        text=True,
    )
    assert done.returncode == 2 and "unknown algorithm 'sac'" in done.stderr


@pytest.mark.parametrize("policy", ["candidate", "mlp"])
@pytest.mark.parametrize("algorithm", ["ppo", "maskable-ppo", "dqn"])
def test_every_algorithm_builds_with_either_policy_and_answers(algorithm, policy):
    from agents.experiments.sb3_compare import build_model, evaluate_agent, model_agent

    config = SB3CompareConfig(timesteps=64, eval_every=32, num_candidates=4, feature_dim=16, policy=policy)
    env = make_view(config, "fine-grained", "dev")
    model = build_model(config, algorithm, env, seed=0)
    expected = {
        ("ppo", "candidate"): ("PPO", "CandidateScoringPolicy"),
        ("maskable-ppo", "candidate"): ("MaskablePPO", "MaskableCandidateScoringPolicy"),
        ("dqn", "candidate"): ("DQN", "CandidateDQNPolicy"),
        ("ppo", "mlp"): ("PPO", "ActorCriticPolicy"),
        ("maskable-ppo", "mlp"): ("MaskablePPO", "MaskableActorCriticPolicy"),
        ("dqn", "mlp"): ("DQN", "DQNPolicy"),
    }[algorithm, policy]
    assert (type(model).__name__, type(model.policy).__name__) == expected
    metrics = evaluate_agent(model_agent(model), env, 2)
    assert metrics["irrelevant_per_answer"] == metrics["error_counts"].get("Irrelevant", 0) / 2
    assert {"return", "relevance_ratio", "completeness", "length"} <= set(metrics)


def test_bad_weights_and_policies_are_named():
    with pytest.raises(ValueError, match=r"weights must be three non-negative numbers .* got \(0.3, 0.5\)"):
        SB3CompareConfig(weights=(0.3, 0.5))
    with pytest.raises(ValueError, match="weights must be three non-negative numbers"):
        SB3CompareConfig(weights=(0.3, -0.5, 0.3))
    with pytest.raises(ValueError, match="unknown policy 'transformer'"):
        SB3CompareConfig(policy="transformer")
    assert SB3CompareConfig(weights=(1, 1, 0)).weights == (1.0, 1.0, 0.0)


def test_the_no_padding_weights_make_a_true_off_topic_sentence_net_zero():
    """Under the paper's weights a sentence with relevance -1 and factuality +1 earns +0.2 (padding pays);
    under NO_PADDING_WEIGHTS it earns 0, and a true relevant sentence still earns more than it."""
    from agents.experiments.sb3_compare import NO_PADDING_WEIGHTS, PAPER_WEIGHTS
    from fg_env.envs.vector import copy_env

    paper = make_view(SB3CompareConfig(weights=PAPER_WEIGHTS), "fine-grained", "dev")
    ablated = make_view(SB3CompareConfig(weights=NO_PADDING_WEIGHTS), "fine-grained", "dev")
    seen = {"padding": 0, "relevant": 0}
    for index in range(6):
        paper.reset(seed=index, options={"index": index})
        ablated.reset(seed=index, options={"index": index})
        for action in np.flatnonzero(paper.get_wrapper_attr("action_masks")())[:-1]:
            # the view under the weights: its reward vector (relevance, factuality, completeness) unweighted
            vector = np.asarray(copy_env(paper.env).step(int(action))[1])
            a, b = float(copy_env(paper).step(int(action))[1]), float(copy_env(ablated).step(int(action))[1])
            if vector.tolist() == [-1.0, 1.0, 0.0]:
                seen["padding"] += 1
                assert (round(a, 6), round(b, 6)) == (0.2, 0.0)
            elif vector.tolist() == [1.0, 1.0, 0.0]:
                seen["relevant"] += 1
                assert (round(a, 6), round(b, 6)) == (0.8, 1.0)
    assert seen["padding"] > 0 and seen["relevant"] > 0  # both kinds of sentence were tried
