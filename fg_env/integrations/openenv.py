"""Serve any fg_env environment over OpenEnv, and play a served one as a Gymnasium env again.

`OpenEnv <https://github.com/meta-pytorch/OpenEnv>`_ runs environments as servers that remote
trainers reach over a WebSocket, one environment session per connection. This module puts any
environment built on :class:`~fg_env.envs.core.FineGrainedEnv` (under any wrappers that keep the
reward a vector) behind that protocol, without losing the fine-grained signal:

- :class:`FineGrainedOpenEnv`: OpenEnv's ``Environment`` around one fg_env env. Its observation
  (:class:`FineGrainedObservation`) carries the prompt and the answer so far; OpenEnv's scalar
  ``reward`` is the weighted sum of the reward vector (the env's ``default_weights`` unless given),
  and ``metadata`` carries the vector itself, its mask, the reward names, the scored segments and the
  rest of the step's info, all JSON-safe.
- :func:`create_app`: the FastAPI app (OpenEnv's ``create_fastapi_app``), one session per
  WebSocket connection; :func:`serve` runs it (``fg-env serve --env FineGrainedQA-v0 --port 8000``,
  or ``python -m fg_env.integrations.openenv ...``).
- :class:`FineGrainedEnvClient`: OpenEnv's ``EnvClient`` for such a server (async, or ``.sync()``),
  for trainers that speak OpenEnv.
- :class:`RemoteFineGrainedEnv`: a ``gymnasium.Env`` on that client whose ``step(text)`` returns the
  reward vector, the segments and the mask exactly as the local env does.

What crosses the wire is what the local env returns: float32 rewards, Python floats and strings,
so a remote episode's rewards and segments equal the local env's bit for bit. What stays on the
server is the env object itself: a remote env has no ``unwrapped`` core, so wrappers that read the
answer or the example from it (:class:`~fg_env.wrappers.RewardDensity`, the candidate view) wrap the
env on the server's side, before it is served; those that read only the vector
(:class:`~fg_env.wrappers.LinearScalarization`, :class:`~fg_env.wrappers.SelectRewards`) work on
either side.

Example:
    >>> import threading, time, uvicorn
    >>> server = uvicorn.Server(uvicorn.Config(create_app("FineGrainedQA-v0"), port=0, log_level="warning"))
    >>> thread = threading.Thread(target=server.run, daemon=True); thread.start()
    >>> while not server.started: time.sleep(0.05)
    >>> port = server.servers[0].sockets[0].getsockname()[1]  # port=0: any free port
    >>> env = RemoteFineGrainedEnv(f"http://127.0.0.1:{port}")
    >>> obs, info = env.reset(seed=0)
    >>> obs, reward, terminated, truncated, info = env.step(info["references"][0])
    >>> env.reward_names, reward.dtype.name, sorted(info)[:3]
    (('relevance', 'factuality', 'completeness'), 'float32', ['inserted_separator', 'num_sentences', 'reward_mask'])
    >>> env.close(); server.should_exit = True; thread.join()
"""

from __future__ import annotations

import asyncio
import logging
import math
import threading
import uuid
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import gymnasium as gym
import numpy as np
from gymnasium import spaces

import fg_env
from fg_env.envs.core import core_env
from fg_env.envs.vector import copy_env
from fg_env.errors import (
    APIKeyError,
    EnvServerError,
    FgEnvError,
    InvalidActionError,
    InvalidTypeError,
    InvalidValueError,
    MissingDependencyError,
    MissingWorldError,
    ResetNeededError,
    ScorerError,
    ScorerUnreachableError,
    ServerUnreachableError,
)
from fg_env.rewards.vector import RewardComponent, RewardVectorFacts, check_weights, reward_components
from fg_env.spaces import UnicodeText
from fg_env.types import Granularity

try:
    from openenv.core.client_types import StepResult
    from openenv.core.env_client import EnvClient
    from openenv.core.env_server.http_server import create_fastapi_app
    from openenv.core.env_server.interfaces import Environment
    from openenv.core.env_server.types import Action, EnvironmentMetadata, Observation, State
    from pydantic import Field, StrictStr
    from websockets.exceptions import ConnectionClosed
except ImportError as error:  # pragma: no cover - openenv is optional
    raise MissingDependencyError('OpenEnv is not installed: pip install "fg-env[openenv]" (openenv>=0.10)') from error

