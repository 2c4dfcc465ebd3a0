"""Where the curated inputs live, in one place so every layer agrees.

A project root holds `evidence/` (documents, claims, candidates, topics, eval
queries) and `citations.bib`. `KB_ROOT` names it; otherwise the current
directory when it looks like a project, else the checkout this package was
installed from (editable installs).
"""

from __future__ import annotations

import os
from pathlib import Path


def project_root() -> Path:
    env = os.environ.get("KB_ROOT")
    if env:
        return Path(env)
    cwd = Path.cwd()
    if (cwd / "evidence").is_dir() and (cwd / "citations.bib").exists():
        return cwd
    return Path(__file__).resolve().parent.parent


def evidence_dir(root: Path) -> Path:
    return Path(root) / "evidence"


def documents_dir(root: Path) -> Path:
    return evidence_dir(root) / "documents"


def claims_dir(root: Path) -> Path:
    return evidence_dir(root) / "claims"


def candidates_dir(root: Path) -> Path:
    return evidence_dir(root) / "candidates"


def topics_path(root: Path) -> Path:
    return evidence_dir(root) / "topics.yaml"


def bibliography_path(root: Path) -> Path:
    return Path(root) / "citations.bib"


def eval_queries_path(root: Path | None = None) -> Path:
    return evidence_dir(root or project_root()) / "eval" / "queries.yaml"


def outside_root(path: Path, root: Path) -> str | None:
    """Why a curated file may not be read (a link that leads outside the project folder), or None."""
    try:
        resolved = Path(path).resolve(strict=False)
    except (OSError, RuntimeError):  # a symlink loop
        return "is a symbolic link loop"
    try:
        resolved.relative_to(Path(root).resolve())
    except ValueError:
        return f"leads outside the project folder (to {resolved})"
    return None
