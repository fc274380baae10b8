"""Finding practitioners and facilities by name, specialty, language, new patients and distance
(CARE-1).

A distance search never sorts the whole region. It asks for the nearest rows inside a small circle
first and widens it (2, 6, 18... miles, up to the radius asked for) until the page is full: each
step keeps the rows of the circle's bounding box through the index on (latitude, longitude), then
orders and limits them in SQL by the equirectangular distance, which within a few dozen miles
differs from the great-circle distance by well under one percent. The page's distances are then
computed exactly (haversine) and the page re-sorted by them. When the circle holds no more than
TOTAL_CAP rows, they are all read from the index and ordered exactly instead. Languages are a bit
mask kept in the same indexes, so no filter needs the rows themselves. Names are found by word prefix through
an index of name words. Totals are counted up to TOTAL_CAP ("more than 1,000").
"""

import math
from dataclasses import dataclass, field
from datetime import datetime

from django.db.models import (
    Exists,
    ExpressionWrapper,
    F,
    FloatField,
    Min,
    OuterRef,
    QuerySet,
    Value,
)
from django.utils import timezone

from haven.care.geo import (
    MILES_PER_DEGREE_LATITUDE,
    Position,
    bounding_box,
    haversine_miles,
    name_words,
    normalise,
)
from haven.care.models import (
    ACTIVE_STATUSES,
    LANGUAGE_BITS,
    Appointment,
    BookingMode,
    Facility,
    Practitioner,
    PractitionerName,
    Slot,
)

PAGE_SIZE = 20
TOTAL_CAP = 1000
RADIUS_CHOICES = (5, 10, 25, 50)
DEFAULT_RADIUS = 25
FIRST_RING_MILES = 2.0
NAME_MATCHES_CAP = 20_000
RING_GROWTH = 3.0
PRACTITIONERS = "practitioners"
FACILITIES = "facilities"


@dataclass(frozen=True)
class Query:
    kind: str = PRACTITIONERS
    text: str = ""
    specialty: str = ""
    facility_kind: str = ""
    language: str = ""
    accepting: bool = False
    position: Position | None = None
    radius_miles: int = DEFAULT_RADIUS
    page: int = 1


@dataclass
class Page:
    items: list
    total: int
    number: int
    position: Position | None
    next_free: dict[int, datetime] = field(default_factory=dict)

    @property
    def capped(self) -> bool:
        return self.total > TOTAL_CAP

    @property
    def pages(self) -> int:
        return max(1, math.ceil(min(self.total, TOTAL_CAP) / PAGE_SIZE))

    @property
    def has_previous(self) -> bool:
        return self.number > 1

    @property
    def has_next(self) -> bool:
        return self.number < self.pages

    @property
    def first_shown(self) -> int:
        return 0 if not self.items else (self.number - 1) * PAGE_SIZE + 1

    @property
    def last_shown(self) -> int:
        return (self.number - 1) * PAGE_SIZE + len(self.items)


def _word_range(word: str) -> tuple[str, str]:
    """The index range of words starting with `word` (a-z and 0-9 only, as name_words makes)."""
    last = word[-1]
    if last in "z9":
        return word, word + "~"
    return word, word[:-1] + chr(ord(last) + 1)


def _filtered(query: Query) -> QuerySet:
    if query.kind == FACILITIES:
        rows = Facility.objects.all()
        if query.facility_kind:
            rows = rows.filter(kind=query.facility_kind)
        text = normalise(query.text)
        if text:
            rows = rows.filter(search_name__contains=text)
        return _speaking(rows, query.language)
    rows = Practitioner.objects.all()
    if query.specialty:
        rows = rows.filter(specialty=query.specialty)
    if query.accepting:
        rows = rows.filter(accepting_new_patients=True)
    words = name_words(query.text)[:4]
    if words:
        # Near a place: the matching practices first, from the word index alone, then the rows
        # by primary key within the circle. (Without a place, search() pages through the word
        # index itself: _named.)
        found: set[int] | None = None
        for word in words:
            low, high = _word_range(word)
            named = PractitionerName.objects.filter(word__gte=low, word__lt=high)
            ids = set(named.values_list("practitioner_id", flat=True)[:NAME_MATCHES_CAP])
            found = ids if found is None else found & ids
        rows = rows.filter(pk__in=sorted(found or []))
    return _speaking(rows, query.language)


def _named(query: Query, words: list[str]) -> QuerySet:
    """The name search without a place, on the word index alone: the rows of the longest word's
    prefix range (the other words and the filters checked per row), as distinct (sort name,
    practitioner) pairs, which the index (word, sort_name, practitioner) hands over in order."""
    main = max(words, key=len)
    low, high = _word_range(main)
    names = PractitionerName.objects.filter(word__gte=low, word__lt=high)
    for word in words:
        if word != main:
            other_low, other_high = _word_range(word)
            names = names.filter(
                Exists(
                    PractitionerName.objects.filter(
                        practitioner=OuterRef("practitioner"),
                        word__gte=other_low,
                        word__lt=other_high,
                    )
                )
            )
    if query.specialty:
        names = names.filter(practitioner__specialty=query.specialty)
    if query.accepting:
        names = names.filter(practitioner__accepting_new_patients=True)
    if query.language in LANGUAGE_BITS:
        bit = 1 << LANGUAGE_BITS.index(query.language)
        names = names.annotate(speaks=F("practitioner__languages").bitand(bit)).filter(speaks__gt=0)
    return names.values_list("sort_name", "practitioner_id").distinct()


