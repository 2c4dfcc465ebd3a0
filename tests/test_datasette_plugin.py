"""The Datasette site through Datasette(...).client: every route, renderer and SQL function.

The instance is the one `kb serve` runs (kb.serve.make_datasette: immutable,
inspected, with metadata.json) over the real KB built with embeddings.
"""

from __future__ import annotations

import asyncio
import json
import sqlite3
import urllib.parse
from pathlib import Path

import bibtexparser
import pytest
import pytest_asyncio
import rispy
from click.testing import CliRunner

from kb.cite import format_apa, format_bibtex, format_ris, sources_by_key, sources_for_claims
from kb.cite.select import claims_by_id
from kb.serve import make_datasette

ROOT = Path(__file__).resolve().parent.parent
DIABETES_QUERY = "evidence for compassion in diabetes care"
pytestmark = pytest.mark.asyncio(loop_scope="module")


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def ds(built_db):
    datasette = make_datasette(built_db, ROOT / "metadata.json")
    await datasette.invoke_startup()
    return datasette


@pytest.fixture(scope="module")
def db(built_db):
    conn = sqlite3.connect(f"file:{built_db}?mode=ro", uri=True)
    conn.row_factory = sqlite3.Row
    yield conn
    conn.close()


def q(value: str) -> str:
    return urllib.parse.quote_plus(value)


def search_all_installed() -> bool:
    import importlib.util

    return importlib.util.find_spec("datasette_search_all") is not None


def facet_results(payload: dict) -> dict:
    """Facets by name: Datasette 1.0 nests them under "results" (beside "timed_out"), 0.65 does not."""
    found = payload["facet_results"]
    return found["results"] if "timed_out" in found else found


def diabetes_claims(db) -> list[sqlite3.Row]:
    return db.execute(
        "select * from claims where id in (select claim_id from claim_topics where topic_id = 'diabetes') order by rowid"
    ).fetchall()


# -- Serving configuration ----------------------------------------------------------------


async def test_served_immutable_with_inspected_counts_and_limits(ds, db):
    kb = ds.databases["kb"]
    assert not kb.is_mutable
    n_claims = db.execute("select count(*) from claims").fetchone()[0]
    assert n_claims > 0 and kb.cached_table_counts["claims"] == n_claims
    assert ds.setting("sql_time_limit_ms") == 1000
    response = await ds.client.get("/kb.json?sql=" + q("delete from claims"), follow_redirects=True)
    assert response.status_code == 400
    assert db.execute("select count(*) from claims").fetchone()[0] == n_claims


async def test_metadata_follows_a_database_with_another_name(built_db, tmp_path):
    import shutil

    from search.index import fingerprint_path_for, index_path_for

    other = tmp_path / "evidence.db"
    for source, target in (
        (built_db, other),
        (index_path_for(built_db), index_path_for(other)),
        (fingerprint_path_for(built_db), fingerprint_path_for(other)),
    ):
        shutil.copy2(source, target)
    renamed = make_datasette(other, ROOT / "metadata.json")
    await renamed.invoke_startup()
    claims = (await renamed.client.get("/evidence/claims.json?_size=1&_extra=facet_results")).json()
    assert "topics" in facet_results(claims)
    assert (await renamed.client.get("/evidence/semantic_search.json?query=diabetes")).status_code == 200
    page = (await renamed.client.get("/evidence/claims/recovery-vacations")).text
    assert 'href="/evidence/sources/sonnentag2017advances"' in page


async def test_sql_time_limit_stops_runaway_queries(built_db):
    fast = make_datasette(built_db, ROOT / "metadata.json", {"sql_time_limit_ms": 50})
    await fast.invoke_startup()
    sql = "with recursive c(x) as (select 1 union all select x + 1 from c where x < 100000000) select count(*) from c"
    response = await fast.client.get("/kb.json?sql=" + q(sql), follow_redirects=True)
    assert response.status_code == 400
    assert "too long" in response.json()["error"].lower() or "interrupted" in response.json()["error"].lower()


