"""The operators' CSV import: roster, plans and benefits, claims, rate tables.

The layouts are documented in docs/import-formats.md. Every row is checked on its own; a bad row
is reported with its line number and left out, good rows are written in batches, one transaction
per batch, so a row is either written whole or not at all. Rows are upserted by their natural keys
(member_id, plan_code, claim_number...), so importing the same file again changes nothing.
Reasons never repeat the value of a personal or clinical column: only its name.
"""

import csv
import functools
import io
import operator
import re
import time
import zlib
from collections.abc import Iterable, Iterator
from contextlib import contextmanager, nullcontext
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any, TextIO

from django.db import DatabaseError, connection, transaction
from django.db.models import Model, Q
from django.utils import timezone
from django.utils.functional import Promise
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from haven.plans.models import (
    COUNTED_STATUSES,
    Accumulator,
    Claim,
    ClaimStatus,
    ClaimStatusChange,
    EmployerGroup,
    Member,
    Plan,
    PlanBenefit,
    Product,
    Rate,
    RatingArea,
    RatingAreaZip,
    ServiceCategory,
)

DEFAULT_BATCH_SIZE = 5000

CREATED, UPDATED, UNCHANGED = "created", "updated", "unchanged"

# Columns whose values are personal or clinical: a reason names the column, never the value.
PRIVATE_COLUMNS = {
    "member_id",
    "subscriber_id",
    "first_name",
    "last_name",
    "date_of_birth",
    "address_line",
    "city",
    "postal_code",
    "phone",
    "diagnosis_codes",
    "procedure_codes",
    "status_note",
}

KEY_PATTERN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]*$")
ICD10_PATTERN = re.compile(r"^[A-Z][0-9][0-9A-Z](\.?[0-9A-Z]{1,4})?$")
PROCEDURE_PATTERN = re.compile(r"^([0-9]{4}[0-9A-Z]|[A-Z][0-9]{4})$")
AMOUNT_PATTERN = re.compile(r"^[0-9]{1,10}(\.[0-9]{1,2})?$")
ZIP_PREFIX_PATTERN = re.compile(r"^[0-9]{3,5}$")
TRUE_WORDS = {"y", "yes", "true", "1"}
FALSE_WORDS = {"n", "no", "false", "0"}
MAX_CODES = 12
CENT = Decimal("0.01")
AN_ICD10_CODE = gettext_lazy("an ICD-10 code")
A_PROCEDURE_CODE = gettext_lazy("a CPT or HCPCS code")


def _lowered(choices: Iterable[str]) -> dict[str, str]:
    return {value.lower(): value for value in choices}


RELATIONSHIPS = _lowered(Member.Relationship.values)
GENDERS = _lowered(Member.Gender.values)
NETWORK_TYPES = _lowered(Plan.NetworkType.values)
SERVICE_CATEGORIES = _lowered(ServiceCategory.values)
CLAIM_STATUSES = _lowered(ClaimStatus.values)


class ImportFileError(Exception):
    """The file as a whole cannot be imported (not CSV, not UTF-8, missing columns)."""


class RowError(Exception):
    """This row cannot be imported; the message says why, in plain words."""


@dataclass(slots=True)
class Row:
    line: int
    values: dict[str, Any]


@dataclass
class Rejection:
    line: int
    reason: str


@dataclass
class ImportResult:
    layout: str
    read: int = 0
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    rejections: list[Rejection] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    seconds: float = 0.0

    @property
    def rejected(self) -> int:
        return len(self.rejections)

    def count(self, outcome: str) -> None:
        setattr(self, outcome, getattr(self, outcome) + 1)

    def summary(self) -> str:
        return _(
            "%(layout)s: %(read)s rows read in %(seconds).1f s: %(created)s created, "
            "%(updated)s updated, %(unchanged)s unchanged, %(rejected)s rejected."
        ) % {
            "layout": self.layout,
            "read": self.read,
            "seconds": self.seconds,
            "created": self.created,
            "updated": self.updated,
            "unchanged": self.unchanged,
            "rejected": self.rejected,
        }


class Cells:
    """One CSV row's raw values, read column by column; every problem is noted, not raised."""

    def __init__(self, raw: dict[str, str], today: date):
        self.raw = raw
        self.today = today
        self.errors: list[str] = []

    def fail(self, message: str) -> None:
        self.errors.append(message)

    def check(self) -> None:
        if self.errors:
            raise RowError("; ".join(self.errors))

    def _shown(self, column: str) -> str:
        """The column's value in quotes for a reason, or nothing if the value is private."""
        if column in PRIVATE_COLUMNS:
            return ""
        return f" ('{self.raw.get(column, '')[:40]}')"

    def get(self, column: str) -> str:
        return (self.raw.get(column) or "").strip()

    def text(self, column: str, *, required: bool = False, max_length: int = 200) -> str:
        value = self.get(column)
        if required and not value:
            self.fail(_("%(column)s is required") % {"column": column})
        elif len(value) > max_length:
            self.fail(
                _("%(column)s is longer than %(max)s characters")
                % {"column": column, "max": max_length}
            )
        return value

    def key(self, column: str, *, required: bool = True, max_length: int = 32) -> str:
        value = self.text(column, required=required, max_length=max_length)
        if value and not KEY_PATTERN.match(value):
            self.fail(
                _("%(column)s%(shown)s may hold only letters, digits, dots, dashes and underscores")
                % {"column": column, "shown": self._shown(column)}
            )
        return value

    def day(self, column: str, *, required: bool = False, past: bool = False) -> date | None:
        value = self.get(column)
        if not value:
            if required:
                self.fail(_("%(column)s is required") % {"column": column})
            return None
        try:
            parsed = date.fromisoformat(value) if len(value) == 10 else None
        except ValueError:
            parsed = None
        if parsed is None:
            self.fail(
                _("%(column)s%(shown)s is not a date in the form YYYY-MM-DD")
                % {"column": column, "shown": self._shown(column)}
            )
            return None
        if past and parsed > self.today:
            self.fail(_("%(column)s is in the future") % {"column": column})
        return parsed

    def amount(
        self, column: str, *, required: bool = False, default: Decimal | None = None
    ) -> Decimal | None:
        value = self.get(column).replace(",", "").removeprefix("$")
        if not value:
            if required:
                self.fail(_("%(column)s is required") % {"column": column})
            return default
        if not AMOUNT_PATTERN.match(value):
            self.fail(
                _(
                    "%(column)s%(shown)s is not an amount like 1234.56 "
                    "(no minus sign, at most two decimals)"
                )
                % {"column": column, "shown": self._shown(column)}
            )
            return default
        try:
            return Decimal(value).quantize(CENT)
        except InvalidOperation:  # pragma: no cover - the pattern already excludes it
            self.fail(_("%(column)s is not an amount") % {"column": column})
            return default

    def number(
        self,
        column: str,
        *,
        minimum: int,
        maximum: int,
        required: bool = False,
        default: int | None = None,
    ) -> int | None:
        value = self.get(column)
        if not value:
            if required:
                self.fail(_("%(column)s is required") % {"column": column})
            return default
        if not value.isdigit() or not minimum <= int(value) <= maximum:
            self.fail(
                _("%(column)s%(shown)s is not a whole number from %(minimum)s to %(maximum)s")
                % {
                    "column": column,
                    "shown": self._shown(column),
                    "minimum": minimum,
                    "maximum": maximum,
                }
            )
            return default
        return int(value)

    def flag(self, column: str, *, default: bool | None = None) -> bool:
        value = self.get(column).lower()
        if not value and default is not None:
            return default
        if value in TRUE_WORDS:
            return True
        if value in FALSE_WORDS:
            return False
        if not value:
            self.fail(_("%(column)s is required (Y or N)") % {"column": column})
        else:
            self.fail(
                _("%(column)s%(shown)s must be Y or N")
                % {"column": column, "shown": self._shown(column)}
            )
        return False

    def choice(
        self, column: str, choices: dict[str, str], *, required: bool = True, default: str = ""
    ) -> str:
        """One of `choices` (lower-cased value -> stored value), in any letter case."""
        value = self.get(column)
        if not value:
            if required:
                self.fail(_("%(column)s is required") % {"column": column})
            return default
        found = choices.get(value.lower())
        if found is None:
            self.fail(
                _("%(column)s%(shown)s is not one of: %(allowed)s")
                % {
                    "column": column,
                    "shown": self._shown(column),
                    "allowed": ", ".join(choices.values()),
                }
            )
            return default
        return found

    def codes(self, column: str, pattern: re.Pattern, kind: Promise) -> list[str]:
        value = self.get(column)
        if not value:
            return []
        codes = [code.strip().upper() for code in re.split(r"[;|]", value) if code.strip()]
        if len(codes) > MAX_CODES:
            self.fail(
                _("%(column)s has more than %(max)s codes") % {"column": column, "max": MAX_CODES}
            )
        for position, code in enumerate(codes, start=1):
            if not pattern.match(code):
                self.fail(
                    _("%(column)s: code number %(position)s is not %(kind)s")
                    % {"column": column, "position": position, "kind": kind}
                )
        return codes


