"""Propose candidate claims: the segments of a document that carry evidence, with a suggested kind,
statement, statistics, citations and topics, for a curator to accept or reject.

A segment is proposed when it carries an evidence cue (see CUES): a statistic the parser finds, association or
causal language, a study cue, a list or framework, a recommendation or a quotation. Context statements without a
cue are not proposed, and neither is a bare title.
"""

from __future__ import annotations

import hashlib
import math
import re
from collections.abc import Callable
from dataclasses import asdict, dataclass, field

from ingest import effects
from ingest.citation_strings import find_citations
from ingest.readers.base import ExtractedDocument
from ingest.segment import Segment, segment
from ingest.statement import FUNCTION_WORDS, document_vocabulary, finish_sentence, repair_statement

MAX_TOPICS = 4

_I = re.IGNORECASE
# Evidence cues by name. Patterns run on the repaired statement (whitespace collapsed, split words joined).
CUES: dict[str, re.Pattern] = {
    "association": re.compile(
        r"\b(?:associated with|associations? (?:between|with)|linked (?:with|to)|links? between|predict(?:s|ed|ive|or|ors)?"
        r"|(?:key |lead |leading )*indicators? of|leads? to|led to|results? in|resulted in|reduc(?:es|ed|ing)"
        r"|improv(?:es|ed|ing)|increas(?:es|ed)|decreas(?:es|ed)|related to|relationship (?:between|with)"
        r"|correlat\w*|contribut(?:es|ed|ing) to|impacts? (?:on|of)|effects? (?:of|on)|influences? (?:on|of)"
        r"|due to|because of|caus(?:es|ed|al)|benefici\w*|benefits?|protective)\b|→|->",
        _I,
    ),
    "comparison": re.compile(
        r"\b(?:vs\.?|versus|compared (?:with|to)|relative to|(?:more|less|greater|higher|lower|fewer|better|worse)"
        r" than|(?:more|less|least|most) likely|lower|higher|greater|fewer|better|worse|poorer|shorter|longer"
        r"|larger|smaller|more|less)\b",
        _I,
    ),
    "study": re.compile(
        r"\b(?:randomi[sz]ed|randomly (?:assigned|allocated)|RCTs?|trials?|meta-analys[ie]s|meta-analytic"
        r"|systematic reviews?|cohort|surveys? of \d|surveyed|qualitative|longitudinal|cross-sectional"
        r"|(?:research|studies|evidence|data|trials) (?:shows?|suggests?|has shown|have shown|found|indicates?)"
        r"|evidence(?![-‐]based)|empirical(?:ly)?|findings?|participants|respondents|sample of \d)\b",
        _I,
    ),
    "recommendation": re.compile(
        r"\b(?:should|must|needs? to|we recommend|recommend(?:s|ed|ation|ations)?|ought to|it is (?:essential|vital)"
        r" to)\b",
        _I,
    ),
    "quote": re.compile(r"[“\"][^”\"]{15,}[”\"]\s*(?:[—–-]\s*[A-Z]|\(?(?:said|says|according to)\b)", _I),
}

# Verbs that open an imperative bullet ("Address how ...", "Ensure equity ..."): a recommendation.
IMPERATIVE_VERBS = frozenset(
    """act address adopt align assess avoid build celebrate challenge commit consider create cultivate develop embed
    empower enable encourage engage ensure establish evaluate focus foster give help identify implement improve include
    increase integrate introduce invest involve keep let listen make measure monitor offer prioritise prioritize
    promote protect provide put recognise recognize reduce remove review set share start stop support tackle take
    talk train treat use value""".split()
)

_STATISTIC_CUES = {"statistic", "study"}
_FINDING_CUES = {"statistic", "study", "comparison", "evidence_heading"}


@dataclass
class Candidate:
    id: str
    quote: str
    char_start: int
    char_end: int
    line_start: int
    line_end: int
    page: int | None
    slide: int | None
    notes: bool
    heading_path: list[str]
    kind: str
    statement: str
    effect: dict | None
    statistics: list[dict]
    warnings: list[str]
    citations: list[dict]
    topics: list[str]
    cues: list[str]
    status: str = "candidate"
    similar_claims: list = field(default_factory=list)

    def to_dict(self) -> dict:
        return asdict(self)


