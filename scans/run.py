"""`make security`: bandit on the code; wapiti and sqlmap against a local Haven signed in as each
role; testssl.sh against the nginx TLS terminator in front of it. Findings are written to
build/security/findings.json, each with its verdict from scans/verdicts.py; a finding without one
fails the run. The results section of docs/security.md is rewritten from the run.

    .venv/bin/python scans/run.py [--roles member,administrator] [--no-doc]
"""

import argparse
import json
import os
import platform
import re
import shutil
import subprocess
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import urlsplit

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from scans import stack, verdicts, web  # noqa: E402

ROOT = stack.ROOT
OUT = ROOT / "build" / "security"
DOC = ROOT / "docs" / "security.md"
PASSWORD = "haven-demo-2026"  # noqa: S105 - the demo accounts' published password
WAPITI_MODULES = [
    "sql",
    "exec",
    "xss",
    "permanentxss",
    "file",
    "crlf",
    "redirect",
    "csrf",
    "http_headers",
    "cookieflags",
    "csp",
]
PARALLEL = 2  # two scanners at a time on the 2-core machine; Haven gets the rest
_print_lock = threading.Lock()


def say(text: str) -> None:
    with _print_lock:
        print(text, flush=True)


def tool_versions() -> dict[str, str]:
    def first_line(command: list[str], pattern: str) -> str:
        result = subprocess.run(command, capture_output=True, text=True)
        found = re.search(pattern, result.stdout + result.stderr)
        return found.group(1) if found else "unknown"

    def debian(package: str) -> str:
        return first_line(["dpkg-query", "-W", "-f=${Version}", package], r"(\S+)")

    return {
        "bandit": first_line([str(stack.BIN / "bandit"), "--version"], r"bandit (\S+)"),
        "wapiti": debian("wapiti"),
        "sqlmap": debian("sqlmap"),
        "testssl.sh": debian("testssl.sh"),
        "nginx": debian("nginx"),
        "openssl": first_line(["openssl", "version"], r"OpenSSL (\S+)"),
        "gunicorn": first_line([str(stack.BIN / "gunicorn"), "--version"], r"\(version (\S+)\)"),
        "python": platform.python_version(),
    }


def machine() -> str:
    kilobytes = int(Path("/proc/meminfo").read_text().split("\n", 1)[0].split()[1])
    return (
        f"{platform.node() or 'unknown host'}, {platform.system()} {platform.release()} "
        f"{platform.machine()}, {os.cpu_count()} cores, {kilobytes / 1024 / 1024:.1f} GiB"
    )


# bandit --------------------------------------------------------------------------------------


def bandit() -> dict:
    """bandit over haven/ with pyproject.toml's [tool.bandit]; then again ignoring `# nosec`, to
    list the lines reviewed and marked safe."""
    reports = {}
    for name, extra in (("bandit", []), ("bandit-reviewed", ["--ignore-nosec"])):
        report = OUT / f"{name}.json"
        # Its log warns of `# nosec` on lines inside a statement it reports on another line.
        with (OUT / f"{name}.log").open("w") as log:
            subprocess.run(
                [str(stack.BIN / "bandit"), "-c", "pyproject.toml", "-r", "haven", "-q"]
                + ["-f", "json", "-o", str(report), *extra],
                cwd=ROOT,
                stderr=log,
                check=False,  # exits 1 when it finds anything; the report says what
            )
        reports[name] = json.loads(report.read_text())
    found = reports["bandit"]
    return {
        "findings": [
            {
                "key": f"bandit:{r['test_id']}:{r['filename']}:{r['line_number']}",
                "severity": r["issue_severity"],
                "title": f"{r['test_id']} {r['issue_text']}",
                "where": f"{r['filename']}:{r['line_number']}",
            }
            for r in found["results"]
        ],
        "reviewed": sorted(
            {
                f"{r['test_id']} {r['filename']}:{r['line_number']}"
                for r in reports["bandit-reviewed"]["results"]
            }
        ),
        "lines": found["metrics"]["_totals"]["loc"],
        "files": len(found["metrics"]) - 1,
    }


# Haven and the roles --------------------------------------------------------------------------


