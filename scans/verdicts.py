"""What each finding of `make security` is, once someone has looked at it, and the report.

A verdict is matched by the finding's key (`*` for anything). A finding no verdict matches is
"unexplained": the run fails and docs/security.md lists it as such until someone decides.
"""

import fnmatch
from collections import Counter
from pathlib import Path

FIXED, FALSE_POSITIVE, ACCEPTED, OPEN = "fixed", "false positive", "accepted", "open (reported)"


def _csrf_refused(results: dict) -> str | None:
    """Holds only when the run proved it: every flagged form refused with a forged token."""
    checks = results.get("csrf_recheck", [])
    if not checks or any(check["status"] != 403 for check in checks):
        return None
    return (
        "wapiti 3.0.4 recognises CSRF tokens by a list of names that lacks Django's "
        "`csrfmiddlewaretoken`, so it reports every form. This run sent each of the "
        f"{len(checks)} flagged forms again with the token replaced, signed in as the role that "
        "saw it: Haven answered 403 to every one."
    )


VERDICTS: list[tuple[str, str, object]] = [
    ("wapiti:Cross Site Request Forgery:*", FALSE_POSITIVE, _csrf_refused),
    (
        "wapiti:HTTP Secure Headers:*:X-XSS-Protection is not set",
        ACCEPTED,
        "X-XSS-Protection switched on the browsers' XSS auditor, which every current browser has "
        "removed (it could itself be abused to leak data); OWASP advises not sending it. Haven's "
        "Content-Security-Policy (`script-src 'self'`, no inline scripts) is the protection.",
    ),
    (
        "wapiti:Internal Server Error:POST /privacy/cookies/:next:*",
        FIXED,
        "Fixed in commit 279d773: `next` is used only when it is a path on this site, through "
        "HttpResponseRedirect (cookies and notice_acknowledge); a relative word such as "
        "`default'\"(` was tried as a view name and gave a 500. Regression test: "
        "haven/privacy/tests/test_cookies.py. Nothing leaked and nothing was saved.",
    ),
]


# The scan's certificate is its own, self-signed, made for each run; in production a CA's
# certificate stands there (docs/deploy.md), with its chain, revocation information and DNS name.
_SCAN_CERTIFICATE = (
    "The scan's own self-signed certificate for 127.0.0.1, made for each run: a production "
    "terminator has its CA's certificate (docs/deploy.md)"
)
VERDICTS += [
    (
        "bandit:B608:haven/lib/partitions.py:*",
        FALSE_POSITIVE,
        "SQL built from the names in `PARTITIONED` and the partitions Haven names itself, each "
        "quoted with `quote_name`, values bound; ruff's `# noqa: S608` on the same lines says so, "
        "and its owner is adding `# nosec B608` beside them (this verdict holds until they land).",
    ),
    (
        "testssl:cert_chain_of_trust",
        ACCEPTED,
        _SCAN_CERTIFICATE + ", which chains to a trusted root.",
    ),
    (
        "testssl:cert_revocation",
        ACCEPTED,
        _SCAN_CERTIFICATE + ", which names its CRL and OCSP responder.",
    ),
    (
        "testssl:DNS_CAArecord",
        ACCEPTED,
        "127.0.0.1 has no DNS name to hold a CAA record; the organisation sets one for the "
        "portal's domain in its own DNS.",
    ),
    (
        "testssl:sessionresumption_ticket",
        FALSE_POSITIVE,
        'testssl.sh 3.0.8 could not finish its own check ("check failed because of connect '
        'problem"; it passed in other runs). Resumption is a matter of speed, not of safety; '
        "the block turns session tickets off, so no ticket key can open past sessions (under "
        "TLS 1.3 OpenSSL then hands out stateful tickets, which testssl.sh sees as a 300 s hint).",
    ),
    (
        "testssl:engine_problem",
        FALSE_POSITIVE,
        "A note about testssl.sh's own OpenSSL (Debian's has no GOST engine), not about the server.",
    ),
]


def verdict(finding: dict, results: dict) -> dict | None:
    for pattern, status, why in VERDICTS:
        if fnmatch.fnmatchcase(finding["key"], pattern):
            text = why(results) if callable(why) else why
            return {"status": status, "why": text, "pattern": pattern} if text else None
    return None


def _grouped(findings: list[dict], by_verdict: bool = False) -> list[dict]:
    """One row per key (or per verdict, for the doc): the roles that met it, where, how often."""
    rows: dict[str, dict] = {}
    for finding in findings:
        group = finding["key"]
        if by_verdict and finding["verdict"]:
            group = finding["verdict"]["pattern"]
        row = rows.setdefault(group, {**finding, "roles": [], "places": [], "count": 0})
        row["count"] += 1
        if finding.get("role") and finding["role"] not in row["roles"]:
            row["roles"].append(finding["role"])
        if finding["where"] not in row["places"]:
            row["places"].append(finding["where"])
    return list(rows.values())