def extract_candidates(
    doc: ExtractedDocument,
    *,
    document_id: str,
    topics: dict[str, tuple[str, str | None]],
    match_citation: Callable | None = None,
) -> list[Candidate]:
    """Every segment of `doc` that carries evidence, as a candidate claim, in text order."""
    segments = segment(doc)
    vocabulary = document_vocabulary(doc.text)
    topic_index = _TopicIndex(topics)
    quote_regions = _quotation_regions(doc, segments)
    proposals: list[tuple[Segment, str, list[str], str]] = []  # segment, kind, cues, statement
    covered: set[tuple[int, int]] = set()

    for seg in segments:
        if seg.kind_hint != "list":
            continue
        heading_cues = _cues(_heading_text(doc, seg), vocabulary) if seg.char_start < seg.items[0][0] else []
        item_cues = [_cues(doc.text[s:e], vocabulary) for s, e in seg.items]
        if any(c in _STATISTIC_CUES for c in heading_cues):
            # "Some empirically supported findings:" — each item is a finding of its own.
            for (s, e), cues in zip(seg.items, item_cues):
                item = Segment(s, e, "item", seg.region, seg.block)
                proposals.append((item, _kind(cues + ["evidence_heading"]), cues + ["evidence_heading"], ""))
                covered.add((s, e))
            continue
        evidence_items = sum(1 for cues in item_cues if (_FINDING_CUES - {"evidence_heading"}) & set(cues))
        if evidence_items * 2 >= len(seg.items):
            continue  # the items are findings in their own right; the list is only their slide
        imperative = sum(1 for cues in item_cues if "recommendation" in cues)
        kind = "recommendation" if imperative * 2 > len(seg.items) else "framework"
        proposals.append((seg, kind, ["list"] + heading_cues, _list_statement(doc, seg, vocabulary)))

    for seg in segments:
        if seg.kind_hint in ("list", "title", "heading", "reference") or (seg.char_start, seg.char_end) in covered:
            continue
        if seg.region in quote_regions:
            continue
        cues = _cues(doc.text[seg.char_start : seg.char_end], vocabulary)
        if _is_question(doc.text[seg.char_start : seg.char_end]) and "statistic" not in cues:
            continue  # a question ("Is the team innovating?") asks; it claims nothing
        if cues:
            proposals.append((seg, _kind(cues), cues, ""))
    for region, (start, end) in quote_regions.items():
        quote_seg = Segment(start, end, "sentence", region)
        cues = ["quote"] + [c for c in _cues(doc.text[start:end], vocabulary) if c != "quote"]
        proposals.append((quote_seg, "quote", cues, ""))

    proposals.sort(key=lambda p: (p[0].char_start, -p[0].char_end))
    candidates: list[Candidate] = []
    seen_ids: dict[str, int] = {}
    for seg, kind, cues, statement in proposals:
        quote = doc.text[seg.char_start : seg.char_end]
        candidates.append(
            _candidate(
                doc,
                seg,
                quote,
                kind,
                cues,
                statement or repair_statement(quote, vocabulary),
                document_id,
                seen_ids,
                topic_index,
                match_citation,
            )
        )
    return candidates


def _candidate(doc, seg, quote, kind, cues, statement, document_id, seen_ids, topic_index, match_citation):
    where = doc.location(seg.char_start)
    stats = _statistics(quote)
    return Candidate(
        id=_stable_id(document_id, quote, seen_ids),
        quote=quote,
        char_start=seg.char_start,
        char_end=seg.char_end,
        line_start=doc.line_of(seg.char_start),
        line_end=doc.line_of(max(seg.char_start, seg.char_end - 1)),
        page=where["page"],
        slide=where["slide"],
        notes=where["notes"],
        heading_path=where["heading_path"],
        kind=kind,
        statement=statement,
        effect=_effect_dict(_main_effect(stats)) if stats else None,
        statistics=[_effect_dict(e) for e in stats],
        warnings=[w for e in stats for w in asdict(e).get("warnings", ())],
        citations=_citations(quote, match_citation),
        topics=topic_index.suggest(statement),
        cues=cues,
    )


def _stable_id(document_id: str, quote: str, seen: dict[str, int]) -> str:
    # Hash of the quote (not a running number) so that an edit elsewhere in the document changes no other id.
    normalised = re.sub(r"\s+", " ", quote).strip().casefold()
    base = f"{document_id}--{hashlib.sha1(normalised.encode('utf-8')).hexdigest()[:10]}"
    seen[base] = seen.get(base, 0) + 1
    return base if seen[base] == 1 else f"{base}-{seen[base]}"


def _statistics(quote: str) -> list:
    return effects.find_statistics(quote)


def _main_effect(stats: list):
    """The effect a curator would headline: the first estimate, else the first count, p-value or n."""
    for effect in stats:
        if effect.metric not in effects.DESCRIPTIVE_METRICS:
            return effect
    return stats[0] if stats else None


def _effect_dict(effect) -> dict:
    # asdict keeps this working both before and after the parser's Effect gains interval, p and n fields.
    fields = asdict(effect)
    return {
        name: fields.get(name)
        for name in ("metric", "value", "direction", "ci_low", "ci_high", "ci_level", "p_value", "n")
    }


def _citations(quote: str, match_citation: Callable | None) -> list[dict]:
    out = []
    for citation in find_citations(quote):
        key, score = None, 0.0
        if match_citation is not None:
            match = match_citation(citation)
            key, score = match.key, float(match.score)
        out.append({"text": citation.text, "key": key, "score": score})
    return out


