import pytest
from django.contrib.auth.models import AnonymousUser
from django.contrib.sessions.middleware import SessionMiddleware
from django.core.exceptions import PermissionDenied
from django.http import HttpResponse
from django.test import RequestFactory
from django.urls import reverse
from django.utils import timezone

from haven.lib.hashing import lookup_hash
from haven.producers.decorators import approved_producer_required
from haven.producers.models import TAX_ID_PURPOSE, Producer
from haven.testing.people import HavenTestCase


@approved_producer_required
def a_later_private_page(request, producer):
    """Stands for pages still to come (clients, quotes): guarded the same way."""
    return HttpResponse(f"clients of producer {producer.pk}")


class ApprovalGateTests(HavenTestCase):
    def reject(self, user, note="Your licence number does not match the state's records."):
        Producer.objects.filter(user=user).update(
            status=Producer.Status.REJECTED,
            review_note=note,
            reviewed_by=self.staff["producer_support"],
            reviewed_at=timezone.now(),
        )

    @pytest.mark.promise("ACC-2")
    def test_a_waiting_producer_cannot_open_the_producer_home_and_is_told_why(self):
        self.sign_in(self.pending_producer)
        response = self.client.get(reverse("producers:home"))
        self.assertEqual(response.status_code, 403)
        self.assertContains(response, "waiting for approval", status_code=403)
        self.assertContains(response, reverse("producers:status"), status_code=403)
        self.assertNotContains(response, "Your clients", status_code=403)

    @pytest.mark.promise("ACC-2")
    def test_an_approved_producer_opens_the_producer_home(self):
        self.sign_in(self.producer)
        response = self.client.get(reverse("producers:home"))
        self.assertContains(response, "Your clients")
        self.assertContains(response, "Clients appear here once members authorise you")
        self.assertContains(response, "Pete Broker")

    @pytest.mark.promise("ACC-2")
    def test_every_later_producer_page_is_closed_until_approval(self):
        factory = RequestFactory()

        def open_as(user):
            request = factory.get("/producers/clients/")
            SessionMiddleware(lambda request: HttpResponse()).process_request(request)
            request.user = user
            return a_later_private_page(request)

        self.assertEqual(open_as(self.pending_producer).status_code, 403)
        self.reject(self.pending_producer)
        self.assertEqual(open_as(self.pending_producer).status_code, 403)
        approved = open_as(self.producer)
        self.assertEqual(
            approved.content.decode(), f"clients of producer {self.producer.producer.pk}"
        )
        with self.assertRaises(PermissionDenied):
            open_as(self.alice)
        self.assertEqual(open_as(AnonymousUser()).status_code, 302)

    def test_other_kinds_of_account_get_the_plain_refusal(self):
        for user in (self.alice, self.maria, self.provider, self.staff["producer_support"]):
            with self.subTest(user=user.username):
                self.sign_in(user)
                response = self.client.get(reverse("producers:home"))
                self.assertEqual(response.status_code, 403)
                self.assertContains(response, "You cannot open this page", status_code=403)

    @pytest.mark.promise("ACC-2")
    def test_a_rejected_producer_sees_the_reason_and_still_no_private_page(self):
        self.reject(self.pending_producer)
        self.sign_in(self.pending_producer)
        status = self.client.get(reverse("producers:status"))
        self.assertContains(status, "Not approved")
        self.assertContains(status, "does not match the state&#x27;s records")
        self.assertNotContains(status, reverse("producers:edit"))
        home = self.client.get(reverse("producers:home"))
        self.assertContains(home, "was not approved", status_code=403)

    def test_the_status_page_shows_what_was_submitted_but_only_the_last_four_of_the_tax_id(self):
        self.sign_in(self.pending_producer)
        response = self.client.get(reverse("producers:status"))
        self.assertContains(response, "Penny Agency LLC")
        self.assertContains(response, "Ending in 5678")
        self.assertNotContains(response, "b" * 64)
        self.assertContains(response, reverse("producers:edit"))

    def test_the_approved_producer_may_see_their_registration_too(self):
        self.sign_in(self.producer)
        response = self.client.get(reverse("producers:status"))
        self.assertContains(response, "Approved")
        self.assertContains(response, reverse("producers:home"))
        self.assertNotContains(response, reverse("producers:edit"))


class CorrectingRegistrationTests(HavenTestCase):
    url = reverse("producers:edit")

    def details(self, **changes) -> dict:
        data = {
            "kind": "agency",
            "legal_name": "Penny Agency LLC",
            "agency_name": "Penny & Partners",
            "first_name": "Penny",
            "last_name": "Lane",
            "date_of_birth": "",
            "tax_id": "",
            "licence_number": "LIC-2",
            "licence_region": "CT",
            "address_line": "2 Main St",
            "city": "Hartford",
            "region": "CT",
            "postal_code": "06103",
            "phone": "860-555-0199",
            "email": "penny@agency.example",
        }
        return data | changes

    def test_a_waiting_producer_corrects_their_details_and_keeps_the_tax_id_if_left_empty(self):
        self.sign_in(self.pending_producer)
        self.assertContains(self.client.get(self.url), "ending in 5678")
        response = self.client.post(self.url, self.details())
        self.assertRedirects(response, reverse("producers:status"))
        producer = Producer.objects.select_related("user").get(user=self.pending_producer)
        self.assertEqual(producer.agency_name, "Penny & Partners")
        self.assertEqual(producer.user.email, "penny@agency.example")
        self.assertEqual(producer.user.last_name, "Lane")
        self.assertEqual((producer.tax_id_hash, producer.tax_id_last4), ("b" * 64, "5678"))
        self.assertEqual(producer.status, Producer.Status.PENDING)

    @pytest.mark.promise("ACC-2")
    def test_a_new_tax_id_replaces_the_hash_and_is_not_stored(self):
        self.sign_in(self.pending_producer)
        self.client.post(self.url, self.details(tax_id="45-6789012"))
        producer = Producer.objects.get(user=self.pending_producer)
        self.assertEqual(producer.tax_id_hash, lookup_hash("456789012", purpose=TAX_ID_PURPOSE))
        self.assertEqual(producer.tax_id_last4, "9012")
        self.assertFalse(Producer.objects.filter(legal_name__contains="456789012").exists())

    def test_a_correction_cannot_take_another_producers_licence(self):
        self.sign_in(self.pending_producer)
        response = self.client.post(self.url, self.details(licence_number="LIC-1"))
        self.assertContains(response, "A producer with these registration details already exists")
        self.assertNotContains(response, "Pete")
        self.assertEqual(Producer.objects.get(user=self.pending_producer).licence_number, "LIC-2")

    def test_bad_input_is_explained_and_kept(self):
        self.sign_in(self.pending_producer)
        response = self.client.post(self.url, self.details(tax_id="12345", agency_name=""))
        self.assertEqual(set(response.context["form"].errors), {"tax_id", "agency_name"})
        self.assertContains(response, 'value="penny@agency.example"')

    def test_once_reviewed_the_registration_can_no_longer_be_changed_here(self):
        self.sign_in(self.producer)
        response = self.client.post(self.url, self.details(licence_number="LIC-77"))
        self.assertContains(response, "can no longer be changed here", status_code=403)
        self.assertEqual(Producer.objects.get(user=self.producer).licence_number, "LIC-1")
