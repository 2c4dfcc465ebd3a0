"""The real thing: `kb serve` on a free loopback port, fetched over HTTP and driven in Chromium."""

from __future__ import annotations

import importlib.util
import json
import socket
import sqlite3
import urllib.parse
from pathlib import Path

import bibtexparser
import httpx
import pytest
import rispy
from live_server import kb_serve

ROOT = Path(__file__).resolve().parent.parent
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
DIABETES_QUERY = "evidence for compassion in diabetes care"
DIABETES_CLAIM = "diabetes-compassion-blood-sugar-control"


@pytest.fixture(scope="module")
def server(built_db):
    """`kb serve` as a user runs it; yields its base URL and the lines it printed."""
    with kb_serve(built_db) as running:
        yield running


@pytest.fixture(scope="module")
def expected(built_db) -> sqlite3.Row:
    conn = sqlite3.connect(f"file:{built_db}?mode=ro", uri=True)
    conn.row_factory = sqlite3.Row
    row = conn.execute("select id, statement, citations from claims where id = ?", [DIABETES_CLAIM]).fetchone()
    conn.close()
    assert row["citations"], "the diabetes finding should cite its source"
    return row


@pytest.mark.server
def test_kb_serve_over_http(server, expected):
    base, lines = server
    assert any(f"{base}/" in line for line in lines), lines  # the URL is printed
    assert any(f"(search: {base}/-/kb/search)" in line for line in lines), lines  # the page itself, no redirect
    with httpx.Client(base_url=base, timeout=30) as http:
        home = http.get("/")
        assert home.status_code == 200 and "Evidence KB" in home.text
        page = http.get("/-/kb/search", params={"q": DIABETES_QUERY})
        assert expected["statement"] in page.text and expected["citations"] in page.text
        results = http.get("/-/kb/search.json", params={"q": DIABETES_QUERY, "k": 5}).json()
        if importlib.util.find_spec("datasette_search_all") is None:  # else /-/search is search-all's
            moved = http.get("/-/search.json?q=diabetes&k=5")  # the old URL, redirected with its query
            assert moved.status_code == 302 and moved.headers["location"] == "/-/kb/search.json?q=diabetes&k=5"
        assert isinstance(results, list) and results[0]["id"].startswith("diabetes-")
        assert {"id", "rank", "score", "statement", "citation", "citations", "effect", "certainty"} <= set(results[0])
        sql = "select claims.id from json_each(kb_search('diabetes', 5)) j join claims on claims.id = j.value ->> 'id'"
        rows = http.get("/kb.json", params={"sql": sql, "_shape": "array"}, follow_redirects=True).json()
        assert DIABETES_CLAIM in [r["id"] for r in rows]
        bib = http.get("/kb/claims.bib", params={"topics__arraycontains": "diabetes", "_size": "max"})
        library = bibtexparser.parse_string(bib.text)
        assert library.entries and not library.failed_blocks
        ris = rispy.loads(http.get("/kb/claims.ris", params={"topics__arraycontains": "diabetes"}).text)
        assert ris and all(r["title"] for r in ris)
        apa = http.get("/kb/claims.apa", params={"topics__arraycontains": "diabetes"})
        assert apa.headers["content-type"].startswith("text/plain") and "(2011)" in apa.text
        source = http.get("/kb/sources/sonnentag2017advances").text
        assert 'href="/kb/claims/recovery-vacations"' in source
        hostile = http.get("/-/kb/search", params={"q": '<script>alert(1)</script>"><img src=x onerror=alert(2)>'}).text
        assert "<script>alert(1)" not in hostile and "<img src=x onerror" not in hostile


@pytest.mark.server
def test_kb_serve_with_two_workers_answers_from_each(built_db):
    """--workers N: each uvicorn worker starts the plugin at boot (ASGI lifespan) and serves search."""
    with kb_serve(built_db, "--workers", "2") as (base, lines):
        with httpx.Client(base_url=base, timeout=60) as http:
            # Different k, so no answer comes from the other worker's cache of an earlier one.
            answers = [http.get("/-/kb/search.json", params={"q": DIABETES_QUERY, "k": k}) for k in range(3, 11)]
    assert all(r.status_code == 200 for r in answers), [r.status_code for r in answers]
    assert all(DIABETES_CLAIM in [hit["id"] for hit in r.json()[:3]] for r in answers)
    assert "Traceback" not in "".join(lines), "".join(lines)


