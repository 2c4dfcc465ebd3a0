"""The server bounds every statement and answers bad requests cleanly (real Datasette app, in process)."""

from __future__ import annotations

import time
import urllib.parse

import pytest
import pytest_asyncio

from kb.serve import make_datasette

pytestmark = pytest.mark.asyncio
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


@pytest.mark.parametrize("name", sorted(EXPENSIVE))
async def test_expensive_single_statements_are_refused_at_once(ds, name):
    started = time.perf_counter()
    response = await ds.client.get("/kb.json?sql=" + urllib.parse.quote(EXPENSIVE[name]))
    elapsed = time.perf_counter() - started
    assert response.status_code == 400
    assert response.json()["ok"] is False
    assert elapsed < 1.0, f"{name} took {elapsed:.2f} s"


async def test_ordinary_sql_still_works(ds):
    response = await ds.client.get(
        "/kb.json?sql=" + urllib.parse.quote("select count(*) as n, round(avg(year), 1) from claims")
    )
    assert response.status_code == 200 and response.json()["rows"][0][0] > 0


async def test_bad_sort_is_400_and_post_is_405(ds):
    assert (await ds.client.get("/kb/claims?_sort=no_such_column")).status_code == 400
    as_json = await ds.client.get("/kb/claims.json?_sort=no_such_column")
    assert as_json.status_code == 400 and "Cannot sort" in as_json.json()["error"]
    assert (await ds.client.post("/kb/claims", data={"x": "1"})).status_code == 405


@pytest.mark.parametrize("path", ["/.env", "/kb.db.faiss", "/kb/claims/no-such-claim", "/wp-login.php"])
async def test_unknown_routes_are_404_not_500(ds, path):
    assert (await ds.client.get(path)).status_code == 404
