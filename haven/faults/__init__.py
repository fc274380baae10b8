"""Fault tests (issue 9): Haven run as real processes, then broken on purpose. See docs/faults.md."""