def _speaking(rows: QuerySet, language: str) -> QuerySet:
    if language not in LANGUAGE_BITS:
        return rows
    bit = 1 << LANGUAGE_BITS.index(language)
    return rows.annotate(speaks=F("languages").bitand(bit)).filter(speaks__gt=0)


def _within(rows: QuerySet, position: Position, miles: float) -> QuerySet:
    lat_min, lat_max, lon_min, lon_max = bounding_box(position, miles)
    rows = rows.filter(latitude__range=(lat_min, lat_max), longitude__range=(lon_min, lon_max))
    squeeze = math.cos(math.radians(position.latitude))
    north = F("latitude") - Value(position.latitude)
    east = (F("longitude") - Value(position.longitude)) * Value(squeeze)
    squared = ExpressionWrapper(north * north + east * east, output_field=FloatField())
    limit = (miles / MILES_PER_DEGREE_LATITUDE) ** 2
    return rows.annotate(squared_degrees=squared).filter(squared_degrees__lte=limit)


def _all_ids_by_distance(rows: QuerySet, position: Position, radius: float) -> list[int] | None:
    """Every row within `radius` ordered by exact distance, or None if there are more than
    TOTAL_CAP of them."""
    found = list(
        _within(rows, position, radius)
        .order_by()
        .values_list("pk", "latitude", "longitude")[: TOTAL_CAP + 1]
    )
    if len(found) > TOTAL_CAP:
        return None
    distances = [
        (haversine_miles(position.latitude, position.longitude, lat, lon), pk)
        for pk, lat, lon in found
    ]
    return [pk for miles, pk in sorted(distances) if miles <= radius]


def _nearest_ids(rows: QuerySet, position: Position, radius: float, wanted: int) -> list[int]:
    """The `wanted` nearest rows within `radius`, widening a small circle until it holds them."""
    miles = min(radius, FIRST_RING_MILES)
    while True:
        found = list(
            _within(rows, position, miles)
            .order_by("squared_degrees", "pk")
            .values_list("pk", flat=True)[:wanted]
        )
        if len(found) >= wanted or miles >= radius:
            return found
        miles = min(radius, miles * RING_GROWTH)


def search(query: Query) -> Page:
    number = max(1, min(query.page, math.ceil(TOTAL_CAP / PAGE_SIZE)))
    start = (number - 1) * PAGE_SIZE
    model = Facility if query.kind == FACILITIES else Practitioner
    words = name_words(query.text)[:4] if model is Practitioner else []
    if words and query.position is None:
        named = _named(query, words)
        total = named.order_by()[: TOTAL_CAP + 1].count()
        pairs = named.order_by("sort_name", "practitioner_id")[start : start + PAGE_SIZE]
        ids = [pk for _sort_name, pk in pairs]
    elif query.position is not None:
        rows = _filtered(query)
        # One read answers most searches: up to TOTAL_CAP + 1 index entries of the circle; when
        # they are all of it, they are ordered here by exact distance, else the rings find the
        # page's rows.
        everything = _all_ids_by_distance(rows, query.position, query.radius_miles)
        if everything is not None:
            total = len(everything)
            ids = everything[start : start + PAGE_SIZE]
        else:
            total = TOTAL_CAP + 1
            ids = _nearest_ids(rows, query.position, query.radius_miles, start + PAGE_SIZE)[start:]
    else:
        rows = _filtered(query)
        ordering = ("name", "pk") if query.kind == FACILITIES else ("last_name", "first_name", "pk")
        total = rows.order_by()[: TOTAL_CAP + 1].count()
        ids = list(rows.order_by(*ordering).values_list("pk", flat=True)[start : start + PAGE_SIZE])
    page_rows = model.objects.filter(pk__in=ids).order_by()
    if query.kind == PRACTITIONERS:
        page_rows = page_rows.select_related("facility")
    found = {item.pk: item for item in page_rows}
    items = [found[pk] for pk in ids if pk in found]
    for item in items:
        item.distance_miles = (
            haversine_miles(
                query.position.latitude, query.position.longitude, item.latitude, item.longitude
            )
            if query.position is not None
            else None
        )
    if query.position is not None:
        items.sort(key=lambda item: (item.distance_miles, item.pk))
    next_free = next_free_times([item.pk for item in items]) if query.kind == PRACTITIONERS else {}
    for item in items:
        item.next_free = next_free.get(item.pk)
    return Page(
        items=items, total=total, number=number, position=query.position, next_free=next_free
    )


def free_slots(practitioner_ids=None) -> QuerySet:
    """Published, bookable, future times that no active booking holds."""
    taken = Appointment.objects.filter(slot=OuterRef("pk"), status__in=ACTIVE_STATUSES)
    slots = Slot.objects.filter(
        starts_at__gt=timezone.now(),
        withdrawn_at__isnull=True,
        service__booking__in=[BookingMode.DIRECT, BookingMode.REQUEST],
    ).exclude(Exists(taken))
    if practitioner_ids is not None:
        slots = slots.filter(practitioner_id__in=practitioner_ids)
    return slots


def next_free_times(practitioner_ids: list[int]) -> dict[int, datetime]:
    """Each practitioner's next free time, in one query."""
    if not practitioner_ids:
        return {}
    rows = (
        free_slots(practitioner_ids)
        .values("practitioner_id")
        .annotate(first=Min("starts_at"))
        .values_list("practitioner_id", "first")
    )
    return dict(rows)
