"""The agents' ``fg-env`` commands: bad input stops them with a clear error before any training, and a
micro comparison on a tiny model writes its results, table and plot."""

from __future__ import annotations

import json
from dataclasses import replace

import pytest
from _agents_tiny import save_tiny_policy
from conftest import cli_error

from fg_env.cli import main


@pytest.fixture
def no_training(monkeypatch):
    """Fail the test if a command reaches SFT or PPO: input errors must come first."""
    import agents.algorithms.ppo
    import agents.policies.sft

    def forbidden(*args, **kwargs):
        raise AssertionError("training started before the input was checked")

    monkeypatch.setattr(agents.policies.sft, "build_default_policy", forbidden)
    monkeypatch.setattr(agents.algorithms.ppo.FineGrainedPPO, "train", forbidden)




@pytest.mark.parametrize(
    "argv, message",
    [
        # train: weights, numbers (checked by PPOConfig / EvaluationConfig), names, files, flag combinations
        (["train", "--out", "{tmp}/r", "--weights", "0.3,0.5"], "fg-env train: error: --weights needs 3 values, one per reward model (relevance, factuality, completeness); got 2"),
        (["train", "--out", "{tmp}/r", "--weights", "0.3,x,0.3"], "argument --weights: expected comma-separated numbers"),
        (["train", "--out", "{tmp}/r", "--weights=-0.3,0.5,0.3"], "--weights must not be negative"),
        (["train", "--out", "{tmp}/r", "--lr=-1e-4"], "PPOConfig.learning_rate must be > 0, got -0.0001"),
        (["train", "--out", "{tmp}/r", "--learning-rate", "-0.001"], "PPOConfig.learning_rate must be > 0, got -0.001"),
        (["train", "--out", "{tmp}/r", "--batch-size", "-8"], "PPOConfig.minibatch_size must be a positive integer, got -8"),
        (["train", "--out", "{tmp}/r", "--prompts-per-iteration", "0"], "PPOConfig.prompts_per_iteration must be a positive integer, got 0"),
        (["train", "--out", "{tmp}/r", "--iterations", "ten"], "argument --iterations: expected an integer, got 'ten'"),
        (["train", "--out", "{tmp}/r", "--vf-coef", "-1"], "PPOConfig.vf_coef must be >= 0, got -1.0"),
        (["train", "--out", "{tmp}/r", "--gamma", "1.5"], "PPOConfig.gamma must lie in [0, 1], got 1.5"),
        (["train", "--out", "{tmp}/r", "--kl-threshold", "0"], "PPOConfig.kl_threshold must be > 0 or None, got 0.0"),
        (["train", "--out", "{tmp}/r", "--kl-threshold", "never"], "argument --kl-threshold: expected a number or 'none', got 'never'"),
        (["train", "--out", "{tmp}/r", "--value-model", "shared"], "argument --value-model: invalid choice: 'shared'"),
        (["train", "--out", "{tmp}/r", "--eval-questions", "0"], "EvaluationConfig.eval_questions must be a positive integer, got 0"),
        (["train", "--out", "{tmp}/r", "--episodes", "0"], "argument --episodes: must be a positive integer, got 0"),
        (["train", "--out", "{tmp}/r", "--preset", "huge"], "argument --preset: invalid choice: 'huge'"),
        (["train", "--out", "{tmp}/r", "--policy", "{tmp}/no-such-model"], "policy path '{tmp}/no-such-model' does not exist"),
        (["train", "--out", "{tmp}/r", "--scheme", "dense"], "unknown reward scheme 'dense'; valid choices: fine-grained, holistic"),
        (["train", "--out", "{tmp}/empty", "--resume"], "checkpoint.pt' does not exist"),
        (["train", "--out", "{tmp}/r", "--iterations", "2", "--episodes", "8"], "--episodes and --iterations both set the budget"),
        (["train", "--out", "{tmp}/r", "--quick", "--preset", "default"], "argument --preset: not allowed with argument --quick"),
        (["train", "--scheme", "holistic"], "the following arguments are required: --out"),
        (["train", "--out", "{tmp}/r", "--warm-up", "3"], "unrecognized arguments: --warm-up 3"),
        # compare
        (["compare", "--out", "{tmp}/c", "--seeds", "0,0,1"], "--seeds must be distinct"),
        (["compare", "--out", "{tmp}/c", "--seeds", "0,one"], "argument --seeds: expected comma-separated integers"),
        (["compare", "--out", "{tmp}/c", "--schemes", "fine-grained,sparse"], "unknown reward scheme 'sparse'"),
        (["compare", "--out", "{tmp}/c", "--weights", "1,1,1,1"], "needs 3 values"),
        (["compare", "--out", "{tmp}/c", "--quick", "--samples-per-prompt", "0"], "PPOConfig.samples_per_prompt must be a positive integer, got 0"),
        (["compare", "--out", "{tmp}/c", "--policy", "{tmp}/gone"], "policy path '{tmp}/gone' does not exist"),
        (["compare", "--out", "{tmp}/c", "--scheme-kl-coef", "sparse=0.2"], "unknown reward scheme 'sparse'"),
        (["compare", "--out", "{tmp}/c", "--scheme-kl-coef", "holistic"], "expected NAME=NUMBER pairs such as holistic=0.2"),
        (["compare", "--out", "{tmp}/c", "--scheme-kl-coef", "holistic=-1"], "KL coefficient of scheme 'holistic' must be a number >= 0, got -1.0"),
        (["compare", "--out", "{tmp}/c", "--eval-every", "-1"], "EvaluationConfig.eval_every must be a non-negative integer, got -1"),
        # sweep-weights
        (["sweep-weights", "--component", "fluency", "--values", "0.1,0.3"], "unknown reward component 'fluency'; valid choices: relevance, factuality, completeness"),
        (["sweep-weights", "--component", "relevance", "--values=0.1,-0.3"], "--values must not be negative"),
        (["sweep-weights", "--component", "relevance", "--values", "low"], "argument --values: expected comma-separated numbers"),
        (["sweep-weights", "--component", "relevance"], "the following arguments are required: --values"),
        (["sweep-weights", "--component", "relevance", "--values", "0.1", "--max-sentences", "-2"], "EvaluationConfig.max_sentences must be a positive integer, got -2"),
        # evaluate
        (["evaluate", "--policy", "{tmp}/missing", "--split", "dev"], "policy path '{tmp}/missing' does not exist"),
        (["evaluate", "--split", "train"], "argument --split: invalid choice: 'train'"),
        (["evaluate", "--questions", "0"], "argument --questions: must be a positive integer, got 0"),
        # sft (numbers checked by SFTConfig)
        (["sft", "--n-head", "5"], "SFTConfig.n_embd=192 must be divisible by n_head=5"),
        (["sft", "--epochs", "0"], "SFTConfig.epochs must be a positive integer, got 0"),
        (["sft", "--quick", "--max-answer-tokens", "600"], "max_answer_tokens=600 leaves no room for a prompt"),
        (["sft", "--architecture", "rnn"], "argument --architecture: invalid choice: 'rnn'"),
        (["sft", "--lr", "fast"], "argument --learning-rate/--lr: expected a number, got 'fast'"),
        # the command itself
        (["trian"], "argument COMMAND: invalid choice: 'trian'"),
    ],
)
def test_bad_input_is_one_line_before_training(argv, message, tmp_path, capsys, no_training):
    argv = [a.replace("{tmp}", str(tmp_path)) for a in argv]
    assert message.replace("{tmp}", str(tmp_path)) in cli_error(capsys, argv)