async def test_plugin_is_registered_with_its_hooks(ds):
    plugins = (await ds.client.get("/-/plugins.json")).json()
    ours = [p for p in plugins if p["name"] in ("evidence-kb", "evidence_kb")]
    assert ours, plugins
    for hook in ("startup", "prepare_connection", "register_routes", "register_output_renderer", "extra_template_vars"):
        assert hook in ours[0]["hooks"]
    assert ours[0]["templates"] and ours[0]["static"]
    assert (await ds.client.get("/-/static-plugins/evidence_kb/kb.js")).status_code == 200


# -- metadata.json ------------------------------------------------------------------------


async def test_metadata_describes_every_table_view_and_column(built_db):
    metadata = json.loads((ROOT / "metadata.json").read_text())
    assert metadata["title"] and metadata["description"] and metadata["license"] and metadata["source"]
    tables = metadata["databases"]["kb"]["tables"]
    conn = sqlite3.connect(built_db)
    names = [
        r[0]
        for r in conn.execute(
            "select name from sqlite_master where type in ('table', 'view') and name not like 'claims_fts%' "
            "and name not like 'sqlite_%'"
        )
    ]
    missing = []
    for name in names:
        if not tables.get(name, {}).get("description"):
            missing.append(name)
            continue
        described = tables[name].get("columns", {})
        missing += [f"{name}.{c[1]}" for c in conn.execute(f"pragma table_info('{name}')") if not described.get(c[1])]
    assert missing == []


async def test_metadata_served_with_facets_and_label_columns(ds):
    home = (await ds.client.get("/")).text
    assert "<title>Evidence KB" in home and "Data license:" in home and "About:" in home
    claims = (await ds.client.get("/kb/claims.json?_size=1&_extra=facet_results")).json()
    assert {"topics", "kind", "study_design", "effect_direction", "certainty"} <= set(facet_results(claims))
    topics = {f["value"]: f["count"] for f in facet_results(claims)["topics"]["results"]}
    assert topics["diabetes"] == 2
    links = (
        await ds.client.get("/kb/claim_sources.json?_labels=on&_shape=objects&source_key=hojat2011physicians")
    ).json()
    assert links["rows"][0]["source_key"]["label"] == "Physicians' empathy and clinical outcomes for diabetic patients"
    html = (await ds.client.get("/kb/claim_sources?source_key=hojat2011physicians")).text
    assert "Physicians&#39; empathy and clinical outcomes for diabetic patients" in html


@pytest.mark.parametrize(
    "name, params",
    [
        ("effect_sizes_by_topic", {"topic": "diabetes"}),
        ("claims_citing_source", {"source_key": "sonnentag2017advances"}),
        ("figures_differing_from_source", {}),
        ("sources_for_topic", {"topic": "recovery"}),
        ("semantic_search", {"query": DIABETES_QUERY}),
        ("works_by_author", {"name": "West"}),
    ],
)
async def test_canned_queries_run(ds, db, name, params):
    response = await ds.client.get(f"/kb/{name}.json?_shape=objects&" + urllib.parse.urlencode(params))
    assert response.status_code == 200, response.text
    rows = response.json()["rows"]
    assert rows, name
    if name == "effect_sizes_by_topic":
        assert {r["id"] for r in rows} == {r["id"] for r in diabetes_claims(db)}
    if name == "claims_citing_source":
        assert (
            len(rows)
            == db.execute(
                "select count(*) from claim_sources where source_key = ?", ["sonnentag2017advances"]
            ).fetchone()[0]
        )
    if name == "figures_differing_from_source":
        discrepant = db.execute("select id from claims where effect_status = 'discrepant'")
        assert {r["id"] for r in rows} == {r[0] for r in discrepant}
    if name == "semantic_search":
        assert rows[0]["id"].startswith("diabetes-")


# -- Home page ----------------------------------------------------------------------------


