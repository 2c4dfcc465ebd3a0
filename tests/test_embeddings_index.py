"""Embeddings table, incremental re-embedding, FAISS index types, fingerprints and the query encoder."""

from __future__ import annotations

import json
import shutil
import sqlite3
import struct
from pathlib import Path

import numpy as np
import pytest
import yaml

import search
from ingest.db import unseal
from search import embeddings as emb
from search.artifacts import build_search_artifacts, claim_texts
from search.index import (
    ANN_THRESHOLD,
    build_index,
    choose_index_type,
    fingerprint_path_for,
    index_path_for,
    publish_index,
)
from search.model import DEFAULT_MODEL_ID, default_model_path, resolve_model
from search.text import content_hash, embedding_text

CLAIMS_FILE = Path("evidence/claims/inspiring-through-compassionate-leadership.yaml")


def test_vector_blob_is_little_endian_float32_like_llm():
    vector = [0.5, -1.25, 3.0]
    blob = emb.encode_vector(vector)
    assert blob == struct.pack("<" + "f" * len(vector), *vector)
    assert emb.decode_vector(blob).tolist() == vector
    matrix = emb.decode_matrix([blob, emb.encode_vector([1, 2, 3])], 3)
    assert matrix.shape == (2, 3) and matrix.dtype == np.float32 and matrix[1].tolist() == [1, 2, 3]


def test_embeddings_table_holds_one_normalised_vector_per_claim(built_db):
    conn = sqlite3.connect(built_db)
    n_claims = conn.execute("select count(*) from claims").fetchone()[0]
    rows = conn.execute("select claim_id, model, content_hash, embedding from claim_embeddings").fetchall()
    assert len(rows) == n_claims and {r[1] for r in rows} == {DEFAULT_MODEL_ID}
    texts = claim_texts(conn)
    for claim_id, _, digest, blob in rows:
        assert digest == content_hash(texts[claim_id])
        vector = emb.decode_vector(blob)
        assert vector.shape == (384,) and abs(float(np.linalg.norm(vector)) - 1) < 1e-4
    fks = conn.execute("pragma foreign_key_list(claim_embeddings)").fetchall()
    assert any(fk[2] == "claims" and fk[3] == "claim_id" for fk in fks)


def test_fingerprint_describes_the_index(built_db):
    fp = json.loads(fingerprint_path_for(built_db).read_text())
    conn = sqlite3.connect(built_db)
    pairs = emb.index_order(conn, fp["model"])
    assert fp["model"] == DEFAULT_MODEL_ID and fp["dimension"] == 384
    assert fp["count"] == len(pairs) and fp["content_hash"] == emb.collection_hash(pairs)
    assert fp["index_type"] == "flat"
    import faiss

    assert faiss.read_index(str(index_path_for(built_db))).ntotal == fp["count"]


def test_embedded_text_uses_statement_keywords_pico_and_topic_labels():
    claim = {
        "id": "x",
        "statement": "Compassionate GPs ordered 40% less testing.",
        "keywords": '["investigations", "GP"]',
        "population": "GPs' patients",
        "intervention": "Compassionate GPs",
        "outcome": "Diagnostic testing",
        "topics": '["primary-care"]',
        "items_text": None,
        "slide_heading": "Slide",
    }
    text = embedding_text(claim, {"primary-care": "Primary care"})
    assert text.startswith("Compassionate GPs ordered 40% less testing.")
    for part in ("investigations", "Diagnostic testing", "Primary care"):
        assert part in text
    changed = embedding_text({**claim, "keywords": '["investigations"]'}, {"primary-care": "Primary care"})
    assert content_hash(changed) != content_hash(text)


def test_model_resolution(monkeypatch, tmp_path):
    monkeypatch.delenv("KB_MODEL", raising=False)
    default = resolve_model()
    assert default.id == DEFAULT_MODEL_ID and Path(default.location).is_dir()
    assert resolve_model(default_model_path()).id == DEFAULT_MODEL_ID
    assert resolve_model("sentence-transformers/all-MiniLM-L6-v2").id == DEFAULT_MODEL_ID
    monkeypatch.setenv("KB_MODEL", str(tmp_path))
    assert resolve_model() == resolve_model(tmp_path) and resolve_model().id == str(tmp_path.resolve())
    assert resolve_model("org/some-model").id == "org/some-model"


def test_build_exports_the_query_encoder_beside_the_index_and_records_the_weights(built_db_no_embed, tmp_path):
    from ingest.db import unseal
    from search.onnx_encoder import onnx_path_for, read_export_fingerprint, weights_sha256

    db = tmp_path / "kb.db"
    shutil.copy2(built_db_no_embed, db)
    db.chmod(0o644)
    unseal(db)
    stats = build_search_artifacts(db, index_path_for(db), progress=False)
    assert stats["query_encoder"] in ("exported", "cached")
    fp = json.loads(fingerprint_path_for(db).read_text())
    assert fp["weights_sha256"] == weights_sha256(default_model_path())
    export = read_export_fingerprint(onnx_path_for(db))
    assert export is not None and onnx_path_for(db).stat().st_size > 1_000_000
    assert export["model"] == fp["model"] and export["weights_sha256"] == fp["weights_sha256"]
    again = build_search_artifacts(db, index_path_for(db), previous_db=db, progress=False)
    assert again["query_encoder"] == "kept" and again["embedded"] == 0
    assert search.search(db, "compassion", k=1, mode="semantic")


