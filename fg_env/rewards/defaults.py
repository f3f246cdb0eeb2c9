"""The paper's reward models and their weights: the one place they are written.

Wu et al. (2023, section 4.2) weight relevance 0.3, factuality 0.5 and completeness 0.3. The
environment's default reward models are these three, in this order; a reward model the paper did not
use gets weight 1.0 unless the user says otherwise.

Example:
    >>> DEFAULT_REWARD_MODELS
    ('relevance', 'factuality', 'completeness')
    >>> paper_weights(["factuality", "my-model"]).tolist()
    [0.5, 1.0]
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from types import MappingProxyType

import numpy as np

__all__ = ["DEFAULT_REWARD_MODELS", "PAPER_WEIGHTS", "paper_weights"]

PAPER_WEIGHTS: Mapping[str, float] = MappingProxyType({"relevance": 0.3, "factuality": 0.5, "completeness": 0.3})
DEFAULT_REWARD_MODELS: tuple[str, ...] = tuple(PAPER_WEIGHTS)


def paper_weights(names: Iterable[str]) -> np.ndarray:
    """The paper's weight of each named reward model (1.0 for one it did not use), as float32."""
    return np.array([PAPER_WEIGHTS.get(name, 1.0) for name in names], dtype=np.float32)
