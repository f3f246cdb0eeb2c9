"""RealToxicityPrompts (Gehman et al., 2020) from a folder the user names, split as Quark and DExperts did.

The folder holds the release's ``prompts.jsonl``: one JSON object per line, with the documented fields
``filename`` (str), ``begin`` and ``end`` (int: the sentence's character offsets in that OpenWebText file),
``challenging`` (bool), and ``prompt`` and ``continuation``, each an object with ``text`` (str) and the
Perspective API's attribute scores (``toxicity``, ``profanity``, ``severe_toxicity``, ``sexually_explicit``,
``identity_attack``, ``flirtation``, ``threat``, ``insult``: each a number in [0, 1] or null). Every line is
checked before any prompt is returned; a malformed one raises :class:`~fg_env.errors.PromptsFormatError`
naming the file, the 1-based line and the field::

    prompts.jsonl: line 7: field 'prompt.toxicity': expected a number in [0, 1] or null, got 'high'

A missing folder or file raises :class:`~fg_env.errors.DataNotFoundError`, no folder at all (no ``data_dir``)
:class:`~fg_env.errors.InvalidValueError`. Nothing is downloaded.

The split
---------
The fine-grained RLHF paper (Wu et al., 2023) says it follows prior work for its detoxification data; that
line of work is DExperts (Liu et al., 2021) and Quark (Lu et al., 2022):

- **test**: DExperts' 10K non-toxic prompts, ``nontoxic_prompts-10k.jsonl`` (github.com/alisawuffles/DExperts
  ships it in the ``prompts.zip`` its README has one download; Quark commits the same file as
  ``data/toxicity/raw/nontoxic_prompts-10k.jsonl`` and ``data/toxicity/test.jsonl``; DExperts samples them
  among prompts whose Perspective toxicity is below 0.5).
- **dev** and **train**: Quark's ``data/toxicity/process.py`` (github.com/GXimingLu/Quark): every line of
  ``prompts.jsonl`` not in the test file, in file order, shuffled with ``random.seed(42)``; the first 5,000
  are the validation split (here ``dev``), the rest (about 85K) ``train``.

Put DExperts' ``nontoxic_prompts-10k.jsonl`` beside ``prompts.jsonl`` and the three splits are exactly
Quark's, hence the paper's (a test record is matched to ``prompts.jsonl`` by ``filename``, ``begin`` and
``end``, or by its prompt text when it lacks them; Quark compared whole lines). Without that file (it is not
part of the RealToxicityPrompts release, and this repository copies no RealToxicityPrompts data), the
test split follows DExperts' documented rule instead: ``test_size`` prompts drawn with
``random.Random(test_seed).sample`` among those with a ``prompt.toxicity`` below 0.5, in file order; dev and
train then follow Quark's rule unchanged. Those test ids are reproducible but are not DExperts' own: a
result on them is comparable with other runs of this loader, not with the paper's Table 1.
:attr:`RealToxicityPrompts.test_source` says which rule made the test split.

Example:
    >>> import json, pathlib, tempfile
    >>> folder = pathlib.Path(tempfile.mkdtemp())
    >>> record = lambda i, tox: {"filename": f"{i}.txt", "begin": 0, "end": 9, "challenging": False,
    ...     "prompt": {"text": f"Prompt {i}", "toxicity": tox}, "continuation": {"text": " goes on."}}
    >>> lines = [json.dumps(record(i, 0.1 if i % 2 else 0.9)) for i in range(12)]
    >>> _ = (folder / "prompts.jsonl").write_text("\\n".join(lines) + "\\n")
    >>> rtp = RealToxicityPrompts(folder, test_size=3, dev_size=2)
    >>> [len(rtp.split(s)) for s in ("train", "dev", "test")], rtp.test_source
    ([7, 2, 3], 'sampled')
    >>> all(p.toxicity < 0.5 for p in rtp.split("test"))
    True
"""

from __future__ import annotations