async def test_home_page_counts_search_box_and_topics(ds, db):
    response = await ds.client.get("/")
    assert response.status_code == 200
    html = response.text
    assert "Evidence KB: compassionate leadership" in html
    assert 'action="/-/kb/search"' in html and 'name="q"' in html
    n_claims = db.execute("select count(*) from claims").fetchone()[0]
    assert f"<strong>{n_claims}</strong> claims" in html
    for topic in db.execute("select id, label, n_claims from topics"):
        assert f'href="/kb/claims_with_citations?topics__arraycontains={topic["id"]}"' in html
    assert '>Diabetes</a> <span class="kb-count" title="claims on this topic">2</span>' in html
    assert "Semantic search inside SQL" in html  # canned queries are listed
    assert '<li><a href="/-/kb/search">Search the evidence</a></li>' in html  # menu_links
    assert "/-/static-plugins/evidence_kb/kb.css" in html and "/-/static-plugins/evidence_kb/kb.js" in html


# -- Search page and JSON -----------------------------------------------------------------


async def test_search_page_finds_the_diabetes_finding(ds, db):
    response = await ds.client.get("/-/kb/search?q=" + q(DIABETES_QUERY))
    assert response.status_code == 200
    html = response.text
    for claim in diabetes_claims(db):
        assert claim["statement"] in html
        assert f'href="/kb/claims/{claim["id"]}"' in html
        assert claim["citations"] in html
    # The copy button carries the claim with its in-text citation and the full reference.
    assert 'data-kb-copy="Among patients with diabetes' in html
    assert "Academic Medicine" in html.split('data-kb-copy="Among patients with diabetes', 1)[1].split('"', 1)[0]
    assert "low certainty" in html or "very low certainty" in html


async def test_search_page_without_query_shows_form_and_examples(ds):
    html = (await ds.client.get("/-/kb/search")).text
    assert '<form class="kb-search-form"' in html and "Try" in html
    assert 'option value="diabetes"' in html


async def test_search_json_is_the_kb_search_json_contract(ds, built_db):
    response = await ds.client.get(f"/-/kb/search.json?q={q(DIABETES_QUERY)}&k=5")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("application/json")
    from kb.cli import cli

    cli = CliRunner().invoke(cli, ["search", DIABETES_QUERY, "--db", str(built_db), "-k", "5", "--json"])
    assert cli.exit_code == 0, cli.output
    assert response.json() == json.loads(cli.output)
    first = response.json()[0]
    assert first["id"].startswith("diabetes-") and first["rank"] == 1
    assert {"id", "score", "statement", "quote", "effect", "certainty", "citations", "citation", "location"} <= set(
        first
    )


async def test_search_json_filters_mode_and_envelope(ds, db):
    rows = (await ds.client.get("/-/kb/search.json?q=compassion&k=50&topic=diabetes")).json()
    assert rows and all("diabetes" in r["topics"] for r in rows)
    rows = (await ds.client.get("/-/kb/search.json?q=leadership&kind=framework&mode=keyword")).json()
    assert rows and all(r["kind"] == "framework" for r in rows)
    rows = (await ds.client.get("/-/kb/search.json?q=compassion&has_effect=1&k=50")).json()
    assert rows and all(r["effect"] for r in rows)
    envelope = (await ds.client.get(f"/-/kb/search.json?q={q(DIABETES_QUERY)}&k=2&_envelope=1")).json()
    assert envelope["query"] == DIABETES_QUERY and envelope["k"] == 2 and len(envelope["results"]) == 2
    assert envelope["mode"] == "hybrid"


