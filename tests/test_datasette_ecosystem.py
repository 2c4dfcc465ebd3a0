"""Our plugin beside datasette-search-all, the popular plugin that also wants /-/search and index.html.

Both plugins' pages must work: search-all keeps /-/search (we redirect it only when nobody else serves
it) and, on Datasette 0.65, index.html (ours answers it only when nobody else ships one); ours stay under
/-/kb. Skipped where datasette-search-all is not installed: it is not in the test extra.
"""

from __future__ import annotations

import importlib.util
import urllib.parse
from pathlib import Path

import pytest
import pytest_asyncio

from kb.serve import make_datasette

ROOT = Path(__file__).resolve().parent.parent

pytestmark = [
    pytest.mark.skipif(
        importlib.util.find_spec("datasette_search_all") is None,
        reason="datasette-search-all is not installed (1.1.4 on Datasette 0.65, 1.1.5a0 or later on 1.0)",
    ),
    pytest.mark.asyncio(loop_scope="module"),
]


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def ds(built_db_no_embed):
    datasette = make_datasette(built_db_no_embed, ROOT / "metadata.json")
    await datasette.invoke_startup()
    return datasette


async def test_both_plugins_are_registered(ds):
    names = {p["name"].replace("_", "-") for p in (await ds.client.get("/-/plugins.json")).json()}
    assert {"evidence-kb", "datasette-search-all"} <= names, names


async def test_search_all_keeps_its_search_page(ds):
    response = await ds.client.get("/-/search?q=diabetes")
    assert response.status_code == 200, response.text[:500]  # its page, not our redirect
    assert "<title>Search: diabetes</title>" in response.text
    # It finds the KB's full-text tables (claims has claims_fts).
    assert '"table": "claims"' in response.text


async def test_our_pages_work_under_the_prefix(ds):
    page = await ds.client.get("/-/kb/search?q=" + urllib.parse.quote_plus("compassion in diabetes care"))
    assert page.status_code == 200 and "Among patients with diabetes" in page.text
    assert 'action="/-/kb/search"' in page.text
    rows = (await ds.client.get("/-/kb/search.json?q=diabetes&mode=keyword")).json()
    assert rows and rows[0]["id"].startswith("diabetes-")
    for path in ("/-/kb", "/-/kb/map", "/-/kb/effects", "/-/kb/graph", "/-/kb/certainty", "/-/kb/topics/recovery"):
        assert (await ds.client.get(path)).status_code == 200, path
    claim = (await ds.client.get("/kb/claims/diabetes-compassion-blood-sugar-control")).text
    assert 'class="kb-raw"' in claim  # our claim page (a database-specific template) still applies


async def test_the_home_page_carries_both(ds):
    from kb.datasette_plugin.compat import HAS_TOP_HOOKS

    html = (await ds.client.get("/")).text
    assert 'id="search-all-q"' in html  # search-all's index.html (0.65) or its form above the list (1.0)
    assert '<li><a href="/-/kb">Evidence KB home</a></li>' in html  # our menu link
    # 1.0 lets both add to the home page; on 0.65 index.html is search-all's and ours is at /-/kb.
    assert ('action="/-/kb/search"' in html) == HAS_TOP_HOOKS
