"""Paths as cache keys: one spelling per file, without a filesystem walk per query."""

from __future__ import annotations

import os
from functools import lru_cache
from pathlib import Path


def resolved_path(path: str | os.PathLike) -> str:
    """The absolute, symlink-free path, as a cache key; resolved once per spelling and working directory.

    A server looks its database up on every query, and Path.resolve() costs ~30 us a call.
    """
    path = os.fspath(path)
    return _resolved(path, "" if os.path.isabs(path) else os.getcwd())


@lru_cache(maxsize=256)
def _resolved(path: str, cwd: str) -> str:
    return str(Path(cwd, path).resolve())