@pytest.mark.parametrize(
    "query, status, message",
    [
        ("", 400, "q is required"),
        ("q=" + "x" * 501, 400, "too long"),
        ("q=care&k=abc", 400, "whole number"),
        ("q=care&k=0", 400, "at least 1"),
        ("q=care&k=-3", 400, "at least 1"),
        ("q=care&mode=telepathy", 400, "mode must be"),
        ("q=care&topic=no-such-topic", 400, "unknown topic"),
        ("q=care&topic=" + "t" * 201, 400, "too long"),
        ("q=care&year_min=19x5", 400, "year"),
        ("q=care&" + "&".join(f"kind=k{i}" for i in range(21)), 400, "at most"),
        ("q=" + "a+" * 2100, 400, "too long"),
    ],
)
async def test_search_json_rejects_out_of_bounds_parameters(ds, query, status, message):
    response = await ds.client.get("/-/kb/search.json?" + query)
    assert response.status_code == status
    assert response.json()["ok"] is False
    assert message in response.json()["error"]


async def test_every_url_is_bounded(ds):
    sql = "select 1 -- " + "x" * 20_000
    response = await ds.client.get("/kb.json?sql=" + q(sql))
    assert response.status_code == 414
    response = await ds.client.get("/kb/claims/" + "x" * 3000)
    assert response.status_code == 414


async def test_k_is_bounded(ds, db):
    response = await ds.client.get("/-/kb/search.json?q=compassion&k=100000")
    assert response.status_code == 200
    assert len(response.json()) <= 100
    assert "k capped at 100" in json.loads(response.headers["x-kb-notices"])


@pytest.mark.parametrize("old, new", [("/-/search", "/-/kb/search"), ("/-/search.json", "/-/kb/search.json")])
async def test_old_search_urls_redirect_keeping_the_query(ds, old, new):
    if search_all_installed():
        pytest.skip("datasette-search-all serves /-/search here (tests/test_datasette_ecosystem.py)")
    query = "q=" + q(DIABETES_QUERY) + "&k=3&topic=diabetes"
    response = await ds.client.get(old + "?" + query)
    assert response.status_code == 302
    assert response.headers["location"] == new + "?" + query
    assert (await ds.client.get(old)).headers["location"] == new
    followed = await ds.client.get(old + "?" + query, follow_redirects=True)
    assert followed.status_code == 200 and DIABETES_QUERY in urllib.parse.unquote_plus(str(followed.url))


async def test_kb_home_page_lives_under_the_prefix(ds, db):
    for path in ("/-/kb", "/-/kb/"):
        response = await ds.client.get(path)
        assert response.status_code == 200, path
        html = response.text
        assert "<title>Evidence KB: compassionate leadership</title>" in html
        assert 'action="/-/kb/search"' in html and "Semantic search inside SQL" in html
        assert f"<strong>{db.execute('select count(*) from claims').fetchone()[0]}</strong> claims" in html
        assert 'href="/-/kb/topics/recovery"' in html and 'href="/kb"' in html
    assert '<li><a href="/-/kb">Evidence KB home</a></li>' in html  # menu_links


async def test_the_prefix_is_a_plugin_setting(built_db_no_embed, tmp_path):
    import yaml

    config = yaml.safe_load((ROOT / "datasette.yaml").read_text())
    config["plugins"]["evidence-kb"]["prefix"] = "/-/evidence/"
    (tmp_path / "datasette.yaml").write_text(yaml.safe_dump(config))
    moved = make_datasette(built_db_no_embed, ROOT / "metadata.json", config_path=tmp_path / "datasette.yaml")
    await moved.invoke_startup()
    page = await moved.client.get("/-/evidence/search?q=diabetes")
    assert page.status_code == 200 and "Among patients with diabetes" in page.text
    assert 'action="/-/evidence/search"' in page.text and 'href="/-/evidence/certainty#' in page.text
    assert (await moved.client.get("/-/evidence/search.json?q=diabetes")).json()[0]["id"].startswith("diabetes-")
    assert (await moved.client.get("/-/evidence/map")).status_code == 200
    assert (await moved.client.get("/-/kb/search?q=diabetes")).status_code == 404
    if not search_all_installed():
        assert (await moved.client.get("/-/search?q=x")).headers["location"] == "/-/evidence/search?q=x"
    home = (await moved.client.get("/-/evidence")).text
    assert 'href="/-/evidence/topics/recovery"' in home and 'href="/-/kb/' not in home

    import click

    from kb.serve import run_startup

    config["plugins"]["evidence-kb"]["prefix"] = "kb pages"
    (tmp_path / "datasette.yaml").write_text(yaml.safe_dump(config))
    # Datasette 0.65 builds its routes in the constructor, 1.0 at startup: either way, one clear line.
    with pytest.raises(click.ClickException, match="plugins.evidence-kb.prefix must be a path .* not 'kb pages'"):
        bad = make_datasette(built_db_no_embed, ROOT / "metadata.json", config_path=tmp_path / "datasette.yaml")
        await asyncio.to_thread(run_startup, bad)


