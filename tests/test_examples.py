"""The examples run as their docstrings say (with small budgets): they are documentation that must not rot."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"


def run_example(name: str, *args: str) -> str:
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1", "MPLBACKEND": "Agg"}
    done = subprocess.run(
        [sys.executable, str(EXAMPLES / name), *args], capture_output=True, text=True, env=env, timeout=300
    )
    assert done.returncode == 0, done.stderr[-3000:]
    return done.stdout


@pytest.mark.slow
def test_vector_env_example():
    assert "rewards" in run_example("vector_env.py").lower()


@pytest.mark.slow
def test_sb3_ppo_example():
    pytest.importorskip("sb3_contrib")
    out = run_example("sb3_ppo.py", "--timesteps", "128", "--questions", "3")
    assert "actions: Discrete(25), observation: (6777,)" in out
    assert all(f"\n{name} " in out for name in ("random", "PPO", "MaskablePPO"))


@pytest.mark.slow
def test_trl_grpo_example(tmp_path):
    pytest.importorskip("trl")
    out = run_example("trl_grpo.py", "--steps", "1", "--questions", "2", "--out", str(tmp_path))
    assert "relevance" in out and "factuality" in out and "completeness" in out
