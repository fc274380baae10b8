"""Under production settings (loaded in a separate process, as a production server loads them):
redirect addresses must be https, and id_tokens need a signing key from the environment."""

import json
import sys

import pytest

from haven.fhir.keys import throwaway_rsa_key
from haven.front.tests.test_security_headers import haven_command, production_environment, run

CHECK_REDIRECTS = """
import json
import django
django.setup()
from django.core.exceptions import ValidationError
from oauth2_provider.models import Application
from oauth2_provider.settings import oauth2_settings
from haven.fhir.services import _check_redirect_uris

def refused_by_haven(uri):
    try:
        _check_redirect_uris([uri])
    except ValidationError:
        return True
    return False

def refused_by_the_toolkit(uri):
    application = Application(
        name="x", redirect_uris=uri, client_type="public",
        authorization_grant_type="authorization-code", algorithm="RS256",
    )
    try:
        application.clean()
    except ValidationError:
        return True
    return False

uris = ["http://app.example/callback", "http://127.0.0.1:8080/callback",
        "http://localhost/callback", "https://app.example/callback"]
print(json.dumps({
    "schemes": oauth2_settings.ALLOWED_REDIRECT_URI_SCHEMES,
    "oidc": oauth2_settings.OIDC_ENABLED,
    "haven": {uri: refused_by_haven(uri) for uri in uris},
    "toolkit": {uri: refused_by_the_toolkit(uri) for uri in uris},
}))
"""


@pytest.mark.promise("DIS-8")
def test_in_production_an_http_redirect_address_is_refused_even_on_localhost(tmp_path):
    environment = production_environment(tmp_path, HAVEN_OIDC_KEY=throwaway_rsa_key())
    result = run([sys.executable, "-c", CHECK_REDIRECTS], environment)
    assert result.returncode == 0, result.stderr
    found = json.loads(result.stdout)
    assert found["schemes"] == ["https"]
    assert found["oidc"] is True
    for layer in ("haven", "toolkit"):
        assert found[layer] == {
            "http://app.example/callback": True,
            "http://127.0.0.1:8080/callback": True,
            "http://localhost/callback": True,
            "https://app.example/callback": False,
        }, layer


@pytest.mark.parametrize(
    ("key", "message"),
    [
        (None, "HAVEN_OIDC_KEY must be set: it signs OpenID Connect id_tokens"),
        ("not a key", "HAVEN_OIDC_KEY must be an unencrypted RSA private key in PEM"),
    ],
)
def test_production_refuses_to_start_without_a_signing_key(tmp_path, key, message):
    result = run([*haven_command(), "check"], production_environment(tmp_path, HAVEN_OIDC_KEY=key))
    assert result.returncode != 0
    assert f"ImproperlyConfigured: {message}" in result.stderr