async def test_full_text_search_filters_the_claims_view(ds, db):
    columns = [c[1] for c in db.execute("pragma table_info('claims_with_citations')")]
    if "claim_rowid" not in columns:
        pytest.skip("claims_with_citations has no claim_rowid yet (the ingest/schema.py patch of brief H3)")
    rows = (await ds.client.get("/kb/claims_with_citations.json?_search=diabetes&_shape=objects")).json()["rows"]
    expected = db.execute(
        "select c.id from claims c join claims_fts f on f.rowid = c.rowid where claims_fts match 'diabetes'"
    ).fetchall()
    assert rows and {r["id"] for r in rows} == {r[0] for r in expected}
    assert len(rows) < db.execute("select count(*) from claims").fetchone()[0]
    html = (await ds.client.get("/kb/claims_with_citations")).text
    assert 'name="_search"' in html  # Datasette shows its search box on the view


# -- kb_search() in SQL -------------------------------------------------------------------


async def test_kb_search_sql_function_documented_form(ds, db):
    sql = "select claims.* from json_each(kb_search('diabetes', 5)) j join claims on claims.id = j.value ->> 'id'"
    response = await ds.client.get("/kb.json?_shape=objects&sql=" + q(sql), follow_redirects=True)
    assert response.status_code == 200, response.text
    ids = [r["id"] for r in response.json()["rows"]]
    assert {c["id"] for c in diabetes_claims(db)} <= set(ids)
    assert len(ids) == 5


async def test_kb_search_returns_ranked_id_score_array(ds):
    sql = (
        f"select kb_search('{DIABETES_QUERY}', 3) as hits, kb_search('', 3) as empty, kb_search('care', 100000) as big"
    )
    row = (await ds.client.get("/kb.json?_shape=objects&sql=" + q(sql), follow_redirects=True)).json()["rows"][0]
    hits = json.loads(row["hits"])
    assert len(hits) == 3 and set(hits[0]) == {"id", "score", "match"}
    assert hits[0]["id"].startswith("diabetes-")
    assert [h["score"] for h in hits] == sorted((h["score"] for h in hits), reverse=True)
    assert json.loads(row["empty"]) == []
    assert len(json.loads(row["big"])) <= 100
    # The same ranking as the search API, and json_extract works as well as ->>.
    api = (await ds.client.get(f"/-/kb/search.json?q={q(DIABETES_QUERY)}&k=3")).json()
    assert [h["id"] for h in hits] == [r["id"] for r in api]
    sql = (
        f"select j.key as rank, json_extract(j.value, '$.id') as id from json_each(kb_search('{DIABETES_QUERY}', 3)) j "
        "order by j.key"
    )
    rows = (await ds.client.get("/kb.json?_shape=objects&sql=" + q(sql), follow_redirects=True)).json()["rows"]
    assert [r["id"] for r in rows] == [h["id"] for h in hits]


@pytest.mark.filterwarnings("ignore::pytest.PytestUnraisableExceptionWarning")
async def test_kb_search_rejects_overlong_queries(ds):
    sql = "select kb_search('" + "x" * 501 + "', 3)"
    response = await ds.client.get("/kb.json?sql=" + q(sql), follow_redirects=True)
    assert response.status_code == 400


# -- Renderers ----------------------------------------------------------------------------


