"""Per-component reward normalisation (GDPO's normalise-then-sum) in fine-grained PPO: the formula on a
hand-built batch, the option off leaving today's rewards untouched, the whole-batch group under data
parallelism, the scheme that drives it in ``fg-env compare``, and bad values."""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, replace

import numpy as np
import pytest
import torch
from _agents_tiny import fixed_generation, save_tiny_policy, tiny_env, tiny_policy

from agents.algorithms.distributed import Processes
from agents.algorithms.lm_rl import NORMALIZATION_EPS, group_mean_std, normalized_token_rewards, segment_weights
from agents.algorithms.ppo import FineGrainedPPO, PPOConfig
from agents.algorithms.rollout import EpisodeRecord, SegmentRecord, token_rewards
from agents.experiments.schemes import get_scheme
from agents.policies.policy import Generation
from fg_env.errors import InvalidValueError

EPS = NORMALIZATION_EPS
WEIGHTS = {"relevance": 0.3, "completeness": 0.5}
TOKENS = 4  # every hand-built answer: 4 response tokens, the last (3) its final token


def _record(*segments: tuple[str, float, int]) -> EpisodeRecord:
    """An answer of 4 tokens whose segments are (component, value, token) triples."""
    generation = Generation("p", [0], [5, 6, 7, 8], "a b c d", [1, 3, 5, 7], finished=False)
    placed = tuple(
        SegmentRecord(component=c, granularity="sentence", start=0, end=1, text="a", value=v, label=None, step=0,
                      token_index=t)
        for c, v, t in segments
    )
    return EpisodeRecord("q", generation, "a b c d", tuple(WEIGHTS), tuple(WEIGHTS.values()), np.zeros((1, 2)),
                         np.ones((1, 2), bool), placed, True, False, TOKENS, TOKENS - 1)


def _batch() -> list[EpisodeRecord]:
    """Two questions, three answers each (relevance sub-sentence verdicts, completeness on the final token)."""
    return [
        # question A: relevance returns 2, 0, -1; completeness 0.5 for every answer (no spread)
        _record(("relevance", 1.0, 0), ("relevance", 1.0, 2), ("completeness", 0.5, 3)),
        _record(("relevance", 1.0, 1), ("relevance", -1.0, 3), ("completeness", 0.5, 3)),
        _record(("relevance", -1.0, 2), ("completeness", 0.5, 3)),
        # question B: relevance returns 1, 2, 0; completeness 1.0, 0.0, 0.5
        _record(("relevance", 1.0, 0), ("completeness", 1.0, 3)),
        _record(("relevance", 1.0, 0), ("relevance", 1.0, 1), ("completeness", 0.0, 3)),
        _record(("completeness", 0.5, 3)),
    ]


RETURNS = {"relevance": [2.0, 0.0, -1.0, 1.0, 2.0, 0.0], "completeness": [0.5, 0.5, 0.5, 1.0, 0.0, 0.5]}


def test_normalized_token_rewards_are_the_formulas_numbers():
    rewards, zero_spread = normalized_token_rewards(_batch(), WEIGHTS, TOKENS, group_size=3)
    # Question A: relevance mean 1/3, std sqrt(7/3); completeness has no spread and adds nothing.
    a = 0.3 / (math.sqrt(7 / 3) + EPS)
    # Question B: relevance mean 1, std 1; completeness mean 0.5, std 0.5.
    b, c = 0.3 / (1 + EPS), 0.5 / (0.5 + EPS)
    expected = torch.tensor(
        [
            [a, 0.0, a, -a / 3],  # each segment's value scaled on its token; the mean once on the final token
            [0.0, a, 0.0, -a - a / 3],
            [0.0, 0.0, -a, -a / 3],
            [b, 0.0, 0.0, c * 1.0 - b * 1 - c * 0.5],
            [b, b, 0.0, c * 0.0 - b * 1 - c * 0.5],
            [0.0, 0.0, 0.0, c * 0.5 - b * 1 - c * 0.5],
        ]
    )
    assert torch.allclose(rewards, expected, atol=1e-6, rtol=0)
    assert zero_spread == {"rewards/relevance/zero_spread": 0.0, "rewards/completeness/zero_spread": 0.5}


@pytest.mark.parametrize("group_size", [3, None])
def test_each_answers_normalised_component_return_is_r_minus_mean_over_std_plus_eps(group_size):
    records = _batch()
    for name, returns in RETURNS.items():
        only = {other: float(other == name) for other in WEIGHTS}
        rewards, _ = normalized_token_rewards(records, only, TOKENS, group_size=group_size)
        groups = np.array(returns).reshape(-1, group_size or len(returns))
        mean = groups.mean(axis=1, keepdims=True)
        std = groups.std(axis=1, ddof=1, keepdims=True)
        expected = np.where(std > EPS, (groups - mean) / (std + EPS), 0.0).reshape(-1)
        assert rewards.sum(dim=1).double().numpy() == pytest.approx(expected, abs=1e-6)
    # The weighted sum of those, and the scheme's weights applied to each component's normalised return.
    rewards, _ = normalized_token_rewards(records, WEIGHTS, TOKENS, group_size=group_size)
    parts = [normalized_token_rewards(records, {n: float(n == k) for n in WEIGHTS}, TOKENS, group_size=group_size)[0]
             for k in WEIGHTS]
    assert torch.allclose(rewards, 0.3 * parts[0] + 0.5 * parts[1], atol=1e-6)


