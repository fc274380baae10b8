"""Test people's privacy training: HavenTestCase's staff have none until a test gives it."""

from datetime import timedelta

from django.utils import timezone

from haven.audit.models import TrainingAttestation


def give_training(person, *, recorder, days_left: int = 200) -> TrainingAttestation:
    """A current attestation for one staff member, recorded by someone else."""
    current = TrainingAttestation.objects.current().filter(staff=person).first()
    if current is not None:
        return current
    now = timezone.now()
    return TrainingAttestation.objects.create(
        staff=person,
        course="HIPAA privacy and security",
        completed_at=now - timedelta(days=30),
        expires_at=now + timedelta(days=days_left),
        recorded_by=recorder,
    )


def train_all_staff(case) -> None:
    """Every staff member of a HavenTestCase gets current training, recorded by compliance
    (compliance's own by the privacy officer)."""
    compliance = case.staff["compliance"]
    for person in case.staff.values():
        give_training(person, recorder=case.privacy_officer if person == compliance else compliance)


def trained(case, value):
    """`value`, once every staff member of the case has current training (for access rules)."""
    train_all_staff(case)
    return value
