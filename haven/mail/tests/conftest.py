"""The real clamd of haven/testing/clamd.py: portal messages are screened like the message center's
(MSG-6)."""

from haven.testing.clamd import clamd, clamd_server

__all__ = ["clamd", "clamd_server"]
