"""examples/verl: the dataset script runs on the CPU; the PPO script's config is one verl 0.9 accepts.

The GPU run itself is not tested (examples/verl/README.md says it is unmeasured). What can be checked
without a GPU is: the parquet the data script writes (read back, and through verl's own RLHFDataset when
verl is installed), and the command run_ppo.sh builds: Hydra composes it against verl's ppo_trainer.yaml,
every key it sets exists there, and the agent loops it names resolve.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

import fg_env  # noqa: F401 - registers the environments
from fg_env.integrations.verl import TokenRewardScorer, dataset_rows

EXAMPLES = Path(__file__).resolve().parent.parent / "examples" / "verl"
ROOT = EXAMPLES.parent.parent


def run_prepare(out: Path, *args: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")])}
    return subprocess.run(
        [sys.executable, str(EXAMPLES / "prepare_data.py"), "--out", str(out), *args],
        capture_output=True, text=True, env=env, check=True, timeout=300,
    )


def test_prepare_data_writes_verls_parquet(tmp_path):
    result = run_prepare(tmp_path, "--limit", "3", "--splits", "train", "dev")
    assert "train.parquet: 3 questions" in result.stdout and "dev.parquet: 3 questions" in result.stdout
    for split in ("train", "dev"):
        frame = pd.read_parquet(tmp_path / f"{split}.parquet")
        assert list(frame.columns) == ["data_source", "prompt", "ability", "reward_model", "extra_info"]
        assert len(frame) == 3 and set(frame["data_source"]) == {"fg_env/synthetic"}
        expected = dataset_rows("synthetic", split, limit=3)
        for row, want in zip(frame.itertuples(), expected):
            assert [dict(m) for m in row.prompt] == want["prompt"]
            assert dict(row.extra_info) == want["extra_info"] and row.extra_info["split"] == split
            assert row.prompt[-1]["content"].startswith("question: ") and row.prompt[-1]["content"].endswith("answer:")
            assert row.reward_model["ground_truth"]


def test_the_ids_written_are_what_the_reward_code_reads(tmp_path):
    run_prepare(tmp_path, "--limit", "2", "--splits", "dev", "--no-instruction")
    frame = pd.read_parquet(tmp_path / "dev.parquet")
    assert [[m["role"] for m in p] for p in frame["prompt"]] == [["user"], ["user"]]
    from agents.policies.tokenizer import train_tokenizer

    scorer = TokenRewardScorer(train_tokenizer(["The sky is green."] * 5, vocab_size=270))
    gold = scorer.examples("dev")[0].references[0]
    ids = scorer.tokenizer(" " + gold, add_special_tokens=False).input_ids
    scored = scorer.score([ids, ids], [dict(e) for e in frame["extra_info"]])  # the first is its own question
    assert scored.component_returns[0, 2] > scored.component_returns[1, 2]  # complete for q0, not for q1


def test_prepare_data_refuses_a_bad_limit(tmp_path):
    with pytest.raises(subprocess.CalledProcessError) as failure:
        run_prepare(tmp_path, "--limit", "-1")
    assert "limit must be a non-negative integer, got -1" in failure.value.stderr


def test_run_ppo_refuses_an_unknown_mode():
    result = subprocess.run(["bash", str(EXAMPLES / "run_ppo.sh"), "dense"], capture_output=True, text=True, timeout=60)
    assert result.returncode == 2 and "mode must be fine_grained or holistic, got 'dense'" in result.stderr


# ---------------------------------------------------------------------------------------------- with verl


def run_ppo_arguments(tmp_path: Path, mode: str, model: str) -> list[str]:
    """The arguments run_ppo.sh gives ``python3 -m verl.trainer.main_ppo`` (a stand-in python3 records them)."""
    bin_dir, record = tmp_path / "bin", tmp_path / f"args-{mode}.txt"
    bin_dir.mkdir(exist_ok=True)
    fake = bin_dir / "python3"
    fake.write_text(f'#!/usr/bin/env bash\nprintf "%s\\n" "$@" > "{record}"\n')
    fake.chmod(0o755)
    data = tmp_path / "data"
    data.mkdir(exist_ok=True)
    (data / "train.parquet").touch()
    (data / "dev.parquet").touch()
    env = {**os.environ, "PATH": f"{bin_dir}{os.pathsep}{os.environ['PATH']}", "DATA": str(data)}
    subprocess.run(["bash", str(EXAMPLES / "run_ppo.sh"), mode, model], env=env, check=True, timeout=60)
    return record.read_text().splitlines()


def leaves(config, prefix: str = "") -> list[str]:
    from omegaconf import DictConfig

    out = []
    for key, value in config.items():
        name = f"{prefix}{key}"
        out += leaves(value, name + ".") if isinstance(value, DictConfig) else [name]
    return out


@pytest.mark.parametrize("mode, loop", [("fine_grained", "fine_grained"), ("holistic", "fine_grained_holistic")])
def test_run_ppo_config_is_one_verl_accepts(tmp_path, mode, loop):
    pytest.importorskip("verl")
    from hydra import compose, initialize_config_dir
    from hydra.utils import get_class
    from omegaconf import OmegaConf

    import verl.trainer.config as verl_config

    from agents.testing import tiny_policy

    model = tmp_path / "model"  # verl reads the model's config and tokenizer when it checks the config
    tiny_policy().save_pretrained(model)
    args = run_ppo_arguments(tmp_path, mode, str(model))
    assert args[:2] == ["-m", "verl.trainer.main_ppo"]
    assert args[args.index("--config-path") + 1] == str(EXAMPLES) and args[args.index("--config-name") + 1] == "fine_grained_ppo"
    overrides = [a for a in args[2:] if "=" in a]
    with initialize_config_dir(config_dir=str(EXAMPLES), version_base=None):
        config = compose("fine_grained_ppo", overrides=overrides)  # an unknown key in an override fails here
    assert config.actor_rollout_ref.model.path == config.critic.model.path == str(model)
    assert config.algorithm.adv_estimator == "gae" and config.trainer.use_v1
    assert config.actor_rollout_ref.rollout.agent.default_agent_loop == loop
    assert config.trainer.experiment_name == mode

    # Every key the example sets is one of verl's own (a misspelt key would be silently added by the merge).
    reference = OmegaConf.load(Path(verl_config.__file__).parent / "_generated_ppo_trainer.yaml")
    ours = OmegaConf.load(EXAMPLES / "fine_grained_ppo.yaml")
    def exists(key: str) -> bool:  # a value verl leaves mandatory (???) exists too
        parent, _, leaf = key.rpartition(".")
        node = OmegaConf.select(reference, parent) if parent else reference
        return node is not None and leaf in node.keys()

    assert [k for k in leaves(ours) if not k.startswith(("hydra.", "defaults")) and not exists(k)] == []

    loops = OmegaConf.load(config.actor_rollout_ref.rollout.agent.agent_loop_config_path)
    entry = {e.name: e for e in loops}[loop]
    assert get_class(entry._target_).__name__ == "FineGrainedAgentLoop"
    assert entry.mode == mode

    from verl.trainer.ppo.utils import need_critic, need_reference_policy
    from verl.utils.config import validate_config

    OmegaConf.resolve(config)
    validate_config(config, use_reference_policy=need_reference_policy(config), use_critic=need_critic(config))


def test_verls_dataset_carries_the_question_ids(tmp_path):
    pytest.importorskip("verl")
    from omegaconf import OmegaConf
    from verl.utils.dataset.rl_dataset import RLHFDataset

    from agents.policies.tokenizer import train_tokenizer

    run_prepare(tmp_path, "--limit", "2", "--splits", "dev")
    tokenizer = train_tokenizer(["The sky is green."] * 5, vocab_size=270)
    tokenizer.chat_template = "{% for m in messages %}{{ m['content'] }}{% endfor %}"
    config = OmegaConf.create({"max_prompt_length": 4096, "filter_overlong_prompts": False, "cache_dir": str(tmp_path)})
    dataset = RLHFDataset(str(tmp_path / "dev.parquet"), tokenizer, config)
    row = dataset[1]
    assert row["extra_info"]["example_id"] == "synthetic-dev-00001" and row["extra_info"]["split"] == "dev"
    assert row["index"] == 1 and row["raw_prompt"][-1]["role"] == "user"
