"""Steps per second through an OpenEnv server (fg_env.integrations.openenv), for 1, 8 and 32 concurrent
clients, against the local environment on the same episodes.

The server runs in a process of its own (``python -m fg_env.integrations.openenv``), as it would beside
a trainer; each client is a RemoteFineGrainedEnv in a thread of this process, all connected before the
clock starts. Episodes replay the typical 6-sentence answers of ``env_throughput.py`` (gold sentences,
then passage sentences and repeats), one sentence per step plus the ending step. Every measurement uses
questions not seen before, in the server and here alike, so no annotator cache is warm; the local
baseline plays the same questions in this process, one episode after another. Every remote episode's
summed reward vector is checked against the local one's.

    python benchmarks/openenv_throughput.py [--episodes 192] [--repeats 3] [--clients 1,8,32]
    python benchmarks/openenv_throughput.py --quick    # a few episodes: checks that it runs
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import threading
import time
import urllib.request
from pathlib import Path
from typing import Any

import gymnasium as gym
import numpy as np

import fg_env  # noqa: F401 - registers the environment
from fg_env.text import clear_cache

sys.path.insert(0, str(Path(__file__).resolve().parent))
from env_throughput import typical_answers  # noqa: E402 - the same episodes as the env's own benchmark

WARM_UP = 20  # episodes played before any clock starts, locally and through the server

Answers = list[tuple[int, list[str]]]


def play(env: gym.Env, answers: Answers) -> tuple[int, list[np.ndarray]]:
    """Play ``answers``; the number of steps and each episode's summed reward vector."""
    steps, returns = 0, []
    for index, sentences in answers:
        env.reset(options={"index": index})
        total = np.zeros(3, dtype=np.float64)
        for action in [*sentences, ""]:
            _, reward, terminated, truncated, _ = env.step(action)
            steps += 1
            total += reward
            if terminated or truncated:
                break
        returns.append(total)
    return steps, returns


def local_run(answers: Answers) -> tuple[int, float, list[np.ndarray]]:
    env = gym.make("FineGrainedQA-v0")
    clear_cache()
    start = time.perf_counter()
    steps, returns = play(env, answers)
    return steps, time.perf_counter() - start, returns


def remote_run(url: str, answers: Answers, clients: int) -> tuple[int, float, list[np.ndarray]]:
    """``answers`` shared among ``clients`` concurrent sessions; the wall time from the moment all are
    connected until the last finishes."""
    from fg_env.integrations.openenv import RemoteFineGrainedEnv

    envs = [RemoteFineGrainedEnv(url) for _ in range(clients)]
    shares = [list(range(i, len(answers), clients)) for i in range(clients)]
    results: list[Any] = [None] * clients
    ready = threading.Barrier(clients + 1)

    def client(i: int) -> None:
        ready.wait()
        try:
            results[i] = play(envs[i], [answers[j] for j in shares[i]])
        except BaseException as error:  # reported below
            results[i] = error

    threads = [threading.Thread(target=client, args=(i,)) for i in range(clients)]
    for thread in threads:
        thread.start()
    ready.wait()
    start = time.perf_counter()
    for thread in threads:
        thread.join()
    seconds = time.perf_counter() - start
    for env in envs:
        env.close()
    returns: list[np.ndarray] = [np.zeros(0)] * len(answers)
    steps = 0
    for share, result in zip(shares, results):
        if isinstance(result, BaseException):
            raise result
        share_steps, share_returns = result
        steps += share_steps
        for j, episode_return in zip(share, share_returns):
            returns[j] = episode_return
    return steps, seconds, returns


def start_server(port: int, max_sessions: int) -> subprocess.Popen:
    command = [sys.executable, "-m", "fg_env.integrations.openenv", "--port", str(port)]
    command += ["--max-sessions", str(max_sessions), "--log-level", "warning"]
    server = subprocess.Popen(command, env={**os.environ, "OMP_NUM_THREADS": "1"})
    deadline = time.monotonic() + 180
    while True:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/health", timeout=1):
                return server
        except OSError:
            if server.poll() is not None or time.monotonic() > deadline:
                server.kill()
                raise SystemExit(f"the server on port {port} did not start: {' '.join(command)}") from None
            time.sleep(0.2)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--episodes", type=int, default=192, help="episodes per measurement (new questions each)")
    parser.add_argument("--repeats", type=int, default=3, help="measurements per number of clients (median)")
    parser.add_argument("--clients", default="1,8,32", help="numbers of concurrent clients, comma-separated")
    parser.add_argument("--port", type=int, default=8731)
    parser.add_argument("--quick", action="store_true", help="8 episodes, once: checks that the benchmark runs")
    args = parser.parse_args()
    if args.quick:
        args.episodes, args.repeats = 8, 1
    counts = [int(c) for c in args.clients.split(",")]
    env = gym.make("FineGrainedQA-v0")
    needed = WARM_UP + len(counts) * args.repeats * args.episodes
    if needed > len(env.unwrapped.examples):
        raise SystemExit(f"{needed} questions needed, the train split has {len(env.unwrapped.examples)}: fewer --episodes")
    blocks = iter(range(WARM_UP, needed, args.episodes))
    url = f"http://127.0.0.1:{args.port}"

    server = start_server(args.port, max(counts))
    try:
        warm_up = typical_answers(env, 0, WARM_UP)
        local_run(warm_up)
        remote_run(url, warm_up, 1)
        rows = []
        for clients in counts:
            local_times, remote_times = [], []
            for _ in range(args.repeats):
                answers = typical_answers(env, next(blocks), args.episodes)
                steps, local_seconds, local_returns = local_run(answers)
                remote_steps, remote_seconds, remote_returns = remote_run(url, answers, clients)
                assert remote_steps == steps
                assert all(np.array_equal(a, b) for a, b in zip(local_returns, remote_returns)), "rewards differ"
                local_times.append(local_seconds)
                remote_times.append(remote_seconds)
            rows.append((clients, steps, statistics.median(local_times), statistics.median(remote_times)))
    finally:
        server.terminate()
        server.wait(timeout=30)

    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    print(f"\n{args.episodes} episodes of up to 6 sentences + end per measurement, median of {args.repeats}; ")
    print(f"{os.cpu_count()} CPUs, load average {load:.1f}; every remote reward vector equal to the local one\n")
    print("| clients | steps | local env (steps/s) | through the server (steps/s) | server / local | ms per step, per client |")
    print("| ---: | ---: | ---: | ---: | ---: | ---: |")
    for clients, steps, local_seconds, remote_seconds in rows:
        print(
            f"| {clients} | {steps} | {steps / local_seconds:,.0f} | {steps / remote_seconds:,.0f} | "
            f"{local_seconds / remote_seconds:.2f}x | {1000 * remote_seconds * clients / steps:.2f} |"
        )


if __name__ == "__main__":
    main()
