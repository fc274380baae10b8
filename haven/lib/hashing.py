"""Keyed hashes for finding a value without keeping it (Fides' provided-identity idea)."""

import hashlib
import hmac

from django.conf import settings


def lookup_hash(value: str, *, purpose: str) -> str:
    """HMAC-SHA256 of a normalised value; `purpose` keeps hashes of different kinds apart."""
    normalised = " ".join(value.split()).lower()
    key = f"{settings.LOOKUP_HASH_KEY}:{purpose}".encode()
    return hmac.new(key, normalised.encode(), hashlib.sha256).hexdigest()
