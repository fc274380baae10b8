"""`make promises`: which promises are kept, from the results the test plugin wrote.

A promise is kept when at least one test marked with it passed and none marked with it failed.
Writes docs/promises.md and build/promises.json, and ends with `promises kept: N of M`.
"""

import json
import sys
from pathlib import Path

from haven.promises import PROMISES

ROOT = Path(__file__).resolve().parent.parent


def tally(results: dict[str, dict]) -> dict[str, dict]:
    report = {pid: {"kept": False, "tests": [], "passed": 0, "failed": 0} for pid in PROMISES}
    for nodeid, result in sorted(results.items()):
        for pid in result["promises"]:
            entry = report.setdefault(pid, {"kept": False, "tests": [], "passed": 0, "failed": 0})
            entry["tests"].append(nodeid)
            if result["outcome"] == "passed":
                entry["passed"] += 1
            elif result["outcome"] == "failed":
                entry["failed"] += 1
    for entry in report.values():
        entry["kept"] = entry["passed"] > 0 and entry["failed"] == 0
    return report


def markdown(report: dict[str, dict]) -> str:
    kept = sum(entry["kept"] for entry in report.values())
    lines = [
        "# Promises kept",
        "",
        "Written by `make promises` from the test run; do not edit by hand.",
        f"**{kept} of {len(PROMISES)}** promises kept.",
        "",
        "| ID | promise | kept | tests (passed / failed) |",
        "|---|---|---|---|",
    ]
    for pid, text in PROMISES.items():
        entry = report[pid]
        tests = "<br>".join(f"`{test}`" for test in entry["tests"]) or "none"
        mark = "yes" if entry["kept"] else "**no**"
        lines.append(
            f"| {pid} | {text} | {mark} | {entry['passed']} / {entry['failed']}: {tests} |"
        )
    unknown = sorted(set(report) - set(PROMISES))
    if unknown:
        lines += ["", "Tests name IDs that are not in the registry: " + ", ".join(unknown)]
    return "\n".join(lines) + "\n"


def main(argv: list[str]) -> int:
    source = Path(argv[1] if len(argv) > 1 else ROOT / "build" / "promise-results.json")
    results = json.loads(source.read_text(encoding="utf-8")) if source.exists() else {}
    report = tally(results)
    (ROOT / "docs").mkdir(exist_ok=True)
    (ROOT / "docs" / "promises.md").write_text(markdown(report), encoding="utf-8")
    (ROOT / "build").mkdir(exist_ok=True)
    as_json = {
        pid: {"kept": report[pid]["kept"], "tests": report[pid]["tests"]} for pid in PROMISES
    }
    (ROOT / "build" / "promises.json").write_text(json.dumps(as_json, indent=1), encoding="utf-8")
    for pid in PROMISES:
        if not report[pid]["kept"]:
            print(f"not kept: {pid} {PROMISES[pid]}")
    kept = sum(report[pid]["kept"] for pid in PROMISES)
    print(f"promises kept: {kept} of {len(PROMISES)}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
