"""Synthetic plans, roster, rate tables and claims for `haven demo`. Nobody here is real.

The data are CSV files in demo_data/, loaded through the same import as an operator's files
(docs/import-formats.md), so running the demo twice changes nothing.
"""

from pathlib import Path

from haven.plans.imports import import_csv

DEMO_DATA = Path(__file__).resolve().parent / "demo_data"
# Plans before the groups and products that name them; the roster before its claims.
FILES = ["plans", "roster", "rates", "claims"]


def load() -> None:
    for layout in FILES:
        result = import_csv(layout, DEMO_DATA / f"{layout}.csv")
        if result.rejections or result.warnings:
            problems = [f"line {r.line}: {r.reason}" for r in result.rejections] + result.warnings
            raise RuntimeError(f"demo_data/{layout}.csv: " + "; ".join(problems))