def test_corrupt_checkpoint_is_reported_before_training(tmp_path, capsys, no_training):
    run = tmp_path / "run"
    run.mkdir()
    (run / "checkpoint.pt").write_bytes(b"\x00\x01 half a checkpoint")
    err = cli_error(capsys, ["train", "--out", str(run), "--resume"])
    assert "checkpoint" in err and "is corrupt or not a checkpoint" in err


def test_existing_run_needs_resume(tmp_path, capsys, no_training):
    (tmp_path / "checkpoint.pt").write_bytes(b"x")
    assert "already holds a run" in cli_error(capsys, ["train", "--out", str(tmp_path)])


def test_a_folder_that_is_not_a_model_is_rejected(tmp_path, capsys, no_training):
    folder = tmp_path / "not-a-model"
    folder.mkdir()
    err = cli_error(capsys, ["train", "--out", str(tmp_path / "r"), "--policy", str(folder)])
    assert "holds no config.json" in err


@pytest.mark.slow
def test_micro_compare_writes_results_table_plot_and_report(tmp_path, capsys):
    from agents.reporting.stats import METRIC_COLUMNS

    policy = save_tiny_policy(tmp_path / "tiny-policy")
    out = tmp_path / "compare"
    argv = ["compare", "--out", str(out), "--policy", str(policy), "--seeds", "0,1,2", "--iterations", "2",
            "--eval-every", "1", "--scheme-kl-coef", "holistic=0.2",
            "--prompts-per-iteration", "1", "--samples-per-prompt", "2", "--minibatch-size", "2",
            "--max-new-tokens", "6", "--eval-questions", "2", "--no-progress"]
    assert main(argv) == 0
    results = json.loads((out / "results.json").read_text())
    assert set(results["summary"]) == {"SFT", "random sentences", "PPO fine-grained", "PPO holistic"}
    for scheme in ("PPO fine-grained", "PPO holistic"):
        assert results["summary"][scheme]["runs"] == 3
        for key, _ in METRIC_COLUMNS:
            cell = results["summary"][scheme][key]
            assert cell is None or (set(cell) == {"mean", "std", "ci95"} and cell["ci95"] >= cell["std"] >= 0)
    assert len(results["curves"]["fine-grained"]) == 3 and len(results["curves"]["holistic"][0]) == 2
    # Holistic took its own KL coefficient, fine-grained the shared one.
    run_config = lambda run: json.loads((out / "runs" / run / "run.json").read_text())["config"]
    assert run_config("holistic-seed1")["kl_coef"] == 0.2 and run_config("fine-grained-seed1")["kl_coef"] == 0.3
    # Paired test on the same seeds and questions: the mean difference is the difference of the means.
    paired = results["paired"]["fine-grained vs holistic"]
    for key in paired:
        expected = results["summary"]["PPO fine-grained"][key]["mean"] - results["summary"]["PPO holistic"][key]["mean"]
        assert paired[key]["mean"] == pytest.approx(expected) and 0 <= paired[key]["p_value"] <= 1
    # Evaluation curves: the SFT start, iteration 1, and the final evaluation (the table's), per run.
    curve = results["eval_curves"]["fine-grained"][1]
    assert [point["episodes"] for point in curve] == [0, 2, 4]
    assert curve[0]["relevance_ratio"] == results["per_seed"]["SFT"][0]["relevance_ratio"]
    assert curve[-1]["relevance_ratio"] == results["per_seed"]["PPO fine-grained"][1]["relevance_ratio"]
    efficiency = results["sample_efficiency"]["fine-grained vs holistic"]
    assert set(efficiency) == {"relevance_ratio", "factuality_ratio", "completeness", "rouge_l"}
    assert all(row["budget"] == 4 and 0 <= row["reached_share"] <= 1 for row in efficiency.values())
    table = (out / "results.md").read_text()
    # 4 episodes per run: the table first says that it checks the pipeline, and where the result is.
    notice, blank, header = table.splitlines()[:3]
    assert notice.startswith("**A pipeline check, not a result**: 4 episodes per run") and not blank
    assert "results/compare_default/results.md" in notice and "fg-env compare --eval-every 5 --out results/compare_default" in notice
    assert header.startswith("| Policy | Rel. ratio")
    assert "Greedy decoding on 2 dev questions of the built-in world; PPO: 4 episodes per run" in table
    assert "A pipeline check, not a result" in capsys.readouterr().out
    assert "| PPO holistic |" in table and "| SFT |" in table and "±" in table
    assert "| fine-grained − holistic | mean difference |" in table and "episodes fine-grained needs" in table
    for figure in ("learning_curve.png", "eval_curves.png"):
        png = (out / figure).read_bytes()
        assert png[:8] == b"\x89PNG\r\n\x1a\n" and len(png) > 5000
    # report.html: the table, the curves, and each sample question answered by every arm side by side
    # (its structure in detail: tests/test_render.py).
    report = (out / "report.html").read_text(encoding="utf-8")
    samples = results["per_seed"]["SFT"][0]["samples"]
    assert '<table class="fg-results">' in report and '<img src="learning_curve.png"' in report
    assert report.count('<section class="fg-sample"') == len(samples) == 2
    assert report.count('class="fg-answer"') == 4 * len(samples)
    for arm in results["summary"]:
        assert report.count(f'data-arm="{arm}"') == len(samples)
    for run in ("fine-grained-seed0", "holistic-seed2"):
        assert (out / "runs" / run / "metrics.jsonl").is_file()
        assert (out / "runs" / run / "policy" / "config.json").is_file()

    # Running it again reuses every finished run instead of training again.
    import agents.algorithms.ppo

    def forbidden(*args, **kwargs):
        raise AssertionError("a finished run was trained again")

    original = agents.algorithms.ppo.FineGrainedPPO.train
    agents.algorithms.ppo.FineGrainedPPO.train = forbidden
    try:
        assert main(argv) == 0
    finally:
        agents.algorithms.ppo.FineGrainedPPO.train = original


