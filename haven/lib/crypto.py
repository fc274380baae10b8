"""Envelope encryption: every record gets its own data key, wrapped by a key-encryption key (MSG-3).

A record's data key encrypts its fields with AES-256-GCM; the key-encryption key (KEK) named by
`HAVEN_KEK_CURRENT` wraps the data key, again with AES-GCM. Both layers take associated data that
names the record (its model and uuid), so a ciphertext copied onto another row does not decrypt.
Rotating the KEK re-wraps the small data keys and never touches the data (`haven keys rotate`).

Settings: `HAVEN_KEKS`, a mapping of key id to 32 bytes (raw or base64), and `HAVEN_KEK_CURRENT`,
the id that wraps new keys. Both are required in production; elsewhere a key is derived from
SECRET_KEY with HKDF so that local runs and tests need no setup.
"""

import base64
import binascii
import os
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from functools import lru_cache

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.db import transaction

KEY_BYTES = 32
NONCE_BYTES = 12
LOCAL_KEK_ID = "local"
# Rows written with encryption switched off (the benchmark's baseline only) carry this KEK id.
PLAINTEXT_KEK_ID = ""


class DecryptionError(Exception):
    """The ciphertext, its key or its associated data does not match: refuse, never guess."""


@dataclass(frozen=True)
class DataKey:
    """A record's own key: `key` in memory only; `wrapped` and `kek_id` are what is stored."""

    key: bytes
    wrapped: bytes
    kek_id: str

    @property
    def encrypts(self) -> bool:
        return self.kek_id != PLAINTEXT_KEK_ID


def parse_keks(text: str) -> dict[str, bytes]:
    """Read "id1:base64key,id2:base64key" (the HAVEN_KEKS environment variable) into a mapping."""
    keks = {}
    for item in text.split(","):
        if not item.strip():
            continue
        key_id, _, encoded = item.strip().partition(":")
        keks[key_id.strip()] = _decode_key(key_id.strip(), encoded.strip())
    return keks


def _decode_key(key_id: str, value: str | bytes) -> bytes:
    if isinstance(value, bytes) and len(value) == KEY_BYTES:
        return value
    try:
        key = base64.b64decode(value, validate=True)
    except (binascii.Error, ValueError) as error:
        raise ImproperlyConfigured(f"HAVEN_KEKS: key {key_id!r} is not valid base64") from error
    if len(key) != KEY_BYTES:
        raise ImproperlyConfigured(f"HAVEN_KEKS: key {key_id!r} must be 32 bytes (AES-256)")
    return key


@lru_cache(maxsize=4)
def _local_kek(secret_key: str) -> bytes:
    # Local and test only: production refuses to run without configured KEKs.
    return HKDF(
        algorithm=hashes.SHA256(), length=KEY_BYTES, salt=None, info=b"haven local kek"
    ).derive(secret_key.encode())


def key_encryption_keys() -> dict[str, bytes]:
    """Every KEK Haven can unwrap with, by id: the current one and those not yet rotated away."""
    configured = getattr(settings, "HAVEN_KEKS", None)
    if configured:
        return {key_id: _decode_key(key_id, value) for key_id, value in configured.items()}
    if getattr(settings, "PRODUCTION", False):
        raise ImproperlyConfigured("HAVEN_KEKS must be set in production: it protects messages")
    return {LOCAL_KEK_ID: _local_kek(settings.SECRET_KEY)}


def current_kek_id() -> str:
    keks = key_encryption_keys()
    current = getattr(settings, "HAVEN_KEK_CURRENT", None)
    if current is None:
        if getattr(settings, "HAVEN_KEKS", None):
            raise ImproperlyConfigured("HAVEN_KEK_CURRENT must name one of HAVEN_KEKS")
        current = LOCAL_KEK_ID
    if current not in keks:
        raise ImproperlyConfigured(f"HAVEN_KEK_CURRENT={current!r} is not among HAVEN_KEKS")
    return current


def _wrap_context(kek_id: str, context: bytes) -> bytes:
    return b"haven.kek|" + kek_id.encode() + b"|" + context


def new_data_key(*, context: bytes, encrypt: bool = True) -> DataKey:
    """A fresh random data key for one record, wrapped by the current KEK."""
    if not encrypt:
        if getattr(settings, "PRODUCTION", False):
            raise ImproperlyConfigured("Encryption cannot be switched off in production")
        return DataKey(key=b"", wrapped=b"", kek_id=PLAINTEXT_KEK_ID)
    kek_id = current_kek_id()
    key = AESGCM.generate_key(bit_length=256)
    nonce = os.urandom(NONCE_BYTES)
    wrapped = nonce + AESGCM(key_encryption_keys()[kek_id]).encrypt(
        nonce, key, _wrap_context(kek_id, context)
    )
    return DataKey(key=key, wrapped=wrapped, kek_id=kek_id)


