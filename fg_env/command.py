"""What every ``fg-env`` sub-command shares: argument types, flags built from config dataclasses, one-line errors.

1. **Argument types** (:func:`positive_int`, :func:`float_list`, ...): each raises
   :class:`argparse.ArgumentTypeError` with a message naming what it expected.
2. **Flags from config dataclasses** (:func:`add_config_arguments`): one flag per field of a
   config dataclass (``PPOConfig``, ``SFTConfig``, the reward models' ``TrainingConfig``...), its help
   the field's ``metadata["help"]``, so a setting is documented once and the flag's help cannot drift.
   The fields follow TRL's convention (``field(default=..., metadata={"help": ..., "aliases": [...]})``),
   so ``transformers.HfArgumentParser`` reads the same dataclasses. The types come from the field's
   annotation; the ranges are checked by the dataclass's own ``__post_init__``, once, for Python
   callers and the command line alike.
3. **Errors** (:class:`CommandParser`, :func:`reported`): a bad flag (argparse) and bad input found
   while the command runs (any :class:`~fg_env.errors.FgEnvError`: an unknown name, a setting out of range, a missing
   file, a corrupt checkpoint...) both print ``fg-env COMMAND: error: <one line>`` and exit with
   status 2. Any other exception is a bug and shows its traceback; set ``FG_ENV_TRACEBACK=1`` to see
   the traceback of an input error too.

Sub-commands are parsed by :class:`CommandParser`, which adds a sub-command's flags only when that
sub-command is parsed or its help printed, so ``fg-env --help`` imports no config module (nor torch). This module imports only the standard
library and :mod:`fg_env.errors`.

Example:
    >>> from dataclasses import dataclass, field
    >>> @dataclass
    ... class Config:
    ...     epochs: int = field(default=3, metadata={"help": "Passes over the data."})
    ...     learning_rate: float = field(default=1e-3, metadata={"help": "Adam step size.", "aliases": ["--lr"]})
    >>> parser = CommandParser(prog="demo")
    >>> names = add_config_arguments(parser, Config)
    >>> Config(**given_fields(parser.parse_args(["--lr", "0.01"]), names))
    Config(epochs=3, learning_rate=0.01)
"""

from __future__ import annotations

import argparse
import dataclasses
import functools
import math
import os
import shutil
import sys
import textwrap
import types
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any, Literal, Union, cast, get_args, get_origin, get_type_hints

from fg_env.errors import CommandError, FgEnvError, InvalidTypeError

__all__ = [
    "NONE",
    "CommandError",
    "CommandParser",
    "add_command",
    "add_config_arguments",
    "add_progress_flag",
    "float_list",
    "given_fields",
    "int_list",
    "integer",
    "name_list",
    "non_negative_float",
    "number",
    "optional",
    "positive_float",
    "positive_int",
    "reported",
]

TRACEBACK_VARIABLE = "FG_ENV_TRACEBACK"
NONE = "none"  # how a command line spells a setting's None (e.g. --kl-threshold none)

# ----------------------------------------------------------------------------------------------------
# 1. Argument types: each names what it expected
# ----------------------------------------------------------------------------------------------------


def integer(text: str) -> int:
    """An integer (the range is the setting's to check).

    Example:
        >>> integer("12")
        12
    """
    try:
        return int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected an integer, got {text!r}") from None


def number(text: str) -> float:
    """A finite number (the range is the setting's to check).

    Example:
        >>> number("1e-4")
        0.0001
    """
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number, got {text!r}") from None
    if not math.isfinite(value):
        raise argparse.ArgumentTypeError(f"expected a finite number, got {text!r}")
    return value


def positive_int(text: str) -> int:
    """An integer > 0.

    Example:
        >>> positive_int("3")
        3
    """
    value = integer(text)
    if value <= 0:
        raise argparse.ArgumentTypeError(f"must be a positive integer, got {value}")
    return value


