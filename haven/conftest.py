"""Fixtures every app's tests may use: the browser of haven/testing/browser.py and the real clamd
of haven/testing/clamd.py (one scanner for the whole run)."""

import pytest
from django.conf import settings
from django.core.cache import cache
from django.utils import translation

from haven.testing.browser import browser, open_page, page, people, phone_page
from haven.testing.clamd import clamd, clamd_server

__all__ = ["browser", "clamd", "clamd_server", "open_page", "page", "people", "phone_page"]


@pytest.fixture(autouse=True)
def default_language():
    """Each test starts in English: a request through the test client leaves its language
    active in the thread, which would otherwise translate the next test's texts."""
    translation.activate(settings.LANGUAGE_CODE)
    yield
    translation.activate(settings.LANGUAGE_CODE)


@pytest.fixture(autouse=True)
def empty_cache():
    """Each test starts with an empty cache: sign-in failures, rate limits and intrusion counters
    live there, and one test's failed sign-ins as alice would slow the next test's sign-in."""
    cache.clear()
    yield
    cache.clear()
