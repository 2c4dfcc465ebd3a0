"""`kb cite` through click's CliRunner: selection, formats, files, bad selections,
and the real knowledge base."""

from __future__ import annotations

import io
import json

import bibtexparser
import pytest
import rispy
import sqlite_utils
from cite_data import APA_PLAIN
from click.testing import CliRunner
from pptx import Presentation

from kb.cli import cli

HOMELESS = "homeless-ed-compassion-return-visits"


def run(*args):
    return CliRunner().invoke(cli, ["cite", *(str(a) for a in args)], catch_exceptions=False)


def test_registered_on_the_kb_group():
    from kb.cli import cli

    result = CliRunner().invoke(cli, ["cite", "--help"])
    assert result.exit_code == 0 and "--claim" in result.stdout and "--format" in result.stdout


def test_claim_as_apa_by_default(cite_db):
    result = run("--db", cite_db, "--claim", HOMELESS)
    assert result.exit_code == 0
    assert result.stdout == APA_PLAIN["redelmeier1995randomised"] + "\n"


def test_repeated_claims_are_all_cited(cite_db):
    result = run("--db", cite_db, "--claim", HOMELESS, "--claim", "recovery-experiences", "--format", "bibtex")
    keys = [e.key for e in bibtexparser.parse_string(result.stdout).entries]
    assert keys == ["redelmeier1995randomised", "sonnentag2017advances"]


def test_topic_selects_its_claims(cite_db):
    result = run("--db", cite_db, "--topic", "recovery", "--format", "ris")
    ids = {e["id"] for e in rispy.loads(result.stdout)}
    assert ids == {"sonnentag2017advances", "west2021compassionate", "west2019caring", "redelmeier1995randomised"}


def test_all_with_csl_json(cite_db):
    result = run("--db", cite_db, "--all", "--format", "csl-json")
    assert {i["id"] for i in json.loads(result.stdout)} == {
        "redelmeier1995randomised",
        "sonnentag2017advances",
        "west2021compassionate",
        "west2019caring",
    }


@pytest.mark.parametrize("fmt", ["apa-markdown", "apa-html", "markdown"])
def test_text_formats(cite_db, fmt):
    result = run("--db", cite_db, "--claim", HOMELESS, "--format", fmt)
    assert result.exit_code == 0
    expected = {
        "apa-markdown": "*The Lancet*",
        "apa-html": "<i>The Lancet</i>",
        "markdown": "(Redelmeier et al., 1995)",
    }
    assert expected[fmt] in result.stdout


def test_query_uses_search_results_in_rank_order(built_db):
    import search

    query = "compassion in diabetes care"
    expected = [r.id for r in search.search(built_db, query, k=3)]
    result = run("--db", built_db, "--query", query, "-k", 3, "--format", "csl-json")
    assert result.exit_code == 0
    db = sqlite_utils.Database(built_db)
    statements = [db["claims"].get(cid)["statement"] for cid in expected]
    markdown = run("--db", built_db, "--query", query, "-k", 3, "--format", "markdown").stdout
    positions = [markdown.index(s.split(",")[0][:40]) for s in statements]
    assert positions == sorted(positions)


def test_query_with_no_hits_is_a_clear_message(kb_copy, tmp_path):
    from kb.build import build_kb

    claims_file = next((kb_copy / "evidence" / "claims").glob("*.yaml"))
    document = claims_file.read_text(encoding="utf-8").split("claims:")[0]
    claims_file.write_text(document + "claims: []\n", encoding="utf-8")
    empty = tmp_path / "empty.db"
    build_kb(empty, root=kb_copy, progress=False)
    result = run("--db", empty, "--query", "zebra migration")
    assert result.exit_code == 1
    assert "Nothing to cite. No claims matched the query 'zebra migration'." in result.stderr
    assert result.stdout == ""


def test_unknown_claim_ids_are_all_listed(cite_db):
    result = run("--db", cite_db, "--claim", "nope", "--claim", HOMELESS, "--claim", "also-nope")
    assert result.exit_code == 1
    assert "Unknown claim ids: nope, also-nope" in result.stderr
    assert result.stdout == ""


def test_no_selector_is_a_usage_error(cite_db):
    result = run("--db", cite_db)
    assert result.exit_code == 2
    assert "Choose claims with --claim ID, --query TEXT, --topic TOPIC or --all." in result.stderr


def test_topic_without_claims_is_an_empty_selection(cite_db):
    result = run("--db", cite_db, "--topic", "teamwork")
    assert result.exit_code == 1
    assert "Nothing to cite. Topic 'teamwork' has no claims." in result.stderr


def test_unknown_topic_lists_the_known_ones(cite_db):
    result = run("--db", cite_db, "--topic", "astrology")
    assert result.exit_code == 1
    assert "Unknown topic: astrology. Known topics: emergency-care, recovery, teamwork" in result.stderr


def test_missing_database_is_a_clear_error(tmp_path):
    result = run("--db", tmp_path / "nope.db", "--all")
    assert result.exit_code == 1
    assert "Database not found" in result.stderr and "kb build" in result.stderr


def test_missing_fields_are_listed_on_stderr_and_output_still_complete(cite_db):
    result = run("--db", cite_db, "--claim", "fixture-discrepant-claim")
    assert result.exit_code == 0
    assert "Warning: source west2021compassionate is missing: address" in result.stderr
    assert APA_PLAIN["west2021compassionate"] in result.stdout
    assert "Warning" not in result.stdout


def test_unsourced_claims_are_flagged_on_stderr(cite_db):
    result = run("--db", cite_db, "--claim", "unsourced-claim", "--format", "markdown")
    assert result.exit_code == 0
    assert "1 claim has no cited source and is exported without a citation: unsourced-claim" in result.stderr
    assert "No sources cited." in result.stdout


