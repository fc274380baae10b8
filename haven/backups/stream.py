"""The encrypted backup file: streaming AES-256-GCM in chunks.

Layout: a 30-byte header, then the chunks.

    header = b"HAVENBAK" | version (1) | kind (1: b"s" SQLite, b"p" PostgreSQL)
             | key id (8) | chunk size (4, big-endian) | nonce prefix (8, random per file)
    chunk  = AES-GCM(key, nonce = prefix | counter (4, big-endian),
                     plaintext (chunk size bytes, the last one shorter or empty),
                     associated data = header | counter | final flag (1))

Every chunk's nonce carries its position, so chunks cannot be reordered; the associated data
carries the header (version, kind, key id cannot be changed) and whether the chunk is the last,
so a file cut at a chunk boundary does not pass for a whole one. There is always exactly one
final chunk; it is empty only when there is no data at all.
The key id is a fingerprint of the key, so a wrong key is named as such before any decryption.
"""

import base64
import binascii
import hashlib
import os
import struct
from collections.abc import Iterator
from typing import BinaryIO

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

MAGIC = b"HAVENBAK"
VERSION = 1
KINDS = {b"s": "sqlite", b"p": "postgresql"}
KEY_BYTES = 32
TAG_BYTES = 16
PREFIX_BYTES = 8
DEFAULT_CHUNK = 1024 * 1024
_HEADER = struct.Struct(">8sBc8sI8s")
HEADER_BYTES = _HEADER.size
MAX_CHUNK = 64 * 1024 * 1024


class BackupError(Exception):
    """The file is not a Haven backup, was made with another key, or was changed or cut."""


def parse_key(value: str | bytes) -> bytes:
    """HAVEN_BACKUP_KEY: 32 bytes, base64-encoded."""
    try:
        key = base64.b64decode(value, validate=True)
    except (binascii.Error, ValueError) as error:
        raise BackupError("HAVEN_BACKUP_KEY is not valid base64") from error
    if len(key) != KEY_BYTES:
        raise BackupError("HAVEN_BACKUP_KEY must be 32 bytes (AES-256), base64-encoded")
    return key


def key_id(key: bytes) -> bytes:
    """8 bytes naming the key without revealing it."""
    return hashlib.sha256(b"haven backup key id|" + key).digest()[:8]


def _read_exactly(source: BinaryIO, size: int) -> bytes:
    parts = []
    while size:
        part = source.read(size)
        if not part:
            break
        parts.append(part)
        size -= len(part)
    return b"".join(parts)


def _chunks(source: BinaryIO, size: int) -> Iterator[tuple[bytes, bool]]:
    """(chunk, is_last) with one chunk of look-ahead; an empty source gives one empty last chunk."""
    current = _read_exactly(source, size)
    while True:
        following = _read_exactly(source, size) if len(current) == size else b""
        yield current, not following
        if not following:
            return
        current = following


def _aad(header: bytes, counter: int, final: bool) -> bytes:
    return header + struct.pack(">IB", counter, 1 if final else 0)


def _nonce(prefix: bytes, counter: int) -> bytes:
    return prefix + struct.pack(">I", counter)


def encrypt_stream(
    source: BinaryIO, target: BinaryIO, key: bytes, *, kind: str, chunk_size: int = DEFAULT_CHUNK
) -> int:
    """Encrypt all of `source` into `target`; returns the number of plaintext bytes."""
    kind_byte = {name: byte for byte, name in KINDS.items()}[kind]
    if not 0 < chunk_size <= MAX_CHUNK:
        raise ValueError("chunk size out of range")
    header = _HEADER.pack(
        MAGIC, VERSION, kind_byte, key_id(key), chunk_size, os.urandom(PREFIX_BYTES)
    )
    prefix = header[-PREFIX_BYTES:]
    aead = AESGCM(key)
    target.write(header)
    total = 0
    for counter, (chunk, last) in enumerate(_chunks(source, chunk_size)):
        if counter >= 2**32:
            raise ValueError("backup too large for one file")
        target.write(aead.encrypt(_nonce(prefix, counter), chunk, _aad(header, counter, last)))
        total += len(chunk)
    return total


def read_header(source: BinaryIO) -> tuple[bytes, str, bytes, int]:
    """(header bytes, kind, key id, chunk size); BackupError when it is no Haven backup."""
    header = _read_exactly(source, HEADER_BYTES)
    if len(header) != HEADER_BYTES or not header.startswith(MAGIC):
        raise BackupError("not a Haven backup file")
    _magic, version, kind_byte, file_key_id, chunk_size, _prefix = _HEADER.unpack(header)
    if version != VERSION:
        raise BackupError(f"backup format version {version} is not supported (this Haven: 1)")
    if kind_byte not in KINDS or not 0 < chunk_size <= MAX_CHUNK:
        raise BackupError("backup header is damaged")
    return header, KINDS[kind_byte], file_key_id, chunk_size


def decrypt_stream(source: BinaryIO, target: BinaryIO, key: bytes) -> tuple[str, int]:
    """Decrypt a whole backup into `target`; returns (kind, plaintext bytes).

    Raises BackupError on a wrong key, a changed, reordered or missing chunk or a cut file.
    What was written to `target` before the error must then be thrown away.
    """
    header, kind, file_key_id, chunk_size = read_header(source)
    if file_key_id != key_id(key):
        raise BackupError(
            f"this backup was made with another key (key id {file_key_id.hex()}; "
            f"HAVEN_BACKUP_KEY has key id {key_id(key).hex()})"
        )
    prefix = header[-PREFIX_BYTES:]
    aead = AESGCM(key)
    total = 0
    counter = 0
    for sealed, last in _chunks(source, chunk_size + TAG_BYTES):
        if counter >= 2**32:
            raise BackupError("backup has too many chunks")
        try:
            chunk = aead.decrypt(_nonce(prefix, counter), sealed, _aad(header, counter, last))
        except InvalidTag as error:
            if last:
                raise BackupError(f"backup is damaged or cut short at chunk {counter}") from error
            raise BackupError(
                f"backup is damaged at chunk {counter} (changed or reordered)"
            ) from error
        target.write(chunk)
        total += len(chunk)
        counter += 1
    return kind, total
