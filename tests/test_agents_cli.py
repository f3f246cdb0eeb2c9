"""The agents' ``fg-env`` commands: bad input stops them with a clear error before any training, and a
micro comparison on a tiny model writes its results, table and plot."""

from __future__ import annotations

import json
from dataclasses import replace

import pytest

from _agents_tiny import save_tiny_policy
from fg_env.cli import main


@pytest.fixture
def no_training(monkeypatch):
    """Fail the test if a command reaches SFT or PPO: input errors must come first."""
    import agents.ppo
    import agents.sft

    def forbidden(*args, **kwargs):
        raise AssertionError("training started before the input was checked")

    monkeypatch.setattr(agents.sft, "build_default_policy", forbidden)
    monkeypatch.setattr(agents.ppo.FineGrainedPPO, "train", forbidden)


def _error(capsys, argv: list[str]) -> str:
    try:
        status = main(argv)
    except SystemExit as stop:  # argparse's own errors
        status = stop.code
    assert status == 2
    return capsys.readouterr().err


@pytest.mark.parametrize(
    "argv, message",
    [
        (["train", "--out", "{tmp}/r", "--weights", "0.3,0.5"], "--weights needs 3 values, one per reward model (relevance, factuality, completeness); got 2"),
        (["train", "--out", "{tmp}/r", "--weights", "0.3,x,0.3"], "expected comma-separated numbers"),
        (["train", "--out", "{tmp}/r", "--lr=-1e-4"], "argument --lr/--learning-rate: must be a number > 0, got -1e-4"),
        (["train", "--out", "{tmp}/r", "--lr", "-0.001"], "argument --lr/--learning-rate: must be a number > 0, got -0.001"),
        (["train", "--out", "{tmp}/r", "--batch-size", "-8"], "argument --minibatch-size/--batch-size: must be a positive integer, got -8"),
        (["train", "--out", "{tmp}/r", "--prompts-per-iteration", "0"], "must be a positive integer, got 0"),
        (["train", "--out", "{tmp}/r", "--vf-coef", "-1"], "argument --vf-coef: must be a number >= 0, got -1"),
        (["train", "--out", "{tmp}/r", "--kl-threshold", "0"], "argument --kl-threshold: must be a number > 0, got 0"),
        (["train", "--out", "{tmp}/r", "--kl-threshold", "never"], "argument --kl-threshold: expected a number > 0, got 'never'"),
        (["train", "--out", "{tmp}/r", "--policy", "{tmp}/no-such-model"], "policy path '{tmp}/no-such-model' does not exist"),
        (["train", "--out", "{tmp}/r", "--scheme", "dense"], "unknown reward scheme 'dense'"),
        (["train", "--out", "{tmp}/empty", "--resume"], "checkpoint.pt' does not exist"),
        (["train", "--out", "{tmp}/r", "--iterations", "2", "--episodes", "8"], "not allowed with argument"),
        (["compare", "--out", "{tmp}/c", "--seeds", "0,0,1"], "--seeds must be distinct"),
        (["compare", "--out", "{tmp}/c", "--schemes", "fine-grained,sparse"], "unknown reward scheme 'sparse'"),
        (["compare", "--out", "{tmp}/c", "--weights", "1,1,1,1"], "needs 3 values"),
        (["sweep-weights", "--component", "fluency", "--values", "0.1,0.3"], "--component must be one of relevance, factuality, completeness"),
        (["sweep-weights", "--component", "relevance", "--values", "0.1,-0.3"], "--values must not be negative"),
        (["evaluate", "--policy", "{tmp}/missing", "--split", "dev"], "policy path '{tmp}/missing' does not exist"),
        (["evaluate", "--split", "train"], "invalid choice: 'train'"),
    ],
)
def test_bad_input_is_a_clear_error_before_training(argv, message, tmp_path, capsys, no_training):
    argv = [a.replace("{tmp}", str(tmp_path)) for a in argv]
    assert message.replace("{tmp}", str(tmp_path)) in _error(capsys, argv)


