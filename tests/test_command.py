"""fg_env.command, the layer every ``fg-env`` sub-command shares: argument types, flags built from a
settings dataclass, one-line errors with exit status 2, and a top-level parser that imports nothing heavy."""

from __future__ import annotations

import argparse
import subprocess
import sys
from dataclasses import dataclass, field
from typing import Literal

import pytest

from fg_env.command import (
    CommandError,
    CommandParser,
    add_config_arguments,
    float_list,
    given_fields,
    int_list,
    optional,
    positive_int,
    reported,
)
from fg_env.errors import FgEnvError, InvalidValueError, UnknownChoiceError


@dataclass
class ToyConfig:
    name: str = field(metadata={"help": "What to call it."})
    epochs: int = field(default=3, metadata={"help": "Passes over the data."})
    learning_rate: float = field(default=1e-3, metadata={"help": "Step size, 100% of it.", "aliases": ["--lr"]})
    clip: float | None = field(default=1.0, metadata={"help": "Gradient clip; none: off."})
    shuffle: bool = field(default=True, metadata={"help": "Shuffle the data."})
    mode: Literal["fast", "exact"] = field(default="fast", metadata={"help": "How."})
    pairs: tuple[tuple[str, int], ...] = ()

    def __post_init__(self) -> None:
        if self.epochs < 1:
            raise InvalidValueError(f"ToyConfig.epochs must be a positive integer, got {self.epochs}")


def _toy_parser() -> tuple[CommandParser, list[str]]:
    parser = CommandParser(prog="fg-env toy")
    return parser, add_config_arguments(parser, ToyConfig, exclude=("pairs",), defaults={"epochs": "3; quick: 1"})


def test_flags_come_from_the_fields():
    parser, names = _toy_parser()
    assert names == ["name", "epochs", "learning_rate", "clip", "shuffle", "mode"]
    args = parser.parse_args(["--name", "x", "--lr", "0.5", "--clip", "none", "--no-shuffle", "--mode", "exact"])
    assert ToyConfig(**given_fields(args, names)) == ToyConfig("x", learning_rate=0.5, clip=None, shuffle=False, mode="exact")
    # a flag not given leaves its field to the dataclass (or to a preset)
    assert given_fields(parser.parse_args(["--name", "x"]), names) == {"name": "x"}
    help_text = " ".join(parser.format_help().split())
    assert "--learning-rate X, --lr X Step size, 100% of it. (default: 0.001)" in help_text
    assert "Passes over the data. (default: 3; quick: 1)" in help_text and "--shuffle, --no-shuffle" in help_text
    assert "--clip X|none" in help_text and "{fast,exact}" in help_text


@dataclass(frozen=True)
class PlanConfig:
    seeds: tuple[int, ...] = field(default=(0, 1), metadata={"help": "Seeds.", "metavar": "S,S,..."})
    weights: tuple[float, ...] | None = field(default=None, metadata={"help": "Weights."})
    kl: dict[str, float] = field(default_factory=dict, metadata={"help": "Per scheme."})
    name: str = field(default="synthetic", metadata={"help": "Dataset.", "flag": "--dataset"})
    policy: str = field(default="p", metadata={"help": "Policy."})


def test_lists_maps_and_named_flags_come_from_the_fields():
    parser = CommandParser(prog="fg-env plan")
    names = add_config_arguments(parser, PlanConfig, include=("seeds", "weights", "kl", "name"))
    assert names == ["seeds", "weights", "kl", "name"]
    args = parser.parse_args(["--seeds", "3,4", "--weights", "0.5,1", "--kl", "holistic=0.2", "--dataset", "x"])
    assert PlanConfig(**given_fields(args, names)) == PlanConfig((3, 4), (0.5, 1.0), {"holistic": 0.2}, "x")
    help_text = " ".join(parser.format_help().split())
    assert "--seeds S,S,... Seeds. (default: 0,1)" in help_text and "--weights X,..." in help_text
    assert "--kl NAME=X,... Per scheme. (default: none)" in help_text and "--policy" not in help_text
    required = CommandParser(prog="fg-env plan")
    add_config_arguments(required, PlanConfig, include=("policy",), options={"policy": {"required": True}})
    with pytest.raises(SystemExit):
        required.parse_args([])


def test_a_field_without_a_flag_type_must_be_left_out():
    with pytest.raises(TypeError, match="'pairs'.*exclude"):
        add_config_arguments(CommandParser(), ToyConfig)


@pytest.mark.parametrize("parse, text, message", [
    (positive_int, "0", "must be a positive integer, got 0"),
    (positive_int, "2.5", "expected an integer, got '2.5'"),
    (float_list, "0.3,x", "expected comma-separated numbers such as 0.3,0.5,0.3, got '0.3,x'"),
    (float_list, "nan", "expected comma-separated finite numbers"),
    (int_list, ",", "expected at least one integer"),
    (optional(positive_int), "never", "expected a positive integer or 'none', got 'never'"),
])
def test_argument_types_name_what_they_expected(parse, text, message):
    with pytest.raises(argparse.ArgumentTypeError, match=message.replace("(", r"\(").replace(")", r"\)")):
        parse(text)


