"""Script payloads in every data field run nowhere: each HTML and Markdown export, opened in a real Chromium.

`kb check` refuses markup in names and titles, so the hostile rows are written
straight into a database with the real schema (as tests/test_cite_export_safety.py
does with hand-made items): what is tested is that the exporters escape, not
that the curation gate holds. Markdown is rendered to HTML with markdown-it-py's
CommonMark preset, which passes raw HTML through, as a renderer on a wiki or a
slide tool would.
"""

from __future__ import annotations

import json
import sqlite3
import urllib.parse
from pathlib import Path

import pytest
from click.testing import CliRunner
from markdown_it import MarkdownIt
from test_datasette_live import CHROMIUM, CHROMIUM_ARGS

from kb.cli import cli

pytestmark = pytest.mark.browser

SET = "window.__pwned=1"
PAYLOADS = [
    f"<script>{SET}</script>",
    f'<img src=x onerror="{SET}">',
    f"<svg onload={SET}>",
    f'"><script>{SET}</script>',
    f"[click](javascript:{SET})",
    f"](javascript:{SET})",
    f"<a href='javascript:{SET}'>x</a>",
    f"<iframe srcdoc='<script>parent.{SET}</script>'></iframe>",
    f"`x` *y* <details open ontoggle={SET}>",
]
PAYLOAD = " ".join(PAYLOADS) + " alert('dialog')"
BAD_URL = f"javascript:{SET}"


def _hostile_source() -> dict:
    item = {
        "id": "evil2020",
        "type": "article-journal",
        "author": [{"family": PAYLOAD, "given": PAYLOAD}, {"literal": PAYLOAD}],
        "editor": [{"family": PAYLOAD, "given": "E."}],
        "title": PAYLOAD,
        "container-title": PAYLOAD,
        "publisher": PAYLOAD,
        "publisher-place": PAYLOAD,
        "volume": PAYLOAD,
        "issue": PAYLOAD,
        "page": PAYLOAD,
        "note": PAYLOAD,
        "issued": {"date-parts": [[2020]]},
        "URL": BAD_URL,
    }
    return {
        "key": "evil2020",
        "entry_type": "article",
        "csl_type": "article-journal",
        "title": PAYLOAD,
        "container_title": PAYLOAD,
        "publisher": PAYLOAD,
        "year": 2020,
        "url": BAD_URL,
        "note": PAYLOAD,
        "authors_display": PAYLOAD,
        "citation_short": PAYLOAD,
        "citation_narrative": PAYLOAD,
        "bibtex": "@article{evil2020,\n  title = {x}\n}\n",
        "csl_json": json.dumps(item),
        "missing_fields": "[]",
        "n_claims": 1,
    }


def _hostile_claim(document_id: str, topic: str) -> dict:
    return {
        "id": "evil-claim",
        "kind": "finding",
        "statement": PAYLOAD,
        "quote": PAYLOAD,
        "document_id": document_id,
        "char_start": 0,
        "char_end": 1,
        "line_start": 1,
        "line_end": 1,
        "slide_heading": PAYLOAD,
        "population": PAYLOAD,
        "setting": PAYLOAD,
        "intervention": PAYLOAD,
        "outcome": PAYLOAD,
        "effect_text": PAYLOAD,
        "effect_metric": "percent_change",
        "effect_value": 10.0,
        "effect_direction": "increase",
        "source_effect_text": PAYLOAD,
        "source_effect_location": PAYLOAD,
        "effect_status": "discrepant",
        "discrepancy": PAYLOAD,
        "certainty": "low",
        "certainty_note": PAYLOAD,
        "notes": PAYLOAD,
        "topics": json.dumps([topic]),
        "source_keys": json.dumps(["evil2020"]),
        "citations": PAYLOAD,
        "context": PAYLOAD,
        "items_text": PAYLOAD,
    }


@pytest.fixture(scope="module")
def hostile_db(tmp_path_factory) -> Path:
    from cite_data import build_db

    path = build_db(tmp_path_factory.mktemp("hostile") / "kb.db")
    conn = sqlite3.connect(path)
    conn.row_factory = sqlite3.Row
    document_id = conn.execute("select id from documents").fetchone()[0]
    topic = conn.execute("select id from topics").fetchone()[0]
    source_columns = {row[1] for row in conn.execute("pragma table_info(sources)")}
    claim_columns = {row[1] for row in conn.execute("pragma table_info(claims)")}
    source = {k: v for k, v in _hostile_source().items() if k in source_columns}
    claim = {k: v for k, v in _hostile_claim(document_id, topic).items() if k in claim_columns}
    for table, row in (("sources", source), ("claims", claim)):
        conn.execute(f"insert into {table} ({', '.join(row)}) values ({', '.join('?' * len(row))})", list(row.values()))
    conn.execute("insert into claim_topics (claim_id, topic_id) values (?, ?)", ("evil-claim", topic))
    conn.execute(
        "insert into claim_sources (claim_id, source_key, role, confidence) values (?, ?, ?, ?)",
        ("evil-claim", "evil2020", "cited_in_deck", "high"),
    )
    conn.commit()
    conn.close()
    return path


