"""Statistical reports over members and how they use Haven, and de-identified extracts.

Reports count people by age band and one other dimension, then pass through suppression, so no
figure of one to ten people, or one that can be worked out from the others, is ever shown (LOG-3).
These suppressed tables are the only demographic figures Haven lets out (DIS-7).
"""

from dataclasses import dataclass
from datetime import date

from django.db.models import Case, CharField, Count, Exists, OuterRef, Q, Value, When
from django.utils.translation import gettext_lazy as _

from haven.analytics.models import ReportRun
from haven.analytics.suppression import Table, is_small, suppress
from haven.plans.models import Member

# (label, lowest age, highest age); the last band is open-ended.
AGE_BANDS = (
    ("0-17", 0, 17),
    ("18-34", 18, 34),
    ("35-49", 35, 49),
    ("50-64", 50, 64),
    ("65+", 65, None),
)


def _conversations_started():
    from haven.messaging.models import Conversation

    return Exists(
        Conversation.objects.filter(member=OuterRef("pk"), origin=Conversation.Origin.MEMBER)
    )


@dataclass(frozen=True)
class Measure:
    label: str
    question: str
    condition: object  # a Q or a boolean expression over plans.Member, or a function giving one

    def expression(self):
        return self.condition() if callable(self.condition) else self.condition


MEASURES = {
    "portal": Measure(
        _("Members with a Haven account"),
        _("How many members have signed up for the portal?"),
        Q(user__isnull=False),
    ),
    "messages": Measure(
        _("Members who wrote a secure message"),
        _("How many members have started a conversation with the plan?"),
        _conversations_started,
    ),
}

COLUMNS = {
    "region": (_("State or region"), "region"),
    "plan": (_("Plan"), "group__plan__code"),
    "gender": (_("Gender"), "gender"),
}


@dataclass
class Report:
    measure: Measure
    column_label: str
    as_of: date
    measured: Table
    base: Table

    def share(self, row: int, column: int) -> float | None:
        """The measured share of the cell, shown only where both of its counts are shown."""
        measured, base = self.measured.cell(row, column), self.base.cell(row, column)
        if measured is None or base is None or base == 0:
            return None
        return measured / base

    def lines(self):
        """Rows of (label, [(measured, base, share) per column and total])."""
        labels = self.measured.rows + [_("All ages")]
        for r, label in enumerate(labels):
            yield (
                label,
                [
                    (self.measured.cell(r, c), self.base.cell(r, c), self.share(r, c))
                    for c in range(len(self.measured.columns) + 1)
                ],
            )


def _birth_date_cutoff(as_of: date, years: int) -> date:
    """The latest birth date of someone who is at least this many years old on as_of."""
    try:
        return as_of.replace(year=as_of.year - years)
    except ValueError:  # 29 February in a year that has none
        return as_of.replace(year=as_of.year - years, day=28)


def age_band_expression(as_of: date) -> Case:
    """The member's age band on as_of, computed by the database from the birth date."""
    whens = []
    for label, lowest, _highest in reversed(AGE_BANDS):
        whens.append(When(date_of_birth__lte=_birth_date_cutoff(as_of, lowest), then=Value(label)))
    return Case(*whens, default=Value(AGE_BANDS[0][0]), output_field=CharField())


def covered_members(as_of: date):
    return Member.objects.filter(coverage_start__lte=as_of).filter(
        Q(coverage_end__isnull=True) | Q(coverage_end__gte=as_of)
    )


def member_report(measure_name: str, column_name: str, as_of: date, *, ran_by=None) -> Report:
    """Members covered on as_of, and those of them the measure counts, by age band and column;
    suppressed, and the run recorded."""
    measure = MEASURES[measure_name]
    column_label, column_field = COLUMNS[column_name]
    grouped = (
        covered_members(as_of)
        .annotate(band=age_band_expression(as_of), measured=measure.expression())
        .values("band", column_field)
        .annotate(base=Count("pk"), measured_count=Count("pk", filter=Q(measured=True)))
        .order_by()
    )
    base_counts: dict[tuple[str, str], int] = {}
    measured_counts: dict[tuple[str, str], int] = {}
    for row in grouped:
        key = (row["band"], row[column_field] or "-")
        base_counts[key] = base_counts.get(key, 0) + row["base"]
        measured_counts[key] = measured_counts.get(key, 0) + row["measured_count"]

    bands = [label for label, _lowest, _highest in AGE_BANDS]
    columns = sorted({column for _band, column in base_counts}) or ["-"]
    base = [[base_counts.get((band, column), 0) for column in columns] for band in bands]
    measured = [[measured_counts.get((band, column), 0) for column in columns] for band in bands]

    base_table = suppress(bands, columns, base)
    # The people a cell does not count are people too: a small complement is hidden as well.
    unmeasured = Table(
        bands,
        columns,
        [
            [b - m for b, m in zip(base_row, measured_row, strict=True)]
            for base_row, measured_row in zip(base, measured, strict=True)
        ],
    )
    small_complements = {
        (r, c)
        for r, line in enumerate(unmeasured.extended)
        for c, count in enumerate(line)
        if is_small(count)
    }
    measured_table = suppress(bands, columns, measured, also=small_complements)
    ReportRun.objects.create(
        ran_by=ran_by,
        measure=measure_name,
        column=column_name,
        as_of=as_of,
        cells=len(bands) * len(columns),
        hidden=len(measured_table.hidden),
    )
    return Report(measure, column_label, as_of, measured_table, base_table)


# Three-digit ZIP areas of 20,000 people or fewer (HHS de-identification guidance, Census 2000);
# Safe Harbor writes them as 000. Operators update the list from a newer census in settings.
RESTRICTED_ZIP3 = frozenset(
    "036 059 063 102 203 556 692 790 821 823 830 831 878 879 884 890 893".split()
)
EXTRACT_FIELDS = ("age", "birth_year", "gender", "zip3", "state", "plan", "coverage_start_year")


def safe_harbor_row(member: Member, as_of: date) -> dict[str, str]:
    """One member with the 18 HIPAA identifiers removed: no name, number, address below the
    state, or date but the year; ZIP cut to three digits or 000; ages over 89 as 90 or older."""
    from django.conf import settings

    restricted = getattr(settings, "HAVEN_RESTRICTED_ZIP3", RESTRICTED_ZIP3)
    age = member.age_on(as_of)
    zip3 = (member.postal_code or "")[:3]
    if len(zip3) != 3 or not zip3.isdigit() or zip3 in restricted:
        zip3 = "000"
    old = age > 89
    return {
        "age": "90+" if old else str(age),
        # The birth year of someone over 89 would give the age away.
        "birth_year": "" if old else str(member.date_of_birth.year),
        "gender": member.gender,
        "zip3": zip3,
        "state": member.region,
        "plan": member.group.plan.code,
        "coverage_start_year": str(member.coverage_start.year),
    }


def safe_harbor_extract(as_of: date):
    """Every member covered on as_of, de-identified, in no particular order of identity."""
    members = covered_members(as_of).select_related("group__plan").order_by("?")
    for member in members.iterator(chunk_size=2000):
        yield safe_harbor_row(member, as_of)
