"""Reading from a PostgreSQL replica: only what a view marks, never by guess (docs/scaling.md).

With DATABASE_REPLICA_URL set, settings add a `replica` database and READ_REPLICA names it. A
view (or a block of one) whose reads may be a little late says so:

    with reads_from_replica():
        page = directory.search(query)

    @reads_from_replica()
    def member_report(...): ...

`ReplicaRouter` sends reads made inside such a block to the replica and everything else to the
primary (`default`): every write, every read outside a block, every read inside a transaction
(it belongs with the transaction's writes), and, even inside a block, the signed-in person's
session and account, the audit trail and the other models of PRIMARY_ONLY_APPS, which must see
what was just written. Without DATABASE_REPLICA_URL nothing changes: every query goes to default.
"""

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar

from django.conf import settings
from django.db import DEFAULT_DB_ALIAS, connections

# Read from the primary even inside a reads_from_replica() block: sign-in state, second factors,
# lockouts, API tokens and the audit trail need read-your-writes.
PRIMARY_ONLY_APPS = frozenset(
    {"sessions", "accounts", "auth", "otp_totp", "otp_static", "axes", "oauth2_provider", "audit"}
)

REPLICA = "replica"

_replica_reads: ContextVar[bool] = ContextVar("haven_replica_reads", default=False)


@contextmanager
def reads_from_replica(allowed: bool = True) -> Iterator[None]:
    """Reads in this block (or decorated function) may come from the replica; `allowed=False`
    keeps them on the primary (e.g. for an editor who has just saved what the page shows)."""
    token = _replica_reads.set(allowed)
    try:
        yield
    finally:
        _replica_reads.reset(token)


def replica_alias() -> str:
    """The replica's alias when one is configured and in use (settings.READ_REPLICA), else ""."""
    alias = getattr(settings, "READ_REPLICA", "")
    return alias if alias in connections.settings else ""


class ReplicaRouter:
    """Reads marked by reads_from_replica() go to the replica; all else to the primary."""

    def db_for_read(self, model, **hints) -> str:
        if (
            _replica_reads.get()
            and model._meta.app_label not in PRIMARY_ONLY_APPS
            and not connections[DEFAULT_DB_ALIAS].in_atomic_block
        ):
            return replica_alias() or DEFAULT_DB_ALIAS
        return DEFAULT_DB_ALIAS

    def db_for_write(self, model, **hints) -> str:
        # Explicit: an object read from the replica is still saved to the primary.
        return DEFAULT_DB_ALIAS

    def allow_relation(self, obj1, obj2, **hints) -> bool | None:
        # The replica is a copy of the primary: objects from either may be related.
        aliases = {DEFAULT_DB_ALIAS, replica_alias() or DEFAULT_DB_ALIAS}
        return True if {obj1._state.db, obj2._state.db} <= aliases else None

    def allow_migrate(self, db, app_label, model_name=None, **hints) -> bool | None:
        # The replica follows the primary by PostgreSQL's replication, never by migrations.
        return False if db == REPLICA else None
