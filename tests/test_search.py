"""kb search and search.search(): results, the JSON contract, filters, modes and hostile input.

Real model, real FAISS index, real SQLite: the session fixture `built_db`
(tests/conftest.py) builds the real KB once.
"""

from __future__ import annotations

import json
import re
import shutil
import sqlite3
import subprocess
import sys

import pytest
import sqlite_utils
from click.testing import CliRunner
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import search
from ingest.db import unseal
from kb.cli import cli
from search import IndexMissing, IndexStale, InvalidQuery, NoEmbeddings, SearchError
from search.index import fingerprint_path_for, index_path_for
from search.retrieve import MAX_QUERY_CHARS

RESULT_FIELDS = {
    "id",
    "rank",
    "score",
    "statement",
    "quote",
    "kind",
    "topics",
    "certainty",
    "effect",
    "study_design",
    "year",
    "citations",
    "citation",
    "document",
    "location",
    "ranks",
}
LOCATION_FIELDS = {"line_start", "line_end", "char_start", "char_end", "slide_number", "slide_heading"}


def run(*args):
    return CliRunner().invoke(cli, list(args))


def search_json(db, *args):
    result = run("search", *args, "--db", str(db), "--json")
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def test_diabetes_question_returns_diabetes_finding_first_with_effect(built_db):
    results = search_json(built_db, "evidence for compassion in diabetes care")
    top = results[0]
    assert top["id"].startswith("diabetes-"), [r["id"] for r in results[:3]]
    assert "diabetes" in top["topics"]
    assert top["effect"]["text"] and top["effect"]["value"] is not None
    assert top["kind"] == "finding"
    assert "citation" in top and isinstance(top["citations"], list)


def test_paraphrase_with_no_shared_word_finds_the_opiate_finding(built_db):
    # "painkiller" is not in the statement ("opiate pain relief"): the vectors carry it.
    ids = [r["id"] for r in search_json(built_db, "do kind anaesthetists cut painkiller use", "-k", "3")]
    assert ids[0] == "anaesthetist-compassion-lower-opiate-requirement"


def test_json_contract_fields_and_types(built_db):
    results = search_json(built_db, "compassionate leadership", "-k", "50")
    assert results and [r["rank"] for r in results] == list(range(1, len(results) + 1))
    for r in results:
        assert RESULT_FIELDS <= set(r), RESULT_FIELDS - set(r)
        assert isinstance(r["topics"], list) and isinstance(r["citations"], list)
        assert set(r["location"]) == LOCATION_FIELDS
        assert set(r["document"]) == {"id", "title"} and r["document"]["title"]
        assert r["statement"] and r["quote"]
        if r["effect"] is not None:
            assert set(r["effect"]) == {"text", "metric", "value", "direction"}
        for c in r["citations"]:
            assert set(c) == {"key", "short"} and c["short"].startswith("(")
        if r["citations"]:
            assert r["citation"].startswith("(") and r["citation"].endswith(")")
    scores = [r["score"] for r in results]
    assert scores == sorted(scores, reverse=True)


def test_results_carry_short_citations_when_the_claim_has_sources(built_db):
    conn = sqlite3.connect(built_db)
    claim_id, statement = conn.execute(
        "select id, statement from claims where source_keys != '[]' order by id limit 1"
    ).fetchone()
    hits = search.search(built_db, statement, k=5)
    hit = next(h for h in hits if h.id == claim_id)
    assert hit.citations and all(c["short"] for c in hit.citations)
    assert hit.citation and hit.citations[0]["short"][1:-1] in hit.citation


def test_location_matches_the_document_text(built_db):
    conn = sqlite3.connect(built_db)
    text = conn.execute("select text from documents").fetchone()[0]
    for r in search.search(built_db, "HIV adherence to therapy", k=3):
        loc = r.location
        assert text[loc["char_start"] : loc["char_end"]] == r.quote
        assert loc["line_start"] <= loc["line_end"]


def test_human_output_is_numbered_and_shows_effect_and_location(built_db):
    result = run("search", "kind anaesthetists and painkillers", "--db", str(built_db), "-k", "3")
    assert result.exit_code == 0, result.output
    out = result.stdout
    assert out.startswith("1. ") and "\n\n2. " in out and "\n\n3. " in out
    assert "Effect: 50% lower requirement for opiates" in out
    assert "slide 4" in out and "id: anaesthetist-compassion-lower-opiate-requirement" in out