@functools.lru_cache(maxsize=65536)
def npi_is_valid(npi: str) -> bool:
    """A National Provider Identifier: ten digits whose last is a Luhn check over 80840 + the rest."""
    if len(npi) != 10 or not npi.isdigit():
        return False
    digits = [int(d) for d in "80840" + npi[:9]]
    total = 0
    for position, digit in enumerate(reversed(digits)):
        if position % 2 == 0:
            digit *= 2
            if digit > 9:
                digit -= 9
        total += digit
    return (10 - total % 10) % 10 == int(npi[9])


def changed(current: dict[str, Any] | None, values: dict[str, Any], fields: Iterable[str]) -> bool:
    return current is None or any(current[name] != values[name] for name in fields)


def upsert(
    model: type[Model],
    columns: list[str],
    rows: list[tuple[Any, ...]],
    *,
    unique: list[str],
    update: list[str] | None = None,
    increment: list[str] | None = None,
) -> None:
    """Insert rows; where the `unique` key is already there, set the `update` columns, or add
    to the `increment` ones.

    INSERT ... ON CONFLICT, fed by executemany on SQLite and by COPY through a temporary table on
    PostgreSQL: the ORM's bulk_create prepares each value through its field and is several times
    too slow for a million claims. Values go as they are: JSON columns take JSON text. Rows must
    not repeat a key.
    """
    if not rows:
        return
    opts = model._meta
    quote = connection.ops.quote_name
    table = quote(opts.db_table)

    def column(name: str) -> str:
        return quote(opts.get_field(name).column)

    column_list = ", ".join(column(name) for name in columns)
    conflict = ", ".join(column(name) for name in unique)
    changes = [f"{column(name)} = excluded.{column(name)}" for name in update or []]
    changes += [
        f"{column(name)} = {table}.{column(name)} + excluded.{column(name)}"
        for name in increment or []
    ]
    action = "DO UPDATE SET " + ", ".join(changes) if changes else "DO NOTHING"  # nosec B608  # column names from the model
    # Table and column names come from the models, never from the file.
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            # One staging table per model and column list, kept for the session and emptied.
            staging = quote(f"import_{opts.db_table}_{zlib.crc32(column_list.encode()):08x}")
            cursor.execute(
                f"CREATE TEMPORARY TABLE IF NOT EXISTS {staging} AS "  # noqa: S608  # nosec B608
                f"SELECT {column_list} FROM {table} WITH NO DATA"
            )
            cursor.execute(f"TRUNCATE {staging}")
            with cursor.copy(f"COPY {staging} ({column_list}) FROM STDIN") as copy:
                for row in rows:
                    copy.write_row(row)
            cursor.execute(
                f"INSERT INTO {table} ({column_list}) SELECT {column_list} "  # noqa: S608  # nosec B608
                f"FROM {staging} ON CONFLICT ({conflict}) {action}"
            )
        else:
            cursor.executemany(
                f"INSERT INTO {table} ({column_list}) "  # noqa: S608  # nosec B608
                f"VALUES ({', '.join(['%s'] * len(columns))}) ON CONFLICT ({conflict}) {action}",
                rows,
            )


def where_in(column: str, values: Iterable[Any]) -> tuple[str, list[Any]]:
    """`column IN (...)` on SQLite; `column = ANY(%s)` on PostgreSQL, one array parameter.

    Thousands of keys per batch: the ORM's `__in` prepares each one, psycopg parses each
    placeholder, and together they cost more than the insert itself.
    """
    values = list(values)
    if connection.vendor == "postgresql":
        return f"{column} = ANY(%s)", [values]
    return f"{column} IN ({', '.join(['%s'] * len(values))})", values


def keys_to_ids(model: type[Model], key: str, keys: Iterable[str]) -> dict[str, int]:
    """The primary keys of the rows whose `key` column holds one of `keys`."""
    keys = list(keys)
    if not keys:
        return {}
    quote = connection.ops.quote_name
    opts = model._meta
    column = quote(opts.get_field(key).column)
    condition, params = where_in(column, keys)
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT {column}, {quote(opts.pk.column)} FROM {quote(opts.db_table)} "  # noqa: S608  # nosec B608
            f"WHERE {condition}",
            params,
        )
        return dict(cursor.fetchall())


class Layout:
    """One kind of file: its columns, how a row is checked, and how a batch is written."""

    name = ""
    columns: dict[str, bool] = {}  # column name -> required
    whole_file = False  # read every row, then write them phase by phase (see `phase`)

    def __init__(self) -> None:
        self.today = timezone.localdate()

    def parse(self, cells: Cells) -> dict[str, Any]:
        raise NotImplementedError

    def check_in_file(self, row: Row) -> None:
        """Rules across rows of the same file (a key twice, a plan described two ways)."""

    def phase(self, row: Row) -> int:
        """Rows of a lower phase are all written before any row of a higher one."""
        return 0

    def write(self, rows: list[Row]) -> list[tuple[Row, str | RowError]]:
        """Write a batch inside the caller's transaction; one outcome per row."""
        raise NotImplementedError


