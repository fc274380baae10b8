"""A small care directory for tests: Dr Ji-woo Kim's practice in Hartford (linked to the test
provider "drkim"), a second practice to refer to, free times, and bookings made the real way."""

from datetime import datetime, time, timedelta

from django.utils import timezone

from haven.accounts.models import User
from haven.care import services
from haven.care.models import (
    BookingMode,
    Facility,
    FacilityKind,
    Practitioner,
    Service,
    Slot,
    VisitType,
)
from haven.testing.people import make_user


def _tomorrow_at(hour: int, days: int = 1) -> datetime:
    day = timezone.localdate() + timedelta(days=days)
    return datetime.combine(day, time(hour, 0), tzinfo=timezone.get_current_timezone())


def practitioner(
    first: str,
    last: str,
    *,
    specialty: str = "family_medicine",
    latitude: float = 41.7658,
    longitude: float = -72.6734,
    languages=("en",),
    accepting: bool = True,
    city: str = "Hartford",
    postal_code: str = "06103",
    address_line: str = "85 Jefferson Street",
    facility: Facility | None = None,
) -> Practitioner:
    return services.practitioner_save(
        practitioner=Practitioner(
            first_name=first,
            last_name=last,
            credentials="MD",
            specialty=specialty,
            accepting_new_patients=accepting,
            address_line=address_line,
            city=city,
            postal_code=postal_code,
            latitude=latitude,
            longitude=longitude,
            phone="(860) 555-0100",
            website="https://example.org/practice",
            facility=facility,
        ),
        languages=list(languages),
    )


def slots(service: Service, count: int = 4, *, days: int = 1, hour: int = 9) -> list[Slot]:
    start = _tomorrow_at(hour, days)
    length = timedelta(minutes=service.duration_minutes)
    return [
        Slot.objects.create(
            practitioner=service.practitioner,
            service=service,
            starts_at=start + n * length,
            ends_at=start + (n + 1) * length,
        )
        for n in range(count)
    ]


class CareWorld:
    """Built once per test (kept on the test case): the practices, their visits and times."""

    def __init__(self, case):
        self.clinic = services.facility_save(
            facility=Facility(
                name="Asylum Hill Family Health",
                kind=FacilityKind.CLINIC,
                address_line="85 Jefferson Street",
                city="Hartford",
                postal_code="06106",
                latitude=41.7658,
                longitude=-72.6734,
                phone="(860) 555-0100",
                website="https://example.org/clinic",
            ),
            languages=["en", "es", "ko"],
        )
        self.kim = practitioner("Ji-woo", "Kim", languages=("en", "ko"), facility=self.clinic)
        services.provider_account_link(
            user=case.provider, practitioner=self.kim, actor=case.administrator
        )
        self.new_patient = Service.objects.create(
            practitioner=self.kim, visit_type=VisitType.NEW_PATIENT, booking=BookingMode.DIRECT
        )
        self.follow_up = Service.objects.create(
            practitioner=self.kim, visit_type=VisitType.FOLLOW_UP, booking=BookingMode.REQUEST
        )
        self.check_up = Service.objects.create(
            practitioner=self.kim, visit_type=VisitType.CHECK_UP, booking=BookingMode.VIEW_ONLY
        )
        self.direct_slots = slots(self.new_patient, 6)
        self.request_slots = slots(self.follow_up, 3, days=2)
        self.view_only_slots = slots(self.check_up, 2, days=3)

        self.costa = practitioner(
            "Rosa",
            "Costa",
            specialty="cardiology",
            latitude=41.3083,
            longitude=-72.9279,
            city="New Haven",
            postal_code="06510",
            address_line="20 York Street",
            languages=("en", "es", "it"),
        )
        self.drcosta = make_user(
            "drcosta", User.Kind.PROVIDER, first_name="Rosa", last_name="Costa"
        )
        services.provider_account_link(
            user=self.drcosta, practitioner=self.costa, actor=case.administrator
        )
        self.consultation = Service.objects.create(
            practitioner=self.costa, visit_type=VisitType.CONSULTATION, booking=BookingMode.DIRECT
        )
        self.costa_slots = slots(self.consultation, 4, days=4)

    def fresh_slot(self, service: Service | None = None) -> Slot:
        """A new free time of the service (Dr Kim's new-patient visit), after all the others."""
        service = service or self.new_patient
        latest = (
            Slot.objects.filter(practitioner=service.practitioner).order_by("-starts_at").first()
        )
        start = latest.ends_at if latest else _tomorrow_at(9)
        return Slot.objects.create(
            practitioner=service.practitioner,
            service=service,
            starts_at=start,
            ends_at=start + timedelta(minutes=service.duration_minutes),
        )


def world(case) -> CareWorld:
    if getattr(case, "_care_world", None) is None:
        case._care_world = CareWorld(case)
    return case._care_world


def book(
    case, user, slot, *, member="own", shared=("contact", "demographic", "insurance"), **options
):
    """Book through the service as `user` would: for their own record by default."""
    if member == "own":
        member = user.member
    booking = services.booking_for(user, member)
    return services.appointment_book(
        slot=slot, booking=booking, shared=list(shared), actor=user, **options
    )
