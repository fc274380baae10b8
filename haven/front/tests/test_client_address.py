"""Behind a trusted proxy, rate limits and audit records see the client's own address."""

from django.test import RequestFactory, SimpleTestCase, override_settings

from haven.front.middleware import client_address


def seen_address(**meta) -> str:
    request = RequestFactory().get("/", **meta)
    return client_address(lambda request: request.META["REMOTE_ADDR"])(request)


class ClientAddressTests(SimpleTestCase):
    @override_settings(HAVEN_TRUSTED_PROXIES=0)
    def test_without_a_proxy_the_forwarded_header_is_ignored(self):
        self.assertEqual(
            seen_address(REMOTE_ADDR="203.0.113.9", HTTP_X_FORWARDED_FOR="10.9.9.9"), "203.0.113.9"
        )

    @override_settings(HAVEN_TRUSTED_PROXIES=1)
    def test_behind_one_proxy_the_address_it_saw_is_used(self):
        address = seen_address(REMOTE_ADDR="10.0.0.2", HTTP_X_FORWARDED_FOR="198.51.100.7")
        self.assertEqual(address, "198.51.100.7")

    @override_settings(HAVEN_TRUSTED_PROXIES=1)
    def test_a_client_cannot_choose_its_address_by_sending_the_header_itself(self):
        forged = seen_address(REMOTE_ADDR="10.0.0.2", HTTP_X_FORWARDED_FOR="1.2.3.4, 198.51.100.7")
        self.assertEqual(forged, "198.51.100.7")

    @override_settings(HAVEN_TRUSTED_PROXIES=2)
    def test_a_short_header_leaves_the_connection_address(self):
        self.assertEqual(
            seen_address(REMOTE_ADDR="10.0.0.2", HTTP_X_FORWARDED_FOR="198.51.100.7"), "10.0.0.2"
        )