class RosterLayout(Layout):
    name = "roster"
    columns = {
        "member_id": True,
        "subscriber_id": False,
        "relationship": True,
        "first_name": True,
        "last_name": True,
        "gender": True,
        "date_of_birth": True,
        "group_number": True,
        "group_name": False,
        "plan_code": False,
        "address_line": False,
        "city": False,
        "region": False,
        "postal_code": False,
        "phone": False,
        "coverage_start": True,
        "coverage_end": False,
    }
    whole_file = True
    fields = [
        "group_id",
        "subscriber_id",
        "relationship",
        "first_name",
        "last_name",
        "gender",
        "date_of_birth",
        "address_line",
        "city",
        "region",
        "postal_code",
        "phone",
        "coverage_start",
        "coverage_end",
    ]

    def __init__(self) -> None:
        super().__init__()
        self.member_lines: dict[str, int] = {}
        self.group_lines: dict[str, tuple[str, str, int]] = {}

    def parse(self, cells: Cells) -> dict[str, Any]:
        values = {
            "member_id": cells.key("member_id"),
            "subscriber_member_id": cells.key("subscriber_id", required=False),
            "relationship": cells.choice("relationship", RELATIONSHIPS),
            "first_name": cells.text("first_name", required=True, max_length=100),
            "last_name": cells.text("last_name", required=True, max_length=100),
            "gender": cells.choice("gender", GENDERS),
            "date_of_birth": cells.day("date_of_birth", required=True, past=True),
            "group_number": cells.key("group_number"),
            "group_name": cells.text("group_name"),
            "plan_code": cells.key("plan_code", required=False),
            "address_line": cells.text("address_line"),
            "city": cells.text("city", max_length=100),
            "region": cells.text("region", max_length=100),
            "postal_code": cells.text("postal_code", max_length=16),
            "phone": cells.text("phone", max_length=32),
            "coverage_start": cells.day("coverage_start", required=True),
            "coverage_end": cells.day("coverage_end"),
        }
        is_subscriber = values["relationship"] == Member.Relationship.SELF
        if is_subscriber and values["subscriber_member_id"]:
            cells.fail(_("a subscriber (relationship self) has no subscriber_id"))
        if values["relationship"] and not is_subscriber and not values["subscriber_member_id"]:
            cells.fail(_("a dependant needs the subscriber_id of the subscriber"))
        if values["member_id"] and values["member_id"] == values["subscriber_member_id"]:
            cells.fail(_("subscriber_id is the member's own member_id"))
        start, end = values["coverage_start"], values["coverage_end"]
        if start and end and end < start:
            cells.fail(_("coverage_end is before coverage_start"))
        return values

    def check_in_file(self, row: Row) -> None:
        member_id = row.values["member_id"]
        if member_id in self.member_lines:
            raise RowError(
                _("the same member_id is already on line %(line)s")
                % {"line": self.member_lines[member_id]}
            )
        group = row.values["group_number"]
        name, plan_code = row.values["group_name"], row.values["plan_code"]
        if name or plan_code:
            first = self.group_lines.get(group)
            if first and (first[0], first[1]) != (name, plan_code):
                raise RowError(
                    _("group %(group)s has another group_name or plan_code on line %(line)s")
                    % {"group": group, "line": first[2]}
                )
            self.group_lines.setdefault(group, (name, plan_code, row.line))
        self.member_lines[member_id] = row.line

    def phase(self, row: Row) -> int:
        # Subscribers first, so a dependant can name a subscriber further down the file.
        return 0 if row.values["relationship"] == Member.Relationship.SELF else 1

    def _groups(self, rows: list[Row], outcomes: dict[int, str | RowError]) -> dict[str, int]:
        """Create or update the employer groups the rows name; group_number -> pk."""
        numbers = {row.values["group_number"] for row in rows}
        groups = {
            group.group_number: group
            for group in EmployerGroup.objects.filter(group_number__in=numbers).select_related(
                "plan"
            )
        }
        codes = {row.values["plan_code"] for row in rows if row.values["plan_code"]}
        plans = dict(Plan.objects.filter(code__in=codes).values_list("code", "pk"))
        wanted: dict[str, EmployerGroup] = {}
        for row in rows:
            number, name, code = (
                row.values["group_number"],
                row.values["group_name"],
                row.values["plan_code"],
            )
            if code and code not in plans:
                outcomes[row.line] = RowError(
                    _("plan_code %(code)s is not a known plan: import the plans file first")
                    % {"code": code}
                )
                continue
            group = groups.get(number)
            if group is None and number not in wanted and not (name and code):
                outcomes[row.line] = RowError(
                    _("group %(group)s is new: give its group_name and plan_code")
                    % {"group": number}
                )
                continue
            if number in wanted:
                continue
            if group is None or (name and name != group.name) or (code and code != group.plan.code):
                wanted[number] = EmployerGroup(
                    group_number=number,
                    name=name or group.name,
                    plan_id=plans[code] if code else group.plan_id,
                )
                outcomes.setdefault(row.line, UPDATED)
        if wanted:
            EmployerGroup.objects.bulk_create(
                wanted.values(),
                update_conflicts=True,
                unique_fields=["group_number"],
                update_fields=["name", "plan"],
            )
        return dict(
            EmployerGroup.objects.filter(group_number__in=numbers).values_list("group_number", "pk")
        )

    def write(self, rows: list[Row]) -> list[tuple[Row, str | RowError]]:
        outcomes: dict[int, str | RowError] = {}
        group_ids = self._groups(rows, outcomes)
        known = keys_to_ids(Member, "member_id", [row.values["member_id"] for row in rows])
        existing = {
            values["member_id"]: values
            for values in Member.objects.filter(pk__in=known.values()).values(
                "member_id", *self.fields
            )
        }
        subscriber_ids = {row.values["subscriber_member_id"] for row in rows} - {""}
        subscribers = dict(
            Member.objects.filter(
                member_id__in=subscriber_ids, relationship=Member.Relationship.SELF
            ).values_list("member_id", "pk")
        )
        becoming_dependants = [
            row.values["member_id"]
            for row in rows
            if row.values["relationship"] != "self"
            and existing.get(row.values["member_id"], {}).get("relationship") == "self"
        ]
        with_dependants = set(
            Member.objects.filter(subscriber__member_id__in=becoming_dependants).values_list(
                "subscriber__member_id", flat=True
            )
        )
        upserts = []
        results = []
        for row in rows:
            outcome = outcomes.get(row.line)
            if isinstance(outcome, RowError):
                results.append((row, outcome))
                continue
            values = dict(row.values)
            member_id = values.pop("member_id")
            subscriber_member_id = values.pop("subscriber_member_id")
            values["group_id"] = group_ids[values.pop("group_number")]
            del values["group_name"], values["plan_code"]
            if subscriber_member_id:
                values["subscriber_id"] = subscribers.get(subscriber_member_id)
                if values["subscriber_id"] is None:
                    results.append(
                        (
                            row,
                            RowError(
                                _(
                                    "subscriber_id does not match a subscriber (relationship "
                                    "self) on the roster or in this file"
                                )
                            ),
                        )
                    )
                    continue
            else:
                values["subscriber_id"] = None
            if member_id in with_dependants:
                results.append(
                    (
                        row,
                        RowError(
                            _(
                                "this subscriber still has dependants: give them their new "
                                "subscriber first"
                            )
                        ),
                    )
                )
                continue
            current = existing.get(member_id)
            if changed(current, values, self.fields):
                upserts.append((member_id, *(values[name] for name in self.fields)))
                results.append((row, CREATED if current is None else UPDATED))
            else:
                results.append((row, outcome or UNCHANGED))
        upsert(
            Member, ["member_id", *self.fields], upserts, unique=["member_id"], update=self.fields
        )
        return results


