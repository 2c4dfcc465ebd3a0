"""The FAISS index beside the database, its fingerprint, and the checks made at load.

Vectors sit in the index in claim-id order, so position i is the i-th row of
`select claim_id from embeddings where model = ? order by claim_id`. The
fingerprint (<db>.faiss.json) records model, dimension, count and a hash of
every (claim_id, content_hash) pair; at load the same numbers are computed
from the database, and any difference means the index is stale.
"""

from __future__ import annotations

import hashlib
import json
import os
import sqlite3
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from ingest.db import connect

from . import embeddings as emb
from .errors import IndexMissing, IndexStale, NoEmbeddings
from .paths import resolved_path

FINGERPRINT_FORMAT = 1
INDEX_TYPES = ("flat", "hnsw", "ivf", "ivfpq")
# Exact search below this many vectors, HNSW from it on. Measured with
# benchmarks/bench_index.py (docs/search.md): an exact scan costs ~0.22-0.28
# ms per 1,000 vectors on 2 cores (2.8 ms at 10k, 6.5 ms at 25k, 22.6 ms at
# 100k) and grows linearly, so at 20k it is ~5 ms, a third of embedding the
# query; HNSW stays under 2 ms at recall@10 >= 0.98 up to 100k and builds
# in seconds at that size. Below the threshold exactness costs nothing.
ANN_THRESHOLD = 20_000
HNSW_M = 32
HNSW_EF_CONSTRUCTION = 80
# IVF-PQ from this many vectors on. HNSW keeps every float plus its graph in RAM:
# n * (384*4 + 32*2*4) bytes, ~3.6 GB at 2M and ~18 GB at 10M, and its build
# took ~390 s at 1M (docs/search.md), growing a little faster than n. IVF-PQ
# keeps 48-byte codes (~0.6 GB at 10M) plus a 384-byte SQ8 copy to re-rank its
# candidates (3.8 GB at 10M); measured with benchmarks/bench_ivfpq.py (docs/scaling.md).
IVFPQ_THRESHOLD = 2_000_000
IVFPQ_M = 48  # sub-quantizers: 8 dimensions each at 384, 48 bytes per vector
IVF_NLIST_MAX = 65_536
# Candidates taken in PQ order: PQ distances alone gave recall@10 ~0.4, so the
# top IVFPQ_RERANK are re-scored from a copy of every vector kept in the index
# (IVFPQ_REFINE), then SQ8's best few exactly from claim_embeddings, so the scores
# returned are true inner products.
IVFPQ_RERANK = 200
# The in-RAM re-rank copy: faiss scalar quantizer, 8 bits per dimension (384 B per
# vector, 3.8 GB at 10M). Re-ranking from the stored float32 BLOBs instead meant 200
# random reads per query, p95 791 ms at 10M when they were not in the page cache.
IVFPQ_REFINE = "SQ8"
# Rows re-scored exactly from claim_embeddings per query: this many times k of SQ8's
# best, the k best of them returned. SQ8 errs by up to ~1e-3, enough to swap near-ties
# at the k-th place; each extra row is one more read of a stored vector. 2 gave the
# recall of re-scoring all 200 exactly (10M: 0.973, 1 gave 0.949; 1M: 0.956 and 0.939;
# benchmarks/bench_ivfpq.py).
IVFPQ_RESCORE_FACTOR = 2
# nprobe: the fraction of lists scanned per query, measured for recall@10 >= 0.95
# after re-ranking (benchmarks/bench_ivfpq.py --nprobe sweep).
IVFPQ_NPROBE_FRACTION = 1 / 64
IVFPQ_NPROBE_MIN = 32
IVFPQ_HNSW_QUANTIZER_FROM = 1024
IVFPQ_PQ_POINTS_PER_CODEWORD = 64
IVFPQ_BUILD_EF_SEARCH = 64
# Below this many allowed claims, a filtered ANN search scores the allowed
# vectors exactly instead: graph search with a selective filter loses recall.
EXACT_FILTER_LIMIT = 20_000


