"""The real clamd of haven/testing/clamd.py for the screening tests (MSG-6)."""

from haven.testing.clamd import clamd, clamd_server

__all__ = ["clamd", "clamd_server"]
