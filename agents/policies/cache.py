"""Where agents keep what they build (the default policy), and how they write it without tearing.

The cache folder is ``$FG_ENV_CACHE`` when set, else ``$XDG_CACHE_HOME/fg_env``, else ``~/.cache/fg_env``
(the XDG base-directory rule, which is what ``platformdirs`` would give on Linux, without the extra
dependency). Every directory written there appears complete or not at all: it is filled under a temporary
name in the same parent folder and then renamed with :func:`os.replace`, which is atomic on one file system.
"""

from __future__ import annotations

import os
from pathlib import Path

from fg_env.atomic import atomic_directory, atomic_write_json, atomic_write_text

__all__ = ["atomic_directory", "atomic_write_json", "atomic_write_text", "cache_root"]


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
