"""Synthetic Evidence KB databases for benchmarks: realistic claims at any size.

Sentences are recombined from the fragments of the real curated claims
(populations, interventions, outcomes, effect phrases, keywords, countries),
so their vocabulary and length look like the real thing. The database uses
the real schema (ingest/schema.py), so search runs on it unchanged.

Vectors: embedding a million texts on 2 CPU cores takes hours, so for large
collections `derive_embeddings` writes vectors derived from real embeddings
(see derived_vectors). The content hashes are the real ones, so the index
fingerprint checks still pass.
"""

from __future__ import annotations

import json
import random
import sqlite3
from pathlib import Path

import numpy as np

from ingest.schema import create_fts, create_schema

FALLBACK = {
    "population": ["patients with diabetes", "homeless adults", "nursing home residents", "surgical patients"],
    "intervention": ["compassionate care", "empathic communication", "team debriefs", "compassionate leadership"],
    "outcome": ["blood sugar control", "repeat visits", "staff engagement", "length of stay"],
}
TEMPLATES = [
    "Among {population}, {intervention} was linked with {effect} {outcome}.",
    "In {country}, {intervention} for {population} led to {effect} {outcome}.",
    "{Intervention} improved {outcome} for {population} ({effect}).",
    "A {design} of {population} found that {intervention} changed {outcome}: {effect}.",
    "{Intervention} is associated with {outcome} among {population}, with {effect} reported.",
    "When leaders practise {intervention}, {population} report {effect} {outcome}.",
]
EFFECTS = [
    "{n}% lower",
    "{n}% higher",
    "{n}% fewer",
    "{n}% more",
    "{n}% less likely",
    "odds ratio 0.{n}",
    "a {n}% reduction in",
    "a {n}% increase in",
]
COUNTRIES = [
    "England",
    "Scotland",
    "Wales",
    "Canada",
    "the US",
    "Australia",
    "the Netherlands",
    "Germany",
    "Sweden",
    "New Zealand",
    "Ireland",
    "Denmark",
    "Norway",
    "Japan",
    "Brazil",
    "Kenya",
]
DESIGNS = ["randomised trial", "cohort study", "cross-sectional survey", "systematic review", "cluster trial"]
DESIGN_IDS = ["rct", "cohort", "cross_sectional", "systematic_review", "cluster_rct", None]
KINDS = ["finding", "finding", "finding", "association", "framework", "context", "recommendation"]


def fragments(real_db: str | Path) -> dict:
    """Fragments of the real claims to recombine."""
    conn = sqlite3.connect(f"file:{real_db}?mode=ro", uri=True)
    conn.row_factory = sqlite3.Row
    frags = {"population": set(), "intervention": set(), "outcome": set(), "keywords": [], "topics": []}
    for row in conn.execute("select * from claims"):
        for key in ("population", "intervention", "outcome"):
            if row[key]:
                frags[key].add(row[key].strip().rstrip("."))
        frags["keywords"].append(json.loads(row["keywords"] or "[]"))
        frags["topics"].append(json.loads(row["topics"] or "[]"))
        # Clauses of statements serve as extra outcomes and interventions.
        for clause in row["statement"].replace(";", ",").split(","):
            words = clause.strip().rstrip(".").split()
            if 3 <= len(words) <= 9:
                frags["outcome" if len(words) % 2 else "intervention"].add(" ".join(words).lower())
    out = {k: sorted(v) if isinstance(v, set) else v for k, v in frags.items()}
    for key, default in FALLBACK.items():
        out[key] = out[key] or default
    out["topic_rows"] = [dict(r) for r in conn.execute("select id, label, description from topics")]
    return out


def synthetic_claims(n: int, frags: dict, seed: int = 0):
    rng = random.Random(seed)
    for i in range(n):
        population = rng.choice(frags["population"])
        intervention = rng.choice(frags["intervention"])
        outcome = rng.choice(frags["outcome"])
        effect = rng.choice(EFFECTS).format(n=rng.randint(5, 95))
        statement = rng.choice(TEMPLATES).format(
            population=population.lower(),
            intervention=intervention.lower(),
            Intervention=intervention[:1].upper() + intervention[1:],
            outcome=outcome.lower(),
            effect=effect,
            country=rng.choice(COUNTRIES),
            design=rng.choice(DESIGNS),
        )
        pool = rng.choice(frags["keywords"]) or ["compassion"]
        keywords = rng.sample(pool, k=min(4, len(pool)))
        topics = rng.choice(frags["topics"]) or ["compassionate-care"]
        kind = rng.choice(KINDS)
        yield {
            "id": f"syn-{i:07d}",
            "kind": kind,
            "statement": statement,
            "quote": statement,
            "document_id": "synthetic",
            "char_start": 0,
            "char_end": len(statement),
            "line_start": 1,
            "line_end": 1,
            "slide_number": 1,
            "slide_heading": "Synthetic",
            "population": population,
            "intervention": intervention,
            "outcome": outcome,
            "effect_text": effect if kind == "finding" else None,
            "effect_metric": "percent_change" if kind == "finding" else None,
            "effect_value": float(rng.randint(5, 95)) if kind == "finding" else None,
            "effect_direction": "decrease" if kind == "finding" else None,
            "study_design": rng.choice(DESIGN_IDS),
            "certainty": rng.choice(["low", "moderate", "not_assessed"]),
            "year": rng.randint(1995, 2024),
            "topics": json.dumps(topics),
            "keywords": json.dumps(keywords),
            "context": f"{population} | {intervention} | {outcome}",
            "source_keys": "[]",
        }


