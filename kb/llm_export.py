"""`kb export-embeddings --llm FILE`: the KB's claim vectors as an llm collection.

llm (Simon Willison's CLI) keeps embeddings in its own schema (`collections`,
`embeddings`, `_sqlite_migrations`), made by its own migrations; our vectors
are already in its format (little-endian float32), so they are copied, not
recomputed. The collection's model is named as llm-sentence-transformers names
it, so with that plugin `llm similar claims -c "question"` embeds a question
with the same model; without it, `llm similar claims CLAIM_ID` works as is.
The export is a new file: the built KB itself is sealed and never written.
"""

from __future__ import annotations

import json
import time
from pathlib import Path

from ingest.db import open_database
from search.embeddings import TABLE

LLM_MODEL_PREFIX = "sentence-transformers/"


class ExportError(Exception):
    pass


def export_llm_collection(db_path: Path, out_path: Path, collection: str = "claims") -> int:
    """Write every claim vector of db_path into the llm collection `collection` of out_path; returns the count."""
    try:
        import sqlite_utils
        from llm.embeddings import Collection
        from llm.embeddings_migrations import embeddings_migrations
    except ImportError:
        raise ExportError("the llm package is not installed: pip install llm") from None
    source = open_database(db_path)
    rows = list(
        source.query(
            f"select e.claim_id, e.model, e.embedding, c.statement, c.kind, c.document_id, c.citations"
            f" from {TABLE} e join claims c on c.id = e.claim_id order by e.claim_id"
        )
    )
    if not rows:
        raise ExportError(f"{db_path} has no claim embeddings: build it without --no-embed")
    models = {r["model"] for r in rows}
    if len(models) != 1:
        raise ExportError(f"{db_path} holds embeddings of several models ({', '.join(sorted(models))}); rebuild it")
    out = sqlite_utils.Database(out_path)
    embeddings_migrations.apply(out)
    if list(out["collections"].rows_where("name = ?", [collection])):
        raise ExportError(f"{out_path} already has a collection {collection!r}; choose another --collection or file")
    collection_id = (
        out["collections"].insert({"name": collection, "model": LLM_MODEL_PREFIX + models.pop().split("/")[-1]}).last_pk
    )
    now = int(time.time())
    out["embeddings"].insert_all(
        {
            "collection_id": collection_id,
            "id": r["claim_id"],
            "embedding": r["embedding"],
            "content": r["statement"],
            "content_hash": Collection.content_hash(r["statement"]),
            "metadata": json.dumps(
                {"kind": r["kind"], "document": r["document_id"], "citation": r["citations"]}, ensure_ascii=False
            ),
            "updated": now,
        }
        for r in rows
    )
    out.close()
    return len(rows)
