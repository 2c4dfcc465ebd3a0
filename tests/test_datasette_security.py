"""Hostile text in the data and in the query comes back escaped, on every page that shows it.

A copy of the real KB (with its FAISS index) gets a claim, a source, a topic
and an author whose text is HTML; searches and filters carry HTML too.
"""

from __future__ import annotations

import json
import shutil
import sqlite3
import urllib.parse
from pathlib import Path

import pytest
import pytest_asyncio

from ingest.db import unseal
from kb.serve import make_datasette
from search.index import fingerprint_path_for, index_path_for

ROOT = Path(__file__).resolve().parent.parent
pytestmark = pytest.mark.asyncio(loop_scope="module")

SCRIPT = '<script>alert("kb-xss")</script>'
BREAKOUT = '"><img src=x onerror=alert("kb-xss")>'
HOSTILE = f"{SCRIPT} {BREAKOUT}"
CLAIM = "diabetes-compassion-fewer-complications"
SOURCE = "delcanale2012relationship"


@pytest.fixture(scope="module")
def hostile_db(built_db, tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("kb-hostile")
    path = folder / "kb.db"
    shutil.copy2(built_db, path)
    shutil.copy2(index_path_for(built_db), index_path_for(path))
    shutil.copy2(fingerprint_path_for(built_db), fingerprint_path_for(path))
    unseal(path)  # the build seals a KB read-only; this copy gets hostile data written into it
    conn = sqlite3.connect(path)
    with conn:
        conn.execute(
            "update claims set statement = ?, effect_text = ?, certainty_note = ?, discrepancy = ?, "
            "keywords = ?, population = ? where id = ?",
            [f"Diabetes care {HOSTILE}", f"41% {SCRIPT}", HOSTILE, HOSTILE, json.dumps([HOSTILE]), BREAKOUT, CLAIM],
        )
        csl = json.loads(conn.execute("select csl_json from sources where key = ?", [SOURCE]).fetchone()[0])
        csl["title"] = f"Empathy {HOSTILE}"
        csl["URL"] = 'javascript:alert("kb-xss")'
        conn.execute(
            "update sources set title = ?, url = ?, csl_json = ?, citation_short = ?, note = ? where key = ?",
            [f"Empathy {HOSTILE}", 'javascript:alert("kb-xss")', json.dumps(csl), f"({SCRIPT}, 2012)", HOSTILE, SOURCE],
        )
        conn.execute("update claims set citations = ? where id = ?", [f"({SCRIPT}, 2012)", CLAIM])
        conn.execute(
            "update topics set label = ?, description = ? where id = 'diabetes'", [f"Diabetes {BREAKOUT}", HOSTILE]
        )
        conn.execute(
            "update authors set display = ? where id = (select author_id from source_authors "
            "where source_key = ? and position = 1 and role = 'author')",
            [f"Del Canale {SCRIPT}", SOURCE],
        )
        # The FTS index has external content: rebuild it so the new statement is searchable.
        conn.execute("insert into claims_fts(claims_fts) values('rebuild')")
    conn.close()
    return path


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def ds(hostile_db):
    datasette = make_datasette(hostile_db, ROOT / "metadata.json")
    await datasette.invoke_startup()
    return datasette


def assert_escaped(html: str) -> None:
    assert "<script>alert(" not in html
    assert "<img src=x onerror" not in html
    assert 'href="javascript:' not in html.lower()


async def page(ds, path: str) -> str:
    response = await ds.client.get(path)
    assert response.status_code in (200, 400), (path, response.status_code)
    assert response.headers["content-type"].startswith("text/html")
    return response.text


async def test_search_page_escapes_hostile_claims(ds):
    html = await page(ds, "/-/kb/search?q=" + urllib.parse.quote_plus("diabetes care"))
    assert_escaped(html)
    assert "Diabetes care &lt;script&gt;alert(&#34;kb-xss&#34;)&lt;/script&gt;" in html
    assert "&#34;&gt;&lt;img src=x onerror=alert(&#34;kb-xss&#34;)&gt;" in html
    # The copy button's attribute holds the hostile text, still escaped.
    assert 'data-kb-copy="Diabetes care &lt;script&gt;' in html


@pytest.mark.parametrize("field", ["q", "topic", "kind", "mode", "k", "study_design"])
async def test_search_page_escapes_hostile_parameters(ds, field):
    params = {"q": "diabetes", field: HOSTILE}
    html = await page(ds, "/-/kb/search?" + urllib.parse.urlencode(params))
    assert_escaped(html)


async def test_hostile_query_is_echoed_escaped(ds):
    html = await page(ds, "/-/kb/search?q=" + urllib.parse.quote_plus(HOSTILE))
    assert_escaped(html)
    assert 'value="&lt;script&gt;alert(&#34;kb-xss&#34;)&lt;/script&gt; &#34;&gt;&lt;img' in html
    assert "<title>&lt;script&gt;" in html


async def test_claim_source_author_and_home_pages_escape_data(ds):
    author_id = (
        await ds.client.get(f"/kb/source_authors.json?_shape=array&source_key={SOURCE}&position=1&role=author")
    ).json()[0]["author_id"]
    paths = [
        f"/kb/claims/{CLAIM}",
        f"/kb/sources/{SOURCE}",
        f"/kb/authors/{author_id}",
        "/",
        "/kb/topics",
        "/kb/claims?topics__arraycontains=diabetes",
        "/kb/claims_with_citations?topics__arraycontains=diabetes",
        "/kb/claims/diabetes-compassion-blood-sugar-control",
    ]
    for path in paths:
        html = await page(ds, path)
        assert_escaped(html)
    claim = await page(ds, f"/kb/claims/{CLAIM}")
    assert "&lt;script&gt;alert(&#34;kb-xss&#34;)&lt;/script&gt;" in claim
    source = await page(ds, f"/kb/sources/{SOURCE}")
    assert "Empathy &lt;script&gt;" in source
    assert "javascript:" not in source.split('class="kb-raw"', 1)[0].lower()  # never linked by the explorer


async def test_json_and_exports_are_not_html(ds):
    response = await ds.client.get("/-/kb/search.json?q=diabetes")
    assert response.headers["content-type"].startswith("application/json")
    assert any(SCRIPT in r["statement"] for r in response.json())  # data is data in JSON
    for extension in ("bib", "ris", "apa"):
        export = await ds.client.get(f"/kb/sources/{SOURCE}.{extension}")
        assert export.status_code == 200
        assert not export.headers["content-type"].startswith("text/html")
        assert export.headers["x-content-type-options"] == "nosniff"


async def test_error_messages_escape_the_offending_value(ds):
    html = await page(ds, "/-/kb/search?q=care&topic=" + urllib.parse.quote_plus(SCRIPT))
    assert "unknown topic" in html
    assert_escaped(html)
    response = await ds.client.get("/-/kb/search.json?q=care&topic=" + urllib.parse.quote_plus(SCRIPT))
    assert response.status_code == 400 and response.headers["content-type"].startswith("application/json")