class PlansLayout(Layout):
    name = "plans"
    columns = {
        "plan_code": True,
        "plan_name": True,
        "carrier": True,
        "year": True,
        "network_type": False,
        "deductible_individual": True,
        "deductible_family": True,
        "out_of_pocket_max_individual": True,
        "out_of_pocket_max_family": True,
        "member_services_phone": False,
        "rx_bin": False,
        "rx_pcn": False,
        "rx_group": False,
        "category": False,
        "in_network_copay": False,
        "in_network_coinsurance": False,
        "in_network_deductible_applies": False,
        "out_of_network_covered": False,
        "out_of_network_copay": False,
        "out_of_network_coinsurance": False,
        "out_of_network_deductible_applies": False,
        "limits": False,
    }
    plan_fields = [
        "name",
        "carrier",
        "year",
        "network_type",
        "deductible_individual",
        "deductible_family",
        "out_of_pocket_max_individual",
        "out_of_pocket_max_family",
        "member_services_phone",
        "rx_bin",
        "rx_pcn",
        "rx_group",
    ]
    benefit_fields = [
        "in_network_copay",
        "in_network_coinsurance",
        "in_network_deductible_applies",
        "out_of_network_covered",
        "out_of_network_copay",
        "out_of_network_coinsurance",
        "out_of_network_deductible_applies",
        "limits",
    ]

    def __init__(self) -> None:
        super().__init__()
        self.plan_lines: dict[str, tuple[dict[str, Any], int]] = {}
        self.benefit_lines: dict[tuple[str, str], int] = {}

    def parse(self, cells: Cells) -> dict[str, Any]:
        plan = {
            "name": cells.text("plan_name", required=True),
            "carrier": cells.text("carrier", required=True),
            "year": cells.number("year", minimum=2000, maximum=2100, required=True),
            "network_type": cells.choice(
                "network_type", NETWORK_TYPES, required=False, default="PPO"
            ),
            "deductible_individual": cells.amount("deductible_individual", required=True),
            "deductible_family": cells.amount("deductible_family", required=True),
            "out_of_pocket_max_individual": cells.amount(
                "out_of_pocket_max_individual", required=True
            ),
            "out_of_pocket_max_family": cells.amount("out_of_pocket_max_family", required=True),
            "member_services_phone": cells.text("member_services_phone", max_length=32),
            "rx_bin": cells.text("rx_bin", max_length=16),
            "rx_pcn": cells.text("rx_pcn", max_length=16),
            "rx_group": cells.text("rx_group", max_length=32),
        }
        for part in ("deductible", "out_of_pocket_max"):
            single, family = plan[f"{part}_individual"], plan[f"{part}_family"]
            if single is not None and family is not None and family < single:
                cells.fail(_("%(part)s_family is less than %(part)s_individual") % {"part": part})
        category = cells.choice("category", SERVICE_CATEGORIES, required=False)
        benefit = None
        if category:
            benefit = {
                "in_network_copay": cells.amount("in_network_copay"),
                "in_network_coinsurance": cells.number(
                    "in_network_coinsurance", minimum=0, maximum=100
                ),
                "in_network_deductible_applies": cells.flag(
                    "in_network_deductible_applies", default=True
                ),
                "out_of_network_covered": cells.flag("out_of_network_covered", default=True),
                "out_of_network_copay": cells.amount("out_of_network_copay"),
                "out_of_network_coinsurance": cells.number(
                    "out_of_network_coinsurance", minimum=0, maximum=100
                ),
                "out_of_network_deductible_applies": cells.flag(
                    "out_of_network_deductible_applies", default=True
                ),
                "limits": cells.text("limits"),
            }
            if not benefit["out_of_network_covered"] and (
                benefit["out_of_network_copay"] is not None
                or benefit["out_of_network_coinsurance"] is not None
            ):
                cells.fail(
                    _(
                        "out_of_network_covered is N: leave the out-of-network copay and coinsurance empty"
                    )
                )
        elif not cells.get("category"):
            given = [name for name in self.benefit_fields if cells.get(name)]
            given += [
                name
                for name in ("in_network_deductible_applies", "out_of_network_covered")
                if cells.get(name)
            ]
            if given:
                cells.fail(_("benefit columns are filled in but category is empty"))
        return {
            "plan_code": cells.key("plan_code"),
            "plan": plan,
            "category": category,
            "benefit": benefit,
        }

    def check_in_file(self, row: Row) -> None:
        code, plan = row.values["plan_code"], row.values["plan"]
        first = self.plan_lines.setdefault(code, (plan, row.line))
        if first[0] != plan:
            raise RowError(
                _("plan %(code)s is described differently on line %(line)s")
                % {"code": code, "line": first[1]}
            )
        if row.values["category"]:
            key = (code, row.values["category"])
            if key in self.benefit_lines:
                raise RowError(
                    _("the same plan_code and category are already on line %(line)s")
                    % {"line": self.benefit_lines[key]}
                )
            self.benefit_lines[key] = row.line

    def write(self, rows: list[Row]) -> list[tuple[Row, str | RowError]]:
        codes = {row.values["plan_code"] for row in rows}
        existing = {
            values["code"]: values
            for values in Plan.objects.filter(code__in=codes).values("code", *self.plan_fields)
        }
        outcomes: dict[int, str] = {}
        upserts: dict[str, Plan] = {}
        for row in rows:
            code, plan = row.values["plan_code"], row.values["plan"]
            if code in upserts or not changed(existing.get(code), plan, self.plan_fields):
                continue
            upserts[code] = Plan(code=code, **plan)
            outcomes[row.line] = CREATED if code not in existing else UPDATED
        Plan.objects.bulk_create(
            upserts.values(),
            update_conflicts=True,
            unique_fields=["code"],
            update_fields=self.plan_fields,
        )
        plan_ids = dict(Plan.objects.filter(code__in=codes).values_list("code", "pk"))
        benefits = {
            (values["plan_id"], values["category"]): values
            for values in PlanBenefit.objects.filter(plan_id__in=plan_ids.values()).values(
                "plan_id", "category", *self.benefit_fields
            )
        }
        benefit_upserts = []
        results = []
        for row in rows:
            outcome = outcomes.get(row.line, UNCHANGED)
            if row.values["category"]:
                key = (plan_ids[row.values["plan_code"]], row.values["category"])
                current = benefits.get(key)
                if changed(current, row.values["benefit"], self.benefit_fields):
                    benefit_upserts.append(
                        PlanBenefit(plan_id=key[0], category=key[1], **row.values["benefit"])
                    )
                    outcome = CREATED if current is None else UPDATED
            results.append((row, outcome))
        PlanBenefit.objects.bulk_create(
            benefit_upserts,
            update_conflicts=True,
            unique_fields=["plan", "category"],
            update_fields=self.benefit_fields,
        )
        return results