def pages_without_parameters(haven: stack.Stack) -> list[str]:
    """Every route that takes no argument: each role's scan starts from all of them."""
    code = (
        "import json\n"
        "from django.urls import get_resolver\n"
        "def walk(patterns, prefix=''):\n"
        "    for p in patterns:\n"
        "        if hasattr(p, 'url_patterns'):\n"
        "            yield from walk(p.url_patterns, prefix + str(p.pattern))\n"
        "        else:\n"
        "            yield prefix + str(p.pattern)\n"
        "print(json.dumps(sorted(set(walk(get_resolver().url_patterns)))))\n"
    )
    routes = json.loads(haven.haven("shell", "-c", code).strip().splitlines()[-1])
    return [
        "/" + route
        for route in routes
        if "<" not in route and "^" not in route and not web.excluded("/" + route)
    ]


def second_factor(haven: stack.Stack):
    def code(username: str) -> str:
        return haven.haven("demo_code", username, local=True).strip()

    return code


def signed_in_session(haven: stack.Stack, role: web.Role):
    certificate = str(haven.workdir / "tls" / "portal.crt")
    try:
        return web.sign_in(role, PASSWORD, second_factor(haven), certificate)
    except SystemExit:
        if not role.staff:
            raise
        time.sleep(31)  # django-otp takes each code once: wait for the next one
        return web.sign_in(role, PASSWORD, second_factor(haven), certificate)


def cookie_header(session) -> str:
    return "; ".join(f"{name}={value}" for name, value in session.cookies.items())


# wapiti --------------------------------------------------------------------------------------


def wapiti(role: web.Role, session, seeds: list[str], args) -> dict:
    slug = role.label.replace(" ", "-")
    cookies = OUT / "wapiti" / f"{slug}-cookies.json"
    cookies.parent.mkdir(parents=True, exist_ok=True)
    cookies.write_text(
        json.dumps(
            {
                stack.HOST: {
                    "/": {
                        name: {
                            "value": value,
                            "expires": None,
                            "secure": True,
                            "port": None,
                            "version": 0,
                        }
                        for name, value in session.cookies.items()
                    }
                }
            }
        )
    )
    report = OUT / "wapiti" / f"{slug}.json"
    command = [
        "/usr/bin/python3",
        str(ROOT / "scans" / "wapiti_launcher.py"),
        "-u",
        stack.HTTPS_URL + "/",
        "--scope",
        "folder",
        "-c",
        str(cookies),
        "-m",
        ",".join(WAPITI_MODULES),
        "-d",
        "1",  # the start pages and the forms and links on them
        "--max-links-per-page",
        "20",
        "--max-files-per-dir",
        "15",
        "--max-scan-time",
        str(args.wapiti_crawl),
        "--max-attack-time",
        str(args.wapiti_attack),
        "-t",
        "15",
        "-f",
        "json",
        "-o",
        str(report),
        "--flush-session",
        "--store-session",
        str(OUT / "wapiti" / f"{slug}-session"),
        "--verify-ssl",
        "0",
        "--no-bugreport",
        "-v",
        "1",
    ]
    for seed in seeds:
        command += ["-s", stack.HTTPS_URL + seed]
    for pattern in web.EXCLUDED:
        command += ["-x", stack.HTTPS_URL + pattern]  # wapiti takes URLs only
    started = time.monotonic()
    with (OUT / "wapiti" / f"{slug}.log").open("w") as log:
        subprocess.run(command, stdout=log, stderr=subprocess.STDOUT, check=False)
    log_text = (OUT / "wapiti" / f"{slug}.log").read_text(errors="replace")
    data = json.loads(report.read_text()) if report.exists() else {}
    findings = []
    for section in ("vulnerabilities", "anomalies"):
        for category, items in data.get(section, {}).items():
            for item in items:
                path = re.sub(r"/\d+(?=/|$)", "/<n>", item["path"])
                findings.append(
                    {
                        "key": f"wapiti:{category}:{item['method']} {path}:"
                        f"{item.get('parameter') or ''}:{item['info'].split(' (')[0]}",
                        "severity": {1: "LOW", 2: "MEDIUM", 3: "HIGH"}.get(item["level"], "?"),
                        "title": f"{category}: {item['info']}",
                        "where": f"{item['method']} {item['path']}"
                        + (f" [{item['parameter']}]" if item.get("parameter") else ""),
                        "request": item.get("http_request", ""),
                        "role": role.label,
                    }
                )
    return {
        "seconds": round(time.monotonic() - started),
        "crawled": len(re.findall(r"^\[\+\] (?:GET|POST)", log_text, re.M)),
        "findings": findings,
        "report": str(report.relative_to(ROOT)),
    }


