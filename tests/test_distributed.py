"""Data-parallel PPO under accelerate, on the CPU: two processes take the step one process takes on the
same global batch, a two-process training runs to the end and resumes, and bad launches stop at once.

On CPUs, accelerate 1.x starts several processes with ``accelerate launch --multi_gpu --num_processes N``
(torchrun underneath; ``--cpu`` with several processes needs MPI), and the trainer uses gloo.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import torch
from _agents_tiny import save_tiny_policy
from safetensors.torch import load_file

from agents.algorithms.distributed import Processes, current_processes, split_evenly
from agents.algorithms.ppo import PPOConfig, process_shares

HERE = Path(__file__).parent
LAUNCH = [sys.executable, "-m", "accelerate.commands.launch", "--multi_gpu", "--num_processes", "2",
          "--num_machines", "1", "--mixed_precision", "no", "--dynamo_backend", "no", "--main_process_port", "0"]
TINY_TRAIN = ["--prompts-per-iteration", "2", "--samples-per-prompt", "2", "--minibatch-size", "4",
              "--max-new-tokens", "8", "--eval-questions", "2", "--checkpoint-every", "1", "--no-progress"]


def _env() -> dict[str, str]:
    return {**os.environ, "HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1", "PYTHONPATH": str(HERE.parent)}


def _run(argv: list[str], timeout: int = 240) -> subprocess.CompletedProcess:
    return subprocess.run(argv, capture_output=True, text=True, env=_env(), timeout=timeout, cwd=HERE.parent)


def _why(done: subprocess.CompletedProcess) -> str:
    """What a failed launch said: every line naming an error or an abort (a rank's own message comes long
    before the launcher's summary), then the end of its output."""
    lines = done.stderr.splitlines()
    said = [line for line in lines if any(word in line for word in ("Error", "error", "terminate", "what()", "Abort"))]
    return "\n".join(said[:40]) + "\n...\n" + "\n".join(lines[-25:])


# ---------------------------------------------------------------------------------------- one process


def test_one_process_collectives_are_the_identity():
    processes = current_processes()
    assert processes == Processes() and processes.is_main and not processes.distributed
    grad = torch.nn.Parameter(torch.ones(2))
    grad.grad = torch.tensor([1.0, 2.0])
    processes.sum_gradients([grad])
    assert grad.grad.tolist() == [1.0, 2.0]
    assert processes.gather({"a": 1}) == [{"a": 1}]


def test_the_global_batch_must_split_evenly():
    two = Processes(count=2, index=1)
    assert process_shares(PPOConfig(prompts_per_iteration=4, samples_per_prompt=4, minibatch_size=16), two) == (2, 2)
    with pytest.raises(ValueError, match=r"prompts_per_iteration \(3\) must be divisible by the number of processes \(2\)"):
        process_shares(PPOConfig(prompts_per_iteration=3), two)
    with pytest.raises(ValueError, match=r"minibatch_size // samples_per_prompt \(prompts per minibatch\) \(1\)"):
        process_shares(PPOConfig(prompts_per_iteration=4, samples_per_prompt=4, minibatch_size=4), two)
    assert split_evenly(6, Processes(count=3, index=2), "x") == 2


# ---------------------------------------------------------------------------------------- two processes


@pytest.mark.slow
def test_two_processes_take_the_same_update_as_one(tmp_path):
    policy = save_tiny_policy(tmp_path / "policy")
    script = str(HERE / "distributed" / "one_update.py")
    one, two = tmp_path / "one.pt", tmp_path / "two.pt"
    done = _run([sys.executable, script, str(policy), str(one)])
    assert done.returncode == 0, _why(done)
    done = _run([*LAUNCH, script, str(policy), str(two)])
    assert done.returncode == 0, _why(done)
    a, b = torch.load(one), torch.load(two)
    assert (a["processes"], b["processes"]) == (1, 2)
    start = {f"policy.{k}": v for k, v in load_file(policy / "model.safetensors").items()}
    moved = max((a["parameters"][k] - start[k]).abs().max().item() for k in start if k in a["parameters"])
    assert moved > 1e-3  # the update is large enough for the comparison to mean something
    for name, value in a["parameters"].items():
        assert torch.allclose(value, b["parameters"][name], atol=1e-5, rtol=0), name
    assert b["kl"] == pytest.approx(a["kl"], abs=1e-5)


@pytest.mark.slow
def test_a_two_process_training_runs_to_the_end_and_resumes(tmp_path):
    policy = save_tiny_policy(tmp_path / "policy")
    out = tmp_path / "run"
    train = [*LAUNCH, "-m", "fg_env.cli", "train", "--policy", str(policy), "--out", str(out), *TINY_TRAIN]
    done = _run([*train, "--iterations", "2"])
    assert done.returncode == 0, done.stderr[-3000:]
    assert done.stdout.count("trained policy:") == 1  # the main process alone reports
    record = json.loads((out / "run.json").read_text())
    assert (record["processes"], record["global_batch"], record["per_process_batch"]) == (2, 4, 2)
    rows = [json.loads(line) for line in (out / "metrics.jsonl").read_text().splitlines()]
    assert [r["episodes"] for r in rows] == [4, 8]  # global episodes, written once
    assert (out / "policy" / "config.json").is_file() and (out / "result.json").is_file()

    done = _run([*train, "--iterations", "3", "--resume"])
    assert done.returncode == 0, done.stderr[-3000:]
    rows = [json.loads(line) for line in (out / "metrics.jsonl").read_text().splitlines()]
    assert [r["iteration"] for r in rows] == [1, 2, 3]

    # one process cannot continue the two processes' sampling
    done = _run([sys.executable, "-m", "fg_env.cli", "train", "--policy", str(policy), "--out", str(out), *TINY_TRAIN,
                 "--iterations", "4", "--resume"])
    assert done.returncode == 2 and "resume it with the same number, not 1" in done.stderr


@pytest.mark.slow
def test_bad_launches_stop_before_training(tmp_path):
    policy = save_tiny_policy(tmp_path / "policy")
    done = _run([*LAUNCH, "-m", "fg_env.cli", "train", "--policy", str(policy), "--out", str(tmp_path / "r"),
                 *TINY_TRAIN, "--prompts-per-iteration", "3"])
    assert done.returncode != 0
    assert "prompts_per_iteration (3) must be divisible by the number of processes (2)" in done.stderr
    assert not (tmp_path / "r" / "metrics.jsonl").exists()
    done = _run([*LAUNCH, "-m", "fg_env.cli", "compare", "--policy", str(policy), "--out", str(tmp_path / "c")])
    assert done.returncode != 0 and "runs in one process" in done.stderr