def test_modes_differ_and_keyword_finds_exact_acronym(built_db):
    keyword = [r.id for r in search.search(built_db, "HIV", k=2, mode="keyword")]
    assert keyword and all(i.startswith("hiv-") for i in keyword)
    semantic = search.search(built_db, "HIV", k=2, mode="semantic")
    assert all(-1.0 <= r.score <= 1.0 for r in semantic)
    hybrid = search.search(built_db, "HIV", k=2)
    assert set(hybrid[0].ranks) == {"keyword", "semantic"}
    assert all(r.id.startswith("hiv-") for r in hybrid)


def test_api_accepts_path_connection_and_sqlite_utils_database(built_db):
    q = "rough sleepers coming back to casualty"
    by_path = [r.id for r in search.search(str(built_db), q, k=3)]
    by_conn = [r.id for r in search.search(sqlite3.connect(built_db), q, k=3)]
    by_db = [r.id for r in search.search(sqlite_utils.Database(built_db), q, k=3)]
    assert by_path == by_conn == by_db
    assert by_path[0] == "homeless-ed-compassion-return-visits"
    assert search.search(built_db, q, k=1)[0].to_dict()["id"] == by_path[0]


@pytest.mark.parametrize("mode", ["hybrid", "semantic", "keyword"])
def test_topic_filter_restricts_every_mode(built_db, mode):
    results = search.search(built_db, "compassion improves outcomes", k=20, mode=mode, topic="diabetes")
    assert results and all("diabetes" in r.topics for r in results)
    several = search.search(built_db, "compassion", k=50, mode=mode, topic=["hiv", "diabetes"])
    assert {t for r in several for t in r.topics} >= {"hiv", "diabetes"}
    assert all({"hiv", "diabetes"} & set(r.topics) for r in several)


def test_kind_design_effect_and_year_filters(built_db):
    findings = search.search(built_db, "compassion", k=100, kind="finding", has_effect=True)
    assert findings and all(r.kind == "finding" and r.effect and r.effect["metric"] for r in findings)
    rcts = search.search(built_db, "compassion", k=100, study_design="rct")
    assert rcts and all(r.study_design == "rct" for r in rcts)
    recent = search.search(built_db, "teams", k=100, year_min=2015, year_max=2030)
    assert recent and all(r.year is not None and 2015 <= r.year <= 2030 for r in recent)
    assert search.search(built_db, "teams", k=100, year_min=3000) == []


def test_cli_filters_and_unknown_values(built_db):
    out = search_json(built_db, "compassion", "--topic", "hiv", "--kind", "finding", "--has-effect")
    assert out and all("hiv" in r["topics"] and r["effect"] for r in out)
    bad = run("search", "compassion", "--db", str(built_db), "--topic", "astrology")
    assert bad.exit_code == 2 and "unknown topic 'astrology'" in bad.output and "Traceback" not in bad.output
    bad_kind = run("search", "compassion", "--db", str(built_db), "--kind", "rumour")
    assert bad_kind.exit_code == 2 and "unknown kind" in bad_kind.output


HOSTILE = [
    '"',
    '""',
    '"unterminated',
    "*",
    "compassion*",
    "NEAR(compassion leadership)",
    "compassion NEAR leadership",
    "AND",
    "compassion AND",
    "OR OR OR",
    "NOT",
    "(",
    ")",
    "((compassion)",
    "-",
    "-compassion",
    "compassion -care",
    "statement:compassion",
    "{statement}: x",
    "^compassion",
    "a:b:c",
    "'; drop table claims; --",
    "%_%",
    "😀🙏💙",
    "compasión en el cuidado de la diabetes",
    "糖尿病患者への思いやり",
    "сострадание врачей",
    "الرحمة في الرعاية",
    "\u0000compassion\u0007",
    "\ud800 lone surrogate",
    "x" * 20,
    "the of and a",
    "compassion " * 200,
]


