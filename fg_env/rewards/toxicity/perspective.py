"""Toxicity from the Perspective API, the paper's scorer: a key and the network, rate-limited, with retries.

Wu et al. (2023) scored toxicity with Perspective's ``TOXICITY`` attribute. One ``comments:analyze``
request scores one text::

    POST https://commentanalyzer.googleapis.com/v1alpha1/comments:analyze?key=KEY
    {"comment": {"text": "..."}, "languages": ["en"], "requestedAttributes": {"TOXICITY": {}}, "doNotStore": true}

    200 {"attributeScores": {"TOXICITY": {"summaryScore": {"value": 0.02, "type": "PROBABILITY"}, ...}}, ...}
    4xx/5xx {"error": {"code": 403, "message": "...", "status": "PERMISSION_DENIED"}}

:class:`PerspectiveToxicity` sends a batch's texts as such requests, at most ``requests_per_second`` of them
(Perspective's default quota is 1 per second), ``max_concurrent`` at a time. A 429 or 5xx answer, a
timeout or a dropped connection is retried with exponential back-off (honouring ``Retry-After``); a
refused key (401, 403, or 400 naming the key) raises :class:`~fg_env.errors.APIKeyError`, another refused
request or an answer without the score :class:`~fg_env.errors.ScorerError`, a service that cannot be reached
past the retries :class:`~fg_env.errors.ScorerUnreachableError`. Nothing is ever made up in place of a score
the service did not give. Only the standard library is used.
"""

from __future__ import annotations

import http.client
import json
import math
import os
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable, Sequence
from concurrent.futures import FIRST_EXCEPTION, ThreadPoolExecutor, wait
from typing import Any

import numpy as np

from fg_env.errors import APIKeyError, InvalidValueError, ScorerError, ScorerUnreachableError
from fg_env.rewards.toxicity.base import check_texts

__all__ = ["API_KEY_ENV", "PERSPECTIVE_URL", "PerspectiveToxicity"]

PERSPECTIVE_URL = "https://commentanalyzer.googleapis.com/v1alpha1/comments:analyze"
#: The environment variable the key is read from when none is given.
API_KEY_ENV = "PERSPECTIVE_API_KEY"

_sleep = time.sleep  # one name for every wait here (the rate limit, the back-off), so tests can record them


class _RateLimiter:
    """Spaces calls at least ``1 / rate`` seconds apart, across threads."""

    def __init__(self, rate: float, clock: Callable[[], float] = time.monotonic) -> None:
        self.interval, self.clock = 1.0 / rate, clock
        self._next = -math.inf
        self._lock = threading.Lock()

    def wait(self) -> None:
        with self._lock:
            now = self.clock()
            start = max(now, self._next)
            self._next = start + self.interval
        if start > now:
            _sleep(start - now)


class _Stopped(Exception):
    """Another request of the same batch failed: this one gives up quietly."""


def _positive(name: str, value: float) -> float:
    if not (isinstance(value, (int, float)) and math.isfinite(value) and value > 0):
        raise InvalidValueError(f"{name} must be a positive number, got {value!r}")
    return float(value)