def positive_float(text: str) -> float:
    """A finite number > 0."""
    value = number(text)
    if value <= 0:
        raise argparse.ArgumentTypeError(f"must be a number > 0, got {text}")
    return value


def non_negative_float(text: str) -> float:
    """A finite number >= 0."""
    value = number(text)
    if value < 0:
        raise argparse.ArgumentTypeError(f"must be a number >= 0, got {text}")
    return value


def optional(parse: Callable[[str], Any]) -> Callable[[str], Any]:
    """``parse``, or None for the word ``none``: how a command line sets an optional setting to None.

    Example:
        >>> kl_threshold = optional(number)
        >>> kl_threshold("none"), kl_threshold("10")
        (None, 10.0)
    """

    def parse_or_none(text: str) -> Any:
        if text.strip().lower() == NONE:
            return None
        try:
            return parse(text)
        except argparse.ArgumentTypeError:
            expected = _EXPECTED.get(parse, "a value")
            raise argparse.ArgumentTypeError(f"expected {expected} or '{NONE}', got {text!r}") from None

    parse_or_none.__name__ = f"{getattr(parse, '__name__', 'value')} or {NONE}"
    return parse_or_none


_EXPECTED: dict[Callable[[str], Any], str] = {
    integer: "an integer",
    number: "a number",
    positive_int: "a positive integer",
    positive_float: "a number > 0",
    non_negative_float: "a number >= 0",
}


def float_list(text: str) -> list[float]:
    """Comma-separated finite numbers.

    Example:
        >>> float_list("0.3,0.5,0.3")
        [0.3, 0.5, 0.3]
    """
    try:
        values = [float(part) for part in text.split(",") if part.strip()]
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"expected comma-separated numbers such as 0.3,0.5,0.3, got {text!r}"
        ) from None
    if not values or not all(math.isfinite(v) for v in values):
        raise argparse.ArgumentTypeError(f"expected comma-separated finite numbers, got {text!r}")
    return values


def int_list(text: str) -> list[int]:
    """Comma-separated integers.

    Example:
        >>> int_list("0,1,2")
        [0, 1, 2]
    """
    try:
        values = [int(part) for part in text.split(",") if part.strip()]
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected comma-separated integers such as 0,1,2, got {text!r}") from None
    if not values:
        raise argparse.ArgumentTypeError(f"expected at least one integer, got {text!r}")
    return values


def name_list(text: str) -> list[str]:
    """Comma-separated names (checked against the valid ones by the command).

    Example:
        >>> name_list("fine-grained, holistic")
        ['fine-grained', 'holistic']
    """
    names = [part.strip() for part in text.split(",") if part.strip()]
    if not names:
        raise argparse.ArgumentTypeError(f"expected comma-separated names, got {text!r}")
    return names


def name_number_map(text: str) -> dict[str, float]:
    """Comma-separated ``name=number`` pairs (the names are checked by the command).

    Example:
        >>> name_number_map("holistic=0.2, episode=0.3")
        {'holistic': 0.2, 'episode': 0.3}
    """
    pairs: dict[str, float] = {}
    for part in (part.strip() for part in text.split(",")):
        if not part:
            continue
        name, equals, value = part.partition("=")
        if not equals or not name.strip():
            raise argparse.ArgumentTypeError(f"expected NAME=NUMBER pairs such as holistic=0.2, got {text!r}")
        pairs[name.strip()] = number(value)
    if not pairs:
        raise argparse.ArgumentTypeError(f"expected at least one NAME=NUMBER pair, got {text!r}")
    return pairs


# ----------------------------------------------------------------------------------------------------
# 2. Flags from config dataclasses
# ----------------------------------------------------------------------------------------------------

_PARSERS: dict[type, tuple[Callable[[str], Any], str]] = {int: (integer, "N"), float: (number, "X"), str: (str, "TEXT")}
# Comma-separated lists, for fields annotated ``tuple[X, ...]`` (the flag's list becomes the field's tuple).
_LIST_PARSERS: dict[type, tuple[Callable[[str], Any], str]] = {
    int: (lambda text: tuple(int_list(text)), "N,..."),
    float: (lambda text: tuple(float_list(text)), "X,..."),
    str: (lambda text: tuple(name_list(text)), "NAME,..."),
}


