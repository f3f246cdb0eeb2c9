"""A Gymnasium ``Text`` space that holds any Unicode string.

Gymnasium's ``Text`` accepts only the characters of its charset (alphanumeric by default), but an
answer is free text: quotes, accents, emoji, control characters. ``UnicodeText`` keeps ``Text``'s
interface (so wrappers and checkers that look for ``Text`` still work) while ``contains`` accepts any
``str`` within the length limits, and ``sample`` draws short printable strings.
"""

from __future__ import annotations

import string
from typing import Any

import numpy as np
from gymnasium.spaces import Text
from gymnasium.vector.utils.shared_memory import create_shared_memory

from fg_env.errors import InvalidValueError

_SAMPLE_CHARSET = string.ascii_letters + string.digits + " .,;!?'-" + "éüñçø"
MAX_TEXT_LENGTH = 2**31 - 1


class UnicodeText(Text):
    """Any Unicode string of length ``min_length`` to ``max_length``.

    Example:
        >>> space = UnicodeText()
        >>> space.contains("Zoë's café ☕, 1990.")
        True
        >>> space.contains(b"bytes")
        False
    """

    def __init__(
        self, max_length: int = MAX_TEXT_LENGTH, *, min_length: int = 0, sample_max_length: int = 64, seed: Any = None
    ):
        super().__init__(max_length, min_length=min_length, charset=_SAMPLE_CHARSET, seed=seed)
        self.sample_max_length = min(sample_max_length, max_length)

    def contains(self, x: Any) -> bool:
        return isinstance(x, str) and self.min_length <= len(x) <= self.max_length

    def sample(self, mask: Any = None, probability: Any = None) -> str:
        """A random printable string of at most ``sample_max_length`` characters (a masked sample defers to ``Text``)."""
        if mask is not None or probability is not None:
            return super().sample(mask=mask, probability=probability)
        length = int(self.np_random.integers(self.min_length, self.sample_max_length + 1))
        chars = self.np_random.choice(np.array(list(_SAMPLE_CHARSET)), size=length)
        return "".join(chars.tolist())

    def __repr__(self) -> str:
        return f"UnicodeText({self.min_length}, {self.max_length})"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, UnicodeText) and (self.min_length, self.max_length) == (
            other.min_length,
            other.max_length,
        )


@create_shared_memory.register(UnicodeText)
def _refuse_shared_memory(space: UnicodeText, n: int = 1, ctx: Any = None) -> Any:
    # Gymnasium gives a Text space max_length int32 slots per env in shared memory: for an unbounded
    # answer that is gigabytes per env, and AsyncVectorEnv hangs allocating it instead of failing.
    raise InvalidValueError(
        f"{space!r} holds free text of any length, which cannot live in shared memory: create the async "
        "vector env with shared_memory=False (e.g. gym.make_vec(..., vectorization_mode='async', "
        "vector_kwargs={'shared_memory': False})); the workers then send observations through their pipes"
    )
