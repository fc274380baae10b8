"""The live-server people fixture for the SMART client test."""

from haven.testing.browser import people  # noqa: F401
