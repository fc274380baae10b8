"""Strict security headers on every page, error page and static file (SEC-1)."""

import base64
import json
import os
import re
import secrets
import subprocess
import sys
from pathlib import Path

import pytest
from django.conf import settings
from django.test import Client, override_settings
from django.urls import include, path, reverse

from haven.fhir.keys import throwaway_rsa_key
from haven.testing.people import HavenTestCase

PROJECT_DIR = Path(settings.PROJECT_DIR)
TWO_YEARS = 2 * 365 * 24 * 60 * 60


def boom(request):
    raise RuntimeError("a bug in a view")


# A URLconf with a view that fails, to see the 500 page as a visitor would.
urlpatterns = [path("boom/", boom), path("", include("haven.urls"))]


def csp_directives(response) -> dict[str, list[str]]:
    header = response["Content-Security-Policy"]
    directives = {}
    for part in header.split(";"):
        name, *values = part.split()
        directives[name] = values
    return directives


class SecurityHeaderTests(HavenTestCase):
    def assert_strict_page_headers(self, response):
        directives = csp_directives(response)
        for directive in ("script-src", "style-src"):
            self.assertIn(directive, directives)
            self.assertNotIn("'unsafe-inline'", directives[directive])
            self.assertNotIn("'unsafe-eval'", directives[directive])
            self.assertNotIn("*", directives[directive])
        self.assertNotIn("unsafe", response["Content-Security-Policy"])
        self.assertEqual(directives["default-src"], ["'none'"])
        self.assertEqual(directives["frame-ancestors"], ["'none'"])
        self.assertEqual(directives["object-src"], ["'none'"])
        self.assertEqual(directives["base-uri"], ["'none'"])
        self.assertEqual(directives["form-action"], ["'self'"])
        self.assertEqual(response["X-Frame-Options"], "DENY")
        self.assertEqual(response["X-Content-Type-Options"], "nosniff")
        self.assertEqual(response["Referrer-Policy"], "same-origin")
        self.assertEqual(response["Cross-Origin-Opener-Policy"], "same-origin")
        self.assertIn("camera=()", response["Permissions-Policy"])
        self.assertIn("microphone=()", response["Permissions-Policy"])
        self.assertEqual(response["Cache-Control"], "no-store")

    @pytest.mark.promise("SEC-1")
    def test_public_pages_carry_strict_headers_and_are_never_cached(self):
        for url in (
            reverse("front:home"),
            reverse("accounts:login"),
            reverse("accounts:register"),
            reverse("front:manifest"),
        ):
            with self.subTest(url=url):
                response = self.client.get(url)
                self.assertEqual(response.status_code, 200)
                self.assert_strict_page_headers(response)

    @pytest.mark.promise("SEC-1")
    def test_pages_with_personal_data_carry_strict_headers_and_are_never_cached(self):
        self.sign_in(self.alice)
        for url in (reverse("front:home"), reverse("accounts:profile")):
            with self.subTest(url=url):
                response = self.client.get(url)
                self.assertEqual(response.status_code, 200)
                self.assert_strict_page_headers(response)
        self.sign_in(self.nurse)
        response = self.client.get(reverse("front:staff_home"))
        self.assertEqual(response.status_code, 200)
        self.assert_strict_page_headers(response)

    @pytest.mark.promise("SEC-1")
    def test_error_pages_carry_the_same_headers(self):
        missing = self.client.get("/no-such-page/")
        self.assertEqual(missing.status_code, 404)
        self.assert_strict_page_headers(missing)

        self.sign_in(self.alice)
        refused = self.client.get(reverse("front:staff_home"))
        self.assertEqual(refused.status_code, 403)
        self.assertContains(refused, "You cannot open this page", status_code=403)
        self.assert_strict_page_headers(refused)

    @pytest.mark.promise("SEC-1")
    @override_settings(ROOT_URLCONF=__name__)
    def test_the_server_error_page_carries_the_same_headers_and_no_details(self):
        client = Client(raise_request_exception=False)
        response = client.get("/boom/")
        self.assertEqual(response.status_code, 500)
        self.assertContains(response, "Something went wrong on our side", status_code=500)
        self.assertNotContains(response, "a bug in a view", status_code=500)
        self.assert_strict_page_headers(response)

    @pytest.mark.promise("SEC-1")
    def test_static_files_cannot_be_sniffed_framed_or_run_scripts(self):
        for url in ("/static/haven/haven.css", "/static/haven/icons/icon.svg"):
            with self.subTest(url=url):
                response = self.client.get(url)
                self.assertEqual(response.status_code, 200)
                self.assertEqual(response["X-Content-Type-Options"], "nosniff")
                self.assertEqual(response["X-Frame-Options"], "DENY")
                self.assertIn("sandbox", response["Content-Security-Policy"])
                self.assertIn("frame-ancestors 'none'", response["Content-Security-Policy"])
                self.assertNotIn("Access-Control-Allow-Origin", response)
                # Reading to the end closes the file the way the test client expects; close()
                # would signal the end of a request and close the database under the test.
                self.assertTrue(b"".join(response.streaming_content))

    @pytest.mark.promise("SEC-1")
    def test_the_session_and_csrf_cookies_are_http_only_and_same_site(self):
        response = self.client.post(
            reverse("accounts:login"),
            {"username": "alice", "password": "correct horse battery staple"},
        )
        self.assertEqual(response.status_code, 302)
        cookie = response.cookies[settings.SESSION_COOKIE_NAME]
        self.assertTrue(cookie["httponly"])
        self.assertEqual(cookie["samesite"], "Lax")


