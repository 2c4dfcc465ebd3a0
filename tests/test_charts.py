"""The charts package and the chart pages, through the real Datasette client on the real KB."""

from __future__ import annotations

import re
import sqlite3
import urllib.parse
from pathlib import Path

import pytest
import pytest_asyncio

from kb.charts import ChartError, MapFilters, queries, render_effects, render_map
from kb.serve import make_datasette

ROOT = Path(__file__).resolve().parent.parent
PNG_MAGIC = b"\x89PNG\r\n\x1a\n"

ASYNC = pytest.mark.asyncio(loop_scope="module")


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def ds(built_db_no_embed):
    datasette = make_datasette(built_db_no_embed, ROOT / "metadata.json")
    await datasette.invoke_startup()
    return datasette


@pytest.fixture(scope="module")
def db(built_db_no_embed):
    conn = sqlite3.connect(f"file:{built_db_no_embed}?mode=ro", uri=True)
    yield conn
    conn.close()


def _independent_cells(db, filters: MapFilters) -> dict[tuple[str, str], set[str]]:
    """The map's cells worked out in Python from the topic links, to check the SQL against."""
    from kb.charts.axes import EXPOSURE_TOPICS, OTHER_EXPOSURE, OTHER_OUTCOME, OUTCOME_TOPICS

    cells: dict[tuple[str, str], set[str]] = {}
    for claim_id, kind, design, year in db.execute(
        "select id, kind, study_design, year from claims where intervention is not null or outcome is not null"
    ):
        if filters.kind and kind != filters.kind or filters.study_design and design != filters.study_design:
            continue
        if filters.year_min and (year is None or year < int(filters.year_min)):
            continue
        topics = {r[0] for r in db.execute("select topic_id from claim_topics where claim_id = ?", [claim_id])}
        exposures = [t for t in EXPOSURE_TOPICS if t in topics] or [OTHER_EXPOSURE]
        outcomes = [t for t in OUTCOME_TOPICS if t in topics] or [OTHER_OUTCOME]
        for e in exposures:
            for o in outcomes:
                cells.setdefault((e, o), set()).add(claim_id)
    return cells


@pytest.mark.parametrize("filters", [MapFilters(), MapFilters(kind="finding"), MapFilters(year_min="2010")])
def test_map_counts_equal_the_topic_links(db, filters):
    counted: dict[tuple[str, str], int] = {}
    for row in queries.map_counts(db, filters):
        counted[(row["exposure"], row["outcome"])] = counted.get((row["exposure"], row["outcome"]), 0) + row["n_claims"]
    expected = {cell: len(ids) for cell, ids in _independent_cells(db, filters).items()}
    assert counted == expected and counted
    for (exposure, outcome), ids in _independent_cells(db, filters).items():
        assert set(queries.cell_claim_ids(db, exposure, outcome, filters)) == ids


@ASYNC
async def test_map_page_counts_equal_the_sql_it_links(ds, db):
    html = (await ds.client.get("/-/kb/map")).text
    assert "<svg" in html and "mark-symbol" in html
    sql_link = re.search(r'<a href="([^"]+)">the SQL behind this map</a>', html).group(1).replace("&amp;", "&")
    # The linked Datasette query, run as JSON, to the last row.
    data = (await ds.client.get(sql_link.replace("?", ".json?", 1) + "&_shape=objects&_size=max")).json()
    total = sum(r["n_claims"] for r in data["rows"])
    assert total == sum(r["n_claims"] for r in queries.map_counts(db))
    n_cells = len({(r["exposure"], r["outcome"]) for r in data["rows"]})
    assert f"in {n_cells} cell" in html
    # Every cell of the grid, empty ones included, links to its claims.
    rows, cols = queries.map_axes(db)
    assert html.count("#kb-cell") >= len(rows) * len(cols)


@ASYNC
async def test_map_cell_opens_its_claims_as_cards(ds, db):
    exposure, outcome = "recovery", "staff-wellbeing"
    ids = queries.cell_claim_ids(db, exposure, outcome)
    assert ids, "the curated KB maps recovery claims to staff wellbeing"
    html = (await ds.client.get("/-/kb/map?" + urllib.parse.urlencode({"exposure": exposure, "outcome": outcome}))).text
    assert html.count('class="kb-result kb-card"') == len(ids)
    for claim_id in ids:
        assert f'data-claim-id="{claim_id}"' in html
    assert "data-kb-copy=" in html and "certainty:" in html


@ASYNC
async def test_map_filters_and_bad_input(ds):
    finding = (await ds.client.get("/-/kb/map?kind=finding")).text
    assert '<option value="finding" selected>' in finding
    bad = await ds.client.get("/-/kb/map?year_min=abc")
    assert bad.status_code == 400 and "must be a year" in bad.text and "Traceback" not in bad.text
    empty = (await ds.client.get("/-/kb/map?year_min=2099")).text
    assert "0 claims in 0 cells" in empty and "<svg" in empty  # the grid of gaps still draws


@ASYNC
async def test_effects_page(ds, db):
    html = (await ds.client.get("/-/kb/effects")).text
    n_effects = len(queries.effect_rows(db))
    assert n_effects and "<svg" in html and "mark-text" in html
    assert html.count("<tr><td>") == n_effects
    if not queries.forest_rows(db):
        assert "there is no forest plot" in html
    discrepant = db.execute(
        "select count(*) from claims where effect_status = 'discrepant' and effect_metric like '%percent%' and source_effect_metric like '%percent%'"
    ).fetchone()[0]
    if discrepant:
        assert 'stroke="#c0392b"' in html  # the red line joining deck and source