__all__ = [
    "FineGrainedEnvClient",
    "FineGrainedObservation",
    "FineGrainedOpenEnv",
    "FineGrainedState",
    "RemoteFineGrainedEnv",
    "TextAction",
    "create_app",
    "serve",
]

logger = logging.getLogger(__name__)

#: The default number of sessions (WebSocket connections) a server holds at once.
DEFAULT_MAX_SESSIONS = 64

# ------------------------------------------------------------------------------------ wire types


class TextAction(Action):
    """One action of a fine-grained env: text appended to the answer; the empty string ends it.

    ``text`` is strict: a number or a list is refused rather than turned into text, so a client's
    mistake is reported instead of scored.

    Example:
        >>> TextAction(text="Ann won.").text
        'Ann won.'
    """

    text: StrictStr = Field(description="Text appended to the answer (one sentence, or several); '' ends it")


class FineGrainedObservation(Observation):
    """What a served fg_env env returns from ``reset`` and ``step``.

    ``prompt`` and ``response`` are the example's prompt and the answer so far; ``fields`` is the env's
    own observation (FineGrainedQA-v0: ``question``, ``passages``, ``response``). OpenEnv's ``reward``
    is the weighted scalar (None at reset); ``metadata`` holds, at a step, ``reward_vector``,
    ``reward_mask``, ``reward_names``, ``weights``, ``segments``, ``terminated``, ``truncated`` and
    ``info`` (the rest of the step's info); at reset, ``info`` (prompt, references, example id) and
    ``reward_names``.

    Example:
        >>> FineGrainedObservation(prompt="question: ...", response="").done
        False
    """

    prompt: str = Field(default="", description="The prompt of the episode's example")
    response: str = Field(default="", description="The answer so far")
    fields: dict[str, Any] = Field(default_factory=dict, description="The environment's own observation")


class FineGrainedState(State):
    """A session's state: where its episode stands, and the facts of the reward vector it returns.

    Example:
        >>> FineGrainedState(env_name="FineGrainedQA-v0").step_count
        0
    """

    env_name: str = Field(description="The served environment (its env_name)")
    reward_components: list[dict[str, Any]] = Field(
        default_factory=list,
        description="One entry per reward: name, granularity, segment_bounds (null: unbounded), default_weight",
    )
    weights: list[float] = Field(default_factory=list, description="The weights of OpenEnv's scalar reward")
    observation_keys: list[str] = Field(default_factory=list, description="The keys of the env's own observation")
    example_id: str | None = Field(default=None, description="The id of the episode's example")
    response: str = Field(default="", description="The answer so far")
    done: bool = Field(default=True, description="Whether the episode is over (or none has started)")


# ------------------------------------------------------------------------------------ the server side