import json
import math
import random
from collections.abc import Hashable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from fg_env.data.base import TaskDataset
from fg_env.data.detox.types import DetoxPrompt
from fg_env.errors import DataNotFoundError, InvalidValueError, PromptsFormatError

__all__ = [
    "DEV_SIZE",
    "NONTOXIC_TEST_FILE",
    "PROMPTS_FILE",
    "PERSPECTIVE_ATTRIBUTES",
    "RTPRecord",
    "RealToxicityPrompts",
    "SPLIT_SEED",
    "TEST_SIZE",
    "read_prompts_file",
]

PROMPTS_FILE = "prompts.jsonl"
#: DExperts' test prompts, put in the folder by the user (not part of the RealToxicityPrompts release).
NONTOXIC_TEST_FILE = "nontoxic_prompts-10k.jsonl"
#: Quark's ``random.seed(42)`` before shuffling the prompts that are not test prompts.
SPLIT_SEED = 42
#: Quark's ``val_num``.
DEV_SIZE = 5000
#: DExperts' number of non-toxic test prompts.
TEST_SIZE = 10_000
#: The seed of the test sample drawn when DExperts' file is absent (its own seed is not published).
TEST_SEED = 0
NONTOXIC_BELOW = 0.5
PERSPECTIVE_ATTRIBUTES: tuple[str, ...] = (
    "toxicity",
    "severe_toxicity",
    "profanity",
    "sexually_explicit",
    "identity_attack",
    "flirtation",
    "threat",
    "insult",
)


@dataclass(frozen=True)
class RTPRecord:
    """One checked line of a RealToxicityPrompts file (``line`` is 1-based)."""

    line: int
    filename: str | None
    begin: int | None
    end: int | None
    challenging: bool
    prompt: str
    prompt_scores: dict[str, float | None]
    continuation: str | None

    def key(self) -> Hashable:
        """What identifies the record across files: its place in OpenWebText, or its prompt text without one."""
        if self.filename is not None and self.begin is not None and self.end is not None:
            return ("place", self.filename, self.begin, self.end)
        return ("text", self.prompt)


class _Line:
    """Checks the fields of one line, naming the file, line and field of the first bad one."""

    def __init__(self, file: str, line: int) -> None:
        self.file, self.line = file, line

    def fail(self, field: str | None, message: str) -> PromptsFormatError:
        return PromptsFormatError(self.file, message, line=self.line, field=field)

    def get(self, record: dict[str, Any], key: str, field: str, required: bool) -> Any:
        if key not in record:
            if required:
                raise self.fail(field, "missing")
            return None
        return record[key]

    def string(self, value: Any, field: str) -> str:
        if not isinstance(value, str):
            raise self.fail(field, f"expected a string, got {_show(value)}")
        return value

    def integer(self, value: Any, field: str) -> int:
        if isinstance(value, bool) or not isinstance(value, int) or value < 0:
            raise self.fail(field, f"expected a non-negative integer, got {_show(value)}")
        return value

    def score(self, value: Any, field: str) -> float | None:
        if value is None:
            return None
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
            raise self.fail(field, f"expected a number in [0, 1] or null, got {_show(value)}")
        if not 0.0 <= value <= 1.0:
            raise self.fail(field, f"expected a number in [0, 1] or null, got {value!r}")
        return float(value)

    def text_object(self, value: Any, field: str) -> tuple[str, dict[str, float | None]]:
        if not isinstance(value, dict):
            raise self.fail(field, f"expected an object with 'text', got {_show(value)}")
        text = self.string(self.get(value, "text", f"{field}.text", required=True), f"{field}.text")
        scores = {a: self.score(value[a], f"{field}.{a}") for a in PERSPECTIVE_ATTRIBUTES if a in value}
        return text, scores


def _show(value: Any) -> str:
    text = json.dumps(value) if not isinstance(value, str) else repr(value)
    return text if len(text) <= 40 else text[:37] + "..."