def _element_parser(hint: Any) -> tuple[Callable[[str], Any], str] | None:
    """The parser and metavar of ``hint``: a plain type, a ``tuple[X, ...]`` list, or a ``Mapping[str, float]``."""
    args = get_args(hint)
    if get_origin(hint) is tuple and len(args) == 2 and args[1] is Ellipsis and args[0] in _LIST_PARSERS:
        return _LIST_PARSERS[args[0]]
    if get_origin(hint) in (dict, Mapping) and args == (str, float):
        return name_number_map, "NAME=X,..."
    return _PARSERS.get(hint)


def _flag_options(hint: Any, name: str) -> dict[str, Any]:
    """argparse options for a field annotated ``hint``: bool, int, float, str, a Literal, ``tuple[X, ...]``
    (comma-separated), ``Mapping[str, float]`` (``name=X`` pairs), or X | None."""
    members = get_args(hint)
    is_optional = get_origin(hint) in (Union, types.UnionType) and type(None) in members
    if is_optional:
        rest = [m for m in members if m is not type(None)]
        if len(rest) != 1:
            raise InvalidTypeError(f"setting {name!r}: only `X | None` unions have a flag, not {hint}")
        hint = rest[0]
    if hint is bool and not is_optional:
        # --name / --no-name, as HfArgumentParser's --no_name complement for True defaults
        return {"action": argparse.BooleanOptionalAction}
    if get_origin(hint) is Literal:
        choices = list(get_args(hint))
        return {
            "choices": [*choices, None] if is_optional else choices,
            "type": optional(str) if is_optional else str,
            "metavar": "{" + ",".join(map(str, choices)) + "}",
        }
    parser = _element_parser(hint)
    if parser is None:
        raise InvalidTypeError(f"setting {name!r} of type {hint} has no flag; leave it out (exclude=...)")
    parse, metavar = parser
    if is_optional and get_origin(hint) is not tuple:  # an optional list is None when its flag is left out
        return {"type": optional(parse), "metavar": f"{metavar}|{NONE}"}
    return {"type": parse, "metavar": metavar}


def _shown(value: Any) -> str:
    if value is None:
        return NONE
    if isinstance(value, bool):
        return "on" if value else "off"
    if isinstance(value, tuple):
        return ",".join(map(str, value))
    if isinstance(value, Mapping):
        return ",".join(f"{k}={v}" for k, v in value.items()) or NONE
    return repr(value) if isinstance(value, float) else str(value)


