"""The errors fg_env raises on purpose, in one place.

Each names the bad value and what would have been valid, so a user's mistake reads as one line:

- :class:`UnknownChoiceError`: a name that is not among the valid choices (a dataset, split, reward
  model, scheme, reduction...). It is both a ``KeyError`` and a ``ValueError``, so code that looks
  names up in a mapping or validates arguments catches it either way.
- :class:`ResetNeededError` and :class:`InvalidActionError`: misuse of an environment. They subclass
  Gymnasium's own :class:`gymnasium.error.ResetNeeded` and :class:`gymnasium.error.InvalidAction`, so
  generic Gymnasium tooling recognises them, and the built-in ``RuntimeError`` / ``TypeError`` that
  earlier versions raised, so existing ``except`` clauses keep working.

Example:
    >>> raise UnknownChoiceError("reward model", "relevence", ["relevance", "factuality"])
    Traceback (most recent call last):
    ...
    fg_env.errors.UnknownChoiceError: unknown reward model 'relevence'; valid choices: relevance, factuality
"""

from __future__ import annotations

from collections.abc import Sequence

from gymnasium import error as gym_error

__all__ = ["InvalidActionError", "ResetNeededError", "UnknownChoiceError"]


class UnknownChoiceError(KeyError, ValueError):
    """A name that is not among the valid choices; the message lists them."""

    def __init__(self, kind: str, name: object, choices: Sequence[str]) -> None:
        self.kind, self.name, self.choices = kind, name, list(choices)
        super().__init__(f"unknown {kind} {name!r}; valid choices: {', '.join(map(str, choices)) or '(none)'}")

    def __str__(self) -> str:  # KeyError would wrap the message in quotes
        return str(self.args[0])


class ResetNeededError(gym_error.ResetNeeded, RuntimeError):
    """``step()`` before the first ``reset()``, or after the episode ended."""


class InvalidActionError(gym_error.InvalidAction, TypeError):
    """An action that is not a string (an action is one sentence of text)."""
