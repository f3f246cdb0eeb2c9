"""Writes that appear complete or not at all: a temporary file or folder beside the target, then one
:func:`os.replace`, which is atomic on one file system. Shared by checkpoints and caches everywhere."""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import IO, Any

from fg_env.errors import InvalidValueError


@contextlib.contextmanager
def atomic_directory(target: str | os.PathLike[str]) -> Iterator[Path]:
    """Yield an empty temporary folder; on success it replaces ``target`` in one rename.

    If the block raises, the temporary folder is removed and ``target`` is left as it was.

    Example:
        >>> import tempfile, pathlib
        >>> root = pathlib.Path(tempfile.mkdtemp())
        >>> with atomic_directory(root / "model") as tmp:
        ...     _ = (tmp / "weights.bin").write_bytes(b"0")
        >>> sorted(p.name for p in (root / "model").iterdir())
        ['weights.bin']
    """
    target = Path(target)
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{target.name}.tmp-", dir=target.parent))
    try:
        yield tmp
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    # os.replace cannot overwrite a non-empty folder: move the old one aside first, then drop it.
    old = None
    if target.exists():
        old = Path(tempfile.mkdtemp(prefix=f".{target.name}.old-", dir=target.parent))
        os.replace(target, old / "dir")
    os.replace(tmp, target)
    if old is not None:
        shutil.rmtree(old, ignore_errors=True)


@contextlib.contextmanager
def atomic_file(path: str | os.PathLike[str], mode: str = "w") -> Iterator[IO[Any]]:
    """Yield a handle on a temporary file beside ``path``; on success it is flushed to disk and renamed
    over ``path``. If the block raises, the temporary file is removed and ``path`` is left as it was.

    ``mode`` is ``"w"`` (UTF-8 text) or ``"wb"``. The temporary file's name ends in ``.tmp``.

    Example:
        >>> import tempfile, pathlib
        >>> target = pathlib.Path(tempfile.mkdtemp()) / "notes.txt"
        >>> with atomic_file(target) as handle:
        ...     _ = handle.write("complete")
        >>> target.read_text()
        'complete'
    """
    if mode not in ("w", "wb"):
        raise InvalidValueError(f"atomic_file writes in mode 'w' or 'wb', got {mode!r}")
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, mode, encoding="utf-8" if mode == "w" else None) as handle:
            yield handle
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise


def atomic_write_text(path: str | os.PathLike[str], text: str) -> None:
    """Write ``text`` to ``path`` atomically (:func:`atomic_file`)."""
    with atomic_file(path, "w") as handle:
        handle.write(text)


def atomic_write_json(path: str | os.PathLike[str], payload: Any) -> None:
    """Write ``payload`` as indented JSON, atomically."""
    atomic_write_text(path, json.dumps(payload, indent=2, sort_keys=True) + "\n")


def atomic_torch_save(payload: Any, path: str | os.PathLike[str]) -> None:
    """``torch.save`` to ``path`` atomically (:func:`atomic_file`)."""
    import torch

    with atomic_file(path, "wb") as handle:
        torch.save(payload, handle)
