"""`make promises` counts a promise as kept only when a marked test passed and none failed."""

import json
from types import SimpleNamespace

from haven import promise_report
from haven.promises import PROMISES
from haven.testing.plugin import PromiseRecorder, unknown_promise_ids


def report(nodeid, outcome, when="call", promises=("ACC-1",)):
    return SimpleNamespace(
        nodeid=nodeid,
        when=when,
        failed=outcome == "failed",
        skipped=outcome == "skipped",
        user_properties=[("promises", list(promises))],
    )


def test_a_promise_is_kept_only_if_a_marked_test_passed_and_none_failed():
    results = {
        "a::passes": {"promises": ["ACC-1", "ACC-2"], "outcome": "passed"},
        "b::fails": {"promises": ["ACC-2"], "outcome": "failed"},
        "c::skipped": {"promises": ["ACC-3"], "outcome": "skipped"},
    }
    tally = promise_report.tally(results)
    assert tally["ACC-1"]["kept"] is True
    assert tally["ACC-2"]["kept"] is False
    assert tally["ACC-3"]["kept"] is False
    assert tally["ACC-4"] == {"kept": False, "tests": [], "passed": 0, "failed": 0}
    assert set(PROMISES) <= set(tally)


def test_the_recorder_keeps_a_failure_in_teardown_and_a_skip(tmp_path):
    recorder = PromiseRecorder(str(tmp_path / "results.json"))
    for entry in (
        report("t::ok", "passed", "setup"),
        report("t::ok", "passed"),
        report("t::ok", "passed", "teardown"),
        report("t::broken", "passed"),
        report("t::broken", "failed", "teardown"),
        report("t::skipped", "skipped", "setup"),
    ):
        recorder.pytest_runtest_logreport(entry)
    recorder.pytest_sessionfinish(session=None)
    written = json.loads((tmp_path / "results.json").read_text())
    assert {name: entry["outcome"] for name, entry in written.items()} == {
        "t::ok": "passed",
        "t::broken": "failed",
        "t::skipped": "skipped",
    }


def test_the_report_writes_the_table_the_json_and_the_last_line(tmp_path, monkeypatch, capsys):
    monkeypatch.setattr(promise_report, "ROOT", tmp_path)
    source = tmp_path / "results.json"
    source.write_text(json.dumps({"t::ok": {"promises": ["SEC-1"], "outcome": "passed"}}))
    assert promise_report.main(["promise_report", str(source)]) == 0
    last_line = capsys.readouterr().out.strip().splitlines()[-1]
    assert last_line == f"promises kept: 1 of {len(PROMISES)}"
    table = (tmp_path / "docs" / "promises.md").read_text()
    assert "| SEC-1 |" in table and "| yes |" in table
    as_json = json.loads((tmp_path / "build" / "promises.json").read_text())
    assert as_json["SEC-1"] == {"kept": True, "tests": ["t::ok"]}
    assert as_json["ACC-1"]["kept"] is False


def test_a_misspelt_promise_id_is_reported_at_collection():
    items = [
        SimpleNamespace(nodeid="t::good", user_properties=[("promises", ["ACC-1"])]),
        SimpleNamespace(nodeid="t::typo", user_properties=[("promises", ["ACC-01"])]),
    ]
    assert unknown_promise_ids(items) == {"t::typo": ["ACC-01"]}
