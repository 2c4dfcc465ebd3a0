"""The KB's home content, shown in three places that need the same data.

<prefix>/ always; on Datasette 1.0 also at the top of / (top_homepage); on 0.65 as / itself when
no other plugin claims index.html (templates.py).
"""

from __future__ import annotations

from datasette.utils.asgi import Response
from markupsafe import Markup

from . import charts_pages, compat, explorer
from .kbdb import kb_database
from .links import Links


async def home_context(datasette, request) -> dict:
    """kb_home (counts, topics, kinds, documents), kb_nav and kb_queries; {} when no KB is attached."""
    db = kb_database(datasette)
    if db is None:
        return {}
    links = Links(datasette, db.name)
    home = await db.execute_fn(lambda conn: explorer.home(conn, links))
    # Leaders land on the topic's page of cards; the filtered table (topic.url) stays beside it.
    for topic in home["topics"]:
        topic["page_url"] = links.topic_page(topic["id"])
    queries = await compat.canned_queries(datasette, db.name, request.actor if request else None)
    return {
        "kb_database": db.name,
        "kb_search_url": links.search_page(),
        "kb_home": home,
        "kb_nav": charts_pages.chart_nav(links),
        "kb_queries": [{**q, "title": q["title"] or q["name"], "url": links.query(q["name"])} for q in queries],
    }


async def home_page(datasette, request) -> Response:
    """<prefix>/: the KB's home, whoever owns /."""
    context = await home_context(datasette, request)
    if not context:
        return Response.text("No Evidence KB database is attached.", status=404)
    context["metadata"] = await compat.instance_metadata(datasette)
    html = await datasette.render_template("kb_home_page.html", context, request=request, view_name="kb_home")
    return Response.html(html)


async def top_of_homepage(datasette, request) -> Markup | str:
    """Datasette 1.0's top_homepage: our content above its list of databases (it prints title and description)."""
    context = await home_context(datasette, request)
    if not context:
        return ""
    context["kb_top"] = True
    return Markup(await datasette.render_template("_kb_home.html", context, request=request))
