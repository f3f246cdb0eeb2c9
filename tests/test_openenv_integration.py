"""fg_env served over OpenEnv: many concurrent sessions play exactly the local env's episodes, and every
failure (a dropped client, a malformed action, a server that is down, stopped or slow) is a clear error
that leaves the other sessions alone.

The servers run in this process (uvicorn in a thread) on loopback ports of their own.
"""

from __future__ import annotations

import re
import socket
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import gymnasium as gym
import numpy as np
import pytest

pytest.importorskip("openenv")
uvicorn = pytest.importorskip("uvicorn")

from test_second_env import ContinuePromptEnv, EndsWell  # noqa: E402

import fg_env  # noqa: E402,F401 - registers the environments
from fg_env.envs.answers import sentence_actions  # noqa: E402
from fg_env.errors import (  # noqa: E402
    EnvServerError,
    InvalidActionError,
    InvalidValueError,
    ResetNeededError,
    ServerUnreachableError,
)
from fg_env.integrations.openenv import (  # noqa: E402
    FineGrainedEnvClient,
    FineGrainedOpenEnv,
    RemoteFineGrainedEnv,
    TextAction,
    create_app,
)
from fg_env.rewards.base import RewardModel, ScoringRequest, SegmentScore  # noqa: E402
from fg_env.text import split_sentences  # noqa: E402
from fg_env.types import Granularity  # noqa: E402
from fg_env.wrappers import LinearScalarization, RewardDensity, SelectRewards  # noqa: E402

TIMEOUTS = {"connect_timeout_s": 5.0, "message_timeout_s": 20.0}

# ------------------------------------------------------------------------------------ servers


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class ServerThread:
    """uvicorn serving ``app`` on a loopback port, in a thread: ``start()``, ``stop()``, ``start()`` again."""

    def __init__(self, app: Any, port: int | None = None) -> None:
        self.app, self.port = app, port or free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self._server: uvicorn.Server | None = None
        self._thread: threading.Thread | None = None

    def start(self) -> ServerThread:
        self._server = uvicorn.Server(uvicorn.Config(self.app, host="127.0.0.1", port=self.port, log_level="warning"))
        self._thread = threading.Thread(target=self._server.run, daemon=True)
        self._thread.start()
        deadline = time.monotonic() + 20
        while not self._server.started:
            assert self._thread.is_alive() and time.monotonic() < deadline, f"the server on {self.url} did not start"
            time.sleep(0.02)
        return self

    def stop(self) -> None:
        if self._server is not None and self._thread is not None:
            self._server.should_exit = True
            self._thread.join(timeout=20)
            assert not self._thread.is_alive(), f"the server on {self.url} did not stop"
        self._server = self._thread = None


@contextmanager
def serving(app: Any) -> Iterator[ServerThread]:
    server = ServerThread(app).start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture(scope="module")
def qa_server() -> Iterator[ServerThread]:
    with serving(create_app("FineGrainedQA-v0", max_sessions=40)) as server:
        yield server


# ------------------------------------------------------------------------------------ episodes


@dataclass(frozen=True)
class Episode:
    """One episode to play: how it is reset and the actions stepped."""

    seed: int | None
    options: dict[str, Any] | None
    actions: tuple[str, ...]


def answer_actions(answer: str) -> tuple[str, ...]:
    return tuple(answer[start:end] for start, end in sentence_actions(answer))


YEAR = re.compile(r"\b(1[89]\d\d|20\d\d)\b")


