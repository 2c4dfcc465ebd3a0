"""The chart and topic pages: <prefix>/map, /effects, /graph, /topics/<id> (prefix /-/kb by default).

Charts are Vega-Lite specs (kb.charts) rendered to SVG on the server by
vl-convert and inlined, so the browser loads no chart library and nothing
outside this server. Each page links the SQL its chart was drawn from.
"""

from __future__ import annotations

import asyncio

from datasette.utils.asgi import Response
from markupsafe import Markup

from kb import charts
from kb.charts import ChartError, MapFilters, axes, queries, specs

from .cards import claim_cards
from .kbdb import kb_database
from .links import Links


def routes(prefix_re: str) -> list[tuple[str, object]]:
    """The pages' routes; prefix_re is the escaped prefix, anchored."""
    return [
        (prefix_re + r"/map$", map_page),
        (prefix_re + r"/effects$", effects_page),
        (prefix_re + r"/graph$", graph_page),
        (prefix_re + r"/topics/(?P<topic_id>[^/]{1,200})$", topic_page),
    ]


async def _svg(spec: dict) -> Markup:
    # vl-convert escapes every text and attribute it writes, so the SVG is markup-safe; it runs in a
    # thread because a first conversion takes a few hundred milliseconds.
    return Markup(await asyncio.to_thread(charts.to_svg, spec))


async def _render(datasette, request, template: str, context: dict, status: int = 200) -> Response:
    db = kb_database(datasette)
    if db is not None:
        context = {**context, "kb_nav": chart_nav(Links(datasette, db.name))}
    html = await datasette.render_template(template, context, request=request, view_name=template.removesuffix(".html"))
    return Response.html(html, status=status)


def chart_nav(links) -> list[dict]:
    """The pictures' navigation, on every chart page and in the menu."""
    return [
        {"label": "Evidence map", "url": links.evidence_map()},
        {"label": "Effects", "url": links.effects_page()},
        {"label": "Claim graph", "url": links.graph_page()},
        {"label": "Search", "url": links.search_page()},
    ]


def _no_kb() -> Response:
    return Response.text("No Evidence KB database is attached.", status=404)


# -- Evidence map -------------------------------------------------------------------------


async def map_page(datasette, request) -> Response:
    db = kb_database(datasette)
    if db is None:
        return _no_kb()
    links = Links(datasette, db.name)
    try:
        filters = MapFilters.from_mapping(request.args)
    except ChartError as exc:
        return await _render(datasette, request, "kb_map.html", {"error": str(exc), "kb_database": db.name}, 400)
    exposure, outcome = (request.args.get("exposure") or "")[:200], (request.args.get("outcome") or "")[:200]
    data = await db.execute_fn(lambda conn: map_data(conn, filters, exposure, outcome, links))
    data["svg"] = await _svg(data.pop("spec"))
    return await _render(datasette, request, "kb_map.html", data)


def map_data(conn, filters: MapFilters, exposure: str, outcome: str, links) -> dict:
    """Everything the map page shows; the bubbles, the cell's cards and the SQL link read one query."""
    active = filters.active()
    spec = charts.map_spec(conn, filters, cell_url=lambda e, o: links.map_cell(e, o, active))
    labels = queries.topic_labels(conn)
    counts = queries.map_counts(conn, filters)
    cell = None
    if exposure and outcome:
        ids = queries.cell_claim_ids(conn, exposure, outcome, filters)
        cell = {
            "exposure": labels.get(exposure, exposure),
            "outcome": labels.get(outcome, outcome),
            "cards": claim_cards(conn, ids, links),
            "sql_url": links.sql(
                queries.MAP_CELL_CLAIMS_SQL, {**filters.params(), "exposure": exposure, "outcome": outcome}
            ),
        }
    options = queries.filter_options(conn)
    return {
        "spec": spec,
        "filters": filters.params(),
        "options": options,
        "cell": cell,
        "n_claims": queries.mapped_claim_count(conn, filters),
        "n_cells": len({(r["exposure"], r["outcome"]) for r in counts}),
        "sql_url": links.sql(queries.MAP_COUNTS_SQL, filters.params()),
        "unplaced": [labels.get(t, t) for t in queries.unplaced_topics(conn)],
        "reset_url": links.evidence_map(),
        "certainty_words": axes.CERTAINTY_WORDS,
    }


# -- Effects ------------------------------------------------------------------------------