@pytest.mark.server
def test_kb_serve_listens_on_loopback_only(server):
    base, _ = server
    port = urllib.parse.urlparse(base).port
    # The address of the outward interface: a UDP "connect" picks a route and sends nothing.
    probe = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    try:
        probe.connect(("10.255.255.255", 1))
        external = probe.getsockname()[0]
    except OSError:
        external = None
    finally:
        probe.close()
    if not external or external.startswith("127."):
        pytest.skip("this machine has no non-loopback IPv4 address to try")
    with pytest.raises(OSError):
        socket.create_connection((external, port), timeout=2).close()


def test_kb_serve_refuses_a_missing_database_and_a_busy_port(built_db, tmp_path):
    from click.testing import CliRunner

    from kb.cli import cli

    missing = CliRunner().invoke(cli, ["serve", "--db", str(tmp_path / "nope.db")])
    assert missing.exit_code == 1 and "not found" in missing.output and "kb build" in missing.output
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        result = CliRunner().invoke(cli, ["serve", "--db", str(built_db), "--port", str(busy.getsockname()[1])])
    assert result.exit_code == 1 and "already in use" in result.output


@pytest.mark.browser
def test_search_in_a_real_browser(server, expected, tmp_path):
    if not Path(CHROMIUM).exists():
        pytest.skip(f"{CHROMIUM} is not installed (apt-get install -y chromium; .ci/run does it)")
    from playwright.sync_api import sync_playwright

    base, _ = server
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            context = browser.new_context(viewport={"width": 1200, "height": 1400})
            context.grant_permissions(["clipboard-read", "clipboard-write"], origin=base)
            page = context.new_page()
            dialogs: list[str] = []
            page.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))
            errors: list[str] = []
            page.on("pageerror", lambda exc: errors.append(str(exc)))

            page.goto(base + "/-/kb/search")
            page.fill("#kb-q", DIABETES_QUERY)
            page.press("#kb-q", "Enter")
            page.wait_for_selector(".kb-result")
            assert urllib.parse.parse_qs(urllib.parse.urlparse(page.url).query)["q"] == [DIABETES_QUERY]
            result = page.locator(f'.kb-result[data-claim-id="{DIABETES_CLAIM}"]')
            assert result.count() == 1
            assert expected["statement"] in result.inner_text()
            assert expected["citations"] in result.inner_text()
            page.screenshot(path=str(tmp_path / "search.png"), full_page=True)
            assert (tmp_path / "search.png").stat().st_size > 10_000

            # "Copy citation" puts the claim, its in-text citation and its reference on the clipboard.
            result.locator("button.kb-copy").click()
            page.wait_for_function("document.querySelector('.kb-copied') !== null")
            copied = page.evaluate("navigator.clipboard.readText()")
            assert copied.startswith(expected["statement"].rstrip("."))
            assert "Academic Medicine" in copied

            # The result links to the claim's page, with its quote highlighted.
            result.locator(f'a[href="/kb/claims/{DIABETES_CLAIM}"]').first.click()
            page.wait_for_selector("mark")
            assert page.locator("h1.kb-statement").inner_text() == expected["statement"]
            page.screenshot(path=str(tmp_path / "claim.png"), full_page=True)

            # Hostile input stays text: no script runs, no dialog opens.
            hostile = '<script>alert(1)</script>"><img src=x onerror=alert(2)>'
            page.goto(base + "/-/kb/search?" + urllib.parse.urlencode({"q": hostile}))
            page.wait_for_load_state("load")
            assert dialogs == [] and errors == []
            assert page.input_value("#kb-q").startswith("<script>alert(1)</script>")
        finally:
            browser.close()
    print(json.dumps({"screenshots": [str(tmp_path / "search.png"), str(tmp_path / "claim.png")]}))