def production_environment(tmp_path: Path, **changes: str | None) -> dict[str, str]:
    """The environment a production server needs, with nothing inherited from this test run."""
    environment = {
        name: value
        for name, value in os.environ.items()
        if not name.startswith(("HAVEN_", "DJANGO_", "SECRET_KEY", "DATABASE_URL"))
        and name not in {"ALLOWED_HOSTS", "DEBUG", "REDIS_URL", "SITE_URL"}
    }
    environment |= {
        "HAVEN_ENV": "production",
        "SECRET_KEY": secrets.token_urlsafe(60),
        "ALLOWED_HOSTS": "portal.haven.example",
        "HAVEN_LOOKUP_KEY": secrets.token_urlsafe(32),
        "HAVEN_KEKS": "k1:" + base64.b64encode(secrets.token_bytes(32)).decode(),
        "HAVEN_KEK_CURRENT": "k1",
        "HAVEN_OIDC_KEY": throwaway_rsa_key(),
        "DATABASE_URL": f"sqlite:///{tmp_path / 'haven.sqlite3'}",
        "DJANGO_SETTINGS_MODULE": "haven.settings",
    }
    for name, value in changes.items():
        if value is None:
            environment.pop(name, None)
        else:
            environment[name] = value
    return environment


def run(command: list[str], environment: dict[str, str]) -> subprocess.CompletedProcess:
    return subprocess.run(
        command, env=environment, cwd=PROJECT_DIR, capture_output=True, text=True, timeout=120
    )


def haven_command() -> list[str]:
    script = Path(sys.executable).with_name("haven")
    return [str(script)] if script.exists() else [sys.executable, "-m", "haven.cli"]


PRODUCTION_SETTINGS = """
import json
from django.conf import settings
names = [
    "DEBUG", "SECURE_SSL_REDIRECT", "SECURE_HSTS_SECONDS", "SECURE_HSTS_INCLUDE_SUBDOMAINS",
    "SECURE_HSTS_PRELOAD", "SECURE_PROXY_SSL_HEADER", "SESSION_COOKIE_SECURE",
    "CSRF_COOKIE_SECURE", "LANGUAGE_COOKIE_SECURE", "SESSION_COOKIE_HTTPONLY",
    "CSRF_COOKIE_HTTPONLY", "SITE_URL", "ALLOWED_HOSTS",
]
print(json.dumps({name: getattr(settings, name) for name in names}))
"""


@pytest.fixture(scope="module")
def production_settings(tmp_path_factory) -> dict:
    """Haven's settings as a production server loads them, read in a separate process."""
    environment = production_environment(tmp_path_factory.mktemp("production"))
    result = run([sys.executable, "-c", PRODUCTION_SETTINGS], environment)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


@pytest.mark.promise("SEC-1")
def test_production_settings_demand_https_with_long_preloaded_hsts_and_secure_cookies(
    production_settings,
):
    assert production_settings["DEBUG"] is False
    assert production_settings["SECURE_SSL_REDIRECT"] is True
    assert production_settings["SECURE_HSTS_SECONDS"] >= TWO_YEARS
    assert production_settings["SECURE_HSTS_INCLUDE_SUBDOMAINS"] is True
    assert production_settings["SECURE_HSTS_PRELOAD"] is True
    for cookie in ("SESSION_COOKIE_SECURE", "CSRF_COOKIE_SECURE", "LANGUAGE_COOKIE_SECURE"):
        assert production_settings[cookie] is True, cookie
    assert production_settings["SESSION_COOKIE_HTTPONLY"] is True
    assert production_settings["CSRF_COOKIE_HTTPONLY"] is True
    # Behind the TLS terminator, which sets (and overwrites) X-Forwarded-Proto.
    assert production_settings["SECURE_PROXY_SSL_HEADER"] == ["HTTP_X_FORWARDED_PROTO", "https"]
    assert production_settings["SITE_URL"] == "https://portal.haven.example"