def test_a_component_without_spread_adds_nothing_and_nothing_blows_up():
    same = [_record(("relevance", 1.0, 0), ("relevance", -1.0, 1), ("completeness", 0.3, 3)) for _ in range(4)]
    rewards, zero_spread = normalized_token_rewards(same, WEIGHTS, TOKENS, group_size=2)
    assert torch.equal(rewards, torch.zeros(4, TOKENS))  # not +-1/eps on tokens 0 and 1
    assert set(zero_spread.values()) == {1.0}
    mean, std = group_mean_std(torch.tensor([[0.1], [0.1], [0.1]], dtype=torch.float64), None)
    assert std.max().item() <= EPS  # rounding of the mean is below the threshold


def test_components_without_a_weight_are_refused():
    with pytest.raises(InvalidValueError, match=r"no weight for reward component 'completeness'; weights cover \['relevance'\]"):
        normalized_token_rewards(_batch(), {"relevance": 1.0}, TOKENS, group_size=3)
    with pytest.raises(InvalidValueError, match="6 episodes do not form groups of 4"):
        normalized_token_rewards(_batch(), WEIGHTS, TOKENS, group_size=4)


# ------------------------------------------------------------------------------------ in the trainer

TEXTS = [" Mira Holt was born in 1950. The weather was mild.", " Mira Holt was born in 1950.", " The weather was mild."]


def _trainer(**config) -> FineGrainedPPO:
    """PPO on the tiny env whose policy answers question 0 with TEXTS (one group of three)."""
    policy = tiny_policy()
    env = get_scheme("fine-grained").wrap(tiny_env())
    settings = PPOConfig(prompts_per_iteration=1, samples_per_prompt=len(TEXTS), minibatch_size=len(TEXTS),
                         max_new_tokens=16, **config)
    trainer = FineGrainedPPO(policy, env, settings, question_indices=[0])
    policy.generate = lambda prompts, **kw: [fixed_generation(policy, p, t) for p, t in zip(prompts, TEXTS)]
    return trainer


def test_off_the_trainer_takes_todays_rewards_bitwise():
    trainer = _trainer()
    assert trainer.config.reward_normalization == "none"
    rollouts, _ = trainer.collect_rollouts()
    rewards, stats = trainer.task_rewards(rollouts)
    assert rewards is rollouts.scores and stats == {}  # the very tensor: not a recomputation
    for row, record in enumerate(rollouts.records):
        placed = torch.from_numpy(token_rewards(record))
        assert torch.equal(rollouts.scores[row, : len(placed)], placed * rollouts.mask[row, : len(placed)])
    # Runs recorded before the option existed keep their keys: it is left out of the record while off.
    assert "reward_normalization" not in PPOConfig().to_dict()
    assert PPOConfig(reward_normalization="per-component").to_dict()["reward_normalization"] == "per-component"


def test_per_component_the_trainer_normalises_each_question_s_answers():
    trainer = _trainer(reward_normalization="per-component")
    rollouts, _ = trainer.collect_rollouts()
    rewards, stats = trainer.task_rewards(rollouts)
    expected, zero_spread = normalized_token_rewards(rollouts.records, segment_weights(trainer.env),
                                                     rollouts.scores.shape[1], group_size=3)
    assert torch.equal(rewards, expected * rollouts.mask) and stats == zero_spread
    assert stats["rewards/relevance/zero_spread"] == 0.0  # the three answers differ in relevance
    # Each answer's normalised return is centred on its group: the returns sum to 0 over the question.
    assert rewards.sum().item() == pytest.approx(0.0, abs=1e-5)
    summary = trainer.update(rollouts)
    assert all(math.isfinite(summary[k]) for k in ("policy_loss", "value_loss"))
    assert summary["rewards/relevance/zero_spread"] == 0.0
    # The logged return stays the scheme's weighted sum, comparable across arms.
    assert summary["score"] == pytest.approx(rollouts.scores.sum().item() / 3)


def test_bad_values_are_refused_naming_the_choices(capsys):
    from fg_env.cli import main

    with pytest.raises(InvalidValueError, match="PPOConfig.reward_normalization must be 'none' or 'per-component', got 'gdpo'"):
        PPOConfig(reward_normalization="gdpo")
    with pytest.raises(SystemExit):
        main(["train", "--out", "x", "--reward-normalization", "gdpo"])
    assert "argument --reward-normalization: invalid choice: 'gdpo'" in capsys.readouterr().err


