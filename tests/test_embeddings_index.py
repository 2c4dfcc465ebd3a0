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
from search.errors import IndexStale
from search.index import (
    ANN_THRESHOLD,
    IVFPQ_RERANK,
    IVFPQ_RESCORE_FACTOR,
    IVFPQ_THRESHOLD,
    VectorIndex,
    build_index,
    choose_index_type,
    fingerprint_path_for,
    index_path_for,
    ivfpq_base,
    ivfpq_refine,
    load_index,
    make_fingerprint,
    publish_index,
    write_index,
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
    assert choose_index_type(IVFPQ_THRESHOLD - 1) == "hnsw"
    assert choose_index_type(IVFPQ_THRESHOLD) == "ivfpq"
    assert choose_index_type(70, "ivf") == "ivf"
    assert choose_index_type(70, "ivfpq") == "ivfpq"
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


# --- ivfpq: IVF-PQ candidates re-scored exactly from the claim_embeddings BLOBs ---


@pytest.fixture(scope="module")
def ivfpq_db(built_db, tmp_path_factory) -> Path:
    """A copy of the real KB whose index is forced to ivfpq (vectors reused, nothing re-embedded)."""
    db = tmp_path_factory.mktemp("kb-ivfpq") / "kb.db"
    shutil.copy2(built_db, db)
    unseal(db)
    fresh = db.with_name("fresh.faiss")
    stats = build_search_artifacts(db, fresh, index_type="ivfpq", progress=False)
    assert stats["index_type"] == "ivfpq" and stats["embedded"] == 0
    publish_index(db, fresh, db)
    return db


def _eval_queries() -> list[str]:
    from search.evaluate import load_queries

    return [q.query for q in load_queries()]


def test_ivfpq_is_recorded_in_the_fingerprint_and_found_at_load(ivfpq_db):
    import faiss

    fp = json.loads(fingerprint_path_for(ivfpq_db).read_text())
    assert fp["index_type"] == "ivfpq" and fp["rerank"] == IVFPQ_RERANK
    assert fp["index_spec"].startswith("IVF") and ",PQ48x" in fp["index_spec"]
    assert fp["index_spec"].endswith(",Refine(SQ8)") and fp["rerank_codes"] == "SQ8"
    index = load_index(sqlite3.connect(ivfpq_db), ivfpq_db)
    # The PQ index plus an 8-bit copy of every vector for the re-rank, in the same positions.
    assert isinstance(faiss.downcast_index(index.index), faiss.IndexRefine)
    assert isinstance(ivfpq_base(index.index), faiss.IndexIVFPQ)
    refine = ivfpq_refine(index.index)
    assert isinstance(refine, faiss.IndexScalarQuantizer) and refine.sq.qtype == faiss.ScalarQuantizer.QT_8bit
    assert refine.ntotal == ivfpq_base(index.index).ntotal == fp["count"]
    assert index.rowids is not None and len(index.rowids) == index.count == fp["count"]


def test_ivfpq_reads_only_sq8s_best_few_stored_vectors_and_sq8_scores_are_close(ivfpq_db):
    conn = sqlite3.connect(ivfpq_db)
    loaded = load_index(conn, ivfpq_db)
    reads = []

    class Counting(VectorIndex):
        def stored_vectors(self, positions, conn=None):
            reads.append(len(positions))
            return super().stored_vectors(positions, conn)

    index = Counting(loaded.index, loaded.claim_ids, loaded.fingerprint, loaded.db_path, loaded.rowids)
    stored = {
        cid: emb.decode_vector(blob)
        for cid, blob in conn.execute("select claim_id, embedding from claim_embeddings where model = ?", [index.model])
    }
    for vector in index.encoder().encode(_eval_queries()[:10]):
        hits = index.query(vector, 5, conn=conn)
        # 200 candidates were re-ranked in RAM; only SQ8's best few were read from claim_embeddings.
        assert reads[-1] == 5 * IVFPQ_RESCORE_FACTOR < IVFPQ_RERANK and len(hits) == 5
        positions = ivfpq_base(index.index).search(vector.reshape(1, -1), IVFPQ_RERANK)[1][0]
        chosen, approx = index.refine_candidates(vector, positions[positions >= 0], 5 * IVFPQ_RESCORE_FACTOR)
        exact = np.array([stored[index.claim_ids[p]] @ vector for p in chosen])
        assert np.abs(approx - exact).max() < 2e-3
        # The exact re-score keeps the 5 truly best of those read.
        best = [index.claim_ids[chosen[i]] for i in np.argsort(-exact)[:5]]
        assert [cid for cid, _ in hits] == best


def test_ivfpq_search_gives_the_same_top_result_as_flat_for_real_queries(built_db, ivfpq_db):
    queries = _eval_queries()
    assert len(queries) >= 20
    for query in queries:
        flat = search.search(built_db, query, k=3, mode="semantic")
        approx = search.search(ivfpq_db, query, k=3, mode="semantic")
        assert approx[0].id == flat[0].id, query
        # Re-ranked scores are exact cosines, so the reported similarity is the flat index's.
        assert [r.similarity for r in approx] == [r.similarity for r in flat], query


def test_ivfpq_reranked_scores_are_exact_inner_products_of_the_stored_vectors(ivfpq_db):
    conn = sqlite3.connect(ivfpq_db)
    index = load_index(conn, ivfpq_db)
    stored = {
        cid: emb.decode_vector(blob)
        for cid, blob in conn.execute("select claim_id, embedding from claim_embeddings where model = ?", [index.model])
    }
    vectors = index.encoder().encode(_eval_queries()[:10])
    for vector in vectors:
        hits = index.query(vector, 10, conn=conn)
        assert len(hits) == 10
        for cid, score in hits:
            assert score == pytest.approx(float(stored[cid] @ vector), abs=1e-6)
        exact = sorted(stored, key=lambda cid: -float(stored[cid] @ vector))[:10]
        assert [cid for cid, _ in hits] == exact


def test_ivfpq_filtered_queries_return_only_allowed_claims(ivfpq_db):
    conn = sqlite3.connect(ivfpq_db)
    filtered = search.search(ivfpq_db, "compassion", k=5, mode="semantic", topic="hiv")
    assert filtered and all("hiv" in r.topics for r in filtered)
    index = load_index(conn, ivfpq_db)
    allowed = {r[0] for r in conn.execute("select claim_id from claim_topics where topic_id = 'hiv'")}
    vector = index.encoder().encode(["compassion and HIV viral load"])[0]
    # Without conn the exact-subset shortcut is skipped: the IVF selector path, then the re-rank.
    hits = index.query(vector, 3, allowed=allowed)
    assert hits and {cid for cid, _ in hits} <= allowed
    assert [cid for cid, _ in hits] == [cid for cid, _ in index.query(vector, 3, allowed=allowed, conn=conn)]


def test_tampered_ivfpq_index_is_refused(ivfpq_db, tmp_path):
    db = tmp_path / "kb.db"
    shutil.copy2(ivfpq_db, db)
    index_file = tmp_path / index_path_for(ivfpq_db).name
    shutil.copy2(index_path_for(ivfpq_db), index_file)
    shutil.copy2(fingerprint_path_for(ivfpq_db), fingerprint_path_for(db))
    assert index_path_for(db) == index_file
    assert search.search(db, "compassion", k=1, mode="semantic")
    data = bytearray(index_file.read_bytes())
    data[len(data) // 2] ^= 0xFF
    index_file.write_bytes(bytes(data))
    with pytest.raises(IndexStale, match="not the one this database was built with"):
        search.search(db, "compassion", k=1, mode="semantic")


def test_ivfpq_fingerprint_claiming_another_type_is_refused(ivfpq_db, tmp_path):
    import faiss

    db = tmp_path / "kb.db"
    shutil.copy2(ivfpq_db, db)
    shutil.copy2(index_path_for(ivfpq_db), tmp_path / index_path_for(ivfpq_db).name)
    fp = json.loads(fingerprint_path_for(ivfpq_db).read_text())
    fingerprint_path_for(db).write_text(json.dumps({**fp, "index_type": "hnsw"}))
    with pytest.raises(IndexStale, match="not the 'hnsw' index its fingerprint records"):
        load_index(sqlite3.connect(db), db)
    fingerprint_path_for(db).write_text(json.dumps({**fp, "index_spec": "IVF4,PQ48x6"}))
    with pytest.raises(IndexStale, match="not the 'ivfpq' index"):
        load_index(sqlite3.connect(db), db)
    assert isinstance(faiss.downcast_index(faiss.read_index(str(index_path_for(db)))), faiss.IndexRefine)


def test_ivfpq_index_without_the_rerank_copy_is_refused_as_stale(ivfpq_db, tmp_path):
    """A KB built before the SQ8 copy (a bare IndexIVFPQ, published with its sha) must be rebuilt."""
    import faiss

    db = tmp_path / "kb.db"
    shutil.copy2(ivfpq_db, db)
    loaded = load_index(sqlite3.connect(ivfpq_db), ivfpq_db)
    old = tmp_path / "old.faiss"
    fp = {**loaded.fingerprint, "index_spec": loaded.fingerprint["index_spec"].removesuffix(",Refine(SQ8)")}
    for key in ("rerank_codes", "index_sha256", "index_bytes"):
        fp.pop(key, None)
    write_index(ivfpq_base(loaded.index), fp, old)
    publish_index(db, old, db)
    assert isinstance(faiss.downcast_index(faiss.read_index(str(index_path_for(db)))), faiss.IndexIVFPQ)
    with pytest.raises(IndexStale, match=r"not the 'ivfpq' index its fingerprint records.*kb build"):
        load_index(sqlite3.connect(db), db)


def test_ivfpq_rerank_recovers_exact_neighbours_when_candidates_are_a_small_fraction(built_db, tmp_path):
    """12k vectors derived from the real embeddings (as benchmarks/synthetic.py does): 200 of 12,000 re-ranked."""
    conn = sqlite3.connect(built_db)
    _, base = emb.read_matrix(conn, DEFAULT_MODEL_ID)
    rng = np.random.default_rng(0)
    n, dim = 12_000, base.shape[1]
    data = base[rng.integers(0, len(base), n)] + 0.5 * base[rng.integers(0, len(base), n)]
    data += rng.normal(scale=0.3 / np.sqrt(dim), size=data.shape).astype(np.float32)
    data = (data / np.linalg.norm(data, axis=1, keepdims=True)).astype(np.float32)
    db = tmp_path / "vectors.db"
    store = sqlite3.connect(db)
    emb.ensure_table(store)
    ids = [f"c{i:05d}" for i in range(n)]
    # Stored in shuffled rowid order: the re-rank must look vectors up by rowid, not assume position order.
    order = rng.permutation(n)
    emb.write_rows(store, ((ids[i], "m", "h", emb.encode_vector(data[i])) for i in order))
    store.commit()
    rowids = dict(store.execute("select claim_id, rowid from claim_embeddings").fetchall())
    index = VectorIndex(
        build_index(data, "ivfpq"),
        ids,
        make_fingerprint("m", dim, [(c, "h") for c in ids], "ivfpq"),
        str(db),
        np.array([rowids[c] for c in ids], dtype=np.int64),
    )
    queries = data[rng.integers(0, n, 50)] + rng.normal(scale=0.2 / np.sqrt(dim), size=(50, dim)).astype(np.float32)
    recalls = []
    for q in queries:
        exact_scores = data @ q
        exact = set(np.argsort(-exact_scores)[:10])
        hits = index.query(q, 10, conn=store)
        assert [s for _, s in hits] == sorted((s for _, s in hits), reverse=True)
        for cid, score in hits:
            assert score == pytest.approx(float(exact_scores[int(cid[1:])]), abs=1e-5)
        recalls.append(len(exact & {int(cid[1:]) for cid, _ in hits}) / 10)
    assert np.mean(recalls) >= 0.95, np.mean(recalls)


def test_index_order_reads_a_covering_index_not_the_vectors(built_db):
    # At 1M claims the table scan it replaces read every 1.5 KB vector: 19 s from disk at each load.
    with sqlite3.connect(built_db) as conn:
        plan = " ".join(row[3] for row in conn.execute("explain query plan " + emb.INDEX_ORDER_SQL, ["m"]))
    assert "COVERING INDEX idx_claim_embeddings_order" in plan