def test_fts_term_counts_equal_fts5_match_counts(built_db):
    from search.keyword import TERM_COUNTS, _match_counts, document_frequencies

    conn = sqlite3.connect(f"file:{built_db}?mode=ro", uri=True)
    assert conn.execute(f"select count(*) from {TERM_COUNTS}").fetchone()[0] > 0
    words = ["compassion", "nurses", "patients", "leadership", "zzzunknownword", "burnout", "mortality"]
    assert document_frequencies(conn, words, 10**9) == _match_counts(conn, [f'"{w}"' for w in words], 10**9)


def test_choose_index_type_by_size_and_override():
    assert choose_index_type(70) == "flat"
    assert choose_index_type(ANN_THRESHOLD - 1) == "flat"
    assert choose_index_type(ANN_THRESHOLD) == "hnsw"
    assert choose_index_type(70, "ivf") == "ivf"
    with pytest.raises(ValueError):
        choose_index_type(70, "lsh")


@pytest.mark.parametrize("kind", ["hnsw", "ivf"])
def test_ann_indexes_agree_with_exact_search(kind):
    rng = np.random.default_rng(0)
    centres = rng.normal(size=(50, 64)).astype(np.float32)
    data = centres[rng.integers(0, 50, 5000)] + 0.3 * rng.normal(size=(5000, 64)).astype(np.float32)
    data /= np.linalg.norm(data, axis=1, keepdims=True)
    queries = data[:50] + 0.05 * rng.normal(size=(50, 64)).astype(np.float32)
    _, exact = build_index(data, "flat").search(queries, 10)
    _, approx = build_index(data, kind).search(queries, 10)
    recall = np.mean([len(set(a) & set(e)) / 10 for a, e in zip(approx, exact)])
    assert recall >= 0.9, recall


def _build_copy(project: Path, db: Path, **options) -> dict:
    from kb.build import build_kb

    return build_kb(db, root=project, progress=False, **options).search


def test_rebuild_reuses_vectors_and_reembeds_only_changed_claims(kb_copy, tmp_path):
    db = tmp_path / "kb.db"
    first = _build_copy(kb_copy, db)
    assert first["embedded"] == first["claims"] > 40 and first["reused"] == 0
    index_bytes = index_path_for(db).read_bytes()

    again = _build_copy(kb_copy, db)
    assert again["embedded"] == 0 and again["reused"] == first["claims"]
    assert index_path_for(db).read_bytes() == index_bytes

    claims_file = kb_copy / CLAIMS_FILE
    text = claims_file.read_text()
    data = yaml.safe_load(text)
    target = data["claims"][0]["statement"].split()[0]
    claims_file.write_text(text.replace(target, target + " (edited)", 1))
    changed = _build_copy(kb_copy, db)
    assert changed["embedded"] == 1 and changed["reused"] == first["claims"] - 1
    assert search.search(db, "compassion", k=1)  # the new index matches the new database


def test_build_with_another_model_path_reembeds_everything_and_search_uses_it(kb_copy, tmp_path, monkeypatch):
    db = tmp_path / "kb.db"
    _build_copy(kb_copy, db)
    other = tmp_path / "my-model"
    shutil.copytree(default_model_path(), other)
    monkeypatch.setenv("KB_MODEL", str(other))
    stats = _build_copy(kb_copy, db)
    assert stats["model"] == str(other.resolve()) and stats["embedded"] == stats["claims"]
    fp = json.loads(fingerprint_path_for(db).read_text())
    assert fp["model"] == str(other.resolve())
    # search reads the model from the fingerprint, so no flag is needed
    monkeypatch.delenv("KB_MODEL")
    assert search.search(db, "HIV viral load", k=1)[0].id.startswith("hiv-")


def test_index_type_override_builds_hnsw_that_search_uses(kb_copy, tmp_path):
    db = tmp_path / "kb.db"
    stats = _build_copy(kb_copy, db, index_type="hnsw")
    assert stats["index_type"] == "hnsw"
    assert json.loads(fingerprint_path_for(db).read_text())["index_type"] == "hnsw"
    top = search.search(db, "rough sleepers coming back to casualty", k=1, mode="semantic")
    assert top[0].id == "homeless-ed-compassion-return-visits"
    filtered = search.search(db, "compassion", k=5, mode="semantic", topic="hiv")
    assert filtered and all("hiv" in r.topics for r in filtered)


def test_build_search_artifacts_on_an_existing_database_is_idempotent(built_db, tmp_path):
    db = tmp_path / "kb.db"
    shutil.copy2(built_db, db)
    unseal(db)  # built KBs are sealed read-only; this test writes the artifacts again
    fresh = tmp_path / "fresh.faiss"
    stats = build_search_artifacts(db, fresh, progress=False)
    assert stats["embedded"] == 0 and stats["reused"] == stats["claims"]
    publish_index(db, fresh, db)  # what kb build does next: name it by its hash and record it
    assert fingerprint_path_for(db).exists() and index_path_for(db).name.startswith("kb.db.")
    assert search.search(db, "HIV", k=1)[0].id.startswith("hiv-")


def test_unreadable_previous_database_is_ignored(built_db, tmp_path):
    db = tmp_path / "kb.db"
    shutil.copy2(built_db, db)
    unseal(db)
    garbage = tmp_path / "old.db"
    garbage.write_bytes(b"this is not a database" * 100)
    fresh = tmp_path / "fresh.faiss"
    stats = build_search_artifacts(db, fresh, previous_db=garbage, progress=False)
    assert stats["reused"] == stats["claims"]  # reused from the database itself
    publish_index(db, fresh, db)
    assert search.search(db, "HIV", k=1)[0].id.startswith("hiv-")