# ------------------------------------------------------------------------------------ the scheme


def test_the_normalized_scheme_sets_the_trainer_setting_and_its_runs_have_their_own_key():
    from agents.experiments.run import RunSpec

    plain = RunSpec("runs/sft", scheme="fine-grained")
    normalized = RunSpec("runs/sft", scheme="fine-grained-normalized")
    assert plain.training.reward_normalization == "none"
    assert normalized.training.reward_normalization == "per-component"
    assert normalized.key()["config"]["reward_normalization"] == "per-component"
    assert "reward_normalization" not in plain.key()["config"] and plain.key() != normalized.key()
    # It rewards as fine-grained does; only the trainer's treatment of the reward differs.
    assert segment_weights(normalized.make_env("dev")) == segment_weights(plain.make_env("dev"))
    assert replace(normalized, training=replace(normalized.training, seed=2)).training.reward_normalization == "per-component"


def test_a_trainer_without_the_setting_is_refused():
    @dataclass
    class Other:
        seed: int = 0

    with pytest.raises(InvalidValueError, match=r"reward scheme 'fine-grained-normalized' sets the trainer setting\(s\) "
                                                r"reward_normalization, which Other does not have"):
        get_scheme("fine-grained-normalized").settings_for(Other())
    assert get_scheme("holistic").settings_for(other := Other()) is other


def test_the_flag_reaches_the_settings():
    from agents.cli.flags import experiment_config
    from fg_env.cli import build_parser

    args = build_parser().parse_args(["train", "--out", "x", "--reward-normalization", "per-component"])
    assert experiment_config(args).training.reward_normalization == "per-component"


@pytest.mark.slow
def test_a_tiny_compare_runs_the_normalized_arm(tmp_path):
    from fg_env.cli import main

    policy = save_tiny_policy(tmp_path / "tiny-policy")
    out = tmp_path / "compare"
    assert main(["compare", "--out", str(out), "--policy", str(policy), "--schemes", "fine-grained,fine-grained-normalized",
                 "--seeds", "0,1", "--iterations", "1", "--no-random-baseline", "--prompts-per-iteration", "1",
                 "--samples-per-prompt", "2", "--minibatch-size", "2", "--max-new-tokens", "6",
                 "--eval-questions", "2", "--no-progress"]) == 0
    results = json.loads((out / "results.json").read_text())
    assert set(results["summary"]) == {"SFT", "PPO fine-grained", "PPO fine-grained-normalized"}
    assert "fine-grained vs fine-grained-normalized" in results["paired"]

    def run(name: str) -> dict:
        return json.loads((out / "runs" / name / "run.json").read_text())

    assert run("fine-grained-normalized-seed0")["config"]["reward_normalization"] == "per-component"
    assert "reward_normalization" not in run("fine-grained-seed0")["config"]

    def metrics(name: str) -> dict:  # the first iteration's
        return json.loads((out / "runs" / name / "metrics.jsonl").read_text().splitlines()[0])

    assert "rewards/relevance/zero_spread" in metrics("fine-grained-normalized-seed1")
    assert "rewards/relevance/zero_spread" not in metrics("fine-grained-seed1")


# ------------------------------------------------------------------------------------ data parallel


def _normalise_on_rank(rank: int, store: str, records: list[EpisodeRecord], out: str) -> None:
    """One of two gloo processes: normalise this rank's half of the batch over the whole batch."""
    torch.distributed.init_process_group("gloo", init_method=f"file://{store}", rank=rank, world_size=2)
    try:
        half = len(records) // 2
        local = records[rank * half : (rank + 1) * half]
        rewards, zero_spread = normalized_token_rewards(local, WEIGHTS, TOKENS, group_size=None,
                                                        total=Processes(2, rank).sum)
        torch.save({"rewards": rewards, "zero_spread": zero_spread}, f"{out}.{rank}")
    finally:
        torch.distributed.destroy_process_group()


@pytest.mark.slow
def test_the_whole_batch_group_spans_every_process(tmp_path):
    """With one answer per question the group is the global batch: two processes, each holding half of it,
    get exactly the rewards one process gets on all of it."""
    records = _batch()
    torch.multiprocessing.spawn(_normalise_on_rank, args=(str(tmp_path / "store"), records, str(tmp_path / "r")),
                                nprocs=2)
    one, zero_spread = normalized_token_rewards(records, WEIGHTS, TOKENS, group_size=None)
    halves = [torch.load(tmp_path / f"r.{rank}") for rank in (0, 1)]
    assert torch.allclose(torch.cat([h["rewards"] for h in halves]), one, atol=1e-6, rtol=0)
    assert all(h["zero_spread"] == zero_spread for h in halves)
