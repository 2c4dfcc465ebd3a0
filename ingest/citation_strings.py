"""Find the citation strings in a document's text: author–year, numbered, URL, DOI and full reference lines.

No library does this for free-form prose without a model (refextract is GPL), so it is a set of regular
expressions tuned to how documents, and the slide decks in `evidence/documents/`, write citations.

Decisions (see docs/sources.md):
- Every span is an exact slice: `CitationString.text == text[start:end]`; `value` is the normalised form.
- Parenthetical citations give one string per cited work and the span excludes the brackets:
  "(West et al., 2011; Dawson, 2009)" → "West et al., 2011" and "Dawson, 2009". Narrative ones keep the
  year's brackets: "Kelley et al. (2014)".
- A bare "Authors, 2012, Venue" counts only when it is a whole line (as decks write it): in prose,
  "London, 2012" would be a false citation.
- A URL broken at a hyphen at the end of a line (PDF extraction) continues on the next non-blank line
  when that line is a single URL-like token; the span then covers the line break, `value` drops it.
- A superscript-like number ("outcomes.12") is a citation only when the text has a numbered reference
  list holding that number, and the word before it is not an abbreviation ("p.12", "Fig.3").
- A full reference line wins over what it contains: the "(2022)" inside a reference is not reported again.
"""

from __future__ import annotations

import re
import sys
from dataclasses import dataclass

KINDS = ("author_year", "numbered", "url", "doi", "reference")

# Python's re has no \p{Lu}; build the upper-case letter class once from the Latin ranges.
_UPPER = "".join(chr(c) for c in range(0x41, 0x250) if chr(c).isupper() and chr(c).isalpha())
_LETTER = r"[^\W\d_]"
UP = f"[{re.escape(_UPPER)}]"
PARTICLES = (
    "van|von|der|den|de|del|della|degli|di|da|du|des|dos|das|le|la|ter|ten|St\\.?|"
    "Van|Von|Der|Den|De|Del|Della|Di|Da|Du|Des|Dos|Le|La|Ter|Ten|Mac|Al|El|bin|ibn"
)
NAME_WORD = rf"{UP}{_LETTER}*(?:['’]{_LETTER}+)?(?:-{UP}?{_LETTER}+)*"
# Letters only after the capital, at least one: "M." (an initial) is not a name.
NAME = rf"(?:(?:{PARTICLES})\s+)*{UP}(?:{_LETTER}+(?:['’]{_LETTER}+)?|['’]{UP}{_LETTER}+)(?:-{_LETTER}+)*"
ET_AL = r"et\s+al\.?"
AUTHORS = rf"{NAME}(?:\s*,\s*{NAME})*(?:\s*,?\s*(?:&|and)\s+{NAME})?(?:\s*,?\s+{ET_AL})?"
# Inside brackets an author may be an institution of several words: "(NHS England, n.d.)".
_GROUP_NAME = rf"{NAME}(?:\s+{NAME}){{0,3}}"
GROUP_AUTHORS = rf"{_GROUP_NAME}(?:\s*,\s*{_GROUP_NAME})*(?:\s*,?\s*(?:&|and)\s+{_GROUP_NAME})?(?:\s*,?\s+{ET_AL})?"
YEAR = r"(?:1[89]\d{2}|20\d{2})[a-z]?"
YEAR_OR_ND = rf"(?:{YEAR}|n\.\s?d\.|in\s+press|forthcoming)"
LOCATOR = r"(?:,\s*(?:p|pp|para|ch|chap)\.?\s*[\divxlc]+(?:\s*[-–]\s*[\divxlc]+)?)"
PREFIX = r"(?i:(?:see\s+also|see|e\.g\.|i\.e\.|cf\.|for\s+example|reviewed\s+in)\s*,?\s*)"