def test_corrupt_checkpoint_is_reported_before_training(tmp_path, capsys, no_training):
    run = tmp_path / "run"
    run.mkdir()
    (run / "checkpoint.pt").write_bytes(b"\x00\x01 half a checkpoint")
    err = _error(capsys, ["train", "--out", str(run), "--resume"])
    assert "checkpoint" in err and "is corrupt or not a checkpoint" in err


def test_existing_run_needs_resume(tmp_path, capsys, no_training):
    (tmp_path / "checkpoint.pt").write_bytes(b"x")
    assert "already holds a run" in _error(capsys, ["train", "--out", str(tmp_path)])


def test_a_folder_that_is_not_a_model_is_rejected(tmp_path, capsys, no_training):
    folder = tmp_path / "not-a-model"
    folder.mkdir()
    err = _error(capsys, ["train", "--out", str(tmp_path / "r"), "--policy", str(folder)])
    assert "holds no config.json" in err


@pytest.mark.slow
def test_micro_compare_writes_results_table_and_plot(tmp_path, capsys):
    from agents.compare import METRIC_COLUMNS

    policy = save_tiny_policy(tmp_path / "tiny-policy")
    out = tmp_path / "compare"
    argv = ["compare", "--out", str(out), "--policy", str(policy), "--seeds", "0,1,2", "--iterations", "1",
            "--prompts-per-iteration", "1", "--samples-per-prompt", "2", "--minibatch-size", "2",
            "--max-new-tokens", "6", "--eval-questions", "2", "--no-progress"]
    assert main(argv) == 0
    results = json.loads((out / "results.json").read_text())
    assert set(results["summary"]) == {"SFT", "random sentences", "PPO fine-grained", "PPO holistic"}
    for scheme in ("PPO fine-grained", "PPO holistic"):
        assert results["summary"][scheme]["runs"] == 3
        for key, _ in METRIC_COLUMNS:
            cell = results["summary"][scheme][key]
            assert cell is None or (set(cell) == {"mean", "std"} and cell["std"] >= 0)
    assert len(results["curves"]["fine-grained"]) == 3 and len(results["curves"]["holistic"][0]) == 1
    table = (out / "results.md").read_text()
    assert table.splitlines()[0].startswith("| Policy | Rel. ratio")
    assert "| PPO holistic |" in table and "| SFT |" in table and "±" in table
    png = (out / "learning_curve.png").read_bytes()
    assert png[:8] == b"\x89PNG\r\n\x1a\n" and len(png) > 5000
    for run in ("fine-grained-seed0", "holistic-seed2"):
        assert (out / "runs" / run / "metrics.jsonl").is_file()
        assert (out / "runs" / run / "policy" / "config.json").is_file()

    # Running it again reuses every finished run instead of training again.
    import agents.ppo

    def forbidden(*args, **kwargs):
        raise AssertionError("a finished run was trained again")

    original = agents.ppo.FineGrainedPPO.train
    agents.ppo.FineGrainedPPO.train = forbidden
    try:
        assert main(argv) == 0
    finally:
        agents.ppo.FineGrainedPPO.train = original


TINY_RUN = ["--prompts-per-iteration", "1", "--samples-per-prompt", "2", "--minibatch-size", "2",
            "--max-new-tokens", "6", "--eval-questions", "2", "--no-progress"]


@pytest.mark.slow
def test_train_resume_and_evaluate(tmp_path, capsys):
    policy = save_tiny_policy(tmp_path / "tiny-policy")
    out = tmp_path / "run"
    assert main(["train", "--scheme", "sentence", "--weights", "0.2,0.6,0.2", "--policy", str(policy), "--out", str(out),
                 "--iterations", "2", "--checkpoint-every", "1", *TINY_RUN]) == 0
    assert len((out / "metrics.jsonl").read_text().splitlines()) == 2
    assert (out / "policy" / "config.json").is_file()
    # a longer budget continues the same run from its checkpoint
    assert main(["train", "--scheme", "sentence", "--weights", "0.2,0.6,0.2", "--policy", str(policy), "--out", str(out),
                 "--iterations", "3", "--checkpoint-every", "1", "--resume", *TINY_RUN]) == 0
    rows = [json.loads(line) for line in (out / "metrics.jsonl").read_text().splitlines()]
    assert [r["iteration"] for r in rows] == [1, 2, 3]
    config = json.loads((out / "run.json").read_text())["config"]
    assert (config["vf_coef"], config["kl_threshold"], config["learning_rate"]) == (0.1, 10.0, 2e-5)  # the defaults
    # resuming with other weights is refused, naming the problem
    err = _error(capsys, ["train", "--scheme", "sentence", "--weights", "0.3,0.5,0.3", "--policy", str(policy),
                          "--out", str(out), "--iterations", "4", "--resume", *TINY_RUN])
    assert "reward weights" in err
    capsys.readouterr()
    assert main(["evaluate", "--policy", str(out / "policy"), "--split", "dev", "--questions", "2", "--max-new-tokens", "6",
                 "--out", str(tmp_path / "eval.json"), "--no-progress"]) == 0
    metrics = json.loads((tmp_path / "eval.json").read_text())
    assert metrics["num_answers"] == 2 and 0.0 <= metrics["rouge_l"] <= 1.0


