"""Evidence KB's Datasette plugin: every feature arrives through a plugin hook.

* startup: find the KB database, load the FAISS index and query model once.
* prepare_connection: the kb_search(query, k) SQL function.
* register_routes: every page under one prefix (plugin setting `prefix`, default /-/kb): the home,
  search and search.json, certainty, and the pictures (routing.py); /-/search redirects there.
* asgi_wrapper: a length limit on every URL, before any view parses it; a 503 once the KB is rebuilt under the server.
* register_output_renderer: .bib, .ris and .apa on anything that cites.
* prepare_jinja2_environment: our templates answer only the KB's database-specific names (templates.py).
* extra_template_vars: data for the claim, source and author pages and, on Datasette 0.65, the home page.
* top_homepage (Datasette 1.0): the KB's home content above Datasette's own.
* render_cell: claim ids and source keys in views and SQL results link to their pages.
* extra_css_urls / extra_js_urls / menu_links: styling, copy buttons, navigation.

Templates and static files live beside this module (templates/, static/);
Datasette finds them because this is a package. See docs/datasette.md.
"""

from __future__ import annotations

import asyncio

from datasette import hookimpl
from datasette.utils import urlsafe_components
from markupsafe import Markup

from kb.charts.render import warm_up as warm_up_charts

from . import (
    cards,
    charts_pages,
    citations,
    compat,
    errors,
    explorer,
    finder,
    home,
    rebuilds,
    routing,
    sql_limits,
    templates,
)
from .kbdb import STATIC_NAME, find_kb_database, is_kb, is_kb_connection, kb_database, link_targets, state
from .limits import MAX_URL_PATH_BYTES, MAX_URL_QUERY_BYTES
from .links import Links, pages_prefix
from .renderers import output_renderers

EXPLORER_PAGES = {"claims": explorer.claim_page, "sources": explorer.source_page, "authors": explorer.author_page}


@hookimpl
def startup(datasette):
    async def inner():
        kb = state(datasette)
        pages_prefix(datasette)  # a bad `prefix` setting stops the server here, with its message
        kb.database = await find_kb_database(datasette)
        if kb.database is None:
            return
        db = kb_database(datasette)
        if db.path:
            kb.watch.start(db.path)
        kb.topics = await db.execute_fn(explorer.topic_options)
        kb.claim_ids, kb.source_keys, kb.views = await db.execute_fn(link_targets)
        if kb.templates is not None:
            kb.templates.names = templates.kb_template_names(db.name, await db.table_names() + await db.view_names())
        await finder.warm_up(datasette)
        citations.warm_in_background(db.path)
        # vl-convert's first chart starts its engine; pay that before a visitor does.
        await asyncio.to_thread(warm_up_charts)

    return inner


@hookimpl
def handle_exception(datasette, request, exception):
    return errors.response_for(request, exception)


errors.quiet_default_handler()


@hookimpl
def prepare_connection(conn, database, datasette):
    if database != "_internal":
        sql_limits.bound(conn)  # every visitor-facing connection, the KB's or not
    # Only the KB gets the function; other attached databases stay untouched.
    if database == "_internal" or not is_kb_connection(conn):
        return
    conn.create_function("kb_search", -1, finder.sql_kb_search(conn, datasette, database))


@hookimpl
def register_routes(datasette):
    return routing.routes(datasette)


@hookimpl
def prepare_jinja2_environment(env, datasette):
    state(datasette).templates = templates.install(env, datasette)


@hookimpl
def top_homepage(datasette, request):
    return home.top_of_homepage(datasette, request)


@hookimpl
def asgi_wrapper(datasette):
    """Refuse over-long URLs before any view parses them: a bound on every parameter, SQL included."""

    def wrap(app):
        async def bounded(scope, receive, send):
            if scope.get("type") == "http":
                query, path = scope.get("query_string") or b"", scope.get("raw_path") or b""
                if len(query) > MAX_URL_QUERY_BYTES or len(path) > MAX_URL_PATH_BYTES:
                    await _too_long(send)
                    return
                if state(datasette).watch.rebuilt():
                    await rebuilds.refuse(scope, send)
                    return
            await app(scope, receive, send)

        return bounded

    return wrap


async def _too_long(send) -> None:
    body = b"URI too long: parameters are limited to 16 KB (SQL included).\n"
    headers = [(b"content-type", b"text/plain; charset=utf-8"), (b"content-length", str(len(body)).encode())]
    await send({"type": "http.response.start", "status": 414, "headers": headers})
    await send({"type": "http.response.body", "body": body})


@hookimpl
def register_output_renderer(datasette):
    return output_renderers()


@hookimpl
def extra_template_vars(template, database, table, view_name, request, datasette):
    async def inner():
        db = kb_database(datasette)
        if db is None:
            return {}
        links = Links(datasette, db.name)
        extra = {"kb_database": db.name, "kb_search_url": links.search_page()}
        if view_name == "index" and not compat.HAS_TOP_HOOKS:
            extra.update(await home.home_context(datasette, request))
        elif view_name == "row" and is_kb(datasette, database) and table in EXPLORER_PAGES and request:
            pks = urlsafe_components(request.url_vars.get("pks", ""))
            if len(pks) == 1:
                page = EXPLORER_PAGES[table]
                extra["kb_page"] = await db.execute_fn(lambda conn: page(conn, pks[0], links))
                if table == "sources" and extra["kb_page"]:
                    extra["kb_source_graph"] = await charts_pages.source_graph_svg(db, pks[0], links)
        return extra

    return inner


# Columns whose value, in a view or query, is a claim id or a source key worth linking.
LINKED_SOURCE_COLUMNS = {"key", "source_key", "source_effect_source"}


@hookimpl
def render_cell(value, column, table, database, datasette):
    """Link claim ids and source keys to their pages in views and SQL results.

    Tables already link them (primary and foreign keys); views and queries
    have no keys, so without this a claim id there would be dead text.
    """
    if not isinstance(value, str) or not is_kb(datasette, database):
        return None
    kb = state(datasette)
    if table is not None and table not in kb.views:
        return None
    links = Links(datasette, database)
    if column in citations.CLAIM_ID_COLUMNS and value in kb.claim_ids:
        return Markup('<a href="{}">{}</a>').format(links.claim(value), value)
    if column in LINKED_SOURCE_COLUMNS and value in kb.source_keys:
        return Markup('<a href="{}">{}</a>').format(links.source(value), value)
    return None


@hookimpl
def extra_css_urls(datasette):
    return [datasette.urls.static_plugins(STATIC_NAME, "kb.css")]


@hookimpl
def extra_js_urls(datasette):
    return [{"url": datasette.urls.static_plugins(STATIC_NAME, "kb.js"), "module": True}]


@hookimpl
def menu_links(datasette):
    db = kb_database(datasette)
    if db is None:
        return []
    links = Links(datasette, db.name)
    return [
        {"href": links.home_page(), "label": "Evidence KB home"},
        {"href": links.search_page(), "label": "Search the evidence"},
        {"href": links.evidence_map(), "label": "Evidence map"},
        {"href": links.effects_page(), "label": "Effects"},
        {"href": links.graph_page(), "label": "Claim graph"},
        {"href": links.table("claims_with_citations"), "label": "Browse claims"},
        {"href": links.table("sources"), "label": "Browse sources"},
    ]