_PAREN_WORK = re.compile(rf"^\s*{PREFIX}?(?P<work>{GROUP_AUTHORS}\s*,?\s+{YEAR_OR_ND}{LOCATOR}?)\s*$")
_PAREN_GROUP = re.compile(r"\(([^()\n]{4,400})\)")
_NARRATIVE = re.compile(rf"(?<![\w(])(?P<work>{AUTHORS}\s*\(\s*{YEAR_OR_ND}{LOCATOR}?\s*\))")
_LINE_CITATION = re.compile(rf"^[ \t]*(?P<work>{AUTHORS}\s*,\s*{YEAR}(?:\s*,\s*[^\n,][^\n]{{1,150}}?)?)[ \t]*$", re.M)

_INITIALS = rf"(?:{UP}\.\s*(?:-\s*{UP}\.\s*)?)+"
_REF_TOKEN = rf"(?:{NAME}|{_INITIALS}|&|and|{ET_AL})"
_REF_START = re.compile(
    rf"^[ \t]*(?:\[\d{{1,4}}\]|\d{{1,4}}[.)])?[ \t]*"
    rf"(?P<ref>{NAME}(?:[ \t]*,?[ \t]*{_REF_TOKEN})*[ \t]*,?[ \t]*(?:\({YEAR_OR_ND}\)[.,]?|{YEAR}\.)[ \t]+\S+[ \t]+\S+)",
    re.M,
)
_LIST_LABEL = re.compile(r"^[ \t]*(?:\[(\d{1,4})\]|(\d{1,4})[.)])[ \t]+(?=\S)")
_BULLET = re.compile(r"^[ \t]*[•\-–*▪◦·]\s")

_URL = re.compile(r"(?:https?://|www\.)[^\s<>\"'“”‘’]+", re.IGNORECASE)
_DOI = re.compile(r"(?:\bdoi:\s*|\b)(10\.\d{4,9}/[^\s<>\"'“”‘’]+)", re.IGNORECASE)
_DOI_URL = re.compile(r"^https?://(?:dx\.)?doi\.org/(10\.\d{4,9}/\S+)$", re.IGNORECASE)
_URL_TOKEN = re.compile(r"[A-Za-z0-9\-._~:/?#\[\]@!$&*+,;=%]+")
_TRAILING = ".,;:!?"

_NUMBERED = re.compile(r"\[(\d{1,4}(?:\s*[-–—]\s*\d{1,4})?(?:\s*,\s*\d{1,4}(?:\s*[-–—]\s*\d{1,4})?)*)\]")
_SUPERSCRIPT = re.compile(r"(?<=[a-z\)][.,;:])(\d{1,3}(?:[-–]\d{1,3})?(?:,\d{1,3}(?:[-–]\d{1,3})?)*)(?=\s|$)")
_ABBREVIATIONS = {"p", "pp", "vol", "no", "fig", "figs", "eq", "ch", "sec", "ref", "refs", "tab", "n", "v", "vs", "ed"}

_REF_HEADING = re.compile(
    r"^[ \t]*(?:\d+\.?\s*)?(references|bibliography|works\s+cited|literature\s+cited|reference\s+list|sources)"
    r"[ \t]*:?[ \t]*$",
    re.I | re.M,
)
_SECTION_AFTER = re.compile(r"^[ \t]*(appendix|acknowledg|notes\b|supplementary|figures?\b|tables?\b)", re.I)
_MAX_REFERENCE_LINES = 6


@dataclass(frozen=True)
class CitationString:
    text: str
    start: int
    end: int
    kind: str

    @property
    def value(self) -> str:
        """The citation without layout: line breaks in a wrapped URL removed, DOIs bare and lower-case."""
        if self.kind == "url":
            return re.sub(r"\s+", "", self.text)
        if self.kind == "doi":
            return normalise_doi(self.text)
        return re.sub(r"\s+", " ", self.text).strip()

    @property
    def numbers(self) -> list[str]:
        """A numbered citation's reference numbers with ranges expanded: "[3–5, 8]" → ["3", "4", "5", "8"]."""
        if self.kind != "numbered":
            return []
        found: list[str] = []
        for part in re.split(r"\s*,\s*", self.text.strip("[] ")):
            bounds = re.split(r"\s*[-–—]\s*", part)
            if len(bounds) == 2 and bounds[0].isdigit() and bounds[1].isdigit():
                low, high = int(bounds[0]), int(bounds[1])
                if low <= high and high - low < 100:
                    found.extend(str(n) for n in range(low, high + 1))
                    continue
            if part.isdigit():
                found.append(str(int(part)))
        return found


