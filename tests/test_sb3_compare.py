"""The SB3 experiment: a tiny run end to end, resuming, refusing mixed settings, bad input."""

from __future__ import annotations

import json
import subprocess
import sys

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
    assert again["summary"] == json.loads(json.dumps(result["summary"]))


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
