"""Where things live by default, in one place so every command agrees."""

from __future__ import annotations

import os
from pathlib import Path

DEFAULT_DB = Path("build/kb.db")


def project_root() -> Path:
    """The folder holding the curated inputs (evidence/, citations.bib).

    `KB_ROOT` wins; otherwise the current directory if it looks like a
    checkout, else the checkout this package was installed from (editable).
    """
    env = os.environ.get("KB_ROOT")
    if env:
        return Path(env)
    cwd = Path.cwd()
    if (cwd / "evidence").is_dir() and (cwd / "citations.bib").exists():
        return cwd
    return Path(__file__).resolve().parent.parent


def index_path_for(db_path: str | os.PathLike) -> Path:
    """The FAISS index lives next to its database: build/kb.db -> build/kb.db.faiss."""
    return Path(str(db_path) + ".faiss")


def fingerprint_path_for(db_path: str | os.PathLike) -> Path:
    return Path(str(db_path) + ".faiss.json")
