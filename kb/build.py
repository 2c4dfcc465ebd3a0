"""`kb build`: the curated inputs to a database and its search index, atomically.

The steps run one way through the layers: `ingest` loads, validates and
writes the database; `search` adds embeddings and the FAISS index; this
module formats the citation text the database stores, verifies the result
and commits it. Everything is written to temporary files beside the target
and renamed into place only after it is complete and passes its integrity
checks, so a failed build leaves the previous database (and index)
byte-identical.
"""

from __future__ import annotations

import os
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

from ingest.database import DatabaseError, verify_database, write_database
from ingest.db import seal
from ingest.load import KnowledgeBase, load_all
from ingest.paths import project_root
from search.index import fingerprint_path_of_index, index_path_for, publish_index, remove_unreferenced_indexes
from search.onnx_encoder import fingerprint_path_of as onnx_fingerprint_of
from search.onnx_encoder import onnx_path_for


class BuildError(Exception):
    pass


@dataclass
class BuildReport:
    db_path: Path
    counts: dict[str, int]
    search: dict = field(default_factory=dict)


def in_text_citations(kb: KnowledgeBase):
    """APA in-text citations over the whole KB, made by the same code as `kb cite`
    so Datasette, the views and the exports agree (year suffixes, group authors)."""
    from kb.cite.apa import apa_ready
    from kb.cite.intext import InText
    from kb.cite.ordering import apa_order, assign_year_suffixes

    items = assign_year_suffixes(apa_order(apa_ready(s.to_csl()) for s in kb.sources.values()))
    return InText(items)


def build_kb(
    db_path: str | os.PathLike,
    *,
    root: str | os.PathLike | None = None,
    embed: bool = True,
    model: str | None = None,
    progress: bool = True,
    index_type: str | None = None,
) -> BuildReport:
    """Build db_path from the curated inputs under root; raises ValidationFailed or BuildError."""
    kb = load_all(Path(root) if root else project_root())
    db_path = Path(db_path)
    db_path.parent.mkdir(parents=True, exist_ok=True)
    remove_stale_temp_files(db_path)
    fd, tmp_name = tempfile.mkstemp(dir=db_path.parent, prefix=f".{db_path.name}.", suffix=".tmp")
    os.close(fd)
    tmp = Path(tmp_name)
    tmp_index = index_path_for(tmp)
    tmp_onnx = onnx_path_for(tmp)
    written: list[Path] = [
        tmp,
        tmp_index,
        fingerprint_path_of_index(tmp_index),
        tmp_onnx,
        onnx_fingerprint_of(tmp_onnx),
    ]
    committed = False
    try:
        counts = write_database(kb, tmp, in_text_citations(kb))
        search_stats: dict = {}
        if embed:
            from search.artifacts import build_search_artifacts

            try:
                search_stats = build_search_artifacts(
                    tmp,
                    tmp_index,
                    previous_db=db_path if db_path.exists() else None,
                    model=model,
                    progress=progress,
                    index_type=index_type,
                )
            except Exception as exc:  # model or index failures: report, keep the old files
                raise BuildError(f"embedding or indexing failed: {type(exc).__name__}: {exc}") from exc
            # Content-addressed and recorded in the new database: invisible until the commit below.
            written += publish_index(tmp, tmp_index, db_path)
        try:
            verify_database(tmp)
        except DatabaseError as exc:
            raise BuildError(str(exc)) from exc
        # Nothing writes a built KB again: sealed, every SQLite client opens it read-only.
        seal(tmp)
        # mkstemp makes the file owner-only; a database is meant to be shared.
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(tmp, 0o666 & ~umask)
        if embed and tmp_onnx.exists():
            # The query encoder is checked against the index's model and weights at load, so a new
            # encoder beside an old database is refused, never silently mixed.
            os.replace(onnx_fingerprint_of(tmp_onnx), onnx_fingerprint_of(onnx_path_for(db_path)))
            os.replace(tmp_onnx, onnx_path_for(db_path))
        os.replace(tmp, db_path)  # the one commit point
        committed = True
        if embed:
            remove_unreferenced_indexes(db_path)
    finally:
        for leftover in written + [Path(str(tmp) + "-journal")]:
            if leftover == tmp and committed:
                continue
            if leftover.exists() and (not committed or leftover.name.startswith(".")):
                leftover.unlink()
    return BuildReport(db_path, counts, search_stats)


def remove_stale_temp_files(db_path: Path) -> list[Path]:
    """Temporary files of earlier builds that were killed before their commit (.kb.db.*.tmp*)."""
    removed = []
    for path in db_path.parent.glob(f".{db_path.name}.*.tmp*"):
        if path.is_file():
            path.unlink(missing_ok=True)
            removed.append(path)
    return removed