def read_prompts_file(path: Path, *, full: bool = True) -> list[RTPRecord]:
    """Every line of a RealToxicityPrompts-format file, checked (blank lines are skipped).

    ``full`` asks for every documented field (``prompts.jsonl``); otherwise only ``prompt.text`` is required
    and the other fields are checked when present (DExperts' prompt files)."""
    if not path.is_file():
        raise DataNotFoundError(f"RealToxicityPrompts file {str(path)!r} does not exist")
    records = []
    with path.open("rb") as handle:
        for number, raw in enumerate(handle, start=1):
            check = _Line(path.name, number)
            try:
                text = raw.decode("utf-8")
            except UnicodeDecodeError as error:
                raise check.fail(None, f"not UTF-8 text ({error.reason} at byte {error.start})") from None
            if not text.strip():
                continue
            try:
                record = json.loads(text)
            except json.JSONDecodeError as error:
                raise check.fail(None, f"not valid JSON ({error.msg} at column {error.colno})") from None
            if not isinstance(record, dict):
                raise check.fail(None, f"expected a JSON object, got {_show(record)}")

            # a partial file's fields, when given, are checked all the same
            present = {
                key: full or key in record for key in ("filename", "begin", "end", "challenging", "continuation")
            }

            filename = (
                check.string(check.get(record, "filename", "filename", True), "filename")
                if present["filename"]
                else None
            )
            begin = check.integer(check.get(record, "begin", "begin", True), "begin") if present["begin"] else None
            end = check.integer(check.get(record, "end", "end", True), "end") if present["end"] else None
            challenging = check.get(record, "challenging", "challenging", True) if present["challenging"] else False
            if not isinstance(challenging, bool):
                raise check.fail("challenging", f"expected true or false, got {_show(challenging)}")
            prompt, scores = check.text_object(check.get(record, "prompt", "prompt", True), "prompt")
            continuation = None
            if present["continuation"]:
                continuation, _ = check.text_object(
                    check.get(record, "continuation", "continuation", True), "continuation"
                )
            if begin is not None and end is not None and end < begin:
                raise check.fail("end", f"expected an offset at or after begin ({begin}), got {end}")
            records.append(
                RTPRecord(
                    line=number,
                    filename=filename,
                    begin=begin,
                    end=end,
                    challenging=challenging,
                    prompt=prompt,
                    prompt_scores=scores,
                    continuation=continuation,
                )
            )
    return records


def _prompt(record: RTPRecord, example_id: str) -> DetoxPrompt:
    return DetoxPrompt(
        id=example_id,
        prompt=record.prompt,
        toxicity=record.prompt_scores.get("toxicity"),
        challenging=record.challenging,
    )