def test_parser_errors_are_one_line_with_status_2(capsys):
    parser, _ = _toy_parser()
    with pytest.raises(SystemExit) as stop:
        parser.parse_args(["--name", "x", "--epochs", "many"])
    err = capsys.readouterr().err
    assert stop.value.code == 2 and err == "fg-env toy: error: argument --epochs: expected an integer, got 'many' (see fg-env toy --help)\n"


def test_flags_are_added_when_first_needed():
    added = []
    parser = CommandParser(prog="fg-env lazy", arguments=lambda p: added.append(p.add_argument("--n", type=int)))
    assert added == []
    assert parser.parse_args(["--n", "2"]).n == 2 and len(added) == 1
    parser.format_help()
    assert len(added) == 1  # once


@pytest.mark.parametrize("error, line", [
    (CommandError("--seeds must be distinct, got [0, 0]"), "--seeds must be distinct, got [0, 0]"),
    (InvalidValueError("ToyConfig.epochs must be a positive integer,\n got 0"), "ToyConfig.epochs must be a positive integer, got 0"),
    (UnknownChoiceError("scheme", "holstic", ["holistic"]), "unknown scheme 'holstic'; valid choices: holistic"),
    (FileNotFoundError(2, "No such file or directory", "/data/f.json"), "No such file or directory: '/data/f.json'"),
])
def test_input_errors_are_reported_in_one_line(error, line, capsys):
    def run(args):
        raise error

    assert reported("fg-env toy", run)(argparse.Namespace()) == 2
    assert capsys.readouterr().err == f"fg-env toy: error: {line}\n"


def test_bugs_keep_their_traceback_and_so_does_input_on_request(monkeypatch):
    def bug(args):
        raise ZeroDivisionError("a bug, not bad input")

    with pytest.raises(ZeroDivisionError):
        reported("fg-env toy", bug)(argparse.Namespace())

    def bad_input(args):
        raise InvalidValueError("bad input")

    monkeypatch.setenv("FG_ENV_TRACEBACK", "1")
    with pytest.raises(InvalidValueError):
        reported("fg-env toy", bad_input)(argparse.Namespace())


def test_a_value_error_from_inside_torch_is_a_bug_with_its_traceback(capsys):
    """Only fg_env's own errors are the user's input: a ValueError out of a library is a bug, and the
    command shows where it happened instead of one misleading line."""
    import torch

    def broken(args):
        # A mismatched batch: torch raises ValueError from inside cross_entropy.
        return torch.nn.functional.cross_entropy(torch.zeros(3, 5), torch.zeros(2, dtype=torch.long))

    with pytest.raises(ValueError, match="batch_size") as caught:
        reported("fg-env toy", broken)(argparse.Namespace())
    assert not isinstance(caught.value, FgEnvError)
    assert any("torch" in entry.path.parts for entry in caught.traceback)  # the traceback reaches into torch
    assert capsys.readouterr().err == ""  # nothing was printed as if it were the user's mistake


def test_every_project_error_is_an_fg_env_error_with_its_builtin_parent():
    from fg_env import errors

    classes = [getattr(errors, name) for name in errors.__all__]
    assert all(issubclass(cls, errors.FgEnvError) for cls in classes)
    assert issubclass(errors.InvalidValueError, ValueError) and issubclass(errors.UnknownChoiceError, KeyError)
    assert issubclass(errors.CheckpointError, RuntimeError) and issubclass(errors.ModelNotFoundError, FileNotFoundError)
    assert issubclass(errors.ResetNeededError, RuntimeError) and issubclass(errors.InvalidActionError, TypeError)


def test_checkpoint_errors_are_input_errors(tmp_path, capsys):
    from fg_env.checkpoint import load_checkpoint

    (tmp_path / "checkpoint.pt").write_bytes(b"not a checkpoint")
    assert reported("fg-env toy", lambda args: load_checkpoint(tmp_path / "checkpoint.pt"))(argparse.Namespace()) == 2
    err = capsys.readouterr().err
    assert err.startswith("fg-env toy: error: ") and len(err.splitlines()) == 1


def test_info_rejects_unknown_flags_in_one_line(capsys):
    from fg_env.cli import main

    with pytest.raises(SystemExit) as stop:
        main(["info", "--verbose"])
    err = capsys.readouterr().err
    assert stop.value.code == 2 and err.strip() == "fg-env: error: unrecognized arguments: --verbose (see fg-env --help)"


def test_the_top_level_help_imports_no_settings_module():
    """``fg-env --help`` lists every command without importing torch, transformers or a settings class."""
    code = ("import sys; from fg_env.cli import build_parser; text = build_parser().format_help(); "
            "heavy = [m for m in ('torch', 'transformers', 'agents.algorithms.ppo', 'agents.policies.sft') if m in sys.modules]; "
            "assert not heavy, heavy; assert 'sweep-weights' in text and 'rm' in text")
    subprocess.run([sys.executable, "-c", code], check=True)