def index_path_for(db_path: str | os.PathLike) -> Path:
    """The FAISS index the database at db_path was built with.

    A build names its index by the index's own hash (build/kb.db.3f9c….faiss)
    and records that name inside the database, so renaming the database is the
    build's one commit point: until then readers keep the old database and its
    old index; after it, the new pair. A database from before this scheme (or
    with no index) gives the plain name build/kb.db.faiss.
    """
    recorded = _recorded_index_name(db_path)
    return Path(db_path).with_name(recorded) if recorded else Path(str(db_path) + ".faiss")


def fingerprint_path_for(db_path: str | os.PathLike) -> Path:
    """The index's fingerprint: build/kb.db.<hash>.faiss.json."""
    return fingerprint_path_of_index(index_path_for(db_path))


ARTIFACTS_TABLE = "kb_artifacts"
_NAMES: dict = {}


def _recorded_index_name(db_path) -> str | None:
    try:
        st = os.stat(db_path)
    except OSError:
        return None
    key, stamp = resolved_path(db_path), (st.st_ino, st.st_mtime_ns, st.st_size)
    cached = _NAMES.get(key)
    if cached and cached[0] == stamp:
        return cached[1]
    name = None
    try:
        conn = connect(db_path)
        try:
            row = conn.execute(f"select name from {ARTIFACTS_TABLE} where role = 'index'").fetchone()
            name = row[0] if row else None
        finally:
            conn.close()
    except sqlite3.DatabaseError:  # no such table (an older build), or not a database: the plain name
        name = None
    _NAMES[key] = (stamp, name)
    return name


def publish_index(tmp_db: str | os.PathLike, tmp_index: str | os.PathLike, final_db: str | os.PathLike) -> list[Path]:
    """Give a freshly built index its final, content-addressed name beside final_db and record it in tmp_db.

    Nothing becomes visible: the live database still names its old index. The
    fingerprint gains the index file's sha256 and size, checked at load, so a
    swapped index of the same shape is refused. Returns the files it created (not those an identical earlier build already had).
    """
    tmp_index = Path(tmp_index)
    digest = _file_sha256(tmp_index)
    fingerprint = read_fingerprint(tmp_index) or {}
    fingerprint.update(index_sha256=digest, index_bytes=tmp_index.stat().st_size)
    final_index = Path(final_db).with_name(f"{Path(final_db).name}.{digest[:16]}.faiss")
    write_fingerprint(fingerprint, tmp_index)
    created = [p for p in (final_index, fingerprint_path_of_index(final_index)) if not p.exists()]
    # Same hash, same bytes: an unchanged rebuild replaces the live index with itself, atomically.
    os.replace(tmp_index, final_index)
    os.replace(fingerprint_path_of_index(tmp_index), fingerprint_path_of_index(final_index))
    conn = sqlite3.connect(tmp_db)
    try:
        with conn:
            conn.execute(
                f"create table if not exists {ARTIFACTS_TABLE} (role text primary key, name text, sha256 text)"
            )
            conn.execute(
                f"insert or replace into {ARTIFACTS_TABLE} (role, name, sha256) values ('index', ?, ?)",
                [final_index.name, digest],
            )
    finally:
        conn.close()
    return created


def remove_unreferenced_indexes(db_path: str | os.PathLike) -> list[Path]:
    """After a commit: delete this database's index files that it no longer names (older builds')."""
    db_path = Path(db_path)
    keep = index_path_for(db_path)
    keep = {keep.name, fingerprint_path_of_index(keep).name}
    removed = []
    for path in db_path.parent.glob(f"{db_path.name}.*faiss*"):
        if path.name not in keep and (path.name.endswith(".faiss") or path.name.endswith(".faiss.json")):
            path.unlink(missing_ok=True)
            removed.append(path)
    return removed