@pytest.mark.slow
def test_train_passes_ppo_flags_to_the_config(tmp_path):
    policy = save_tiny_policy(tmp_path / "tiny-policy")
    out = tmp_path / "run"
    assert main(["train", "--policy", str(policy), "--out", str(out), "--iterations", "1", "--vf-coef", "1.0",
                 "--kl-threshold", "none", "--value-model", "separate", "--lr", "1e-4", *TINY_RUN]) == 0
    config = json.loads((out / "run.json").read_text())["config"]
    assert (config["vf_coef"], config["kl_threshold"], config["value_model"], config["learning_rate"]) == (1.0, None, "separate", 1e-4)


@pytest.mark.slow
def test_sweep_weights_tabulates_each_value(tmp_path):
    policy = save_tiny_policy(tmp_path / "tiny-policy")
    out = tmp_path / "sweep"
    assert main(["sweep-weights", "--component", "relevance", "--values", "0.1,0.5", "--policy", str(policy),
                 "--out", str(out), "--iterations", "1", *TINY_RUN]) == 0
    results = json.loads((out / "results.json").read_text())
    assert list(results["summary"]) == ["0.1", "0.5"]
    assert results["start"]["runs"] == 1 and 0.0 <= results["start"]["rouge_l"]["mean"] <= 1.0
    table = (out / "results.md").read_text().splitlines()
    assert table[0].startswith("| relevance weight |")
    assert [line.split(" | ")[0] for line in table[2:5]] == ["| 0.1", "| 0.5", "| SFT (start)"]
    assert (out / "sweep.png").stat().st_size > 0


@pytest.mark.slow
def test_a_stale_run_folder_names_the_fix(tmp_path):
    from fg_env.checkpoint import CheckpointError
    from agents.compare import SCALES, run_and_evaluate
    from agents.evaluate import load_examples

    policy = save_tiny_policy(tmp_path / "tiny-policy")
    scale = replace(SCALES["quick"], iterations=1, prompts_per_iteration=1, samples_per_prompt=2, minibatch_size=2,
                    max_new_tokens=6, eval_questions=2)
    examples = load_examples("dev", 2)
    run = tmp_path / "run"
    first = run_and_evaluate(policy, "fine-grained", None, scale.ppo_config(0), scale, run, examples, progress=False)
    assert first["episodes"] == 2
    (run / "result.json").unlink()  # as if killed before its evaluation, then rerun with another learning rate
    with pytest.raises(CheckpointError, match=r"other settings \(learning_rate\).*; delete .* to train this run afresh"):
        run_and_evaluate(policy, "fine-grained", None, scale.ppo_config(0, learning_rate=1e-3), scale, run, examples,
                         progress=False)


def test_runs_cut_short_by_the_kl_safeguard_are_reported():
    from agents.compare import SCALES, _stopped_early

    scale, logged = SCALES["quick"], []
    assert _stopped_early({"episodes": scale.episodes_per_run}, scale, "holistic seed 0", logged.append) == []
    notes = _stopped_early({"episodes": 8}, scale, "holistic seed 1", logged.append)
    assert notes == ["holistic seed 1 was stopped by the KL safeguard after 8 episodes"]
    assert logged == ["[warning] " + notes[0]]