def expected_sources(db, claim_rows) -> list[dict]:
    claims = claims_by_id(db, [c["id"] for c in claim_rows])
    return sources_for_claims(db, claims)


async def test_filtered_claims_table_links_to_citation_exports(ds):
    html = (await ds.client.get("/kb/claims?topics__arraycontains=diabetes")).text
    assert "Export the citations behind these rows" in html
    for extension in ("bib", "ris", "apa"):
        assert f'href="/kb/claims.{extension}?topics__arraycontains=diabetes' in html
    assert "_markup=markdown" in html
    # Tables with nothing to cite get no citation links.
    authors = (await ds.client.get("/kb/authors")).text
    assert "/kb/authors.bib" not in authors and "Export the citations" not in authors


async def test_topic_view_links_claims_and_exports_their_citations(ds, db):
    html = (await ds.client.get("/kb/claims_with_citations?topics__arraycontains=diabetes")).text
    for claim in diabetes_claims(db):
        assert f'<a href="/kb/claims/{claim["id"]}">{claim["id"]}</a>' in html  # render_cell links view rows
    assert 'href="/kb/claims_with_citations.bib?topics__arraycontains=diabetes' in html
    bib = await ds.client.get("/kb/claims_with_citations.bib?topics__arraycontains=diabetes&_size=max")
    assert bib.text == format_bibtex(expected_sources(db, diabetes_claims(db)))
    # In SQL results too, but only for values that really are claim ids or source keys.
    sql = (
        "select id, 'not-a-claim' as claim_id, key from claims, sources "
        "where claims.id = 'recovery-vacations' and sources.key = 'sonnentag2017advances'"
    )
    html = (await ds.client.get("/kb?sql=" + q(sql), follow_redirects=True)).text
    assert '<a href="/kb/claims/recovery-vacations">recovery-vacations</a>' in html
    assert '<a href="/kb/sources/sonnentag2017advances">sonnentag2017advances</a>' in html
    assert 'href="/kb/claims/not-a-claim"' not in html


async def test_bib_export_of_filtered_table_parses_and_matches_kb_cite(ds, db):
    response = await ds.client.get("/kb/claims.bib?topics__arraycontains=diabetes&_labels=on&_size=max")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("application/x-bibtex")
    library = bibtexparser.parse_string(response.text)
    assert not library.failed_blocks
    sources = expected_sources(db, diabetes_claims(db))
    assert [e.key for e in library.entries] == [s["key"] for s in sources]
    assert response.text == format_bibtex(sources)


async def test_ris_export_parses_with_a_ris_parser(ds, db):
    response = await ds.client.get("/kb/claims.ris?topics__arraycontains=diabetes")
    assert response.status_code == 200
    records = rispy.loads(response.text)
    sources = expected_sources(db, diabetes_claims(db))
    assert [r["id"] for r in records] == [s["key"] for s in sources]
    assert all(r["type_of_reference"] == "JOUR" and r["title"] for r in records)
    assert response.text == format_ris(sources)


async def test_apa_export_as_text_and_markdown(ds, db):
    sources = expected_sources(db, diabetes_claims(db))
    text = await ds.client.get("/kb/claims.apa?topics__arraycontains=diabetes")
    assert text.headers["content-type"].startswith("text/plain")
    assert text.text == format_apa(sources) and "Hojat, M." in text.text
    md = await ds.client.get("/kb/claims.apa?topics__arraycontains=diabetes&_markup=markdown")
    assert md.headers["content-type"].startswith("text/markdown")
    assert md.text == format_apa(sources, "markdown") and "*Academic Medicine*" in md.text


