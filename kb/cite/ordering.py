"""APA 7 reference-list order and year suffixes, computed from CSL items.

citeproc-py sorts by comparing lower-cased rendered strings, which files
"Öberg" after "Westbrook" and ranks "West, M. A." against "West, M., & Coia"
by comparing a space with a comma. APA orders letter by letter, name by name
(Publication Manual 7th ed., 9.44-9.47), so the order is worked out here and
citeproc-py only renders.
"""

from __future__ import annotations

import re
import unicodedata
from collections import defaultdict
from collections.abc import Iterable, Mapping

from .csl import issued_parts, names

_LEADING_ARTICLE = re.compile(r"^(a|an|the)\s+", re.IGNORECASE)
SUFFIXES = "abcdefghijklmnopqrstuvwxyz"


def alpha(text: str) -> str:
    """Letters and digits only, accents and case folded: APA's letter-by-letter
    alphabetising, where "Öberg" files as "Oberg" and "O'Neill" as "ONeill"."""
    decomposed = unicodedata.normalize("NFKD", text or "")
    stripped = "".join(c for c in decomposed if not unicodedata.combining(c))
    return re.sub(r"[\W_]+", "", stripped.casefold())


def primary_names(item: Mapping) -> list[dict]:
    """Who stands in the author position: the authors, else the editors (an
    edited book). Empty when the title moves into the author position."""
    return names(item, "author") or names(item, "editor")


def family_name(name: Mapping) -> str:
    if name.get("literal"):
        return name["literal"]
    return " ".join(filter(None, [name.get("non-dropping-particle"), name.get("family")]))


def initials(name: Mapping) -> str:
    """ "Jean-Pierre" → "J.-P.", "Donald A." → "D. A." (APA keeps hyphens)."""
    given = (name.get("given") or "").strip()
    if not given:
        return ""
    out = []
    for word in given.split():
        parts = [p for p in word.split("-") if p]
        out.append("-".join(f"{p[0].upper()}." for p in parts))
    return " ".join(out)


def name_key(name: Mapping) -> tuple[str, str]:
    # Surname first, initials only to break ties: "Brown, J. R." before
    # "Browning, A. R." because the shorter surname is compared whole.
    return alpha(family_name(name)), alpha(initials(name))


def title_key(title: str | None) -> str:
    return alpha(_LEADING_ARTICLE.sub("", (title or "").strip()))


def creators_key(item: Mapping) -> tuple:
    people = primary_names(item)
    if people:
        return tuple(name_key(n) for n in people)
    # No author: the title takes the author's place, and its place in the list.
    return ((title_key(item.get("title")), ""),)


def date_key(item: Mapping) -> tuple:
    # Same authors: undated works first, then by date, then "in press" (9.46).
    parts = issued_parts(item)
    if parts:
        return (1, *parts)
    if item.get("status"):
        return (2,)
    return (0,)


def apa_sort_key(item: Mapping) -> tuple:
    return creators_key(item), date_key(item), title_key(item.get("title"))


def apa_order(items: Iterable[Mapping]) -> list[dict]:
    return sorted((dict(i) for i in items), key=apa_sort_key)


def _year_group(item: Mapping):
    parts = issued_parts(item)
    if parts:
        return parts[0]
    return "status" if item.get("status") else "n.d."


def assign_year_suffixes(ordered: Iterable[Mapping]) -> list[dict]:
    """Copies of the (APA-ordered) items, with `year-suffix` a, b, … on works by
    the same author(s) in the same year, in list order, as 9.47 requires.
    Works alone in their group carry no suffix."""
    items = [dict(i) for i in ordered]
    groups: dict[tuple, list[dict]] = defaultdict(list)
    for item in items:
        item.pop("year-suffix", None)
        if primary_names(item):
            groups[(creators_key(item), _year_group(item))].append(item)
    for group in groups.values():
        if len(group) > 1:
            for letter, item in zip(SUFFIXES, group):
                item["year-suffix"] = letter
    return items