class ClaimsLayout(Layout):
    name = "claims"
    columns = {
        "claim_number": True,
        "member_id": True,
        "service_start": True,
        "service_end": False,
        "received_on": False,
        "provider_name": True,
        "provider_npi": False,
        "in_network": False,
        "service_category": False,
        "status": True,
        "status_date": True,
        "status_note": False,
        "billed_amount": True,
        "allowed_amount": False,
        "plan_paid": False,
        "member_responsibility": False,
        "deductible_applied": False,
        "diagnosis_codes": False,
        "procedure_codes": False,
    }
    fields = [
        "member_id",
        "service_start",
        "service_end",
        "received_on",
        "provider_name",
        "provider_npi",
        "in_network",
        "service_category",
        "status",
        "status_on",
        "billed_amount",
        "allowed_amount",
        "plan_paid",
        "member_responsibility",
        "deductible_applied",
        "diagnosis_codes",
        "procedure_codes",
    ]

    def __init__(self) -> None:
        super().__init__()
        # The latest status_date seen for each claim, and its line: one claim's lines go in order.
        self.claim_lines: dict[str, tuple[date, int]] = {}
        # Members never leave the roster (coverage ends instead), so their keys can be kept.
        self.member_pks: dict[str, int] = {}

    def parse(self, cells: Cells) -> dict[str, Any]:
        zero = Decimal("0.00")
        start = cells.day("service_start", required=True, past=True)
        end = cells.day("service_end", past=True) or start
        status_on = cells.day("status_date", required=True, past=True)
        values = {
            "claim_number": cells.key("claim_number"),
            "member_number": cells.key("member_id"),
            "service_start": start,
            "service_end": end,
            "received_on": cells.day("received_on", past=True) or end,
            "provider_name": cells.text("provider_name", required=True),
            "provider_npi": cells.get("provider_npi"),
            "in_network": cells.flag("in_network", default=True),
            "service_category": cells.choice(
                "service_category", SERVICE_CATEGORIES, required=False
            ),
            "status": cells.choice("status", CLAIM_STATUSES),
            "status_on": status_on,
            "status_note": cells.text("status_note", max_length=300),
            "billed_amount": cells.amount("billed_amount", required=True),
            "allowed_amount": cells.amount("allowed_amount", default=zero),
            "plan_paid": cells.amount("plan_paid", default=zero),
            "member_responsibility": cells.amount("member_responsibility", default=zero),
            "deductible_applied": cells.amount("deductible_applied", default=zero),
            "diagnosis_codes": cells.codes("diagnosis_codes", ICD10_PATTERN, AN_ICD10_CODE),
            "procedure_codes": cells.codes("procedure_codes", PROCEDURE_PATTERN, A_PROCEDURE_CODE),
        }
        if values["provider_npi"] and not npi_is_valid(values["provider_npi"]):
            cells.fail(
                _("provider_npi%(shown)s is not a valid NPI (ten digits with a check digit)")
                % {"shown": cells._shown("provider_npi")}
            )
        if start and end and end < start:
            cells.fail(_("service_end is before service_start"))
        if start and values["received_on"] and values["received_on"] < start:
            cells.fail(_("received_on is before service_start"))
        if start and status_on and status_on < start:
            cells.fail(_("status_date is before service_start"))
        billed, allowed = values["billed_amount"], values["allowed_amount"]
        paid, owed = values["plan_paid"], values["member_responsibility"]
        deductible = values["deductible_applied"]
        # Amounts in error are None; the rules below compare only those that were read.
        if billed is not None and allowed > billed:
            cells.fail(_("allowed_amount is more than billed_amount"))
        if allowed is not None and paid is not None and owed is not None and paid + owed > allowed:
            cells.fail(_("plan_paid and member_responsibility add up to more than allowed_amount"))
        if owed is not None and deductible is not None and deductible > owed:
            cells.fail(_("deductible_applied is more than member_responsibility"))
        return values

    def check_in_file(self, row: Row) -> None:
        number, status_on = row.values["claim_number"], row.values["status_on"]
        previous = self.claim_lines.get(number)
        if previous and status_on < previous[0]:
            raise RowError(
                _(
                    "this claim's status_date is earlier than on line %(line)s: give the lines "
                    "of one claim in date order"
                )
                % {"line": previous[1]}
            )
        if previous and status_on == previous[0]:
            raise RowError(
                _("this claim already has a line with the same status_date (line %(line)s)")
                % {"line": previous[1]}
            )
        self.claim_lines[number] = (status_on, row.line)

    def write(self, rows: list[Row]) -> list[tuple[Row, str | RowError]]:
        numbers = {row.values["claim_number"] for row in rows}
        members = self.member_pks
        members.update(
            keys_to_ids(
                Member, "member_id", {row.values["member_number"] for row in rows} - members.keys()
            )
        )
        claim_ids = keys_to_ids(Claim, "claim_number", numbers)
        existing: dict[str, dict[str, Any]] = {}
        history: set[tuple[str, str, date]] = set()
        if claim_ids:
            for values in Claim.objects.filter(pk__in=claim_ids.values()).values(
                "claim_number", *self.fields
            ):
                existing[values.pop("claim_number")] = values
            history.update(
                ClaimStatusChange.objects.filter(claim_id__in=claim_ids.values()).values_list(
                    "claim__claim_number", "status", "on"
                )
            )
        current: dict[str, dict[str, Any]] = dict(existing)
        dirty: set[str] = set()
        totals = Totals()
        new_history: list[tuple[str, str, date, str]] = []
        results: list[tuple[Row, str | RowError]] = []
        for row in rows:
            values = row.values
            member_pk = members.get(values["member_number"])
            if member_pk is None:
                results.append(
                    (row, RowError(_("member_id is not on the roster: import the roster first")))
                )
                continue
            number = values["claim_number"]
            state = {name: values[name] for name in self.fields if name != "member_id"}
            state["member_id"] = member_pk
            before = current.get(number)
            step = (number, values["status"], values["status_on"])
            new_step = step not in history
            # A line older than what is stored adds to the history but does not roll the claim back.
            applies = before is None or state["status_on"] >= before["status_on"]
            differs = applies and changed(before, state, self.fields)
            if differs:
                totals.move(before, state)
                current[number] = state
                dirty.add(number)
            if new_step:
                history.add(step)
                new_history.append((*step, values["status_note"]))
            if before is None:
                results.append((row, CREATED))
            else:
                results.append((row, UPDATED if differs or new_step else UNCHANGED))

        claim_values = operator.itemgetter(*self.fields[:-2])
        upsert(
            Claim,
            ["claim_number", *self.fields],
            [
                (
                    number,
                    *claim_values(current[number]),
                    codes_json(current[number]["diagnosis_codes"]),
                    codes_json(current[number]["procedure_codes"]),
                )
                for number in dirty
            ],
            unique=["claim_number"],
            update=self.fields,
        )
        claim_ids.update(
            keys_to_ids(Claim, "claim_number", {step[0] for step in new_history} - claim_ids.keys())
        )
        upsert(
            ClaimStatusChange,
            ["claim_id", "status", "on", "note"],
            [(claim_ids[number], status, on, note) for number, status, on, note in new_history],
            unique=["claim_id", "status", "on"],
        )
        totals.save()
        return results


