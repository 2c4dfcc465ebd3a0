"""APA 7 reference lists, rendered by citeproc-py with the APA CSL style in kb/styles.

Three steps, each documented in docs/citations.md:

1. `apa_ready` applies the APA rules that depend on comparing two fields,
   which CSL cannot express (a publisher that is also the author is left out).
2. `kb.cite.ordering` sorts the list and assigns year suffixes.
3. citeproc-py renders each entry; `_postprocess` then repairs the few places
   where citeproc-py falls short of the CSL specification for this style.
"""

from __future__ import annotations

import html
import re
import threading
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from types import SimpleNamespace

from citeproc import Citation, CitationItem, CitationStylesBibliography, CitationStylesStyle, formatter
from citeproc.source.json import CiteProcJSON
from markupsafe import Markup, escape

from .csl import csl_item, names
from .intext import InText
from .ordering import apa_order, assign_year_suffixes, primary_names

STYLE_PATH = Path(__file__).resolve().parent.parent / "styles" / "apa.csl"
MARKUPS = ("plain", "markdown", "html")


@dataclass(frozen=True)
class Reference:
    key: str
    text: str


# -- 1. Data rules CSL cannot express -------------------------------------------------

_ELOCATOR = re.compile(r"^e\d+$")


def _same_name(a: str | None, b: str | None) -> bool:
    def norm(s):
        return re.sub(r"^the\s+", "", re.sub(r"\s+", " ", (s or "").strip()).casefold())

    return bool(a and b) and norm(a) == norm(b)


def apa_ready(item: Mapping) -> dict:
    """A copy of a CSL item with the APA 7 rules applied that compare fields."""
    item = dict(item)
    authors = names(item, "author")
    # 9.11: a report with no personal author is authored by the organisation
    # that issued it (and the publisher is then not repeated, below).
    if item.get("type") == "report" and not authors and not names(item, "editor") and item.get("publisher"):
        item["author"] = [{"literal": item["publisher"]}]
        authors = item["author"]
    sole_group = authors[0].get("literal") if len(authors) == 1 else None
    # 9.24: when the author and publisher are the same, omit the publisher.
    if sole_group and _same_name(sole_group, item.get("publisher")):
        del item["publisher"]
    # 10.16: when the author and site name are the same, omit the site name.
    if item.get("type") in ("webpage", "post") and sole_group and _same_name(sole_group, item.get("container-title")):
        del item["container-title"]
    # 9.29 / 10.1 example 6: an eLocator ("e94207") is an article number,
    # rendered "Article e94207", not a page.
    if item.get("type") == "article-journal" and not item.get("number") and _ELOCATOR.match(str(item.get("page", ""))):
        item["number"] = item.pop("page")
    return item


def prepare(sources: Iterable[Mapping]) -> list[dict]:
    """APA-ready CSL items, one per key, in reference-list order with year suffixes."""
    items, seen = [], set()
    for source in sources:
        item = csl_item(source)
        if item["id"] in seen:
            continue
        seen.add(item["id"])
        items.append(apa_ready(item))
    return assign_year_suffixes(apa_order(items))


# -- 2. Rendering -----------------------------------------------------------------------


# Characters Markdown (CommonMark, GFM tables, pandoc's TeX math) or inline
# HTML read as syntax. (An "&" entity can only ever become text, so "&" is left
# alone.) Each gets a backslash, which CommonMark defines for every
# ASCII punctuation character, so the text renders exactly as written.
_MARKDOWN_SPECIAL = re.compile(r"([\\`*\[\]<>$|~])")


def markdown_escape(text) -> str:
    """Data made inert for Markdown and the HTML inside it."""
    text = _MARKDOWN_SPECIAL.sub(r"\\\1", str(text))
    # Underscores only at a word edge: CommonMark ignores intraword ones, so
    # identifiers and URLs stay copyable.
    text = re.sub(r"(?<![A-Za-z0-9])_|_(?![A-Za-z0-9])", r"\\_", text)
    # A heading, quote or list marker only counts at the start of a line.
    return re.sub(r"(?m)^(\s*)([#>+-]|\d+[.)])(?=\s|$)", r"\1\\\2", text)


def html_escape(text) -> str:
    # markupsafe escapes quotes too, so data is safe in attributes as well.
    return str(escape(str(text)))


# citeproc-py takes any object with these attributes as an output format.
_MARKDOWN = SimpleNamespace(
    preformat=markdown_escape,
    Italic=lambda text: f"*{text}*",
    Oblique=lambda text: f"*{text}*",
    Bold=lambda text: f"**{text}**",
    Light=str,
    Underline=str,
    Superscript=str,
    Subscript=str,
    SmallCaps=str,
)
_HTML = SimpleNamespace(
    preformat=html_escape,
    Italic=lambda text: f"<i>{text}</i>",
    Oblique=lambda text: f"<i>{text}</i>",
    Bold=lambda text: f"<b>{text}</b>",
    Light=str,
    Underline=str,
    Superscript=lambda text: f"<sup>{text}</sup>",
    Subscript=lambda text: f"<sub>{text}</sub>",
    SmallCaps=str,
)
_FORMATTERS = {"plain": formatter.plain, "markdown": _MARKDOWN, "html": _HTML}

# citeproc-py keeps render state on the style object (formatter, repressed
# variables), so one render runs at a time.
_render_lock = threading.Lock()


@lru_cache(maxsize=1)
def _style() -> CitationStylesStyle:
    return CitationStylesStyle(str(STYLE_PATH), validate=False)


