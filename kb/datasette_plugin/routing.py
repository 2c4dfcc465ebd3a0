"""The plugin's routes: its pages under one prefix, and redirects from where search used to be.

Search was first served at /-/search and /-/search.json; those redirect (302, query string kept)
to <prefix>/search(.json) - unless another plugin routes /-/search itself (datasette-search-all
does). Datasette tries plugin routes in hook order, which follows installation order, so if both
registered /-/search which page answered would be an accident: the other plugin keeps the path.
"""

from __future__ import annotations

import re

from datasette.utils.asgi import Response

from . import charts_pages, finder_views, home
from .links import Links, pages_prefix

# old path -> the Links method naming where it went
LEGACY_PATHS = {"/-/search": "search_page", "/-/search.json": "search_json"}


def routes(datasette) -> list[tuple[str, object]]:
    prefix = "^" + re.escape(pages_prefix(datasette))
    own = [
        (prefix + r"/?$", home.home_page),
        (prefix + r"/search\.json$", finder_views.search_json),
        (prefix + r"/search$", finder_views.search_page),
        (prefix + r"/certainty$", finder_views.certainty_page),
        *charts_pages.routes(prefix),
    ]
    claimed = claimed_by_other_plugins(datasette, LEGACY_PATHS)
    redirects = [
        ("^" + re.escape(old) + "$", _redirect(method)) for old, method in LEGACY_PATHS.items() if old not in claimed
    ]
    return own + redirects


def claimed_by_other_plugins(datasette, paths) -> set[str]:
    """Which of paths another plugin's register_routes would answer (Datasette matches with re.match)."""
    from datasette.plugins import pm

    claimed = set()
    for impl in pm.hook.register_routes.get_hookimpls():
        if impl.function.__module__ == __package__:
            continue
        try:
            found = impl.function(**{name: datasette for name in impl.argnames if name == "datasette"}) or []
        except Exception:  # noqa: BLE001 - someone else's bug; Datasette will report it when it calls the hook
            continue
        for pattern, _view in found:
            claimed.update(path for path in paths if re.compile(pattern).match(path))
    return claimed


def _redirect(method: str):
    async def view(datasette, request) -> Response:
        target = getattr(Links(datasette, None), method)(request.query_string)
        return Response.redirect(target, status=302)

    return view
