"""The server bounds every statement and answers bad requests cleanly (real Datasette app, in process)."""

from __future__ import annotations

import time
import urllib.parse

import pytest
import pytest_asyncio
from live_server import kb_serve

from kb.serve import make_datasette

# Importing the plugin package before Datasette has loaded its entry points would register it half-initialised.
MAX_VALUE_BYTES = 5 * 1024 * 1024  # kb/datasette_plugin/sql_limits.py

EXPENSIVE = {
    "a 1 GB printf": "select printf('%.*c', 1000000000, 'x')",
    "a doubling recursive string": "with recursive c(x) as (select 'a' union all select x||x from c) select length(x) from c",
    "a huge zeroblob": "select length(zeroblob(1000000000))",
    "a huge randomblob": "select length(randomblob(1000000000))",
    "a huge replace": f"select length(replace(hex(zeroblob({MAX_VALUE_BYTES})), '0', '00'))",
}


@pytest_asyncio.fixture
async def ds(built_db):
    datasette = make_datasette(built_db)
    await datasette.invoke_startup()
    return datasette


@pytest.mark.asyncio
@pytest.mark.parametrize("name", sorted(EXPENSIVE))
async def test_expensive_single_statements_are_refused_at_once(ds, name):
    started = time.perf_counter()
    response = await ds.client.get("/kb.json?sql=" + urllib.parse.quote(EXPENSIVE[name]), follow_redirects=True)
    elapsed = time.perf_counter() - started
    assert response.status_code == 400
    assert response.json()["ok"] is False
    assert elapsed < 1.0, f"{name} took {elapsed:.2f} s"


@pytest.mark.asyncio
async def test_ordinary_sql_still_works(ds):
    response = await ds.client.get(
        "/kb.json?_shape=arrays&sql=" + urllib.parse.quote("select count(*) as n, round(avg(year), 1) from claims"),
        follow_redirects=True,
    )
    assert response.status_code == 200 and response.json()["rows"][0][0] > 0


@pytest.mark.asyncio
async def test_bad_sort_is_400_and_post_is_405(ds):
    assert (await ds.client.get("/kb/claims?_sort=no_such_column")).status_code == 400
    as_json = await ds.client.get("/kb/claims.json?_sort=no_such_column")
    assert as_json.status_code == 400 and "Cannot sort" in as_json.json()["error"]
    assert (await ds.client.post("/kb/claims", data={"x": "1"})).status_code == 405


@pytest.mark.asyncio
@pytest.mark.parametrize("path", ["/.env", "/kb.db.faiss", "/kb/claims/no-such-claim", "/wp-login.php"])
async def test_unknown_routes_are_404_not_500(ds, path):
    assert (await ds.client.get(path)).status_code == 404


# ---- a real `kb serve`: bad requests leave at most one line each in its log ------------------------

POSTS = ["/kb/claims", "/kb/claims.json", "/kb.json", "/-/kb/search.json", "/-/kb/no-such-page", "/no/such/route"]
BAD_GETS = ["/kb/claims?_sort=no_such_column", "/kb/claims.json?_sort=no_such_column", "/.env", "/kb.db.faiss"]


@pytest.fixture(scope="module")
def live_server(built_db):
    """`kb serve` on a free loopback port; yields its URL and a function returning what it has logged."""
    with kb_serve(built_db) as (base, lines):
        yield base, lambda: list(lines)


def test_bad_requests_leave_no_traceback_in_the_log(live_server):
    import httpx

    base, log = live_server
    before = len(log())
    statuses = {}
    for _ in range(3):  # repeated: a flood of bad requests must not grow the log
        for path in POSTS:
            statuses["POST " + path] = httpx.post(base + path, data={"x": "1"}, timeout=10).status_code
        for path in BAD_GETS:
            statuses["GET " + path] = httpx.get(base + path, timeout=10).status_code
    time.sleep(0.5)  # let the reader thread catch up
    new = log()[before:]
    assert statuses["POST /kb/claims"] == statuses["POST /kb/claims.json"] == 405
    assert statuses["GET /kb/claims?_sort=no_such_column"] == 400
    assert statuses["GET /.env"] == statuses["GET /kb.db.faiss"] == 404
    assert all(status < 500 for status in statuses.values()), statuses
    assert not any("Traceback" in line for line in new), "".join(new)
    assert len(new) <= len(statuses), "".join(new)
