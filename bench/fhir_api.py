"""Benchmark: FHIR resources served per second for a member with 1,000 claims, and the latency of
one search page.

Builds the test people in a fresh SQLite database, gives Alice 1,000 claims, connects an app
through the real SMART flow (authorisation screen, PKCE, token exchange), then pages through all
her ExplanationOfBenefit resources with the bearer token (each page one disclosure recorded by the
audited accessor) and times repeated requests of the first page. Prints the figures and writes
them to docs/benchmarks.md, in this benchmark's own section.

    .venv/bin/python bench/fhir_api.py [--claims N] [--count N] [--requests N]
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
from benchdoc import machine, percentile, write_section  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent


class Case:
    """Enough of a test case for haven.fhir.tests.flow.connect."""

    def __init__(self, client):
        self.client = client

    def sign_in(self, user):
        self.client.force_login(user)


def run(people, args) -> dict:
    from django.test import Client

    from haven.fhir.tests.flow import bearer, connect, make_app, make_claims

    make_claims(people.alice_member, args.claims)
    app = make_app()
    client = Client()
    token = connect(Case(client), people.alice, people.alice_member, app)
    auth = bearer(token["access_token"])

    served, pages = 0, 0
    url = f"/fhir/ExplanationOfBenefit?_count={args.count}"
    started = time.perf_counter()
    while url:
        response = client.get(url, **auth)
        assert response.status_code == 200, response.status_code
        body = response.json()
        served += len(body["entry"])
        pages += 1
        url = next((link["url"] for link in body["link"] if link["relation"] == "next"), "")
    elapsed = time.perf_counter() - started

    timings = []
    for _ in range(args.requests):
        started_one = time.perf_counter()
        response = client.get(f"/fhir/ExplanationOfBenefit?_count={args.count}", **auth)
        timings.append((time.perf_counter() - started_one) * 1000)
        assert response.status_code == 200
    return {
        "served": served,
        "pages": pages,
        "seconds": elapsed,
        "rate": served / elapsed,
        "p50": percentile(timings, 0.5),
        "p95": percentile(timings, 0.95),
    }


def write_doc(args, load: float, figures: dict) -> None:
    lines = [
        "## FHIR Patient Access API: claims as ExplanationOfBenefit (bench/fhir_api.py)",
        "",
        f"Run on {date.today().isoformat()}, {machine()}; Python {platform.python_version()}; "  # noqa: DTZ011
        f"SQLite; load average at the start {load:.1f} (the machine is shared: other work running "
        "beside the benchmark slows it down).",
        f"A member with {args.claims} claims; an app connected through the SMART flow pages "
        f"through all of them with `_count={args.count}` and its bearer token (each page checks "
        "the token and scopes, and records one disclosure to the app through the audited "
        f"accessor); then {args.requests} requests of the first page.",
        "",
        "| measure | value |",
        "|---|---:|",
        f"| resources served | {figures['served']} in {figures['pages']} pages |",
        f"| resources served per second | {figures['rate']:.0f} |",
        f"| search page of {args.count}, p50 (ms) | {figures['p50']:.1f} |",
        f"| search page of {args.count}, p95 (ms) | {figures['p95']:.1f} |",
    ]
    write_section("fhir_api", lines)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--claims", type=int, default=1000)
    parser.add_argument("--count", type=int, default=50)
    parser.add_argument("--requests", type=int, default=60)
    parser.add_argument("--no-doc", action="store_true", help="print only; leave docs alone")
    args = parser.parse_args()

    workdir = Path(tempfile.mkdtemp(prefix="haven-bench-fhir-"))
    os.environ["HAVEN_ENV"] = "test"
    os.environ["DATABASE_URL"] = f"sqlite:///{workdir / 'bench.sqlite3'}"
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "haven.settings")
    sys.path.insert(0, str(ROOT))

    import django

    django.setup()
    from django.core.management import call_command

    from haven.testing.people import HavenTestCase

    call_command("migrate", verbosity=0)
    HavenTestCase.setUpTestData()

    load = os.getloadavg()[0]
    figures = run(HavenTestCase, args)
    print(
        f"{figures['served']} resources in {figures['pages']} pages: {figures['rate']:.0f} per "
        f"second; page of {args.count}: p50 {figures['p50']:.1f} ms, p95 {figures['p95']:.1f} ms"
    )
    if not args.no_doc:
        write_doc(args, load, figures)
    return 0


if __name__ == "__main__":
    sys.exit(main())
