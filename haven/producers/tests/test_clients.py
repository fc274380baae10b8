"""Members authorise producers; a producer sees only their own authorising clients, and only the
administrative elements allowed, through the audited accessor; the plan analyses producers'
quoting and requests in aggregate (LOG-4)."""

import pytest
from django.urls import reverse
from django.utils import timezone

from haven.accounts.models import User
from haven.audit import access
from haven.audit.models import AuditEvent, Outcome
from haven.audit.policy import Purpose, Resource
from haven.plans.imports import import_text
from haven.plans.models import Product
from haven.plans.services import Person, quote_create
from haven.producers.models import Authorisation, ClientElement, ElementRequest, Producer
from haven.producers.services import (
    SMALLEST_GROUP,
    authorisation_grant,
    client_read,
    producer_activity,
)
from haven.testing.people import HavenTestCase, make_user

RATES = (
    "product_code,product_name,plan_code,year,max_charged_children,area_code,area_name,"
    "zip_prefixes,age_min,age_max,tobacco,monthly_premium\n"
    "IND-1,Haven Individual PPO,TEST-PPO,2026,3,CT-1,Hartford area,060;061,0,64,N,400.00\n"
    "IND-2,Haven Individual HMO,TEST-PPO,2026,3,CT-1,Hartford area,,0,64,N,300.00\n"
)


def approved_producer(number: int) -> Producer:
    user = make_user(f"producer-{number}", "producer", first_name=f"P{number}")
    return Producer.objects.create(
        user=user,
        kind=Producer.Kind.INDIVIDUAL,
        legal_name=f"Producer {number}",
        tax_id_hash=f"{number:064d}",
        tax_id_last4="0000",
        licence_number=f"LIC-X{number}",
        licence_region="CT",
        address_line="1 Main St",
        city="Hartford",
        postal_code="06103",
        status=Producer.Status.APPROVED,
        reviewed_at=timezone.now(),
        reviewed_by=make_user(f"reviewer-{number}", "staff", staff_role="producer_support"),
    )


