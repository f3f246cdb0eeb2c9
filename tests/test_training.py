"""The shared training skeleton (fg_env.training) and checkpoint format (fg_env.checkpoint): parameter groups,
transformers' schedules against the hand-rolled ones they replace, RNG capture, checkpoints loaded with
weights_only=True, and a generic kill-then-resume."""

from __future__ import annotations

import math
import pickle
import random

import numpy as np
import pytest
import torch
from torch import nn

from fg_env import checkpoint as ckpt
from fg_env.checkpoint import CHECKPOINT_NAME, CheckpointError, check_settings, load_checkpoint, save_checkpoint
from fg_env.training import (
    append_log,
    capture_rng,
    make_schedule,
    parameter_groups,
    read_log,
    restart_log,
    restore_rng,
    restore_training_state,
    training_state,
)

# ---------------------------------------------------------------------------------------------- the schedules replaced
# Verbatim from the trainers before the skeleton (agents/algorithms/ppo.py, agents/policies/sft.py `_lr_factor`,
# fg_env/rewards/learned/train.py `_schedule`): the factor of update `step`, counting from 0.


def old_ppo(step: int, warmup: int) -> float:
    return min(1.0, (step + 1) / (warmup + 1))


def old_sft(step: int, total: int, warmup: int) -> float:
    if step < warmup:
        return (step + 1) / warmup
    progress = (step - warmup) / max(total - warmup, 1)
    return 0.1 + 0.9 * 0.5 * (1.0 + math.cos(math.pi * min(progress, 1.0)))


def old_rm(step: int, total: int, warmup: int) -> float:
    if step < warmup:
        return (step + 1) / warmup
    return max(0.0, (total - step) / max(1, total - warmup))


def factors(schedule: torch.optim.lr_scheduler.LambdaLR, steps: int) -> list[float]:
    """The factor each of ``steps`` updates runs at, stepping the schedule as a trainer does."""
    optimizer, out = schedule.optimizer, []
    base = schedule.base_lrs[0]
    for _ in range(steps):
        out.append(optimizer.param_groups[0]["lr"] / base)
        optimizer.step()
        schedule.step()
    return out


def fresh_optimizer(lr: float = 1.0) -> torch.optim.Optimizer:
    return torch.optim.SGD([nn.Parameter(torch.zeros(1))], lr=lr)


@pytest.mark.parametrize("warmup", [0, 1, 10, 100])
def test_ppo_schedule_is_bit_for_bit_the_old_one(warmup):
    schedule = make_schedule("constant_with_warmup", fresh_optimizer(2e-5), warmup + 1)
    optimizer = schedule.optimizer
    for step in range(200):
        assert optimizer.param_groups[0]["lr"] == 2e-5 * old_ppo(step, warmup), step  # exact, not approx
        optimizer.step()
        schedule.step()


def test_sft_keeps_its_own_schedule_bit_for_bit():
    """transformers has no schedule that holds the peak for two updates, as the default policy's did."""
    from agents.policies.sft import SFTConfig, _optimiser_and_schedule

    total = 4 * 125  # the default build: 4 epochs x 125 steps, 5% warm-up
    optimizer, schedule = _optimiser_and_schedule(nn.Linear(2, 2), SFTConfig(learning_rate=1.0), total)
    new = factors(schedule, total)
    assert new == [old_sft(step, total, 25) for step in range(total)]  # exact, not approx
    # transformers' closest, read one step ahead, is not the same schedule:
    closest = factors(make_schedule("cosine_with_min_lr", fresh_optimizer(), 25, total + 1, min_lr_rate=0.1), total)
    assert 1e-3 < max(abs(a - b) for a, b in zip(closest, new)) < 1.8e-3


@pytest.mark.parametrize("total, ratio", [(6, 0.0), (30, 0.1), (300, 0.1), (1503, 0.1), (40, 0.5)])
def test_reward_model_schedule_is_the_old_one_up_to_rounding(total, ratio):
    warmup = int(ratio * total)
    schedule = make_schedule("warmup_stable_decay", fresh_optimizer(), warmup, num_stable_steps=1,
                             num_decay_steps=total - warmup, decay_type="linear")
    new = factors(schedule, total)
    old = [old_rm(step, total, warmup) for step in range(total)]
    assert max(abs(a - b) for a, b in zip(new, old)) < 1e-15


def test_schedules_start_above_zero_and_resume_from_their_state(tmp_path):
    schedule = make_schedule("linear", fresh_optimizer(), 4, 20)
    straight = factors(schedule, 20)
    assert straight[0] == 0.25  # transformers' own first factor is 0: a wasted update

    first = make_schedule("linear", fresh_optimizer(), 4, 20)
    head = factors(first, 7)
    torch.save(first.state_dict(), tmp_path / "s.pt")
    second = make_schedule("linear", fresh_optimizer(), 4, 20)
    second.load_state_dict(torch.load(tmp_path / "s.pt", weights_only=True))
    second.optimizer.param_groups[0]["lr"] = second.get_last_lr()[0]  # the optimiser's state carries the rate
    assert head + factors(second, 13) == straight

    with pytest.raises(ValueError, match="step schedule"):
        make_schedule("reduce_lr_on_plateau", fresh_optimizer(), 0)


