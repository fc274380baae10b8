from datetime import timedelta

import pytest
from django.contrib.auth.hashers import identify_hasher
from django.test import override_settings
from django.urls import reverse
from django.utils import timezone

from haven.accounts import registration
from haven.accounts.forms import REFUSALS
from haven.accounts.models import ConsumerProfile, User, UserSession
from haven.accounts.services import RegistrationRefused
from haven.mail.models import OPTIONAL, Category, OptOut
from haven.mail.services import may_email
from haven.support.models import AccessBlock
from haven.testing.people import HavenTestCase, make_member, years_ago

NEW_PASSWORD = "quiet lantern orchard 42"


def registration_form(member, username: str) -> dict[str, str]:
    """The member registration form filled with the member's details as the roster holds them."""
    return {
        "first_name": member.first_name,
        "last_name": member.last_name,
        "gender": member.gender,
        "date_of_birth": member.date_of_birth.isoformat(),
        "member_id": member.member_id,
        "group_number": member.group.group_number,
        "username": username,
        "password1": NEW_PASSWORD,
        "password2": NEW_PASSWORD,
    }


class MemberRegistrationTests(HavenTestCase):
    @classmethod
    def setUpTestData(cls):
        super().setUpTestData()
        cls.nadia_member = make_member("M-NADIA", cls.group, "Nadia José", "Núñez", years_ago(30))

    def details(self, member=None, **changes):
        form = registration_form(member or self.nadia_member, "nadia")
        return form | {"email": "", "phone": ""} | changes

    def register(self, **changes):
        return self.client.post(reverse("accounts:register_member"), self.details(**changes))

    def refusal(self, response) -> list[str]:
        self.assertEqual(response.status_code, 200)
        self.assertFalse(response.wsgi_request.user.is_authenticated)
        return response.context["form"].non_field_errors()

    def test_the_registration_page_offers_member_consumer_and_producer_paths(self):
        response = self.client.get(reverse("accounts:register"))
        self.assertContains(response, reverse("accounts:register_member"))
        self.assertContains(response, reverse("accounts:register_consumer"))
        self.assertContains(response, reverse("producers:register"))

    @pytest.mark.promise("ACC-1")
    def test_a_member_whose_details_match_the_roster_gets_an_account_and_is_signed_in(self):
        response = self.client.post(
            reverse("accounts:register_member"),
            self.details(first_name="  nadia   jose ", last_name="NUNEZ", member_id="m-nadia"),
            follow=True,
        )
        self.assertRedirects(response, reverse("front:home"))
        self.assertContains(response, "Your account is ready")
        user = User.objects.get(username="nadia")
        self.assertEqual(user.kind, User.Kind.MEMBER)
        self.assertEqual(user.member, self.nadia_member)
        # The names are the roster's, as the plan holds them, not as typed.
        self.assertEqual((user.first_name, user.last_name), ("Nadia José", "Núñez"))
        self.assertIsNotNone(user.password_changed_at)
        self.assertTrue(user.check_password(NEW_PASSWORD))
        key = self.client.cookies["haven_session"].value
        self.assertTrue(UserSession.objects.filter(user=user, session_key=key).exists())

    @pytest.mark.promise("ACC-1")
    def test_e_mail_and_phone_are_optional_at_registration(self):
        self.assertRedirects(self.register(email="", phone=""), reverse("front:home"))
        self.assertEqual(User.objects.get(username="nadia").email, "")

    @pytest.mark.promise("ACC-1")
    def test_an_e_mail_given_at_registration_is_kept(self):
        self.register(email="nadia@example.org", phone="(860) 555-0123")
        user = User.objects.get(username="nadia")
        self.assertEqual((user.email, user.phone), ("nadia@example.org", "(860) 555-0123"))

    @pytest.mark.promise("MAIL-8")
    def test_registration_offers_the_email_opt_out_and_records_it_at_once(self):
        page = self.client.get(reverse("accounts:register_member"))
        self.assertContains(page, "Send me only the e-mail I cannot refuse")
        self.assertContains(page, 'type="checkbox" name="email_only_required"')
        response = self.register(email="nadia@example.org", email_only_required="on")
        self.assertRedirects(response, reverse("front:home"))
        user = User.objects.get(username="nadia")
        opt_outs = OptOut.objects.filter(user=user)
        self.assertEqual({o.category for o in opt_outs}, {c.value for c in OPTIONAL})
        self.assertEqual({o.source for o in opt_outs}, {OptOut.Source.REGISTRATION})
        self.assertFalse(may_email(user, Category.NOTIFICATION))
        self.assertTrue(may_email(user, Category.REGISTRATION))

    @pytest.mark.promise("MAIL-8")
    def test_without_the_tick_no_opt_out_is_recorded(self):
        self.register(email="nadia@example.org")
        user = User.objects.get(username="nadia")
        self.assertFalse(OptOut.objects.filter(user=user).exists())
        self.assertTrue(may_email(user, Category.NOTIFICATION))

    def test_a_refused_registration_records_no_opt_out(self):
        self.register(member_id="M-NOBODY", email_only_required="on")
        self.assertFalse(OptOut.objects.exists())

    @pytest.mark.promise("ACC-1")
    def test_an_unknown_member_id_and_a_wrong_birth_date_get_the_same_message(self):
        unknown = self.register(member_id="M-NOBODY")
        wrong_birth_date = self.register(date_of_birth="1990-01-01")
        wrong_group = self.register(group_number="G-2")
        wrong_gender = self.register(gender="M")
        self.assertEqual(self.refusal(unknown), [str(REFUSALS[RegistrationRefused.NO_MATCH])])
        for response in (wrong_birth_date, wrong_group, wrong_gender):
            self.assertEqual(self.refusal(response), self.refusal(unknown))
        self.assertContains(unknown, "We could not match these details")
        self.assertFalse(User.objects.filter(username="nadia").exists())

    @pytest.mark.promise("ACC-1")
    def test_a_refused_registration_keeps_what_was_typed_except_the_password(self):
        response = self.register(member_id="M-NOBODY")
        self.assertContains(response, 'value="M-NOBODY"')
        self.assertContains(response, 'value="Núñez"')
        self.assertNotContains(response, NEW_PASSWORD)

    @pytest.mark.promise("ACC-1")
    def test_someone_elses_details_reveal_nothing_about_them(self):
        # Alice's member ID with a made-up name: the answer is the plain mismatch, nothing more.
        response = self.register(member_id="M-ALICE")
        self.assertEqual(self.refusal(response), [str(REFUSALS[RegistrationRefused.NO_MATCH])])
        self.assertNotContains(response, "Alice")

    @pytest.mark.promise("ACC-1")
    def test_a_member_who_already_has_an_account_is_pointed_to_sign_in(self):
        response = self.register(member=self.alice_member, username="alice2")
        self.assertEqual(
            self.refusal(response), [str(REFUSALS[RegistrationRefused.ALREADY_REGISTERED])]
        )
        self.assertContains(response, reverse("accounts:login"))
        self.assertEqual(User.objects.filter(member=self.alice_member).count(), 1)

    @pytest.mark.promise("ACC-1")
    def test_a_member_whose_coverage_has_ended_cannot_register(self):
        self.nadia_member.coverage_end = timezone.localdate() - timedelta(days=1)
        self.nadia_member.save()
        response = self.register()
        self.assertEqual(
            self.refusal(response), [str(REFUSALS[RegistrationRefused.COVERAGE_ENDED])]
        )
        self.assertFalse(User.objects.filter(username="nadia").exists())

    @pytest.mark.promise("ACC-1")
    def test_coverage_that_ends_today_is_still_current(self):
        self.nadia_member.coverage_end = timezone.localdate()
        self.nadia_member.save()
        self.assertRedirects(self.register(), reverse("front:home"))

    @pytest.mark.promise("ACC-7")
    def test_a_family_block_also_stops_a_new_registration(self):
        self.nadia_member.subscriber = self.alice_member
        self.nadia_member.relationship = "other"
        self.nadia_member.save()
        AccessBlock.objects.create(
            member=self.alice_member,
            include_family=True,
            reason="Asked by phone",
            created_by=self.representative,
        )
        response = self.register()
        self.assertEqual(self.refusal(response), [str(REFUSALS[RegistrationRefused.BLOCKED])])

    def test_the_username_is_unique_ignoring_case(self):
        response = self.register(username="ALICE")
        self.assertEqual(response.status_code, 200)
        self.assertTrue(response.context["form"].has_error("username", "taken"))

    @pytest.mark.promise("ACC-4")
    def test_weak_or_mismatched_passwords_are_refused_with_reasons(self):
        weak = self.register(password1="nadia", password2="nadia")
        self.assertTrue(weak.context["form"].has_error("password1"))
        different = self.register(password2="another long passphrase")
        self.assertTrue(different.context["form"].has_error("password2", "password_mismatch"))
        self.assertFalse(User.objects.filter(username="nadia").exists())

    @pytest.mark.promise("ACC-4")
    def test_the_chosen_password_is_stored_as_an_argon2_hash(self):
        self.register()
        stored = User.objects.get(username="nadia").password
        self.assertEqual(identify_hasher(stored).algorithm, "argon2")
        self.assertNotIn(NEW_PASSWORD, stored)

    @pytest.mark.promise("ACC-1")
    @override_settings(HAVEN_REGISTRATION_FAILURE_LIMIT=3)
    def test_repeated_mismatches_from_one_address_are_refused_for_an_hour(self):
        for attempt in range(3):
            self.register(member_id=f"M-GUESS-{attempt}")
        # Even the right details are not checked any more from this address.
        response = self.register()
        self.assertEqual(response.status_code, 429)
        self.assertContains(response, "too many unsuccessful attempts", status_code=429)
        self.assertFalse(User.objects.filter(username="nadia").exists())
        other_address = self.client.post(
            reverse("accounts:register_member"), self.details(), REMOTE_ADDR="192.0.2.7"
        )
        self.assertRedirects(other_address, reverse("front:home"))

    def test_the_pause_comes_after_ten_refused_attempts_unless_configured(self):
        self.assertEqual(registration.failure_limit(), 10)

    def test_a_date_of_birth_in_the_future_is_refused(self):
        tomorrow = timezone.localdate() + timedelta(days=1)
        response = self.register(date_of_birth=tomorrow.isoformat())
        self.assertTrue(response.context["form"].has_error("date_of_birth", "future"))

    def test_a_signed_in_user_is_sent_home_from_registration(self):
        self.sign_in(self.alice)
        self.assertRedirects(self.client.get(reverse("accounts:register_member")), "/")


