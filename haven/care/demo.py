"""Demo data for `haven demo`: Connecticut practices and facilities, Dr Ji-woo Kim linked to the
demo provider account "drkim", free times for the next two weeks, and a few reviews.
Running it again changes nothing that exists."""

from datetime import datetime, time, timedelta

from django.conf import settings
from django.utils import timezone

from haven.accounts.models import User
from haven.care import services
from haven.care.models import (
    BookingMode,
    Facility,
    Practitioner,
    Review,
    Service,
    Slot,
    VisitType,
)

FACILITIES = [
    # name, kind, address, city, zip, lat, lon, phone, languages
    (
        "Asylum Hill Family Health",
        "clinic",
        "85 Jefferson Street",
        "Hartford",
        "06106",
        41.7690,
        -72.6900,
        "(860) 555-0100",
        ["en", "es", "ko"],
    ),
    (
        "Hartford Community Hospital",
        "hospital",
        "80 Seymour Street",
        "Hartford",
        "06102",
        41.7540,
        -72.6800,
        "(860) 555-0111",
        ["en", "es", "pl"],
    ),
    (
        "Elm City Urgent Care",
        "urgent_care",
        "150 Sargent Drive",
        "New Haven",
        "06511",
        41.2950,
        -72.9240,
        "(203) 555-0122",
        ["en", "es", "it"],
    ),
    (
        "Shoreline Imaging Center",
        "imaging",
        "12 Boston Post Road",
        "Guilford",
        "06437",
        41.2830,
        -72.6800,
        "(203) 555-0133",
        ["en"],
    ),
    (
        "Harbor Pharmacy",
        "pharmacy",
        "400 Main Street",
        "Stamford",
        "06901",
        41.0540,
        -73.5390,
        "(203) 555-0144",
        ["en", "es", "ht"],
    ),
    (
        "Naugatuck Valley Lab",
        "lab",
        "64 Robbins Street",
        "Waterbury",
        "06708",
        41.5540,
        -73.0570,
        "(203) 555-0155",
        ["en", "pt"],
    ),
]
PRACTITIONERS = [
    # first, last, specialty, facility index, accepting, languages, phone
    ("Ji-woo", "Kim", "family_medicine", 0, True, ["en", "ko"], "(860) 555-0101"),
    ("Rosa", "Costa", "cardiology", 1, True, ["en", "es", "it"], "(860) 555-0112"),
    ("Marco", "Bianchi", "pediatrics", 2, True, ["en", "it"], "(203) 555-0123"),
    ("Nadia", "Okafor", "obgyn", 1, False, ["en", "fr"], "(860) 555-0114"),
    ("Tomasz", "Zielinski", "orthopedics", 1, True, ["en", "pl"], "(860) 555-0115"),
    ("Lucía", "Vargas", "psychology", 2, True, ["en", "es"], "(203) 555-0124"),
    ("Minh", "Nguyen", "dermatology", 4, True, ["en", "vi"], "(203) 555-0145"),
    ("Sofia", "Rossi", "internal_medicine", 5, True, ["en", "it", "pt"], "(203) 555-0156"),
]
REVIEWS = [
    (5, "Dr. Kim listened carefully and explained everything in plain words."),
    (4, "Friendly front desk and a short wait; parking is easy."),
    (5, "La doctora Kim fue muy amable y puntual."),
]


def _at(day, hour, minute=0):
    return datetime.combine(day, time(hour, minute), tzinfo=timezone.get_current_timezone())


def load() -> None:
    if settings.PRODUCTION:
        raise RuntimeError("demo data is never loaded in production")
    if Practitioner.objects.exists():
        return
    facilities = []
    for name, kind, address, city, zip_code, lat, lon, phone, languages in FACILITIES:
        facilities.append(
            services.facility_save(
                facility=Facility(
                    name=name,
                    kind=kind,
                    address_line=address,
                    city=city,
                    postal_code=zip_code,
                    latitude=lat,
                    longitude=lon,
                    phone=phone,
                    website="https://example.org/",
                ),
                languages=languages,
            )
        )
    made = []
    for first, last, specialty, index, accepting, languages, phone in PRACTITIONERS:
        facility = facilities[index]
        made.append(
            services.practitioner_save(
                practitioner=Practitioner(
                    first_name=first,
                    last_name=last,
                    credentials="MD",
                    specialty=specialty,
                    accepting_new_patients=accepting,
                    facility=facility,
                    address_line=facility.address_line,
                    city=facility.city,
                    postal_code=facility.postal_code,
                    latitude=facility.latitude,
                    longitude=facility.longitude,
                    phone=phone,
                ),
                languages=languages,
            )
        )
    administrator = User.objects.filter(kind=User.Kind.STAFF, staff_role="administrator").first()
    drkim = User.objects.filter(username="drkim").first()
    kim = made[0]
    if administrator and drkim:
        services.provider_account_link(user=drkim, practitioner=kim, actor=administrator)
    direct = Service.objects.create(
        practitioner=kim, visit_type=VisitType.NEW_PATIENT, booking=BookingMode.DIRECT
    )
    follow = Service.objects.create(
        practitioner=kim, visit_type=VisitType.FOLLOW_UP, booking=BookingMode.REQUEST
    )
    Service.objects.create(
        practitioner=kim, visit_type=VisitType.CHECK_UP, booking=BookingMode.VIEW_ONLY
    )
    today = timezone.localdate()
    slots = []
    for offset in range(1, 15):
        day = today + timedelta(days=offset)
        if day.weekday() >= 5:
            continue
        for hour in (9, 10, 11):
            slots.append(
                Slot(
                    practitioner=kim,
                    service=direct,
                    starts_at=_at(day, hour),
                    ends_at=_at(day, hour, 30),
                )
            )
        for hour in (14, 15):
            slots.append(
                Slot(
                    practitioner=kim,
                    service=follow,
                    starts_at=_at(day, hour),
                    ends_at=_at(day, hour, 20),
                )
            )
    Slot.objects.bulk_create(slots)
    reviewers = list(
        User.objects.filter(username__in=["elena", "farid", "consuelo"]).order_by("username")
    )
    for reviewer, (rating, text) in zip(reviewers, REVIEWS, strict=False):
        if not Review.objects.filter(practitioner=kim, author=reviewer).exists():
            Review.objects.create(practitioner=kim, author=reviewer, rating=rating, text=text)
            Practitioner.objects.filter(pk=kim.pk).update(
                rating_count=kim.reviews.count(),
                rating_total=sum(kim.reviews.values_list("rating", flat=True)),
            )