class ClientTests(HavenTestCase):
    def authorise(self, *elements, user=None, licence="LIC-1"):
        self.sign_in(user or self.alice)
        return self.client.post(
            reverse("producers:authorisations"),
            {"licence_number": licence, "licence_region": "CT", "elements": list(elements)},
        )

    def pete_sees(self, pk, *elements):
        self.sign_in(self.producer)
        return self.client.get(
            reverse("producers:client", kwargs={"pk": pk}), {"elements": list(elements)}
        )

    @pytest.mark.promise("PLAN-4")
    def test_a_member_authorises_a_producer_who_then_sees_only_what_was_allowed(self):
        response = self.authorise(ClientElement.NAME, ClientElement.COVERAGE, licence="lic-1")
        self.assertRedirects(response, reverse("producers:authorisations"))
        authorisation = Authorisation.objects.get(member=self.alice_member)
        self.assertEqual(authorisation.elements, ["name", "coverage"])
        change = AuditEvent.objects.filter(member=self.alice_member, actor=self.alice).get()
        self.assertEqual(
            change.entity, {Resource.PRIVACY: ["consents", "requests", "restrictions"]}
        )

        self.sign_in(self.producer)
        home = self.client.get(reverse("producers:home"))
        self.assertContains(home, "Alice Rivera")
        self.assertNotContains(home, "Bruno")
        self.assertContains(home, reverse("plans:quote"))

        response = self.pete_sees(authorisation.pk, ClientElement.COVERAGE, ClientElement.CONTACT)
        self.assertEqual(response.status_code, 200)
        # Contact was not authorised, so the form refuses it and nothing is read.
        self.assertIsNone(response.context["shown"])
        response = self.pete_sees(authorisation.pk, ClientElement.COVERAGE)
        self.assertContains(response, "Riverside")
        self.assertNotContains(response, "06103")
        self.assertNotContains(response, "M-ALICE")
        read = AuditEvent.objects.filter(subtype="producer-view").order_by("-sequence")[0]
        self.assertEqual(read.purpose, Purpose.PRODUCER)
        self.assertEqual(read.outcome, Outcome.ALLOWED)
        self.assertEqual(read.member, self.alice_member)
        self.assertEqual(
            read.entity, {Resource.COVERAGE: ["plan", "group", "coverage_start", "coverage_end"]}
        )
        # The trail names the producer, as the member's access history shows them.
        self.assertEqual((read.actor, read.actor_kind), (self.producer, User.Kind.PRODUCER))
        self.assertEqual(read.system_actor, "")
        # Alice sees the look in her own access history.
        self.assertIn(read, list(access.history_for(self.alice_member)))

    def test_another_producer_and_a_revoked_client_are_not_found(self):
        authorisation = authorisation_grant(
            producer=self.producer.producer, elements=["name"], actor=self.alice
        )
        other = approved_producer(7)
        self.sign_in(other.user)
        response = self.client.get(reverse("producers:client", kwargs={"pk": authorisation.pk}))
        self.assertEqual(response.status_code, 404)
        self.assertNotContains(self.client.get(reverse("producers:home")), "Alice", status_code=200)

        self.sign_in(self.oscar)
        response = self.client.post(reverse("producers:revoke", kwargs={"pk": authorisation.pk}))
        self.assertEqual(response.status_code, 404)

        self.sign_in(self.alice)
        response = self.client.post(reverse("producers:revoke", kwargs={"pk": authorisation.pk}))
        self.assertRedirects(response, reverse("producers:authorisations"))
        authorisation.refresh_from_db()
        self.assertEqual(authorisation.revoked_by, self.alice)
        self.assertEqual(self.pete_sees(authorisation.pk, "name").status_code, 404)
        with self.assertRaises(access.NotAuthorised):
            client_read(
                producer=self.producer.producer, authorisation=authorisation, elements=["name"]
            )
        self.assertNotContains(self.client.get(reverse("producers:home")), "Alice Rivera")

    def test_authorising_again_changes_what_the_producer_may_see(self):
        self.authorise(ClientElement.NAME)
        self.authorise(ClientElement.MEMBER_ID, ClientElement.DATE_OF_BIRTH)
        authorisation = Authorisation.objects.current().get(member=self.alice_member)
        self.assertEqual(authorisation.elements, ["date_of_birth", "member_id"])
        changes = AuditEvent.objects.filter(member=self.alice_member, actor=self.alice)
        self.assertEqual(
            list(changes.order_by("sequence").values_list("subtype", flat=True)),
            ["create", "update"],
        )
        response = self.pete_sees(authorisation.pk, "member_id")
        self.assertContains(response, "M-ALICE")
        self.assertNotContains(response, "Alice")

    def test_an_unknown_or_waiting_producer_cannot_be_authorised(self):
        response = self.authorise(ClientElement.NAME, licence="LIC-2")  # Penny, not approved
        self.assertEqual(response.status_code, 200)
        self.assertContains(response, "No approved producer has this licence")
        self.assertFalse(Authorisation.objects.exists())

    def test_the_producer_purpose_never_opens_claims_or_clinical_data(self):
        actor = self.producer
        Authorisation.objects.create(
            member=self.alice_member,
            producer=Producer.objects.get(user=actor),
            elements=list(ClientElement.values),
            authorised_by=self.alice,
        )
        for resource in (Resource.CLAIMS, Resource.DOCUMENTS, Resource.MESSAGES):
            with self.assertRaises(access.NotPermitted):
                access.read(
                    member=self.alice_member,
                    resource=resource,
                    purpose=Purpose.PRODUCER,
                    actor=actor,
                )
        denied = AuditEvent.objects.filter(outcome=Outcome.DENIED, purpose=Purpose.PRODUCER)
        self.assertEqual(denied.count(), 3)

    def test_only_members_authorise_and_only_for_themselves(self):
        self.sign_in(self.producer)
        self.assertEqual(self.client.get(reverse("producers:authorisations")).status_code, 403)
        self.sign_in(self.maria)
        self.assertEqual(self.client.get(reverse("producers:authorisations")).status_code, 403)