@pytest.mark.parametrize("query", HOSTILE)
def test_hostile_queries_never_raise(built_db, query):
    result = run("search", query, "--db", str(built_db), "--json")
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    assert "Traceback" not in result.output
    if result.exit_code == 0:
        assert isinstance(json.loads(result.stdout), list)
    else:
        assert result.exit_code == 2 and "Error" in result.output


@pytest.mark.parametrize("query", ["", "   ", "\n\t "])
def test_empty_query_is_a_usage_error(built_db, query):
    result = run("search", query, "--db", str(built_db))
    assert result.exit_code == 2 and "query is empty" in result.output
    assert run("search", "--db", str(built_db)).exit_code == 2
    with pytest.raises(InvalidQuery):
        search.search(built_db, query)


def test_long_query_is_truncated_with_a_notice(built_db):
    query = "does compassion in diabetes care improve blood sugar " * 40
    result = run("search", query, "--db", str(built_db), "--json", "-k", "3")
    assert result.exit_code == 0
    assert "Note: query truncated to its first" in result.stderr
    assert json.loads(result.stdout)[0]["id"].startswith("diabetes-")
    results = search.search(built_db, query, k=3)
    assert results.notices and len(query) > MAX_QUERY_CHARS


@pytest.mark.parametrize("k", ["0", "-1", "-99999"])
def test_non_positive_k_is_a_usage_error(built_db, k):
    result = run("search", "compassion", "--db", str(built_db), "-k", k)
    assert result.exit_code == 2 and "k must be at least 1" in result.output


def test_absurd_k_returns_every_claim_once(built_db):
    n = sqlite3.connect(built_db).execute("select count(*) from claims").fetchone()[0]
    for mode in ("hybrid", "semantic"):
        out = search_json(built_db, "compassion", "-k", str(10**30), "--mode", mode)
        ids = [r["id"] for r in out]
        assert len(ids) == len(set(ids)) == n
    assert run("search", "x", "--db", str(built_db), "-k", "lots").exit_code == 2
    with pytest.raises(InvalidQuery):
        search.search(built_db, "x", k=2.5)


def test_unknown_mode_and_filter_raise_invalid_query(built_db):
    with pytest.raises(InvalidQuery, match="mode must be one of"):
        search.search(built_db, "x", mode="fuzzy")
    with pytest.raises(InvalidQuery, match="unknown filter colour"):
        search.search(built_db, "x", colour="red")


def test_missing_database_is_a_clean_error(tmp_path):
    result = run("search", "compassion", "--db", str(tmp_path / "nope.db"))
    assert result.exit_code == 1 and "not found; run `kb build" in result.output


def test_database_that_is_not_a_kb_is_a_clean_error(tmp_path):
    other = tmp_path / "other.db"
    sqlite3.connect(other).execute("create table t (x)")
    result = run("search", "compassion", "--db", str(other), "--mode", "keyword")
    assert result.exit_code == 1 and "not an Evidence KB database" in result.output


@pytest.fixture
def db_copy(built_db, tmp_path):
    """A private copy of the built KB with its index, to damage."""
    dest = tmp_path / "kb.db"
    shutil.copy2(built_db, dest)
    shutil.copy2(index_path_for(built_db), index_path_for(dest))
    shutil.copy2(fingerprint_path_for(built_db), fingerprint_path_for(dest))
    unseal(dest)  # the build seals a KB read-only; this copy is for damaging
    return dest


def test_no_embeddings_gives_a_fix_and_keyword_still_works(built_db_no_embed):
    for mode in ("hybrid", "semantic"):
        with pytest.raises(NoEmbeddings, match="--no-embed"):
            search.search(built_db_no_embed, "compassion", mode=mode)
        result = run("search", "compassion", "--db", str(built_db_no_embed), "--mode", mode)
        assert result.exit_code == 1 and f"kb build --db {built_db_no_embed}" in result.output
    assert search.search(built_db_no_embed, "HIV", mode="keyword")


def test_missing_index_says_how_to_rebuild(db_copy):
    index_path_for(db_copy).unlink()
    with pytest.raises(IndexMissing, match="missing"):
        search.search(db_copy, "compassion")
    result = run("search", "compassion", "--db", str(db_copy))
    assert result.exit_code == 1 and "kb build --db" in result.output and "--mode keyword" in result.output


