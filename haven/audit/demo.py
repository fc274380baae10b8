"""Demo privacy training for `haven demo`: every demo staff member has a current course (AUD-5)."""

from datetime import timedelta

from django.utils import timezone

from haven.accounts.demo import STAFF
from haven.accounts.models import User
from haven.audit.models import TrainingAttestation

COURSE = "HIPAA privacy and security (annual)"


def load() -> None:
    staff = {
        user.username: user for user in User.objects.filter(username__in=[s[0] for s in STAFF])
    }
    compliance, privacy_officer = staff["connor"], staff["priya"]
    now = timezone.now()
    for user in staff.values():
        if TrainingAttestation.objects.current(now).filter(staff=user).exists():
            continue
        TrainingAttestation.objects.create(
            staff=user,
            course=COURSE,
            completed_at=now - timedelta(days=40),
            expires_at=now + timedelta(days=325),
            # Nobody attests their own training: compliance's is recorded by the privacy officer.
            recorded_by=privacy_officer if user == compliance else compliance,
        )