def add_config_arguments(
    parser: argparse.ArgumentParser | argparse._ArgumentGroup,
    config_class: type,
    *,
    exclude: Iterable[str] = (),
    include: Iterable[str] | None = None,
    defaults: Mapping[str, str] | None = None,
    options: Mapping[str, Mapping[str, Any]] | None = None,
) -> list[str]:
    """Add one ``--field-name`` flag per field of the dataclass ``config_class``; return the field names.

    The help is the field's ``metadata["help"]``, followed by its default (``defaults[name]``
    replaces the shown default, e.g. to name a preset's value); ``metadata["aliases"]`` adds other
    spellings (``--lr``), ``metadata["flag"]`` names the flag otherwise than after the field
    (``--dataset`` for ``DatasetChoice.name``) and ``metadata["metavar"]`` its value. A flag left out
    leaves its field out of the namespace (read it with :func:`given_fields`), so settings given
    explicitly can override a preset. ``options`` passes extra argparse options per field (``choices``,
    ``metavar``, ``required``). ``include`` limits the flags to those fields; fields whose type has no
    flag must be listed in ``exclude`` (or left out of ``include``).
    """
    hints = get_type_hints(config_class)
    excluded = set(exclude)
    included = None if include is None else set(include)
    names = []
    for field in dataclasses.fields(config_class):
        if field.name in excluded or not field.init or (included is not None and field.name not in included):
            continue
        kwargs = _flag_options(hints[field.name], field.name)
        if "metavar" in field.metadata:
            kwargs["metavar"] = field.metadata["metavar"]
        extra = dict((options or {}).get(field.name, {}))
        if "choices" in extra and "metavar" not in extra:
            kwargs.pop("metavar", None)  # argparse shows the choices
        has_default = field.default is not dataclasses.MISSING or field.default_factory is not dataclasses.MISSING
        required = extra.pop("required", not has_default)
        kwargs.update(extra)
        help_text = field.metadata.get("help", "")
        if has_default:
            factory = cast(Callable[[], Any], field.default_factory)
            default = field.default if field.default is not dataclasses.MISSING else factory()
            shown = (defaults or {}).get(field.name, _shown(default))
            help_text = f"{help_text} (default: {shown})"
        aliases = field.metadata.get("aliases", [])
        aliases = [aliases] if isinstance(aliases, str) else list(aliases)
        parser.add_argument(
            field.metadata.get("flag", f"--{field.name.replace('_', '-')}"),
            *aliases,
            dest=field.name,
            default=argparse.SUPPRESS,
            required=required,
            help=help_text.replace("%", "%%"),
            **kwargs,
        )
        names.append(field.name)
    return names


def given_fields(args: argparse.Namespace, names: Iterable[str]) -> dict[str, Any]:
    """The fields among ``names`` that the command line gave (see :func:`add_config_arguments`).

    Example:
        >>> given_fields(argparse.Namespace(epochs=2, out="x"), ["epochs", "learning_rate"])
        {'epochs': 2}
    """
    return {name: getattr(args, name) for name in names if hasattr(args, name)}


def add_progress_flag(parser: argparse.ArgumentParser) -> None:
    """``--no-progress``: ``args.progress`` is False (no progress bars)."""
    parser.add_argument("--no-progress", dest="progress", action="store_false", help="no progress bars")


# ----------------------------------------------------------------------------------------------------
# 3. Parsers and errors
# ----------------------------------------------------------------------------------------------------


class _HelpFormatter(argparse.RawDescriptionHelpFormatter):
    """Descriptions as written, help wrapped to the terminal (at most 100 columns), defaults shown."""

    def __init__(self, prog: str) -> None:
        super().__init__(prog, max_help_position=32, width=min(100, shutil.get_terminal_size().columns - 2))

    def _split_lines(self, text: str, width: int) -> list[str]:
        # Not at hyphens: names such as no-factuality and fine-grained stay whole.
        return textwrap.wrap(" ".join(text.split()), width, break_on_hyphens=False)

    def _get_help_string(self, action: argparse.Action) -> str:
        text = action.help or ""
        default = action.default
        if (
            not action.option_strings
            or "default:" in text
            or default is None
            or default is False
            or default is True
            or default == argparse.SUPPRESS
        ):
            return text
        return f"{text} (default: %(default)s)"


def _one_line(text: str) -> str:
    return " ".join(str(text).split())


