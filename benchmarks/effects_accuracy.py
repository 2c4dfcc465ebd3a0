"""Precision and recall of ingest.effects.find_statistics on the hand-labelled statistic strings.

.venv/bin/python benchmarks/effects_accuracy.py          # the table
.venv/bin/python benchmarks/effects_accuracy.py --misses # plus every disagreement, for inspection

A fact is one field of one statistic, keyed by the statistic's metric and value so a p-value or an
interval only counts when it is attached to the right estimate:
  value    (metric, value)
  interval (metric, value, ci_low, ci_high, ci_level)
  p        (metric, value, p_operator, p_value)
  n        (metric, value, n)
  direction (metric, value, direction), only where the label states a direction
Precision = matched predicted facts / predicted facts; recall = matched / labelled (micro-averaged).
"""

from __future__ import annotations

import sys
from collections import Counter
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from ingest.effects import Effect, find_statistics  # noqa: E402

LABELS = ROOT / "tests" / "data" / "statistics_labelled.yaml"
FIELDS = ("value", "interval", "p", "n", "direction")


def _r(x):
    return None if x is None else round(float(x), 6)


def facts(stat: dict, field: str) -> tuple | None:
    key = (stat["metric"], _r(stat["value"]))
    if field == "value":
        return key
    if field == "interval" and stat.get("ci_low") is not None:
        return (*key, _r(stat["ci_low"]), _r(stat["ci_high"]), _r(stat.get("ci_level")))
    if field == "p" and stat.get("p_value") is not None:
        return (*key, stat.get("p_operator"), _r(stat["p_value"]))
    if field == "n" and stat.get("n") is not None:
        return (*key, int(stat["n"]))
    if field == "direction" and stat.get("direction") not in (None, "not_stated"):
        return (*key, stat["direction"])
    return None


def as_dict(effect: Effect) -> dict:
    return {
        "metric": effect.metric,
        "value": effect.value,
        "direction": effect.direction,
        "ci_low": effect.ci_low,
        "ci_high": effect.ci_high,
        "ci_level": effect.ci_level,
        "p_value": effect.p_value,
        "p_operator": effect.p_operator,
        "n": effect.n,
    }


def load_cases(path: Path = LABELS) -> list[dict]:
    return yaml.safe_load(path.read_text(encoding="utf-8"))["cases"]


def score(cases: list[dict]) -> tuple[dict[str, dict[str, float]], list[str]]:
    """Per field: precision, recall, counts; plus a readable line for every disagreement."""
    tally = {f: Counter() for f in FIELDS}
    misses = []
    for case in cases:
        predicted = [as_dict(e) for e in find_statistics(case["text"])]
        for field in FIELDS:
            want = Counter(f for f in (facts(s, field) for s in case["stats"]) if f is not None)
            got = Counter(f for f in (facts(s, field) for s in predicted) if f is not None)
            if field == "direction":
                # scored only on statistics the label gives a direction for
                labelled = {f[:2] for f in want}
                got = Counter({f: c for f, c in got.items() if f[:2] in labelled})
            hit = sum((want & got).values())
            tally[field].update(tp=hit, predicted=sum(got.values()), labelled=sum(want.values()))
            for fact in (want - got).elements():
                misses.append(f"missed {field} {fact} in {case['text']!r}")
            for fact in (got - want).elements():
                misses.append(f"extra  {field} {fact} in {case['text']!r}")
    table = {}
    for field, t in tally.items():
        table[field] = {
            "precision": t["tp"] / t["predicted"] if t["predicted"] else 1.0,
            "recall": t["tp"] / t["labelled"] if t["labelled"] else 1.0,
            "labelled": t["labelled"],
            "predicted": t["predicted"],
        }
    return table, misses


def format_table(table: dict) -> str:
    lines = [f"{'field':<10} {'precision':>9} {'recall':>7} {'labelled':>9} {'predicted':>10}"]
    for field, row in table.items():
        lines.append(
            f"{field:<10} {row['precision']:>9.3f} {row['recall']:>7.3f} {row['labelled']:>9} {row['predicted']:>10}"
        )
    return "\n".join(lines)


def main() -> None:
    cases = load_cases()
    splits = {
        "all": cases,
        "designed (labelled before the parser was written)": [c for c in cases if c.get("split") != "heldout"],
        "held out (labelled after, never tuned on)": [c for c in cases if c.get("split") == "heldout"],
    }
    for name, subset in splits.items():
        table, misses = score(subset)
        print(f"\n{name}: {len(subset)} strings, {sum(len(c['stats']) for c in subset)} statistics")
        print(format_table(table))
        if "--misses" in sys.argv and name == "all":
            print("\n".join(misses))


if __name__ == "__main__":
    main()