def normalise_doi(text: str) -> str:
    text = text.strip()
    text = re.sub(r"^(?:https?://(?:dx\.)?doi\.org/|doi:\s*)", "", text, flags=re.I)
    return re.sub(r"\s+", "", text).lower()


def _strip_trailing(text: str, start: int, end: int) -> int:
    """End offset with sentence punctuation and unbalanced closing brackets removed."""
    while end > start:
        last = text[end - 1]
        chunk = text[start:end]
        if last in _TRAILING:
            end -= 1
        elif last in ")]}" and chunk.count(last) > chunk.count({")": "(", "]": "[", "}": "{"}[last]):
            end -= 1
        else:
            break
    return end


def _continue_wrapped(text: str, end: int) -> int:
    """Extend a URL/DOI that ends in a hyphen at a line end over the next non-blank line (at most one blank)."""
    if end == 0 or text[end - 1] not in "-/":
        return end
    rest = text[end:]
    match = re.match(r"[ \t]*\n(?:[ \t]*\n)?[ \t]*", rest)
    if not match:
        return end
    line_start = end + match.end()
    line_end = text.find("\n", line_start)
    line_end = len(text) if line_end == -1 else line_end
    line = text[line_start:line_end].rstrip()
    if text[end - 1] == "/" and not line.startswith(("-", "/")):
        # A URL ending in "/" is usually complete; only a hyphen-split word is clearly a wrap.
        return end
    token = _URL_TOKEN.fullmatch(line)
    if not token or not line or "://" in line or not re.search(r"[a-z0-9]", line):
        return end
    return line_start + len(line)


def _urls_and_dois(text: str) -> list[CitationString]:
    found: list[CitationString] = []
    taken: list[tuple[int, int]] = []
    for match in _URL.finditer(text):
        start, end = match.start(), _strip_trailing(text, match.start(), match.end())
        end = _strip_trailing(text, start, _continue_wrapped(text, end))
        raw = text[start:end]
        kind = "doi" if _DOI_URL.match(re.sub(r"\s+", "", raw)) else "url"
        found.append(CitationString(raw, start, end, kind))
        taken.append((start, end))
    for match in _DOI.finditer(text):
        start = match.start()
        if any(a <= start < b for a, b in taken):
            continue
        end = _strip_trailing(text, start, match.end())
        end = _strip_trailing(text, start, _continue_wrapped(text, end))
        found.append(CitationString(text[start:end], start, end, "doi"))
    return found


def _line_bounds(text: str, pos: int) -> tuple[int, int]:
    start = text.rfind("\n", 0, pos) + 1
    end = text.find("\n", pos)
    return start, len(text) if end == -1 else end


def _is_break_line(line: str) -> bool:
    """A line that cannot continue a reference: a new reference, list item, bullet, URL or page break."""
    return bool(
        _REF_START.match(line)
        or _LIST_LABEL.match(line)
        or _BULLET.match(line)
        or _URL.match(line.strip())
        or line.startswith(" ")
        and not line.startswith("  ")
    )


def _reference_end(text: str, line_end: int) -> int:
    """Where a reference that starts on a line ends: soft-wrapped lines (no final full stop) continue it."""
    end = line_end
    lines = 1
    while lines < _MAX_REFERENCE_LINES:
        current = text[text.rfind("\n", 0, end) + 1 : end]
        if current.rstrip().endswith("."):
            break
        match = re.match(r"\n(?:[ \t]*\n)?", text[end:])
        if not match:
            break
        next_start = end + match.end()
        next_end = text.find("\n", next_start)
        next_end = len(text) if next_end == -1 else next_end
        line = text[next_start:next_end]
        if not line.strip() or _is_break_line(line):
            break
        end = next_end
        lines += 1
    return end


