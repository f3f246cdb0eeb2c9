"""The trainer registry: a second trainer added without touching the experiments, and run by ``fg-env train``
and ``fg-env compare``. The worked example of CONTRIBUTING's "Adding a trainer": REINFORCE with a group-mean
baseline (each answer's return minus the mean return of the answers to the same question, as GRPO's group
baseline), in a few dozen lines built from agents.algorithms.lm_rl."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np
import pytest
import torch
from _agents_tiny import save_tiny_policy

from agents.algorithms.lm_rl import forward_responses, logprobs_of, masked_mean, sample_rollouts
from agents.algorithms.registry import TRAINERS, TrainerEntry, get_trainer, register_trainer
from agents.experiments.run import RUN_KEY_VERSION
from fg_env.cli import main
from fg_env.envs.vector import FineGrainedVectorEnv
from fg_env.errors import CheckpointError, InvalidValueError


@dataclass
class ReinforceConfig:
    """REINFORCE's settings: each field is a flag of `fg-env train` and `compare` once registered."""

    iterations: int = field(default=2, metadata={"help": "Iterations: one batch of answers, one update."})
    prompts_per_iteration: int = field(default=1, metadata={"help": "Questions per iteration."})
    samples_per_prompt: int = field(default=2, metadata={"help": "Answers per question (the baseline's group)."})
    max_new_tokens: int = field(default=6, metadata={"help": "Longest answer in tokens."})
    learning_rate: float = field(default=1e-3, metadata={"help": "Adam step size."})
    baseline: bool = field(default=True, metadata={"help": "Subtract the group's mean return (off: plain REINFORCE)."})
    seed: int = field(default=0, metadata={"help": "Seeds question sampling and generation."})

    @property
    def episodes_per_iteration(self) -> int:
        return self.prompts_per_iteration * self.samples_per_prompt

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> ReinforceConfig:
        return cls(**data)


class GroupReinforce:
    """Sample k answers per question, replay them for their rewards, and raise the log-probability of each
    answer in proportion to its return minus its group's mean."""

    def __init__(self, policy, env, config: ReinforceConfig, *, exact_env=None, processes=None) -> None:
        self.policy, self.env, self.config = policy, env, config
        self.vector_env = FineGrainedVectorEnv.from_env(env, config.episodes_per_iteration)
        self.rng = np.random.default_rng(config.seed)
        policy.model.eval()  # dropout off: the log-probs trained on are those sampled with
        self.optimizer = torch.optim.Adam(policy.model.parameters(), lr=config.learning_rate)
        self.metrics: list[dict[str, Any]] = []

    def train(self, out_dir=None, *, progress=True, on_iteration=None, report_to=()) -> list[dict[str, Any]]:
        config, k, examples = self.config, self.config.samples_per_prompt, self.env.unwrapped.examples
        while len(self.metrics) < config.iterations:
            indices = [int(q) for q in self.rng.choice(len(examples), config.prompts_per_iteration) for _ in range(k)]
            rollouts, _, _ = sample_rollouts(
                self.policy, self.vector_env, [examples[i].prompt for i in indices], indices, group_size=k,
                max_new_tokens=config.max_new_tokens, seed=int(self.rng.integers(2**31 - 1)),
            )
            returns = rollouts.scores.sum(-1)  # each answer's weighted return
            baseline = returns.view(-1, k).mean(-1).repeat_interleave(k) if config.baseline else 0.0
            logits, _ = forward_responses(self.policy.model, rollouts.batch)
            logprobs = logprobs_of(logits, rollouts.batch.response_ids)
            loss = -masked_mean((returns - baseline)[:, None] * logprobs, rollouts.mask)
            self.optimizer.zero_grad()
            loss.backward()
            self.optimizer.step()
            iteration = len(self.metrics) + 1
            episodes = iteration * config.episodes_per_iteration
            self.metrics.append({"iteration": iteration, "episodes": episodes, "return": float(returns.mean())})
            if on_iteration is not None:
                on_iteration(self.metrics[-1])
        return self.metrics

    def load_checkpoint(self, path) -> None:
        raise CheckpointError("GroupReinforce keeps no checkpoints")

    def save_policy(self, path) -> None:
        self.policy.save_pretrained(path)


@pytest.fixture
def reinforce():
    entry = register_trainer(TrainerEntry("reinforce", "REINFORCE, group-mean baseline", ReinforceConfig, GroupReinforce))
    yield entry
    del TRAINERS["reinforce"]


def test_a_trainer_is_found_by_name_and_checked_when_registered(reinforce):
    assert get_trainer("reinforce") is reinforce and list(TRAINERS)[:2] == ["ppo", "reinforce"]
    with pytest.raises(InvalidValueError, match="already registered"):
        register_trainer(reinforce)
    with pytest.raises(InvalidValueError, match="its settings must be a dataclass"):
        TrainerEntry("bad", "", dict, GroupReinforce)


@pytest.mark.slow
def test_train_and_compare_run_a_registered_trainer(reinforce, tmp_path, capsys):
    policy = save_tiny_policy(tmp_path / "tiny-policy")
    tiny = ["--policy", str(policy), "--trainer", "reinforce", "--eval-questions", "2", "--no-progress"]
    out = tmp_path / "run"
    assert main(["train", "--out", str(out), "--no-baseline", "--iterations", "2", "--max-new-tokens", "6", *tiny]) == 0
    record = json.loads((out / "run.json").read_text())
    assert record["trainer"] == "reinforce" and record["version"] == RUN_KEY_VERSION
    # The preset sizes it by the fields it shares with PPO's (its minibatch_size is left out), flags override it.
    expected = ReinforceConfig(iterations=2, prompts_per_iteration=4, samples_per_prompt=4, max_new_tokens=6, baseline=False)
    assert record["config"] == expected.to_dict()
    assert [point["episodes"] for point in json.loads((out / "result.json").read_text())["curve"]] == [16, 32]
    assert (out / "policy" / "config.json").is_file()
    # A setting of another trainer is refused, naming it.
    assert main(["train", "--out", str(tmp_path / "other"), "--kl-coef", "0.1", *tiny]) == 2
    assert "--kl-coef: not a setting of the reinforce trainer" in capsys.readouterr().err

    compared = tmp_path / "compare"
    assert main(["compare", "--out", str(compared), "--seeds", "0,1", "--iterations", "2", "--max-new-tokens", "6",
                 "--prompts-per-iteration", "1", "--no-random-baseline", *tiny]) == 0
    results = json.loads((compared / "results.json").read_text())
    assert set(results["summary"]) == {"SFT", "REINFORCE fine-grained", "REINFORCE holistic"}
    assert results["config"]["trainer"] == "reinforce" and "reinforce" in results["config"]
    assert "fine-grained vs holistic" in results["paired"]
    assert "REINFORCE: 8 episodes per run" in (compared / "results.md").read_text()  # 2 x 1 question x 4 answers
