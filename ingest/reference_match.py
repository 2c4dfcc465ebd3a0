"""Link a citation string to a citations.bib key: search candidates by first author, then validate.

The approach is Crossref's search-then-validate reference matching. Search: every source whose first
author's family name (accent- and case-folded) is close to the citation's first author (rapidfuzz, so a typo
like "Tannembaum" still finds Tannenbaum). Validate: year, co-authors, title and venue words add to or take
from the score. A DOI or URL that equals a source's is exact and wins outright.

Scores (documented in docs/sources.md; the constants below are the only place they live):
  first author   0.5 × similarity (1.0 when equal after folding)
  year           +0.35 equal; +0.15 one year off; +0.2 both undated; a wider gap rejects the candidate unless
                 at least two named co-authors and the title/venue words all agree (online-first vs issue year)
  co-authors     +0.1 when every named co-author is among the source's authors; −0.3 for each who is not
  "et al."       +0.05 when the source has three or more authors; −0.1 when it has one
  title/venue    +0.1 when at least half the citation's content words are in the source; −0.3 below a quarter
A key is returned only at MATCH_THRESHOLD or above, and only when no other candidate is within
AMBIGUITY_MARGIN of it: a bare surname + year that fits two sources gives None with reason "ambiguous".
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass, field

from rapidfuzz import fuzz

from .bibliography import Source
from .citation_strings import YEAR, CitationString, find_citations, normalise_doi

MATCH_THRESHOLD = 0.6
AMBIGUITY_MARGIN = 0.1
NAME_SIMILARITY_MIN = 85
FIRST_AUTHOR_WEIGHT = 0.5
YEAR_EXACT, YEAR_NEAR, YEAR_BOTH_MISSING = 0.35, 0.15, 0.2
COAUTHORS_AGREE, COAUTHOR_MISSING = 0.1, -0.3
ET_AL_AGREES, ET_AL_SINGLE_AUTHOR, NO_ET_AL_FOR_MANY = 0.05, -0.1, -0.05
WORDS_AGREE, WORDS_DISAGREE = 0.1, -0.3

STOPWORDS = set(
    "a an and are as at be by for from has have how in into is it its of on or the their this to was what when "
    "where which who why with within without not no do does can et al eds ed pp vol journal london new york press "
    "http https www org com".split()
)
# "journal", "press" and "london" are kept out of the content words: nearly every reference has them.


@dataclass(frozen=True)
class ReferenceMatch:
    key: str | None
    score: float
    reason: str


@dataclass
class _Parsed:
    families: list[list[str]] = field(default_factory=list)  # each author's spellings to try
    et_al: bool = False
    year: int | None = None
    undated: bool = False
    words: list[str] = field(default_factory=list)
    doi: str | None = None
    url: str | None = None


@dataclass
class _Indexed:
    source: Source
    families: list[str]
    words: set[str]
    doi: str | None
    url: str | None


def fold(text: str) -> str:
    """Lower-case ASCII letters only: "Del Canale" → "delcanale", "Michaéla" → "michaela"."""
    decomposed = unicodedata.normalize("NFKD", text)
    return re.sub(r"[^a-z]", "", "".join(c for c in decomposed if not unicodedata.combining(c)).lower())


def normalise_url(url: str) -> str:
    url = re.sub(r"\s+", "", url.strip())
    url = re.sub(r"^https?://", "", url, flags=re.I)
    url = re.sub(r"^www\.", "", url, flags=re.I)
    url = url.split("#", 1)[0].rstrip("/")
    host, _, path = url.partition("/")
    return f"{host.lower()}/{path}" if path else host.lower()


def content_words(text: str) -> list[str]:
    words = []
    for raw in re.findall(r"[^\W\d_]+", unicodedata.normalize("NFKC", text)):
        word = fold(raw)
        if len(word) >= 3 and word not in STOPWORDS:
            words.append(word)
    return words


def _words_match(word: str, vocabulary: set[str]) -> bool:
    # A shared stem of six letters is enough: "applications"/"application", "randomised"/"randomized" are not.
    if word in vocabulary:
        return True
    return len(word) >= 6 and any(len(v) >= 6 and v[:6] == word[:6] for v in vocabulary)


def _person_family(person) -> str:
    return fold(person.literal or person.family or "")


def _index(source: Source) -> _Indexed:
    families = [_person_family(p) for p in source.authors]
    if not families:
        # An institution's report with no named author is cited by the institution.
        for name in ("institution", "organization", "publisher"):
            if source.fields.get(name):
                families = [fold(source.fields[name])]
                break
    f = source.fields
    text = " ".join(
        f.get(name, "") for name in ("title", "journal", "booktitle", "publisher", "institution", "address")
    )
    text += " " + " ".join(p.family or p.literal or "" for p in source.editors)
    doi = normalise_doi(f["doi"]) if f.get("doi") else None
    url = normalise_url(f["url"]) if f.get("url") else None
    return _Indexed(source, [name for name in families if name], set(content_words(text)), doi, url)


_TRAILING_INITIALS = re.compile(r"\s+[A-Z]{1,3}$")
_GIVEN_WITH_INITIAL = re.compile(r"^[^\W\d_]+(?:\s+[^\W\d_]\.)+$")
_PARTICLE = re.compile(r"^(?:van|von|der|den|de|del|della|di|da|du|des|dos|le|la|ter|ten|st)$", re.I)


def _is_initials(piece: str) -> bool:
    """ "M. S.", "T. H", "J.-P.", "R": single capitals with dots between; "Li" and "NHS" are names."""
    letters = re.split(r"[.\s-]+", piece.strip(" .-"))
    if not all(len(part) == 1 and part.isupper() for part in letters):
        return False
    return len(letters) == 1 or "." in piece


def _families(segment: str) -> tuple[list[list[str]], bool]:
    """Family names in an author segment, each as its spellings to try: "NHS England" → [england, nhsengland]."""
    et_al = bool(re.search(r"\bet\s+al\b", segment))
    segment = re.sub(r"\bet\s+al\.?", ",", segment)
    families = []
    for piece in re.split(r"\s*(?:,|;|&|\band\b)\s*", segment):
        piece = piece.strip(" ()[]:")
        if not piece or _is_initials(piece) or (families and _GIVEN_WITH_INITIAL.match(piece)):
            continue
        piece = _TRAILING_INITIALS.sub("", piece.strip(" .")) if " " in piece.strip() else piece.strip(" .")
        words = piece.split()
        variants = [fold(piece)]
        if len(words) > 1:
            # "Rachna Chowla" → Chowla; a particle keeps the family whole: "Del Canale", "van der Vegt".
            start = next((i for i, w in enumerate(words) if _PARTICLE.match(w)), None)
            last = fold(" ".join(words[start:])) if start is not None else fold(words[-1])
            variants = [last, *(v for v in variants if v != last)]
        variants = [v for v in variants if v]
        if variants:
            families.append(variants)
    return families, et_al


_YEAR_RE = re.compile(rf"(?<!\d)({YEAR})(?!\d)")
# The authors end at a full stop followed by a capitalised word: "West MA, Chowla R. Compassionate…".
# An initial followed by another ("M. S."), "et al.", "Jr." and "Ed." do not end them.
_AUTHORS_END = re.compile(r"(?<!\bal)(?<!\bJr)(?<!\bEd)(?<!\bEds)(?<!\beds)\.\s+(?=[^\W\d_][^\W\d_A-Z])")
_UNDATED = re.compile(r"\bn\.\s?d\.|\bundated\b", re.I)


def _parse(citation: CitationString) -> _Parsed:
    text = citation.value
    parsed = _Parsed()
    for inner in find_citations(text):
        if inner.kind == "doi" and parsed.doi is None:
            parsed.doi = inner.value
        elif inner.kind == "url" and parsed.url is None:
            parsed.url = normalise_url(inner.value)
    year = _YEAR_RE.search(text)
    if year:
        parsed.year = int(year.group(1)[:4])
        author_segment, rest = text[: year.start()], text[year.end() :]
    else:
        parsed.undated = bool(_UNDATED.search(text))
        nd = _UNDATED.search(text)
        if nd:
            author_segment, rest = text[: nd.start()], text[nd.end() :]
        else:
            # Vancouver and similar: authors end at the first full stop after a word of two letters or more.
            stop = _AUTHORS_END.search(text)
            author_segment, rest = (text[: stop.start()], text[stop.end() :]) if stop else (text, "")
    if citation.kind == "reference" and year:
        # The year may come after the title (Vancouver): the authors end at the first full stop after a word.
        stop = _AUTHORS_END.search(author_segment)
        if stop:
            author_segment, rest = text[: stop.start()], text[stop.end() :]
    parsed.families, parsed.et_al = _families(author_segment)
    rest = re.sub(r"(?:https?://|www\.|doi:|10\.\d{4,9}/)\S*", " ", rest)
    parsed.words = content_words(rest)
    return parsed


class ReferenceMatcher:
    def __init__(self, sources: Iterable[Source]):
        self._sources = [_index(source) for source in sources]
        self._by_doi = {s.doi: s.source.key for s in self._sources if s.doi}
        self._by_url = {s.url: s.source.key for s in self._sources if s.url}

    def match(self, citation: CitationString | str, *, reference_list: dict[str, str] | None = None) -> ReferenceMatch:
        citation = _as_citation(citation)
        if citation.kind == "numbered":
            numbers = citation.numbers
            if len(numbers) != 1:
                return ReferenceMatch(None, 0.0, f"{citation.text} cites {len(numbers)} works: use match_all")
            return self._match_number(numbers[0], reference_list)
        return self._match_text(citation)

    def match_all(
        self, citation: CitationString | str, *, reference_list: dict[str, str] | None = None
    ) -> list[ReferenceMatch]:
        """One match per cited work: a numbered citation "[3–5]" gives three."""
        citation = _as_citation(citation)
        if citation.kind == "numbered":
            return [self._match_number(n, reference_list) for n in citation.numbers]
        return [self._match_text(citation)]

    def _match_number(self, number: str, reference_list: dict[str, str] | None) -> ReferenceMatch:
        if not reference_list:
            return ReferenceMatch(None, 0.0, f"numbered citation [{number}] without a reference list")
        reference = reference_list.get(number)
        if reference is None:
            return ReferenceMatch(None, 0.0, f"[{number}] is not in the reference list")
        found = self._match_text(CitationString(reference, 0, len(reference), "reference"))
        return ReferenceMatch(found.key, found.score, f"[{number}] {found.reason}")

    def _match_text(self, citation: CitationString) -> ReferenceMatch:
        parsed = _parse(citation)
        if citation.kind == "doi":
            parsed.doi = citation.value
        if citation.kind == "url":
            parsed.url = normalise_url(citation.value)
        if parsed.doi and parsed.doi in self._by_doi:
            return ReferenceMatch(self._by_doi[parsed.doi], 1.0, "doi")
        if parsed.url and parsed.url in self._by_url:
            return ReferenceMatch(self._by_url[parsed.url], 1.0, "url")
        if citation.kind in ("doi", "url"):
            return ReferenceMatch(None, 0.0, f"no source has this {citation.kind.upper()}")
        if not parsed.families:
            return ReferenceMatch(None, 0.0, "no author name found")
        scored = []
        for indexed in self._sources:
            result = self._score(parsed, indexed)
            if result is not None:
                scored.append((result[0], indexed.source.key, result[1]))
        if not scored:
            return ReferenceMatch(None, 0.0, f"no source by {parsed.families[0][0]!r} fits")
        scored.sort(key=lambda item: (-item[0], item[1]))
        best_score, best_key, best_reason = scored[0]
        if best_score < MATCH_THRESHOLD:
            return ReferenceMatch(
                None, best_score, f"below threshold {MATCH_THRESHOLD} (best {best_key}: {best_reason})"
            )
        rivals = [
            key
            for score, key, _ in scored[1:]
            if score >= MATCH_THRESHOLD and round(best_score - score, 3) < AMBIGUITY_MARGIN
        ]
        if rivals:
            return ReferenceMatch(None, best_score, f"ambiguous: {', '.join([best_key, *rivals])}")
        return ReferenceMatch(best_key, best_score, best_reason)

    def _score(self, parsed: _Parsed, indexed: _Indexed) -> tuple[float, str] | None:
        if not indexed.families:
            return None
        similarity = max(fuzz.ratio(variant, indexed.families[0]) for variant in parsed.families[0])
        if similarity < NAME_SIMILARITY_MIN:
            return None
        if parsed.doi and indexed.doi and parsed.doi != indexed.doi:
            return None  # both carry a DOI and they differ: certainly another work
        reasons = ["first author" if similarity == 100 else f"first author ~{similarity:.0f}%"]
        score = FIRST_AUTHOR_WEIGHT * similarity / 100

        coauthors = parsed.families[1:]
        others = indexed.families[1:]
        missing = [
            names[0]
            for names in coauthors
            if not any(fuzz.ratio(name, other) >= NAME_SIMILARITY_MIN for name in names for other in others)
        ]
        if coauthors and not missing:
            score += COAUTHORS_AGREE
            reasons.append(f"{len(coauthors)} co-author(s)")
        score += COAUTHOR_MISSING * len(missing)
        if missing:
            reasons.append(f"co-author(s) not in source: {', '.join(missing)}")
        n_authors = len(indexed.families) + (2 if indexed.source.authors_incomplete else 0)
        if parsed.et_al:
            score += ET_AL_AGREES if n_authors >= 3 else ET_AL_SINGLE_AUTHOR if n_authors == 1 else 0.0
        elif not coauthors and n_authors >= 3:
            score += NO_ET_AL_FOR_MANY

        words_agree = False
        if parsed.words:
            found = sum(_words_match(w, indexed.words) for w in parsed.words)
            share = found / len(parsed.words)
            if share >= 0.5:
                score += WORDS_AGREE
                words_agree = True
                reasons.append("title/venue words")
            elif share < 0.25 and len(parsed.words) >= 3:
                score += WORDS_DISAGREE
                reasons.append("title/venue words differ")

        year = indexed.source.year
        if parsed.year is None or year is None:
            if parsed.year is None and year is None:
                score += YEAR_BOTH_MISSING
                reasons.append("both undated")
            else:
                reasons.append("year on one side only")
        elif parsed.year == year:
            score += YEAR_EXACT
            reasons.append("year")
        elif abs(parsed.year - year) == 1:
            score += YEAR_NEAR
            reasons.append(f"year {parsed.year} vs {year}")
        elif len(coauthors) >= 2 and not missing and words_agree:
            reasons.append(f"year {parsed.year} vs {year}, all else agrees")
        else:
            return None
        return max(0.0, min(1.0, round(score, 3))), ", ".join(reasons)


_BRACKETED_NUMBERS = re.compile(r"\[\d{1,4}(?:\s*[-–—,]\s*\d{1,4})*\]")


def _as_citation(citation: CitationString | str) -> CitationString:
    if isinstance(citation, CitationString):
        return citation
    text = citation.strip()
    if _BRACKETED_NUMBERS.fullmatch(text):
        return CitationString(text, 0, len(text), "numbered")  # find_citations skips a line-initial label
    found = find_citations(text)
    if len(found) == 1 and found[0].end - found[0].start >= 0.8 * len(text):
        return found[0]
    return CitationString(text, 0, len(text), "reference")
