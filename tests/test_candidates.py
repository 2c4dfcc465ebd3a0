"""Segmentation and candidate proposal, measured against the curated slide deck and its claims."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest
import yaml

from ingest.candidates import extract_candidates
from ingest.readers.base import ExtractedDocument, Section, line_starts
from ingest.segment import segment
from ingest.vocabulary import KINDS

ROOT = Path(__file__).resolve().parent.parent
DECK = ROOT / "evidence" / "documents" / "inspiring-through-compassionate-leadership"
CLAIMS = ROOT / "evidence" / "claims" / "inspiring-through-compassionate-leadership.yaml"
DATA = Path(__file__).resolve().parent / "data"
EVIDENCE_KINDS = {"finding", "association", "framework", "recommendation", "quote"}
CONTRACT_KEYS = {
    "id", "quote", "char_start", "char_end", "line_start", "line_end", "page", "slide", "notes", "heading_path",
    "kind", "statement", "effect", "statistics", "warnings", "citations", "topics", "cues", "status", "similar_claims",
}  # fmt: skip


def load_deck(prefix: str = "") -> ExtractedDocument:
    """The deck's text as a txt document, one slide section per slide of its .yaml (optionally after `prefix`)."""
    text = prefix + (DECK.with_suffix(".txt")).read_text(encoding="utf-8")
    slides = yaml.safe_load(DECK.with_suffix(".yaml").read_text(encoding="utf-8"))["slides"]
    starts = line_starts(text)
    shift = prefix.count("\n")
    sections = []
    for i, slide in enumerate(slides):
        start = starts[slide["line"] - 1 + shift]
        end = starts[slides[i + 1]["line"] - 1 + shift] if i + 1 < len(slides) else len(text)
        sections.append(Section("slide", slide["number"], slide["heading"], start, end))
    return ExtractedDocument(text=text, format="txt", kind="slide_deck", file_sha256="test", sections=sections)


def load_topics() -> dict[str, tuple[str, str | None]]:
    entries = yaml.safe_load((ROOT / "evidence" / "topics.yaml").read_text(encoding="utf-8"))
    return {t["id"]: (t["label"], t.get("description")) for t in entries}


def text_doc(text: str) -> ExtractedDocument:
    return ExtractedDocument(text=text, format="txt", kind="other", file_sha256="test")


@pytest.fixture(scope="module")
def deck():
    return load_deck()


@pytest.fixture(scope="module")
def deck_candidates(deck):
    return extract_candidates(deck, document_id="deck", topics=load_topics())


def candidate_at(candidates, doc, needle):
    offset = doc.text.index(needle)
    found = [c for c in candidates if c.char_start <= offset < c.char_end]
    assert found, f"no candidate covers {needle!r}"
    return min(found, key=lambda c: c.char_end - c.char_start)


def test_recall_against_curated_claims(deck, deck_candidates):
    claims = yaml.safe_load(CLAIMS.read_text(encoding="utf-8"))["claims"]
    evidence = [c for c in claims if c["kind"] in EVIDENCE_KINDS]
    assert evidence
    missed = []
    for claim in evidence:
        start, end = claim["quote"]["start"], claim["quote"]["end"]
        assert deck.text[start:end] == claim["quote"]["text"]  # the curated offsets are what we measure against
        if not any(c.char_start < end and start < c.char_end for c in deck_candidates):
            missed.append(claim["id"])
    recall = 1 - len(missed) / len(evidence)
    print(f"\nrecall {recall:.3f} over {len(evidence)} curated claims; missed: {missed}")
    print(f"the deck yields {len(deck_candidates)} candidates from {len(segment(deck))} segments")
    assert recall >= 0.9


def test_every_quote_is_verbatim_and_trimmed(deck, deck_candidates):
    assert deck_candidates
    for c in deck_candidates:
        assert c.quote == deck.text[c.char_start : c.char_end]
        assert c.quote == c.quote.strip() and not c.quote.startswith(("•", "·", "▪"))
        assert c.kind in KINDS and c.status == "candidate" and c.similar_claims == []
        assert set(c.to_dict()) == CONTRACT_KEYS
        assert c.line_start == deck.text.count("\n", 0, c.char_start) + 1
        assert c.line_end >= c.line_start and c.slide is not None and c.page is None and c.notes is False
        assert not c.statement[0].islower() and c.statement.endswith((".", "?", "!")), c.statement
        assert "\n" not in c.statement and "  " not in c.statement and "•" not in c.statement


