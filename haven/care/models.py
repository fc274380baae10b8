"""Finding and booking care: the directory (practitioners and facilities, CARE-1), appointments and
what a member shares with the provider (CARE-2, DIS-1, DIS-2), public reviews (CARE-3, CARE-4) and
invitations (CARE-5).

What a member shares at booking is a copy of their data given to the provider: it is stored
encrypted on the appointment under its own data key (haven.lib.crypto), with the disclosure that
records it in the privacy center's accounting.
"""

import json
from functools import lru_cache
from typing import Any

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone, translation
from django.utils.translation import gettext_lazy as _

from haven.messaging.models import Sealed


class Specialty(models.TextChoices):
    FAMILY_MEDICINE = "family_medicine", _("Family medicine")
    INTERNAL_MEDICINE = "internal_medicine", _("Internal medicine")
    PEDIATRICS = "pediatrics", _("Pediatrics")
    OBSTETRICS_GYNECOLOGY = "obgyn", _("Obstetrics and gynecology")
    CARDIOLOGY = "cardiology", _("Cardiology")
    DERMATOLOGY = "dermatology", _("Dermatology")
    ENDOCRINOLOGY = "endocrinology", _("Endocrinology")
    GASTROENTEROLOGY = "gastroenterology", _("Gastroenterology")
    NEUROLOGY = "neurology", _("Neurology")
    ONCOLOGY = "oncology", _("Oncology")
    ORTHOPEDICS = "orthopedics", _("Orthopedics")
    OPHTHALMOLOGY = "ophthalmology", _("Eye care (ophthalmology)")
    ENT = "ent", _("Ear, nose and throat")
    PSYCHIATRY = "psychiatry", _("Psychiatry")
    PSYCHOLOGY = "psychology", _("Psychology and counseling")
    PHYSICAL_THERAPY = "physical_therapy", _("Physical therapy")
    PULMONOLOGY = "pulmonology", _("Lung care (pulmonology)")
    UROLOGY = "urology", _("Urology")
    ALLERGY = "allergy", _("Allergy and immunology")
    DENTISTRY = "dentistry", _("Dentistry")


class Language(models.TextChoices):
    """Languages spoken at a practice, named in the language of the page."""

    ENGLISH = "en", _("English")
    SPANISH = "es", _("Spanish")
    ITALIAN = "it", _("Italian")
    PORTUGUESE = "pt", _("Portuguese")
    FRENCH = "fr", _("French")
    HAITIAN_CREOLE = "ht", _("Haitian Creole")
    POLISH = "pl", _("Polish")
    RUSSIAN = "ru", _("Russian")
    CHINESE = "zh", _("Chinese")
    KOREAN = "ko", _("Korean")
    VIETNAMESE = "vi", _("Vietnamese")
    ARABIC = "ar", _("Arabic")
    HINDI = "hi", _("Hindi")
    GERMAN = "de", _("German")


# Each language's bit in a practice's `languages` mask. Append only: a bit never changes meaning.
LANGUAGE_BITS = tuple(Language.values)


def languages_mask(codes) -> int:
    return sum(1 << LANGUAGE_BITS.index(code) for code in set(codes))


class FacilityKind(models.TextChoices):
    HOSPITAL = "hospital", _("Hospital")
    CLINIC = "clinic", _("Clinic or medical group")
    URGENT_CARE = "urgent_care", _("Urgent care center")
    LAB = "lab", _("Laboratory")
    IMAGING = "imaging", _("Imaging center")
    PHARMACY = "pharmacy", _("Pharmacy")


class Place(models.Model):
    """Where a practice is: its address and coordinates (WGS 84 degrees), for distance search."""

    address_line = models.CharField(_("address"), max_length=200)
    city = models.CharField(_("city"), max_length=100)
    state = models.CharField(_("state"), max_length=2, default="CT")
    postal_code = models.CharField(_("ZIP code"), max_length=10)
    latitude = models.FloatField(_("latitude"))
    longitude = models.FloatField(_("longitude"))
    phone = models.CharField(_("phone"), max_length=32, blank=True)
    website = models.URLField(_("website"), blank=True)
    # The languages spoken there, one bit each (LANGUAGE_BITS): filtered inside the search indexes.
    languages = models.PositiveIntegerField(_("languages"), default=0)

    class Meta:
        abstract = True

    @property
    def address(self) -> str:
        return f"{self.address_line}, {self.city}, {self.state} {self.postal_code}"

    @property
    def language_codes(self) -> list[str]:
        return [code for bit, code in enumerate(LANGUAGE_BITS) if self.languages & (1 << bit)]

    @property
    def language_labels(self) -> list[str]:
        return list(_language_labels(self.languages, translation.get_language()))


