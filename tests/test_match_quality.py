"""Match grades, 'no good match', fitted fusion, certainty in words (issue 10 parts 1, 2, 5)."""

from __future__ import annotations

import json
from pathlib import Path
from urllib.parse import quote

import pytest
import pytest_asyncio

import search
from kb.result_text import NO_GOOD_MATCH, format_result, format_results
from kb.serve import make_datasette
from search.evaluate import load_queries, load_unanswerable, match_report
from search.match import grade
from search.results import certainty_reason

ROOT = Path(__file__).resolve().parent.parent
COST_CLAIMS = {"patient-satisfaction-hospital-cost-savings", "us-gp-compassion-lower-medical-bills"}


def test_grade_thresholds_order_the_evidence():
    assert grade(0.9, 1.0) == "strong"
    assert grade(0.45, 0.0) == "partial"
    assert grade(0.1, 0.0) == "weak"
    assert grade(None, 1.0) == "partial" and grade(None, 0.0) == "weak"


def test_every_result_carries_match_similarity_and_certainty_reason(built_db):
    results = search.search(built_db, "evidence for compassion in diabetes care", k=5)
    assert not results.no_good_match
    for r in results:
        d = r.to_dict()
        assert d["match"] in ("strong", "partial", "weak")
        assert -1 <= d["similarity"] <= 1
        assert d["certainty"] is None or d["certainty_reason"]
        assert "\n" not in (d["certainty_reason"] or "")
    assert results[0].match == "strong"


@pytest.mark.parametrize("query", ["xyzzy qwerty", "how do I bake sourdough bread", "dementia"])
def test_off_topic_and_nonsense_are_no_good_match(built_db, query):
    results = search.search(built_db, query, k=10)
    assert results and results.no_good_match
    assert format_results([r.to_dict() for r in results]).startswith(NO_GOOD_MATCH)


@pytest.mark.parametrize("query", ["does kindness save money", "do compassionate doctors cost less"])
def test_money_questions_find_a_cost_claim_in_the_top_3(built_db, query):
    assert COST_CLAIMS & {r.id for r in search.search(built_db, query, k=3)}


def test_heldout_match_quality_bar(built_db):
    report = match_report(built_db, load_queries(), load_unanswerable())["heldout"]
    # Answerable questions wrongly reported as unanswerable stay rare (the bar: at most 5%).
    assert report["answerable_flagged"] <= 0.05
    # Known shortfall: near misses ("compassion in dementia care") look answered; off-topic ones do not.
    assert report["unanswerable_flagged"] >= 0.5


def test_off_topic_and_nonsense_heldout_are_all_flagged(built_db):
    questions = [q for q in load_unanswerable() if q.split == "heldout" and q.kind in ("off_topic", "nonsense")]
    assert questions
    assert all(search.search(built_db, q.query, k=10).no_good_match for q in questions)


def test_human_output_has_grade_and_reason_not_score(built_db):
    result = search.search(built_db, "do compassionate doctors cost less", k=1)[0].to_dict()
    text = format_result(result)
    assert "match" in text.splitlines()[-1] or "match" in text
    assert "score" not in text
    assert f"Certainty: {result['certainty'].replace('_', ' ')} — " in text


def test_certainty_reason_shortens_the_note_or_falls_back_to_the_rule():
    assert certainty_reason("low", "One small study. Rated down twice.") == "One small study"
    long = certainty_reason("low", "word " * 100)
    assert len(long) <= 161 and long.endswith("…")
    assert "randomised" in certainty_reason("high", None)
    assert certainty_reason(None, None) is None


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def ds(built_db):
    datasette = make_datasette(built_db, ROOT / "metadata.json")
    await datasette.invoke_startup()
    return datasette