async def test_renderers_on_rows_views_link_tables_and_queries(ds, db):
    row = await ds.client.get("/kb/claims/homeless-ed-compassion-return-visits.bib")
    keys = [e.key for e in bibtexparser.parse_string(row.text).entries]
    claim = claims_by_id(db, ["homeless-ed-compassion-return-visits"])
    assert keys == [s["key"] for s in sources_for_claims(db, claim)]
    source = await ds.client.get("/kb/sources/sonnentag2017advances.ris")
    assert [r["id"] for r in rispy.loads(source.text)] == ["sonnentag2017advances"]
    # A link table exports exactly its rows' sources, not every source of their claims.
    links = await ds.client.get("/kb/claim_sources.bib?role=background&_size=max")
    background = [
        r[0]
        for r in db.execute("select distinct source_key from claim_sources where role = 'background' order by rowid")
    ]
    assert sorted(e.key for e in bibtexparser.parse_string(links.text).entries) == sorted(background)
    query = await ds.client.get("/kb/sources_for_topic.apa?topic=recovery")
    assert query.text == format_apa(sources_by_key(db, ["sonnentag2017advances"]))
    view = await ds.client.get("/kb/discrepancies.ris?_size=max")
    assert rispy.loads(view.text)
    sql = await ds.client.get(
        "/kb.bib?sql=" + q("select source_key from claim_sources where claim_id = 'recovery-vacations'"),
        follow_redirects=True,
    )
    assert [e.key for e in bibtexparser.parse_string(sql.text).entries] == ["sonnentag2017advances"]


async def test_renderer_on_rows_that_cite_nothing(ds):
    response = await ds.client.get("/kb/authors.bib")
    assert response.status_code == 200 and response.text == "" and response.headers["x-kb-sources"] == "0"
    response = await ds.client.get("/kb/slides.ris")
    assert response.status_code == 400 and "Nothing to cite" in response.text


# -- Citation explorer pages --------------------------------------------------------------


async def test_claim_page(ds, db):
    claim = db.execute("select * from claims where id = 'diabetes-compassion-blood-sugar-control'").fetchone()
    response = await ds.client.get("/kb/claims/diabetes-compassion-blood-sugar-control")
    assert response.status_code == 200
    html = response.text
    assert f'<h1 class="kb-statement">{claim["statement"]}</h1>' in html
    # Its sources in APA, with copy buttons and export links.
    assert "Hojat, M., Louis, D. Z." in html and "<i>Academic Medicine</i>" in html
    assert 'class="kb-copy" data-kb-copy="Hojat, M.' in html
    for extension in ("bib", "ris", "apa"):
        assert f'href="/kb/claims/diabetes-compassion-blood-sugar-control.{extension}"' in html
    # The verbatim quote, highlighted in the slide's text.
    assert "<mark>" + claim["quote"].replace("'", "&#39;") + "</mark>" in html
    assert "slide 4" in html
    # A figure whose source value was not seen says so.
    assert claim["effect_status"] == "unchecked"
    assert "The figure has not yet been checked against a source." in html
    # Related claims by embedding.
    assert "Related claims" in html and "Nearest neighbours by meaning" in html
    assert 'href="/kb/claims/diabetes-compassion-fewer-complications"' in html
    # Datasette's own row view stays available.
    assert "Every field of this row" in html and "Links from other tables" in html


async def test_claim_page_shows_a_discrepancy(ds, db):
    claim = db.execute("select * from claims where effect_status = 'discrepant' order by id limit 1").fetchone()
    html = (await ds.client.get(f"/kb/claims/{claim['id']}")).text
    assert "The deck and its source disagree" in html
    if claim["source_effect_text"]:
        assert claim["source_effect_text"][:40].replace("'", "&#39;").replace("&", "&amp;")[:30] in html.replace(
            "&#x27;", "&#39;"
        )


async def test_claim_page_value_chain_edges_in_and_out(ds, db):
    edge = db.execute("select from_claim, relation, to_claim from claim_relations limit 1").fetchone()
    out_html = (await ds.client.get(f"/kb/claims/{edge['from_claim']}")).text
    assert "From this claim" in out_html and f'href="/kb/claims/{edge["to_claim"]}"' in out_html
    in_html = (await ds.client.get(f"/kb/claims/{edge['to_claim']}")).text
    assert "Into this claim" in in_html and f'href="/kb/claims/{edge["from_claim"]}"' in in_html


