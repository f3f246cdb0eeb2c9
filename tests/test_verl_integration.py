"""fg_env.integrations.verl: verl's reward manager and agent loop give exactly fg_env's PPO token rewards.

Needs verl (``pip install "fg-env[verl]"``, in a virtual environment of its own: verl pins transformers<5.11);
skipped without it. Batches are real verl ``DataProto``s laid out as verl lays them out: prompts left-padded,
responses right-padded, one attention mask over both.
"""

from __future__ import annotations

import asyncio

import gymnasium as gym
import numpy as np
import pytest

pytest.importorskip("verl")

import torch  # noqa: E402
from omegaconf import OmegaConf  # noqa: E402
from verl.experimental.agent_loop.agent_loop import AgentLoopOutput, DictConfigWrap, _agent_loop_registry  # noqa: E402
from verl.protocol import DataProto  # noqa: E402
from verl.workers.reward_manager import get_reward_manager_cls  # noqa: E402
from verl.workers.rollout.replica import TokenOutput  # noqa: E402

import fg_env  # noqa: E402, F401 - registers the environments
from agents.algorithms.rollout import replay, replay_batch, token_rewards  # noqa: E402
from agents.policies.policy import Generation  # noqa: E402
from agents.policies.tokenizer import train_tokenizer  # noqa: E402
from fg_env.envs.vector import FineGrainedQAVectorEnv  # noqa: E402
from fg_env.errors import InvalidValueError, UnknownChoiceError  # noqa: E402
from fg_env.integrations import verl as fg_verl  # noqa: E402
from fg_env.tokens import token_end_chars  # noqa: E402
from fg_env.wrappers import HolisticReward  # noqa: E402

SPLIT = "dev"


@pytest.fixture(scope="module")
def env():
    return gym.make("FineGrainedQA-v0", split=SPLIT)


@pytest.fixture(scope="module")
def tokenizer(env):
    examples = list(env.unwrapped.examples)[:20]
    tok = train_tokenizer([ex.prompt + " " + r for ex in examples for r in ex.references] * 3, vocab_size=400)
    # verl's agent loop renders chat messages; a plain template is enough for a tokenizer of our own.
    tok.chat_template = "{% for m in messages %}{{ m['content'] }}{% endfor %}"
    return tok


def rows(env) -> list[tuple[int, str, bool]]:
    """(question index, answer, ends with eos): gold answers, flawed ones, a cut-off one, an empty one."""
    ex = env.unwrapped.examples
    return [
        (0, " " + ex[0].references[0], True),
        (1, " " + ex[1].references[0], True),
        (0, " The weather was mild. " + ex[0].references[0], True),  # irrelevant sentence first
        (2, " Nobody knows. It happened in 1492.", True),  # unsupported claims
        (1, " " + ex[1].references[0][:40], False),  # cut by the response length: no eos
        (2, "", True),  # eos straight away
    ]


def verl_batch(tokenizer, env, answers, extra_infos=None) -> tuple[DataProto, list[Generation]]:
    """A DataProto as verl's rollout returns it, and the same answers as fg_env PPO's Generations."""
    examples = env.unwrapped.examples
    prompts, responses, generations = [], [], []
    for index, text, eos in answers:
        prompt_ids = tokenizer(examples[index].prompt, add_special_tokens=False).input_ids[-40:]
        ids = tokenizer(text, add_special_tokens=False).input_ids if text else []
        ends = token_end_chars(tokenizer, ids, text)
        if eos:
            ids, ends = ids + [tokenizer.eos_token_id], ends + [len(text)]
        prompts.append(prompt_ids)
        responses.append(ids)
        generations.append(Generation(examples[index].prompt, prompt_ids, ids, text, ends, finished=eos))
    pad = tokenizer.pad_token_id
    width_p, width_r = max(map(len, prompts)), max(map(len, responses)) + 3  # every row padded
    prompt_t = torch.full((len(answers), width_p), pad)
    response_t = torch.full((len(answers), width_r), pad)
    mask = torch.zeros((len(answers), width_p + width_r), dtype=torch.long)
    for b, (p, r) in enumerate(zip(prompts, responses)):
        prompt_t[b, width_p - len(p) :] = torch.tensor(p)
        response_t[b, : len(r)] = torch.tensor(r, dtype=torch.long)
        mask[b, width_p - len(p) : width_p + len(r)] = 1
    input_ids = torch.cat([prompt_t, response_t], dim=1)
    if extra_infos is None:
        extra_infos = [{"example_id": examples[i].id, "split": SPLIT, "index": i} for i, _, _ in answers]
    data = DataProto.from_dict(
        tensors={
            "prompts": prompt_t,
            "responses": response_t,
            "input_ids": input_ids,
            "attention_mask": mask,
            "position_ids": (mask.cumsum(dim=1) - 1).clamp(min=0),
            "response_mask": mask[:, width_p:],
        },
        non_tensors={
            "data_source": np.array(["fg_env/synthetic"] * len(answers), dtype=object),
            "extra_info": np.array(extra_infos, dtype=object),
        },
    )
    return data, generations