@pytest.mark.promise("SEC-1")
@pytest.mark.django_db
def test_under_production_settings_http_is_redirected_and_https_gets_hsts(production_settings):
    security = {
        name: value
        for name, value in production_settings.items()
        if name.startswith(("SECURE_", "SESSION_COOKIE_", "CSRF_COOKIE_", "LANGUAGE_COOKIE_"))
    }
    security["SECURE_PROXY_SSL_HEADER"] = tuple(security["SECURE_PROXY_SSL_HEADER"])
    with override_settings(**security):
        plain = Client().get("/", headers={"X-Forwarded-Proto": "http"})
        assert plain.status_code == 301
        assert plain["Location"] == "https://testserver/"

        secure = Client().get("/", headers={"X-Forwarded-Proto": "https"})
        assert secure.status_code == 200
        assert secure["Strict-Transport-Security"] == (
            f"max-age={production_settings['SECURE_HSTS_SECONDS']}; includeSubDomains; preload"
        )

        language = Client().post(
            reverse("accounts:set_language"),
            {"language": "es", "next": "/"},
            headers={"X-Forwarded-Proto": "https"},
        )
        assert language.cookies[settings.LANGUAGE_COOKIE_NAME]["secure"] is True
        signin = Client().post(
            reverse("accounts:login"),
            {"username": "nobody", "password": "wrong password"},
            headers={"X-Forwarded-Proto": "https"},
        )
        assert signin.cookies[settings.CSRF_COOKIE_NAME]["secure"] is True


@pytest.mark.promise("SEC-1")
def test_haven_check_deploy_is_clean_under_production_settings(tmp_path):
    result = run(
        [*haven_command(), "check", "--deploy", "--fail-level", "WARNING"],
        production_environment(tmp_path),
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "System check identified no issues" in result.stdout


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"SECRET_KEY": None}, "SECRET_KEY must be set"),
        ({"SECRET_KEY": "too-short"}, "SECRET_KEY must be at least 50 characters"),
        ({"ALLOWED_HOSTS": None}, "ALLOWED_HOSTS must name the site's host names"),
        ({"HAVEN_LOOKUP_KEY": None}, "HAVEN_LOOKUP_KEY must be set"),
        ({"DATABASE_URL": None}, "DATABASE_URL must be set"),
        ({"HAVEN_KEKS": None}, "HAVEN_KEKS and HAVEN_KEK_CURRENT must be set"),
        ({"HAVEN_SMTP_TLS": "none"}, "HAVEN_SMTP_TLS must be starttls or implicit"),
        ({"DEBUG": "true"}, "DEBUG must be off in production"),
        ({"HAVEN_HTTPS": "false"}, "HAVEN_HTTPS cannot be off in production"),
    ],
)
def test_production_refuses_to_start_without_its_required_settings(tmp_path, changes, message):
    result = run([*haven_command(), "check"], production_environment(tmp_path, **changes))
    assert result.returncode != 0
    assert f"ImproperlyConfigured: {message}" in result.stderr


INLINE_SCRIPT = re.compile(r"<script\b(?![^>]*\bsrc\s*=)[^>]*>", re.IGNORECASE)
STYLE_ELEMENT = re.compile(r"<style\b", re.IGNORECASE)
TAG = re.compile(r"<[a-zA-Z][^<>]*>", re.DOTALL)
STYLE_ATTRIBUTE = re.compile(r"\sstyle\s*=", re.IGNORECASE)
EVENT_HANDLER = re.compile(r"\son[a-z]+\s*=", re.IGNORECASE)
JAVASCRIPT_URL = re.compile(r"""=\s*["']?\s*javascript:""", re.IGNORECASE)


def template_files() -> list[Path]:
    haven_dir = PROJECT_DIR / "haven"
    return sorted(
        template
        for template in haven_dir.glob("**/templates/**/*.html")
        if ".venv" not in template.parts
    )


@pytest.mark.promise("SEC-1")
def test_no_template_has_inline_scripts_styles_or_event_handlers():
    templates = template_files()
    assert any(template.name == "base.html" for template in templates)
    problems = []
    for template in templates:
        text = template.read_text(encoding="utf-8")
        where = template.relative_to(PROJECT_DIR)
        if INLINE_SCRIPT.search(text):
            problems.append(f"{where}: inline <script> (use a static file with src)")
        if STYLE_ELEMENT.search(text):
            problems.append(f"{where}: <style> element (use a static stylesheet)")
        for tag in TAG.findall(text):
            if STYLE_ATTRIBUTE.search(tag):
                problems.append(f"{where}: style attribute in {tag[:60]!r}")
            if EVENT_HANDLER.search(tag):
                problems.append(f"{where}: inline event handler in {tag[:60]!r}")
            if JAVASCRIPT_URL.search(tag):
                problems.append(f"{where}: javascript: URL in {tag[:60]!r}")
    assert problems == [], "\n".join(problems)
