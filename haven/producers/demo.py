"""Demo producers for `haven demo`: an approved producer, an approved agency and a producer still
waiting for staff approval (ACC-2). Registered through the same service as the sign-up form;
the decisions are recorded as producer support's (pablo). Nobody here is real."""

from datetime import date, timedelta

from django.utils import timezone

from haven.accounts.demo import DEMO_PASSWORD
from haven.accounts.models import User
from haven.producers.models import Producer
from haven.producers.services import ProducerDetails, producer_register

# username, tax ID (synthetic), approved?, details
PRODUCERS = [
    (
        "rosa",
        "123-45-6781",
        True,
        ProducerDetails(
            kind=Producer.Kind.INDIVIDUAL,
            legal_name="Rosa Delgado",
            agency_name="",
            first_name="Rosa",
            last_name="Delgado",
            date_of_birth=date(1979, 3, 14),
            licence_number="CT-PRD-2041",
            licence_region="CT",
            address_line="12 Demo Avenue",
            city="Hartford",
            region="CT",
            postal_code="06103",
            phone="860-555-0142",
            email="rosa@example.org",
        ),
    ),
    (
        "northwind",
        "27-1049583",
        True,
        ProducerDetails(
            kind=Producer.Kind.AGENCY,
            legal_name="Northwind Benefits LLC",
            agency_name="Northwind Benefits",
            first_name="Omar",
            last_name="Lind",
            date_of_birth=None,
            licence_number="CT-AGY-7730",
            licence_region="CT",
            address_line="400 Demo Plaza",
            city="New Haven",
            region="CT",
            postal_code="06510",
            phone="203-555-0177",
            email="agency@example.org",
        ),
    ),
    (
        "tomas",
        "234-56-7812",
        False,
        ProducerDetails(
            kind=Producer.Kind.INDIVIDUAL,
            legal_name="Tomas Berg",
            agency_name="",
            first_name="Tomas",
            last_name="Berg",
            date_of_birth=date(1990, 8, 1),
            licence_number="CT-PRD-3318",
            licence_region="CT",
            address_line="7 Demo Lane",
            city="Stamford",
            region="CT",
            postal_code="06901",
            phone="203-555-0119",
            email="tomas@example.org",
        ),
    ),
]


def load() -> None:
    reviewer = User.objects.get(username="pablo")
    now = timezone.now()
    for username, tax_id, approved, details in PRODUCERS:
        if User.objects.filter(username=username).exists():
            continue
        producer = producer_register(
            details=details, tax_id=tax_id, username=username, password=DEMO_PASSWORD
        )
        producer.submitted_at = now - timedelta(days=9 if approved else 2)
        if approved:
            # Set directly rather than through producer_review: the demo sends no e-mail.
            producer.status = Producer.Status.APPROVED
            producer.reviewed_by = reviewer
            producer.reviewed_at = now - timedelta(days=7)
        producer.save()


def sign_ins() -> list[tuple[str, str]]:
    return [
        ("rosa", "producer, approved"),
        ("northwind", "agency (Northwind Benefits), approved"),
        ("tomas", "producer waiting for staff approval"),
    ]
