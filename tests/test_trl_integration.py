"""fg_env's reward models as TRL reward functions: names, values, batching, the prompt dataset, bad
input, and a real GRPOTrainer run on the tiny policy."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest

pytest.importorskip("datasets")
pytest.importorskip("trl")

from conftest import QA_FEEDBACK_DIR, KeywordRelevance  # noqa: E402

from fg_env.envs.qa import FineGrainedQAEnv  # noqa: E402
from fg_env.integrations.trl import FineGrainedRewards, completion_text, prompt_dataset  # noqa: E402
from fg_env.rewards.base import RewardModel  # noqa: E402
from fg_env.rewards.registry import make_reward_model  # noqa: E402
from fg_env.text import segments_at, split_sentences  # noqa: E402
from fg_env.types import Granularity  # noqa: E402
from fg_env.wrappers import LinearScalarization  # noqa: E402

NAMES = ["relevance", "factuality", "completeness"]


class Counting(RewardModel):
    """Wraps a model and counts its score calls."""

    def __init__(self, inner: RewardModel) -> None:
        self.inner, self.calls = inner, 0
        self.name, self.granularity, self.bounds = inner.name, inner.granularity, inner.bounds

    def score(self, requests):
        self.calls += 1
        return self.inner.score(requests)


@pytest.fixture(scope="module")
def rewards() -> FineGrainedRewards:
    return FineGrainedRewards(split="dev", num_envs=4)


def by_hand(example_id: str, answer: str, split: str = "dev") -> np.ndarray:
    """The episode return of ``answer``: each sentence stepped with the whitespace before it, then ""."""
    env = FineGrainedQAEnv(split=split)
    env.reset(options={"example_id": example_id})
    total, previous = np.zeros(3), 0
    for sentence in split_sentences(answer):
        total += env.step(answer[previous : sentence.end])[1]
        previous = sentence.end
    _, reward, terminated, truncated, _ = env.step("")
    assert terminated and not truncated
    return total + reward


def flawed(answer: str) -> str:
    return answer.replace("19", "18").replace("20", "21")  # every year wrong: Wrong-Grounding


def call_all(rewards: FineGrainedRewards, completions, ids) -> np.ndarray:
    return np.array(
        [f(prompts=["p"] * len(ids), completions=completions, example_id=ids) for f in rewards.reward_funcs]
    ).T


def test_one_function_per_reward_model_named_after_it_with_the_paper_weights(rewards):
    from trl.trainer.utils import get_callable_name  # how TRL names a reward function in its logs

    assert [get_callable_name(f) for f in rewards.reward_funcs] == NAMES
    assert list(rewards.reward_names) == NAMES
    assert rewards.reward_weights == [0.3, 0.5, 0.3]


def test_returns_are_what_stepping_the_env_by_hand_gives(rewards):
    examples = [rewards.examples[i] for i in (0, 1, 3)]  # answers that give years
    gold = [" " + ex.references[0] for ex in examples]
    bad = [flawed(ex.references[0]) for ex in examples] + [" Bananas are blue. Bananas are blue."]
    ids = [ex.id for ex in examples] * 2 + [examples[0].id]
    returns = call_all(rewards, gold + bad, ids)  # 7 answers on 4 sub-envs: played in two chunks

    for row, (answer, example_id) in enumerate(zip(gold + bad, ids)):
        np.testing.assert_allclose(returns[row], by_hand(example_id, answer), atol=1e-6)
    for row, answer in enumerate(gold):  # every gold segment is right and complete
        sentences = split_sentences(answer)
        sub_sentences = segments_at(answer, Granularity.SUB_SENTENCE, sentences)
        assert returns[row].tolist() == [len(sub_sentences), len(sentences), 1.0]
    assert (returns[3:6, 1] < returns[:3, 1]).all() and (returns[3:6, 2] < 1).all()
    assert returns[3:6, 1].min() < 0  # wrong years cost factuality
    assert returns[6].tolist()[0] == -2 and returns[6, 2] == 0  # irrelevant, then redundant; nothing answered


def test_the_functions_of_a_batch_score_it_once_with_one_call_per_model_per_step():
    models = [Counting(make_reward_model(name)) for name in NAMES]
    rewards = FineGrainedRewards(split="dev", num_envs=4, reward_models=models)
    examples = [rewards.examples[i] for i in range(4)]
    answers, ids = [" " + ex.references[0] for ex in examples], [ex.id for ex in examples]

    first = call_all(rewards, answers, ids)
    lengths = [len(split_sentences(a)) for a in answers]
    # Side by side: a segment model is called once per sentence step for every answer still going,
    # the episode model once per step on which some answer ends.
    calls = [max(lengths), max(lengths), len(set(lengths))]
    assert rewards.scorer.batches_scored == 1
    assert [m.calls for m in models] == calls and sum(lengths) > max(lengths)
    again = call_all(rewards, list(answers), list(ids))  # equal lists, new objects: memoised
    assert rewards.scorer.batches_scored == 1 and [m.calls for m in models] == calls
    np.testing.assert_array_equal(first, again)

    call_all(rewards, answers[:3], ids[:3])
    assert rewards.scorer.batches_scored == 2


def test_conversational_completions_score_as_their_assistant_text(rewards):
    example = rewards.examples[0]
    text = " " + example.references[0]
    chat = [
        [{"role": "assistant", "content": text}],
        [{"role": "user", "content": "?"}, {"role": "assistant", "content": [{"type": "text", "text": text}]}],
    ]
    np.testing.assert_array_equal(
        call_all(rewards, chat, [example.id] * 2), call_all(rewards, [text] * 2, [example.id] * 2)
    )
    assert completion_text(chat[1]) == text


def test_bad_input_gives_errors_that_name_the_problem(rewards):
    relevance, example_id = rewards.reward_funcs[0], rewards.examples[0].id
    with pytest.raises(KeyError, match=r"'example_id' column.*other columns are \['references'\]"):
        relevance(prompts=["p"], completions=["Hi."], references=["x"], trainer_state=None)
    with pytest.raises(KeyError, match=r"example_id 'nope' \(completion 1\) is no question of split 'dev'"):
        relevance(completions=["Hi.", "Hi."], example_id=[example_id, "nope"])
    with pytest.raises(ValueError, match="2 completions but 1 example_id"):
        relevance(completions=["Hi.", "Hi."], example_id=[example_id])
    with pytest.raises(TypeError, match="completion 0 is a int"):
        relevance(completions=[3], example_id=[example_id])
    with pytest.raises(ValueError, match=r"completion 0 holds no assistant message \(roles \['user'\]\)"):
        relevance(completions=[[{"role": "user", "content": "Hi."}]], example_id=[example_id])
    with pytest.raises(ValueError, match="non-text parts"):
        completion_text([{"role": "assistant", "content": [{"type": "image"}]}])
    with pytest.raises(ValueError, match="scalarised"):
        FineGrainedRewards(split="dev", num_envs=1, env_wrappers=[LinearScalarization])


def test_grpo_kwargs_build_a_gdpo_config_trl_accepts(rewards, tmp_path):
    """Per-component normalisation in TRL: the weights in the reward functions' order and TRL's
    normalize_then_sum, accepted by GRPOConfig as they are."""
    import trl

    kwargs = rewards.grpo_kwargs()
    assert kwargs == {"reward_weights": [0.3, 0.5, 0.3], "multi_objective_aggregation": "normalize_then_sum"}
    config = trl.GRPOConfig(output_dir=str(tmp_path), use_cpu=True, report_to="none", **kwargs)
    assert (config.reward_weights, config.multi_objective_aggregation) == ([0.3, 0.5, 0.3], "normalize_then_sum")
    assert rewards.grpo_kwargs("sum_then_normalize")["multi_objective_aggregation"] == "sum_then_normalize"
    with pytest.raises(ValueError, match="unknown multi_objective_aggregation 'normalise'; valid choices: normalize_then_sum"):
        rewards.grpo_kwargs("normalise")


def test_prompt_dataset_holds_canonical_prompts_and_ids():
    examples = FineGrainedQAEnv(split="dev").examples
    rows = prompt_dataset("synthetic", "dev", limit=3)
    assert rows.column_names == ["prompt", "example_id"] and len(rows) == 3
    assert rows["prompt"] == [examples[i].prompt for i in range(3)]
    assert rows["example_id"] == [examples[i].id for i in range(3)]
    assert prompt_dataset("synthetic", "dev", indices=[5, 2], limit=1)["example_id"] == [examples[5].id]
    with pytest.raises(IndexError, match=r"indices \[500\] are outside split 'dev' \(0..499\)"):
        prompt_dataset("synthetic", "dev", indices=[500])
    with pytest.raises(ValueError, match="both tokenizer= and max_prompt_tokens="):
        prompt_dataset("synthetic", "dev", max_prompt_tokens=10)


def test_prompt_dataset_fits_prompts_in_a_token_budget():
    words = lambda text: {"input_ids": text.split()}  # noqa: E731 - a whitespace tokenizer
    examples = FineGrainedQAEnv(split="dev").examples
    rows = prompt_dataset("synthetic", "dev", limit=4, tokenizer=words, max_prompt_tokens=40)
    for prompt, example in zip(rows["prompt"], examples):
        assert len(prompt.split()) <= 40
        assert prompt.startswith(f"question: {example.question} context: wikipage: ") and prompt.endswith(" answer:")
        assert example.prompt.startswith(prompt.removesuffix(" answer:"))  # the first sentences, in order
    with pytest.raises(ValueError, match=r"needs \d+ tokens without any passage, more than max_prompt_tokens=3"):
        prompt_dataset("synthetic", "dev", limit=1, tokenizer=words, max_prompt_tokens=3)


def test_trl_and_datasets_are_optional(monkeypatch):
    blocked = "import sys; sys.modules['trl'] = sys.modules['datasets'] = None; "
    code = blocked + "from fg_env.integrations.trl import FineGrainedRewards; FineGrainedRewards(num_envs=1)"
    subprocess.run([sys.executable, "-c", code], check=True)  # the reward functions need neither
    monkeypatch.setitem(sys.modules, "datasets", None)  # an import of it now fails
    with pytest.raises(ImportError, match=r'pip install "fg-env\[trl\]"'):
        prompt_dataset("synthetic", "dev", limit=1)


@pytest.mark.skipif(not (QA_FEEDBACK_DIR / "dev.json").is_file(), reason="QA-Feedback dev split not present")
def test_prompt_dataset_and_rewards_on_qa_feedback():
    rows = prompt_dataset("qa-feedback", "dev", data_dir=str(QA_FEEDBACK_DIR), indices=[0, 1])
    # The annotator-backed models need the built-in world's ground truth: score with a keyword model.
    rewards = FineGrainedRewards(
        dataset="qa-feedback",
        data_dir=str(QA_FEEDBACK_DIR),
        split="dev",
        reward_models=[KeywordRelevance()],
        num_envs=2,
    )
    assert rows["prompt"][0].startswith("question: ") and rows["prompt"][0].endswith(" answer:")
    assert (
        len(rewards.reward_funcs[0](prompts=rows["prompt"], completions=[" It is.", ""], example_id=rows["example_id"]))
        == 2
    )


@pytest.mark.slow
@pytest.mark.parametrize("algorithm", ["grpo", "rloo", "gdpo"])
def test_a_trl_trainer_trains_two_steps_and_logs_each_reward_model(tmp_path, algorithm):
    import trl

    from agents.testing import tiny_policy

    policy = tiny_policy()
    rewards = FineGrainedRewards(split="train", num_envs=2)
    completion_tokens = 16
    room = policy.model.config.n_positions - completion_tokens  # TRL 1.x does not cut prompts itself
    dataset = prompt_dataset("synthetic", "train", limit=2, tokenizer=policy.tokenizer, max_prompt_tokens=room)
    Config, Trainer = (trl.RLOOConfig, trl.RLOOTrainer) if algorithm == "rloo" else (trl.GRPOConfig, trl.GRPOTrainer)
    # gdpo: GRPO with each reward function normalised within its group before the weighted sum.
    weighting = rewards.grpo_kwargs() if algorithm == "gdpo" else {"reward_weights": rewards.reward_weights}
    args = Config(
        output_dir=str(tmp_path / "run"),
        use_cpu=True,
        bf16=False,
        gradient_checkpointing=False,  # TRL turns it on by default; a 1-layer model gains nothing
        report_to="none",
        max_steps=2,
        per_device_train_batch_size=2,
        num_generations=2,
        max_completion_length=completion_tokens,
        logging_steps=1,
        save_strategy="no",
        disable_tqdm=True,
        **weighting,
    )
    model = policy.model
    if algorithm == "rloo":  # its KL reference (beta 0.05) is loaded again from the policy's folder
        policy.save_pretrained(tmp_path / "policy")
        model = str(tmp_path / "policy")
    trainer = Trainer(
        model=model,
        reward_funcs=rewards.reward_funcs,
        args=args,
        train_dataset=dataset,
        processing_class=policy.tokenizer,
    )
    trainer.train()

    logged = [entry for entry in trainer.state.log_history if "rewards/relevance/mean" in entry]
    assert len(logged) == 2
    for entry in logged:
        for name in NAMES:
            assert np.isfinite(entry[f"rewards/{name}/mean"])
    assert rewards.scorer.batches_scored == 2  # one per step, not one per reward function