class RealToxicityPrompts(TaskDataset[DetoxPrompt]):
    """RealToxicityPrompts' prompts from ``data_dir``, split into ``train``, ``dev`` and ``test`` as Quark did.

    A prompt's id is ``rtp-NNNNNN``, its 0-based line in ``prompts.jsonl`` (blank lines count), so the same
    prompt has the same id in every split scheme. See the module's docstring for the split; ``test_size``,
    ``dev_size``, ``split_seed`` and ``test_seed`` change it (for small files, or a study of one's own).
    The file is read and checked when a split is first asked for.

    Example:
        >>> RealToxicityPrompts("/no/such/folder").split("dev")
        Traceback (most recent call last):
        ...
        fg_env.errors.DataNotFoundError: RealToxicityPrompts folder '/no/such/folder' does not exist (expected prompts.jsonl in it)
    """

    name = "real-toxicity-prompts"
    splits: tuple[str, ...] = ("train", "dev", "test")

    def __init__(
        self,
        data_dir: str | Path | None = None,
        *,
        test_size: int = TEST_SIZE,
        dev_size: int = DEV_SIZE,
        split_seed: int = SPLIT_SEED,
        test_seed: int = TEST_SEED,
    ) -> None:
        for label, value in (("test_size", test_size), ("dev_size", dev_size)):
            if isinstance(value, bool) or not isinstance(value, int) or value < 0:
                raise InvalidValueError(f"{label} must be a non-negative integer, got {value!r}")
        if data_dir is None:
            raise InvalidValueError(
                f"dataset 'real-toxicity-prompts' needs data_dir: the folder holding RealToxicityPrompts' "
                f"{PROMPTS_FILE}, e.g. data_dir='path/to/realtoxicityprompts-data' (nothing is downloaded)"
            )
        self.data_dir = Path(data_dir)
        self.test_size, self.dev_size, self.split_seed, self.test_seed = test_size, dev_size, split_seed, test_seed
        self._splits: dict[str, list[DetoxPrompt]] | None = None
        #: "dexperts" (DExperts' file was in the folder) or "sampled" (drawn by DExperts' rule); None until read.
        self.test_source: str | None = None

    def _load_split(self, name: str) -> Sequence[DetoxPrompt]:
        if self._splits is None:
            self._splits = self._build()
        return self._splits[name]

    def _build(self) -> dict[str, list[DetoxPrompt]]:
        if not self.data_dir.is_dir():
            problem = "is not a folder" if self.data_dir.exists() else "does not exist"
            raise DataNotFoundError(
                f"RealToxicityPrompts folder {str(self.data_dir)!r} {problem} (expected {PROMPTS_FILE} in it)"
            )
        path = self.data_dir / PROMPTS_FILE
        if not path.is_file():
            raise DataNotFoundError(f"no {PROMPTS_FILE} in RealToxicityPrompts folder {str(self.data_dir)!r}")
        records = read_prompts_file(path)
        ids = [f"rtp-{r.line - 1:06d}" for r in records]
        test_path = self.data_dir / NONTOXIC_TEST_FILE
        if test_path.is_file():
            self.test_source = "dexperts"
            test_records = read_prompts_file(test_path, full=False)
            where: dict[Hashable, str] = {}
            for record, example_id in zip(records, ids):
                where.setdefault(record.key(), example_id)
                where.setdefault(("text", record.prompt), example_id)
            test = [_prompt(r, where.get(r.key(), f"rtp-nontoxic10k-{i:05d}")) for i, r in enumerate(test_records)]
            test_keys = {r.key() for r in test_records}
            # Quark's rule compares whole lines; a test prompt's duplicates in prompts.jsonl leave with it.
            rest = [
                i for i, r in enumerate(records) if r.key() not in test_keys and ("text", r.prompt) not in test_keys
            ]
        else:
            self.test_source = "sampled"
            eligible = [
                i
                for i, r in enumerate(records)
                if (t := r.prompt_scores.get("toxicity")) is not None and t < NONTOXIC_BELOW
            ]
            if len(eligible) < self.test_size:
                raise InvalidValueError(
                    f"{path}: {len(eligible)} prompts have a toxicity below {NONTOXIC_BELOW}, fewer than test_size "
                    f"{self.test_size} (or put DExperts' {NONTOXIC_TEST_FILE} in the folder)"
                )
            chosen = sorted(random.Random(self.test_seed).sample(eligible, self.test_size))
            test = [_prompt(records[i], ids[i]) for i in chosen]
            taken = set(chosen)
            rest = [i for i in range(len(records)) if i not in taken]
        if len(rest) < self.dev_size:
            raise InvalidValueError(
                f"{path}: {len(rest)} prompts remain after the test split, fewer than dev_size {self.dev_size}"
            )
        random.Random(self.split_seed).shuffle(rest)  # Quark: random.seed(42); random.shuffle(train_val)
        return {
            "train": [_prompt(records[i], ids[i]) for i in rest[self.dev_size :]],
            "dev": [_prompt(records[i], ids[i]) for i in rest[: self.dev_size]],
            "test": test,
        }

    def __repr__(self) -> str:
        return f"RealToxicityPrompts({str(self.data_dir)!r})"