def _recorded_index_sha(conn: sqlite3.Connection) -> str | None:
    try:
        row = conn.execute(f"select sha256 from {ARTIFACTS_TABLE} where role = 'index'").fetchone()
    except sqlite3.OperationalError:  # an older build without the table
        return None
    return row[0] if row else None


def _file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def fingerprint_path_of_index(index_path: str | os.PathLike) -> Path:
    return Path(str(index_path) + ".json")


def choose_index_type(count: int, override: str | None = None) -> str:
    if override:
        if override not in INDEX_TYPES:
            raise ValueError(f"index type must be one of {', '.join(INDEX_TYPES)}, not {override!r}")
        return override
    if count < ANN_THRESHOLD:
        return "flat"
    return "hnsw" if count < IVFPQ_THRESHOLD else "ivfpq"


def hnsw_ef_search(count: int) -> int:
    """Search breadth for HNSW: recall@10 0.97 at 100k with 256, and 1M needs more (bench_index/bench_query)."""
    return 256 if count <= 250_000 else 512


def ivf_nprobe(nlist: int) -> int:
    # Scanning ~5% of the lists gave recall@10 0.95 at 100k (IVF1264, nprobe 64).
    return max(16, nlist // 20)


def _ivf_nlist(count: int) -> int:
    return max(1, min(int(4 * count**0.5), count // 39 or 1))


def ivfpq_nlist(count: int) -> int:
    """Inverted lists: ~4 sqrt(n), capped, and never more than 39 training points each can fill."""
    return max(1, min(int(4 * count**0.5), IVF_NLIST_MAX, count // 39 or 1))


def ivfpq_nprobe(nlist: int) -> int:
    """Lists scanned per query; see IVFPQ_NPROBE_FRACTION."""
    return max(IVFPQ_NPROBE_MIN, min(nlist, int(nlist * IVFPQ_NPROBE_FRACTION)))


def _pq_shape(count: int, dimension: int) -> tuple[int, int]:
    """(sub-quantizers, bits): m must divide the dimension; 2**bits codewords need as many training points."""
    m = next(m for m in range(min(IVFPQ_M, dimension), 0, -1) if dimension % m == 0)
    return m, max(1, min(8, int(np.log2(max(count, 2)))))


def ivfpq_factory(count: int, dimension: int) -> str:
    nlist = ivfpq_nlist(count)
    m, bits = _pq_shape(count, dimension)
    # With many lists, assigning each vector to its list by brute force dominates
    # the build (n * nlist * d); an HNSW graph over the centroids does it in ~log(nlist).
    coarse = f"IVF{nlist}_HNSW32" if nlist >= IVFPQ_HNSW_QUANTIZER_FROM else f"IVF{nlist}"
    return f"{coarse},PQ{m}x{bits},Refine({IVFPQ_REFINE})"


def _training_sample(matrix, count: int, nlist: int, bits: int) -> np.ndarray:
    """>= 39 points per list (faiss's minimum), enough for the codebooks, or every vector when there are fewer."""
    size = max(39 * nlist, IVFPQ_PQ_POINTS_PER_CODEWORD * 2**bits)
    if count <= size:
        sample = np.ascontiguousarray(matrix[:count], dtype=np.float32)
    else:
        rows = np.sort(np.random.default_rng(0).choice(count, size, replace=False))
        sample = np.ascontiguousarray(matrix[rows], dtype=np.float32)
    if len(sample) < 2**bits:  # a handful of vectors (a forced ivfpq on a tiny KB): repeat them
        dimension = matrix.shape[1]
        sample = np.resize(sample, (2**bits, dimension)) if len(sample) else np.zeros((2**bits, dimension), "f4")
    return sample


def _build_ivfpq(matrix, count: int, dimension: int):
    index = new_ivfpq(count, dimension)
    train_ivfpq(index, matrix)
    add_in_chunks(index, matrix)
    tune_ivfpq(index)
    return index


def new_ivfpq(count: int, dimension: int):
    import faiss

    index = faiss.index_factory(dimension, ivfpq_factory(count, dimension), faiss.METRIC_INNER_PRODUCT)
    # 64 points per codeword is plenty in 8 dimensions; faiss's default 256 made training
    # the 48 codebooks take minutes on 2 cores for no measurable gain after the re-rank.
    ivfpq_base(index).pq.cp.max_points_per_centroid = IVFPQ_PQ_POINTS_PER_CODEWORD
    quantizer = faiss.downcast_index(faiss.extract_index_ivf(index).quantizer)
    if hasattr(quantizer, "hnsw"):
        # k-means and add need each vector's one nearest list, not nprobe of them: at 10M the
        # query-time breadth (2 x nprobe = 394) made the add take over an hour on 2 cores.
        quantizer.hnsw.efSearch = IVFPQ_BUILD_EF_SEARCH
    return index


def ivfpq_base(index):
    """The IndexIVFPQ inside an ivfpq index (an IndexRefine whose refine index holds the SQ8 copy)."""
    import faiss

    return faiss.downcast_index(faiss.downcast_index(index).base_index)


def ivfpq_refine(index):
    """The in-RAM re-rank copy of every vector (IVFPQ_REFINE), in the same positions as the base."""
    import faiss

    return faiss.downcast_index(faiss.downcast_index(index).refine_index)


def train_ivfpq(index, matrix) -> None:
    """k-means for the lists, the PQ codebooks and SQ8's per-dimension ranges, on a sample of matrix.

    matrix is an array, a memmap, any row reader.
    """
    import faiss

    count = matrix.shape[0]
    sample = _training_sample(matrix, count, faiss.extract_index_ivf(index).nlist, _pq_shape(count, index.d)[1])
    index.train(sample)


def add_in_chunks(index, matrix, chunk: int = 262_144) -> None:
    """Add every row of matrix a chunk at a time, so a 15 GB memmap never has to be in RAM at once."""
    for start in range(0, matrix.shape[0], chunk):
        index.add(np.ascontiguousarray(matrix[start : start + chunk], dtype=np.float32))


def tune_ivfpq(index, nprobe: int | None = None) -> None:
    """Search breadth (not all of it survives faiss.write_index, so it is set again at load)."""
    import faiss

    ivf = faiss.extract_index_ivf(index)
    ivf.nprobe = nprobe or ivfpq_nprobe(ivf.nlist)
    quantizer = faiss.downcast_index(ivf.quantizer)
    if hasattr(quantizer, "hnsw"):
        quantizer.hnsw.efSearch = max(2 * ivf.nprobe, 64)


def build_index(matrix: np.ndarray, index_type: str):
    import faiss

    count, dimension = matrix.shape
    if index_type == "ivfpq":
        return _build_ivfpq(matrix, count, dimension)
    matrix = np.ascontiguousarray(matrix, dtype=np.float32)
    if index_type == "flat":
        index = faiss.IndexFlatIP(dimension)
    elif index_type == "hnsw":
        index = faiss.IndexHNSWFlat(dimension, HNSW_M, faiss.METRIC_INNER_PRODUCT)
        index.hnsw.efConstruction = HNSW_EF_CONSTRUCTION
        index.hnsw.efSearch = hnsw_ef_search(count)
    elif index_type == "ivf":
        nlist = _ivf_nlist(count)
        index = faiss.index_factory(dimension, f"IVF{nlist},Flat", faiss.METRIC_INNER_PRODUCT)
        # k-means on a sample is as good as on everything and much faster.
        sample = (
            matrix
            if count <= nlist * 256
            else matrix[np.random.default_rng(0).choice(count, nlist * 256, replace=False)]
        )
        index.train(sample)
        index.nprobe = ivf_nprobe(nlist)
    else:
        raise ValueError(f"unknown index type {index_type!r}")
    if count:
        index.add(matrix)
    return index


def make_fingerprint(
    model: str, dimension: int, pairs: list[tuple[str, str]], index_type: str, *, weights_sha256: str | None = None
) -> dict:
    fingerprint = {
        "format": FINGERPRINT_FORMAT,
        "model": model,
        "dimension": int(dimension),
        "count": len(pairs),
        "content_hash": emb.collection_hash(pairs),
        "index_type": index_type,
        # The model's weights file: the same id with other weights must re-embed (checked at build).
        "weights_sha256": weights_sha256,
    }
    if index_type == "ivfpq":
        # Its shape, re-rank copy included (",Refine(SQ8)"), is checked against the file at load;
        # search re-ranks this many candidates with that copy, then re-scores its best few exactly.
        fingerprint.update(
            index_spec=ivfpq_factory(len(pairs), int(dimension)), rerank=IVFPQ_RERANK, rerank_codes=IVFPQ_REFINE
        )
    return fingerprint


def write_index(index, fingerprint: dict, index_path: str | os.PathLike) -> None:
    import faiss

    faiss.write_index(index, str(index_path))
    write_fingerprint(fingerprint, index_path)


def write_fingerprint(fingerprint: dict, index_path: str | os.PathLike) -> None:
    fingerprint_path_of_index(index_path).write_text(json.dumps(fingerprint, indent=2) + "\n")


def read_fingerprint(index_path: str | os.PathLike) -> dict | None:
    try:
        return json.loads(fingerprint_path_of_index(index_path).read_text())
    except (OSError, ValueError):
        return None


def _rebuild_hint(db_path) -> str:
    return f"Rebuild it with `kb build --db {db_path}`, or search with --mode keyword."


@dataclass
class VectorIndex:
    index: object
    claim_ids: list[str]
    fingerprint: dict
    db_path: str
    # ivfpq: the claim_embeddings rowid of each index position, for the exact re-rank.
    rowids: np.ndarray | None = field(default=None, repr=False)
    _positions: dict | None = field(default=None, repr=False)
    _encoder: tuple | None = field(default=None, repr=False)

    @property
    def model(self) -> str:
        return self.fingerprint["model"]

    @property
    def count(self) -> int:
        return len(self.claim_ids)

    def encoder(self):
        """The query encoder for this index: its model and weights, exported beside its database."""
        from .model import ENCODER_ENV, query_encoder_for_index
        from .onnx_encoder import fingerprint_path_of, onnx_path_for

        # Looked up again only when the export's files change: its checks read a JSON file (~0.15 ms a query).
        export = onnx_path_for(self.db_path)
        files = _stamp(export, fingerprint_path_of(export))
        stamp = (files, os.environ.get(ENCODER_ENV))
        if self._encoder is not None and self._encoder[0] == stamp:
            return self._encoder[1]
        fingerprint = self.fingerprint
        encoder = query_encoder_for_index(
            self.db_path, self.model, int(fingerprint["dimension"]), fingerprint.get("weights_sha256")
        )
        export_beside = files[0] is not None  # else the per-user export cache or the reference: looked up each time
        if export_beside:
            self._encoder = (stamp, encoder)
        return encoder

    def position_of(self, claim_id: str) -> int | None:
        if self._positions is None:
            self._positions = {cid: i for i, cid in enumerate(self.claim_ids)}
        return self._positions.get(claim_id)

    def query(
        self, vector: np.ndarray, k: int, allowed: set[str] | None = None, conn: sqlite3.Connection | None = None
    ) -> list[tuple[str, float]]:
        """(claim_id, cosine similarity) best first; `allowed` restricts to those claims.

        conn reads stored vectors (a filtered search's exact subset, ivfpq's re-rank);
        without it ivfpq opens its own read-only connection.
        """
        import faiss

        k = min(k, self.count if allowed is None else len(allowed))
        if k <= 0:
            return []
        query = np.ascontiguousarray(vector.reshape(1, -1), dtype=np.float32)
        kind = self.fingerprint.get("index_type", "flat")
        if allowed is not None and kind != "flat" and len(allowed) <= EXACT_FILTER_LIMIT and conn is not None:
            return self._exact_subset(query[0], k, allowed, conn)
        depth = min(max(k, IVFPQ_RERANK), self.count) if kind == "ivfpq" else k
        # ivfpq: the candidates come from the PQ index alone; _rerank scores them.
        candidates = ivfpq_base(self.index) if kind == "ivfpq" else self.index
        if allowed is None:
            scores, positions = candidates.search(query, depth)
        else:
            ids = np.array(sorted(p for p in map(self.position_of, allowed) if p is not None), dtype=np.int64)
            selector = faiss.IDSelectorBatch(ids)
            if kind == "hnsw":
                params = faiss.SearchParametersHNSW(sel=selector, efSearch=max(hnsw_ef_search(self.count), 2 * k))
            elif kind in ("ivf", "ivfpq"):
                ivf = faiss.extract_index_ivf(self.index)
                params = faiss.SearchParametersIVF(sel=selector, nprobe=min(ivf.nlist, ivf.nprobe * 2))
            else:
                params = faiss.SearchParameters(sel=selector)
            scores, positions = candidates.search(query, depth, params=params)
        if kind == "ivfpq":
            return self._rerank(query[0], positions[0][positions[0] >= 0], k, conn)
        return [(self.claim_ids[p], float(s)) for s, p in zip(scores[0], positions[0]) if p >= 0]

    def _rerank(self, query, positions: np.ndarray, k: int, conn) -> list[tuple[str, float]]:
        """The k best of ivfpq's candidates, with exact inner products of their stored vectors.

        The candidates are ranked by the in-RAM SQ8 copy; only the best
        k * IVFPQ_RESCORE_FACTOR are read from claim_embeddings (one statement by rowid),
        so the similarity reported is the exact cosine, not SQ8's approximation of it
        (off by up to ~1e-3).
        """
        chosen, _ = self.refine_candidates(query, positions, k * IVFPQ_RESCORE_FACTOR)
        if not len(chosen):
            return []
        scores = self.stored_vectors(chosen, conn) @ query
        order = np.argsort(-scores, kind="stable")[:k]
        return [(self.claim_ids[chosen[i]], float(scores[i])) for i in order]

    def refine_candidates(self, query, positions: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
        """(positions, SQ8 scores) of the k best candidates by the in-RAM re-rank copy, best first."""
        if not len(positions):
            return positions, np.empty(0, dtype=np.float32)
        approx = ivfpq_refine(self.index).reconstruct_batch(positions) @ query
        top = np.argsort(-approx, kind="stable")[:k]
        return positions[top], approx[top]

    def stored_vectors(self, positions: np.ndarray, conn: sqlite3.Connection | None = None) -> np.ndarray:
        """The claim_embeddings BLOBs at these index positions, in that order, in one statement by rowid."""
        own = conn is None
        if own:
            conn = connect(self.db_path)
        try:
            rowids = self.rowids[positions].tolist()
            marks = ",".join("?" * len(rowids))
            found = dict(conn.execute(f"select rowid, embedding from {emb.TABLE} where rowid in ({marks})", rowids))
        finally:
            if own:
                conn.close()
        if len(found) != len(set(rowids)):
            raise IndexStale(
                f"{self.db_path}: stored vectors missing for the search index. {_rebuild_hint(self.db_path)}"
            )
        return emb.decode_matrix([found[r] for r in rowids], int(self.fingerprint["dimension"]))

    def _exact_subset(self, query, k, allowed, conn) -> list[tuple[str, float]]:
        ids = sorted(allowed)
        rows = []
        for start in range(0, len(ids), 500):
            chunk = ids[start : start + 500]
            marks = ",".join("?" * len(chunk))
            rows += conn.execute(
                f"select claim_id, embedding from {emb.TABLE} where model = ? and claim_id in ({marks})",
                [self.model, *chunk],
            ).fetchall()
        if not rows:
            return []
        matrix = emb.decode_matrix([r[1] for r in rows], len(query))
        scores = matrix @ query
        top = np.argsort(-scores)[:k]
        return [(rows[i][0], float(scores[i])) for i in top]


_CACHE: dict = {}


def _stamp(*paths) -> tuple:
    out = []
    for p in paths:
        try:
            st = os.stat(p)
            out.append((st.st_mtime_ns, st.st_size))
        except OSError:
            out.append(None)
    return tuple(out)


def load_index(conn: sqlite3.Connection, db_path: str | os.PathLike, model: str | None = None) -> VectorIndex:
    """The index for db_path, checked against the database; raises IndexUnavailable subclasses.

    Loaded indexes are cached per process and re-checked only when the
    database or index files change (a Datasette worker searches many times).
    """
    index_path = index_path_for(db_path)
    fingerprint_path = fingerprint_path_of_index(index_path)
    key = (resolved_path(db_path), model)
    stamp = _stamp(db_path, index_path, fingerprint_path)
    cached = _CACHE.get(key)
    if cached and cached[0] == stamp:
        return cached[1]
    models = emb.models_present(conn)
    if not models:
        raise NoEmbeddings(
            f"{db_path} has no embeddings (was it built with --no-embed?). "
            f"Run `kb build --db {db_path}` to add them, or search with --mode keyword."
        )
    if not index_path.exists() or not fingerprint_path.exists():
        missing = index_path if not index_path.exists() else fingerprint_path
        raise IndexMissing(f"The search index {missing} is missing. {_rebuild_hint(db_path)}")
    fingerprint = read_fingerprint(index_path)
    if not fingerprint or fingerprint.get("format") != FINGERPRINT_FORMAT:
        raise IndexStale(
            f"The fingerprint {fingerprint_path} is unreadable or from another version. {_rebuild_hint(db_path)}"
        )
    built_with = fingerprint.get("model")
    if model is not None and model != built_with:
        raise IndexStale(
            f"The search index was built with model {built_with!r}, not {model!r}. "
            f"Rebuild with `kb build --db {db_path} --model {model}` or drop --model / KB_MODEL."
        )
    if built_with not in models:
        raise IndexStale(
            f"The search index was built with model {built_with!r} but {db_path} holds embeddings for "
            f"{', '.join(sorted(models))}. {_rebuild_hint(db_path)}"
        )
    expected_sha = _recorded_index_sha(conn) or fingerprint.get("index_sha256")
    if expected_sha is not None and index_path.stat().st_size != fingerprint.get("index_bytes"):
        raise _not_built_with(index_path, db_path)
    # Hashing the index file and faiss reading it both run without the GIL: on threads of their own they
    # overlap each other and the database reads below (1M claims: 2.0 s hash + 3.4 s read one after the
    # other, 2.2 s together). A check that fails stops waiting for them (shutdown(wait=False)).
    from concurrent.futures import ThreadPoolExecutor

    pool = ThreadPoolExecutor(max_workers=2, thread_name_prefix="kb-index-load")
    try:
        hashing = pool.submit(_file_sha256, index_path) if expected_sha is not None else None
        reading = pool.submit(_read_faiss, index_path)
        pairs, rowids = _index_pairs(conn, built_with, fingerprint.get("index_type") == "ivfpq")
        actual = {"count": len(pairs), "content_hash": emb.collection_hash(pairs)}
        if actual["count"] != fingerprint.get("count") or actual["content_hash"] != fingerprint.get("content_hash"):
            raise IndexStale(
                f"The search index {index_path} is stale: it holds {fingerprint.get('count')} vectors but the "
                f"database has {actual['count']} embeddings"
                + (" with different content" if actual["count"] == fingerprint.get("count") else "")
                + f". {_rebuild_hint(db_path)}"
            )
        if hashing is not None and hashing.result() != expected_sha:
            raise _not_built_with(index_path, db_path)
        try:
            index = reading.result()
        except (RuntimeError, MemoryError) as exc:  # a size field gone wrong asks for terabytes
            raise IndexStale(f"The search index {index_path} cannot be read ({exc}). {_rebuild_hint(db_path)}") from exc
    finally:
        pool.shutdown(wait=False, cancel_futures=True)
    if index.ntotal != len(pairs) or index.d != fingerprint.get("dimension"):
        raise IndexStale(f"The search index {index_path} does not match its fingerprint. {_rebuild_hint(db_path)}")
    kind = fingerprint.get("index_type", "flat")
    if kind not in INDEX_TYPES or _faiss_kind(index) != kind or not _spec_matches(index, fingerprint):
        raise IndexStale(
            f"The search index {index_path} is not the {kind!r} index its fingerprint records. {_rebuild_hint(db_path)}"
        )
    if kind == "hnsw":
        index.hnsw.efSearch = hnsw_ef_search(index.ntotal)
    elif kind == "ivfpq":
        tune_ivfpq(index)
    loaded = VectorIndex(index, [p[0] for p in pairs], fingerprint, str(db_path), rowids)
    _CACHE[key] = (stamp, loaded)
    return loaded


def _index_pairs(conn: sqlite3.Connection, model: str, with_rowids: bool) -> tuple[list, np.ndarray | None]:
    """(claim_id, content_hash) in index order and, for ivfpq, where each vector is stored (its re-rank reads them)."""
    if not with_rowids:
        return emb.index_order(conn, model), None
    # The same order as emb.index_order, plus the rowids.
    rows = conn.execute(
        f"select claim_id, content_hash, rowid from {emb.TABLE} where model = ? order by claim_id", [model]
    ).fetchall()
    rowids = np.fromiter((r[2] for r in rows), dtype=np.int64, count=len(rows))
    return [(r[0], r[1]) for r in rows], rowids


def _read_faiss(index_path: Path):
    import faiss

    return faiss.read_index(str(index_path))


def _not_built_with(index_path: Path, db_path) -> IndexStale:
    return IndexStale(
        f"The search index {index_path} is not the one this database was built with (its content differs "
        f"from the sha256 recorded at build). {_rebuild_hint(db_path)}"
    )


def _faiss_kind(index) -> str | None:
    """Which of INDEX_TYPES a loaded faiss index is (the fingerprint's claim is checked against it)."""
    import faiss

    index = faiss.downcast_index(index)
    if isinstance(index, faiss.IndexRefine):
        # ivfpq is a PQ index plus its re-rank copy; a bare IndexIVFPQ (built before the copy) is not.
        base, refine = ivfpq_base(index), ivfpq_refine(index)
        if isinstance(base, faiss.IndexIVFPQ) and isinstance(refine, faiss.IndexScalarQuantizer):
            return "ivfpq"
        return None
    if isinstance(index, faiss.IndexIVFFlat):
        return "ivf"
    if isinstance(index, faiss.IndexHNSWFlat):
        return "hnsw"
    if isinstance(index, faiss.IndexFlatIP):
        return "flat"
    return None


def _spec_matches(index, fingerprint: dict) -> bool:
    """An ivfpq file has the lists, sub-quantizers and re-rank copy its fingerprint's factory string names."""
    if fingerprint.get("index_type") != "ivfpq":
        return True
    import faiss

    base, refine = ivfpq_base(index), ivfpq_refine(index)
    pq = base.pq
    return (
        fingerprint.get("index_spec") == ivfpq_factory(index.ntotal, index.d)
        and (base.nlist, pq.M, pq.nbits) == (ivfpq_nlist(index.ntotal), *_pq_shape(index.ntotal, index.d))
        and refine.sq.qtype == faiss.ScalarQuantizer.QT_8bit
        and base.ntotal == refine.ntotal == index.ntotal
    )
