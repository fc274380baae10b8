"""Benchmark: how well review screening finds identifying and health information (CARE-3).

Screens every review of the labelled set (haven/care/tests/review_set.json: English, Spanish and
Italian, each labelled as disclosing or not) as the reviewer the set names, and reports precision
and recall by language, with the time per review, to docs/benchmarks.md in this benchmark's own
section. The test suite asserts the same targets (haven/care/tests/test_reviews.py).

    .venv/bin/python bench/review_screening.py [--no-doc]

Targets (issue 6): recall at least 0.95 on reviews that disclose, precision at least 0.9.
"""

import argparse
import os
import platform
import sys
import tempfile
import time
from datetime import date
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from benchdoc import write_section  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--no-doc", action="store_true", help="print only; leave docs alone")
    args = parser.parse_args()
    os.environ["HAVEN_ENV"] = "test"
    os.environ["DATABASE_URL"] = f"sqlite:///{Path(tempfile.mkdtemp()) / 'bench.sqlite3'}"
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "haven.settings")
    sys.path.insert(0, str(ROOT))
    import django

    django.setup()
    from haven.care import screening
    from haven.care.tests import labelled

    started = time.perf_counter()
    screening.analyzer()
    load_seconds = time.perf_counter() - started
    started = time.perf_counter()
    scores = labelled.score()
    per_review_ms = (time.perf_counter() - started) / scores["all"].count * 1000
    for name, score in scores.items():
        print(
            f"{name}: {score.count} reviews, precision {score.precision:.3f}, recall {score.recall:.3f}"
        )
        for miss in score.misses if name == "all" else []:
            print(f"  missed: {miss}")
        for alarm in score.false_alarms if name == "all" else []:
            print(f"  false alarm: {alarm}")
    if args.no_doc:
        return 0
    names = {"en": "English", "es": "Spanish", "it": "Italian", "all": "all"}
    lines = [
        "## Review screening: precision and recall on the labelled set (bench/review_screening.py)",
        "",
        f"Run on {date.today().isoformat()}; Python {platform.python_version()}; "  # noqa: DTZ011
        f"presidio-analyzer on blank spaCy pipelines (no model), loaded in {load_seconds:.1f} s; "
        f"{per_review_ms:.1f} ms per review afterwards.",
        "The set (haven/care/tests/review_set.json) was written by the engineer who wrote the "
        "screening, so these figures are optimistic: they show the rules do what they are meant to, "
        "not how they fare on reviews nobody has seen. Targets: recall at least 0.95, precision at "
        "least 0.9; the test suite asserts them.",
        "",
        "| language | reviews | disclosing | caught | false alarms | precision | recall |",
        "|---|---:|---:|---:|---:|---:|---:|",
    ]
    for key in ("en", "es", "it", "all"):
        score = scores[key]
        disclosing = score.true_positives + score.false_negatives
        lines.append(
            f"| {names[key]} | {score.count} | {disclosing} | {score.true_positives} | "
            f"{score.false_positives} | {score.precision:.3f} | {score.recall:.3f} |"
        )
    write_section("review_screening", lines)
    return 0


if __name__ == "__main__":
    sys.exit(main())
