"""The application's defaults. Paths of the curated inputs live in `ingest.paths`;
the index beside a database is named by `search.index`."""

from __future__ import annotations

from pathlib import Path

DEFAULT_DB = Path("build/kb.db")
