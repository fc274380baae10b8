"""Signing in as each role through the real forms, and finding the inputs a role can reach."""

import fnmatch
import re
from dataclasses import dataclass
from html.parser import HTMLParser
from urllib.parse import urlencode, urljoin, urlsplit

import requests

from scans.stack import HTTPS_URL


@dataclass(frozen=True)
class Role:
    label: str
    username: str = ""  # empty: not signed in
    staff: bool = False
    start: str = "/"


ROLES = [
    Role("anonymous"),
    Role("member", "alice", start="/"),
    Role("caregiver", "maria"),
    Role("consumer", "consuelo"),
    Role("producer", "rosa", start="/producers/"),
    Role("provider", "drkim", start="/care/practice/"),
    Role("employer", "hr-riverside", start="/employers/"),
    Role("care team", "nina", staff=True, start="/staff/"),
    Role("customer service", "sam", staff=True, start="/staff/"),
    Role("claims", "claire", staff=True, start="/staff/"),
    Role("producer support", "pablo", staff=True, start="/staff/"),
    Role("compliance", "connor", staff=True, start="/staff/"),
    Role("privacy officer", "priya", staff=True, start="/staff/"),
    Role("administrator", "ada", staff=True, start="/staff/"),
]

# Never followed, submitted or attacked: they end the scanner's own session or second factor,
# or close, block, erase or give up something the later roles' scans need (a fresh database is
# made for every run, so anything else a scanner writes is thrown away with it). Paths, `*` for
# anything; wapiti gets them as URLs.
EXCLUDED = [
    "/accounts/logout/*",
    "/mail/portal/signout/*",
    "/accounts/sessions/*",
    "/accounts/second-factor/*",
    "/accounts/two-factor/*",
    "/accounts/password/*",
    "/accounts/profile/username/*",
    "/accounts/language/*",
    "/accounts/close/*",
    "/accounts/staff/accounts/*/*",
    "/privacy/requests/new/*",
    "/privacy/staff/requests/*",
    "/caregivers/switch/*",
    "/support/members/*/guardian/*",
    "*/close/*",
    "*/erase/*",
    "*/delete/*",
    "*/revoke/*",
    "*/reset/*",
    "*/end/*",
    "*/withdraw/*",
    "*/give-up/*",
    "*/block/*",
    "*/lift/*",
    "*/leave/*",
    "*/leaving/*",
    "*/suspend/*",
]
_EXCLUDED = re.compile("|".join(fnmatch.translate(pattern) for pattern in EXCLUDED))


def excluded(path: str) -> bool:
    path = path if path.endswith("/") else path + "/"
    return bool(_EXCLUDED.match(path))


def sign_in(role: Role, password: str, second_factor, certificate: str) -> requests.Session:
    """A session signed in through /accounts/login/ (and /accounts/two-factor/ for staff), over
    TLS checked against the scan's own certificate."""
    session = requests.Session()
    session.trust_env = False  # loopback only: no proxy, no CA bundle from the environment
    session.verify = certificate
    if not role.username:
        session.get(HTTPS_URL + "/", timeout=30)
        return session
    post_form(session, "/accounts/login/", {"username": role.username, "password": password})
    if role.staff:
        post_form(session, "/accounts/two-factor/", {"otp_token": second_factor(role.username)})
    if not signed_in(session):
        raise SystemExit(f"could not sign in as {role.username} ({role.label})")
    return session


def post_form(session: requests.Session, path: str, data: dict) -> requests.Response:
    url = HTTPS_URL + path
    page = session.get(url, timeout=30)
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page.text)
    if not token:
        raise SystemExit(f"no form on {path}: {page.status_code}")
    return session.post(
        url,
        {**data, "csrfmiddlewaretoken": token.group(1)},
        headers={"Referer": url},
        timeout=30,
    )


def signed_in(session: requests.Session) -> bool:
    """True while the session's pages open without being sent to sign in or to the second factor."""
    response = session.get(HTTPS_URL + "/accounts/profile/", timeout=30, allow_redirects=False)
    return response.status_code == 200


