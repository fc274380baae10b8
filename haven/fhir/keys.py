"""The RSA key that signs OpenID Connect id_tokens (HAVEN_OIDC_KEY).

Imported by settings, so it uses no Django models. Production must set the key (PEM); local
development and the tests get a throwaway key generated once per process, so id_tokens signed
before a restart cannot be verified after it.
"""

from functools import cache

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from django.core.exceptions import ImproperlyConfigured

MIN_BITS = 2048


def checked_rsa_key(pem: str) -> str:
    """The PEM as given (escaped `\\n` allowed, as env files write it), if it is an RSA private
    key of at least 2048 bits."""
    pem = pem.strip().replace("\\n", "\n")
    try:
        key = serialization.load_pem_private_key(pem.encode(), password=None)
    except (ValueError, TypeError) as error:
        raise ImproperlyConfigured(
            "HAVEN_OIDC_KEY must be an unencrypted RSA private key in PEM"
        ) from error
    if not isinstance(key, rsa.RSAPrivateKey) or key.key_size < MIN_BITS:
        raise ImproperlyConfigured(f"HAVEN_OIDC_KEY must be an RSA key of {MIN_BITS} bits or more")
    return pem + "\n"


@cache
def throwaway_rsa_key() -> str:
    """A fresh key for local development and tests only."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=MIN_BITS)
    return key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    ).decode()