class CommandParser(argparse.ArgumentParser):
    """An argument parser that reports errors in one line and adds its flags when first needed.

    ``arguments(parser)`` adds the flags; it runs when the parser first parses or prints help, so
    building ``fg-env``'s parser imports no sub-command's config classes.

    Example:
        >>> parser = CommandParser(prog="fg-env demo", arguments=lambda p: p.add_argument("--epochs", type=positive_int))
        >>> parser.parse_args(["--epochs", "2"]).epochs
        2
        >>> parser.parse_args(["--epochs", "0"])
        Traceback (most recent call last):
        ...
        SystemExit: 2
    """

    def __init__(
        self, *args: Any, arguments: Callable[[argparse.ArgumentParser], Any] | None = None, **kwargs: Any
    ) -> None:
        kwargs.setdefault("formatter_class", _HelpFormatter)
        super().__init__(*args, **kwargs)
        self._pending_arguments = arguments

    def _add_pending_arguments(self) -> None:
        if self._pending_arguments is not None:
            add, self._pending_arguments = self._pending_arguments, None
            add(self)

    def parse_known_args(self, args: Sequence[str] | None = None, namespace: argparse.Namespace | None = None) -> Any:  # type: ignore[override]
        self._add_pending_arguments()
        return super().parse_known_args(args, namespace)

    def format_usage(self) -> str:
        self._add_pending_arguments()
        return super().format_usage()

    def format_help(self) -> str:
        self._add_pending_arguments()
        return super().format_help()

    def error(self, message: str) -> Any:
        """One line, as :func:`reported` prints the errors found while the command runs."""
        self.exit(2, f"{self.prog}: error: {_one_line(message)} (see {self.prog} --help)\n")


def add_command(
    subparsers: argparse._SubParsersAction,
    name: str,
    run: Callable[[argparse.Namespace], int],
    *,
    help: str,
    description: str | None = None,
    arguments: Callable[[argparse.ArgumentParser], Any] | None = None,
) -> argparse.ArgumentParser:
    """Add sub-command ``name``: ``arguments(parser)`` adds its flags (lazily), ``run(args)`` runs it
    (wrapped by :func:`reported`)."""
    parser = subparsers.add_parser(name, help=help, description=description or help)
    if isinstance(parser, CommandParser):
        parser._pending_arguments = arguments
    elif arguments is not None:  # a plain argparse parser: flags now
        arguments(parser)
    parser.set_defaults(func=reported(parser.prog, run))
    return parser


# What counts as the user's input error, printed in one line: every error fg_env raises on purpose, and
# files that are missing or unreadable. Anything else (a ValueError out of torch or numpy included) is a
# bug, and shows its traceback.
INPUT_ERRORS: tuple[type[BaseException], ...] = (
    FgEnvError,
    FileNotFoundError,
    NotADirectoryError,
    IsADirectoryError,
    PermissionError,
)


def is_input_error(error: BaseException) -> bool:
    """Whether ``error`` is a problem with the user's input (reported in one line) rather than a bug.

    Example:
        >>> from fg_env.errors import InvalidValueError
        >>> is_input_error(InvalidValueError("learning_rate must be > 0")), is_input_error(ValueError("shape"))
        (True, False)
    """
    return isinstance(error, INPUT_ERRORS)


def describe(error: BaseException) -> str:
    """The one-line message of an input error.

    Example:
        >>> describe(FileNotFoundError(2, "No such file or directory", "/data/feedback.json"))
        "No such file or directory: '/data/feedback.json'"
    """
    if isinstance(error, OSError) and error.strerror and error.filename is not None:
        return f"{error.strerror}: {str(error.filename)!r}"
    return _one_line(str(error)) or type(error).__name__


def reported(prog: str, run: Callable[[argparse.Namespace], int]) -> Callable[[argparse.Namespace], int]:
    """``run``, with input errors printed as ``PROG: error: <one line>`` on stderr and exit status 2.

    Example:
        >>> from fg_env.errors import InvalidValueError
        >>> def train(args):
        ...     raise InvalidValueError("learning_rate must be positive, got -1.0")
        >>> import contextlib, io
        >>> stderr = io.StringIO()
        >>> with contextlib.redirect_stderr(stderr):
        ...     status = reported("fg-env rm train", train)(argparse.Namespace())
        >>> status, stderr.getvalue().strip()
        (2, 'fg-env rm train: error: learning_rate must be positive, got -1.0')
    """

    @functools.wraps(run)
    def command(args: argparse.Namespace) -> int:
        try:
            return int(run(args) or 0)
        except Exception as error:
            if not is_input_error(error) or os.environ.get(TRACEBACK_VARIABLE):
                raise
            print(f"{prog}: error: {describe(error)}", file=sys.stderr)
            return 2

    return command
