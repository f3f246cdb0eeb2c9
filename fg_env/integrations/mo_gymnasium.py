"""MO-Gymnasium's ``MOAsyncVectorEnv`` on the Gymnasium this package runs on.

MO-Gymnasium 1.3's async vector env hands Gymnasium its own worker function, written for Gymnasium
1.1 to 1.3. Gymnasium 1.4 passes workers one more argument (a semaphore that limits how many
workers run at once, None unless ``max_concurrency`` is set) and refuses a worker that cannot take it,
so upstream's class cannot be built at all. :class:`MOAsyncVectorEnv` is upstream's class with a
worker that takes the extra argument and runs upstream's worker; where upstream's worker already
fits, it is upstream's class unchanged. Nothing else differs: vector rewards ``(N, K)``, pipes,
autoreset. Drop it once MO-Gymnasium's worker takes the semaphore.

Example:
    >>> import gymnasium as gym, fg_env
    >>> envs = MOAsyncVectorEnv([lambda: gym.make("FineGrainedQA-v0") for _ in range(2)], shared_memory=False)
    >>> _ = envs.reset(seed=0)
    >>> envs.step(["Harlow Bridge is a film.", ""])[1].shape
    (2, 3)
    >>> envs.close()
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Sequence
from typing import Any

import gymnasium as gym
import numpy as np
from gymnasium.vector import AsyncVectorEnv
from gymnasium.vector.utils import create_empty_array

from fg_env.errors import InvalidValueError, MissingDependencyError

try:
    from mo_gymnasium.wrappers.vector import MOAsyncVectorEnv as _UpstreamMOAsyncVectorEnv
    from mo_gymnasium.wrappers.vector.wrappers import _mo_async_worker
except ImportError as error:  # pragma: no cover - mo-gymnasium is optional
    raise MissingDependencyError('MO-Gymnasium is not installed: pip install "mo-gymnasium>=1.1"') from error

__all__ = ["MOAsyncVectorEnv", "upstream_worker_fits"]


def upstream_worker_fits() -> bool:
    """Whether MO-Gymnasium's worker takes every argument this Gymnasium's ``AsyncVectorEnv`` passes."""
    gymnasium_worker = inspect.signature(gym.vector.async_vector_env._async_worker)
    return len(inspect.signature(_mo_async_worker).parameters) >= len(gymnasium_worker.parameters)


def _worker_taking_the_semaphore(
    index: int,
    env_fn: Callable[[], gym.Env],
    pipe: Any,
    parent_pipe: Any,
    shared_memory: Any,
    error_queue: Any,
    autoreset_mode: Any,
    semaphore: Any = None,
) -> None:
    # MOAsyncVectorEnv refuses max_concurrency, so the semaphore is always None here.
    _mo_async_worker(index, env_fn, pipe, parent_pipe, shared_memory, error_queue, autoreset_mode)


class MOAsyncVectorEnv(_UpstreamMOAsyncVectorEnv):
    """MO-Gymnasium's ``MOAsyncVectorEnv``, buildable on Gymnasium 1.4 (see the module's docstring).

    Example:
        >>> issubclass(MOAsyncVectorEnv, _UpstreamMOAsyncVectorEnv)
        True
    """

    def __init__(self, env_fns: Sequence[Callable[[], gym.Env]], **kwargs: Any) -> None:
        if upstream_worker_fits():
            super().__init__(env_fns, **kwargs)
            return
        if kwargs.get("max_concurrency") is not None:
            raise InvalidValueError(
                "MOAsyncVectorEnv does not support max_concurrency: MO-Gymnasium's worker ignores its semaphore"
            )
        AsyncVectorEnv.__init__(self, env_fns, worker=_worker_taking_the_semaphore, **kwargs)  # type: ignore[arg-type]
        # What upstream's __init__ does after building the async env: a (N, K) reward buffer.
        probe = env_fns[0]()
        self.reward_space = probe.unwrapped.reward_space  # type: ignore[attr-defined]
        probe.close()
        self.rewards = create_empty_array(self.reward_space, n=self.num_envs, fn=np.zeros)