@lru_cache(maxsize=2048)
def _language_labels(mask: int, language: str | None) -> tuple[str, ...]:
    """The names of a mask's languages in the active language (the second argument keys the
    cache): result pages show them for every practice."""
    labels = dict(Language.choices)
    return tuple(str(labels[code]) for bit, code in enumerate(LANGUAGE_BITS) if mask & (1 << bit))


@lru_cache(maxsize=256)
def _choice_label(choices: type[models.TextChoices], value: str, language: str | None) -> str:
    """A choice's label in the active language (the last argument keys the cache). Django's
    get_FOO_display hashes every lazily translated label of the field's choices on each call,
    which on a results page of twenty cost more than the rest of the results together."""
    return str(dict(choices.choices).get(value, value))


def _coordinates_valid(prefix: str) -> models.CheckConstraint:
    return models.CheckConstraint(
        condition=Q(latitude__gte=-90, latitude__lte=90, longitude__gte=-180, longitude__lte=180),
        name=f"{prefix}_coordinates_valid",
    )


class Facility(Place):
    name = models.CharField(_("name"), max_length=200)
    kind = models.CharField(_("kind"), max_length=16, choices=FacilityKind.choices)
    description = models.TextField(_("about"), blank=True)
    # Lower case, without accents (geo.normalise): what name searches match; facilities are few.
    search_name = models.CharField(max_length=200, editable=False)

    class Meta:
        verbose_name_plural = "facilities"
        ordering = ["name"]
        indexes = [
            models.Index(
                fields=["latitude", "longitude", "languages"], name="care_facility_position"
            ),
            models.Index(fields=["kind", "latitude", "longitude"], name="care_facility_kind_pos"),
        ]
        constraints = [
            _coordinates_valid("care_facility"),
            models.CheckConstraint(
                condition=Q(kind__in=FacilityKind.values), name="care_facility_kind_known"
            ),
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def kind_label(self) -> str:
        return _choice_label(FacilityKind, self.kind, translation.get_language())


class Practitioner(Place):
    first_name = models.CharField(_("first name"), max_length=100)
    last_name = models.CharField(_("last name"), max_length=100)
    credentials = models.CharField(_("credentials"), max_length=40, blank=True)
    specialty = models.CharField(_("specialty"), max_length=24, choices=Specialty.choices)
    accepting_new_patients = models.BooleanField(_("accepting new patients"), default=True)
    facility = models.ForeignKey(
        Facility,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="practitioners",
        verbose_name=_("practises at"),
    )
    bio = models.TextField(_("about"), blank=True)
    # Kept with each review so that lists show ratings without counting reviews.
    rating_count = models.PositiveIntegerField(default=0)
    rating_total = models.PositiveIntegerField(default=0)
    # The privacy center's registry entry that lets members share data with this practice
    # (set when a provider account is linked: only then can members book).
    recipient = models.OneToOneField(
        "privacy.Recipient", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )

    class Meta:
        ordering = ["last_name", "first_name", "pk"]
        indexes = [
            # Distance searches read only these indexes: the position range, then the other
            # filters from the same index entries, never the rows.
            models.Index(
                fields=["latitude", "longitude", "accepting_new_patients", "languages"],
                name="care_pract_position",
            ),
            models.Index(
                fields=[
                    "specialty",
                    "latitude",
                    "longitude",
                    "accepting_new_patients",
                    "languages",
                ],
                name="care_pract_specialty_pos",
            ),
            models.Index(fields=["last_name", "first_name", "id"], name="care_pract_name"),
            models.Index(
                fields=["specialty", "last_name", "first_name"], name="care_pract_spec_name"
            ),
        ]
        constraints = [
            _coordinates_valid("care_practitioner"),
            models.CheckConstraint(
                condition=Q(specialty__in=Specialty.values),
                name="care_practitioner_specialty_known",
            ),
            models.CheckConstraint(
                condition=Q(rating_total__lte=models.F("rating_count") * 5)
                & Q(rating_total__gte=models.F("rating_count")),
                name="care_practitioner_rating_adds_up",
            ),
        ]

    def __str__(self) -> str:
        return self.display_name

    @property
    def specialty_label(self) -> str:
        return _choice_label(Specialty, self.specialty, translation.get_language())

    @property
    def display_name(self) -> str:
        name = f"{self.first_name} {self.last_name}"
        return f"{name}, {self.credentials}" if self.credentials else name

    @property
    def rating(self) -> float | None:
        return round(self.rating_total / self.rating_count, 1) if self.rating_count else None


class PractitionerName(models.Model):
    """One word of a practitioner's name, normalised: name searches match words by prefix, through
    an index, instead of scanning every name."""

    practitioner = models.ForeignKey(
        Practitioner, on_delete=models.CASCADE, related_name="name_words"
    )
    word = models.CharField(max_length=60)
    # The practitioner's "last first" name, normalised: name searches page through the matching
    # words in this order straight from the index, without reading the practitioners.
    sort_name = models.CharField(max_length=201, default="")

    class Meta:
        indexes = [
            models.Index(
                fields=["word", "sort_name", "practitioner"], name="care_pract_name_word_sort"
            )
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["practitioner", "word"], name="care_practitioner_word_once"
            )
        ]

    def __str__(self) -> str:
        return self.word