# ---------------------------------------------------------------------------------------------- parameter groups


def test_parameter_groups_are_the_old_split_in_the_old_order():
    torch.manual_seed(0)
    model = nn.Sequential(nn.Embedding(5, 4), nn.Linear(4, 4), nn.LayerNorm(4), nn.Linear(4, 2))
    model[3].bias.requires_grad_(False)
    groups = parameter_groups(model, 0.01)
    assert [g["weight_decay"] for g in groups] == [0.01, 0.0]
    # what SFT and the reward-model trainer did by hand (frozen parameters excepted)
    assert [id(p) for p in groups[0]["params"]] == [id(p) for _, p in model.named_parameters() if p.dim() >= 2]
    assert [id(p) for p in groups[1]["params"]] == [id(p) for _, p in model.named_parameters() if p.dim() < 2 and p.requires_grad]


# ---------------------------------------------------------------------------------------------- random state


def test_rng_capture_round_trips_through_a_weights_only_file(tmp_path):
    generators = (np.random.default_rng(1), np.random.Generator(np.random.MT19937(2)), random.Random(3), torch.Generator().manual_seed(4))

    def draw():
        numpy_pcg, numpy_mt, python, torch_gen = generators
        return (torch.rand(2).tolist(), np.random.rand(2).tolist(), random.random(), numpy_pcg.random(),
                numpy_mt.random(), python.random(), torch.rand(1, generator=torch_gen).item())

    draw()  # move every generator off its seed
    torch.save(capture_rng(*generators), tmp_path / "rng.pt")
    expected = draw()
    draw()
    restore_rng(torch.load(tmp_path / "rng.pt", weights_only=True), *generators)
    assert draw() == expected

    state = capture_rng(generators[0])
    with pytest.raises(ValueError, match="holds 1 generators, but 2"):
        restore_rng(state, *generators[:2])
    with pytest.raises(ValueError, match="cannot restore a Random"):
        restore_rng(state, random.Random())
    with pytest.raises(TypeError, match="cannot capture"):
        capture_rng(object())


# ---------------------------------------------------------------------------------------------- checkpoint format


def minimal_state(**extra) -> dict:
    return dict(config={"lr": 0.1}, progress=3, model={"w": torch.ones(2)}, optimizer={}, scheduler={},
                rng=capture_rng(), metrics=[{"loss": 1.0}], **extra)


@pytest.mark.parametrize("kind", ckpt.KINDS)
def test_checkpoint_round_trip(tmp_path, kind):
    path = save_checkpoint(tmp_path / "run", kind, minimal_state(note="extra entries are kept"))  # a new path: a file
    data = load_checkpoint(path, kind)
    assert data["format"] == ckpt.FORMAT and data["version"] == ckpt.VERSION and data["kind"] == kind
    assert data["progress"] == 3 and torch.equal(data["model"]["w"], torch.ones(2)) and data["note"] == "extra entries are kept"
    folder = tmp_path / "folder"
    folder.mkdir()
    assert save_checkpoint(folder, kind, minimal_state()) == folder / CHECKPOINT_NAME  # a folder gets checkpoint.pt
    assert load_checkpoint(folder, kind)["progress"] == 3 and load_checkpoint(folder)["kind"] == kind
    assert not list(tmp_path.rglob("*.tmp"))  # atomic writes leave no temporary files


