"""The labelled evaluation set and the quality bar: hybrid hit@3 >= 0.9 and better than either mode alone."""

from __future__ import annotations

import json
import re
import sqlite3

import pytest
from click.testing import CliRunner

from kb.cli import cli
from search.evaluate import evaluate, first_relevant_rank, load_queries, metrics, unknown_targets
from search.keyword import STOPWORDS


@pytest.fixture(scope="module")
def queries():
    return load_queries()


@pytest.fixture(scope="module")
def report(built_db, queries):
    return evaluate(built_db, queries)


def _words(text: str) -> set[str]:
    return {w for w in re.findall(r"[a-z0-9]+", text.lower()) if w not in STOPWORDS and len(w) > 2}


def test_eval_set_is_large_labelled_and_split(built_db, queries):
    assert len(queries) >= 40
    assert unknown_targets(built_db, queries) == []
    splits = {q.split for q in queries}
    assert splits == {"tune", "heldout"}
    assert sum(q.split == "heldout" for q in queries) >= 15
    assert len({q.query.lower() for q in queries}) == len(queries)


def test_many_queries_share_no_word_with_their_target_statement(built_db, queries):
    conn = sqlite3.connect(built_db)
    statements = dict(conn.execute("select id, statement from claims"))
    disjoint = [q for q in queries if all(not (_words(q.query) & _words(statements[t])) for t in q.targets)]
    assert len(disjoint) >= 0.25 * len(queries), len(disjoint)


def test_metric_arithmetic():
    assert first_relevant_rank(["a", "b", "c"], ["c", "z"]) == 3
    assert first_relevant_rank(["a"], ["z"]) is None
    m = metrics([1, 3, None, 2])
    assert m == {"n": 4, "hit@1": 0.25, "hit@3": 0.75, "hit@10": 0.75, "mrr": pytest.approx((1 + 1 / 3 + 1 / 2) / 4)}


def test_hybrid_hit_at_3_is_at_least_0_9(report):
    assert report["hybrid"]["all"]["hit@3"] >= 0.9
    assert report["hybrid"]["heldout"]["hit@3"] >= 0.9


def test_hybrid_beats_keyword_only_and_semantic_only(report):
    hybrid, keyword, semantic = (report[m]["all"] for m in ("hybrid", "keyword", "semantic"))
    for other in (keyword, semantic):
        assert hybrid["hit@3"] >= other["hit@3"]
        assert hybrid["mrr"] > other["mrr"]


def test_kb_eval_prints_the_table(built_db):
    result = CliRunner().invoke(cli, ["eval", "--db", str(built_db)])
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert lines[0].split() == ["mode", "split", "n", "hit@1", "hit@3", "MRR"]
    assert {line.split()[0] for line in lines[1:]} == {"hybrid", "semantic", "keyword"}
    as_json = CliRunner().invoke(cli, ["eval", "--db", str(built_db), "--json", "--mode", "keyword"])
    data = json.loads(as_json.stdout)
    assert set(data) == {"keyword"} and 0 <= data["keyword"]["all"]["mrr"] <= 1


def test_kb_eval_rejects_labels_for_claims_that_do_not_exist(built_db, tmp_path):
    bad = tmp_path / "q.yaml"
    bad.write_text("queries:\n  - query: x\n    targets: [no-such-claim]\n    split: tune\n")
    result = CliRunner().invoke(cli, ["eval", "--db", str(built_db), "--queries", str(bad)])
    assert result.exit_code == 1 and "no-such-claim" in result.output