def _json_safe(value: Any, where: str) -> Any:
    """``value`` as JSON types (numpy scalars and arrays to Python numbers and lists); a clear error
    naming ``where`` for anything JSON cannot carry."""
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, np.ndarray):
        return value.tolist()
    if isinstance(value, Mapping):
        return {str(key): _json_safe(item, f"{where}[{key!r}]") for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [_json_safe(item, f"{where}[{i}]") for i, item in enumerate(value)]
    raise InvalidTypeError(f"{where} holds a {type(value).__name__}, which cannot be sent as JSON")


def _finite_or_none(bounds: tuple[float, float]) -> list[float | None]:
    """Bounds as JSON can carry them: None for an unbounded side (OpenEnv's JSON writes infinity as null)."""
    return [bound if math.isfinite(bound) else None for bound in bounds]


def _bounds(pair: Sequence[float | None]) -> tuple[float, float]:
    low, high = pair
    return (-math.inf if low is None else float(low)), (math.inf if high is None else float(high))


class _ServedError(Exception):
    """An error of the served env, sent as ``"ClassName: message"``: OpenEnv's error frame carries only a
    message, and the client rebuilds fg_env's error class from the name (:func:`_error_from_frame`)."""

    def __init__(self, error: BaseException) -> None:
        text = error.args[0] if len(error.args) == 1 and isinstance(error.args[0], str) else str(error)
        name = type(error).__name__
        # Gymnasium's own (OrderEnforcing's "step before reset") travel as fg_env's subclass of them.
        if isinstance(error, gym.error.ResetNeeded):
            name = ResetNeededError.__name__
        elif isinstance(error, gym.error.InvalidAction):
            name = InvalidActionError.__name__
        super().__init__(f"{name}: {text}")


class FineGrainedOpenEnv(Environment[TextAction, FineGrainedObservation, FineGrainedState]):
    """OpenEnv's ``Environment`` around one fg_env environment (one session of a server).

    ``step(TextAction(text=...))`` steps the env and returns a :class:`FineGrainedObservation` whose
    ``reward`` is ``weights · reward_vector`` (as :class:`~fg_env.wrappers.LinearScalarization`
    computes it) and whose ``metadata`` holds the vector, its mask, the reward names and the segments.
    ``reset(seed=..., options=...)`` takes the env's reset arguments. Errors are the env's, named by
    class (``ResetNeededError: ...``), so a client can raise the same class.

    Args:
        env: an environment built on :class:`~fg_env.envs.core.FineGrainedEnv`, under any wrappers that
            keep the reward a vector.
        weights: the weights of the scalar reward, one per entry of the vector; the env's
            ``default_weights`` when None.
        step_lock: held around each reset and step. Sessions of one server share their reward models
            (:func:`create_app`), which promise no thread safety (the annotator's caches, a torch
            model); the lock keeps their calls one at a time. Its own lock when None.

    Example:
        >>> import gymnasium as gym, fg_env
        >>> served = FineGrainedOpenEnv(gym.make("FineGrainedQA-v0"))
        >>> obs = served.reset(seed=0)
        >>> obs = served.step(TextAction(text=obs.metadata["info"]["references"][0]))
        >>> obs.metadata["reward_names"], type(obs.reward).__name__
        (['relevance', 'factuality', 'completeness'], 'float')
    """

    # Each session has its own env; what sessions share (reward models) is behind the step lock.
    SUPPORTS_CONCURRENT_SESSIONS = True

    def __init__(
        self,
        env: gym.Env,
        weights: Sequence[float] | np.ndarray | None = None,
        *,
        step_lock: threading.Lock | None = None,
    ) -> None:
        super().__init__()
        self.env = env
        self.core = core_env(env)
        self.reward_components = reward_components(env, "FineGrainedOpenEnv")
        self.weights = check_weights(weights, self.reward_components)
        self.reward_names = [c.name for c in self.reward_components]
        self._lock = step_lock if step_lock is not None else threading.Lock()
        space = env.observation_space
        self._observation_keys = list(space.spaces) if isinstance(space, spaces.Dict) else []
        self._episode_id: str | None = None
        self._step_count = 0
        self._done = True

    def reset(
        self,
        seed: int | None = None,
        episode_id: str | None = None,
        options: dict[str, Any] | None = None,
        **kwargs: Any,
    ) -> FineGrainedObservation:
        if kwargs:
            raise _ServedError(
                InvalidValueError(f"unknown reset arguments {sorted(kwargs)}; valid: 'seed', 'episode_id', 'options'")
            )
        try:
            with self._lock:
                observation, info = self.env.reset(seed=seed, options=options)
        except Exception as error:
            raise self._served(error) from error
        self._episode_id = episode_id or str(uuid.uuid4())
        self._step_count = 0
        self._done = False
        return self._observation(
            observation, None, {"info": _json_safe(info, "info"), "reward_names": self.reward_names}
        )

    def step(
        self, action: TextAction, timeout_s: float | None = None, **kwargs: Any
    ) -> FineGrainedObservation:  # timeout_s: a step is short; OpenEnv passes it for envs that run code
        try:
            with self._lock:
                observation, reward, terminated, truncated, info = self.env.step(action.text)
        except Exception as error:
            raise self._served(error) from error
        vector = np.asarray(reward, dtype=np.float32)
        self._step_count += 1
        self._done = bool(terminated or truncated)
        rest = {key: value for key, value in info.items() if key not in ("segments", "reward_mask")}
        metadata = {
            "reward_vector": vector.tolist(),
            "reward_mask": np.asarray(info["reward_mask"], dtype=bool).tolist(),
            "reward_names": self.reward_names,
            "weights": self.weights.tolist(),
            "segments": _json_safe(info["segments"], "info['segments']"),
            "terminated": bool(terminated),
            "truncated": bool(truncated),
            "info": _json_safe(rest, "info"),
        }
        return self._observation(observation, float(np.dot(vector, self.weights)), metadata)

    def _observation(self, observation: Any, reward: float | None, metadata: dict[str, Any]) -> FineGrainedObservation:
        fields = observation if isinstance(observation, Mapping) else {"observation": observation}
        return FineGrainedObservation(
            prompt=self.core.example.prompt,
            response=self.core.response,
            fields=_json_safe(fields, "observation"),
            done=self._done,
            reward=reward,
            metadata=metadata,
        )

    @staticmethod
    def _served(error: Exception) -> _ServedError:
        if not isinstance(error, (FgEnvError, gym.error.Error, LookupError, ValueError, TypeError)):
            # Not the client's mistake: keep the traceback in the server's log.
            logger.exception("the served environment failed")
        return _ServedError(error)

    @property
    def state(self) -> FineGrainedState:
        return FineGrainedState(
            episode_id=self._episode_id,
            step_count=self._step_count,
            env_name=self.core.env_name,
            reward_components=[
                {
                    "name": c.name,
                    "granularity": Granularity(c.granularity).value,
                    "segment_bounds": _finite_or_none(c.segment_bounds),
                    "default_weight": c.default_weight,
                }
                for c in self.reward_components
            ],
            weights=self.weights.tolist(),
            observation_keys=self._observation_keys,
            example_id=None if self._episode_id is None else self.core.example.id,
            response=self.core.response,
            done=self._done,
        )

    def get_metadata(self) -> EnvironmentMetadata:
        doc = (type(self.core).__doc__ or "").strip().splitlines()
        return EnvironmentMetadata(
            name=self.core.env_name,
            description=doc[0] if doc else f"{self.core.env_name}, served by fg_env",
            version=fg_env.__version__,
        )

    def close(self) -> None:
        self.env.close()


def _make_env(env: str | Callable[[], gym.Env], env_kwargs: Mapping[str, Any] | None) -> gym.Env:
    if isinstance(env, str):
        try:
            return gym.make(env, **dict(env_kwargs or {}))
        except (gym.error.Error, ModuleNotFoundError) as error:  # an unknown id, a package not importable
            raise InvalidValueError(
                f"cannot make env {env!r}: {error} Give a registered id ('FineGrainedQA-v0'), or "
                "'package:Env-v0' to import the package that registers it"
            ) from error
        except TypeError as error:  # a misspelt argument in env_kwargs is the user's, not a bug: one line
            if isinstance(error, FgEnvError) or "unexpected keyword argument" not in str(error):
                raise
            raise InvalidTypeError(f"cannot make env {env!r}: {error}") from error
    if not callable(env):
        raise InvalidTypeError(
            f"env must be a registered env id or a callable returning an env, got {type(env).__name__}"
        )
    return env(**dict(env_kwargs or {}))


def create_app(
    env: str | Callable[..., gym.Env] = "FineGrainedQA-v0",
    *,
    weights: Sequence[float] | np.ndarray | None = None,
    max_sessions: int = DEFAULT_MAX_SESSIONS,
    env_kwargs: Mapping[str, Any] | None = None,
) -> Any:
    """The FastAPI app that serves ``env`` over OpenEnv: one session per WebSocket connection (``/ws``).

    The env is built once (``gym.make(env, **env_kwargs)``, or ``env(**env_kwargs)``) and each session
    plays its own copy (:func:`~fg_env.envs.vector.copy_env`), sharing the reward models and the
    dataset, so a session costs an env's state, not a model. A session ends when its connection
    closes, however it closes; ``max_sessions`` bounds how many are open at once. The app has
    OpenEnv's other routes too (``/health``, ``/schema``, ``/metadata``, ``/state``; ``/reset`` and
    ``/step`` over HTTP build a fresh env per request and hold no episode: play through ``/ws``).

    Args:
        env: a registered env id (``"FineGrainedQA-v0"``, ``"your_package:YourTask-v0"``), or a
            callable returning an env built on the core.
        weights: the weights of OpenEnv's scalar reward; the env's ``default_weights`` when None.
        max_sessions: how many sessions may be open at once.
        env_kwargs: arguments of the env (``{"max_sentences": 6}``).

    Example:
        >>> app = create_app("FineGrainedQA-v0", weights=[0.3, 0.5, 0.3], max_sessions=8)
        >>> sorted(r.path for r in app.routes if r.path in ("/ws", "/health", "/state"))
        ['/health', '/state', '/ws']
    """
    if isinstance(max_sessions, bool) or not isinstance(max_sessions, int) or max_sessions < 1:
        raise InvalidValueError(f"max_sessions must be a positive integer, got {max_sessions!r}")
    # Never reset: a copy of an env whose random generator was never drawn from seeds its own
    # (from the OS) on its first unseeded reset, so sessions do not all draw the same questions.
    prototype = _make_env(env, env_kwargs)
    lock = threading.Lock()
    checked = FineGrainedOpenEnv(prototype, weights, step_lock=lock)  # refuses a non-core env or a scalar reward

    def new_session() -> FineGrainedOpenEnv:
        return FineGrainedOpenEnv(copy_env(prototype), checked.weights, step_lock=lock)

    return create_fastapi_app(
        new_session,
        TextAction,
        FineGrainedObservation,
        max_concurrent_envs=max_sessions,
        env_name=checked.core.env_name,
        state_cls=FineGrainedState,
    )


def serve(
    env: str | Callable[..., gym.Env] = "FineGrainedQA-v0",
    *,
    host: str = "127.0.0.1",
    port: int = 8000,
    weights: Sequence[float] | np.ndarray | None = None,
    max_sessions: int = DEFAULT_MAX_SESSIONS,
    env_kwargs: Mapping[str, Any] | None = None,
    log_level: str = "info",
) -> None:
    """Serve ``env`` (see :func:`create_app`) on ``host:port`` until interrupted (uvicorn)."""
    import uvicorn

    app = create_app(env, weights=weights, max_sessions=max_sessions, env_kwargs=env_kwargs)
    uvicorn.run(app, host=host, port=port, log_level=log_level)


# ------------------------------------------------------------------------------------ the client side

# The errors a served env raises that a client raises again as themselves (their constructors take
# the message alone); any other is an EnvServerError that names it.
_REBUILT_ERRORS: dict[str, type[Exception]] = {
    cls.__name__: cls
    for cls in (
        ResetNeededError,
        InvalidActionError,
        InvalidValueError,
        InvalidTypeError,
        MissingWorldError,
        # A served env's remote scorer failing (FineGrainedDetox-v0 on the Perspective API): the client raises
        # what the env raised, so its caller tells an outage from a refused key as it would locally.
        ScorerError,
        ScorerUnreachableError,
        APIKeyError,
        IndexError,
        KeyError,
        ValueError,
        TypeError,
    )
}


def _validation_problems(errors: Any) -> str:
    """Pydantic's errors as ``field 'text': Input should be a valid string (got 3)``."""
    problems = []
    for error in errors if isinstance(errors, list) else []:
        location = ".".join(str(part) for part in error.get("loc", ()))
        given = f" (got {error['input']!r:.80})" if "input" in error and error.get("type") != "missing" else ""
        problems.append(f"field {location!r}: {error.get('msg', 'invalid')}{given}")
    return "; ".join(problems) or "invalid message"


def _error_from_frame(data: Mapping[str, Any], request: str, url: str) -> Exception:
    """The exception a client raises for OpenEnv's error frame ``data``, answering a ``request``.

    Example:
        >>> frame = {"code": "EXECUTION_ERROR", "message": "ScorerUnreachableError: perspective did not answer"}
        >>> error = _error_from_frame(frame, "step", "ws://127.0.0.1:8000")
        >>> type(error).__name__, str(error)
        ('ScorerUnreachableError', 'perspective did not answer')
    """
    code = str(data.get("code", "UNKNOWN"))
    message = str(data.get("message", "unknown error"))
    if code == "VALIDATION_ERROR":
        problems = _validation_problems(data.get("errors"))
        if request == "step":
            return InvalidActionError(
                f"the fg_env server at {url} refused the action: {problems}; an action is {{'text': '<one sentence>'}}"
            )
        return InvalidValueError(f"the fg_env server at {url} refused the {request} message: {problems}")
    if code == "EXECUTION_ERROR":
        name, _, text = message.partition(": ")
        if name in _REBUILT_ERRORS and text:
            return _REBUILT_ERRORS[name](text)
        return EnvServerError(f"the fg_env server at {url} failed a {request}: {message}")
    if code == "CAPACITY_REACHED":
        return EnvServerError(
            f"the fg_env server at {url} is at capacity ({message}): close a client, or serve with more --max-sessions"
        )
    return EnvServerError(f"the fg_env server at {url} answered a {request} with {code}: {message}")


class FineGrainedEnvClient(EnvClient[TextAction, FineGrainedObservation, FineGrainedState]):
    """OpenEnv's client for a served fg_env env: one WebSocket session (async; ``.sync()`` for sync code).

    ``step`` takes a :class:`TextAction`, a ``str``, or a mapping sent as it is (what another language's
    client would send); the server validates it. A server's error comes back as fg_env's error class
    (``ResetNeededError``, ``InvalidActionError``...), a server that cannot be reached, drops the
    connection or does not answer within ``message_timeout_s`` as
    :class:`~fg_env.errors.ServerUnreachableError`, each naming the server's URL.

    Example:
        >>> client = FineGrainedEnvClient(base_url="http://127.0.0.1:8000", connect_timeout_s=2.0)
        >>> client._step_payload("Ann won.")
        {'text': 'Ann won.'}
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        #: How many WebSocket connections (server sessions) this client has opened: a new one after a
        #: dropped connection means the episode of the old one is gone.
        self.connections = 0

    @property
    def url(self) -> str:
        return self._ws_url or str(self.base_url)

    def _step_payload(self, action: TextAction | str | Mapping[str, Any]) -> dict[str, Any]:
        if isinstance(action, TextAction):
            return {"text": action.text}
        if isinstance(action, str):
            return {"text": action}
        if isinstance(action, Mapping):
            return dict(action)
        raise InvalidActionError(f"an action is a str (one sentence), got {type(action).__name__}")

    def _parse_result(self, payload: dict[str, Any]) -> StepResult[FineGrainedObservation]:
        observation = FineGrainedObservation(
            **payload.get("observation", {}), reward=payload.get("reward"), done=payload.get("done", False)
        )
        return StepResult(
            observation=observation,
            reward=payload.get("reward"),
            done=payload.get("done", False),
            metadata=payload.get("metadata", {}),
        )

    def _parse_state(self, payload: dict[str, Any]) -> FineGrainedState:
        return FineGrainedState(**payload)

    # OpenEnv's client raises a bare ConnectionError, or waits on a closed socket's error, and turns an
    # error frame into a RuntimeError with the message alone; these two overrides name the server and
    # keep the error's class and the validation details.
    async def _connect_async(self) -> FineGrainedEnvClient:
        before = self._ws
        try:
            await super()._connect_async()
        except FgEnvError:
            raise
        except ConnectionError as error:
            cause = error.__cause__ or error
            raise ServerUnreachableError(
                f"cannot reach the fg_env server at {self.url} ({type(cause).__name__}: {cause}); "
                "is `fg-env serve` running there?"
            ) from error
        if self._ws is not before:
            self.connections += 1
        return self

    async def _send_and_receive(self, message: dict[str, Any]) -> dict[str, Any]:
        request = str(message.get("type"))
        try:
            try:
                await self._send(message)
            except ConnectionClosed:
                pass  # as OpenEnv's client: a refused session's error frame may wait to be read
            response = await self._receive()
        except FgEnvError:
            raise
        except ConnectionClosed as error:
            raise ServerUnreachableError(
                f"the connection to the fg_env server at {self.url} closed during a {request} ({error}); "
                "its episode is gone: reset() starts a new one once the server is back"
            ) from error
        except (asyncio.TimeoutError, TimeoutError) as error:
            raise ServerUnreachableError(
                f"the fg_env server at {self.url} did not answer a {request} within {self._message_timeout:g} s; "
                "its episode is gone: reset() starts a new one"
            ) from error
        if response.get("type") == "error":
            raise _error_from_frame(response.get("data", {}), request, self.url)
        return response


class RemoteFineGrainedEnv(RewardVectorFacts, gym.Env[dict[str, Any], str]):
    """A served fg_env environment as a Gymnasium env again: ``step(text)`` returns the reward vector.

    It opens one session on the server at ``base_url`` (:func:`create_app`) and behaves as the local
    env: ``reset(seed=..., options=...)`` returns the observation dict and the info (``prompt``,
    ``references``, ``example_id``); ``step(text)`` returns the unweighted float32 reward vector and
    an info with ``segments``, ``reward_mask`` (a bool array) and the rest of the local info, plus
    ``weighted_reward``: OpenEnv's scalar, the server's weights times the vector. ``reward_names``,
    ``reward_components``, ``reward_space`` and ``default_weights`` are the served env's, so
    vector-reading wrappers (:class:`~fg_env.wrappers.LinearScalarization`) work on it.

    Errors are the local env's classes (``ResetNeededError``, ``InvalidActionError``...); a server
    that cannot be reached, drops the connection or does not answer within ``message_timeout_s``
    raises :class:`~fg_env.errors.ServerUnreachableError` naming its URL. An episode does not survive
    its connection: after a drop, ``step`` says so and ``reset`` opens a new session.

    Args:
        base_url: the server's URL (``http://host:port`` or ``ws://host:port``).
        connect_timeout_s: how long to wait for a connection.
        message_timeout_s: how long to wait for each answer.

    Example:
        >>> try:
        ...     RemoteFineGrainedEnv("http://127.0.0.1:9", connect_timeout_s=1.0)  # nothing serves there
        ... except ServerUnreachableError as error:
        ...     print(str(error).split(" (")[0])
        cannot reach the fg_env server at ws://127.0.0.1:9/ws
    """

    metadata: dict[str, Any] = {"render_modes": []}

    def __init__(self, base_url: str, *, connect_timeout_s: float = 10.0, message_timeout_s: float = 60.0) -> None:
        self.client = FineGrainedEnvClient(
            base_url=base_url, connect_timeout_s=connect_timeout_s, message_timeout_s=message_timeout_s
        )
        self._session = self.client.sync()
        try:
            self._session.connect()
            state = self._session.state()
        except BaseException:
            self._session.close()  # stops the client's event-loop thread
            raise
        self.env_name = state.env_name
        self.reward_components: tuple[RewardComponent, ...] = tuple(
            RewardComponent(
                c["name"],
                Granularity(c["granularity"]),
                _bounds(c["segment_bounds"]),
                float(c["default_weight"]),
            )
            for c in state.reward_components
        )
        #: The weights of the server's scalar (``info["weighted_reward"]``).
        self.weights = np.asarray(state.weights, dtype=np.float32)
        self.observation_space = spaces.Dict({key: UnicodeText() for key in state.observation_keys})
        self.action_space = UnicodeText()
        self._connection_at_reset: int | None = None
        self._closed = False

    @property
    def url(self) -> str:
        return self.client.url

    def reset(
        self, *, seed: int | None = None, options: dict[str, Any] | None = None
    ) -> tuple[dict[str, Any], dict[str, Any]]:
        super().reset(seed=seed)
        arguments: dict[str, Any] = {}
        if seed is not None:
            arguments["seed"] = int(seed)
        if options is not None:
            arguments["options"] = _json_safe(options, "options")
        result = self._session.reset(**arguments)
        names = tuple(result.metadata.get("reward_names", ()))
        if names != self.reward_names:
            raise EnvServerError(
                f"the fg_env server at {self.url} now returns rewards {list(names)}, not {list(self.reward_names)} "
                "(restarted with another env?): make a new RemoteFineGrainedEnv"
            )
        self._connection_at_reset = self.client.connections
        return dict(result.observation.fields), dict(result.metadata["info"])

    def step(self, action: str) -> tuple[dict[str, Any], np.ndarray, bool, bool, dict[str, Any]]:
        if not isinstance(action, str):
            raise InvalidActionError(f"an action is a str (one sentence), got {type(action).__name__}")
        try:
            result = self._session.step(action)
        except ResetNeededError as error:
            if self._connection_at_reset is not None and self.client.connections != self._connection_at_reset:
                raise ResetNeededError(
                    f"the connection to the fg_env server at {self.url} was lost and opened again since reset() "
                    "(the server restarted, or dropped it): its episode is gone; call reset()"
                ) from error
            raise
        metadata = result.metadata
        info = {
            "segments": metadata["segments"],
            "reward_mask": np.asarray(metadata["reward_mask"], dtype=bool),
            **metadata["info"],
            "weighted_reward": result.reward,
        }
        reward = np.asarray(metadata["reward_vector"], dtype=np.float32)
        return dict(result.observation.fields), reward, bool(metadata["terminated"]), bool(metadata["truncated"]), info

    def close(self) -> None:
        """End the session (the server frees it) and stop the client's event-loop thread."""
        if not self._closed:
            self._closed = True
            self._session.close()
        super().close()


if __name__ == "__main__":  # python -m fg_env.integrations.openenv --env FineGrainedQA-v0 --port 8000
    import sys

    from fg_env.cli import main

    sys.exit(main(["serve", *sys.argv[1:]]))