def summary(results: dict) -> list[str]:
    findings = results["findings"]
    tools = Counter(finding["key"].split(":", 1)[0] for finding in findings)
    unexplained = [f for f in findings if f["verdict"] is None]
    sqlmap = results["sqlmap"]
    lines = [
        "",
        f"make security: {results['seconds'] // 60} min {results['seconds'] % 60} s, "
        f"{len(findings)} findings ({', '.join(f'{t} {n}' for t, n in sorted(tools.items()))})",
        f"  bandit: {len(results['bandit']['findings'])} findings in "
        f"{results['bandit']['lines']} lines; {len(results['bandit']['reviewed'])} lines "
        "reviewed and marked `# nosec`",
    ]
    for scan in results["roles_scanned"]:
        lines.append(
            f"  {scan['role']:<17} wapiti {scan['wapiti_seconds']:>3} s "
            f"{scan['wapiti_requests']:>4} requests crawled, {scan['wapiti_findings']:>2} findings; "
            f"{scan['inputs']:>2} inputs ({scan['new_inputs']} first reached); "
            f"session {'kept' if scan['session_kept'] else 'LOST'}"
        )
    lines.append(
        f"  sqlmap: {len(sqlmap['tested'])} distinct inputs tested "
        f"({sum(r['cut_short'] for r in sqlmap['tested'])} cut short by the budget), "
        f"{sum(len(r['findings']) for r in sqlmap['tested'])} injectable, "
        f"{len(sqlmap['skipped'])} not reached"
    )
    lines.append(
        f"  CSRF re-check: {sum(c['status'] == 403 for c in results['csrf_recheck'])} of "
        f"{len(results['csrf_recheck'])} forged submissions refused"
    )
    lines.append(f"  intrusion detection recorded: {results['security_events']}")
    for row in _grouped(findings):
        status = row["verdict"]["status"] if row["verdict"] else "UNEXPLAINED"
        lines.append(f"  [{status}] {row['severity']} {row['key']} x{row['count']}")
    lines.append(
        f"{len(unexplained)} finding(s) without a verdict"
        if unexplained
        else "every finding has a verdict (scans/verdicts.py, docs/security.md)"
    )
    return lines


BEGIN, END = "<!-- scans:results -->", "<!-- /scans:results -->"


def write_doc(doc: Path, results: dict) -> None:
    """Replace the generated part of docs/security.md's "Scans" section with this run."""
    versions = results["versions"]
    sqlmap = results["sqlmap"]
    lines = [
        BEGIN,
        f"Last run: {results['date']} on {results['machine']}; "
        f"{results['seconds'] // 60} min {results['seconds'] % 60} s in all; the scanned "
        f"Haven's database: {results.get('dbms', 'SQLite')}.",
        "",
        "Tools: " + ", ".join(f"{name} {version}" for name, version in versions.items()) + ".",
        "",
        f"- **bandit** read {results['bandit']['files']} files ({results['bandit']['lines']} "
        f"lines) of haven/, tests excluded: {len(results['bandit']['findings'])} findings. "
        f"{len(results['bandit']['reviewed'])} lines are marked `# nosec BXXX` after review "
        "(list below).",
        f"- **wapiti** ran as {len(results['roles_scanned'])} roles; each role had first "
        f"visited the {results['seeds']} pages that take no argument to find its inputs:",
        "",
        "| role | account | inputs reached | of them first reached (attacked) | wapiti requests crawled | wapiti s | findings | session kept |",
        "|---|---|---:|---:|---:|---:|---:|---|",
    ]
    for scan in results["roles_scanned"]:
        lines.append(
            f"| {scan['role']} | {scan['username'] or '(none)'} | {scan['inputs']} | "
            f"{scan['new_inputs']} | {scan['wapiti_requests']} | {scan['wapiti_seconds']} | "
            f"{scan['wapiti_findings']} | {'yes' if scan['session_kept'] else 'no'} |"
        )
    tested = sqlmap["tested"]
    lines += [
        "",
        f"- **sqlmap** (`--dbms {results.get('dbms', 'SQLite')}`) tested {len(tested)} distinct inputs ({sum(len(r['parameters']) for r in tested)} "
        f"parameters; GET {sum(r['method'] == 'GET' for r in tested)}, POST "
        f"{sum(r['method'] == 'POST' for r in tested)}), each as the first role that reaches it: "
        f"{sum(len(r['findings']) for r in tested)} injectable"
        + (
            "; cut short by the budget (parameters before the cut were tested): "
            + ", ".join(f"{r['method']} {r['path']}" for r in tested if r["cut_short"])
            if any(r["cut_short"] for r in tested)
            else ""
        )
        + (
            f"; {len(sqlmap['skipped'])} not reached in the time budget: "
            + ", ".join(sqlmap["skipped"])
            if sqlmap["skipped"]
            else "; none left untested"
        )
        + ".",
        f"- **CSRF re-check**: {sum(c['status'] == 403 for c in results['csrf_recheck'])} of "
        f"{len(results['csrf_recheck'])} forms refused with a forged token.",
        f"- **testssl.sh** against nginx on 127.0.0.1:443: "
        f"{sum(f['key'].startswith('testssl:') for f in results['findings'])} findings above INFO.",
        f"- Intrusion detection (thresholds raised for the run) recorded: "
        f"`{results['security_events']}`.",
        "",
        "| verdict | severity | finding | where | roles | why |",
        "|---|---|---|---|---|---|",
    ]
    for row in _grouped(results["findings"], by_verdict=True):
        status = row["verdict"]["status"] if row["verdict"] else "**UNEXPLAINED**"
        why = row["verdict"]["why"] if row["verdict"] else ""
        where = ", ".join(row["places"]) + (f" ({row['count']} times)" if row["count"] > 1 else "")
        lines.append(
            f"| {status} | {row['severity']} | {row['title'].replace('|', '/')} | "
            f"{where.replace('|', '/')} | {', '.join(row['roles'])} | {why} |"
        )
    if not results["findings"]:
        lines.append("| | | no findings | | | |")
    lines += ["", "Lines marked `# nosec` after review (bandit run with `--ignore-nosec`):", ""]
    lines += [f"- {line}" for line in results["bandit"]["reviewed"]] or ["- none"]
    lines.append(END)
    text = doc.read_text(encoding="utf-8")
    if BEGIN not in text or END not in text:
        raise SystemExit(f"{doc} has no {BEGIN} ... {END} block for the results")
    before, rest = text.split(BEGIN, 1)
    doc.write_text(before + "\n".join(lines) + rest.split(END, 1)[1], encoding="utf-8")