def register_as(client, member, username):
    """Post the registration form with the member's details as the roster holds them."""
    return client.post(reverse("accounts:register_member"), registration_form(member, username))


class AgeRuleTests(HavenTestCase):
    def register(self, member, username):
        return register_as(self.client, member, username)

    @pytest.mark.promise("ACC-8")
    def test_a_child_under_13_cannot_have_an_account(self):
        response = self.register(self.carla_member, "carla")
        errors = response.context["form"].non_field_errors()
        self.assertEqual(errors, [str(REFUSALS[RegistrationRefused.UNDER_13])])
        self.assertContains(response, "children under 13 cannot have an account".capitalize())
        self.assertContains(response, "a parent or guardian can act for them")
        self.assertFalse(User.objects.filter(member=self.carla_member).exists())

    @pytest.mark.promise("ACC-8")
    def test_a_15_year_old_is_told_to_use_haven_through_a_parent_or_guardian(self):
        response = self.register(self.teo_member, "teo")
        errors = response.context["form"].non_field_errors()
        self.assertEqual(errors, [str(REFUSALS[RegistrationRefused.MINOR])])
        self.assertContains(response, "Members under 18 use Haven through a parent or guardian")
        # ...and how: the guardian asks member services, then acts from their own account.
        self.assertContains(response, "asks member services for guardian access")
        self.assertFalse(User.objects.filter(member=self.teo_member).exists())

    @pytest.mark.promise("ACC-8")
    def test_a_member_who_turned_18_today_can_register(self):
        adult = make_member("M-ADULT", self.group, "Lina", "Park", years_ago(18))
        self.assertRedirects(self.register(adult, "lina"), reverse("front:home"))
        self.assertEqual(User.objects.get(username="lina").member, adult)

    @pytest.mark.promise("ACC-8")
    def test_a_member_one_day_short_of_18_cannot_register(self):
        almost = make_member("M-ALMOST", self.group, "Milo", "Park", years_ago(18, days=-1))
        response = self.register(almost, "milo")
        errors = response.context["form"].non_field_errors()
        self.assertEqual(errors, [str(REFUSALS[RegistrationRefused.MINOR])])


