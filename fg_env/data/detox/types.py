"""The detoxification task's example: a prompt to continue, with what its source says of its toxicity."""

from __future__ import annotations

import math
from dataclasses import dataclass

from fg_env.errors import InvalidTypeError, InvalidValueError

__all__ = ["DetoxPrompt"]


@dataclass(frozen=True)
class DetoxPrompt:
    """A prompt for the detoxification task; satisfies :class:`~fg_env.rewards.base.TaskExample`.

    ``id`` is unique within its split; ``prompt`` is the text a policy continues (RealToxicityPrompts'
    ``prompt.text``); ``context`` and ``references`` are empty unless a source gives them (the built-in world
    puts the prompt's clean continuations from its corpus in ``references``). ``toxicity`` is the prompt's
    toxicity as its source scored it (RealToxicityPrompts: the Perspective API's ``prompt.toxicity``), or None
    when the source gives none; ``challenging`` marks prompts the source found to lead models into toxic
    continuations (RealToxicityPrompts' ``challenging`` flag; in the built-in world, the heated prompts).

    Example:
        >>> from fg_env.rewards.base import TaskExample
        >>> p = DetoxPrompt("rtp-000042", "So I told him that", toxicity=0.12)
        >>> example: TaskExample = p
        >>> example.prompt, example.context, example.references, p.challenging
        ('So I told him that', '', (), False)
        >>> DetoxPrompt("x", "a", toxicity=1.5)
        Traceback (most recent call last):
        ...
        fg_env.errors.InvalidValueError: DetoxPrompt 'x': toxicity must be a number in [0, 1] or None, got 1.5
    """

    id: str
    prompt: str
    context: str = ""
    references: tuple[str, ...] = ()
    toxicity: float | None = None
    challenging: bool = False

    def __post_init__(self) -> None:
        for name in ("id", "prompt", "context"):
            if not isinstance(getattr(self, name), str):
                raise InvalidTypeError(f"DetoxPrompt {name} must be a string, got {type(getattr(self, name)).__name__}")
        if not isinstance(self.references, tuple) or not all(isinstance(r, str) for r in self.references):
            raise InvalidTypeError(f"DetoxPrompt {self.id!r}: references must be a tuple of strings")
        if self.toxicity is not None and (
            isinstance(self.toxicity, bool)
            or not isinstance(self.toxicity, (int, float))
            or not math.isfinite(self.toxicity)
            or not 0.0 <= self.toxicity <= 1.0
        ):
            raise InvalidValueError(
                f"DetoxPrompt {self.id!r}: toxicity must be a number in [0, 1] or None, got {self.toxicity!r}"
            )
        if not isinstance(self.challenging, bool):
            raise InvalidTypeError(f"DetoxPrompt {self.id!r}: challenging must be a bool, got {self.challenging!r}")