def codes_json(codes: list[str]) -> str:
    """A list of codes as JSON text; the codes were checked to hold letters, digits and dots."""
    return '["' + '", "'.join(codes) + '"]' if codes else "[]"


class Totals:
    """What a batch of claim changes adds to each member's accumulators, by plan year.

    Accumulators are stored, and moved by the claims import in the same transaction as the
    claims: each change takes the claim's old amounts off its old member-year (if they counted)
    and adds its new ones. Only approved and paid claims count; plan years are the calendar
    years of the first day of service.
    """

    def __init__(self) -> None:
        self.changes: dict[tuple[int, int], list[Decimal]] = {}

    def _add(self, claim: dict[str, Any], sign: int) -> None:
        if claim["status"] not in COUNTED_STATUSES:
            return
        key = (claim["member_id"], claim["service_start"].year)
        change = self.changes.setdefault(key, [Decimal("0.00"), Decimal("0.00")])
        change[0] += sign * claim["deductible_applied"]
        change[1] += sign * claim["member_responsibility"]

    def move(self, before: dict[str, Any] | None, after: dict[str, Any]) -> None:
        if before is not None:
            self._add(before, -1)
        self._add(after, 1)

    def save(self) -> None:
        upsert(
            Accumulator,
            ["member_id", "plan_year", "deductible_met", "out_of_pocket_met"],
            [
                (member, year, deductible, out_of_pocket)
                for (member, year), (deductible, out_of_pocket) in sorted(self.changes.items())
                if deductible or out_of_pocket
            ],
            unique=["member_id", "plan_year"],
            increment=["deductible_met", "out_of_pocket_met"],
        )