def _cues(text: str, vocabulary) -> list[str]:
    flat = re.sub(r"\s+", " ", repair_statement(text, vocabulary))
    found = []
    if _statistics(text):
        found.append("statistic")
    for name, pattern in CUES.items():
        if pattern.search(flat):
            found.append(name)
    if "recommendation" not in found and _is_imperative(flat):
        found.append("recommendation")
    return found


def _is_question(text: str) -> bool:
    return text.rstrip().rstrip("’”\"')").endswith("?")


def _is_imperative(flat: str) -> bool:
    if re.match(r"\s*\w+:", flat):
        return False  # "Support: caring for staff" is a label, not an order
    words = re.findall(r"[A-Za-z]+", flat.lower())[:2]
    if not words:
        return False
    if words[0] in IMPERATIVE_VERBS:
        return True
    # "Directly address ...": an adverb before the verb
    return len(words) == 2 and words[0].endswith("ly") and words[1] in IMPERATIVE_VERBS


def _kind(cues: list[str]) -> str:
    cue_set = set(cues)
    if "quote" in cue_set:
        return "quote"
    if cue_set & {"statistic", "study"}:
        return "finding"
    if "association" in cue_set:
        return "association"
    if "recommendation" in cue_set:
        return "recommendation"
    if cue_set & _FINDING_CUES:
        return "finding"
    return "context"


def _heading_text(doc: ExtractedDocument, seg: Segment) -> str:
    return doc.text[seg.char_start : seg.items[0][0]]


def _list_statement(doc: ExtractedDocument, seg: Segment, vocabulary) -> str:
    items = [repair_statement(doc.text[s:e], vocabulary).rstrip(".") for s, e in seg.items]
    body = "; ".join(items)
    if seg.char_start < seg.items[0][0]:
        heading = repair_statement(_heading_text(doc, seg), vocabulary).rstrip(".:")
        return finish_sentence(f"{heading}: {body}")
    return finish_sentence(body)


def _quotation_regions(doc: ExtractedDocument, segments: list[Segment]) -> dict[int, tuple[int, int]]:
    """Slides that are a quotation: the slide says one prose passage of some length and nothing else."""
    by_region: dict[int, list[Segment]] = {}
    for seg in segments:
        by_region.setdefault(seg.region, []).append(seg)
    found = {}
    for region, segs in by_region.items():
        content = [s for s in segs if s.kind_hint != "reference"]
        if not content or any(s.kind_hint != "sentence" for s in content) or len({s.block for s in content}) != 1:
            continue
        where = doc.location(content[0].char_start)
        if where["slide"] is None or where["notes"]:
            continue
        start, end = content[0].char_start, content[-1].char_end
        if len(doc.text[start:end].split()) >= 8:
            found[region] = (start, end)
    return found


def _stem(word: str) -> str:
    """A light stem: plural and -ing/-ed endings dropped, then the first six letters ("anaesthetists" and
    "anaesthesia" share "anaest"). Enough to match a short controlled vocabulary; a full stemmer would
    also merge words the topic labels keep apart."""
    word = word.lower().strip("'’")
    for suffix in ("ies", "ing", "ed", "es", "s"):
        if len(word) > len(suffix) + 3 and word.endswith(suffix) and not word.endswith("ss"):
            word = word[: -len(suffix)]
            break
    return word[:6]


_TOPIC_STOPWORDS = FUNCTION_WORDS | {"including", "such", "like", "rather", "held", "shown", "themselves", "own"}


def _content_stems(text: str) -> list[str]:
    return [_stem(w) for w in re.findall(r"[A-Za-z][A-Za-z'’]+", text) if w.lower() not in _TOPIC_STOPWORDS]


class _TopicIndex:
    """Scores topics against a statement: words of the topic's label and id weigh twice its description's,
    each weighted by how few topics share it (a word in every description says nothing)."""

    def __init__(self, topics: dict[str, tuple[str, str | None]]):
        self.topics = []
        doc_freq: dict[str, int] = {}
        for topic_id, (label, description) in topics.items():
            strong = set(_content_stems(f"{label} {topic_id.replace('-', ' ')}"))
            weak = set(_content_stems(description or "")) - strong
            self.topics.append((topic_id, strong, weak))
            for stem in strong | weak:
                doc_freq[stem] = doc_freq.get(stem, 0) + 1
        total = max(1, len(topics))
        self.idf = {stem: math.log(1 + total / df) for stem, df in doc_freq.items()}

    def suggest(self, statement: str) -> list[str]:
        words = set(_content_stems(statement))
        scored = []
        for order, (topic_id, strong, weak) in enumerate(self.topics):
            strong_hits, weak_hits = words & strong, words & weak
            # A label matched in full ("Compassionate care") beats one word of it ("compassion").
            coverage = len(strong_hits) / len(strong) if strong else 0.0
            score = sum(2 * self.idf[s] for s in strong_hits) * (0.5 + 0.5 * coverage)
            score += sum(self.idf[s] for s in weak_hits)
            if strong_hits or len(weak_hits) >= 2:
                scored.append((-score, order, topic_id))
        return [topic_id for _, _, topic_id in sorted(scored)[:MAX_TOPICS]]
