"""APA 7 parenthetical citations, "(Redelmeier et al., 1995)", for a reference list.

Worked out for the references actually exported, not read from
`sources.citation_short`: year suffixes (2018a) and the extra names or initials
APA adds to tell works apart (8.18-8.20) depend on which works are in the list.
"""

from __future__ import annotations

import html
from collections import defaultdict
from collections.abc import Iterable, Mapping

from ingest.bibliography import UNCONFIRMED_COAUTHORS

from .csl import issued_parts
from .ordering import family_name, initials, primary_names

# Titles italicised in the reference list are italicised in the text too;
# the others go in quotation marks (8.14).
_ITALIC_TITLE_TYPES = {"book", "report", "webpage", "thesis", "dataset", "software", "motion_picture", "document"}


def _escape(text: str, markup: str) -> str:
    """Data never becomes markup: HTML-escaped for HTML, Markdown-escaped (which also stops raw HTML) for Markdown."""
    if markup == "html":
        return html.escape(text)
    if markup == "markdown":
        from .apa import markdown_escape

        return markdown_escape(text)
    return text


def _emphasis(text: str, markup: str) -> str:
    if markup == "markdown":
        return f"*{_escape(text, markup)}*"
    if markup == "html":
        return f"<i>{html.escape(text)}</i>"
    return text


def year_text(item: Mapping) -> str:
    suffix = item.get("year-suffix") or ""
    parts = issued_parts(item)
    if parts:
        return f"{parts[0]}{suffix}"
    base = str(item["status"]).lower() if item.get("status") else "n.d."
    return f"{base}-{suffix}" if suffix else base


def _title_as_author(item: Mapping, markup: str) -> str:
    title = item.get("title") or str(item.get("id", ""))
    if item.get("type") in _ITALIC_TITLE_TYPES:
        return _emphasis(title, markup)
    return _escape(f"\u201c{title}\u201d", markup)


def _person(name: Mapping, with_initials: bool) -> str:
    family = family_name(name)
    if with_initials and not name.get("literal") and initials(name):
        return f"{initials(name)} {family}"
    return family


def author_text(item: Mapping, *, shown: int | None = None, with_initials: bool = False, markup: str = "plain") -> str:
    """The author element: "West", "West & Coia", "Redelmeier et al.", or more
    names before "et al." when `shown` asks for them."""
    people = primary_names(item)
    if not people:
        return _title_as_author(item, markup)
    amp = "&amp;" if markup == "html" else "&"

    def esc(text: str) -> str:
        return _escape(text, markup)

    # Co-authors who exist but are unconfirmed: "Trzeciak et al." in the text,
    # where the marker name would read badly (the reference list keeps it).
    confirmed = [p for p in people if p.get("literal") != UNCONFIRMED_COAUTHORS]
    if len(confirmed) < len(people) and confirmed:
        shown_names = [_person(p, i == 0 and with_initials) for i, p in enumerate(confirmed[: max(1, shown or 1)])]
        return ", ".join(esc(p) for p in shown_names) + " et al."
    first = _person(people[0], with_initials)
    rest = [_person(p, False) for p in people[1:]]
    everyone = [first, *rest]
    if len(everyone) == 1:
        return esc(first)
    if len(everyone) == 2:
        return f"{esc(first)} {amp} {esc(rest[0])}"
    n = max(1, shown or 1)
    if n >= len(everyone) - 1:
        return ", ".join(esc(p) for p in everyone[:-1]) + f", {amp} " + esc(everyone[-1])
    if n == 1:
        return f"{esc(first)} et al."
    return ", ".join(esc(p) for p in everyone[:n]) + ", et al."


class InText:
    """In-text citations for the works of one reference list (APA-ordered items)."""

    def __init__(self, items: Iterable[Mapping]):
        self.items = [dict(i) for i in items]
        self.position = {item["id"]: i for i, item in enumerate(self.items)}
        self.by_id = {item["id"]: item for item in self.items}
        self._initials = self._needs_initials()
        self._shown = self._names_needed()

    def _needs_initials(self) -> set[str]:
        # 8.20: first authors who share a surname but not initials get their
        # initials in every citation. Only the first initial is compared, so
        # "West, M." and "West, M. A." stay the one person they are.
        firsts = defaultdict(set)
        for item in self.items:
            people = primary_names(item)
            if people and not people[0].get("literal"):
                firsts[family_name(people[0]).casefold()].add(initials(people[0])[:1])
        return {
            item["id"]
            for item in self.items
            if (p := primary_names(item)) and not p[0].get("literal") and len(firsts[family_name(p[0]).casefold()]) > 1
        }

    def _names_needed(self) -> dict[str, int]:
        # 8.18: when two different author lists shorten to the same
        # "Name et al., year", spell out as many names as tell them apart.
        shown = {item["id"]: 1 for item in self.items}
        for _ in range(20):
            clashes = defaultdict(list)
            for item in self.items:
                key = (self._author(item, shown[item["id"]], "plain"), year_text(item))
                clashes[key].append(item)
            changed = False
            for group in clashes.values():
                lists = {tuple(map(str, primary_names(i))) for i in group}
                if len(group) > 1 and len(lists) > 1:
                    for item in group:
                        if shown[item["id"]] < len(primary_names(item)) - 1:
                            shown[item["id"]] += 1
                            changed = True
            if not changed:
                break
        return shown

    def _author(self, item: Mapping, shown: int, markup: str) -> str:
        return author_text(item, shown=shown, with_initials=item["id"] in self._initials, markup=markup)

    def parts(self, key: str, markup: str = "plain") -> tuple[str, str]:
        item = self.by_id[key]
        return self._author(item, self._shown[key], markup), year_text(item)

    def narrative(self, key: str) -> str:
        """ "Redelmeier et al. (1995)": the citation as part of a sentence, "and" for "&"."""
        return "{} ({})".format(*self.parts(key)).replace(" & ", " and ")

    def cite(self, keys: Iterable[str], markup: str = "plain") -> str:
        """ "(A, 2019; B & C, 2020)": reference-list order, same authors' years
        joined ("West, 2019, 2021"), each work once. "" when keys is empty."""
        wanted = sorted({k for k in keys if k in self.position}, key=self.position.__getitem__)
        chunks: list[list[str]] = []
        for key in wanted:
            author, year = self.parts(key, markup)
            if chunks and chunks[-1][0] == author:
                chunks[-1].append(year)
            else:
                chunks.append([author, year])
        if not chunks:
            return ""
        return "(" + "; ".join(f"{c[0]}, {', '.join(c[1:])}" for c in chunks) + ")"