def test_stale_index_is_detected(db_copy):
    assert search.search(db_copy, "compassion", k=1)
    with sqlite3.connect(db_copy) as conn:
        conn.execute(
            "update claim_embeddings set content_hash = 'changed' where rowid = (select min(rowid) from claim_embeddings)"
        )
    with pytest.raises(IndexStale, match="stale"):
        search.search(db_copy, "compassion")
    with sqlite3.connect(db_copy) as conn:
        conn.execute("delete from claim_embeddings where rowid = (select min(rowid) from claim_embeddings)")
    result = run("search", "compassion", "--db", str(db_copy))
    assert result.exit_code == 1 and "stale" in result.output and "kb build" in result.output


def test_index_from_another_model_is_refused(db_copy):
    with pytest.raises(IndexStale, match="built with model"):
        search.search(db_copy, "compassion", model="some-other-model")
    fp = json.loads(fingerprint_path_for(db_copy).read_text())
    fp["model"] = "another-model"
    fingerprint_path_for(db_copy).write_text(json.dumps(fp))
    with pytest.raises(IndexStale, match="another-model"):
        search.search(db_copy, "compassion")


def test_corrupt_index_file_is_a_clean_error(db_copy):
    index_path_for(db_copy).write_bytes(b"not a faiss index")
    result = run("search", "compassion", "--db", str(db_copy))
    assert result.exit_code == 1 and "is not the one this database was built with" in result.output
    assert "kb build" in result.output


def test_a_swapped_index_of_the_same_shape_is_refused(db_copy):
    import faiss
    import numpy as np

    path = index_path_for(db_copy)
    original = faiss.read_index(str(path))
    vectors = original.reconstruct_n(0, original.ntotal)
    swapped = faiss.IndexFlatIP(original.d)
    swapped.add(np.ascontiguousarray(vectors[::-1]))  # same count, same dimension, wrong order
    faiss.write_index(swapped, str(path))
    with pytest.raises(IndexStale, match="not the one this database was built with"):
        search.search(db_copy, "blood sugar control in diabetes", mode="semantic")


def test_an_unreadable_index_of_the_right_size_is_refused_by_its_hash(db_copy):
    # The hash and faiss's read run side by side at load; the hash must still speak first.
    path = index_path_for(db_copy)
    path.write_bytes(b"\0" * path.stat().st_size)
    with pytest.raises(IndexStale, match="not the one this database was built with"):
        search.search(db_copy, "compassion", mode="semantic")


def test_the_query_encoder_is_checked_again_when_its_export_changes(built_db, tmp_path):
    from search.index import load_index
    from search.onnx_encoder import fingerprint_path_of, onnx_path_for

    db = tmp_path / "kb.db"
    shutil.copy2(built_db, db)  # first: it records its index's name
    for source, target in (
        (index_path_for(built_db), index_path_for(db)),
        (fingerprint_path_for(built_db), fingerprint_path_for(db)),
        (onnx_path_for(built_db), onnx_path_for(db)),
        (fingerprint_path_of(onnx_path_for(built_db)), fingerprint_path_of(onnx_path_for(db))),
    ):
        shutil.copy2(source, target)
    assert search.search(db, "compassion", k=1, mode="semantic")
    with sqlite3.connect(db) as conn:
        index = load_index(conn, db)
    assert index.encoder() is index.encoder()  # looked up once, not on every query
    export = fingerprint_path_of(onnx_path_for(db))
    export.write_text(json.dumps({**json.loads(export.read_text()), "dimension": 768}))
    with pytest.raises(IndexStale, match="kb build"):
        search.search(db, "compassion", k=1, mode="semantic")


def test_relative_database_paths_are_keyed_by_working_directory(tmp_path, monkeypatch):
    from search.paths import resolved_path

    for name in ("a", "b"):
        (tmp_path / name).mkdir()
    monkeypatch.chdir(tmp_path / "a")
    in_a = resolved_path("kb.db")
    monkeypatch.chdir(tmp_path / "b")
    assert resolved_path("kb.db") == str((tmp_path / "b" / "kb.db").resolve()) != in_a
    assert resolved_path(tmp_path / "a" / "kb.db") == in_a


