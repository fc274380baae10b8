"""Fixtures every app's tests may use: the browser-test fixtures of haven/testing/browser.py."""

from haven.testing.browser import browser, open_page, page, people, phone_page

__all__ = ["browser", "open_page", "page", "people", "phone_page"]
