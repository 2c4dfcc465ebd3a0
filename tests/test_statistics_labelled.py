"""Precision and recall of find_statistics on the hand-labelled strings in tests/data/statistics_labelled.yaml.

The scoring lives in benchmarks/effects_accuracy.py (which prints the table); this test holds the floor.
"""

import importlib.util
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
_spec = importlib.util.spec_from_file_location("effects_accuracy", ROOT / "benchmarks" / "effects_accuracy.py")
accuracy = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(accuracy)

CASES = accuracy.load_cases()
TABLE, MISSES = accuracy.score(CASES)


def test_labelled_set_is_large_and_varied():
    assert len(CASES) >= 300
    assert sum(not case["stats"] for case in CASES) >= 40  # negatives that must yield nothing
    metrics = {stat["metric"] for case in CASES for stat in case["stats"]}
    assert len(metrics) >= 15


@pytest.mark.parametrize("field", ["value", "interval", "p", "n"])
@pytest.mark.parametrize("measure", ["precision", "recall"])
def test_field_reaches_published_rule_based_accuracy(field, measure):
    assert TABLE[field][measure] >= 0.90, "\n".join(m for m in MISSES if f" {field} " in m)


def test_scoring_punishes_a_wrong_answer():
    wrong = [{"text": "OR 1.5 (95% CI 1.1 to 2.0)", "stats": [{"metric": "odds_ratio", "value": 1.6}]}]
    table, _ = accuracy.score(wrong)
    assert table["value"]["precision"] == 0 and table["value"]["recall"] == 0
    assert table["interval"]["precision"] == 0
