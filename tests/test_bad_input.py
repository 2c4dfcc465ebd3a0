"""Broken inputs: every one gets a message naming file, line and field, a non-zero
exit, and the previous database stays byte-identical."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from click.testing import CliRunner

from kb.cli import cli

CLAIMS = Path("evidence/claims/inspiring-through-compassionate-leadership.yaml")
DOC_META = Path("evidence/documents/inspiring-through-compassionate-leadership.yaml")
DOC_TEXT = Path("evidence/documents/inspiring-through-compassionate-leadership.txt")


@pytest.fixture
def good_build(kb_copy):
    """A project copy with a good database already built from it."""
    db = kb_copy / "build" / "kb.db"
    result = CliRunner().invoke(cli, ["build", "--root", str(kb_copy), "--db", str(db), "--no-embed", "-q"])
    assert result.exit_code == 0, result.output
    return kb_copy, db, db.read_bytes()


def edit(root: Path, rel: Path, old: str, new: str, count: int = 1) -> int:
    """Replace text in a copied input; returns the 1-based line of the change."""
    path = root / rel
    text = path.read_text(encoding="utf-8")
    assert old in text, f"{old!r} not in {rel}"
    line = text[: text.index(old)].count("\n") + 1
    path.write_text(text.replace(old, new, count), encoding="utf-8")
    return line


def append_bib(root: Path, text: str) -> int:
    """Append BibTeX to the copied citations.bib; returns the line where it starts."""
    bib = root / "citations.bib"
    old = bib.read_text()
    bib.write_text(old + "\n" + text)
    return old.count("\n") + 2


def line_of(root: Path, rel: Path, needle: str, after: str | None = None) -> int:
    text = (root / rel).read_text(encoding="utf-8")
    start = text.index(after) if after else 0
    return text[: text.index(needle, start)].count("\n") + 1


def assert_rejected(root, db, before, *expected):
    result = CliRunner().invoke(cli, ["build", "--root", str(root), "--db", str(db), "--no-embed", "-q"])
    assert result.exit_code != 0
    output = result.output
    for fragment in expected:
        assert fragment in output, f"{fragment!r} missing from:\n{output}"
    assert db.read_bytes() == before, "the previous database changed"
    assert not [p for p in db.parent.iterdir() if p.name.endswith(".tmp")], "temp file left behind"
    # kb check reports the same problem without touching anything
    check = CliRunner().invoke(cli, ["check", "--root", str(root)])
    assert check.exit_code != 0
    return output


def test_unknown_citation_key(good_build):
    root, db, before = good_build
    line = edit(root, CLAIMS, "key: sonnentag2017advances", "key: sonnentag2099nowhere")
    assert_rejected(root, db, before, f"{CLAIMS}:{line}", "sources.key", "unknown citation key 'sonnentag2099nowhere'")


def test_duplicate_claim_id(good_build):
    root, db, before = good_build
    text = (root / CLAIMS).read_text()
    first_id = re.search(r"- id: (\S+)", text).group(1)
    second_id = re.findall(r"- id: (\S+)", text)[1]
    line = edit(root, CLAIMS, f"- id: {second_id}\n", f"- id: {first_id}\n")
    assert_rejected(root, db, before, f"{CLAIMS}:{line}", "id:", f"duplicate claim id {first_id!r}")


def test_duplicate_citation_key(good_build):
    root, db, before = good_build
    line = append_bib(root, "@misc{west2021compassionate,\n  title = {Another}\n}\n")
    assert_rejected(root, db, before, f"citations.bib:{line}", "key:", "duplicate citation key 'west2021compassionate'")


def test_quote_not_in_document(good_build):
    root, db, before = good_build
    line = edit(root, CLAIMS, 'text: "Canada RCT of homeless', 'text: "Norway RCT of homeless')
    assert_rejected(root, db, before, f"{CLAIMS}:{line}", "quote.text", "quote not found verbatim")


def test_quote_at_wrong_offsets(good_build):
    root, db, before = good_build
    text = (root / CLAIMS).read_text()
    match = re.search(r'text: "Canada RCT of homeless[^\n]*\n\s+start: (\d+)', text)
    start = int(match.group(1))
    line = edit(root, CLAIMS, f"start: {start}\n", f"start: {start + 3}\n")
    assert_rejected(root, db, before, f"{CLAIMS}:{line}", "quote.start", f"quote is at offsets {start}-")


def test_quote_on_wrong_line(good_build):
    root, db, before = good_build
    text = (root / CLAIMS).read_text()
    match = re.search(r'text: "Canada RCT of homeless[^\n]*\n\s+start: \d+\n\s+end: \d+\n\s+line: (\d+)', text)
    wrong = int(match.group(1)) + 1
    edit(root, CLAIMS, match.group(0), match.group(0)[: -len(match.group(1))] + str(wrong))
    assert_rejected(root, db, before, "quote.line", f"not {wrong}")


def test_malformed_bibtex(good_build):
    root, db, before = good_build
    line = append_bib(root, "@article{broken2020,\n  title = {Unclosed\n\n@misc{ok2020, title={Fine}}\n")
    assert_rejected(root, db, before, f"citations.bib:{line}", "malformed BibTeX")


def test_yaml_syntax_error(good_build):
    root, db, before = good_build
    line = edit(root, CLAIMS, "claims:\n", "claims: [\n")
    assert_rejected(root, db, before, f"{CLAIMS}:", "YAML syntax error")
    assert line >= 1


def test_yaml_type_error(good_build):
    root, db, before = good_build
    text = (root / CLAIMS).read_text()
    start = re.search(r"\n\s+start: (\d+)", text).group(1)
    line = edit(root, CLAIMS, f"start: {start}\n", "start: forty\n")
    assert_rejected(root, db, before, f"{CLAIMS}:{line}", "quote.start", "must be an integer, got str 'forty'")


def test_missing_required_field(good_build):
    root, db, before = good_build
    text = (root / CLAIMS).read_text()
    match = re.search(r"\n(\s+)certainty: \w+\n", text)
    record_line = text[: match.start()].count("\n") + 1
    (root / CLAIMS).write_text(text[: match.start()] + "\n" + text[match.end() :])
    output = assert_rejected(root, db, before, "certainty:", "required field is missing")
    assert re.search(rf"{re.escape(str(CLAIMS))}:\d+ \[[a-z0-9-]+\] certainty: required field is missing", output)
    assert record_line > 0


def test_effect_direction_contradicts_value(good_build):
    root, db, before = good_build
    text = (root / CLAIMS).read_text()
    match = re.search(
        r"text: 41% lower odds\n(\s+)metric: odds_percent_change\n\s+value: 41\n\s+direction: decrease", text
    )
    assert match, "expected the curated diabetes complications effect"
    replacement = (
        match.group(0)
        .replace("odds_percent_change", "odds_ratio")
        .replace("value: 41", "value: 0.59")
        .replace("decrease", "increase")
    )
    (root / CLAIMS).write_text(text.replace(match.group(0), replacement))
    line = line_of(root, CLAIMS, "direction: increase", after="text: 41% lower odds")
    assert_rejected(root, db, before, f"{CLAIMS}:{line}", "effect.direction", "odds_ratio 0.59 means decrease")


def test_a_comparison_with_a_number_is_refused(good_build):
    """`comparison` records a figure-less comparison; a value there would be a figure nobody stated."""
    root, db, before = good_build
    edit(root, CLAIMS, "      metric: comparison\n", "      metric: comparison\n      value: 2\n")
    line = line_of(root, CLAIMS, "value: 2", after="metric: comparison")
    assert_rejected(root, db, before, f"{CLAIMS}:{line}", "effect.value", "a comparison has no value")


def test_an_overlong_source_figure_summary_is_refused(good_build):
    """`source_effect.summary` is a headline: a sentence belongs in `source_effect.text`."""
    root, db, before = good_build
    long = "about 34% lower median annual charges " * 3
    edit(root, CLAIMS, "      summary: about 34% lower median annual charges\n", f"      summary: {long.strip()}\n")
    line = line_of(root, CLAIMS, f"summary: {long.strip()}")
    assert_rejected(root, db, before, f"{CLAIMS}:{line}", "source_effect.summary", "a headline figure is at most 80")


def test_document_sha256_changed(good_build):
    root, db, before = good_build
    path = root / DOC_TEXT
    path.write_bytes(path.read_bytes().replace(b"Direct ly", b"Directly"))
    line = line_of(root, DOC_META, "sha256:")
    assert_rejected(root, db, before, f"{DOC_META}:{line}", "sha256:", "has changed")


def test_unknown_field_is_reported(good_build):
    root, db, before = good_build
    line = edit(root, CLAIMS, "    certainty: ", "    certanity: low\n    certainty: ")
    assert_rejected(root, db, before, f"{CLAIMS}:{line}", "certanity:", "unknown field")


def test_unknown_topic(good_build):
    root, db, before = good_build
    line = edit(root, CLAIMS, "topics: [", "topics: [astrology, ")
    assert_rejected(root, db, before, f"{CLAIMS}:{line}", "topics:", "unknown topic 'astrology'")


def test_all_problems_reported_at_once(good_build):
    root, db, before = good_build
    edit(root, CLAIMS, "key: sonnentag2017advances", "key: nope1")
    edit(root, CLAIMS, "topics: [", "topics: [astrology, ")
    append_bib(root, "@article{broken, title = {x}\n")
    output = assert_rejected(root, db, before, "nope1", "astrology", "malformed BibTeX")
    assert re.search(r"\d+ problems found", output)


def test_failure_after_validation_leaves_old_db(good_build, tmp_path):
    """A failure late in the build (a model that cannot load, after the tables
    are written) still leaves the old database and no temp files."""
    root, db, before = good_build
    missing_model = tmp_path / "no-such-model"
    result = CliRunner().invoke(
        cli, ["build", "--root", str(root), "--db", str(db), "--model", str(missing_model), "-q"]
    )
    assert result.exit_code == 1
    assert "embedding or indexing failed" in result.output
    assert "was not changed" in result.output
    assert db.read_bytes() == before
    assert sorted(p.name for p in db.parent.iterdir()) == ["kb.db"]