def _render(items: list[dict], markup: str) -> list[str]:
    if markup not in _FORMATTERS:
        raise ValueError(f"unknown markup {markup!r}; choose from {', '.join(MARKUPS)}")
    # Internal ids: citeproc-py lower-cases keys, which could merge two keys.
    # kb-* flags are ours, not CSL variables; citeproc-py warns about them.
    # citeproc-py escapes the style's own terms but passes variables through,
    # so data is escaped here, before it meets any markup (issue 13.2).
    escape_data = {"plain": None, "markdown": markdown_escape, "html": html_escape}[markup]
    data = [
        {**_escaped({k: v for k, v in item.items() if not k.startswith("kb-")}, escape_data), "id": f"r{i}"}
        for i, item in enumerate(items)
    ]
    with _render_lock:
        bibliography = CitationStylesBibliography(_style(), CiteProcJSON(data), _FORMATTERS[markup])
        for entry in data:
            bibliography.register(Citation([CitationItem(entry["id"])]))
        return [str(text) for text in bibliography.bibliography()]


def _escaped(value, escape_data):
    if escape_data is None:
        return value
    if isinstance(value, str):
        return escape_data(value)
    if isinstance(value, list):
        return [_escaped(v, escape_data) for v in value]
    if isinstance(value, dict):
        return {k: v if k in ("type", "id") else _escaped(v, escape_data) for k, v in value.items()}
    return value


# -- 3. Repairs for citeproc-py ---------------------------------------------------------

_CLOSE = r"(?:</i>|\*)?"


def _postprocess(text: str, item: Mapping, markup: str) -> str:
    # CSL collapses a period after ? or ! ("What should be done next?.");
    # citeproc-py does not.
    text = re.sub(rf"([?!]{_CLOSE})\.", r"\1", text)
    # The style title-cases the editor label; citeproc-py ignores text-case on
    # labels, leaving "(ed.)" where APA has "(Ed.)".
    text = re.sub(r"\((ed|eds)\.\)", lambda m: f"({m.group(1).capitalize()}.)", text)
    # A title moved into the author position is not repeated (CSL
    # substitution suppresses it); citeproc-py prints it twice.
    if not primary_names(item):
        text = _drop_repeated_title(text)
    # "Retrieved <date>, from" needs an access date; without one the style
    # still prints a bare "Retrieved" before the URL.
    text = re.sub(r"\bRetrieved (?=(?:<a [^>]*>)?https?://)", "", text)
    if markup == "html":
        text = re.sub(r"(?<![\"'>])(https?://[^\s<]+?)(?=\.?(?:\s|$|<))", _link, text)
    return text


def _link(match: re.Match) -> str:
    # The URL arrives HTML-escaped; unescape it and let markupsafe escape it
    # again for both the attribute and the text.
    url = html.unescape(match.group(1))
    return str(Markup('<a href="{0}">{0}</a>').format(url))


def _drop_repeated_title(text: str) -> str:
    match = re.match(r"^(.+?)\. \(([^()]*)\)\. ", text)
    if not match:
        return text
    title, rest = match.group(1), text[match.end() :]
    if rest.startswith(title):
        rest = rest[len(title) :].lstrip(".").lstrip()
        return f"{title}. ({match.group(2)}). {rest}".rstrip()
    return text


# -- Public API -------------------------------------------------------------------------


class Bibliography:
    """One APA reference list and the in-text citations that go with it."""

    def __init__(self, sources: Iterable[Mapping]):
        self.items = prepare(sources)
        self.in_text = InText(self.items)
        self._rendered: dict[str, list[Reference]] = {}

    @property
    def keys(self) -> list[str]:
        return [item["id"] for item in self.items]

    def references(self, markup: str = "plain") -> list[Reference]:
        """The entries in APA order (rendering is slow, so each markup once)."""
        if markup not in self._rendered:
            rendered = _render(self.items, markup)
            self._rendered[markup] = [
                Reference(item["id"], _postprocess(text, item, markup).strip())
                for item, text in zip(self.items, rendered)
            ]
        return list(self._rendered[markup])

    def cite(self, keys: Iterable[str], markup: str = "plain") -> str:
        return self.in_text.cite(keys, markup)

    def format(self, markup: str = "plain") -> str:
        refs = self.references(markup)
        if markup == "html":
            # Entries are already escaped by the formatter above (Markup says so).
            body = Markup("\n").join(Markup('  <p class="csl-entry">{}</p>').format(Markup(r.text)) for r in refs)
            return str(Markup('<div class="references">\n{}\n</div>\n').format(body)) if refs else ""
        # Markdown needs a blank line between entries or they run together.
        sep = "\n\n" if markup == "markdown" else "\n"
        return sep.join(r.text for r in refs) + ("\n" if refs else "")


def apa_references(sources: Iterable[Mapping], markup: str = "plain") -> list[Reference]:
    """The APA 7 reference list for these source rows, in APA order."""
    return Bibliography(sources).references(markup)


def format_apa(sources: Iterable[Mapping], markup: str = "plain") -> str:
    """The APA 7 reference list as text: plain, Markdown (italics) or an HTML fragment."""
    return Bibliography(sources).format(markup)


def html_to_runs(text: str) -> list[tuple[str, bool]]:
    """An HTML reference as (text, italic) runs, for writers such as PowerPoint."""
    runs = []
    for part in re.split(r"(<i>.*?</i>)", text):
        if not part:
            continue
        italic = part.startswith("<i>")
        plain = re.sub(r"<[^>]+>", "", part[3:-4] if italic else part)
        runs.append((html.unescape(plain), italic))
    return runs