def make_database(path: str | Path, n: int, real_db: str | Path, seed: int = 0) -> Path:
    """A synthetic KB of n claims at path (replaced if present), FTS index included, no embeddings."""
    import sqlite_utils

    path = Path(path)
    for p in (path, Path(str(path) + ".faiss"), Path(str(path) + ".faiss.json")):
        p.unlink(missing_ok=True)
    frags = fragments(real_db)
    db = sqlite_utils.Database(path)
    db.execute("pragma journal_mode = off")
    db.execute("pragma synchronous = off")
    create_schema(db)
    db["documents"].insert({"id": "synthetic", "title": "Synthetic corpus", "sha256": "-", "text": "-"})
    db["topics"].insert_all(frags["topic_rows"])
    rows = list(synthetic_claims(n, frags, seed))
    db["claims"].insert_all(rows, batch_size=5000)
    db["claim_topics"].insert_all(
        ({"claim_id": r["id"], "topic_id": t} for r in rows for t in json.loads(r["topics"])), batch_size=20000
    )
    create_fts(db)
    db["claims_fts"].rebuild_fts()
    db.execute("insert into claims_fts(claims_fts) values('optimize')")
    db.conn.commit()
    db.close()
    return path


def derived_vectors(
    base_vectors: np.ndarray,
    n: int,
    noise: float = 0.3,
    mix: float = 0.5,
    seed: int = 0,
) -> np.ndarray:
    """n unit vectors derived from real ones: a real vector, plus `mix` times another, plus Gaussian noise.

    Mixing two real claim vectors mimics a claim that combines two claims'
    topics (as the synthetic sentences do), so the vectors spread over the
    space real embeddings occupy instead of forming tight clusters of
    near-copies. mix=0 gives the stress case: ~n/len(base) noisy copies of each
    real vector, whose top-10 are near-ties that every ANN index finds hard.
    """
    out = np.empty((n, base_vectors.shape[1]), dtype=np.float32)
    for start, chunk in _derived_chunks(base_vectors, n, noise, mix, seed):
        out[start : start + len(chunk)] = chunk
    return out


def _derived_chunks(base_vectors: np.ndarray, n: int, noise: float, mix: float, seed: int):
    """(start, unit vectors) in chunks of 100k: one sequence of random draws, so the file and the array agree."""
    rng = np.random.default_rng(seed)
    dim = base_vectors.shape[1]
    for start in range(0, n, 100_000):
        m = min(100_000, n - start)
        chunk = base_vectors[rng.integers(0, len(base_vectors), m)]
        if mix:
            chunk = chunk + mix * base_vectors[rng.integers(0, len(base_vectors), m)]
        chunk = chunk + rng.normal(scale=noise / np.sqrt(dim), size=chunk.shape).astype(np.float32)
        yield start, chunk / np.linalg.norm(chunk, axis=1, keepdims=True)


def derive_embeddings(
    path: str | Path,
    base_vectors: np.ndarray,
    noise: float = 0.3,
    mix: float = 0.5,
    seed: int = 0,
    model: str = "all-MiniLM-L6-v2",
) -> None:
    """Fill the embeddings table with real vectors plus noise (see module docstring)."""
    from search import embeddings as emb
    from search.artifacts import claim_texts
    from search.text import content_hash

    conn = sqlite3.connect(path)
    conn.execute("pragma journal_mode = off")
    conn.execute("pragma synchronous = off")
    texts = claim_texts(conn)
    ids = sorted(texts)
    vectors = derived_vectors(base_vectors, len(ids), noise, mix, seed)
    emb.ensure_table(conn)
    conn.execute(f"delete from {emb.TABLE}")
    emb.write_rows(conn, ((cid, model, content_hash(texts[cid]), emb.encode_vector(v)) for cid, v in zip(ids, vectors)))
    conn.commit()
    conn.close()


def write_derived_vectors(
    path: str | Path,
    base_vectors: np.ndarray,
    n: int,
    noise: float = 0.3,
    mix: float = 0.5,
    seed: int = 0,
) -> Path:
    """derived_vectors(base_vectors, n, noise, mix, seed), written to a raw float32 file chunk by chunk.

    The same random draws in the same order, so the rows equal derived_vectors' rows;
    10M x 384 is 15 GB, more than should sit in RAM, so it is read back with
    np.memmap or in chunks. Written to path + '.part' and renamed when complete.
    """
    path = Path(path)
    part = path.with_name(path.name + ".part")
    with open(part, "wb") as out:
        for _start, chunk in _derived_chunks(base_vectors, n, noise, mix, seed):
            chunk.astype("<f4").tofile(out)
    part.replace(path)
    return path


def perturbed_queries(real_vectors: np.ndarray, n: int, noise: float = 0.3, seed: int = 1) -> np.ndarray:
    """n query vectors: real embeddings (claims or labelled queries) plus Gaussian noise, re-normalised.

    The noise scale is derived_vectors', so a query sits as far from its nearest
    stored vectors as a real query does from the claims that answer it, not on top of one.
    """
    rng = np.random.default_rng(seed)
    dim = real_vectors.shape[1]
    out = real_vectors[rng.integers(0, len(real_vectors), n)].astype(np.float32)
    out = out + rng.normal(scale=noise / np.sqrt(dim), size=out.shape).astype(np.float32)
    return (out / np.linalg.norm(out, axis=1, keepdims=True)).astype(np.float32)