def _references(text: str) -> list[CitationString]:
    found = []
    for match in _REF_START.finditer(text):
        start = match.start("ref")
        _, line_end = _line_bounds(text, start)
        end = _reference_end(text, line_end)
        end = len(text[:end].rstrip())
        found.append(CitationString(text[start:end], start, end, "reference"))
    return found


def _author_year(text: str) -> list[CitationString]:
    found = []
    for group in _PAREN_GROUP.finditer(text):
        inner_start = group.start(1)
        offset = 0
        for part in group.group(1).split(";"):
            match = _PAREN_WORK.match(part)
            if match:
                start = inner_start + offset + match.start("work")
                end = inner_start + offset + match.end("work")
                found.append(CitationString(text[start:end], start, end, "author_year"))
            offset += len(part) + 1
    for pattern in (_NARRATIVE, _LINE_CITATION):
        for match in pattern.finditer(text):
            start, end = match.start("work"), match.end("work")
            found.append(CitationString(text[start:end], start, end, "author_year"))
    return found


def _numbered(text: str, reference_numbers: set[str]) -> list[CitationString]:
    found = []
    for match in _NUMBERED.finditer(text):
        line_start, _ = _line_bounds(text, match.start())
        if not text[line_start : match.start()].strip():
            continue  # a reference list's own label, "[12] West, M. ..."
        found.append(CitationString(match.group(0), match.start(), match.end(), "numbered"))
    if reference_numbers:
        for match in _SUPERSCRIPT.finditer(text):
            word = re.search(r"(\w+)\W$", text[max(0, match.start() - 30) : match.start()])
            if not word or word.group(1).lower() in _ABBREVIATIONS or len(word.group(1)) < 3:
                continue
            candidate = CitationString(match.group(1), match.start(1), match.end(1), "numbered")
            if candidate.numbers and set(candidate.numbers) <= reference_numbers:
                found.append(candidate)
    return found


def find_citations(text: str) -> list[CitationString]:
    """Every citation string in `text`, in order of position; overlapping finds keep the most specific."""
    reference_numbers = set(find_reference_list(text))
    # Priority order: a whole reference line, then identifiers, then author–year, then numbers.
    ranked = [*_references(text), *_urls_and_dois(text), *_author_year(text), *_numbered(text, reference_numbers)]
    kept: list[CitationString] = []
    for candidate in ranked:
        if candidate.end <= candidate.start:
            continue
        inside_reference = any(
            k.kind == "reference" and k.start <= candidate.start and candidate.end <= k.end for k in kept
        )
        if inside_reference and candidate.kind in ("url", "doi"):
            kept.append(candidate)  # an identifier inside a reference is still worth its own exact match
            continue
        if any(candidate.start < k.end and k.start < candidate.end for k in kept):
            continue
        kept.append(candidate)
    return sorted(kept, key=lambda c: (c.start, c.end))


def find_reference_list(text: str) -> dict[str, str]:
    """Numbered entries of the last "References"/"Bibliography" section: number → reference text (one line)."""
    headings = list(_REF_HEADING.finditer(text))
    if not headings:
        return {}
    body = text[headings[-1].end() :]
    entries: dict[str, list[str]] = {}
    current: str | None = None
    for line in body.splitlines():
        if _SECTION_AFTER.match(line):
            break
        label = _LIST_LABEL.match(line)
        if label:
            current = label.group(1) or label.group(2)
            entries[current] = [line[label.end() :].strip()]
        elif current is not None and line.strip():
            entries[current].append(line.strip())
    return {number: _join_lines(parts) for number, parts in entries.items()}


def _join_lines(parts: list[str]) -> str:
    joined = ""
    for part in parts:
        if joined.endswith("-") and re.match(r"[a-z0-9/]", part):
            joined += part  # a word or URL broken at a hyphen
        else:
            joined = f"{joined} {part}" if joined else part
    return joined


if __name__ == "__main__":  # pragma: no cover - a quick look at a file's citations
    for found in find_citations(open(sys.argv[1], encoding="utf-8").read()):
        print(f"{found.start:>6} {found.kind:<11} {found.value}")