class PerspectiveToxicity:
    """Toxicity as the Perspective API's summary score for ``attribute`` (``TOXICITY``), one request per text.

    Args:
        api_key: the key; by default the environment variable ``PERSPECTIVE_API_KEY``. Missing, it raises
            :class:`~fg_env.errors.APIKeyError` at once.
        requests_per_second: the most requests sent per second (retries included), across threads.
        max_concurrent: requests in flight at once.
        languages: the texts' languages, or None to let the service detect them.
        attribute: the attribute to read (``TOXICITY``, ``SEVERE_TOXICITY``, ``INSULT``...).
        timeout: seconds to wait for each answer.
        max_retries: retries of one text after a 429, a 5xx, a timeout or a dropped connection.
        backoff: the first retry's wait in seconds, doubled at each retry up to ``max_backoff``.
        url: the ``comments:analyze`` endpoint (another host serving the same format, or a test server).
        do_not_store: ask the service not to keep the texts.

    An empty or blank text scores 0.0 without a request (the service refuses empty comments). ``version``
    is ``perspective-`` and the attribute: Google updates its models without a version to read, so results
    scored through the API may not reproduce.

    Example:
        >>> PerspectiveToxicity(api_key="")
        Traceback (most recent call last):
        ...
        fg_env.errors.APIKeyError: the Perspective API needs a key: pass api_key=... or set PERSPECTIVE_API_KEY
        >>> PerspectiveToxicity(api_key="my-key", requests_per_second=5).version
        'perspective-TOXICITY'
    """

    name: str = "perspective"

    def __init__(
        self,
        api_key: str | None = None,
        *,
        requests_per_second: float = 1.0,
        max_concurrent: int = 1,
        languages: Sequence[str] | None = ("en",),
        attribute: str = "TOXICITY",
        timeout: float = 30.0,
        max_retries: int = 5,
        backoff: float = 1.0,
        max_backoff: float = 32.0,
        url: str = PERSPECTIVE_URL,
        do_not_store: bool = True,
    ) -> None:
        key = api_key if api_key is not None else os.environ.get(API_KEY_ENV, "")
        if not key.strip():
            raise APIKeyError(f"the Perspective API needs a key: pass api_key=... or set {API_KEY_ENV}")
        if not isinstance(max_concurrent, int) or max_concurrent < 1:
            raise InvalidValueError(f"max_concurrent must be a positive integer, got {max_concurrent!r}")
        if not isinstance(max_retries, int) or max_retries < 0:
            raise InvalidValueError(f"max_retries must be a non-negative integer, got {max_retries!r}")
        if urllib.parse.urlsplit(url).scheme not in ("http", "https"):
            raise InvalidValueError(f"url must be an http(s) URL, got {url!r}")
        self._key = key.strip()
        self.requests_per_second = _positive("requests_per_second", requests_per_second)
        self.timeout = _positive("timeout", timeout)
        self.backoff, self.max_backoff = _positive("backoff", backoff), _positive("max_backoff", max_backoff)
        self.max_concurrent, self.max_retries = max_concurrent, max_retries
        self.languages = None if languages is None else [str(language) for language in languages]
        self.attribute, self.url, self.do_not_store = attribute, url, bool(do_not_store)
        self.version: str | None = f"perspective-{attribute}"
        self._limiter = _RateLimiter(self.requests_per_second)
        self._opener = urllib.request.build_opener()
        separator = "&" if urllib.parse.urlsplit(url).query else "?"
        self._request_url = f"{url}{separator}{urllib.parse.urlencode({'key': self._key})}"

    # ------------------------------------------------------------------------------------------ scoring

    def toxicity(self, texts: Sequence[str]) -> np.ndarray:
        """The service's ``attribute`` probability for each text, in [0, 1]; raises if any text goes unscored."""
        items = check_texts(texts)
        scores = np.zeros(len(items), dtype=np.float64)
        todo = [index for index, text in enumerate(items) if text.strip()]
        stop = threading.Event()
        if self.max_concurrent == 1 or len(todo) <= 1:
            for index in todo:
                scores[index] = self._score_one(index, items[index], stop)
            return scores
        pool = ThreadPoolExecutor(max_workers=min(self.max_concurrent, len(todo)))
        try:
            futures = {pool.submit(self._score_one, index, items[index], stop): index for index in todo}
            done, _ = wait(futures, return_when=FIRST_EXCEPTION)
            for future in done:
                error = future.exception()
                if error is not None and not isinstance(error, _Stopped):
                    stop.set()
                    raise error
            for future, index in futures.items():
                scores[index] = future.result()
        finally:
            stop.set()
            pool.shutdown(wait=True, cancel_futures=True)
        return scores

    def _body(self, text: str) -> bytes:
        request: dict[str, Any] = {"comment": {"text": text}, "requestedAttributes": {self.attribute: {}}}
        if self.languages is not None:
            request["languages"] = self.languages
        request["doNotStore"] = self.do_not_store
        return json.dumps(request).encode("utf-8")

    def _score_one(self, index: int, text: str, stop: threading.Event) -> float:
        body, last = self._body(text), ""
        unreachable = False
        for attempt in range(self.max_retries + 1):
            if stop.is_set():
                raise _Stopped
            self._limiter.wait()
            request = urllib.request.Request(
                self._request_url, data=body, method="POST", headers={"Content-Type": "application/json"}
            )
            retry_after = 0.0
            try:
                with self._opener.open(request, timeout=self.timeout) as response:
                    payload = response.read()
                return self._parse(payload, index)
            except urllib.error.HTTPError as error:
                status, message = error.code, self._error_message(error)
                if status == 429 or 500 <= status < 600:
                    last, unreachable = f"HTTP {status}: {message}", False
                    retry_after = self._retry_after(error)
                elif status in (401, 403) or (status == 400 and "key" in message.lower()):
                    raise APIKeyError(
                        f"the Perspective API at {self.url} refused the key (HTTP {status}): {message}"
                    ) from None
                else:
                    raise ScorerError(
                        f"the Perspective API at {self.url} refused text {index} (HTTP {status}): {message}"
                    ) from None
            except TimeoutError:
                last, unreachable = f"no answer within {self.timeout:g} s", True
            except (urllib.error.URLError, http.client.HTTPException, OSError) as error:
                reason = getattr(error, "reason", error)
                if isinstance(reason, TimeoutError):
                    last = f"no answer within {self.timeout:g} s"
                else:
                    last = f"{type(reason).__name__}: {reason}"
                unreachable = True
            if attempt < self.max_retries:
                _sleep(max(min(self.max_backoff, self.backoff * 2**attempt), min(retry_after, self.max_backoff)))
        error_type = ScorerUnreachableError if unreachable else ScorerError
        raise error_type(
            f"the Perspective API at {self.url} did not score text {index} after {self.max_retries + 1} attempts: {last}"
        )

    @staticmethod
    def _retry_after(error: urllib.error.HTTPError) -> float:
        try:
            return max(0.0, float(error.headers.get("Retry-After", 0)))
        except (TypeError, ValueError):
            return 0.0  # an HTTP date, or nonsense: the back-off alone

    @staticmethod
    def _error_message(error: urllib.error.HTTPError) -> str:
        """The API's own words (``error.message``, and ``error.status``), or the reason phrase."""
        try:
            raw = error.read()
        except (OSError, http.client.HTTPException):
            raw = b""
        finally:
            error.close()
        try:
            details = json.loads(raw)["error"]
            status = details.get("status")
            message = str(details["message"])
            reasons = [d.get("reason") for d in details.get("details", []) if isinstance(d, dict) and d.get("reason")]
            extra = ", ".join(str(x) for x in [status, *reasons] if x)
            return f"{message} ({extra})" if extra else message
        except (ValueError, TypeError, KeyError, AttributeError):
            text = raw.decode("utf-8", "replace").strip()[:200]
            return text or str(error.reason)

    def _parse(self, payload: bytes, index: int) -> float:
        try:
            value = json.loads(payload)["attributeScores"][self.attribute]["summaryScore"]["value"]
        except (ValueError, TypeError, KeyError) as error:
            raise ScorerError(
                f"the Perspective API at {self.url} answered text {index} without "
                f"attributeScores.{self.attribute}.summaryScore.value ({type(error).__name__}: {error}): "
                f"{payload[:200].decode('utf-8', 'replace')!r}"
            ) from None
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not (0.0 <= value <= 1.0):
            raise ScorerError(
                f"the Perspective API at {self.url} answered text {index} with score {value!r}, not a probability"
            )
        return float(value)

    def __repr__(self) -> str:  # never shows the key
        return f"{type(self).__name__}(url={self.url!r}, attribute={self.attribute!r})"