class ProducerActivityTests(HavenTestCase):
    @classmethod
    def setUpTestData(cls):
        super().setUpTestData()
        assert import_text("rates", RATES).rejected == 0
        cls.ppo = Product.objects.get(code="IND-1")
        cls.hmo = Product.objects.get(code="IND-2")
        cls.producers = [approved_producer(number) for number in range(SMALLEST_GROUP)]

    @pytest.mark.promise("LOG-4")
    def test_staff_see_most_quoted_products_and_requested_elements_with_small_groups_left_out(self):
        # Eleven producers quote the PPO (twice each), ten quote the HMO (many times).
        for producer in self.producers:
            for _ in range(2):
                quote_create(
                    product=self.ppo, zip_code="06103", people=[Person(40)], actor=producer.user
                )
        for producer in self.producers[:10]:
            for _ in range(5):
                quote_create(
                    product=self.hmo, zip_code="06103", people=[Person(30)], actor=producer.user
                )
        # A visitor's quote is not producer activity.
        quote_create(product=self.hmo, zip_code="06103", people=[Person(30)], actor=None)
        # Each producer has a client and asks for coverage; ten of them also ask for the phone.
        members = [self.alice_member, self.bruno_member, self.elena_member, self.oscar_member]
        for number, producer in enumerate(self.producers):
            member = members[number % len(members)]
            authorisation = Authorisation.objects.create(
                member=member,
                producer=producer,
                elements=["coverage", "contact"],
                authorised_by=self.alice,
            )
            wanted = ["coverage", "contact"] if number < 10 else ["coverage"]
            client_read(producer=producer, authorisation=authorisation, elements=wanted)

        analysis = producer_activity()
        self.assertEqual(
            [(row.label, row.count, row.producers) for row in analysis.products],
            [("Haven Individual PPO", 22, 11)],
        )
        self.assertEqual(analysis.products_suppressed, 1)
        self.assertEqual(
            [(row.label, row.count, row.producers) for row in analysis.elements],
            [("Plan and coverage dates", 11, 11)],
        )
        self.assertEqual(analysis.elements_suppressed, 1)
        # Nothing kept for the analysis names a client.
        self.assertEqual(
            {field.name for field in ElementRequest._meta.get_fields()},
            {"id", "producer", "element", "requested_on"},
        )

        self.sign_in(self.staff["producer_support"])
        response = self.client.get(reverse("producers:activity"))
        self.assertContains(response, "Haven Individual PPO")
        self.assertNotContains(response, "Haven Individual HMO")
        self.assertNotContains(response, "Address and phone")
        self.assertContains(response, "1 product quoted by too few producers is not shown.")
        self.assertNotContains(response, "Alice")
        self.sign_in(self.staff["care_team"])
        self.assertEqual(self.client.get(reverse("producers:activity")).status_code, 403)

    @pytest.mark.promise("LOG-4")
    def test_the_period_counts_only_activity_since_its_first_day(self):
        for producer in self.producers:
            quote_create(
                product=self.ppo, zip_code="06103", people=[Person(40)], actor=producer.user
            )
        tomorrow = timezone.localdate() + timezone.timedelta(days=1)
        self.assertEqual(len(producer_activity().products), 1)
        self.assertEqual(producer_activity(since=tomorrow).products, [])
        self.sign_in(self.staff["compliance"])
        response = self.client.get(reverse("producers:activity"), {"since": tomorrow.isoformat()})
        self.assertNotContains(response, "Haven Individual PPO")


class CardTests(HavenTestCase):
    def test_members_find_their_producers_and_analysts_the_activity_from_home(self):
        self.sign_in(self.alice)
        self.assertContains(
            self.client.get(reverse("front:home")), reverse("producers:authorisations")
        )
        self.sign_in(self.producer)
        home = self.client.get(reverse("front:home"))
        self.assertNotContains(home, reverse("producers:authorisations"))
        self.assertContains(home, reverse("producers:home"))
        self.sign_in(self.staff["compliance"])
        self.assertContains(
            self.client.get(reverse("front:staff_home")), reverse("producers:activity")
        )