def test_statement_repairs_split_words(deck, deck_candidates):
    direct = candidate_at(deck_candidates, deck, "Direct ly address")
    assert "Direct ly" in direct.quote
    assert direct.statement == "Directly address the workforce crisis."
    compassionate = candidate_at(deck_candidates, deck, "Make com passionate")
    assert compassionate.statement == "Make compassionate leadership the foundation of this work."
    themes = candidate_at(deck_candidates, deck, "inclusion are m ajor")
    assert "are major themes underpinned by concrete achievements" in themes.statement
    met = candidate_at(deck_candidates, deck, "will be m et")
    assert "will be met now and continuously in the future" in met.statement
    team = candidate_at(deck_candidates, deck, "team -based")
    assert "team-based and cross-boundary working" in team.statement
    # Real words next to each other stay apart.
    gps = candidate_at(deck_candidates, deck, "US GPs")
    assert "51% lower medical bill" in gps.statement and "a specialist" in gps.statement


def test_hyphenation_across_lines_is_joined():
    doc = text_doc("• Staff wellbeing improved with con-\ntinuous support from self-\n\ncompassion training.\n")
    [c] = extract_candidates(doc, document_id="t", topics=load_topics())
    assert "continuous support" in c.statement and "self-compassion" in c.statement


def test_ids_are_stable_across_runs_and_edits_elsewhere(deck, deck_candidates):
    again = extract_candidates(load_deck(), document_id="deck", topics=load_topics())
    assert [c.id for c in again] == [c.id for c in deck_candidates]
    assert len({c.id for c in deck_candidates}) == len(deck_candidates)
    assert all(c.id.startswith("deck--") for c in deck_candidates)
    prefix = "A randomised trial of rota design found nothing of note.\n\n"
    edited = extract_candidates(load_deck(prefix), document_id="deck", topics=load_topics())
    by_id = {c.id: c for c in edited}
    assert len(edited) == len(deck_candidates) + 1  # the inserted paragraph is itself a candidate
    for c in deck_candidates:
        assert c.id in by_id, c.quote
        assert by_id[c.id].quote == c.quote and by_id[c.id].char_start == c.char_start + len(prefix)


def test_segments_never_cross_slides_and_read_back(deck):
    segments = segment(deck)
    assert segments
    for s in segments:
        quote = deck.text[s.char_start : s.char_end]
        assert quote and quote == quote.strip()
        inside = [x for x in deck.sections if x.char_start <= s.char_start and s.char_end <= x.char_end]
        assert inside, f"segment crosses a slide boundary: {quote[:60]!r}"


def test_wrapped_bullets_and_lists(deck):
    segments = segment(deck)
    spans = {(s.char_start, s.char_end): s for s in segments}
    # "Leadership Priorities": one bullet wrapped over lines with blank lines between the parts.
    wrapped = (
        "Ensure equity, diversity and \n\ninclusion are m ajor them es \n\nunderpinned by concrete \n\nachievem ents"
    )
    start = deck.text.index(wrapped)
    assert spans[(start, start + len(wrapped))].kind_hint == "bullet"
    # The value chain: heading plus its five items as one list, the items still there on their own.
    heading = deck.text.index("The value chain of leadership and outcomes")
    [chain] = [s for s in segments if s.kind_hint == "list" and s.char_start == heading]
    assert len(chain.items) == 5
    assert deck.text[chain.char_end - len("finances etc.") : chain.char_end] == "finances etc."
    assert all(spans[item].kind_hint == "bullet" for item in chain.items)


def test_bare_titles_and_context_are_not_proposed(deck, deck_candidates):
    quotes = {c.quote for c in deck_candidates}
    assert "Inspiring Through Compassionate \nLeadership" not in quotes
    assert "Focus on the ABC of Core Needs at Work" not in quotes
    assert "Intention to quit and retention" not in quotes
    assert not any(c.quote.startswith("https://") for c in deck_candidates)


