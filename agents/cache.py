"""Where agents keep what they build (the default policy), and how they write it without tearing.

The cache folder is ``$FG_ENV_CACHE`` when set, else ``$XDG_CACHE_HOME/fg_env``, else ``~/.cache/fg_env``
(the XDG base-directory rule, which is what ``platformdirs`` would give on Linux, without the extra
dependency). Every directory written there appears complete or not at all: it is filled under a temporary
name in the same parent folder and then renamed with :func:`os.replace`, which is atomic on one file system.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import tempfile
from pathlib import Path
from typing import Any, Iterator


def cache_root() -> Path:
    """The fg_env cache folder (not created).

    Example:
        >>> import os; os.environ["FG_ENV_CACHE"] = "/tmp/fg_cache_example"
        >>> str(cache_root())
        '/tmp/fg_cache_example'
        >>> del os.environ["FG_ENV_CACHE"]
    """
    explicit = os.environ.get("FG_ENV_CACHE")
    if explicit:
        return Path(explicit).expanduser()
    xdg = os.environ.get("XDG_CACHE_HOME")
    base = Path(xdg).expanduser() if xdg else Path.home() / ".cache"
    return base / "fg_env"


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


def atomic_write_text(path: str | os.PathLike[str], text: str) -> None:
    """Write ``text`` to ``path`` through a temporary file and :func:`os.replace`."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.tmp-", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(text)
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise


def atomic_write_json(path: str | os.PathLike[str], payload: Any) -> None:
    """Write ``payload`` as indented JSON, atomically."""
    atomic_write_text(path, json.dumps(payload, indent=2, sort_keys=True) + "\n")