# sqlmap --------------------------------------------------------------------------------------


def sqlmap(
    target: web.Target, role_label: str, cookies: str, index: int, seconds: float, dbms: str
) -> dict:
    """sqlmap at level 1, risk 1, every technique, for the scanned Haven's database, on the
    fields a person types into."""
    workdir = OUT / "sqlmap" / f"{index:03d}"
    command = [
        "sqlmap",
        "--batch",
        "--level",
        "1",
        "--risk",
        "1",
        "--output-dir",
        str(workdir),
        "--cookie",
        cookies,
        "--drop-set-cookie",
        "--referer",
        target.page,
        "--timeout",
        "15",
        "--retries",
        "1",
        "-p",
        ",".join(target.typed),
        "--dbms",
        dbms,  # the database behind the scanned Haven: only its payloads, four times faster
        "--disable-coloring",
        "-v",
        "1",
    ]
    if target.method == "GET":
        command += ["-u", f"{target.url}?{target.data()}"]
    else:
        command += ["-u", target.url, "--data", target.data()]
    started = time.monotonic()
    try:
        result = subprocess.run(
            command, capture_output=True, text=True, check=False, timeout=seconds
        )
        output, cut = result.stdout + result.stderr, False
    except subprocess.TimeoutExpired as stopped:  # out of budget: killed, said so below
        output, cut = (stopped.stdout or b"").decode(errors="replace"), True
    workdir.mkdir(parents=True, exist_ok=True)
    (workdir / "output.log").write_text(output)
    # sqlmap's summary of the injection points it confirmed
    injectable = re.findall(r"^Parameter: (\S+) \((\w+)\)", output, re.M)
    path = re.sub(r"/\d+(?=/|$)", "/<n>", urlsplit(target.url).path)
    return {
        "method": target.method,
        "path": path,
        "parameters": list(target.typed),
        "role": role_label,
        "seconds": round(time.monotonic() - started),
        "cut_short": cut,
        "findings": [
            {
                "key": f"sqlmap:{target.method} {path}:{name}",
                "severity": "HIGH",
                "title": f"SQL injection ({place}) in {name}",
                "where": f"{target.method} {path} [{name}]",
                "role": role_label,
            }
            for name, place in injectable
        ],
        "log": str((workdir / "output.log").relative_to(ROOT)),
    }


# CSRF: wapiti 3.0.4 does not know Django's token name, so every form it sees is reported -------


def csrf_recheck(findings: list[dict], sessions: dict) -> list[dict]:
    """Send each form wapiti flagged again with the token replaced, as wapiti's module would
    have had it known the name: Haven must refuse it (403)."""
    checks = []
    for finding in findings:
        if not finding["key"].startswith("wapiti:Cross Site Request Forgery:"):
            continue
        request = finding["request"]
        head, _, body = request.partition("\n\n")
        first = head.splitlines()[0].split()
        if len(first) < 2 or first[0] != "POST":
            continue
        session = sessions[finding["role"]]
        body = re.sub(r"csrfmiddlewaretoken=[^&\s]*", "csrfmiddlewaretoken=wapiti", body.strip())
        url = stack.HTTPS_URL + first[1]
        response = session.post(
            url,
            data=body,
            headers={"Content-Type": "application/x-www-form-urlencoded", "Referer": url},
            allow_redirects=False,
            timeout=30,
        )
        checks.append(
            {"role": finding["role"], "where": finding["where"], "status": response.status_code}
        )
    return checks


# testssl.sh ----------------------------------------------------------------------------------


def testssl_start() -> subprocess.Popen:
    report = OUT / "testssl.json"
    return subprocess.Popen(
        [
            "testssl",
            "--quiet",
            "--color",
            "0",
            "--warnings",
            "off",
            "--sneaky",
            "--jsonfile",
            str(report),
            stack.HTTPS_URL + "/",
        ],
        stdout=(OUT / "testssl.log").open("w"),
        stderr=subprocess.STDOUT,
    )


def testssl_findings() -> list[dict]:
    report = OUT / "testssl.json"
    text = report.read_text() if report.exists() else "[]"
    # testssl.sh 3.0.8 leaves a trailing comma when a check is cut short; its entries are whole.
    entries = json.loads(re.sub(r",\s*\]\s*$", "]", text.strip()) or "[]")
    return [
        {
            "key": f"testssl:{entry['id']}",
            "severity": entry["severity"],
            "title": f"{entry['id']}: {entry['finding']}",
            "where": f"{entry.get('ip', '')}:{entry.get('port', '')}",
        }
        for entry in entries
        if entry["severity"] not in {"OK", "INFO", "DEBUG"}
    ]