class RatesLayout(Layout):
    name = "rates"
    columns = {
        "product_code": True,
        "product_name": True,
        "plan_code": False,
        "year": True,
        "published": False,
        "child_age_limit": False,
        "max_charged_children": False,
        "area_code": True,
        "area_name": True,
        "zip_prefixes": False,
        "age_min": True,
        "age_max": True,
        "tobacco": True,
        "monthly_premium": True,
    }
    product_fields = [
        "name",
        "plan_id",
        "year",
        "published",
        "child_age_limit",
        "max_charged_children",
    ]

    def __init__(self) -> None:
        super().__init__()
        self.product_lines: dict[str, tuple[dict[str, Any], int]] = {}
        self.area_lines: dict[str, tuple[str, int]] = {}
        self.area_prefix_lines: dict[str, tuple[list[str], int]] = {}
        self.prefix_lines: dict[str, tuple[str, int]] = {}  # ZIP prefix -> area code, line
        self.band_lines: dict[tuple[str, str, bool], list[tuple[int, int, int]]] = {}

    def parse(self, cells: Cells) -> dict[str, Any]:
        all_children = cells.get("max_charged_children").lower() == "all"
        product = {
            "name": cells.text("product_name", required=True),
            "plan_code": cells.key("plan_code", required=False),
            "year": cells.number("year", minimum=2000, maximum=2100, required=True),
            "published": cells.flag("published", default=True),
            "child_age_limit": cells.number("child_age_limit", minimum=0, maximum=30, default=21),
            "max_charged_children": None
            if all_children
            else cells.number("max_charged_children", minimum=0, maximum=20, default=3),
        }
        prefixes = sorted(
            {prefix.strip() for prefix in cells.get("zip_prefixes").split(";") if prefix.strip()}
        )
        for prefix in prefixes:
            if not ZIP_PREFIX_PATTERN.match(prefix):
                cells.fail(
                    _("zip_prefixes: %(prefix)s is not three to five digits") % {"prefix": prefix}
                )
        age_min = cells.number("age_min", minimum=0, maximum=120, required=True)
        age_max = cells.number("age_max", minimum=0, maximum=120, required=True)
        if age_min is not None and age_max is not None and age_max < age_min:
            cells.fail(_("age_max is less than age_min"))
        return {
            "product_code": cells.key("product_code"),
            "product": product,
            "area_code": cells.key("area_code"),
            "area_name": cells.text("area_name", required=True),
            "zip_prefixes": prefixes,
            "age_min": age_min,
            "age_max": age_max,
            "tobacco": cells.flag("tobacco"),
            "monthly_premium": cells.amount("monthly_premium", required=True),
        }

    def check_in_file(self, row: Row) -> None:
        values = row.values
        code, area = values["product_code"], values["area_code"]
        product = self.product_lines.setdefault(code, (values["product"], row.line))
        if product[0] != values["product"]:
            raise RowError(
                _("product %(code)s is described differently on line %(line)s")
                % {"code": code, "line": product[1]}
            )
        first_name = self.area_lines.setdefault(area, (values["area_name"], row.line))
        if first_name[0] != values["area_name"]:
            raise RowError(
                _("area %(area)s has another area_name on line %(line)s")
                % {"area": area, "line": first_name[1]}
            )
        if values["zip_prefixes"]:
            first_prefixes = self.area_prefix_lines.setdefault(
                area, (values["zip_prefixes"], row.line)
            )
            if first_prefixes[0] != values["zip_prefixes"]:
                raise RowError(
                    _("area %(area)s has other zip_prefixes on line %(line)s")
                    % {"area": area, "line": first_prefixes[1]}
                )
            for prefix in values["zip_prefixes"]:
                owner = self.prefix_lines.setdefault(prefix, (area, row.line))
                if owner[0] != area:
                    raise RowError(
                        _("ZIP prefix %(prefix)s already belongs to area %(area)s on line %(line)s")
                        % {"prefix": prefix, "area": owner[0], "line": owner[1]}
                    )
        bands = self.band_lines.setdefault((code, area, values["tobacco"]), [])
        for age_min, age_max, line in bands:
            if values["age_min"] <= age_max and age_min <= values["age_max"]:
                raise RowError(
                    _("this age band overlaps the band on line %(line)s") % {"line": line}
                )
        bands.append((values["age_min"], values["age_max"], row.line))

    def write(self, rows: list[Row]) -> list[tuple[Row, str | RowError]]:
        outcomes: dict[int, str | RowError] = {}
        changed_products = self._products(rows, outcomes)
        changed_areas = self._areas(rows, outcomes)
        rows_left = [row for row in rows if not isinstance(outcomes.get(row.line), RowError)]
        product_ids = dict(
            Product.objects.filter(
                code__in={row.values["product_code"] for row in rows_left}
            ).values_list("code", "pk")
        )
        area_ids = dict(
            RatingArea.objects.filter(
                code__in={row.values["area_code"] for row in rows_left}
            ).values_list("code", "pk")
        )
        # The bands already in the table, by product, area and tobacco use.
        bands: dict[tuple[int, int, bool], dict[int, dict[str, Any]]] = {}
        for values in Rate.objects.filter(
            product_id__in=product_ids.values(), area_id__in=area_ids.values()
        ).values("product_id", "area_id", "tobacco", "age_min", "age_max", "monthly_premium"):
            key = (values["product_id"], values["area_id"], values["tobacco"])
            bands.setdefault(key, {})[values["age_min"]] = values
        upserts = []
        results: list[tuple[Row, str | RowError]] = []
        for row in rows:
            outcome = outcomes.get(row.line)
            if isinstance(outcome, RowError):
                results.append((row, outcome))
                continue
            values = row.values
            key = (
                product_ids[values["product_code"]],
                area_ids[values["area_code"]],
                values["tobacco"],
            )
            table = bands.setdefault(key, {})
            overlap = next(
                (
                    band
                    for age_min, band in table.items()
                    if age_min != values["age_min"]
                    and age_min <= values["age_max"]
                    and values["age_min"] <= band["age_max"]
                ),
                None,
            )
            if overlap:
                results.append(
                    (
                        row,
                        RowError(
                            _(
                                "this age band overlaps the band from age %(age)s already in "
                                "the rate table"
                            )
                            % {"age": overlap["age_min"]}
                        ),
                    )
                )
                continue
            wanted = {
                "age_min": values["age_min"],
                "age_max": values["age_max"],
                "monthly_premium": values["monthly_premium"],
            }
            current = table.get(values["age_min"])
            if changed(current, wanted, ["age_max", "monthly_premium"]):
                upserts.append(Rate(product_id=key[0], area_id=key[1], tobacco=key[2], **wanted))
                table[values["age_min"]] = wanted
                results.append((row, CREATED if current is None else UPDATED))
            elif values["product_code"] in changed_products or values["area_code"] in changed_areas:
                # The product or area this row describes changed: count it once, here.
                changed_products.discard(values["product_code"])
                changed_areas.discard(values["area_code"])
                results.append((row, UPDATED))
            else:
                results.append((row, UNCHANGED))
        Rate.objects.bulk_create(
            upserts,
            update_conflicts=True,
            unique_fields=["product", "area", "tobacco", "age_min"],
            update_fields=["age_max", "monthly_premium"],
        )
        return results

    def _products(self, rows: list[Row], outcomes: dict[int, str | RowError]) -> set[str]:
        """Create or update the products the rows describe; the codes of those changed."""
        plan_codes = {row.values["product"]["plan_code"] for row in rows} - {""}
        plans = dict(Plan.objects.filter(code__in=plan_codes).values_list("code", "pk"))
        wanted: dict[str, dict[str, Any]] = {}
        for row in rows:
            product = dict(row.values["product"])
            plan_code = product.pop("plan_code")
            if plan_code and plan_code not in plans:
                outcomes[row.line] = RowError(
                    _("plan_code %(code)s is not a known plan: import the plans file first")
                    % {"code": plan_code}
                )
                continue
            product["plan_id"] = plans.get(plan_code)
            wanted.setdefault(row.values["product_code"], product)
        current = {
            values.pop("code"): values
            for values in Product.objects.filter(code__in=wanted).values(
                "code", *self.product_fields
            )
        }
        upserts = [
            Product(code=code, **values)
            for code, values in wanted.items()
            if changed(current.get(code), values, self.product_fields)
        ]
        Product.objects.bulk_create(
            upserts,
            update_conflicts=True,
            unique_fields=["code"],
            update_fields=self.product_fields,
        )
        return {product.code for product in upserts}

    def _areas(self, rows: list[Row], outcomes: dict[int, str | RowError]) -> set[str]:
        """Create or rename the areas and set their ZIP prefixes; the codes of those changed."""
        wanted: dict[str, tuple[str, list[str]]] = {}
        for row in rows:
            code = row.values["area_code"]
            name, prefixes = wanted.get(code, (row.values["area_name"], []))
            wanted[code] = (name, prefixes or row.values["zip_prefixes"])
        names = dict(RatingArea.objects.filter(code__in=wanted).values_list("code", "name"))
        given = {prefix for _name, prefixes in wanted.values() for prefix in prefixes}
        owners: dict[str, str] = {}
        prefixes_now: dict[str, set[str]] = {}
        for prefix, code in RatingAreaZip.objects.filter(
            Q(area__code__in=wanted) | Q(prefix__in=given)
        ).values_list("prefix", "area__code"):
            owners[prefix] = code
            prefixes_now.setdefault(code, set()).add(prefix)
        refused: dict[str, RowError] = {}
        for code, (_name, prefixes) in wanted.items():
            taken = [prefix for prefix in prefixes if owners.get(prefix, code) != code]
            if code not in names and not prefixes:
                refused[code] = RowError(
                    _("area %(area)s is new: give its zip_prefixes") % {"area": code}
                )
            elif taken:
                refused[code] = RowError(
                    _("ZIP prefix %(prefix)s belongs to area %(area)s in the rate table")
                    % {"prefix": taken[0], "area": owners[taken[0]]}
                )
        for row in rows:
            if row.values["area_code"] in refused:
                outcomes.setdefault(row.line, refused[row.values["area_code"]])
        renamed = {
            code
            for code, (name, _prefixes) in wanted.items()
            if code not in refused and names.get(code) != name
        }
        moved = {
            code
            for code, (_name, prefixes) in wanted.items()
            if code not in refused and prefixes and set(prefixes) != prefixes_now.get(code, set())
        }
        RatingArea.objects.bulk_create(
            [RatingArea(code=code, name=wanted[code][0]) for code in renamed],
            update_conflicts=True,
            unique_fields=["code"],
            update_fields=["name"],
        )
        area_ids = dict(RatingArea.objects.filter(code__in=moved).values_list("code", "pk"))
        for code in moved:
            prefixes = wanted[code][1]
            RatingAreaZip.objects.filter(area_id=area_ids[code]).exclude(
                prefix__in=prefixes
            ).delete()
            RatingAreaZip.objects.bulk_create(
                [RatingAreaZip(area_id=area_ids[code], prefix=prefix) for prefix in prefixes],
                ignore_conflicts=True,
            )
        return renamed | moved


LAYOUTS: dict[str, type[Layout]] = {
    layout.name: layout for layout in (RosterLayout, PlansLayout, ClaimsLayout, RatesLayout)
}