def test_deck_kinds_effects_and_topics(deck, deck_candidates):
    quote = candidate_at(deck_candidates, deck, "What leaders pay attention to")
    assert quote.kind == "quote" and quote.quote.endswith("what it is they should value.")
    assert candidate_at(deck_candidates, deck, "Direct ly address").kind == "recommendation"
    assert candidate_at(deck_candidates, deck, "Staff engagement →").kind == "association"
    survival = candidate_at(deck_candidates, deck, "survived 30% longer")
    assert survival.kind == "finding" and "statistic" in survival.cues and "study" in survival.cues
    assert survival.effect["metric"] == "percent_change" and survival.effect["value"] == 30
    assert survival.effect["direction"] == "increase" and survival.statistics[0] == survival.effect
    assert set(survival.effect) == {"metric", "value", "direction", "ci_low", "ci_high", "ci_level", "p_value", "n"}
    assert "palliative-care" in survival.topics
    assert "diabetes" in candidate_at(deck_candidates, deck, "optimal blood sugar").topics
    assert "hiv" in candidate_at(deck_candidates, deck, "HIV patients").topics
    frameworks = [c for c in deck_candidates if c.kind == "framework"]
    assert any(c.quote.startswith("The value chain") and "value-chain" in c.topics for c in frameworks)
    vocabulary = load_topics()
    assert all(len(c.topics) <= 4 and set(c.topics) <= set(vocabulary) for c in deck_candidates)


def test_abstract_sentences():
    text = (DATA / "candidates_abstract.txt").read_text(encoding="utf-8")
    doc = text_doc(text)
    sentences = [text[s.char_start : s.char_end] for s in segment(doc) if s.kind_hint == "sentence"]
    assert sentences == [
        "Background: Staff engagement in hospitals has been linked with patient outcomes (West et al., 2011).",
        "We tested whether engagement predicts mortality, e.g. in acute trusts, using national survey data.",
        "Methods: A cohort of 1,234 nurses in 46 trusts was followed for three years.",
        "Results: High engagement was associated with lower mortality (OR = 1.89, 95% CI 1.27–2.80; p = 0.003).",
        "Effects were larger in trusts with supportive leaders vs. those without.",
        "Conclusions: Trusts should measure engagement annually.",
    ]
    candidates = extract_candidates(doc, document_id="abstract", topics=load_topics())
    results = candidate_at(candidates, doc, "High engagement")
    assert results.kind == "finding" and results.effect["metric"] == "odds_ratio" and results.effect["value"] == 1.89
    assert candidate_at(candidates, doc, "Trusts should measure").kind == "recommendation"
    assert candidate_at(candidates, doc, "linked with patient").kind == "association"


def test_context_only_text_yields_no_candidates():
    text = (
        "The trust runs four hospitals in the north of England.\n\n"
        "Its board meets every month in the main building. The chair was appointed in the spring.\n\n"
        "• Annual report\n• Board papers\n"
    )
    assert extract_candidates(text_doc(text), document_id="ctx", topics=load_topics()) == []


def test_recommendation_and_attributed_quote():
    text = (
        "Leaders must give staff time to recover after a serious incident.\n\n"
        "“Compassion is the foundation of everything we do in this hospital,” said the chief nurse.\n"
    )
    doc = text_doc(text)
    candidates = extract_candidates(doc, document_id="q", topics=load_topics())
    assert candidate_at(candidates, doc, "Leaders must").kind == "recommendation"
    assert candidate_at(candidates, doc, "“Compassion is").kind == "quote"


def test_segments_respect_section_boundaries_inside_a_paragraph():
    text = "Engagement was associated with lower mortality in the first trust and\nhigher retention in the second.\n"
    cut = text.index("higher")
    doc = dataclasses.replace(
        text_doc(text),
        sections=[Section("page", 1, None, 0, cut), Section("page", 2, None, cut, len(text))],
    )
    for s in segment(doc):
        assert s.char_end <= cut or s.char_start >= cut
    pages = {c.page for c in extract_candidates(doc, document_id="p", topics=load_topics())}
    assert pages == {1, 2}


