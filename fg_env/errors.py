"""Every error fg_env and its agents raise on purpose, under one base: :class:`FgEnvError`.

Each names the bad value and what would have been valid, so a user's mistake reads as one line. Each
also keeps the built-in parent it had before this hierarchy existed, so ``except ValueError`` and
``except TypeError`` callers keep working:

===============================  ==============================  ==============================================
error                            built-in / Gymnasium parent     raised for
===============================  ==============================  ==============================================
:class:`InvalidValueError`       ``ValueError``                  a value out of range or malformed (a setting,
                                                                 weights of the wrong shape, an empty split)
:class:`UnknownChoiceError`      ``KeyError``, ``ValueError``    a name not among the valid choices (a dataset,
                                                                 split, reward model, scheme, trainer...)
:class:`InvalidTypeError`        ``TypeError``                   an argument of the wrong type
:class:`ResetNeededError`        ``gymnasium.error.ResetNeeded``  ``step()`` before ``reset()`` or after the end
:class:`InvalidActionError`      ``gymnasium.error.InvalidAction``  an action that is not a string
:class:`FeedbackFormatError`     ``ValueError``                  a feedback record that breaks QA-Feedback's
                                                                 schema (:class:`QAFeedbackFormatError`: a
                                                                 file, with record and field)
:class:`PromptsFormatError`      ``ValueError``                  a prompts file (RealToxicityPrompts'
                                                                 ``prompts.jsonl``) that breaks its format:
                                                                 the file, the line and the field
:class:`DataNotFoundError`       ``FileNotFoundError``           a dataset folder or file that does not exist
:class:`MissingWorldError`       ``ValueError``                  the annotator given a question of another
                                                                 dataset
:class:`CheckpointError`         ``RuntimeError``                a checkpoint missing, corrupt or of other
                                                                 settings
:class:`ScorerVersionError`      ``ValueError``                  resuming results scored by another version of
                                                                 the annotator (or a reward model) than this one
:class:`ModelNotFoundError`      ``FileNotFoundError``           a model folder that does not exist or is empty
:class:`PolicyLoadError`         ``ValueError``                  a policy folder that cannot be loaded
                                                                 (:class:`PolicyFilesError`: its files changed)
:class:`ModelTooLargeError`      ``ValueError``                  a model that cannot train in this memory
:class:`MissingDependencyError`  ``ImportError``                 an optional package that is not installed
:class:`CommandError`            (none)                          a command line's arguments that do not fit
                                                                 together
:class:`EnvServerError`          ``RuntimeError``                a served environment's server that failed a
                                                                 request (at capacity, a server-side bug)
:class:`ServerUnreachableError`  ``ConnectionError``             a served environment's server that cannot be
                                                                 reached, dropped the connection or timed out
:class:`ScorerError`             ``RuntimeError``                a remote scorer (the Perspective API) that
                                                                 failed a request: an error status past the
                                                                 retries, an answer in no known format
:class:`ScorerUnreachableError`  ``ConnectionError``             a remote scorer that cannot be reached or did
                                                                 not answer in time, past the retries
:class:`APIKeyError`             ``PermissionError``             a remote scorer's key that is missing or that
                                                                 the service refused
===============================  ==============================  ==============================================

The ``fg-env`` command prints an :class:`FgEnvError` (and a missing or unreadable file) as one line and
exits with status 2; any other exception is a bug and shows its traceback (:mod:`fg_env.command`).

Example:
    >>> raise UnknownChoiceError("reward model", "relevence", ["relevance", "factuality"])
    Traceback (most recent call last):
    ...
    fg_env.errors.UnknownChoiceError: unknown reward model 'relevence'; valid choices: relevance, factuality
    >>> isinstance(UnknownChoiceError("x", "y", []), (FgEnvError, KeyError, ValueError))
    True
"""

from __future__ import annotations

from collections.abc import Sequence

from gymnasium import error as gym_error

__all__ = [
    "APIKeyError",
    "CheckpointError",
    "CommandError",
    "DataNotFoundError",
    "EnvServerError",
    "FeedbackFormatError",
    "FgEnvError",
    "InvalidActionError",
    "InvalidTypeError",
    "InvalidValueError",
    "MissingDependencyError",
    "MissingWorldError",
    "ModelNotFoundError",
    "ModelTooLargeError",
    "PolicyFilesError",
    "PolicyLoadError",
    "PromptsFormatError",
    "QAFeedbackFormatError",
    "ResetNeededError",
    "ScorerError",
    "ScorerUnreachableError",
    "ScorerVersionError",
    "ServerUnreachableError",
    "UnknownChoiceError",
]


class FgEnvError(Exception):
    """The base of every error fg_env raises on purpose: a problem with what it was given, not a bug."""


# ----------------------------------------------------------------------------------------- arguments


class InvalidValueError(FgEnvError, ValueError):
    """A value out of its range or malformed; the message names the value and what was expected."""


class InvalidTypeError(FgEnvError, TypeError):
    """An argument of the wrong type; the message names the type expected and the one given."""


class UnknownChoiceError(FgEnvError, KeyError, ValueError):
    """A name that is not among the valid choices; the message lists them."""

    def __init__(self, kind: str, name: object, choices: Sequence[str]) -> None:
        self.kind, self.name, self.choices = kind, name, list(choices)
        super().__init__(f"unknown {kind} {name!r}; valid choices: {', '.join(map(str, choices)) or '(none)'}")

    def __str__(self) -> str:  # KeyError would wrap the message in quotes
        return str(self.args[0])