def unwrap_data_key(*, wrapped: bytes, kek_id: str, context: bytes) -> DataKey:
    if kek_id == PLAINTEXT_KEK_ID:
        return DataKey(key=b"", wrapped=b"", kek_id=PLAINTEXT_KEK_ID)
    kek = key_encryption_keys().get(kek_id)
    if kek is None:
        raise DecryptionError(f"key-encryption key {kek_id!r} is not configured")
    wrapped = bytes(wrapped)
    try:
        key = AESGCM(kek).decrypt(
            wrapped[:NONCE_BYTES], wrapped[NONCE_BYTES:], _wrap_context(kek_id, context)
        )
    except InvalidTag as error:
        raise DecryptionError("the data key does not belong to this record") from error
    return DataKey(key=key, wrapped=wrapped, kek_id=kek_id)


def rewrap_data_key(*, wrapped: bytes, kek_id: str, context: bytes) -> DataKey:
    """The same data key, wrapped by the current KEK (rotation; the data stays as it is)."""
    data_key = unwrap_data_key(wrapped=wrapped, kek_id=kek_id, context=context)
    current = current_kek_id()
    if not data_key.encrypts or kek_id == current:
        return data_key
    nonce = os.urandom(NONCE_BYTES)
    rewrapped = nonce + AESGCM(key_encryption_keys()[current]).encrypt(
        nonce, data_key.key, _wrap_context(current, context)
    )
    return DataKey(key=data_key.key, wrapped=rewrapped, kek_id=current)


def encrypt(data_key: DataKey, plaintext: bytes, *, context: bytes) -> bytes:
    """nonce + AES-GCM ciphertext of one field; `context` names the record and the field."""
    if not data_key.encrypts:
        return plaintext
    nonce = os.urandom(NONCE_BYTES)
    return nonce + AESGCM(data_key.key).encrypt(nonce, plaintext, context)


def decrypt(data_key: DataKey, sealed: bytes, *, context: bytes) -> bytes:
    sealed = bytes(sealed)
    if not data_key.encrypts:
        return sealed
    try:
        return AESGCM(data_key.key).decrypt(sealed[:NONCE_BYTES], sealed[NONCE_BYTES:], context)
    except InvalidTag as error:
        raise DecryptionError("the ciphertext does not belong to this record") from error


# Models that keep envelopes: each has `wrapped_key`, `kek_id` and `envelope_context()`.
@dataclass(frozen=True)
class SealedModel:
    model: type
    related: tuple[str, ...] = ()


_SEALED_MODELS: list[SealedModel] = []


def register_sealed_model(model: type, *, related: Iterable[str] = ()) -> None:
    """Called from an app's ready(): `haven keys rotate` re-wraps this model's keys."""
    entry = SealedModel(model=model, related=tuple(related))
    if entry not in _SEALED_MODELS:
        _SEALED_MODELS.append(entry)


def sealed_models() -> list[SealedModel]:
    return list(_SEALED_MODELS)


def rewrap_all(*, batch_size: int = 500, report: Callable[[str, int], None] | None = None) -> int:
    """Re-wrap every data key not under the current KEK, one batch per transaction.

    Resumable: rows already re-wrapped carry the current KEK id and are not selected again,
    so a run that stops half-way is finished by running it again.
    """
    current = current_kek_id()
    total = 0
    for entry in sealed_models():
        pending = (
            entry.model.objects.exclude(kek_id=current)
            .exclude(kek_id=PLAINTEXT_KEK_ID)
            .order_by("pk")
        )
        done_for_model = 0
        last_pk = 0
        while True:
            with transaction.atomic():
                batch = list(
                    pending.filter(pk__gt=last_pk)
                    .select_related(*entry.related)
                    .select_for_update(of=("self",))
                    .only("pk", "wrapped_key", "kek_id", *_context_fields(entry))[:batch_size]
                )
                if not batch:
                    break
                for row in batch:
                    data_key = rewrap_data_key(
                        wrapped=row.wrapped_key, kek_id=row.kek_id, context=row.envelope_context()
                    )
                    row.wrapped_key, row.kek_id = data_key.wrapped, data_key.kek_id
                entry.model.objects.bulk_update(batch, ["wrapped_key", "kek_id"])
            last_pk = batch[-1].pk
            done_for_model += len(batch)
            if report:
                report(entry.model._meta.label, done_for_model)
        total += done_for_model
    return total


def _context_fields(entry: SealedModel) -> tuple[str, ...]:
    fields = getattr(entry.model, "ENVELOPE_CONTEXT_FIELDS", ("uuid",))
    return tuple(fields)
