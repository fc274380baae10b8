"""Haven's settings for the fault tests' subprocesses: the same, with the outbox's timers from the
environment so a test need not wait fifteen minutes for a stale claim. Defaults are Haven's own."""

from haven.lib.env import env_bool, env_int
from haven.settings import *  # noqa: F403

HAVEN_MAIL_SENDING_TIMEOUT_SECONDS = env_int("HAVEN_MAIL_SENDING_TIMEOUT_SECONDS", 900)
HAVEN_MAIL_RETRY_SECONDS = env_int("HAVEN_MAIL_RETRY_SECONDS", 60)
HAVEN_SMTP_TIMEOUT = env_int("HAVEN_SMTP_TIMEOUT", 20)

# Proposed for haven/settings.py (not there yet): with persistent connections (DB_CONN_MAX_AGE>0)
# a connection that died while idle fails the next request unless Django checks it first.
# The fault test of a database restart between requests sets this; docs/faults.md explains.
if env_bool("HAVEN_FAULTS_CONN_HEALTH_CHECKS", False):
    DATABASES["default"]["CONN_HEALTH_CHECKS"] = True  # noqa: F405