def expected(records, width: int) -> torch.Tensor:
    out = torch.zeros((len(records), width))
    for b, record in enumerate(records):
        rewards = token_rewards(record)
        out[b, : len(rewards)] = torch.from_numpy(rewards)
    return out


def test_registered_with_verl_by_name():
    assert get_reward_manager_cls("fine_grained") is fg_verl.FineGrainedRewardManager
    assert _agent_loop_registry["fine_grained"] == {"_target_": "fg_env.integrations.verl.FineGrainedAgentLoop"}


def test_reward_tensor_is_exactly_fg_env_ppos(env, tokenizer):
    answers = rows(env)
    data, generations = verl_batch(tokenizer, env, answers)
    manager = fg_verl.FineGrainedRewardManager(tokenizer, num_examine=1, env_kwargs={"split": SPLIT}, num_envs=4)
    out = manager(data, return_dict=True)
    reward = out["reward_tensor"]
    assert reward.shape == data.batch["responses"].shape and reward.dtype == torch.float32

    ids = [env.unwrapped.examples[i].id for i, _, _ in answers]
    records = replay_batch(FineGrainedQAVectorEnv.from_env(env, 3), generations, example_ids=ids)
    assert torch.equal(reward, expected(records, reward.shape[1]))
    for b, record in enumerate(records):  # and one by one, as fg_env's single-env replay places them
        assert torch.equal(reward[b, : len(generations[b].response_ids)], torch.from_numpy(token_rewards(replay(env, generations[b], example_id=ids[b]))))

    info = out["reward_extra_info"]
    assert set(info) == {"relevance", "factuality", "completeness", "score"}
    assert all(len(v) == len(answers) for v in info.values())
    np.testing.assert_allclose(info["score"], reward.sum(dim=1).numpy(), rtol=1e-6)
    np.testing.assert_allclose(
        np.stack([info[n] for n in ("relevance", "factuality", "completeness")], axis=1),
        np.stack([r.total_reward() for r in records]),
    )
    assert info["relevance"][2] < info["relevance"][0]  # the weather sentence costs relevance
    assert torch.equal(manager(data), reward)  # return_dict=False: the tensor alone


def test_padding_and_cut_answers(env, tokenizer):
    answers = rows(env)
    data, generations = verl_batch(tokenizer, env, answers)
    reward = fg_verl.FineGrainedRewardManager(tokenizer, env_kwargs={"split": SPLIT})(data)
    lengths = data.batch["attention_mask"][:, data.batch["prompts"].shape[1] :].sum(dim=1)
    for b, n in enumerate(lengths.tolist()):
        assert not reward[b, n:].any()  # nothing on padding
    cut = 4  # no eos: the episode-level reward lands on the last generated token
    assert reward[cut, int(lengths[cut]) - 1] != 0
    empty = 5  # only an eos: completeness (0 for an empty answer) on it, nothing else
    assert int(lengths[empty]) == 1 and not reward[empty].any()


def test_holistic_mode_is_fg_env_ppos_holistic_scheme(env, tokenizer):
    answers = rows(env)[:4]
    data, generations = verl_batch(tokenizer, env, answers)
    reward = fg_verl.FineGrainedRewardManager(tokenizer, mode="holistic", env_kwargs={"split": SPLIT})(data)
    holistic = HolisticReward(env)
    ids = [env.unwrapped.examples[i].id for i, _, _ in answers]
    records = [replay(holistic, g, example_id=i) for g, i in zip(generations, ids)]
    assert torch.equal(reward, expected(records, reward.shape[1]))
    lengths = data.batch["attention_mask"][:, data.batch["prompts"].shape[1] :].sum(dim=1)
    for b, n in enumerate(lengths.tolist()):
        assert torch.nonzero(reward[b]).flatten().tolist() in ([n - 1], [])  # only the last token
    fine = fg_verl.FineGrainedRewardManager(tokenizer, env_kwargs={"split": SPLIT})(data)
    torch.testing.assert_close(reward.sum(dim=1), fine.sum(dim=1))  # same return, another shape


