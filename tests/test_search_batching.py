"""Micro-batched query encoding: OnnxQueryEncoder.encode_batch, search.batching.QueryBatcher,
search(query_vector=...) and the Datasette search JSON answering concurrent requests through them.

Everything runs on the real KB built with embeddings and its real ONNX encoder.
"""

from __future__ import annotations

import asyncio
import json
import urllib.parse
from pathlib import Path

import numpy as np
import pytest
import pytest_asyncio

import search
from kb.serve import make_datasette
from search.batching import QueryBatcher
from search.onnx_encoder import OnnxQueryEncoder
from search.retrieve import query_encoder

ROOT = Path(__file__).resolve().parent.parent
TEXTS = [
    "do kind anaesthetists cut painkiller use",
    "HIV",
    "compasión en el cuidado 糖尿病 😀",
    "COVID-19 mortality in ICU patients (n = 1,234; OR 0.82, 95% CI 0.70–0.96)",
    "evidence for compassion in diabetes care",
    "nurse burnout and patient satisfaction " * 60,  # past the model's max length: truncated
    "staff",
]


def cosines(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    return (a * b).sum(axis=1) / (np.linalg.norm(a, axis=1) * np.linalg.norm(b, axis=1))


@pytest.fixture(scope="module")
def encoder(built_db):
    found = query_encoder(built_db)
    assert isinstance(found, OnnxQueryEncoder), "the built KB should embed queries with its ONNX export"
    return found


# -- encode_batch ------------------------------------------------------------------------------------


def test_encode_batch_rows_equal_single_encoding(encoder):
    batch = encoder.encode_batch(TEXTS)
    single = encoder.encode(TEXTS)  # one unpadded run per text
    assert batch.shape == (len(TEXTS), encoder.dimension) and batch.dtype == np.float32
    assert cosines(batch, single).min() >= 0.9999
    assert np.allclose(np.linalg.norm(batch, axis=1), 1.0, atol=1e-5)


def test_encode_batch_does_not_depend_on_neighbours(encoder):
    # Padding to the longest text in the batch must not move a short text's vector.
    alone = encoder.encode_batch(["HIV"])
    beside_long = encoder.encode_batch(["HIV", TEXTS[5]])[:1]
    assert cosines(alone, beside_long)[0] >= 0.9999


def test_encode_batch_of_nothing(encoder):
    assert encoder.encode_batch([]).shape == (0, encoder.dimension)


# -- QueryBatcher ------------------------------------------------------------------------------------


@pytest.mark.asyncio
async def test_concurrent_queries_share_runs_and_get_their_own_vectors(encoder):
    batcher = QueryBatcher(encoder, max_concurrent=1, max_batch=5)
    try:
        texts = [f"{TEXTS[i % len(TEXTS)]} {i}" for i in range(21)]
        vectors = await asyncio.gather(*(batcher.encode(t) for t in texts))
    finally:
        batcher.close()
    # The first query runs alone at once; the 20 that arrive meanwhile go 5 at a time.
    assert (batcher.runs, batcher.texts) == (5, 21)
    assert cosines(np.stack(vectors), encoder.encode(texts)).min() >= 0.9999


@pytest.mark.asyncio
async def test_a_lone_query_is_not_held_back(encoder):
    batcher = QueryBatcher(encoder)
    try:
        vector = await batcher.encode("evidence for compassion in diabetes care")
    finally:
        batcher.close()
    assert batcher.runs == 1
    # A batch of one is the encoder's single-text path: the very same vector.
    assert np.array_equal(vector, encoder.encode(["evidence for compassion in diabetes care"])[0])


@pytest.mark.asyncio
async def test_a_failed_run_fails_its_requests_only(encoder):
    batcher = QueryBatcher(encoder, max_concurrent=1)
    try:
        first = asyncio.ensure_future(batcher.encode("staff recovery"))
        await asyncio.sleep(0)  # the first run is under way; the next two share the following run
        broken = [asyncio.ensure_future(batcher.encode(None)), asyncio.ensure_future(batcher.encode("burnout"))]
        results = await asyncio.gather(first, *broken, return_exceptions=True)
        after = await batcher.encode("leadership and culture")
    finally:
        batcher.close()
    assert isinstance(results[0], np.ndarray)
    assert all(isinstance(r, TypeError) for r in results[1:]), results
    assert after.shape == (encoder.dimension,)


@pytest.mark.asyncio
async def test_a_cancelled_request_does_not_break_its_batch(encoder):
    batcher = QueryBatcher(encoder, max_concurrent=1)
    try:
        first = asyncio.ensure_future(batcher.encode("staff recovery"))
        await asyncio.sleep(0)
        gone = asyncio.ensure_future(batcher.encode("a client that hung up"))
        kept = asyncio.ensure_future(batcher.encode("compassion in diabetes care"))
        await asyncio.sleep(0)
        gone.cancel()
        vectors = await asyncio.gather(first, kept)
    finally:
        batcher.close()
    assert gone.cancelled()
    assert cosines(np.stack(vectors[1:]), encoder.encode(["compassion in diabetes care"]))[0] >= 0.9999


def test_batcher_rejects_nonsense_settings(encoder):
    for bad in ({"max_batch": 0}, {"max_concurrent": 0}, {"window": -1}):
        with pytest.raises(ValueError):
            QueryBatcher(encoder, **bad)


# -- search(query_vector=...) ------------------------------------------------------------------------


@pytest.mark.parametrize("mode", ["hybrid", "semantic"])
def test_search_with_a_precomputed_vector_matches_search(built_db, encoder, mode):
    query = "evidence for compassion in diabetes care"
    vector = encoder.encode_batch([query, "an unrelated longer question about nurse staffing levels"])[0]
    plain = search.search(built_db, query, k=8, mode=mode)
    given = search.search(built_db, query, k=8, mode=mode, query_vector=vector)
    assert [r.id for r in given] == [r.id for r in plain]
    assert [r.match for r in given] == [r.match for r in plain]
    assert np.allclose([r.score for r in given], [r.score for r in plain], atol=1e-4)


def test_search_refuses_a_vector_of_the_wrong_size(built_db):
    with pytest.raises(search.SearchError, match="dimension"):
        search.search(built_db, "compassion", mode="semantic", query_vector=np.zeros(7, np.float32))


# -- the Datasette search JSON under concurrent requests ---------------------------------------------


@pytest_asyncio.fixture
async def ds(built_db):
    datasette = make_datasette(built_db, ROOT / "metadata.json")
    await datasette.invoke_startup()
    return datasette


def batcher_of(datasette) -> QueryBatcher:
    # Imported only once Datasette has loaded its plugins: an earlier import registers the plugin wrongly.
    from kb.datasette_plugin import finder

    return finder._batchers[datasette]


def _url(query: str, **extra) -> str:
    return "/-/kb/search.json?" + urllib.parse.urlencode({"q": query, "k": 5, **extra})


@pytest.mark.asyncio
async def test_concurrent_search_json_requests_are_batched_and_answered_alike(ds):
    queries = [f"{TEXTS[i % 5]} {i}" for i in range(12)]
    batcher = batcher_of(ds)
    runs_before, texts_before = batcher.runs, batcher.texts
    together = await asyncio.gather(*(ds.client.get(_url(q)) for q in queries))
    assert batcher.texts - texts_before == len(queries)
    assert batcher.runs - runs_before < len(queries), "concurrent requests should share encoder runs"
    from kb.datasette_plugin import finder

    finder._cache._data.clear()  # the serial answers below must be computed afresh, not remembered
    for query, response in zip(queries, together):
        assert response.status_code == 200
        alone = await ds.client.get(_url(query))
        got, want = json.loads(response.text), json.loads(alone.text)
        assert [(r["id"], r["match"]) for r in got] == [(r["id"], r["match"]) for r in want]
        assert np.allclose([r["score"] for r in got], [r["score"] for r in want], atol=1e-4)


@pytest.mark.asyncio
async def test_keyword_requests_and_bad_queries_skip_the_batcher(ds):
    batcher = batcher_of(ds)
    texts_before = batcher.texts
    keyword = await ds.client.get(_url("compassion diabetes", mode="keyword"))
    blank = await ds.client.get(_url("\x01\x02 "))
    assert keyword.status_code == 200 and json.loads(keyword.text)
    assert blank.status_code == 400 and "empty" in json.loads(blank.text)["error"]
    assert batcher.texts == texts_before