class ProviderAccount(models.Model):
    """A provider's sign-in linked to the practice it works for: the practitioner or office staff."""

    class Role(models.TextChoices):
        PRACTITIONER = "practitioner", _("The practitioner")
        OFFICE = "office", _("Office staff")

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="provider_account"
    )
    practitioner = models.ForeignKey(
        Practitioner, on_delete=models.CASCADE, related_name="accounts"
    )
    role = models.CharField(max_length=16, choices=Role.choices, default=Role.PRACTITIONER)
    linked_at = models.DateTimeField(default=timezone.now)

    def __str__(self) -> str:
        return f"{self.user} for {self.practitioner}"


# --- Appointments (CARE-2) ----------------------------------------------------------------------


class VisitType(models.TextChoices):
    NEW_PATIENT = "new_patient", _("New patient visit")
    FOLLOW_UP = "follow_up", _("Follow-up visit")
    CHECK_UP = "check_up", _("Annual check-up")
    SICK_VISIT = "sick_visit", _("Same-week sick visit")
    VIDEO = "video", _("Video visit")
    CONSULTATION = "consultation", _("Consultation")


class BookingMode(models.TextChoices):
    DIRECT = "direct", _("Members book directly")
    REQUEST = "request", _("Members request; the practice's staff confirm")
    VIEW_ONLY = "view_only", _("Shown only; members call the practice to book")


class Service(models.Model):
    """A kind of visit a practice offers, and how members may book it."""

    practitioner = models.ForeignKey(
        Practitioner, on_delete=models.CASCADE, related_name="services"
    )
    visit_type = models.CharField(_("visit"), max_length=16, choices=VisitType.choices)
    duration_minutes = models.PositiveSmallIntegerField(_("length (minutes)"), default=30)
    booking = models.CharField(
        _("booking"), max_length=16, choices=BookingMode.choices, default=BookingMode.DIRECT
    )

    class Meta:
        ordering = ["practitioner", "visit_type"]
        constraints = [
            models.UniqueConstraint(
                fields=["practitioner", "visit_type"], name="care_service_once_per_practice"
            ),
            models.CheckConstraint(
                condition=Q(duration_minutes__gte=5, duration_minutes__lte=240),
                name="care_service_duration_sensible",
            ),
            models.CheckConstraint(
                condition=Q(booking__in=BookingMode.values), name="care_service_booking_known"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_visit_type_display()} ({self.practitioner_id})"

    @property
    def bookable(self) -> bool:
        return self.booking != BookingMode.VIEW_ONLY


class Slot(models.Model):
    """A time the practice has published for one service."""

    practitioner = models.ForeignKey(Practitioner, on_delete=models.CASCADE, related_name="slots")
    service = models.ForeignKey(Service, on_delete=models.CASCADE, related_name="slots")
    starts_at = models.DateTimeField(_("starts"))
    ends_at = models.DateTimeField(_("ends"))
    withdrawn_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["starts_at"]
        indexes = [
            models.Index(fields=["practitioner", "starts_at"], name="care_slot_practice_time")
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["practitioner", "starts_at"], name="care_slot_one_per_practice_time"
            ),
            models.CheckConstraint(
                condition=Q(ends_at__gt=models.F("starts_at")), name="care_slot_ends_after_start"
            ),
        ]

    def __str__(self) -> str:
        return f"slot {self.pk} at {self.starts_at:%Y-%m-%d %H:%M}"