def test_an_index_without_a_recorded_hash_that_cannot_be_read_is_a_clean_error(db_copy):
    import json

    fingerprint = json.loads(fingerprint_path_for(db_copy).read_text())
    fingerprint.pop("index_sha256"), fingerprint.pop("index_bytes")
    fingerprint_path_for(db_copy).write_text(json.dumps(fingerprint))
    with sqlite3.connect(db_copy) as conn:
        conn.execute("delete from kb_artifacts")  # an index from before hashes were recorded
    legacy = db_copy.with_name(db_copy.name + ".faiss")
    index_path_for(db_copy)  # the recorded name is gone: the plain name is used
    legacy.write_bytes(b"not a faiss index")
    fingerprint_path_for(db_copy).write_text(json.dumps(fingerprint))
    result = run("search", "compassion", "--db", str(db_copy))
    assert result.exit_code == 1 and "cannot be read" in result.output


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(query=st.text(max_size=80), mode=st.sampled_from(["hybrid", "keyword"]))
def test_any_text_returns_results_or_invalid_query(built_db, query, mode):
    try:
        results = search.search(built_db, query, k=5, mode=mode)
    except InvalidQuery:
        # Only a query with nothing but blanks and control characters is refused.
        assert not re.sub(r"[\s\x00-\x1f\x7f-\x9f]", "", query)
        return
    assert len(results) <= 5
    assert all(isinstance(r.to_dict(), dict) for r in results)


def test_search_errors_share_a_base_class():
    assert issubclass(IndexMissing, SearchError) and issubclass(InvalidQuery, ValueError)


