"""OpenID Connect for SMART apps (`openid fhirUser`): an id_token signed with the server's RSA key,
for the app that asked, from this issuer, naming who signed in (fhirUser)."""

import json

import pytest
from django.core.exceptions import ImproperlyConfigured
from django.urls import reverse
from fhir.resources.R4B.capabilitystatement import CapabilityStatement
from jwcrypto import jwk, jwt
from jwcrypto.common import JWException, base64url_decode, base64url_encode

from haven.fhir.keys import checked_rsa_key, throwaway_rsa_key
from haven.fhir.tests.flow import AUD, bearer, connect, make_app
from haven.testing.people import HavenTestCase

OIDC_SCOPES = "openid fhirUser launch/patient patient/*.rs"


class OpenIdConnectTests(HavenTestCase):
    @classmethod
    def setUpTestData(cls):
        super().setUpTestData()
        cls.app = make_app(scopes=("openid", "fhirUser", "launch/patient", "patient/*.rs"))

    def keys(self) -> jwk.JWKSet:
        discovery = self.client.get(f"{AUD}/.well-known/openid-configuration").json()
        response = self.client.get(discovery["jwks_uri"])
        self.assertEqual(response.status_code, 200)
        return jwk.JWKSet.from_json(response.content)

    def verified_claims(self, id_token: str, audience: str = "") -> dict:
        """The id_token's claims, checked as a relying party checks them: RS256 signature by a
        published key, this issuer, this app as audience, not expired."""
        token = jwt.JWT(
            jwt=id_token,
            key=self.keys(),
            algs=["RS256"],
            check_claims={
                "iss": AUD,
                "aud": audience or self.app.application.client_id,
                "exp": None,
            },
        )
        return json.loads(token.claims)

    @pytest.mark.promise("DIS-8")
    def test_the_member_gets_an_id_token_naming_her_patient_record(self):
        token = connect(self, self.alice, self.alice_member, self.app, scope=OIDC_SCOPES)
        self.assertIn("id_token", token)
        claims = self.verified_claims(token["id_token"])
        self.assertEqual(claims["fhirUser"], f"Patient/{self.alice_member.pk}")
        self.assertEqual(claims["sub"], str(self.alice.pk))
        self.assertEqual(token["patient"], str(self.alice_member.pk))
        # The access token still reads the record the id_token names.
        patient = self.client.get(f"/fhir/{claims['fhirUser']}", **bearer(token["access_token"]))
        self.assertEqual(patient.status_code, 200)

    def test_a_guardian_is_named_as_herself_not_as_the_child(self):
        token = connect(self, self.alice, self.teo_member, self.app, scope=OIDC_SCOPES)
        claims = self.verified_claims(token["id_token"])
        self.assertEqual(token["patient"], str(self.teo_member.pk))
        self.assertEqual(claims["fhirUser"], f"Patient/{self.alice_member.pk}")

    def test_a_caregiver_without_a_record_of_her_own_gets_no_fhir_user(self):
        token = connect(self, self.maria, self.elena_member, self.app, scope=OIDC_SCOPES)
        claims = self.verified_claims(token["id_token"])
        self.assertNotIn("fhirUser", claims)
        self.assertEqual(claims["sub"], str(self.maria.pk))

    def test_fhir_user_only_with_its_scope_and_no_id_token_without_openid(self):
        openid_only = connect(
            self, self.alice, self.alice_member, self.app, scope="openid launch/patient"
        )
        self.assertNotIn("fhirUser", self.verified_claims(openid_only["id_token"]))
        self.client.logout()
        plain = connect(self, self.alice, self.alice_member, self.app, scope="launch/patient")
        self.assertNotIn("id_token", plain)

    def test_a_forged_or_altered_id_token_does_not_verify(self):
        token = connect(self, self.alice, self.alice_member, self.app, scope=OIDC_SCOPES)
        header, payload, signature = token["id_token"].split(".")
        altered = json.loads(base64url_decode(payload))
        altered["fhirUser"] = f"Patient/{self.oscar_member.pk}"
        forged_payload = base64url_encode(json.dumps(altered))
        with self.assertRaises(JWException):
            self.verified_claims(f"{header}.{forged_payload}.{signature}")
        # Signed with another key under the server's key id.
        other_key = jwk.JWK.from_pem(throwaway_rsa_key.__wrapped__().encode())
        kid = json.loads(base64url_decode(header))["kid"]
        forged = jwt.JWT(header={"alg": "RS256", "kid": kid}, claims=altered)
        forged.make_signed_token(other_key)
        with self.assertRaises(JWException):
            self.verified_claims(forged.serialize())
        # Genuine, but for this app only: another app must not accept it.
        with self.assertRaises(jwt.JWTInvalidClaimValue):
            self.verified_claims(token["id_token"], audience="another-app")

    def test_discovery_advertises_openid_connect_and_fhir_user(self):
        smart = self.client.get(reverse("smart_configuration")).json()
        self.assertIn("sso-openid-connect", smart["capabilities"])
        self.assertIn("openid", smart["scopes_supported"])
        self.assertIn("fhirUser", smart["scopes_supported"])
        self.assertEqual(smart["issuer"], AUD)
        discovery = self.client.get(f"{AUD}/.well-known/openid-configuration").json()
        self.assertEqual(discovery["issuer"], smart["issuer"])
        self.assertEqual(discovery["jwks_uri"], smart["jwks_uri"])
        self.assertEqual(discovery["id_token_signing_alg_values_supported"], ["RS256"])
        self.assertIn("fhirUser", discovery["claims_supported"])
        statement = CapabilityStatement.model_validate(
            self.client.get(reverse("fhir:metadata")).json()
        )
        codes = {
            item.valueCode
            for item in statement.rest[0].security.extension
            if item.url.endswith("/capabilities")
        }
        self.assertIn("sso-openid-connect", codes)
        self.assertIn("permission-v2", codes)


class SigningKeyTests(HavenTestCase):
    def test_the_signing_key_must_be_an_rsa_key_of_2048_bits_or_more(self):
        good = throwaway_rsa_key()
        self.assertEqual(checked_rsa_key(good.replace("\n", "\\n")).strip(), good.strip())
        from cryptography.hazmat.primitives import serialization
        from cryptography.hazmat.primitives.asymmetric import ec, rsa

        small = rsa.generate_private_key(public_exponent=65537, key_size=1024)  # noqa: S505 - refused
        curve = ec.generate_private_key(ec.SECP256R1())
        for key in (small, curve):
            pem = key.private_bytes(
                serialization.Encoding.PEM,
                serialization.PrivateFormat.PKCS8,
                serialization.NoEncryption(),
            ).decode()
            with self.assertRaises(ImproperlyConfigured):
                checked_rsa_key(pem)
        with self.assertRaises(ImproperlyConfigured):
            checked_rsa_key("not a key")
