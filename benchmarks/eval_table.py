"""The evaluation table (hit@1, hit@3, MRR per mode and split) on the real KB.

.venv/bin/python benchmarks/eval_table.py      # same numbers as `kb eval --db build/kb.db`
"""

from __future__ import annotations

from common import real_db

from search.evaluate import evaluate, format_table, load_queries


def main() -> None:
    queries = load_queries()
    print(f"{len(queries)} labelled queries ({sum(q.split == 'heldout' for q in queries)} held out)")
    print(format_table(evaluate(real_db(), queries)))


if __name__ == "__main__":
    main()