def qa_episodes(count: int) -> list[Episode]:
    """Gold answers and flawed ones (the first gold sentence, a passage's dated sentence with the year
    moved, the first sentence again) to different questions; every third one drawn by its seed alone."""
    env = gym.make("FineGrainedQA-v0")
    episodes = []
    for i in range(count):
        seed, options = 1000 + i, (None if i % 3 == 0 else {"index": (37 * i + 5) % 2000})
        env.reset(seed=seed, options=options)
        example = env.unwrapped.example
        gold = example.references[0]
        if i % 2:
            first = split_sentences(gold)[0].slice(gold)
            dated = next(s for passage in example.passages for s in passage.sentences if YEAR.search(s))
            wrong = YEAR.sub(lambda year: str(int(year.group()) + 7), dated, count=1)
            answer = f"{first} {wrong} {first}"
        else:
            answer = gold
        episodes.append(Episode(seed=seed, options=options, actions=answer_actions(answer)))
    return episodes


def play(env: gym.Env, episode: Episode) -> list[tuple[Any, ...]]:
    """Everything the env returns over ``episode``: the reset, then each step (until the episode ends)."""
    obs, info = env.reset(seed=episode.seed, options=episode.options)
    steps: list[tuple[Any, ...]] = [(obs, info)]
    for action in episode.actions:
        steps.append(env.step(action))
        if steps[-1][2] or steps[-1][3]:
            break
    return steps


def assert_same_episode(remote: list[tuple[Any, ...]], local: list[tuple[Any, ...]], scalars: list[float]) -> None:
    """The remote episode is the local one: observations, infos, reward vectors (bit for bit, float32),
    masks, segments, endings, and the server's scalar is LinearScalarization's."""
    assert len(remote) == len(local) == len(scalars) + 1
    assert remote[0] == local[0]
    for (r_obs, r_reward, r_term, r_trunc, r_info), (l_obs, l_reward, l_term, l_trunc, l_info), scalar in zip(
        remote[1:], local[1:], scalars
    ):
        assert r_obs == l_obs
        assert r_reward.dtype == np.float32 and r_reward.tobytes() == l_reward.tobytes()
        assert (r_term, r_trunc) == (l_term, l_trunc)
        r_info = dict(r_info)
        assert r_info.pop("weighted_reward") == scalar
        r_mask, l_mask = r_info.pop("reward_mask"), l_info["reward_mask"]
        assert r_mask.dtype == np.bool_ and r_mask.tolist() == l_mask.tolist()
        assert r_info == {key: value for key, value in l_info.items() if key != "reward_mask"}
        assert r_info["segments"] == l_info["segments"]


def local_scalars(make: Callable[[], gym.Env], episode: Episode) -> list[float]:
    """What LinearScalarization (the env's default weights) returns over ``episode``."""
    return [float(step[1]) for step in play(LinearScalarization(make()), episode)[1:]]