TINY_RUN = ["--prompts-per-iteration", "1", "--samples-per-prompt", "2", "--minibatch-size", "2",
            "--max-new-tokens", "6", "--eval-questions", "2", "--no-progress"]


@pytest.mark.slow
def test_compare_evaluates_every_row_and_the_report_on_the_eval_split(tmp_path):
    """--eval-split test: the SFT, random and PPO rows answer the same test questions, and the report replays
    them on the test split (the random row and the report once used dev whatever the flag said)."""
    policy = save_tiny_policy(tmp_path / "tiny-policy")
    out = tmp_path / "compare"
    assert main(["compare", "--out", str(out), "--policy", str(policy), "--eval-split", "test", "--seeds", "0",
                 "--schemes", "fine-grained", "--iterations", "1", *TINY_RUN]) == 0
    results = json.loads((out / "results.json").read_text())
    assert results["eval_split"] == "test" and results["dataset"]["eval_split"] == "test"
    ids = {row: [s["example_id"] for s in evals[0]["samples"]] for row, evals in results["per_seed"].items()}
    assert ids["SFT"] == ["synthetic-test-00000", "synthetic-test-00001"]
    assert ids["random sentences"] == ids["PPO fine-grained"] == ids["SFT"]
    report = (out / "report.html").read_text(encoding="utf-8")
    assert "synthetic-test-00000" in report and "synthetic-dev-" not in report
    assert "Greedy decoding on 2 test questions of the built-in world" in (out / "results.md").read_text()
    run = json.loads((out / "runs" / "fine-grained-seed0" / "result.json").read_text())
    assert run["key"]["dataset"]["eval_split"] == "test"


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
    err = cli_error(capsys, ["train", "--scheme", "sentence", "--weights", "0.3,0.5,0.3", "--policy", str(policy),
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
    from agents.experiments.run import RUN_KEY_VERSION, RunSpec
    from agents.experiments.runner import run_and_evaluate
    from agents.experiments.settings import PRESETS
    from fg_env.checkpoint import CheckpointError

    policy = save_tiny_policy(tmp_path / "tiny-policy")
    config = PRESETS["quick"].config(
        training={"iterations": 1, "prompts_per_iteration": 1, "samples_per_prompt": 2, "minibatch_size": 2, "max_new_tokens": 6},
        evaluation={"eval_questions": 2})
    spec = RunSpec.from_experiment(config, policy)
    run = tmp_path / "run"
    first = run_and_evaluate(spec, run, progress=False)
    assert first["episodes"] == 2 and first["key"] == spec.key() and first["key"]["version"] == RUN_KEY_VERSION
    assert json.loads((run / "run.json").read_text())["config"] == spec.key()["config"]
    (run / "result.json").unlink()  # as if killed before its evaluation, then rerun with another learning rate
    other = replace(spec, training=replace(spec.training, learning_rate=1e-3))
    with pytest.raises(CheckpointError, match=r"other settings \(learning_rate\).*; delete .* to train this run afresh"):
        run_and_evaluate(other, run, progress=False)


def test_runs_cut_short_by_the_kl_safeguard_are_reported():
    from agents.experiments.compare import stopped_early
    from agents.experiments.settings import PRESETS

    config, logged = PRESETS["quick"].config(), []
    assert stopped_early({"episodes": config.episodes_per_run}, config, "holistic seed 0", logged.append) == []
    notes = stopped_early({"episodes": 8}, config, "holistic seed 1", logged.append)
    assert notes == ["holistic seed 1 was stopped by the KL safeguard after 8 episodes"]
    assert logged == ["[warning] " + notes[0]]


# ----------------------------------------------------------------------------------------------------
# presets, flags from the settings, the documented command lines
# ----------------------------------------------------------------------------------------------------


def test_presets_keep_the_sizes_of_the_former_scales():
    from agents.experiments.settings import PRESETS, EvaluationConfig, ExperimentConfig
    from agents.algorithms.ppo import PPOConfig

    quick = PPOConfig(iterations=8, prompts_per_iteration=2, samples_per_prompt=4, minibatch_size=8, max_new_tokens=64)
    default = PPOConfig(iterations=20, prompts_per_iteration=4, samples_per_prompt=4, minibatch_size=8, max_new_tokens=80)
    tuned = {"holistic": 0.2}  # holistic's KL coefficient from the grid
    assert PRESETS["quick"].config() == ExperimentConfig(quick, EvaluationConfig(eval_questions=24, max_sentences=6), sft="quick", scheme_kl_coef=tuned)
    assert PRESETS["default"].config() == ExperimentConfig(default, EvaluationConfig(eval_questions=100, max_sentences=6), sft="default", scheme_kl_coef=tuned)
    assert PRESETS["default"].config().for_run("holistic", 0).training.kl_coef == 0.2
    assert (PRESETS["quick"].config().episodes_per_run, PRESETS["default"].config().episodes_per_run) == (64, 320)


def _parse(argv: list[str]):
    from fg_env.cli import build_parser

    return build_parser().parse_args(argv)


def test_explicit_flags_override_the_preset():
    from agents.cli.flags import experiment_config as _experiment

    config = _experiment(_parse(["compare", "--quick", "--iterations", "3", "--lr", "1e-4", "--eval-questions", "5",
                                 "--kl-threshold", "none", "--no-whiten-rewards"]))
    assert (config.sft, config.training.iterations, config.training.prompts_per_iteration, config.training.max_new_tokens) == ("quick", 3, 2, 64)
    assert (config.training.learning_rate, config.training.kl_threshold, config.training.whiten_rewards) == (1e-4, None, False)
    assert (config.evaluation.eval_questions, config.evaluation.max_sentences) == (5, 6)
    assert _experiment(_parse(["compare", "--quick", "--episodes", "20"])).training.iterations == 3  # 8 episodes per iteration
    assert _experiment(_parse(["train", "--out", "x"])) == _experiment(_parse(["train", "--out", "x", "--preset", "default"]))
    assert _experiment(_parse(["train", "--out", "x", "--seed", "4"])).training.seed == 4


def _settings_actions(argv: list[str]) -> dict[str, object]:
    from fg_env.cli import build_parser

    parser = build_parser()
    parser.parse_args(argv)  # adds the command's flags
    command = parser._subparsers._group_actions[0].choices[argv[0]]
    return {action.dest: action for action in command._actions}


@pytest.mark.parametrize("command, settings, left_out", [
    (["train", "--out", "x"], "agents.algorithms.ppo:PPOConfig", ()),
    (["compare"], "agents.algorithms.ppo:PPOConfig", ("seed",)),
    (["sweep-weights", "--component", "relevance", "--values", "0.1"], "agents.algorithms.ppo:PPOConfig", ("seed",)),
    (["train", "--out", "x"], "agents.experiments.settings:EvaluationConfig", ()),
    (["sft"], "agents.policies.sft:SFTConfig", ("dataset_kwargs",)),
])
def test_every_setting_is_a_flag_with_the_fields_help(command, settings, left_out):
    import dataclasses
    import importlib

    module, name = settings.split(":")
    actions = _settings_actions(command)
    for field in dataclasses.fields(getattr(importlib.import_module(module), name)):
        if field.name in left_out:
            assert field.name not in actions
            continue
        action = actions[field.name]
        assert f"--{field.name.replace('_', '-')}" in action.option_strings
        assert field.metadata["help"] and action.help.startswith(field.metadata["help"].replace("%", "%%")), field.name


def test_ppo_config_is_read_by_hf_argument_parser_too():
    from transformers import HfArgumentParser

    from agents.algorithms.ppo import PPOConfig

    (config,) = HfArgumentParser(PPOConfig).parse_args_into_dataclasses(
        ["--lr", "1e-4", "--value_model", "separate", "--batch-size", "4", "--no_whiten_rewards"], look_for_args_file=False)
    assert config == PPOConfig(learning_rate=1e-4, value_model="separate", minibatch_size=4, whiten_rewards=False)


def _documented_command_lines() -> list[str]:
    """Every ``fg-env ...`` command line of the README and BENCHMARKS, in code blocks or inline code."""
    import re
    from pathlib import Path

    root = Path(__file__).resolve().parents[1]
    lines = []
    for name in ("README.md", "BENCHMARKS.md"):
        for match in re.finditer(r"(?:^|[`&;]\s*)(fg-env(?: [^`#\n&;|]*)?)", (root / name).read_text(), re.MULTILINE):
            line = match.group(1).strip()
            if line != "fg-env":
                lines.append(line)
    return sorted(set(lines))


def test_the_documentation_has_command_lines():
    lines = _documented_command_lines()
    assert len(lines) >= 15 and "fg-env compare --quick --out runs/quick" in lines
    assert any(line.startswith("fg-env rm train") for line in lines)


@pytest.mark.parametrize("line", _documented_command_lines())
def test_documented_command_lines_parse_and_their_settings_are_valid(line):
    """Each command line of the README and BENCHMARKS parses with today's flags, and the settings it gives
    pass their checks (nothing runs)."""
    import shlex

    from agents.cli.flags import experiment_config as _experiment
    from fg_env.command import given_fields
    from fg_env.rewards.learned.config import TrainingConfig

    argv = shlex.split(line.replace("$F", "feedback.json"))[1:]
    args = _parse(argv)
    assert args.func is not None
    if argv[0] in ("train", "compare", "sweep-weights"):
        _experiment(args)
    elif argv[:2] == ["rm", "train"]:
        TrainingConfig(**given_fields(args, args.training_fields))
    if "--kl-threshold" in argv:
        assert args.kl_threshold is None  # "none"


def test_a_scheme_keeps_its_own_kl_coefficient_unless_kl_coef_is_given_alone():
    from agents.cli.flags import experiment_config as _experiment

    tuned = _experiment(_parse(["compare", "--scheme-kl-coef", "holistic=0.15"]))
    assert tuned.for_run("holistic", 0).training.kl_coef == 0.15 and tuned.for_run("fine-grained", 0).training.kl_coef == 0.3
    assert tuned.for_run("holistic", 4).training.seed == 4 and not tuned.for_run("holistic", 4).scheme_kl_coef
    everywhere = _experiment(_parse(["compare", "--kl-coef", "0.05"]))
    assert {everywhere.for_run(s, 0).training.kl_coef for s in ("holistic", "fine-grained")} == {0.05}
    both = _experiment(_parse(["compare", "--kl-coef", "0.05", "--scheme-kl-coef", "holistic=0.1"]))
    assert (both.for_run("holistic", 0).training.kl_coef, both.for_run("episode", 0).training.kl_coef) == (0.1, 0.05)


@pytest.mark.parametrize("argv", [["compare"], ["sweep-weights", "--component", "relevance", "--values", "0.1"],
                                  ["learned-vs-exact"], ["sb3-compare"]])
def test_a_command_writes_to_runs_of_its_own_name_by_default(argv):
    assert _parse(argv).out == f"runs/{argv[0]}"


@pytest.mark.parametrize("argv", [["sft"], ["evaluate"], ["compare"], ["train", "--out", "x"], ["learned-vs-exact"],
                                  ["sweep-weights", "--component", "relevance", "--values", "0.1"]])
def test_quick_means_the_quick_preset_in_every_command(argv):
    assert _parse([*argv, "--quick"]).preset == "quick" and _parse([*argv, "--preset", "quick"]).preset == "quick"
    assert _parse(argv).preset is None  # the default preset


def test_settings_renamed_keep_their_flags():
    assert _parse(["sft", "--warmup-fraction", "0.1"]).warmup_ratio == 0.1
    assert _parse(["compare", "--no-random-baseline"]).random_baseline is False
