"""Fixtures every app's tests may use: the browser of haven/testing/browser.py and the real clamd
of haven/testing/clamd.py (one scanner for the whole run)."""

from haven.testing.browser import browser, open_page, page, people, phone_page
from haven.testing.clamd import clamd, clamd_server

__all__ = ["browser", "clamd", "clamd_server", "open_page", "page", "people", "phone_page"]