@pytest.mark.parametrize(
    "name, check",
    [
        ("refs.bib", lambda p: bibtexparser.parse_string(p.read_text()).entries[0].key == "redelmeier1995randomised"),
        ("refs.ris", lambda p: rispy.load(p.open(newline=""))[0]["type_of_reference"] == "JOUR"),
        ("refs.json", lambda p: json.loads(p.read_text())[0]["DOI"] == "10.1016/S0140-6736(95)90975-3"),
        ("refs.html", lambda p: "<i>The Lancet</i>" in p.read_text()),
        ("cards.pptx", lambda p: len(Presentation(str(p)).slides) == 2),
    ],
)
def test_output_file_format_follows_its_extension(cite_db, tmp_path, name, check):
    path = tmp_path / name
    result = run("--db", cite_db, "--claim", HOMELESS, "-o", path)
    assert result.exit_code == 0 and result.stdout == ""
    assert f"Wrote {path}: 1 claim(s), 1 source(s)" in result.stderr
    assert check(path)


def test_ris_file_keeps_crlf(cite_db, tmp_path):
    path = tmp_path / "x.ris"
    run("--db", cite_db, "--claim", HOMELESS, "--format", "ris", "-o", path)
    assert path.read_bytes().startswith(b"TY  - JOUR\r\n")


def test_pptx_to_a_pipe_is_the_pptx_bytes(cite_db):
    result = run("--db", cite_db, "--claim", HOMELESS, "--claim", "recovery-experiences", "--format", "pptx")
    deck = Presentation(io.BytesIO(result.stdout_bytes))
    assert len(deck.slides) == 3


# -- the real knowledge base ------------------------------------------------------------


@pytest.fixture(scope="module")
def real_db(built_db_no_embed):
    return built_db_no_embed


def test_real_kb_every_source_formats_and_parses(real_db):
    from kb.cite import render
    from kb.cite.select import open_db

    db = open_db(real_db)
    rows = list(db.query("select * from sources order by key"))
    assert rows
    keys = [r["key"] for r in rows]
    apa = render("apa", [], rows).splitlines()
    assert len(apa) == len(rows) and all(line.strip() for line in apa)
    assert [e.key for e in bibtexparser.parse_string(render("bibtex", [], rows)).entries] == keys
    assert [e["id"] for e in rispy.loads(render("ris", [], rows))] == keys
    assert [i["id"] for i in json.loads(render("csl-json", [], rows))] == keys


def test_real_kb_all_claims_export_to_markdown_and_pptx(real_db, tmp_path):
    from kb.cite.select import open_db

    n_claims = open_db(real_db)["claims"].count
    result = run("--db", real_db, "--all", "-o", tmp_path / "all.pptx")
    assert result.exit_code == 0
    slides = Presentation(str(tmp_path / "all.pptx")).slides
    titles = [s.shapes.title.text_frame.text for s in slides]
    # The evidence map of the selection first, then a card per claim, then the references.
    assert titles[0] == "Evidence map: claims by intervention and outcome"
    assert len([t for t in titles[1:] if not t.startswith("References")]) == n_claims
    assert titles[n_claims + 1] == "References"
    # The map names topics by their labels in the database, not by their spelt-out ids.
    notes = slides[0].notes_slide.notes_text_frame.text
    assert "Costs and use of services" in notes and "Costs and utilisation" not in notes


def test_real_kb_sonnentag_claim_gives_the_exact_reference(real_db):
    result = run("--db", real_db, "--claim", "recovery-experiences")
    assert result.exit_code == 0
    assert result.stdout == APA_PLAIN["sonnentag2017advances"] + "\n"


def test_real_kb_homeless_claim_gives_the_redelmeier_reference(real_db):
    from kb.cite.select import claims_by_id

    claim = claims_by_id(real_db, [HOMELESS])[0]
    if "redelmeier1995randomised" not in json.loads(claim["source_keys"]):
        pytest.skip("the homeless A&E claim is not linked to redelmeier1995randomised in the curated data yet")
    result = run("--db", real_db, "--claim", HOMELESS, "--format", "apa")
    assert result.exit_code == 0
    assert result.stdout == APA_PLAIN["redelmeier1995randomised"] + "\n"
    markdown = run("--db", real_db, "--claim", HOMELESS, "--format", "markdown").stdout
    assert "(Redelmeier et al., 1995)" in markdown


def test_real_kb_query_gives_slide_ready_markdown(built_db):
    pytest.importorskip("search")
    result = run("--db", built_db, "--query", "compassion in diabetes care", "-k", 3, "--format", "markdown")
    assert result.exit_code == 0, result.stderr
    blocks = result.stdout.split("\n---\n")
    assert len(blocks) == 4  # three claims, then the references
    assert any("diabet" in b.lower() for b in blocks[:3])
    assert "(" in blocks[0] and "et al." in result.stdout  # in-text citations
    assert blocks[-1].strip().startswith("## References")


def test_output_extension_decides_the_format_or_is_refused(cite_db, tmp_path):
    ris = tmp_path / "refs.ris"
    assert run("--db", cite_db, "--claim", HOMELESS, "-o", ris).exit_code == 0
    assert ris.read_text().startswith("TY  -")
    for name in ("refs.pdf", "refs.doc", "refs"):
        target = tmp_path / name
        result = CliRunner().invoke(cli, ["cite", "--db", str(cite_db), "--claim", HOMELESS, "-o", str(target)])
        assert result.exit_code == 2 and "cannot write" in result.output, result.output
        assert not target.exists()
