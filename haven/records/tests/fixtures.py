"""Health documents for the named test people, made on demand (idempotent)."""

from haven.records.models import Category, HealthDocument

CANARY = "CANARY-DOCUMENT-TEXT"


def document(case, member_attr: str, category: str = Category.LAB_RESULT) -> HealthDocument:
    member = getattr(case, member_attr)
    return HealthDocument.objects.get_or_create(
        member=member,
        category=category,
        defaults={
            "title": f"{Category(category).label} of {member.first_name} ({CANARY})",
            "content": f"{CANARY} {category} {member.member_id}",
            "created_by": case.nurse,
        },
    )[0]