def test_checkpoint_errors_name_the_file_and_the_problem(tmp_path):
    with pytest.raises(CheckpointError, match=r"'.*nothing\.pt' does not exist"):
        load_checkpoint(tmp_path / "nothing.pt")
    garbage = tmp_path / "garbage.pt"
    garbage.write_bytes(b"this is not a checkpoint")
    with pytest.raises(CheckpointError, match=r"garbage\.pt' is corrupt"):
        load_checkpoint(garbage)
    good = save_checkpoint(tmp_path / "good.pt", "sft", minimal_state())
    truncated = tmp_path / "truncated.pt"
    truncated.write_bytes(good.read_bytes()[: good.stat().st_size // 2])
    with pytest.raises(CheckpointError, match=r"truncated\.pt' is corrupt"):
        load_checkpoint(truncated)
    with pytest.raises(CheckpointError, match=r"good\.pt' is a 'sft' checkpoint, not a 'ppo' one"):
        load_checkpoint(good, "ppo")

    raw = torch.load(good, weights_only=True)
    torch.save({**raw, "version": ckpt.VERSION + 1}, tmp_path / "future.pt")
    with pytest.raises(CheckpointError, match=rf"future\.pt' has format version {ckpt.VERSION + 1}; this code reads version {ckpt.VERSION}"):
        load_checkpoint(tmp_path / "future.pt")
    torch.save({**raw, "format": "fg_env.agents.algorithms.ppo-checkpoint"}, tmp_path / "old.pt")  # the PPO-only format before
    with pytest.raises(CheckpointError, match=r"old\.pt' is not an fg_env checkpoint"):
        load_checkpoint(tmp_path / "old.pt")
    torch.save({k: v for k, v in raw.items() if k != "optimizer"}, tmp_path / "partial.pt")
    with pytest.raises(CheckpointError, match=r"partial\.pt' is incomplete: missing optimizer"):
        load_checkpoint(tmp_path / "partial.pt")
    torch.save([1, 2], tmp_path / "list.pt")
    with pytest.raises(CheckpointError, match="not an fg_env checkpoint"):
        load_checkpoint(tmp_path / "list.pt")

    with pytest.raises(ValueError, match="kind must be one of"):
        save_checkpoint(tmp_path / "x.pt", "dpo", minimal_state())
    with pytest.raises(ValueError, match="needs rng"):
        save_checkpoint(tmp_path / "x.pt", "ppo", {k: v for k, v in minimal_state().items() if k != "rng"})


class Payload:
    """An arbitrary object: unpickling it could run any code, so weights_only loading must refuse it."""

    def __reduce__(self):
        return (print, ("this ran on load",))


def test_checkpoints_load_with_weights_only(tmp_path, capsys):
    path = tmp_path / "evil.pt"
    torch.save({**minimal_state(), "format": ckpt.FORMAT, "version": ckpt.VERSION, "kind": "ppo", "x": Payload()}, path)
    with pytest.raises(CheckpointError, match=r"evil\.pt' is corrupt or not a checkpoint \(UnpicklingError"):
        load_checkpoint(path, "ppo")
    assert "this ran on load" not in capsys.readouterr().out
    assert isinstance(pickle.dumps(Payload()), bytes)  # a plain pickle would have run it


def test_check_settings_names_what_differs():
    check_settings("c.pt", {"lr": 0.1, "epochs": 2}, {"lr": 0.1, "epochs": 2})
    with pytest.raises(CheckpointError, match=r"'c\.pt' was written with other settings \(epochs, new\); resume with the same ones"):
        check_settings("c.pt", {"lr": 0.1, "epochs": 2}, {"lr": 0.1, "epochs": 3, "new": 1})
    check_settings("c.pt", {"lr": 0.1, "epochs": 2}, {"lr": 0.1, "epochs": 3}, ignore=["epochs"])


# ---------------------------------------------------------------------------------------------- kill, then resume


class Net(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        torch.manual_seed(0)
        self.layers = nn.Sequential(nn.Linear(4, 8), nn.LayerNorm(8), nn.Dropout(0.3), nn.Linear(8, 1))

    def forward(self, x):
        return self.layers(x)


def setup():
    model = Net()
    optimizer = torch.optim.AdamW(parameter_groups(model, 0.01), lr=1e-2)
    schedule = make_schedule("cosine_with_min_lr", optimizer, 3, 12, min_lr_rate=0.1)
    return model, optimizer, schedule, np.random.default_rng(0)


def train(model, optimizer, schedule, rng, steps, log=None):
    for _ in range(steps):
        x = torch.as_tensor(rng.normal(size=(5, 4)), dtype=torch.float32)
        loss = (model(x) - x.sum(1, keepdim=True)).pow(2).mean()  # dropout draws from torch's global generator
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        schedule.step()
        if log is not None:
            append_log(log, {"loss": loss.item()})


def test_a_killed_then_resumed_run_ends_where_an_uninterrupted_one_does(tmp_path):
    straight = setup()
    train(*straight, 12, log=tmp_path / "straight.jsonl")

    killed = setup()
    log = tmp_path / "metrics.jsonl"
    train(*killed, 5, log=log)
    save_checkpoint(tmp_path / CHECKPOINT_NAME, "sft", {"config": {}, "progress": 5, "metrics": [], **training_state(*killed)})
    train(*killed, 2, log=log)  # work after the checkpoint, lost when the run is killed

    resumed = setup()  # a fresh process
    data = load_checkpoint(tmp_path, "sft")
    restore_training_state(tmp_path, data, *resumed)
    restart_log(log, read_log(log)[: data["progress"]])
    train(*resumed, 12 - data["progress"], log=log)

    for (name, a), b in zip(straight[0].state_dict().items(), resumed[0].state_dict().values()):
        assert torch.allclose(a, b, atol=1e-6, rtol=0), name
    assert read_log(log) == read_log(tmp_path / "straight.jsonl")
    with pytest.raises(CheckpointError, match="does not fit this model"):
        restore_training_state(tmp_path, data, nn.Linear(2, 2), *resumed[1:])
