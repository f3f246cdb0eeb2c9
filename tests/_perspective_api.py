"""A local stand-in for the Perspective API's ``comments:analyze`` on 127.0.0.1, for the scorer's tests and the
detoxification environment's: :class:`Api` answers each request with ``reply(n, request)``; :func:`ok` and
:func:`api_error` build the API's answers; :func:`client` is a scorer pointed at it that retries fast
(``FAST_SETTINGS``). The fixtures that start and stop it (``serve``, ``sleeps``, ``no_proxy``) are in
``conftest.py``."""

from __future__ import annotations

import json
import threading
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from fg_env.rewards.toxicity.perspective import PerspectiveToxicity

Reply = tuple[int, Any, dict[str, str]]  # status, body (a dict is sent as JSON, bytes as they are), headers


class Api:
    """A local stand-in for comments:analyze on 127.0.0.1: ``reply(n, request)`` answers the n-th request.

    ``port`` 0 takes a free port; a closed server's port opens it again (a service back after an outage)."""

    def __init__(self, reply: Callable[[int, dict[str, Any]], Reply], port: int = 0) -> None:
        self.reply, self.requests = reply, []
        self.lock = threading.Lock()
        api = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 - http.server's name
                raw = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                with api.lock:
                    number = len(api.requests)
                    api.requests.append(
                        {"path": self.path, "content_type": self.headers.get("Content-Type"), "json": json.loads(raw)}
                    )
                status, body, headers = api.reply(number, api.requests[-1]["json"])
                data = body if isinstance(body, bytes) else json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                for key, value in headers.items():
                    self.send_header(key, value)
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", port), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/v1alpha1/comments:analyze"
        threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True).start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


def score_of(request: dict[str, Any]) -> float:
    return min(1.0, len(request["comment"]["text"]) / 100)


def ok(request: dict[str, Any]) -> Reply:
    value = score_of(request)
    body = {
        "attributeScores": {
            "TOXICITY": {
                "spanScores": [{"begin": 0, "end": 3, "score": {"value": value, "type": "PROBABILITY"}}],
                "summaryScore": {"value": value, "type": "PROBABILITY"},
            }
        },
        "languages": ["en"],
        "detectedLanguages": ["en"],
    }
    return 200, body, {}


def api_error(code: int, message: str, status: str, reason: str | None = None) -> Reply:
    error: dict[str, Any] = {"code": code, "message": message, "status": status}
    if reason:
        error["details"] = [{"@type": "type.googleapis.com/google.rpc.ErrorInfo", "reason": reason}]
    return code, {"error": error}, {}


#: A scorer's settings for the stand-in: a key, no rate limit to speak of, quick retries.
FAST_SETTINGS: dict[str, Any] = {
    "api_key": "test-key",
    "requests_per_second": 1e6,
    "timeout": 5.0,
    "backoff": 0.01,
    "max_retries": 3,
}


def client(url: str, **settings: Any) -> PerspectiveToxicity:
    return PerspectiveToxicity(url=url, **{**FAST_SETTINGS, **settings})