def test_citations_inside_the_quote_are_matched(deck):
    calls = []

    def match(citation):
        calls.append(citation.text)
        return type("Match", (), {"key": "west2011", "score": 0.9})()

    text = "Engagement predicts mortality (West et al., 2011).\n"
    [c] = extract_candidates(text_doc(text), document_id="c", topics=load_topics(), match_citation=match)
    assert calls and c.citations[0]["key"] == "west2011" and c.citations[0]["score"] == 0.9
    [unmatched] = extract_candidates(text_doc(text), document_id="c", topics=load_topics())
    assert unmatched.citations[0]["key"] is None and unmatched.citations[0]["score"] == 0.0


# --- Real renderings: line breaks without blank lines, sectionless text, unlabelled titles ----------------------


def read(path) -> ExtractedDocument:
    from ingest.readers import read_document

    return read_document(Path(path))


def quotes_of(doc: ExtractedDocument) -> list[str]:
    return [" ".join(c.quote.split()) for c in extract_candidates(doc, document_id="t", topics=load_topics())]


def test_slide_paragraphs_broken_mid_sentence_are_joined(tmp_path):
    from documents import write_pptx

    lines = [
        "Teams that debriefed after each shift",
        "performed 20% better than",
        "controls in a meta-analysis of 46 studies.",
        "Staff reported less stress after training",
    ]
    doc = read(write_pptx(tmp_path / "d.pptx", [("Effects of team debriefs", lines, None)]))
    quotes = quotes_of(doc)
    assert (
        "Teams that debriefed after each shift performed 20% better than controls in a meta-analysis of 46 studies."
        in quotes
    )
    # A capitalised paragraph after a finished sentence is a statement of its own, not a continuation.
    assert "Staff reported less stress after training" in quotes


def test_pdf_lines_without_blank_lines_are_items_under_a_colon_heading(tmp_path):
    lines = [
        "Evidence-based recovery activities",
        "Some findings from randomised trials:",
        "Short walks at lunchtime",
        "Mindfulness sessions (effects fade after a month)",
        "Protected rest breaks on night shifts",
        "Gardening groups",
    ]
    doc = read(write_pdf_doc(tmp_path, [lines]))
    quotes = quotes_of(doc)
    for item in lines[2:]:
        assert item in quotes  # each item under an evidence heading is a finding of its own
    assert not any("Short walks" in q and "Gardening" in q for q in quotes if q != " ".join(lines))


def write_pdf_doc(tmp_path, pages: list[list[str]], name: str = "d.pdf") -> Path:
    from documents import write_pdf

    return write_pdf(tmp_path / name, pages)


WRAPPED_REPORT = [
    "Staff engagement and patient outcomes in acute trusts",
    "In a survey of 2,400 nurses across 46 acute trusts, wards with higher staff engagement reported",
    "Lower rates of patient complaints and shorter lengths of stay than wards with low engagement.",
    "The effect of engagement remained after adjustment for trust size, case mix and staffing levels, and was",
    "strongest where ward leaders held regular team meetings.",
    "",
    "Recommendations",
    "• Trusts should measure engagement every year and",
    "share the results with every ward.",
    "• Leaders must protect time for team reflection.",
]


def test_pdf_prose_wrapped_over_lines_is_one_sentence(tmp_path):
    doc = read(write_pdf_doc(tmp_path, [WRAPPED_REPORT]))
    quotes = quotes_of(doc)
    # The capitalised "Lower" continues a line filled to the margin: one sentence, not two fragments.
    assert any(q.startswith("In a survey of 2,400 nurses") and q.endswith("low engagement.") for q in quotes)
    assert any(q.startswith("The effect of engagement") and q.endswith("regular team meetings.") for q in quotes)
    assert "Trusts should measure engagement every year and share the results with every ward." in quotes
    assert "Recommendations" not in quotes  # the label heads the bullets below it; alone it claims nothing


def test_txt_and_pdf_of_the_same_lines_give_the_same_quotes(tmp_path):
    txt = text_doc("\n".join(WRAPPED_REPORT) + "\n")
    pdf = read(write_pdf_doc(tmp_path, [WRAPPED_REPORT]))  # the PDF's text has no blank line where the txt has one
    assert "\n\n" in txt.text and "\n\n" not in pdf.text.strip()
    assert len(quotes_of(txt)) >= 4 and quotes_of(txt) == quotes_of(pdf)


