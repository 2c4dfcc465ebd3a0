"""Our page templates, applied to the KB database only, so no global template is overridden.

Datasette looks for row-<db>-<table>.html before row.html (likewise table-<db>-<table>.html and
query-<db>.html), with <db> and <table> written by datasette.utils.to_css_class. The KB's name
follows its file (build/kb.db -> "kb"), so these names are answered by a Jinja loader that knows
the KB, appended after every other loader: a --template-dir or another plugin with a file of the
same name wins. Our templates extend the generic one (row.html, not default:row.html), so another
plugin's override of row.html still applies underneath ours.

The home page has no per-database name. On Datasette 1.0 our content comes through top_homepage;
on 0.65 index.html is the only way in, so we answer it only when neither a --template-dir nor any
other plugin (datasette-search-all, for one) ships an index.html. Otherwise that one is served and
ours stays reachable at <prefix>/ and in the menu (docs/datasette.md, "Templates").
"""

from __future__ import annotations

from pathlib import Path

from datasette.utils import to_css_class
from jinja2 import BaseLoader, ChoiceLoader, FileSystemLoader, TemplateNotFound

from . import compat

HERE = Path(__file__).resolve().parent / "templates"
# Row pages that get the explorer's page (extra_template_vars fills kb_page).
EXPLORER_TABLES = ("claims", "sources", "authors")


def kb_template_names(database: str, tables: list[str]) -> dict[str, str]:
    """Datasette's database-specific template names for the KB -> the file of ours that answers each."""
    db = to_css_class(database)
    names = {f"table-{db}-{to_css_class(t)}.html": "kb_table.html" for t in tables}
    names.update({f"row-{db}-{to_css_class(t)}.html": "kb_row.html" for t in EXPLORER_TABLES})
    names[f"query-{db}.html"] = "kb_query.html"
    return names


class KBTemplates(BaseLoader):
    """Answers the names in `names` (filled at startup, once the KB is known) from our templates folder."""

    def __init__(self, files: FileSystemLoader):
        self.files = files
        self.names: dict[str, str] = {}

    def get_source(self, environment, template):
        target = self.names.get(template)
        if target is None:
            raise TemplateNotFound(template)
        return self.files.get_source(environment, target)

    def list_templates(self):
        # Datasette 1.0 lists every template (to find which exist) before it picks one.
        return sorted(self.names)


def install(env, datasette) -> KBTemplates:
    """Hook our loaders into Datasette's Jinja environment; returns the one startup fills with the KB's names."""
    files = FileSystemLoader(str(HERE))
    per_database = KBTemplates(files)
    chain = [env.loader, per_database]
    if not compat.HAS_TOP_HOOKS and not _someone_else_has_index(datasette):
        home = KBTemplates(files)
        home.names = {"index.html": "kb_index.html"}
        chain.insert(0, home)
    env.loader = ChoiceLoader(chain)
    return per_database


def _someone_else_has_index(datasette) -> bool:
    from datasette.plugins import get_plugins

    folders = [datasette.template_dir] if getattr(datasette, "template_dir", None) else []
    folders += [
        p["templates_path"] for p in get_plugins() if p.get("templates_path") and Path(p["templates_path"]) != HERE
    ]
    return any((Path(folder) / "index.html").is_file() for folder in folders)
