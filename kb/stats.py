"""Counts that tell a curator what the database holds."""

from __future__ import annotations

from pathlib import Path

from ingest.db import open_database
from search.index import fingerprint_path_for, index_path_for


def collect_stats(db_path: Path) -> dict:
    db = open_database(db_path)
    try:
        tables = {
            name: db[name].count
            for name in sorted(db.table_names())
            if not name.startswith("claims_fts") and not name.startswith("sqlite_")
        }

        def group(sql):
            return {row[0] if row[0] is not None else "none": row[1] for row in db.execute(sql).fetchall()}

        stats = {
            "database": str(db_path),
            "tables": tables,
            "claims_by_document": group(
                "select d.id, count(c.id) from documents d left join claims c on c.document_id = d.id"
                " group by d.id order by 2 desc, 1"
            ),
            "claims_by_kind": group("select kind, count(*) from claims group by kind order by 2 desc"),
            "claims_by_certainty": group("select certainty, count(*) from claims group by certainty order by 2 desc"),
            "effect_status": group(
                "select effect_status, count(*) from claims where effect_status is not null group by 1 order by 2 desc"
            ),
            "claim_source_roles": group("select role, count(*) from claim_sources group by role order by 2 desc"),
            "sources_by_type": group("select csl_type, count(*) from sources group by csl_type order by 2 desc"),
            "claims_without_sources": db.execute(
                "select count(*) from claims where id not in (select claim_id from claim_sources)"
            ).fetchone()[0],
            "index": {
                "path": str(index_path_for(db_path)),
                "present": index_path_for(db_path).exists() and fingerprint_path_for(db_path).exists(),
            },
        }
        if "claim_embeddings" in tables:
            stats["embeddings_by_model"] = group("select model, count(*) from claim_embeddings group by model")
        return stats
    finally:
        db.close()