class MissingDependencyError(FgEnvError, ImportError):
    """An optional package a feature needs is not installed; the message says what to install."""


class CommandError(FgEnvError):
    """A problem with a command's input, reported as ``fg-env COMMAND: error: ...`` with exit status 2.

    Example:
        >>> str(CommandError("--seeds must be distinct, got [0, 0]"))
        '--seeds must be distinct, got [0, 0]'
    """


# -------------------------------------------------------------------------------------- environments


class ResetNeededError(FgEnvError, gym_error.ResetNeeded, RuntimeError):
    """``step()`` before the first ``reset()``, or after the episode ended."""


class InvalidActionError(FgEnvError, gym_error.InvalidAction, TypeError):
    """An action that is not a string (an action is one sentence of text)."""


class EnvServerError(FgEnvError, RuntimeError):
    """A served environment's server (:mod:`fg_env.integrations.openenv`) failed a request for a reason
    of its own: it is at capacity, or something broke on its side; the message names its URL."""


class ServerUnreachableError(EnvServerError, ConnectionError):
    """A served environment's server cannot be reached, dropped the connection or did not answer in time;
    the message names its URL. The episode the connection held is gone: ``reset()`` starts a new one.

    Example:
        >>> isinstance(ServerUnreachableError("ws://127.0.0.1:8000/ws refused the connection"), ConnectionError)
        True
    """


# ----------------------------------------------------------------------------------------- scorers


class ScorerError(FgEnvError, RuntimeError):
    """A remote scorer (:class:`~fg_env.rewards.toxicity.PerspectiveToxicity`) failed a request: an error status
    that outlasted the retries, a request the service refused, or an answer in no known format. The message
    names the service's URL and what it said; no score is made up in its place."""


class ScorerUnreachableError(ScorerError, ConnectionError):
    """A remote scorer cannot be reached, dropped the connection or did not answer in time, past the retries;
    the message names its URL.

    Example:
        >>> isinstance(ScorerUnreachableError("http://127.0.0.1:9/ did not answer in 1.0 s"), ConnectionError)
        True
    """


class APIKeyError(ScorerError, PermissionError):
    """A remote scorer's API key is missing (neither given nor in its environment variable), or the service
    refused it; the message says where the key is read from, or what the service answered."""


# -------------------------------------------------------------------------------------- data and files


class FeedbackFormatError(InvalidValueError):
    """A feedback record does not follow QA-Feedback's schema; the message names the field.

    Example:
        >>> from fg_env.feedback import Feedback
        >>> Feedback.from_dict({"errors": 3})
        Traceback (most recent call last):
        ...
        fg_env.errors.FeedbackFormatError: field 'errors' must be a list
    """


class QAFeedbackFormatError(FeedbackFormatError):
    """A QA-Feedback file breaks the format; ``file``, ``record`` (index) and ``field`` say where.

    Example:
        >>> str(QAFeedbackFormatError("dev.json", "expected a string, got 3", record=2, field="question"))
        "dev.json: record 2: field 'question': expected a string, got 3"
    """

    def __init__(self, file: str, message: str, record: int | None = None, field: str | None = None) -> None:
        self.file, self.record, self.field, self.problem = file, record, field, message
        where = [file] + ([f"record {record}"] if record is not None else [])
        where += [f"field {field!r}"] if field is not None else []
        super().__init__(": ".join([*where, message]))


class PromptsFormatError(InvalidValueError):
    """A prompts file breaks its format; ``file``, ``line`` (1-based) and ``field`` (a dotted path) say where.

    Example:
        >>> str(PromptsFormatError("prompts.jsonl", "expected a number or null, got 'high'", line=7, field="prompt.toxicity"))
        "prompts.jsonl: line 7: field 'prompt.toxicity': expected a number or null, got 'high'"
    """

    def __init__(self, file: str, message: str, line: int | None = None, field: str | None = None) -> None:
        self.file, self.line, self.field, self.problem = file, line, field, message
        where = [file] + ([f"line {line}"] if line is not None else [])
        where += [f"field {field!r}"] if field is not None else []
        super().__init__(": ".join([*where, message]))


class DataNotFoundError(FgEnvError, FileNotFoundError):
    """A dataset's folder or file does not exist; the message names the path and what was expected there."""


class MissingWorldError(InvalidValueError):
    """An example without the built-in world's ground truth was given to the annotator."""


class CheckpointError(FgEnvError, RuntimeError):
    """A checkpoint that cannot be used: missing, corrupt, of another kind or version, or from other settings."""


class ScorerVersionError(InvalidValueError):
    """Results to resume or reuse were scored by another version of a scorer (the annotator, a reward model)
    than the one at hand: mixing them would compare numbers from two rulers. The message names both versions
    and the folder."""


class ModelNotFoundError(FgEnvError, FileNotFoundError):
    """A model folder does not exist or holds no model (the message names the path)."""


# ------------------------------------------------------------------------------------ policies (agents)


class PolicyLoadError(InvalidValueError):
    """A policy folder that cannot be loaded; the message names the folder and what is wrong."""


class PolicyFilesError(PolicyLoadError):
    """A policy folder whose files differ from the fingerprints recorded when it was built."""


class ModelTooLargeError(InvalidValueError):
    """A model whose training would not fit in the memory at hand; said before any weight loads."""