@pytest.mark.asyncio(loop_scope="module")
async def test_search_json_header_page_words_and_certainty_page(ds):
    off = await ds.client.get("/-/kb/search.json?q=xyzzy+qwerty")
    assert off.status_code == 200 and off.headers.get("x-kb-no-good-match") == "1"
    assert all(r["match"] == "weak" for r in off.json())
    on = await ds.client.get("/-/kb/search.json?q=do+compassionate+doctors+cost+less")
    assert "x-kb-no-good-match" not in on.headers and on.json()[0]["match"] == "strong"
    envelope = await ds.client.get("/-/kb/search.json?q=xyzzy+qwerty&_envelope=1")
    assert envelope.json()["no_good_match"] is True
    page = await ds.client.get("/-/kb/search?q=xyzzy+qwerty")
    assert "Nothing in the knowledge base answers this well. Closest:" in page.text
    good = await ds.client.get("/-/kb/search?q=do+compassionate+doctors+cost+less")
    assert "Nothing in the knowledge base" not in good.text and "/-/kb/certainty#" in good.text
    explained = await ds.client.get("/-/kb/certainty")
    assert (
        explained.status_code == 200 and "Rate down one level" in explained.text and 'id="very_low"' in explained.text
    )


@pytest.mark.asyncio(loop_scope="module")
async def test_kb_search_sql_rows_carry_match(ds):
    sql = quote("select kb_search('xyzzy qwerty', 3) as r")
    rows = json.loads(
        (await ds.client.get(f"/kb.json?_shape=objects&sql={sql}", follow_redirects=True)).json()["rows"][0]["r"]
    )
    assert rows and all(set(row) == {"id", "score", "match"} and row["match"] == "weak" for row in rows)


def test_words_no_claim_contains_are_named_and_cap_the_grade(built_db):
    # A near miss the sentence model rates like a real match: the KB has no claim mentioning dementia.
    results = search.search(built_db, "compassion in dementia care", k=5)
    assert results.unknown_words == ["dementia"]
    assert "no claim in the knowledge base mentions 'dementia'" in results.notices
    assert {r.match for r in results} <= {"partial", "weak"}
    # Words the KB does hold (stemmed, or by prefix for long words) are not named.
    known = search.search(built_db, "evidence for compassionate diabetes care", k=3)
    assert known.unknown_words == [] and known[0].match == "strong"


def test_unknown_words_reach_the_cli_and_the_json_header(built_db):
    from click.testing import CliRunner

    from kb.cli import cli

    out = CliRunner().invoke(cli, ["search", "--db", str(built_db), "compassion in dementia care", "-k", "2"])
    assert out.exit_code == 0
    assert "Note: no claim in the knowledge base mentions 'dementia'" in out.stderr
    assert "strong match" not in out.stdout


BILLS = "us-gp-compassion-lower-medical-bills"


def test_discrepant_result_leads_with_the_source_figure_everywhere_in_text(built_db):
    result = next(r for r in search.search(built_db, "do compassionate doctors cost less", k=5) if r.id == BILLS)
    assert result.to_dict()["headline"] == {
        "figure": "about 34% lower median annual charges",
        "from": "source",
        "qualifier": "the deck says \u201c51% lower medical bill\u201d",
    }
    assert result.to_dict()["source_effect"]["summary"] == "about 34% lower median annual charges"
    text = format_result(result.to_dict(), width=200)
    assert text.index("Source's figure: about 34% lower") < text.index(
        "the deck says \u201c51% lower medical bill\u201d"
    )
    assert "Effect: 51%" not in text


@pytest.mark.asyncio(loop_scope="module")
async def test_search_and_claim_pages_lead_with_the_source_figure(ds):
    page = (await ds.client.get("/-/kb/search?q=do+compassionate+doctors+cost+less")).text
    item = page[page.index(f'data-claim-id="{BILLS}"') :]
    facts = item[item.index('class="kb-facts"') :]
    facts = facts[: facts.index("</p>")]
    assert "Source: about 34% lower median annual charges" in facts
    assert facts.index("34% lower") < facts.index("the deck says")
    claim = (await ds.client.get(f"/kb/claims/{BILLS}")).text
    head = claim[claim.index('class="kb-facts"') :]
    head = head[: head.index("</p>")]
    assert "Source: about 34% lower median annual charges" in head and "the deck says" in head