def play_concurrently(url: str, plans: Sequence[Sequence[Episode]]) -> list[list[list[tuple[Any, ...]]]]:
    """One client per plan, all connected before any plays, each playing its episodes in a thread."""
    barrier = threading.Barrier(len(plans))
    results: list[Any] = [None] * len(plans)

    def client(i: int) -> None:
        try:
            env = RemoteFineGrainedEnv(url, **TIMEOUTS)
            try:
                barrier.wait(timeout=60)  # every session open at once
                results[i] = [play(env, episode) for episode in plans[i]]
            finally:
                env.close()
        except BaseException as error:  # reported by the main thread
            barrier.abort()
            results[i] = error

    threads = [threading.Thread(target=client, args=(i,)) for i in range(len(plans))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    errors = [r for r in results if isinstance(r, BaseException)]
    if errors:
        raise errors[0]
    return results


# ------------------------------------------------------------------------------------ equality


def test_32_concurrent_clients_play_the_local_episodes_exactly(qa_server):
    episodes = qa_episodes(64)
    plans = [episodes[2 * i : 2 * i + 2] for i in range(32)]  # each client: a gold answer, then a flawed one
    remote = play_concurrently(qa_server.url, plans)
    local_env = gym.make("FineGrainedQA-v0")
    for plan, played in zip(plans, remote):
        for episode, remote_steps in zip(plan, played):
            local_steps = play(local_env, episode)
            scalars = local_scalars(lambda: gym.make("FineGrainedQA-v0"), episode)
            assert_same_episode(remote_steps, local_steps, scalars)
    # The flawed answers were scored as flawed, the gold ones not: the comparison is not of empty rewards.
    for played in remote:
        gold, flawed = ({s["component"] for step in ep[1:] for s in step[4]["segments"] if s["value"] < 0} for ep in played)
        assert gold == set() and flawed == {"relevance", "factuality"}


def test_the_remote_env_states_the_served_reward_vector(qa_server):
    local = gym.make("FineGrainedQA-v0").unwrapped
    env = RemoteFineGrainedEnv(qa_server.url, **TIMEOUTS)
    try:
        assert env.reward_names == local.reward_names
        assert env.reward_components == local.reward_components
        assert env.default_weights.tolist() == local.default_weights.tolist()
        assert env.reward_space == local.reward_space
        assert env.weights.tolist() == local.default_weights.tolist()
        assert set(env.observation_space.spaces) == {"question", "passages", "response"}
        # A vector-reading wrapper works on the remote env as on the local one.
        episode = qa_episodes(2)[1]
        scalars = [float(step[1]) for step in play(LinearScalarization(env), episode)[1:]]
        assert scalars == local_scalars(lambda: gym.make("FineGrainedQA-v0"), episode)
    finally:
        env.close()


def test_an_env_is_served_with_its_wrappers():
    """Wrappers that read the core (RewardDensity) wrap the env on the server's side; the client gets the
    vector they return, its components (unbounded ones included) and their segments."""

    def make() -> gym.Env:
        return SelectRewards(RewardDensity(gym.make("FineGrainedQA-v0"), "sentence"), ["relevance", "completeness"])

    local = make()
    episodes = qa_episodes(2)
    with serving(create_app(make)) as server:
        env = RemoteFineGrainedEnv(server.url, **TIMEOUTS)
        try:
            assert env.reward_components == local.get_wrapper_attr("reward_components")
            assert env.reward_components[0].segment_bounds == (-np.inf, np.inf)
            for episode in episodes:
                assert_same_episode(play(env, episode), play(local, episode), local_scalars(make, episode))
        finally:
            env.close()


def test_a_second_env_on_the_core_is_served_too():
    """Any env of the core: the prompt-continuation env of test_second_env, with weights of our own."""
    weights = [0.25, 2.0]
    episodes = [
        Episode(seed=i, options={"example_id": ("harbour", "door", "rain")[i % 3]}, actions=actions)
        for i, actions in enumerate(
            [
                ("The boats rocked.", " A gull cried out over the long dark water of the bay that night.", ""),
                ("Nobody was there. The hall was cold", ""),
                ("It kept falling.", " And falling.", " And falling.", " And falling."),  # truncated at 4
                ("", "never stepped"),
            ]
        )
    ]
    with serving(create_app(ContinuePromptEnv, weights=weights, max_sessions=8)) as server:
        remote = play_concurrently(server.url, [[episode] for episode in episodes] * 2)
        env = RemoteFineGrainedEnv(server.url, **TIMEOUTS)
        try:
            assert env.env_name == "ContinuePrompt-v0" and env.reward_names == ("length", "ends-well")
            assert env.weights.tolist() == weights
            with pytest.raises(KeyError) as remote_error:
                env.reset(options={"example_id": "nope"})
            with pytest.raises(KeyError) as local_error:
                ContinuePromptEnv().reset(options={"example_id": "nope"})
            assert str(remote_error.value) == str(local_error.value)
        finally:
            env.close()
    for played, episode in zip(remote, episodes * 2):
        local = play(ContinuePromptEnv(), episode)
        scalars = [float(step[1]) for step in play(LinearScalarization(ContinuePromptEnv(), weights), episode)[1:]]
        assert_same_episode(played[0], local, scalars)


# ------------------------------------------------------------------------------------ failures


def test_a_dropped_client_frees_its_session_and_leaves_the_others_alone():
    episode = qa_episodes(2)[0]
    with serving(create_app("FineGrainedQA-v0", max_sessions=2)) as server:
        alive = RemoteFineGrainedEnv(server.url, **TIMEOUTS)
        dropped = RemoteFineGrainedEnv(server.url, **TIMEOUTS)
        try:
            remote = [alive.reset(seed=episode.seed, options=episode.options)]
            remote.append(alive.step(episode.actions[0]))
            dropped.reset(seed=1)
            dropped.step("It rained.")
            with pytest.raises(EnvServerError, match=f"{server.port}/ws is at capacity"):
                RemoteFineGrainedEnv(server.url, **TIMEOUTS)
            # The client dies mid-episode: its socket closes with no goodbye.
            ws = dropped.client._ws
            dropped.client._ws_loop.call_soon_threadsafe(ws.transport.abort)
            deadline = time.monotonic() + 10
            while True:  # the server frees the session as soon as it reads the closed socket
                try:
                    newcomer = RemoteFineGrainedEnv(server.url, **TIMEOUTS)
                    break
                except EnvServerError:
                    assert time.monotonic() < deadline, "the dropped client's session was never freed"
                    time.sleep(0.05)
            newcomer_episode = qa_episodes(4)[3]
            assert_same_episode(
                play(newcomer, newcomer_episode),
                play(gym.make("FineGrainedQA-v0"), newcomer_episode),
                local_scalars(lambda: gym.make("FineGrainedQA-v0"), newcomer_episode),
            )
            newcomer.close()
            for action in episode.actions[1:]:  # the other session went on as if nothing happened
                remote.append(alive.step(action))
            assert_same_episode(
                remote,
                play(gym.make("FineGrainedQA-v0"), episode),
                local_scalars(lambda: gym.make("FineGrainedQA-v0"), episode),
            )
        finally:
            alive.close()
            dropped.close()


def test_a_malformed_action_is_refused_by_name_and_the_session_goes_on(qa_server):
    client = FineGrainedEnvClient(base_url=qa_server.url, **TIMEOUTS).sync()
    try:
        client.connect()
        client.reset(seed=3, options={"index": 3})
        url = f"ws://127.0.0.1:{qa_server.port}/ws"
        for payload, problem in [
            ({"text": 3}, "field 'text': Input should be a valid string (got 3)"),
            ({"text": ["It rained."]}, "field 'text': Input should be a valid string"),
            ({}, "field 'text': Field required"),
            ({"sentence": "It rained."}, "field 'sentence': Extra inputs are not permitted"),
        ]:
            with pytest.raises(InvalidActionError, match="refused the action") as error:
                client.step(payload)
            assert url in str(error.value) and problem in str(error.value)
        with pytest.raises(InvalidValueError, match=r"unknown reset arguments \['question'\]"):
            client.reset(question=3)
        # The session survived every refusal: the episode goes on where it was, as the local one.
        local = gym.make("FineGrainedQA-v0")
        local.reset(seed=3, options={"index": 3})
        sentence = local.unwrapped.example.references[0]
        result = client.step(TextAction(text=sentence))
        _, reward, *_ = local.step(sentence)
        assert result.observation.metadata["reward_vector"] == reward.tolist()
        assert result.reward == float(np.dot(reward, local.unwrapped.default_weights))
    finally:
        client.close()
    env = RemoteFineGrainedEnv(qa_server.url, **TIMEOUTS)
    try:
        with pytest.raises(InvalidActionError, match="an action is a str"):
            env.step(3)  # checked before it is sent, as the local env checks it
    finally:
        env.close()


def test_the_env_errors_come_back_as_the_local_classes(qa_server):
    env = RemoteFineGrainedEnv(qa_server.url, **TIMEOUTS)
    local = gym.make("FineGrainedQA-v0")
    try:
        for call in (
            lambda e: e.step("It rained."),  # before reset
            lambda e: e.reset(options={"index": 10**6}),
            lambda e: e.reset(options={"question": 1}),
            lambda e: (e.reset(seed=0), e.step(""), e.step("Too late.")),
        ):
            with pytest.raises(Exception) as remote_error:
                call(env)
            with pytest.raises(Exception) as local_error:
                call(local)
            # The local class (or fg_env's subclass of Gymnasium's ResetNeeded), the local message.
            assert isinstance(remote_error.value, type(local_error.value))
            assert str(remote_error.value) == str(local_error.value)
    finally:
        env.close()


def test_a_server_that_is_not_there_is_named_at_once():
    port = free_port()
    start = time.monotonic()
    with pytest.raises(ServerUnreachableError, match=f"cannot reach the fg_env server at ws://127.0.0.1:{port}/ws"):
        RemoteFineGrainedEnv(f"http://127.0.0.1:{port}", **TIMEOUTS)
    assert time.monotonic() - start < 5


def test_a_server_that_never_answers_times_out():
    """A port that accepts connections and says nothing: the client gives up after its timeout."""
    with socket.socket() as silent:
        silent.bind(("127.0.0.1", 0))
        silent.listen()
        port = silent.getsockname()[1]
        start = time.monotonic()
        with pytest.raises(ServerUnreachableError, match=f"ws://127.0.0.1:{port}/ws"):
            RemoteFineGrainedEnv(f"http://127.0.0.1:{port}", connect_timeout_s=0.5)
        assert time.monotonic() - start < 5


class SlowLength(RewardModel):
    """Scores a sentence 1.0 after ``delay`` seconds: a reward model slower than the client's patience."""

    name, granularity, bounds = "length", Granularity.SENTENCE, (0.0, 1.0)

    def __init__(self, delay: float = 0.0) -> None:
        self.delay = delay

    def score(self, requests: Sequence[ScoringRequest]) -> list[SegmentScore]:
        time.sleep(self.delay)
        return [SegmentScore(1.0) for _ in requests]


def test_a_step_that_takes_too_long_times_out_and_the_client_can_start_again():
    app = create_app(lambda: ContinuePromptEnv(reward_models=[SlowLength(delay=1.0), EndsWell()]))
    with serving(app) as server:
        env = RemoteFineGrainedEnv(server.url, connect_timeout_s=5.0, message_timeout_s=0.3)
        try:
            env.reset(seed=0)
            start = time.monotonic()
            with pytest.raises(ServerUnreachableError, match=f"{server.port}/ws did not answer a step within 0.3 s"):
                env.step("It rained.")
            assert time.monotonic() - start < 1.0
            time.sleep(1.0)  # the slow step ends on the server, in a session nobody holds any more
            env.reset(seed=0)  # a new session
            assert env.step("")[2]
        finally:
            env.close()


def test_a_server_stopped_mid_episode_is_named_and_a_restarted_one_serves_again():
    episode = qa_episodes(2)[1]
    server = ServerThread(create_app("FineGrainedQA-v0", max_sessions=4)).start()
    env = RemoteFineGrainedEnv(server.url, **TIMEOUTS)
    try:
        env.reset(seed=episode.seed, options=episode.options)
        env.step(episode.actions[0])
        server.stop()
        start = time.monotonic()
        with pytest.raises(ServerUnreachableError, match=f"ws://127.0.0.1:{server.port}/ws"):
            env.step(episode.actions[1])
        assert time.monotonic() - start < 5
        server.start()  # the same port
        with pytest.raises(ResetNeededError, match="was lost and opened again since reset"):
            env.step(episode.actions[1])  # the old episode died with the old server
        local = play(gym.make("FineGrainedQA-v0"), episode)
        scalars = local_scalars(lambda: gym.make("FineGrainedQA-v0"), episode)
        assert_same_episode(play(env, episode), local, scalars)
        newcomer = RemoteFineGrainedEnv(server.url, **TIMEOUTS)
        try:
            assert_same_episode(play(newcomer, episode), local, scalars)
        finally:
            newcomer.close()
    finally:
        env.close()
        server.stop()


# ------------------------------------------------------------------------------------ the adapter


def test_the_adapter_refuses_what_it_cannot_serve():
    with pytest.raises(TypeError, match="FineGrainedEnv"):
        FineGrainedOpenEnv(gym.make("CartPole-v1"))
    with pytest.raises(TypeError, match="already returns a scalar"):
        FineGrainedOpenEnv(LinearScalarization(gym.make("FineGrainedQA-v0")))
    with pytest.raises(ValueError, match="one value per reward model"):
        create_app("FineGrainedQA-v0", weights=[1.0])
    with pytest.raises(ValueError, match="max_sessions must be a positive integer"):
        create_app("FineGrainedQA-v0", max_sessions=0)


def test_the_adapter_metadata_and_state_are_json_safe():
    served = FineGrainedOpenEnv(gym.make("FineGrainedQA-v0"), weights=[1.0, 1.0, 1.0])
    first = served.reset(seed=0, options={"index": 7})
    assert first.reward is None and not first.done
    assert first.prompt == served.core.example.prompt and first.response == ""
    answer = served.core.example.references[0]
    last = served.step(TextAction(text=answer))
    last = served.step(TextAction(text=""))
    assert last.done and last.metadata["terminated"] and not last.metadata["truncated"]
    assert last.response == answer
    assert last.reward == sum(last.metadata["reward_vector"])
    assert last.model_dump_json()  # everything in it is JSON
    state = served.state
    assert (state.step_count, state.done, state.response) == (2, True, answer)
    assert state.example_id == served.core.example.id
    assert [c["name"] for c in state.reward_components] == ["relevance", "factuality", "completeness"]
    assert served.get_metadata().name == "FineGrainedQA-v0"


# ------------------------------------------------------------------------------------ the command


def test_fg_env_serve_builds_the_app_from_its_flags(monkeypatch):
    from fg_env.cli import main

    served: dict[str, Any] = {}
    monkeypatch.setattr(uvicorn, "run", lambda app, **kwargs: served.update(app=app, **kwargs))
    flags = ["--port", "8123", "--weights", "1,0,2", "--max-sessions", "3", "--env-kwargs", '{"max_sentences": 2}']
    assert main(["serve", "--env", "FineGrainedQA-v0", *flags, "--log-level", "warning"]) == 0
    assert (served["host"], served["port"], served["log_level"]) == ("127.0.0.1", 8123, "warning")
    with serving(served["app"]) as server:
        env = RemoteFineGrainedEnv(server.url, **TIMEOUTS)
        try:
            assert env.weights.tolist() == [1.0, 0.0, 2.0]
            env.reset(seed=0)
            assert env.step("It rained. It stopped.")[3]  # truncated: max_sentences=2
        finally:
            env.close()


@pytest.mark.parametrize(
    "flags, message",
    [
        (["--env-kwargs", "[1]"], "expected a JSON object such as"),
        (["--env-kwargs", '{"max_sentences": 0}'], "max_sentences must be a positive integer, got 0"),
        (["--env", "NoSuchEnv-v0"], "NoSuchEnv"),
        (["--weights", "1,2"], "weights need one value per reward model"),
    ],
)
def test_fg_env_serve_reports_bad_flags_in_one_line(flags, message, capsys, monkeypatch):
    from fg_env.cli import main

    monkeypatch.setattr(uvicorn, "run", lambda app, **kwargs: pytest.fail("a server started"))
    try:
        status = main(["serve", *flags])
    except SystemExit as stop:  # argparse's own refusals
        status = stop.code
    err = capsys.readouterr().err
    assert status == 2 and message in err and err.startswith("fg-env serve: error: ") and len(err.splitlines()) == 1