async def test_source_page_lists_its_claims_authors_and_co_cited_sources(ds, db):
    html = (await ds.client.get("/kb/sources/west2022leader")).text
    claims = db.execute("select claim_id from claim_sources where source_key = 'west2022leader'").fetchall()
    assert claims
    for (claim_id,) in claims:
        assert f'href="/kb/claims/{claim_id}"' in html
    for author in db.execute(
        "select a.id, a.display from source_authors sa join authors a on a.id = sa.author_id "
        "where sa.source_key = 'west2022leader'"
    ):
        assert f'<a href="/kb/authors/{author["id"]}">{author["display"]}</a>' in html
    co = db.execute("""select distinct b.source_key from claim_sources a join claim_sources b
                       on a.claim_id = b.claim_id and b.source_key != a.source_key
                       where a.source_key = 'west2022leader'""").fetchall()
    assert co
    for (key,) in co:
        assert f'href="/kb/sources/{key}"' in html
    assert "APA 7 reference" in html and "Copy reference" in html


async def test_author_page_lists_works(ds, db):
    author = db.execute("select id, display from authors where slug like 'sonnentag%'").fetchone()
    html = (await ds.client.get(f"/kb/authors/{author['id']}")).text
    assert f"<h1>{author['display']}</h1>" in html
    assert 'href="/kb/sources/sonnentag2017advances"' in html and "Advances in recovery research" in html
    assert f'href="/kb/source_authors.bib?author_id={author["id"]}' in html
    works = await ds.client.get(f"/kb/source_authors.bib?author_id={author['id']}&_size=max")
    assert [e.key for e in bibtexparser.parse_string(works.text).entries] == ["sonnentag2017advances"]


async def test_other_row_pages_are_plain_datasette(ds):
    html = (await ds.client.get("/kb/topics/diabetes")).text
    assert "kb-claim" not in html and "Links from other tables" in html


async def test_unknown_rows_and_routes_are_404(ds):
    assert (await ds.client.get("/kb/claims/no-such-claim")).status_code == 404
    assert (await ds.client.get("/kb/sources/no-such-source.bib")).status_code == 404


async def test_kb_without_embeddings_falls_back_to_keyword_search(built_db_no_embed):
    plain = make_datasette(built_db_no_embed, ROOT / "metadata.json")
    await plain.invoke_startup()
    response = await plain.client.get("/-/kb/search.json?q=diabetes+blood+sugar&k=3")
    assert response.status_code == 200 and response.headers["x-kb-mode"] == "keyword"
    assert response.json()[0]["id"] == "diabetes-compassion-blood-sugar-control"
    assert "semantic search is unavailable" in response.headers["x-kb-notices"]
    semantic = await plain.client.get("/-/kb/search.json?q=diabetes&mode=semantic")
    assert semantic.status_code == 503 and "embeddings" in semantic.json()["error"]
    html = (await plain.client.get("/-/kb/search?q=diabetes")).text
    assert "Semantic search is unavailable here" in html and "Among patients with diabetes" in html
    sql = "select j.value ->> 'id' as id from json_each(kb_search('diabetes blood sugar', 3)) j order by j.key"
    rows = (await plain.client.get("/kb.json?_shape=array&sql=" + q(sql), follow_redirects=True)).json()
    assert rows[0] == {"id": "diabetes-compassion-blood-sugar-control"}
    claim = (await plain.client.get("/kb/claims/diabetes-compassion-blood-sugar-control")).text
    assert "Claims sharing the most topics" in claim


async def test_home_page_and_kb_stats_count_discrepancies_the_same_way(ds, built_db):
    import re as _re

    from kb.stats import collect_stats

    html = (await ds.client.get("/")).text
    shown = int(_re.search(r"<strong>([\d,]+)</strong> figures that differ from their source", html).group(1))
    assert shown == collect_stats(built_db)["effect_status"].get("discrepant", 0)