SECTIONLESS_DECK = (
    "Why compassion matters\n\n"
    "• Compassionate care halved readmissions \n\nin two randomised trials\n\n"
    "• Patients reported 25% less anxiety\n"
    " Core behaviours of \nteam leaders\n\n"
    "• Listening with \n\nfascination\n\n"
    "• Shared understanding\n\n"
    "• Taking intelligent action\n\n\n\n"
    "• Sleep\n\n• Exercise\n\n• Belonging\n\n"
    "\n\ne.mail someone@example.org\nTwitter @someone\nThank you\n"
)


def test_sectionless_text_is_cut_into_slides_at_page_marks_and_blank_runs():
    doc = text_doc(SECTIONLESS_DECK)
    segments = segment(doc)
    lists = {" ".join(doc.text[s.char_start : s.char_end].split()) for s in segments if s.kind_hint == "list"}
    # A line indented by one space starts a new slide whose wrapped title heads its bullets.
    assert (
        "Core behaviours of team leaders • Listening with fascination • Shared understanding • "
        "Taking intelligent action" in lists
    )
    # Two blank lines end a slide: the one-word bullets after them are a list of their own.
    assert "Sleep • Exercise • Belonging" in lists
    assert not any("Why compassion" in q and "Core behaviours" in q for q in lists)
    quotes = quotes_of(doc)
    assert "Compassionate care halved readmissions in two randomised trials" in quotes
    assert not any("@" in q for q in quotes)  # contact details are no list of anything


@pytest.mark.parametrize(
    ("title_lines", "title"),
    [
        (["Leadership for safer", "Wards"], "Leadership for safer Wards"),  # a title wrapped without a connector
        (["Safer wards", "Safer wards"], "Safer wards Safer wards"),  # the slide title, then the text box's own
    ],
)
def test_unlabelled_title_wrapped_or_repeated_heads_its_bullets(tmp_path, title_lines, title):
    bullets = ["• Hold a safety huddle at every handover", "• Escalate staffing gaps the same day"]
    doc = read(write_pdf_doc(tmp_path, [title_lines + bullets]))
    [chain] = [s for s in segment(doc) if s.kind_hint == "list"]
    assert " ".join(doc.text[chain.char_start : chain.items[0][0]].rstrip("• \n").split()) == title
    assert len(chain.items) == 2


def test_a_title_naming_a_structure_heads_its_table_rows(tmp_path):
    page = [
        "Dimensions of a learning culture",
        "Dimension Question",
        "Open reporting Do staff report near misses without fear of blame?",
        "Shared learning Are lessons from incidents shared across wards?",
    ]
    doc = read(write_pdf_doc(tmp_path, [page]))
    frameworks = [c for c in extract_candidates(doc, document_id="t", topics=load_topics()) if c.kind == "framework"]
    assert [" ".join(c.quote.split()) for c in frameworks] == [" ".join(page)]


def test_a_colon_lead_in_and_its_one_statement_are_one_candidate():
    text = (
        "A consistent pattern across the studies:\n\n"
        "Nurses on the most understaffed wards are least likely to take a break\n\n"
        "Smith, J., & Jones, K. (2019). Breaks and burnout. Nursing Times, 3, 1-9.\n"
    )
    doc = text_doc(text)
    [candidate] = extract_candidates(doc, document_id="t", topics=load_topics())
    assert candidate.quote.startswith("A consistent pattern") and candidate.quote.endswith("take a break")
    assert candidate.statement == (
        "A consistent pattern across the studies: Nurses on the most understaffed wards are least likely to take a break."
    )


def test_context_only_pdf_page_of_short_lines_is_at_most_one_list(tmp_path):
    page = [
        "Annual staff conference",
        "Agenda",
        "Welcome and introductions",
        "Coffee in the main hall",
        "Site tour of the new wing",
        "Closing remarks from the chair",
    ]
    # A titled list is proposed once, as a possible framework (a curator rejects an agenda in one click);
    # none of its lines is proposed on its own.
    assert quotes_of(read(write_pdf_doc(tmp_path, [page]))) == [" ".join(page)]