# the run -------------------------------------------------------------------------------------


def role_inputs(haven: stack.Stack, role: web.Role, seeds: list[str]) -> dict:
    session = signed_in_session(haven, role)
    targets = web.inputs(session, [role.start, *seeds])
    say(f"  {role.label}: signed in, {len(targets)} inputs found")
    return {"role": role, "session": session, "targets": targets}


def first_reached(scans: list[dict]) -> None:
    """Mark each scan's inputs that no earlier role (in ROLES order) reached: each input is
    attacked once, as the first role that reaches it."""
    seen: set = set()
    for scan in scans:
        scan["new"] = [target for target in scan["targets"] if target.key not in seen]
        seen.update(target.key for target in scan["targets"])


def scan_role(haven: stack.Stack, scan: dict, args) -> dict:
    role, session = scan["role"], scan["session"]
    # wapiti starts where the role's new inputs are, so that its time goes to them; headers and
    # cookies are read on the role's own start page whatever it reaches.
    starts = [role.start]
    for target in scan["new"]:
        page = urlsplit(target.page)
        starts.append(page.path + (f"?{page.query}" if page.query else ""))
        if target.method == "GET":
            starts.append(f"{urlsplit(target.url).path}?{target.data()}")
    result = wapiti(role, session, list(dict.fromkeys(starts)), args)
    alive = role.username == "" or web.signed_in(session)
    if not alive:
        session = signed_in_session(haven, role)  # for sqlmap and the CSRF check
    say(
        f"  {role.label}: wapiti {result['seconds']} s from {len(set(starts))} pages "
        f"({len(scan['new'])} new inputs), {result['crawled']} requests, "
        f"{len(result['findings'])} findings; session {'kept' if alive else 'LOST'}"
    )
    return {**scan, "session": session, "wapiti": result, "session_kept": alive}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--roles", default="", help="comma-separated role labels (default: all)")
    parser.add_argument("--wapiti-crawl", type=int, default=20, help="seconds of crawling")
    parser.add_argument("--wapiti-attack", type=int, default=10, help="seconds per module")
    parser.add_argument("--sqlmap-minutes", type=float, default=9, help="budget for sqlmap")
    parser.add_argument("--no-doc", action="store_true", help="leave docs/security.md alone")
    parser.add_argument(
        "--postgres-url",
        default="postgres://postgres@127.0.0.1:5432",
        help="server for the scanned Haven's database; SQLite if it does not answer or is empty",
    )
    parser.add_argument(
        "--verdicts-only",
        action="store_true",
        help="no scan: apply scans/verdicts.py again to the last run's findings and report",
    )
    args = parser.parse_args()
    if args.verdicts_only:
        return report(json.loads((OUT / "findings.json").read_text()), args, full=True)
    wanted = {label.strip() for label in args.roles.split(",") if label.strip()}
    roles = [role for role in web.ROLES if not wanted or role.label in wanted]

    started = time.monotonic()
    shutil.rmtree(OUT, ignore_errors=True)
    OUT.mkdir(parents=True)
    results: dict = {
        "date": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "machine": machine(),
        "versions": tool_versions(),
        "roles": [role.label for role in roles],
    }
    say(f"bandit over haven/ ({results['versions']['bandit']})...")
    results["bandit"] = bandit()
    say(f"  {len(results['bandit']['findings'])} findings")

    say("starting Haven (fresh database, haven demo, gunicorn, nginx as TLS terminator)...")
    haven = stack.start(OUT / "haven", args.postgres_url)
    results["dbms"] = haven.dbms
    say(f"  on {haven.dbms}")
    tls = testssl_start()
    try:
        seeds = pages_without_parameters(haven)
        results["seeds"] = len(seeds)
        say(
            f"signing in as {len(roles)} roles; each visits the {len(seeds)} pages without arguments..."
        )
        with ThreadPoolExecutor(PARALLEL) as pool:
            scans = list(pool.map(lambda role: role_inputs(haven, role, seeds), roles))
        first_reached(scans)
        say("wapiti as each role...")
        with ThreadPoolExecutor(PARALLEL) as pool:
            scans = list(pool.map(lambda scan: scan_role(haven, scan, args), scans))
        sessions = {scan["role"].label: scan["session"] for scan in scans}

        # Each input once, as the first role (in ROLES order) that reaches it.
        unique = {}
        for scan in scans:
            for target in scan["new"]:
                if target.typed:
                    unique.setdefault(target.key, (target, scan["role"].label))
        # Query strings first (searches, filters), then forms, fewest fields first: the most
        # inputs in the time there is.
        ordered = sorted(
            unique.values(), key=lambda item: (item[0].method != "GET", len(item[0].typed))
        )
        say(f"sqlmap on {len(ordered)} distinct inputs (budget {args.sqlmap_minutes:g} min)...")
        deadline = time.monotonic() + args.sqlmap_minutes * 60
        sqlmap_results, skipped = [], []

        def one(numbered):
            index, (target, label) = numbered
            left = deadline - time.monotonic()
            if left < 20:
                skipped.append(f"{target.method} {urlsplit(target.url).path} ({label})")
                return None
            return sqlmap(target, label, cookie_header(sessions[label]), index, left, haven.dbms)

        with ThreadPoolExecutor(PARALLEL) as pool:
            sqlmap_results = [r for r in pool.map(one, enumerate(ordered)) if r]
        say(f"  {len(sqlmap_results)} tested, {len(skipped)} left for lack of time")

        wapiti_findings = [f for scan in scans for f in scan["wapiti"]["findings"]]
        csrf = csrf_recheck(wapiti_findings, sessions)
        say("waiting for testssl.sh...")
        tls.wait(timeout=900)
        events = (
            haven.haven(
                "shell",
                "-c",
                "from haven.security.models import SecurityEvent\n"
                "from django.db.models import Count, Sum\n"
                "rows = SecurityEvent.objects.values('kind').annotate("
                "events=Count('id'), seen=Sum('occurrences'))\n"
                "print('; '.join(f\"{r['kind']}: {r['events']} events, {r['seen']} requests\" "
                "for r in rows) or 'nothing')",
            )
            .strip()
            .splitlines()[-1]
        )
    finally:
        if tls.poll() is None:
            tls.terminate()
        haven.stop()

    results["roles_scanned"] = [
        {
            "role": scan["role"].label,
            "username": scan["role"].username,
            "inputs": len(scan["targets"]),
            "new_inputs": len(scan["new"]),
            "wapiti_seconds": scan["wapiti"]["seconds"],
            "wapiti_requests": scan["wapiti"]["crawled"],
            "wapiti_findings": len(scan["wapiti"]["findings"]),
            "session_kept": scan["session_kept"],
        }
        for scan in scans
    ]
    results["sqlmap"] = {"tested": sqlmap_results, "skipped": skipped}
    results["csrf_recheck"] = csrf
    results["security_events"] = events
    findings = (
        results["bandit"]["findings"]
        + wapiti_findings
        + [f for r in sqlmap_results for f in r["findings"]]
        + [
            {
                "key": f"csrf-recheck:accepted:{check['where']}",
                "severity": "HIGH",
                "title": "a form was accepted with a forged CSRF token",
                "where": check["where"],
                "role": check["role"],
            }
            for check in csrf
            if check["status"] != 403
        ]
        + testssl_findings()
    )
    findings += [
        {
            "key": f"coverage:session-lost:{scan['role'].label}",
            "severity": "HIGH",
            "title": "the scanners' session ended during the scan: later pages were not signed in",
            "where": scan["role"].username,
            "role": scan["role"].label,
        }
        for scan in scans
        if not scan["session_kept"]
    ]
    results["findings"] = findings
    results["seconds"] = round(time.monotonic() - started)
    return report(results, args, full=not wanted)


def report(results: dict, args, full: bool) -> int:
    """Verdicts on every finding, findings.json, the summary and (after a full run) the doc."""
    for finding in results["findings"]:
        finding["verdict"] = verdicts.verdict(finding, results)
    (OUT / "findings.json").write_text(json.dumps(results, indent=2, default=str))
    print("\n".join(verdicts.summary(results)))
    if full and not args.no_doc:
        verdicts.write_doc(DOC, results)
    return 1 if any(finding["verdict"] is None for finding in results["findings"]) else 0


if __name__ == "__main__":
    sys.exit(main())