class AppointmentStatus(models.TextChoices):
    REQUESTED = "requested", _("Requested: waiting for the practice to confirm")
    CONFIRMED = "confirmed", _("Confirmed")
    DECLINED = "declined", _("Declined by the practice")
    CANCELLED = "cancelled", _("Cancelled")


# An appointment in one of these holds its slot: no other booking may take it.
ACTIVE_STATUSES = (AppointmentStatus.REQUESTED, AppointmentStatus.CONFIRMED)


class ShareCategory(models.TextChoices):
    """What a member may choose to share with the provider they book with (DIS-1)."""

    CONTACT = "contact", _("Contact: address, phone and e-mail")
    DEMOGRAPHIC = "demographic", _("About you: name, date of birth and gender")
    INSURANCE = "insurance", _("Insurance: plan, group and member ID")
    VISIT = "visit", _("Visit: the reason for the visit you write")


class ReminderChoice(models.TextChoices):
    DAY_BEFORE = "day", _("An e-mail the day before")
    HOURS_BEFORE = "hours", _("An e-mail two hours before")


class Appointment(Sealed):
    """One booking of a slot, for a member on the roster or for a consumer's own account."""

    ENVELOPE_LABEL = "care.appointment"

    slot = models.ForeignKey(Slot, on_delete=models.PROTECT, related_name="bookings")
    practitioner = models.ForeignKey(
        Practitioner, on_delete=models.PROTECT, related_name="appointments"
    )
    service = models.ForeignKey(Service, on_delete=models.PROTECT, related_name="appointments")
    member = models.ForeignKey(
        "plans.Member", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    account = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        help_text="A consumer booking for themselves (no roster entry).",
    )
    booked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    grant = models.ForeignKey(
        "caregivers.Grant", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    referred_from = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="referrals"
    )
    status = models.CharField(_("status"), max_length=16, choices=AppointmentStatus.choices)
    shared = models.JSONField(_("shared with the provider"), default=list)
    shared_sealed = models.BinaryField(default=b"")
    reason_sealed = models.BinaryField(default=b"")
    disclosure = models.OneToOneField(
        "privacy.Disclosure", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    allow_referrals = models.BooleanField(
        _("the provider may book other doctors for me"), default=False
    )
    reminders = models.JSONField(_("reminders"), default=list)
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-created_at"]
        indexes = [
            models.Index(fields=["member", "status"], name="care_appt_member"),
            models.Index(fields=["account", "status"], name="care_appt_account"),
            models.Index(fields=["practitioner", "status"], name="care_appt_practice"),
        ]
        constraints = [
            # Double booking is impossible: one active booking per slot, whatever the race (CARE-2).
            models.UniqueConstraint(
                fields=["slot"],
                condition=Q(status__in=["requested", "confirmed"]),
                name="care_one_active_booking_per_slot",
                violation_error_message=_("This time has just been taken. Choose another."),
            ),
            models.CheckConstraint(
                condition=(Q(member__isnull=False) & Q(account__isnull=True))
                | (Q(member__isnull=True) & Q(account__isnull=False)),
                name="care_appointment_for_member_or_account",
            ),
            models.CheckConstraint(
                condition=Q(status__in=AppointmentStatus.values),
                name="care_appointment_status_known",
            ),
        ]

    def __str__(self) -> str:
        return f"appointment {self.pk}"

    @property
    def is_active(self) -> bool:
        return self.status in ACTIVE_STATUSES

    @property
    def starts_at(self):
        return self.slot.starts_at

    def shared_data(self) -> dict[str, dict[str, str]]:
        """What the member gave the provider, by category: only the categories they chose."""
        if not self.shared_sealed:
            return {}
        return json.loads(self.unseal("shared"))

    def seal_shared(self, data: dict[str, dict[str, Any]]) -> None:
        self.seal("shared", json.dumps(data, sort_keys=True).encode())

    def reason(self) -> str:
        return self.unseal("reason").decode() if self.reason_sealed else ""

    def seal_reason(self, text: str) -> None:
        self.seal("reason", text.encode())


class AppointmentEvent(models.Model):
    """The appointment's history, as its member and provider see it."""

    class What(models.TextChoices):
        REQUESTED = "requested", _("Requested")
        BOOKED = "booked", _("Booked")
        REFERRED = "referred", _("Booked by your provider (referral)")
        CONFIRMED = "confirmed", _("Confirmed by the practice")
        DECLINED = "declined", _("Declined by the practice")
        MOVED = "moved", _("Moved")
        CANCELLED = "cancelled", _("Cancelled")
        SHARED = "shared", _("Information shared with the provider")

    appointment = models.ForeignKey(Appointment, on_delete=models.CASCADE, related_name="events")
    what = models.CharField(max_length=16, choices=What.choices)
    at = models.DateTimeField(default=timezone.now)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    # Times only ("from 10:00 on 3 May"): never anything about health.
    note = models.CharField(max_length=200, blank=True)

    class Meta:
        ordering = ["at", "pk"]

    def __str__(self) -> str:
        return f"{self.what} at {self.at:%Y-%m-%d %H:%M}"


class Reminder(models.Model):
    class Status(models.TextChoices):
        PENDING = "pending", _("Waiting")
        SENT = "sent", _("Sent")
        SKIPPED = "skipped", _("Not sent: no permission or no address")
        WITHDRAWN = "withdrawn", _("Not needed any more")

    appointment = models.ForeignKey(
        Appointment, on_delete=models.CASCADE, related_name="reminders_due"
    )
    kind = models.CharField(max_length=8, choices=ReminderChoice.choices)
    due_at = models.DateTimeField()
    status = models.CharField(max_length=12, choices=Status.choices, default=Status.PENDING)
    email = models.ForeignKey(
        "mail.OutgoingEmail", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        ordering = ["due_at"]
        indexes = [models.Index(fields=["status", "due_at"], name="care_reminder_due")]

    def __str__(self) -> str:
        return f"reminder {self.kind} for {self.appointment_id}"


class BookingPreference(models.Model):
    """What a user chose at their last booking, offered again next time (CARE-6)."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="booking_preference"
    )
    shared = models.JSONField(default=list)
    reminders = models.JSONField(default=list)
    allow_referrals = models.BooleanField(default=False)
    updated_at = models.DateTimeField(default=timezone.now)

    def __str__(self) -> str:
        return f"booking preferences of {self.user_id}"


# --- Reviews (CARE-3, CARE-4) -------------------------------------------------------------------


class Review(models.Model):
    """A public rating and review of a practitioner, published only after screening (CARE-3)."""

    practitioner = models.ForeignKey(Practitioner, on_delete=models.CASCADE, related_name="reviews")
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    # Shown as "booked through Haven": the reviewer had an appointment with this practice.
    # Reviews never show who wrote them.
    visited = models.BooleanField(default=False)
    rating = models.PositiveSmallIntegerField(_("rating"))
    text = models.TextField(_("review"), max_length=2000)
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-created_at", "-pk"]
        indexes = [
            models.Index(fields=["practitioner", "-created_at"], name="care_review_practice")
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["practitioner", "author"], name="care_review_one_per_author"
            ),
            models.CheckConstraint(
                condition=Q(rating__gte=1, rating__lte=5), name="care_review_rating_one_to_five"
            ),
        ]

    def __str__(self) -> str:
        return f"review {self.pk} ({self.rating}/5)"


class ReviewAnswer(models.Model):
    """The practice's public answer to a review, screened the same way (CARE-4)."""

    review = models.OneToOneField(Review, on_delete=models.CASCADE, related_name="answer")
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    text = models.TextField(_("answer"), max_length=2000)
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(default=timezone.now)

    def __str__(self) -> str:
        return f"answer to review {self.review_id}"


# --- Invitations (CARE-5) -----------------------------------------------------------------------


class Invitation(models.Model):
    """An invitation a user asked Haven to send; the address is kept only as a keyed hash."""

    class Status(models.TextChoices):
        SENT = "sent", _("Sent")
        SUPPRESSED = "suppressed", _("Not sent: the person asked for no invitations")

    inviter = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="care_invitations"
    )
    address_hash = models.CharField(max_length=64)
    status = models.CharField(max_length=12, choices=Status.choices)
    email = models.ForeignKey(
        "mail.OutgoingEmail", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    sent_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-sent_at"]
        indexes = [models.Index(fields=["inviter", "address_hash"], name="care_invitation_inviter")]

    def __str__(self) -> str:
        return f"invitation {self.pk}"


class InvitationSuppression(models.Model):
    """An address that asked never to be invited again: lookup_hash(address,
    purpose="invitation-suppression"); every later invitation checks it (CARE-5)."""

    address_hash = models.CharField(max_length=64, unique=True)
    created_at = models.DateTimeField(default=timezone.now)

    def __str__(self) -> str:
        return f"suppressed {self.address_hash[:8]}"
