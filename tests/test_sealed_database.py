"""A built KB is sealed read-only for every SQLite client, so no other tool can write into it."""

from __future__ import annotations

import hashlib
import json
import shutil
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest
import sqlite_utils

from ingest.db import is_sealed, unseal


def digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_the_build_seals_the_database(built_db_no_embed):
    assert is_sealed(built_db_no_embed)
    assert sqlite3.connect(built_db_no_embed).execute("select count(*) from claims").fetchone()[0] > 0


def test_writes_are_refused_and_leave_the_file_byte_identical(built_db_no_embed, tmp_path):
    copy = tmp_path / "kb.db"
    shutil.copy2(built_db_no_embed, copy)
    before = digest(copy)
    conn = sqlite3.connect(copy)
    with pytest.raises(sqlite3.OperationalError, match="readonly"):
        conn.execute("create table intruder (x)")
    with pytest.raises(sqlite3.OperationalError, match="readonly"):
        sqlite_utils.Database(copy)["claims"].insert({"id": "x", "kind": "finding"})
    conn.close()
    assert digest(copy) == before


def test_llm_against_the_built_database_refuses_and_changes_nothing(built_db, tmp_path):
    copy = tmp_path / "kb.db"
    shutil.copy2(built_db, copy)
    before = digest(copy)
    llm = Path(sys.executable).with_name("llm")
    claim_id = sqlite3.connect(copy).execute("select id from claims limit 1").fetchone()[0]
    for args in (
        ["similar", "claims", claim_id, "-d", str(copy)],
        ["embed", "claims", "x", "-c", "hello", "-d", str(copy)],
    ):
        result = subprocess.run([str(llm), *args], capture_output=True, text=True, timeout=120)
        assert result.returncode != 0, result.stdout
    assert digest(copy) == before


def test_unseal_makes_a_copy_writable(built_db_no_embed, tmp_path):
    copy = tmp_path / "kb.db"
    shutil.copy2(built_db_no_embed, copy)
    unseal(copy)
    with sqlite3.connect(copy) as conn:
        conn.execute("create table scratch (x)")
    assert not is_sealed(copy)


def test_export_embeddings_writes_an_llm_collection_llm_can_search(built_db, tmp_path):
    from click.testing import CliRunner

    from kb.cli import cli

    out = tmp_path / "claims-llm.db"
    result = CliRunner().invoke(cli, ["export-embeddings", "--db", str(built_db), "--llm", str(out)])
    assert result.exit_code == 0, result.output
    llm = Path(sys.executable).with_name("llm")
    target = "diabetes-compassion-blood-sugar-control"
    similar = subprocess.run(
        [str(llm), "similar", "claims", target, "-d", str(out), "-n", "3"], capture_output=True, text=True, timeout=120
    )
    assert similar.returncode == 0, similar.stderr
    hits = [json.loads(line) for line in similar.stdout.splitlines() if line.strip()]
    assert len(hits) == 3 and target not in [h["id"] for h in hits]
    assert hits[0]["id"].startswith("diabetes-") and hits[0]["score"] > 0.5
    again = CliRunner().invoke(cli, ["export-embeddings", "--db", str(built_db), "--llm", str(out)])
    assert again.exit_code == 1 and "already has a collection 'claims'" in again.output