class ConsumerRegistrationTests(HavenTestCase):
    def details(self, **changes):
        data = {
            "first_name": "Dana",
            "last_name": "Whitfield",
            "adult": "on",
            "email": "dana@example.org",
            "phone": "+1 860 555 0199",
            "address_line": "12 Elm Street",
            "city": "Hartford",
            "region": "CT",
            "postal_code": "06103",
            "insurance_carrier": "Evergreen Mutual",
            "insurance_plan": "Evergreen Silver",
            "username": "dana",
            "password1": NEW_PASSWORD,
            "password2": NEW_PASSWORD,
        }
        return data | changes

    def sign_up(self, **changes):
        return self.client.post(reverse("accounts:register_consumer"), self.details(**changes))

    @pytest.mark.promise("ACC-3")
    def test_a_consumer_signs_up_with_contact_address_and_insurance(self):
        response = self.sign_up()
        self.assertRedirects(response, reverse("front:home"))
        user = User.objects.get(username="dana")
        self.assertEqual(user.kind, User.Kind.CONSUMER)
        self.assertIsNone(user.member)
        self.assertEqual(
            (user.first_name, user.last_name, user.email, user.phone),
            ("Dana", "Whitfield", "dana@example.org", "+1 860 555 0199"),
        )
        profile = ConsumerProfile.objects.get(user=user)
        self.assertEqual(
            (profile.address_line, profile.city, profile.region, profile.postal_code),
            ("12 Elm Street", "Hartford", "CT", "06103"),
        )
        self.assertEqual(
            (profile.insurance_carrier, profile.insurance_plan),
            ("Evergreen Mutual", "Evergreen Silver"),
        )
        self.assertEqual(self.client.get(reverse("accounts:profile")).status_code, 200)

    @pytest.mark.promise("MAIL-8")
    def test_a_consumer_can_opt_out_of_optional_email_when_signing_up(self):
        page = self.client.get(reverse("accounts:register_consumer"))
        self.assertContains(page, "Send me only the e-mail I cannot refuse")
        self.assertRedirects(self.sign_up(email_only_required="on"), reverse("front:home"))
        user = User.objects.get(username="dana")
        self.assertEqual(
            set(OptOut.objects.filter(user=user).values_list("category", flat=True)),
            {c.value for c in OPTIONAL},
        )
        self.assertFalse(may_email(user, Category.REMINDER))

    @pytest.mark.promise("ACC-3")
    def test_a_valid_e_mail_is_required(self):
        for email in ("", "not-an-address", "dana@"):
            response = self.sign_up(email=email)
            self.assertTrue(response.context["form"].has_error("email"), email)
        self.assertFalse(User.objects.filter(username="dana").exists())

    @pytest.mark.promise("ACC-3")
    def test_name_phone_address_and_insurance_are_required(self):
        required = ["first_name", "last_name", "phone", "address_line", "city", "postal_code"]
        required += ["insurance_carrier", "insurance_plan"]
        response = self.sign_up(**dict.fromkeys(required, ""))
        form = response.context["form"]
        self.assertEqual(
            sorted(name for name in required if form.has_error(name)), sorted(required)
        )
        self.assertFalse(User.objects.filter(username="dana").exists())

    def test_a_phone_number_must_look_like_one(self):
        response = self.sign_up(phone="call me")
        self.assertTrue(response.context["form"].has_error("phone", "invalid_phone"))

    @pytest.mark.promise("ACC-8")
    def test_a_consumer_must_confirm_being_18_or_older(self):
        response = self.sign_up(adult="")
        self.assertTrue(response.context["form"].has_error("adult"))
        self.assertContains(response, "You must be 18 or older")
        self.assertFalse(User.objects.filter(username="dana").exists())

    def test_the_username_is_unique_ignoring_case(self):
        response = self.sign_up(username="Consuelo")
        self.assertTrue(response.context["form"].has_error("username", "taken"))