def test_weights_and_train_split_rows(env, tokenizer):
    train = gym.make("FineGrainedQA-v0", split="train")
    answers = [(0, " " + train.unwrapped.examples[0].references[0], True)]
    data, generations = verl_batch(tokenizer, train, answers)
    data.non_tensor_batch["extra_info"][0]["split"] = "train"
    weights = {"relevance": 1.0, "factuality": 2.0, "completeness": 4.0}
    reward = fg_verl.FineGrainedRewardManager(tokenizer, weights=weights)(data)
    record = replay(train, generations[0], index=0)
    expected_row = token_rewards(record, weights)
    assert torch.equal(reward[0, : len(expected_row)], torch.from_numpy(expected_row))
    with pytest.raises(InvalidValueError, match=r"one weight to each reward model .* missing \['completeness'\]"):
        fg_verl.FineGrainedRewardManager(tokenizer, weights={"relevance": 1.0, "factuality": 1.0})(data)


def test_a_batch_without_question_ids_is_refused(env, tokenizer):
    answers = rows(env)[:2]
    bad = [{"example_id": env.unwrapped.examples[0].id, "split": SPLIT}, {"index": 3, "split": SPLIT}]
    data, _ = verl_batch(tokenizer, env, answers, extra_infos=bad)
    manager = fg_verl.FineGrainedRewardManager(tokenizer)
    with pytest.raises(InvalidValueError, match=r"row 1 names no question: its extra_info has no 'example_id' "
                                                r"\(it holds \['index', 'split'\]\)"):
        manager(data)
    data.non_tensor_batch.pop("extra_info")
    with pytest.raises(InvalidValueError, match="non_tensor_batch has no 'extra_info'"):
        manager(data)
    unknown = [{"example_id": "no-such-question", "split": SPLIT}] * 2
    data, _ = verl_batch(tokenizer, env, answers, extra_infos=unknown)
    with pytest.raises(InvalidValueError, match="row 0: extra_info\\['example_id'\\]='no-such-question' is no question"):
        manager(data)


def test_an_unknown_mode_is_refused(tokenizer):
    with pytest.raises(UnknownChoiceError, match="unknown fine-grained reward mode 'dense'; valid choices: fine_grained, holistic"):
        fg_verl.FineGrainedRewardManager(tokenizer, mode="dense")


def test_token_scores_already_in_the_batch_pass_through(env, tokenizer):
    data, _ = verl_batch(tokenizer, env, rows(env)[:2])
    scores = torch.arange(data.batch["responses"].numel(), dtype=torch.float32).reshape(data.batch["responses"].shape)
    data.batch["rm_scores"] = scores
    assert torch.equal(fg_verl.FineGrainedRewardManager(tokenizer)(data), scores)


# ------------------------------------------------------------------------------------------ agent loop


class FakeServer:
    """verl's LLM server client: the answer to a prompt is the one written for it (prompts start with a row tag)."""

    def __init__(self, tokenizer, answers: dict[str, list[int]]) -> None:
        self.tokenizer, self.answers = tokenizer, answers

    async def generate(self, *, prompt_ids, **kwargs) -> TokenOutput:
        await asyncio.sleep(0)  # let the other agent loops run, as a real server does
        tag = self.tokenizer.decode(prompt_ids).split("|", 1)[0]
        return TokenOutput(token_ids=self.answers[tag])


