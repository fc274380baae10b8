"""Haven's pytest plugin: the test environment, the `promise` marker and its results file.

Loaded with `-p haven.testing.plugin` before Django's settings, so HAVEN_ENV=test takes effect.
"""

import json
import os
from pathlib import Path

import pytest

os.environ.setdefault("HAVEN_ENV", "test")
# Browser tests run a live server in a thread beside the test's database connection.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")


def pytest_addoption(parser):
    parser.addoption(
        "--promise-results",
        default=None,
        help="write each test's promise IDs and outcome to this JSON file (for `make promises`)",
    )


def pytest_collection_modifyitems(config, items):
    for item in items:
        ids = [mark.args[0] for mark in item.iter_markers(name="promise") if mark.args]
        if ids:
            # user_properties travel from xdist workers to the controller with each report.
            item.user_properties.append(("promises", ids))
    unknown = unknown_promise_ids(items)
    if unknown:
        listed = "; ".join(f"{nodeid}: {', '.join(ids)}" for nodeid, ids in unknown.items())
        raise pytest.UsageError(
            f"tests are marked with promise IDs not in haven/promises.py: {listed}"
        )


def unknown_promise_ids(items) -> dict[str, list[str]]:
    """Promise IDs on tests that the registry does not know: a typo would hide a promise."""
    from haven.promises import PROMISES

    unknown = {}
    for item in items:
        for name, ids in item.user_properties:
            missing = [pid for pid in ids if name == "promises" and pid not in PROMISES]
            if missing:
                unknown[item.nodeid] = missing
    return unknown


class PromiseRecorder:
    def __init__(self, path: str):
        self.path = Path(path)
        self.results: dict[str, dict] = {}

    def pytest_runtest_logreport(self, report):
        ids = next((value for name, value in report.user_properties if name == "promises"), None)
        if not ids:
            return
        entry = self.results.setdefault(report.nodeid, {"promises": list(ids), "outcome": "passed"})
        if report.failed:
            entry["outcome"] = "failed"
        elif report.skipped and report.when in ("setup", "call"):
            entry["outcome"] = "skipped"

    def pytest_sessionfinish(self, session):
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.path.write_text(json.dumps(self.results, indent=1, sort_keys=True), encoding="utf-8")


def pytest_configure(config):
    path = config.getoption("--promise-results")
    if path and not hasattr(config, "workerinput"):
        config.pluginmanager.register(PromiseRecorder(path), "haven-promise-recorder")


@pytest.hookimpl(tryfirst=True)
def pytest_runtest_setup(item):
    if item.get_closest_marker("postgres"):
        from django.conf import settings

        if not settings.USING_POSTGRES:
            pytest.skip("needs PostgreSQL (CI sets DATABASE_URL)")