class Lines:
    """The file's lines for the CSV reader, noting the numbers of those that were not UTF-8.

    Files are opened with errors="replace", so one badly encoded line is refused on its own
    instead of stopping the import where the decoder happened to meet it.
    """

    def __init__(self, stream: Iterable[str]):
        self.stream = iter(stream)
        self.number = 0
        self.not_utf8: set[int] = set()

    def __iter__(self) -> "Lines":
        return self

    def __next__(self) -> str:
        line = next(self.stream)
        self.number += 1
        if "\ufffd" in line:
            self.not_utf8.add(self.number)
        return line

    def spoilt(self, first: int, last: int) -> bool:
        return bool(self.not_utf8) and any(n in self.not_utf8 for n in range(first, last + 1))


def _header(
    reader: csv.DictReader, lines: Lines, layout: Layout, result: ImportResult
) -> list[str]:
    try:
        header = reader.fieldnames
    except csv.Error as error:
        raise ImportFileError(_("the file cannot be read as CSV text")) from error
    if lines.spoilt(1, 1):
        raise ImportFileError(
            _("the first line is not UTF-8 text: save the file as UTF-8 (CSV UTF-8 in Excel)")
        )
    if not header:
        raise ImportFileError(_("the file is empty: the first line must name the columns"))
    names = [name.strip().lower().replace(" ", "_") for name in header]
    duplicates = sorted({name for name in names if names.count(name) > 1})
    if duplicates:
        raise ImportFileError(
            _("the header names these columns twice: %(columns)s")
            % {"columns": ", ".join(duplicates)}
        )
    missing = [name for name, required in layout.columns.items() if required and name not in names]
    if missing:
        raise ImportFileError(
            _("the header lacks these required columns: %(columns)s")
            % {"columns": ", ".join(missing)}
        )
    unknown = [name for name in names if name not in layout.columns]
    if unknown:
        result.warnings.append(
            _("these columns are not part of the %(layout)s layout and were ignored: %(columns)s")
            % {"layout": layout.name, "columns": ", ".join(unknown)}
        )
    reader.fieldnames = names
    return names


def _rows(
    reader: csv.DictReader, lines: Lines, layout: Layout, result: ImportResult
) -> Iterator[Row]:
    """Checked rows; rejected ones go straight to the result."""
    today = layout.today
    line = reader.line_num
    while True:
        try:
            raw = next(reader)
        except StopIteration:
            return
        except csv.Error as error:
            result.rejections.append(
                Rejection(
                    line + 1,
                    _("the CSV cannot be read from here (%(error)s): the rest of it was not read")
                    % {"error": error},
                )
            )
            return
        start = line + 1
        line = reader.line_num
        if line != start:
            # Blank lines were skipped, or quotes hold line breaks: the record starts further on.
            start = line - sum(
                value.count("\n") for value in raw.values() if isinstance(value, str)
            )
        result.read += 1
        if lines.spoilt(start, line):
            result.rejections.append(
                Rejection(
                    start,
                    _("the line is not UTF-8 text: save the file as UTF-8 (CSV UTF-8 in Excel)"),
                )
            )
            continue
        if None in raw:
            result.rejections.append(
                Rejection(start, _("the line has more fields than the header names"))
            )
            continue
        if None in raw.values():
            result.rejections.append(
                Rejection(start, _("the line has fewer fields than the header names"))
            )
            continue
        cells = Cells(raw, today)
        try:
            values = layout.parse(cells)
            cells.check()
            row = Row(start, values)
            layout.check_in_file(row)
        except RowError as error:
            result.rejections.append(Rejection(start, str(error)))
            continue
        yield row


def _batches(rows: Iterable[Row], layout: Layout, size: int) -> Iterator[list[Row]]:
    if layout.whole_file:
        rows = sorted(rows, key=layout.phase)  # stable: file order within a phase
    batch: list[Row] = []
    for row in rows:
        if batch and (len(batch) >= size or layout.phase(row) != layout.phase(batch[-1])):
            yield batch
            batch = []
        batch.append(row)
    if batch:
        yield batch


def _database_reason(error: DatabaseError) -> str:
    text = str(error)
    for constraint in (
        "claim_allowed_within_billed",
        "claim_shares_within_allowed",
        "claim_deductible_within_member_share",
        "member_subscriber_matches_relationship",
        "plan_family_deductible_covers_individual",
        "plan_family_oop_covers_individual",
    ):
        if constraint in text:
            return _("the database refused the row: it breaks the rule %(rule)s") % {
                "rule": constraint
            }
    return _("the database refused the row (a value is too long or breaks a rule)")


def _write(layout: Layout, batch: list[Row], result: ImportResult) -> None:
    try:
        with transaction.atomic():
            outcomes = layout.write(batch)
    except DatabaseError:
        # A rule only the database knows: write row by row to find the rows it refuses.
        outcomes = []
        for row in batch:
            try:
                with transaction.atomic():
                    outcomes.extend(layout.write([row]))
            except DatabaseError as error:
                outcomes.append((row, RowError(_database_reason(error))))
    for row, outcome in outcomes:
        if isinstance(outcome, RowError):
            result.rejections.append(Rejection(row.line, str(outcome)))
        else:
            result.count(outcome)


@contextmanager
def sqlite_page_cache(mebibytes: int = 256) -> Iterator[None]:
    """A larger SQLite page cache for the import's connection, as long as it runs.

    The default (2 MiB) makes each insert into a million-row index read its pages again.
    """
    if connection.vendor != "sqlite":
        yield
        return
    with connection.cursor() as cursor:
        cursor.execute("PRAGMA cache_size")
        (previous,) = cursor.fetchone()
        cursor.execute(f"PRAGMA cache_size = {-mebibytes * 1024}")
    try:
        yield
    finally:
        with connection.cursor() as cursor:
            cursor.execute(f"PRAGMA cache_size = {int(previous)}")


def import_csv(
    layout_name: str,
    source: str | Path | TextIO,
    *,
    batch_size: int = DEFAULT_BATCH_SIZE,
    dry_run: bool = False,
) -> ImportResult:
    """Import one file of the named layout; see docs/import-formats.md."""
    layout = LAYOUTS[layout_name]()
    result = ImportResult(layout_name)
    began = time.monotonic()
    if isinstance(source, str | Path):
        try:
            stream: TextIO = open(source, encoding="utf-8-sig", errors="replace", newline="")
        except OSError as error:
            raise ImportFileError(
                _("the file cannot be opened: %(error)s") % {"error": error.strerror}
            ) from error
    else:
        stream = source
    try:
        lines = Lines(stream)
        reader = csv.DictReader(lines)
        _header(reader, lines, layout, result)
        with sqlite_page_cache(), transaction.atomic() if dry_run else nullcontext():
            for batch in _batches(_rows(reader, lines, layout, result), layout, batch_size):
                _write(layout, batch, result)
            if dry_run:
                transaction.set_rollback(True)
    finally:
        if stream is not source:
            stream.close()
    result.rejections.sort(key=lambda rejection: rejection.line)
    result.seconds = time.monotonic() - began
    return result


def import_text(layout_name: str, text: str, **options: Any) -> ImportResult:
    """Import CSV given as a string (tests, the demo)."""
    return import_csv(layout_name, io.StringIO(text), **options)
