"""The audit trail of access to members' data, and what decides access: training, break-glass.

`AuditEvent` rows are shaped after FHIR AuditEvent and hash-chained (AUD-3, AUD-6): each carries
the hash of the one before it, so a changed, removed or inserted row breaks the chain. Rows are
written only by `haven.audit.chain.append`, never changed; reviews are separate rows.
"""

import hashlib
import json
from datetime import UTC, timedelta

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from haven.audit.policy import PURPOSE_CODES, Purpose, Resource, Sensitivity

GENESIS_HASH = "0" * 64
CHAIN_FORMAT = 1


class EventType(models.TextChoices):
    """What kind of event, after the DICOM audit event IDs that FHIR AuditEvent.type uses."""

    ACCESS = "access", _("Record access")
    QUERY = "query", _("Roster search")
    EXPORT = "export", _("Export")
    DISCLOSURE = "disclosure", _("Disclosure")
    EMERGENCY = "emergency", _("Emergency access declared")
    TRAIL = "trail", _("Audit trail used")


EVENT_TYPE_CODES = {
    EventType.ACCESS: ("110110", "Patient Record"),
    EventType.QUERY: ("110112", "Query"),
    EventType.EXPORT: ("110106", "Export"),
    EventType.DISCLOSURE: ("110106", "Export"),
    EventType.EMERGENCY: ("110113", "Security Alert"),
    EventType.TRAIL: ("110101", "Audit Log Used"),
}


# Changes to how an account signs in (a staff second factor replaced or reset, an account
# closed) are recorded as access events without a member, the account as the record; FHIR names
# them "User Security Attributes Changed". Each subtype names the part and fields it changes.
STAFF_ACCOUNT = "staff_account"
ACCOUNT = "account"
ACCOUNT_CHANGES = {
    "second_factor_replaced": (STAFF_ACCOUNT, ("second_factor",)),
    "second_factor_reset": (STAFF_ACCOUNT, ("second_factor",)),
    "account_closed": (ACCOUNT, ("closed_at", "is_active")),
    "account_reopened": (ACCOUNT, ("closed_at", "is_active")),
}
STAFF_ACCOUNT_TYPE_CODE = ("110137", "User Security Attributes Changed")


class Action(models.TextChoices):
    CREATE = "C", _("Create")
    READ = "R", _("Read")
    UPDATE = "U", _("Update")
    DELETE = "D", _("Delete")
    EXECUTE = "E", _("Execute")


class Outcome(models.TextChoices):
    ALLOWED = "allowed", _("Allowed")
    DENIED = "denied", _("Denied")


class Flag(models.TextChoices):
    """Why an access deserves the privacy officer's look (AUD-4, AUD-7)."""

    BREAK_GLASS = "break_glass", _("Emergency access")
    NO_RELATIONSHIP = "no_relationship", _("No care or service relationship")
    FAMILY = "family", _("Staff member's own family")
    COWORKER = "coworker", _("Co-worker")
    VOLUME = "volume", _("Unusual volume")
    HOURS = "hours", _("Outside working hours")
    DENIED = "denied", _("Access refused")


class ChainHead(models.Model):
    """The newest link of the chain. Writers lock this one row, so links are made one at a time."""

    sequence = models.PositiveBigIntegerField(default=0)
    hash = models.CharField(max_length=64, default=GENESIS_HASH)

    def __str__(self) -> str:
        return f"audit chain head at {self.sequence}"


class AuditEventQuerySet(models.QuerySet):
    def flagged(self):
        return self.filter(flagged=True)

    def unreviewed(self):
        return self.filter(reviews__isnull=True)