@ASYNC
async def test_graph_page_links_every_node(ds, db):
    html = (await ds.client.get("/-/kb/graph")).text
    ids = {
        r[0] for r in db.execute("select from_claim from claim_relations union select to_claim from claim_relations")
    }
    assert "<svg" in html
    for claim_id in ids:
        assert f'href="/kb/claims/{claim_id}"' in html
    assert "Leadership" in html and "leads to" in html


@ASYNC
async def test_topic_page_and_home_links(ds, db):
    home = (await ds.client.get("/")).text
    assert 'href="/-/kb/topics/recovery"' in home and 'href="/-/kb/map"' in home
    html = (await ds.client.get("/-/kb/topics/recovery")).text
    n = db.execute("select count(*) from claim_topics where topic_id = 'recovery'").fetchone()[0]
    assert html.count('class="kb-result kb-card"') == n
    assert 'href="/kb/claims_with_citations?topics__arraycontains=recovery"' in html
    assert "<svg" in html
    missing = await ds.client.get("/-/kb/topics/no-such-topic")
    assert missing.status_code == 404


@ASYNC
async def test_source_page_has_its_graph(ds, db):
    key = db.execute("select source_key from claim_sources group by source_key order by count(*) desc").fetchone()[0]
    html = (await ds.client.get(f"/kb/sources/{key}")).text
    assert "Source, claims and authors" in html and "kb-source-graph" in html


def test_render_map_and_effects_write_png_and_svg(built_db_no_embed, tmp_path):
    png = render_map(built_db_no_embed, tmp_path / "map.png")
    data = png.read_bytes()
    assert data.startswith(PNG_MAGIC) and len(data) > 10_000
    width, height = int.from_bytes(data[16:20], "big"), int.from_bytes(data[20:24], "big")
    assert width > 400 and height > 400
    svg = render_map(built_db_no_embed, tmp_path / "map.svg", kind="finding").read_text()
    assert svg.startswith("<svg") and "vega.github.io" not in svg
    assert render_effects(built_db_no_embed, tmp_path / "effects.png").read_bytes().startswith(PNG_MAGIC)
    with pytest.raises(ChartError, match="svg or .png"):
        render_map(built_db_no_embed, tmp_path / "map.pdf")
    with pytest.raises(ChartError, match="unknown map filter"):
        render_map(built_db_no_embed, tmp_path / "map.png", colour="red")
    with pytest.raises(ChartError, match="no such database"):
        render_map(tmp_path / "missing.db", tmp_path / "map.png")


def test_kb_map_and_effects_write_files_that_open(built_db, tmp_path):
    from click.testing import CliRunner

    from kb.cli import cli

    runner = CliRunner()
    png = tmp_path / "map.png"
    result = runner.invoke(cli, ["map", "--db", str(built_db), "-o", str(png)])
    assert result.exit_code == 0, result.output
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and png.stat().st_size > 1000
    svg = tmp_path / "effects.svg"
    result = runner.invoke(cli, ["effects", "--db", str(built_db), "-o", str(svg)])
    assert result.exit_code == 0, result.output
    assert svg.read_text().lstrip().startswith("<svg")
    bad = runner.invoke(cli, ["map", "--db", str(built_db), "-o", str(tmp_path / "map.gif")])
    assert bad.exit_code == 1 and "Traceback" not in bad.output
    bad_year = runner.invoke(cli, ["map", "--db", str(built_db), "-o", str(png), "--year-min", "soon"])
    assert bad_year.exit_code == 1 and "year" in bad_year.output


def test_map_counts_from_claim_rows_equal_the_sql_on_the_whole_kb(db):
    """The PPTX map counts the rows it was handed (axes.cells_of); on every claim it must agree with the page."""
    db.row_factory = sqlite3.Row
    try:
        claims = [dict(r) for r in db.execute("select * from claims")]
    finally:
        db.row_factory = None
    from_rows = queries.map_counts_for_claims(claims)
    assert from_rows == queries.map_counts(db) and from_rows
    mapped = {c["id"] for c in claims if c["intervention"] is not None or c["outcome"] is not None}
    from kb.charts.axes import cells_of

    assert {c["id"] for c in claims if cells_of(c)} == mapped


def test_selection_map_draws_only_the_cells_its_claims_occupy(db):
    from kb.charts import slides

    db.row_factory = sqlite3.Row
    try:
        claims = [dict(r) for r in db.execute("select * from claims where topics like '%recovery%'")]
        unmapped = [dict(r) for r in db.execute("select * from claims where intervention is null and outcome is null")]
    finally:
        db.row_factory = None
    assert claims and unmapped
    chosen = slides.selection_map(claims, queries.topic_labels(db))
    drawn = {(r["exposure"], r["outcome"]) for r in chosen.spec["layer"][0]["data"]["values"]}
    placed = {(chosen.labels[r["exposure"]], chosen.labels[r["outcome"]]) for r in chosen.counts}
    assert placed <= {(e, o.replace("\n", " ")) for e, o in drawn} and "Recovery from work" in {e for e, _ in drawn}
    assert chosen.png().startswith(PNG_MAGIC)
    assert slides.selection_map(unmapped) is None