async def effects_page(datasette, request) -> Response:
    db = kb_database(datasette)
    if db is None:
        return _no_kb()
    links = Links(datasette, db.name)

    def gather(conn) -> dict:
        rows = queries.effect_rows(conn)
        forest_rows = queries.forest_rows(conn)
        forest_sql = queries.forest_sql(conn)
        for r in rows:
            r["url"] = links.claim(r["id"])
        return {
            "rows": rows,
            "effects_spec": specs.effect_direction(rows, links.claim) if rows else None,
            "forest_spec": specs.forest(forest_rows, links.claim) if forest_rows else None,
            "n_forest": len(forest_rows),
            "has_intervals": forest_sql is not None,
            "sql_url": links.sql(queries.EFFECTS_SQL),
            "forest_sql_url": links.sql(forest_sql) if forest_sql else None,
        }

    data = await db.execute_fn(gather)
    data["effects_svg"] = await _svg(data.pop("effects_spec")) if data["effects_spec"] else None
    data["forest_svg"] = await _svg(data.pop("forest_spec")) if data["forest_spec"] else None
    data["kb_database"] = db.name
    return await _render(datasette, request, "kb_effects.html", data)


# -- Claim graph --------------------------------------------------------------------------


async def graph_page(datasette, request) -> Response:
    db = kb_database(datasette)
    if db is None:
        return _no_kb()
    links = Links(datasette, db.name)

    def gather(conn) -> dict:
        nodes, edges = queries.relation_graph(conn)
        by_id = {n["id"]: n for n in nodes}
        listed = [
            {
                **e,
                "from_statement": by_id[e["from_claim"]]["statement"],
                "to_statement": by_id[e["to_claim"]]["statement"],
                "from_url": links.claim(e["from_claim"]),
                "to_url": links.claim(e["to_claim"]),
                "relation_label": e["relation"].replace("_", " "),
            }
            for e in edges
            if e["from_claim"] in by_id and e["to_claim"] in by_id
        ]
        return {
            "spec": specs.value_chain(nodes, edges, links.claim) if nodes else None,
            "edges": listed,
            "layers": axes.layer_names(),
            "sql_url": links.table("value_chain"),
        }

    data = await db.execute_fn(gather)
    spec = data.pop("spec")
    data["svg"] = await _svg(spec) if spec else None
    data["kb_database"] = db.name
    return await _render(datasette, request, "kb_graph.html", data)


async def source_graph_svg(db, key: str, links) -> Markup | None:
    """The small source–claim–author graph on a source page."""

    def url_for(node: dict) -> str:
        kind = node["kind"]
        return (
            links.author(node["ref"])
            if kind == "author"
            else (links.claim(node["ref"]) if kind == "claim" else links.source(node["ref"]))
        )

    nodes, edges = await db.execute_fn(lambda conn: queries.source_graph(conn, key))
    if len(nodes) < 2:
        return None
    return await _svg(specs.source_graph(nodes, edges, url_for))


# -- Topic pages --------------------------------------------------------------------------


async def topic_page(datasette, request) -> Response:
    db = kb_database(datasette)
    if db is None:
        return _no_kb()
    links = Links(datasette, db.name)
    topic_id = request.url_vars["topic_id"]

    def gather(conn) -> dict | None:
        topic = conn.execute("select id, label, description, n_claims from topics where id = ?", [topic_id]).fetchone()
        if topic is None:
            return None
        ids = [
            r[0]
            for r in conn.execute(
                "select c.id from claim_topics ct join claims c on c.id = ct.claim_id where ct.topic_id = ? "
                "order by c.kind = 'finding' desc, c.document_id, c.char_start",
                [topic_id],
            )
        ]
        filters = MapFilters(topic=topic_id)
        return {
            "topic": {"id": topic[0], "label": topic[1] or topic[0], "description": topic[2], "n_claims": topic[3]},
            "cards": claim_cards(conn, ids, links),
            "spec": charts.map_spec(conn, filters, cell_url=lambda e, o: links.map_cell(e, o, {"topic": topic_id})),
            "on_map": bool(queries.map_counts(conn, filters)),
            "map_url": links.evidence_map(topic=topic_id),
            "sql_url": links.topic_claims(topic_id),
            "search_url": links.search_page(topic=topic_id),
        }

    data = await db.execute_fn(gather)
    if data is None:
        return await _render(
            datasette, request, "kb_topic.html", {"error": f"No topic {topic_id!r}.", "kb_database": db.name}, 404
        )
    data["svg"] = await _svg(data.pop("spec")) if data["on_map"] else None
    data["kb_database"] = db.name
    return await _render(datasette, request, "kb_topic.html", data)