def _cli_export(db: Path, fmt: str, out: Path) -> str:
    result = CliRunner().invoke(
        cli, ["cite", "--db", str(db), "--claim", "evil-claim", "--format", fmt, "-o", str(out)]
    )
    assert result.exit_code == 0, result.output
    text = out.read_text(encoding="utf-8")
    assert "pwned" in text, f"{fmt}: the payload text should still be there, escaped"
    return text


def _commonmark(text: str) -> str:
    return "<!doctype html><meta charset=utf-8><body>" + MarkdownIt("commonmark").render(text) + "</body>"


@pytest.fixture(scope="module")
def pages(hostile_db, tmp_path_factory) -> dict[str, Path]:
    """Every HTML page a reader could end up opening, written to disk."""
    out = tmp_path_factory.mktemp("exports")
    html = {
        "apa-html": _cli_export(hostile_db, "apa-html", out / "refs.html"),
        "apa-markdown rendered": _commonmark(_cli_export(hostile_db, "apa-markdown", out / "refs.md")),
        "markdown rendered": _commonmark(_cli_export(hostile_db, "markdown", out / "slides.md")),
    }
    for name, body in _plugin_markdown(hostile_db).items():
        html[name] = _commonmark(body)
    files = {}
    for name, body in html.items():
        path = out / (name.replace(" ", "-").replace("/", "_").replace("?", "_") + ".html")
        path.write_text(body, encoding="utf-8")
        files[name] = path
    return files


def _plugin_markdown(db: Path) -> dict[str, str]:
    """The plugin's .apa?_markup=markdown renderer, on the sources table, the claims table and a query."""
    import asyncio

    from kb.serve import make_datasette

    async def fetch() -> dict[str, str]:
        ds = make_datasette(db)
        await ds.invoke_startup()
        sql = urllib.parse.quote("select key from sources where key = 'evil2020'")
        bodies = {}
        for name, path in (
            ("plugin sources.apa", "/kb/sources.apa?_markup=markdown"),
            ("plugin claims.apa", "/kb/claims.apa?_markup=markdown&id=evil-claim"),
            ("plugin query.apa", f"/kb.apa?_markup=markdown&sql={sql}"),
        ):
            response = await ds.client.get(path)
            assert response.status_code == 200, (path, response.text[:300])
            assert "pwned" in response.text, path
            bodies[name] = response.text
        return bodies

    return asyncio.run(fetch())


def test_no_payload_runs_in_chromium(pages):
    from playwright.sync_api import sync_playwright

    ran = {}
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            for name, path in pages.items():
                page = browser.new_page()
                dialogs = []
                page.on("dialog", lambda dialog, seen=dialogs: (seen.append(dialog.message), dialog.dismiss()))
                page.goto(path.as_uri())
                page.wait_for_timeout(300)  # onerror/onload fire after the load event
                # Follow every link as a reader would click it: a javascript: href would run here.
                for link in page.query_selector_all("a[href]"):
                    link.click(modifiers=[], no_wait_after=True, timeout=2000)
                page.wait_for_timeout(100)
                pwned = page.evaluate("typeof window.__pwned")
                ran[name] = (
                    pwned,
                    dialogs,
                    page.evaluate("document.querySelectorAll('script, img, svg, iframe').length"),
                )
                page.close()
        finally:
            browser.close()
    assert set(ran) == set(pages)
    for name, (pwned, dialogs, elements) in ran.items():
        assert pwned == "undefined", f"{name}: a payload ran"
        assert not dialogs, f"{name}: a dialog fired: {dialogs}"
        assert elements == 0, f"{name}: {elements} script/img/svg/iframe elements came from data"


def test_the_check_is_live(tmp_path):
    """The same harness does see a script run when one is let through: the test can fail."""
    from playwright.sync_api import sync_playwright

    page_file = tmp_path / "raw.html"
    page_file.write_text(_commonmark(PAYLOADS[0]), encoding="utf-8")
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            page = browser.new_page()
            page.goto(page_file.as_uri())
            assert page.evaluate("window.__pwned") == 1
        finally:
            browser.close()