def test_importing_search_loads_no_heavy_libraries():
    code = (
        "import sys, search, search.retrieve, kb.cli;"
        "print(sorted(m for m in ('torch', 'faiss', 'sentence_transformers', 'transformers', 'numpy') if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"


def test_query_time_does_not_import_torch(built_db):
    # A full hybrid search in a fresh process must not pay for torch/sentence-transformers.
    code = (
        "import sys, search;"
        f"r = search.search({str(built_db)!r}, 'kind anaesthetists', k=1);"
        "print(r[0].id.split('-')[0], 'torch' in sys.modules, 'sentence_transformers' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.split()
    assert out == ["anaesthetist", "False", "False"]


def test_keyword_query_is_quoted_words_never_syntax(built_db):
    from search.keyword import analyse, query_terms

    assert query_terms('Is there evidence that "HIV" AND (statins) NEAR -aspirin* work?') == [
        "hiv",
        "statins",
        "near",
        "aspirin",
        "work",
    ]
    conn = sqlite3.connect(built_db)
    q = analyse(conn, "HIV NEAR(aspirin)")
    assert q.expression.startswith('"hiv" OR ')
    assert all(part.startswith('"') for part in q.expression.split(" OR "))
    assert analyse(conn, "the of and what is").expression is None


def test_keyword_budget_keeps_rarest_words_on_large_collections(built_db, monkeypatch):
    import search.keyword as kw

    conn = sqlite3.connect(built_db)
    monkeypatch.setattr(kw, "POSTINGS_BUDGET", 3)  # the 45+ claims now count as "large"
    q = kw.analyse(conn, "compassion HIV")
    assert q.terms == ["hiv"] and q.overlap == 1.0  # "compassion" is in most claims: over budget
    assert kw.analyse(conn, "compassion", always=False).expression is None  # hybrid leaves it to the vectors
    assert kw.analyse(conn, "compassion", always=True).terms == ["compassion"]  # keyword mode still answers


def test_hybrid_spends_a_smaller_keyword_budget_and_refused_prefixes_cost_nothing(built_db, monkeypatch):
    import search.keyword as kw

    conn = sqlite3.connect(built_db)
    monkeypatch.setattr(kw, "POSTINGS_BUDGET", 10)  # hybrid's share: 5
    # "burnout" is in 8 of the claims: inside keyword mode's budget, over hybrid's.
    assert kw.analyse(conn, "hiv burnout", always=True).terms == ["hiv", "burnout"]
    assert kw.analyse(conn, "hiv burnout", always=False).terms == ["hiv"]
    # An unknown word's prefix ("compassionat"*) matches over the budget: refused, and not counted either,
    # so the query is not treated as over budget.
    q = kw.analyse(conn, "hiv compassionatexx")
    assert q.expression == '"hiv"' and q.postings == 2


def test_over_budget_keyword_search_ranks_as_the_full_search_does(built_db, monkeypatch):
    import dataclasses

    import search.keyword as kw
    from search.retrieve import filter_sql

    conn = sqlite3.connect(built_db)
    with_effect = filter_sql(conn, {"has_effect": True})
    monkeypatch.setattr(kw, "POSTINGS_BUDGET", 3)  # "compassion" alone is now over budget
    over = kw.analyse(conn, "compassion")
    assert over.postings > kw.POSTINGS_BUDGET
    uncapped = dataclasses.replace(over, postings=0)  # the same expression, ranked by the ordinary path
    # Fewer matches than CANDIDATE_LIMIT: the capped path scores them all, so its ranking is the full one.
    for expected, got in (
        (kw.keyword_search(conn, uncapped, 10), kw.keyword_search(conn, over, 10)),
        (kw.keyword_search(conn, uncapped, 10, with_effect), kw.keyword_search(conn, over, 10, with_effect)),
    ):
        assert len(expected) >= 5 and [cid for cid, _ in got] == [cid for cid, _ in expected]
        assert [s for _, s in got] == pytest.approx([s for _, s in expected])


def test_vocabulary_overlap_scales_with_known_words(built_db):
    from search.keyword import analyse

    conn = sqlite3.connect(built_db)
    assert analyse(conn, "HIV").overlap == 1.0
    assert analyse(conn, "zxqvw nurses").overlap == 0.5
    assert analyse(conn, "zxqvw qqqzz").overlap == 0.0


def test_a_shallow_vector_search_gives_the_top_of_a_deep_one(built_db):
    # Without a keyword ranking to fuse, search fetches only k vectors; the top k must not change.
    for mode, query in (("semantic", "kindness from doctors"), ("hybrid", "qqqzx kindness")):
        deep = search.search(built_db, query, k=30, mode=mode)
        shallow = search.search(built_db, query, k=3, mode=mode)
        assert [(r.id, r.similarity) for r in shallow] == [(r.id, r.similarity) for r in deep[:3]]


def test_reciprocal_rank_fusion_weights_and_ties():
    from search.fusion import reciprocal_rank_fusion

    fused = reciprocal_rank_fusion({"keyword": ["a", "b"], "semantic": ["b", "c"]}, {"keyword": 1, "semantic": 1}, k=10)
    assert [f[0] for f in fused] == ["b", "a", "c"]
    assert fused[0][2] == {"keyword": 2, "semantic": 1} and fused[1][2] == {"keyword": 1, "semantic": None}
    assert fused[0][1] == pytest.approx(1 / 12 + 1 / 11)
    semantic_heavy = reciprocal_rank_fusion(
        {"keyword": ["a"], "semantic": ["c"]}, {"keyword": 0.3, "semantic": 1}, k=10
    )
    assert [f[0] for f in semantic_heavy] == ["c", "a"]
    assert (
        reciprocal_rank_fusion({"keyword": ["a", "b"], "semantic": ["b", "c"]}, k=10, limit=2)
        == (reciprocal_rank_fusion({"keyword": ["a", "b"], "semantic": ["b", "c"]}, k=10)[:2])
    )


def test_human_output_flags_deck_source_discrepancies(built_db):
    row = (
        sqlite3.connect(built_db)
        .execute("select id, statement from claims where discrepancy is not null order by id limit 1")
        .fetchone()
    )
    if row is None:
        pytest.skip("no discrepant claim in the curated data")
    result = run("search", row[1], "--db", str(built_db), "-k", "1")
    assert f"id: {row[0]}" in result.stdout and "! Deck and source differ:" in result.stdout


def test_related_claims_are_nearest_neighbours_without_the_claim_itself(built_db):
    hits = search.related(built_db, "hiv-compassion-therapy-adherence", k=3)
    ids = [cid for cid, _ in hits]
    assert len(ids) == 3 and "hiv-compassion-therapy-adherence" not in ids
    assert ids[0] == "hiv-compassion-detectable-virus"
    scores = [score for _, score in hits]
    assert scores == sorted(scores, reverse=True)
    assert search.related(built_db, "no-such-claim") == []