@dataclass(frozen=True)
class Target:
    """One input a role reaches: a form or a link with a query string."""

    method: str
    url: str
    fields: tuple[tuple[str, str], ...]
    page: str  # where it was found (sent as Referer: Django checks it on HTTPS posts)
    typed: tuple[str, ...] = ()  # fields a person types into (not choices, not the CSRF token)

    @property
    def key(self) -> tuple:
        """The same input, whoever reaches it: path with numbers generalised, and field names."""
        path = re.sub(r"/\d+(?=/|$)", "/<n>", urlsplit(self.url).path)
        names = tuple(sorted({name for name, _ in self.fields if name != "csrfmiddlewaretoken"}))
        return (self.method, path, names)

    def data(self) -> str:
        return urlencode([(name, value or "1") for name, value in self.fields])


class _Page(HTMLParser):
    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.links: list[str] = []
        self.forms: list[dict] = []
        self._select: str | None = None

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "a" and attrs.get("href"):
            self.links.append(attrs["href"])
        elif tag == "form":
            self.forms.append(
                {
                    "method": (attrs.get("method") or "get").upper(),
                    "action": attrs.get("action") or "",
                    "fields": [],
                    "typed": [],
                }
            )
        elif self.forms and tag in {"input", "textarea", "select"} and attrs.get("name"):
            kind = attrs.get("type", "text").lower()
            if kind in {"submit", "button", "image", "reset", "file"}:
                return
            if tag != "select" and kind not in {"checkbox", "radio"}:
                if attrs["name"] != "csrfmiddlewaretoken":
                    self.forms[-1]["typed"].append(attrs["name"])
            if kind in {"checkbox", "radio"} and "checked" not in attrs:
                value = attrs.get("value", "on")
                fields = self.forms[-1]["fields"]
                if any(name == attrs["name"] for name, _ in fields):
                    return
                fields.append((attrs["name"], value))
                return
            self.forms[-1]["fields"].append((attrs["name"], attrs.get("value") or ""))
            if tag == "select":
                self._select = attrs["name"]
        elif tag == "option" and self._select and attrs.get("value"):
            fields = self.forms[-1]["fields"]
            for index, (name, value) in enumerate(fields):
                if name == self._select and not value:
                    fields[index] = (name, attrs["value"])

    def handle_endtag(self, tag):
        if tag == "select":
            self._select = None


def inputs(session: requests.Session, seeds: list[str], max_pages: int = 150) -> list[Target]:
    """Forms and query-string links on the pages a role reaches from `seeds` (paths), breadth
    first."""
    base = urlsplit(HTTPS_URL)
    queue, seen, found = [HTTPS_URL + seed for seed in seeds], set(), {}
    while queue and len(seen) < max_pages:
        url = queue.pop(0)
        parts = urlsplit(url)
        page_key = parts.path + (
            "?" + "&".join(sorted(parts.query.split("&"))) if parts.query else ""
        )
        if page_key in seen or parts.netloc != base.netloc or excluded(parts.path):
            continue
        seen.add(page_key)
        response = session.get(url, timeout=30)
        if "text/html" not in response.headers.get("Content-Type", ""):
            continue
        page = _Page()
        page.feed(response.text)
        for href in page.links:
            link = urlsplit(urljoin(response.url, href.split("#")[0]))
            if link.netloc != base.netloc or link.path.startswith("/static/"):
                continue
            queue.append(link.geturl())
            if link.query and not excluded(link.path):
                fields = tuple(
                    tuple(pair.split("=", 1)) if "=" in pair else (pair, "")
                    for pair in link.query.split("&")
                )
                target = Target(
                    "GET",
                    link._replace(query="").geturl(),
                    fields,
                    response.url,
                    tuple(name for name, _ in fields),
                )
                found.setdefault(target.key, target)
        for form in page.forms:
            action = urlsplit(urljoin(response.url, form["action"]))
            if action.netloc != base.netloc or excluded(action.path) or not form["fields"]:
                continue
            target = Target(
                form["method"],
                action.geturl(),
                tuple(form["fields"]),
                response.url,
                tuple(dict.fromkeys(form["typed"])),
            )
            if any(name != "csrfmiddlewaretoken" for name, _ in target.fields):
                found.setdefault(target.key, target)
    return list(found.values())