def test_agent_loop_writes_the_token_rewards_into_rm_scores(env, tokenizer, monkeypatch):
    answers = rows(env)[:5]
    data, generations = verl_batch(tokenizer, env, answers)
    batch_rewards = fg_verl.FineGrainedRewardManager(tokenizer, env_kwargs={"split": SPLIT})(data)

    config = OmegaConf.create({
        "trainer": {"use_v1": True},
        "actor_rollout_ref": {"rollout": {"prompt_length": 1024, "response_length": 200}},
    })
    server = FakeServer(tokenizer, {f"row{b}": g.response_ids for b, g in enumerate(generations)})
    calls = []
    real_score = fg_verl.TokenRewardScorer.score
    monkeypatch.setattr(fg_verl.TokenRewardScorer, "score", lambda self, *a: calls.append(len(a[0])) or real_score(self, *a))

    def loop():
        return fg_verl.FineGrainedAgentLoop(
            trainer_config=DictConfigWrap(config), server_manager=server, tokenizer=tokenizer, processor=None,
            dataset_cls=None, data_config=DictConfigWrap(OmegaConf.create({})), name="fine_grained",
            env_kwargs=OmegaConf.create({"split": SPLIT}),
        )

    async def run_all():
        extra = data.non_tensor_batch["extra_info"]
        return await asyncio.gather(*[
            loop().run({}, raw_prompt=[{"role": "user", "content": f"row{b}|" + env.unwrapped.examples[i].prompt}], extra_info=extra[b])
            for b, (i, _, _) in enumerate(answers)
        ])

    outputs = asyncio.run(run_all())
    assert sum(calls) == len(answers)  # every answer scored once (those that finish together, in one call)
    for b, output in enumerate(outputs):
        n = len(generations[b].response_ids)
        assert output.response_ids == generations[b].response_ids
        fields = output.as_dict()  # what verl's V1 agent-loop worker stores for the trainer
        assert torch.equal(fields["rm_scores"], batch_rewards[b, :n])
        assert fields["rm_scores"].shape == fields["response_mask"].shape
        assert output.reward_score == pytest.approx(float(batch_rewards[b].sum()))
        assert set(output.extra_fields["reward_extra_info"]) == {"relevance", "factuality", "completeness", "score"}
        assert "token_rewards" not in fields


def test_concurrent_answers_are_scored_in_one_call(env, tokenizer, monkeypatch):
    answers = rows(env)
    data, _ = verl_batch(tokenizer, env, answers)
    batcher = fg_verl._Batcher(fg_verl.TokenRewardScorer(tokenizer, env_kwargs={"split": SPLIT}))
    calls = []
    real_score = batcher.scorer.score
    monkeypatch.setattr(batcher.scorer, "score", lambda ids, infos: calls.append(len(ids)) or real_score(ids, infos))
    lengths = data.batch["attention_mask"][:, data.batch["prompts"].shape[1] :].sum(dim=1).tolist()
    ids = [data.batch["responses"][b, :n].tolist() for b, n in enumerate(lengths)]
    extra = data.non_tensor_batch["extra_info"]

    async def together():
        return await asyncio.gather(*[batcher.score(ids[b], extra[b]) for b in range(len(ids))])

    scored = asyncio.run(together())
    assert calls == [len(answers)]
    alone = fg_verl.TokenRewardScorer(tokenizer, env_kwargs={"split": SPLIT}).score(ids, list(extra))
    for b, one in enumerate(scored):
        assert np.array_equal(one.token_rewards[0], alone.token_rewards[b])

    async def one_bad():
        return await asyncio.gather(batcher.score(ids[0], extra[0]), batcher.score(ids[1], {}), return_exceptions=True)

    results = asyncio.run(one_bad())  # a batch with a bad row fails every answer in it, each with the reason
    assert all(isinstance(r, InvalidValueError) and "row 1 names no question" in str(r) for r in results)


def test_agent_loop_refuses_the_legacy_trainer(tokenizer):
    config = OmegaConf.create({"trainer": {"use_v1": False}, "actor_rollout_ref": {"rollout": {"prompt_length": 8, "response_length": 8}}})
    with pytest.raises(InvalidValueError, match="needs verl's V1 trainer"):
        fg_verl.FineGrainedAgentLoop(
            trainer_config=DictConfigWrap(config), server_manager=None, tokenizer=tokenizer, processor=None,
            dataset_cls=None, data_config=DictConfigWrap(OmegaConf.create({})),
        )


def test_plain_agent_loop_output_keeps_verls_scalar():
    """verl's own AgentLoopOutput puts one scalar on the last token: the reason for the agent loop above."""
    fields = AgentLoopOutput(prompt_ids=[1], response_ids=[3, 4, 5], response_mask=[1, 1, 1], metrics={}, reward_score=2.0).as_dict()
    assert fields["rm_scores"].tolist() == [0.0, 0.0, 2.0]