class AuditEvent(models.Model):
    """One read, change, export or disclosure of a member's data, allowed or denied (AUD-3)."""

    sequence = models.PositiveBigIntegerField(unique=True)
    prev_hash = models.CharField(max_length=64)
    hash = models.CharField(max_length=64, unique=True)
    recorded_at = models.DateTimeField(_("when"), db_index=True)

    type = models.CharField(_("event"), max_length=16, choices=EventType.choices)
    subtype = models.CharField(_("operation"), max_length=32)
    action = models.CharField(_("action"), max_length=1, choices=Action.choices)
    outcome = models.CharField(_("outcome"), max_length=8, choices=Outcome.choices)
    reason = models.CharField(_("reason for refusal"), max_length=32, blank=True)
    purpose = models.CharField(_("purpose"), max_length=16, choices=Purpose.choices, blank=True)

    # The agent: a signed-in user (with their role then), or a named system task.
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="audit_events",
        verbose_name=_("staff member or user"),
    )
    actor_label = models.CharField(max_length=200, blank=True)
    actor_kind = models.CharField(max_length=16, blank=True)
    actor_role = models.CharField(max_length=24, blank=True)
    system_actor = models.CharField(max_length=100, blank=True)
    # A caregiver or guardian acts on behalf of the member through this grant.
    grant = models.ForeignKey(
        "caregivers.Grant", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    break_glass = models.ForeignKey(
        "audit.BreakGlass", null=True, blank=True, on_delete=models.PROTECT, related_name="events"
    )

    # The entity: whose data, which parts and fields, which record.
    member = models.ForeignKey(
        "plans.Member",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="audit_events",
        verbose_name=_("member"),
    )
    entity = models.JSONField(_("parts and fields"), default=dict)
    withheld = models.JSONField(_("parts withheld"), default=list)
    record_id = models.CharField(max_length=64, blank=True)
    category = models.CharField(max_length=24, choices=Sensitivity.choices, blank=True)
    recipient = models.CharField(_("recipient"), max_length=200, blank=True)
    note = models.TextField(_("note"), blank=True)

    # The source: where the request came from.
    source = models.CharField(_("source"), max_length=200, blank=True)
    ip_address = models.CharField(_("IP address"), max_length=45, blank=True)
    user_agent = models.CharField(_("browser"), max_length=300, blank=True)

    flags = models.JSONField(_("flags"), default=list)
    flagged = models.BooleanField(default=False)

    objects = AuditEventQuerySet.as_manager()

    class Meta:
        ordering = ["-sequence"]
        indexes = [
            models.Index(fields=["member", "recorded_at"], name="audit_member_time"),
            models.Index(fields=["actor", "recorded_at"], name="audit_actor_time"),
            models.Index(fields=["flagged", "recorded_at"], name="audit_flagged_time"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(actor__isnull=False) | ~models.Q(system_actor=""),
                name="audit_event_has_an_agent",
            ),
        ]

    def __str__(self) -> str:
        return f"audit event {self.sequence}"

    def canonical(self) -> bytes:
        """The bytes the hash covers: every field but the hash, in a fixed JSON form."""
        data = {
            "format": CHAIN_FORMAT,
            "sequence": self.sequence,
            "prev_hash": self.prev_hash,
            "recorded_at": self.recorded_at.astimezone(UTC).isoformat(timespec="microseconds"),
            "type": self.type,
            "subtype": self.subtype,
            "action": self.action,
            "outcome": self.outcome,
            "reason": self.reason,
            "purpose": self.purpose,
            "actor": self.actor_id,
            "actor_label": self.actor_label,
            "actor_kind": self.actor_kind,
            "actor_role": self.actor_role,
            "system_actor": self.system_actor,
            "grant": self.grant_id,
            "break_glass": self.break_glass_id,
            "member": self.member_id,
            "entity": self.entity,
            "withheld": self.withheld,
            "record_id": self.record_id,
            "category": self.category,
            "recipient": self.recipient,
            "note": self.note,
            "source": self.source,
            "ip_address": self.ip_address,
            "user_agent": self.user_agent,
            "flags": self.flags,
            "flagged": self.flagged,
        }
        return json.dumps(data, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()

    def compute_hash(self) -> str:
        return hashlib.sha256(self.canonical()).hexdigest()

    @property
    def is_denied(self) -> bool:
        return self.outcome == Outcome.DENIED

    def flag_labels(self) -> list[str]:
        labels = dict(Flag.choices)
        return [str(labels.get(flag, flag)) for flag in self.flags]

    def resource_labels(self) -> list[str]:
        return [label for label, _fields in self.entity_labelled()]

    def entity_labelled(self) -> list[tuple[str, list[str]]]:
        """The parts and fields, each part named as people read it (not its key)."""
        labels = dict(Resource.choices) | {
            STAFF_ACCOUNT: _("Staff account: second factor"),
            ACCOUNT: _("Account: closing"),
        }
        return [
            (str(labels.get(resource, resource)), fields)
            for resource, fields in self.entity.items()
        ]

    def to_fhir(self) -> dict:
        """This event as a FHIR R4 AuditEvent resource."""
        code, display = EVENT_TYPE_CODES[self.type]
        if self.subtype in ACCOUNT_CHANGES:
            code, display = STAFF_ACCOUNT_TYPE_CODE
        dcm = "http://dicom.nema.org/resources/ontology/DCM"
        who = self._agent_who()
        agent = {
            "who": who,
            "requestor": True,
            "network": {"address": self.ip_address, "type": "2"} if self.ip_address else None,
            "purposeOfUse": [{"coding": self._purpose_codings()}] if self.purpose else None,
        }
        if self.actor_role:
            agent["role"] = [{"text": self.actor_role}]
        if self.grant_id is not None and self.member_id is not None:
            agent["extension"] = [
                {
                    "url": "https://haven.example/fhir/StructureDefinition/on-behalf-of",
                    "valueReference": {"reference": f"Patient/{self.member_id}"},
                }
            ]
        entities = []
        if self.member_id is not None:
            entities.append(
                {
                    "what": {"reference": f"Patient/{self.member_id}"},
                    "type": {
                        "system": "http://terminology.hl7.org/CodeSystem/audit-entity-type",
                        "code": "1",
                        "display": "Person",
                    },
                    "role": {
                        "system": "http://terminology.hl7.org/CodeSystem/object-role",
                        "code": "1",
                        "display": "Patient",
                    },
                }
            )
        for resource, fields in self.entity.items():
            entry = {
                "name": resource,
                "detail": [{"type": "fields", "valueString": ",".join(fields)}],
            }
            if self.record_id:
                entry["what"] = {"identifier": {"value": self.record_id}}
            if self.category:
                entry["securityLabel"] = [
                    {"system": "urn:haven:sensitivity", "code": self.category}
                ]
            entities.append(entry)
        if self.recipient:
            entities.append({"name": "recipient", "description": self.recipient})
        resource = {
            "resourceType": "AuditEvent",
            "id": str(self.sequence),
            "type": {"system": dcm, "code": code, "display": display},
            "subtype": [{"system": "urn:haven:operation", "code": self.subtype}],
            "action": self.action,
            "recorded": self.recorded_at.astimezone(UTC).isoformat(),
            "outcome": "0" if self.outcome == Outcome.ALLOWED else "4",
            "outcomeDesc": self.reason or None,
            "purposeOfEvent": [{"coding": self._purpose_codings()}] if self.purpose else None,
            "agent": [{key: value for key, value in agent.items() if value}],
            "source": {
                "site": self.source or None,
                "observer": {"display": "Haven"},
                "type": [
                    {
                        "system": "http://terminology.hl7.org/CodeSystem/security-source-type",
                        "code": "3" if self.actor_id else "4",
                        "display": "Web Server" if self.actor_id else "Application Server",
                    }
                ],
            },
            "entity": entities,
            "extension": [
                {"url": "urn:haven:audit:hash", "valueString": self.hash},
                {"url": "urn:haven:audit:prev-hash", "valueString": self.prev_hash},
            ]
            + [{"url": "urn:haven:audit:flag", "valueCode": flag} for flag in self.flags],
        }
        return {key: value for key, value in resource.items() if value is not None}

    def _agent_who(self) -> dict:
        if self.actor_id is None:
            return {"identifier": {"system": "urn:haven:task", "value": self.system_actor}}
        if self.actor_kind == "staff":
            reference = f"Practitioner/{self.actor_id}"
        elif self.grant_id is not None:
            reference = f"RelatedPerson/{self.actor_id}"
        elif self.actor_kind == "member" and self.member_id is not None:
            reference = f"Patient/{self.member_id}"
        else:
            reference = f"Person/{self.actor_id}"
        return {"reference": reference, "display": self.actor_label}

    def _purpose_codings(self) -> list[dict]:
        if not self.purpose:
            return []
        return [
            {
                "system": "http://terminology.hl7.org/CodeSystem/v3-ActReason",
                "code": PURPOSE_CODES[self.purpose],
                "display": str(Purpose(self.purpose).label),
            }
        ]


class AuditReview(models.Model):
    """The privacy officer's review of a flagged event; the event itself never changes (AUD-4)."""

    class Finding(models.TextChoices):
        APPROPRIATE = "appropriate", _("Appropriate: a legitimate purpose")
        FOLLOW_UP = "follow_up", _("Needs follow-up with the staff member")
        VIOLATION = "violation", _("Privacy violation: report and act")

    event = models.ForeignKey(AuditEvent, on_delete=models.PROTECT, related_name="reviews")
    reviewer = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    finding = models.CharField(_("finding"), max_length=16, choices=Finding.choices)
    note = models.TextField(_("note"))
    reviewed_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-reviewed_at"]

    def __str__(self) -> str:
        return f"review of audit event {self.event_id}"


class TrainingAttestationQuerySet(models.QuerySet):
    def current(self, at=None):
        at = at or timezone.now()
        return self.filter(completed_at__lte=at, expires_at__gt=at)


class TrainingAttestation(models.Model):
    """Privacy training a staff member completed, recorded by compliance (AUD-5)."""

    staff = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="training_attestations",
        verbose_name=_("staff member"),
    )
    course = models.CharField(_("course"), max_length=200)
    completed_at = models.DateTimeField(_("completed"))
    expires_at = models.DateTimeField(_("expires"))
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    recorded_at = models.DateTimeField(default=timezone.now)

    objects = TrainingAttestationQuerySet.as_manager()

    class Meta:
        ordering = ["-expires_at"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(expires_at__gt=models.F("completed_at")),
                name="training_expires_after_completion",
            ),
            models.CheckConstraint(
                condition=~models.Q(recorded_by=models.F("staff")),
                name="training_not_self_attested",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.course} ({self.staff_id})"

    @property
    def last_day(self):
        """The last day on which the training counts (it ends at the start of the next day)."""
        return timezone.localdate(self.expires_at - timedelta(microseconds=1))


class BreakGlass(models.Model):
    """A declared emergency: time-limited access to one member's record, always reviewed (AUD-7)."""

    staff = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="break_glass"
    )
    member = models.ForeignKey("plans.Member", on_delete=models.PROTECT, related_name="+")
    reason = models.TextField(_("reason"))
    declared_at = models.DateTimeField(default=timezone.now)
    expires_at = models.DateTimeField()

    class Meta:
        ordering = ["-declared_at"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(expires_at__gt=models.F("declared_at")),
                name="break_glass_expires_after_declaration",
            )
        ]

    def __str__(self) -> str:
        return f"emergency access {self.pk}"

    @property
    def is_current(self) -> bool:
        return self.declared_at <= timezone.now() < self.expires_at


class StaffCoverage(models.Model):
    """A staff member's own entry on the roster, so access to their family and co-workers
    is flagged (AUD-4)."""

    staff = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="own_coverage"
    )
    member = models.ForeignKey("plans.Member", on_delete=models.PROTECT, related_name="+")

    def __str__(self) -> str:
        return f"coverage of staff {self.staff_id}"
