"""MAIL-7 and MAIL-8: no e-mail without permission, and opting out in one step, at once."""

import re

import pytest
from django.test import Client
from django.urls import reverse
from django_tasks_db.models import DBTaskResult

from haven.care.services import invitations_send
from haven.mail.models import Category, OptOut, OutgoingEmail, address_hash
from haven.mail.services import (
    email_opt_out,
    may_email,
    outbox_enqueue,
    secure_message_notify,
    template_email_enqueue,
)
from haven.mail.tests.mailtest import MailTestCase, relay, run_outbox
from haven.mail.tests.smtp_servers import smtp_server
from haven.privacy.models import Channel, ContactChoice, Kind
from haven.privacy.services import (
    contact_preferences_update,
    marketing_authorise,
    marketing_withdraw,
)

Status = OutgoingEmail.Status


def unsubscribe_path(email: OutgoingEmail) -> str:
    url = re.search(r"<(https?://[^>]+)>", email.headers["List-Unsubscribe"]).group(1)
    return url.split("8000", 1)[1]


class PermissionTests(MailTestCase):
    def notify(self, key="perm-1") -> OutgoingEmail:
        return secure_message_notify(user=self.alice, link_path="/", idempotency_key=key)

    def registration_email(self, key="reg-1") -> OutgoingEmail:
        return template_email_enqueue(
            template="account_registered",
            category=Category.REGISTRATION,
            to_address=self.alice.email,
            user=self.alice,
            link_path=reverse("accounts:login"),
            reason="registration",
            idempotency_key=key,
        )

    @pytest.mark.promise("MAIL-7")
    def test_an_optional_email_to_someone_who_opted_out_is_recorded_as_suppressed_and_not_sent(
        self,
    ):
        email_opt_out(
            user=self.alice, categories=[Category.NOTIFICATION], source=OptOut.Source.PREFERENCES
        )
        email = self.notify()
        self.assertEqual(email.status, Status.SUPPRESSED)
        self.assertFalse(DBTaskResult.objects.exists())

    @pytest.mark.promise("MAIL-7")
    def test_registration_answers_and_required_notices_go_even_after_opting_out_of_everything(
        self,
    ):
        email_opt_out(
            user=self.alice,
            address=self.alice.email,
            categories=[
                c.value for c in Category if c not in ("registration", "answer", "required_notice")
            ],
            source=OptOut.Source.SUPPORT,
        )
        for category in (Category.REGISTRATION, Category.ANSWER, Category.REQUIRED_NOTICE):
            self.assertTrue(may_email(self.alice, category))
        for category in (
            Category.NOTIFICATION,
            Category.REMINDER,
            Category.NEWSLETTER,
            Category.MARKETING,
        ):
            self.assertFalse(may_email(self.alice, category))
            self.assertFalse(may_email(self.alice.email, category))
        self.assertEqual(self.registration_email().status, Status.QUEUED)
        with self.assertRaises(ValueError):
            email_opt_out(user=self.alice, categories=[Category.REQUIRED_NOTICE], source="support")

    @pytest.mark.promise("MAIL-7")
    @pytest.mark.promise("MAIL-8")
    def test_an_opt_out_stops_email_already_waiting_in_the_outbox(self):
        with smtp_server(pki=self.pki) as server, relay(server, self.pki):
            email = self.notify()
            email_opt_out(
                address="ALICE@example.org ",
                categories=[Category.NOTIFICATION],
                source=OptOut.Source.SUPPORT,
            )
            run_outbox()
        email.refresh_from_db()
        self.assertEqual(email.status, Status.SUPPRESSED)
        self.assertEqual(server.received, [])

    @pytest.mark.promise("MAIL-8")
    def test_optional_email_carries_one_click_list_unsubscribe_and_a_visible_link(self):
        with smtp_server(pki=self.pki) as server, relay(server, self.pki):
            email = self.notify()
            run_outbox()
        message = server.received[0].message
        header = message["List-Unsubscribe"]
        self.assertRegex(
            header,
            r"^<http://127\.0\.0\.1:8000/mail/unsubscribe/[^>]+/>, <mailto:unsubscribe@haven\.example\?subject=unsubscribe>$",
        )
        self.assertEqual(message["List-Unsubscribe-Post"], "List-Unsubscribe=One-Click")
        link = re.search(r"<(http[^>]+)>", header).group(1)
        self.assertIn(link, email.text_body)
        self.assertIn(f'href="{link}"', email.html_body)

    @pytest.mark.promise("MAIL-8")
    def test_required_email_has_no_unsubscribe_since_it_cannot_be_refused(self):
        email = self.registration_email()
        self.assertNotIn("List-Unsubscribe", email.headers)
        self.assertNotIn("/mail/unsubscribe/", email.text_body)

    @pytest.mark.promise("MAIL-8")
    def test_the_one_click_post_opts_out_at_once_without_sign_in_or_csrf_token(self):
        email = self.notify()
        client = Client(enforce_csrf_checks=True)
        response = client.post(
            unsubscribe_path(email),
            "List-Unsubscribe=One-Click",
            content_type="application/x-www-form-urlencoded",
        )
        self.assertEqual(response.status_code, 200)
        opt_out = OptOut.objects.get()
        self.assertEqual(opt_out.source, OptOut.Source.ONE_CLICK)
        self.assertEqual(opt_out.address_hash, address_hash("alice@example.org"))
        email.refresh_from_db()
        self.assertEqual(email.status, Status.SUPPRESSED)
        self.assertEqual(self.notify("perm-2").status, Status.SUPPRESSED)

    @pytest.mark.promise("MAIL-8")
    def test_the_link_shows_one_button_and_only_the_button_opts_out(self):
        email = self.notify()
        page = self.client.get(unsubscribe_path(email))
        self.assertContains(page, "Stop these e-mails")
        html = page.content.decode()
        main = html[html.index("<main") : html.index("</main>")]
        self.assertEqual(main.count('type="submit"'), 1)  # the page's own button, nothing else
        self.assertFalse(OptOut.objects.exists())
        done = self.client.post(unsubscribe_path(email))
        self.assertContains(done, "You will not get these e-mails any more")
        self.assertEqual(OptOut.objects.get().source, OptOut.Source.LINK)

    def test_a_forged_unsubscribe_link_changes_nothing(self):
        response = self.client.post("/mail/unsubscribe/forged-token/")
        self.assertEqual(response.status_code, 404)
        self.assertFalse(OptOut.objects.exists())

    @pytest.mark.promise("MAIL-8")
    def test_support_records_an_opt_out_for_a_user_or_an_address(self):
        self.sign_in(self.representative)
        response = self.client.post(
            reverse("mail:support_opt_out"),
            {"username": "alice", "categories": [Category.NEWSLETTER, Category.MARKETING]},
        )
        self.assertEqual(response.status_code, 302)
        self.assertFalse(may_email(self.alice, Category.NEWSLETTER))
        self.assertTrue(may_email(self.alice, Category.NOTIFICATION))
        self.client.post(
            reverse("mail:support_opt_out"),
            {"address": "rita@employer.test", "categories": [Category.NOTIFICATION]},
        )
        self.assertFalse(may_email("rita@employer.test", Category.NOTIFICATION))
        recorded = OptOut.objects.filter(source=OptOut.Source.SUPPORT)
        self.assertEqual({o.actor for o in recorded}, {self.representative})

    def test_support_opt_out_keeps_what_was_typed_when_the_username_is_unknown(self):
        self.sign_in(self.representative)
        response = self.client.post(
            reverse("mail:support_opt_out"),
            {"username": "nobody-here", "categories": [Category.NEWSLETTER]},
        )
        self.assertContains(response, "No account has this username.")
        self.assertContains(response, 'value="nobody-here"')

    @pytest.mark.promise("MAIL-8")
    def test_opting_out_at_registration_uses_the_same_service(self):
        email_opt_out(
            user=self.alice,
            categories=[Category.NEWSLETTER, Category.MARKETING, Category.REMINDER],
            source=OptOut.Source.REGISTRATION,
        )
        self.assertFalse(may_email(self.alice, Category.MARKETING))
        self.assertEqual(
            set(OptOut.objects.values_list("source", flat=True)), {OptOut.Source.REGISTRATION}
        )

    @pytest.mark.promise("MAIL-8")
    def test_a_user_chooses_their_email_on_the_preferences_page_and_can_come_back(self):
        self.sign_in(self.alice)
        self.client.post(reverse("mail:preferences"), {"wanted": [Category.REMINDER]})
        self.assertTrue(may_email(self.alice, Category.REMINDER))
        self.assertFalse(may_email(self.alice, Category.NOTIFICATION))
        page = self.client.get(reverse("mail:preferences"))
        self.assertContains(page, 'value="reminder" id="id_wanted_1" checked')
        self.assertNotContains(page, 'value="notification" id="id_wanted_0" checked')
        self.client.post(
            reverse("mail:preferences"), {"wanted": [Category.NOTIFICATION, Category.REMINDER]}
        )
        self.assertTrue(may_email(self.alice, Category.NOTIFICATION))

    @pytest.mark.promise("MAIL-7")
    @pytest.mark.promise("CON-2")
    def test_newsletters_and_marketing_also_need_the_privacy_centers_recorded_choice(self):
        self.sign_in(self.alice)
        # Unticking nothing on this page is not an authorisation: the privacy center decides.
        self.client.post(
            reverse("mail:preferences"),
            {"wanted": [Category.NOTIFICATION, Category.NEWSLETTER, Category.MARKETING]},
        )
        self.assertFalse(may_email(self.alice, Category.NEWSLETTER))
        self.assertFalse(may_email(self.alice, Category.MARKETING))
        page = self.client.get(reverse("mail:preferences"))
        self.assertContains(page, reverse("privacy:marketing"))
        self.assertNotContains(page, 'value="marketing" id="id_wanted_3" checked')


class PrivacyCenterPermissionTests(MailTestCase):
    """may_email asks the privacy center for a user's choices (CON-1, CON-2), beside opt-outs."""

    def marketing_email(self, key="offer-1", user=None, to=None) -> OutgoingEmail:
        user = self.alice if user is None and to is None else user
        return outbox_enqueue(
            to_address=to or user.email,
            subject="News from the plan",
            text_body="A new gym discount for members.",
            category=Category.MARKETING,
            user=user,
            reason="test marketing",
            idempotency_key=key,
        )

    @pytest.mark.promise("CON-2")
    @pytest.mark.promise("MAIL-7")
    def test_never_saved_preferences_allow_no_marketing_and_no_newsletter(self):
        self.assertFalse(ContactChoice.objects.filter(user=self.alice).exists())
        self.assertFalse(OptOut.objects.exists())
        self.assertFalse(may_email(self.alice, Category.MARKETING))
        self.assertFalse(may_email(self.alice, Category.NEWSLETTER))
        # What the privacy center does not govern, or allows by default, still goes.
        self.assertTrue(may_email(self.alice, Category.NOTIFICATION))
        self.assertTrue(may_email(self.alice, Category.REMINDER))
        email = self.marketing_email()
        self.assertEqual(email.status, Status.SUPPRESSED)
        self.assertFalse(DBTaskResult.objects.exists(), "nothing is queued for the worker")

    @pytest.mark.promise("CON-2")
    @pytest.mark.promise("MAIL-7")
    def test_marketing_goes_only_under_a_recorded_authorisation_naming_email(self):
        marketing_authorise(user=self.alice, channels=[Channel.TEXT], actor=self.alice)
        self.assertFalse(may_email(self.alice, Category.MARKETING), "text only, not e-mail")
        marketing_authorise(user=self.alice, channels=[Channel.EMAIL], actor=self.alice)
        self.assertTrue(may_email(self.alice, Category.MARKETING))
        self.assertEqual(self.marketing_email().status, Status.QUEUED)

    @pytest.mark.promise("CON-2")
    @pytest.mark.promise("MAIL-7")
    def test_a_withdrawal_stops_marketing_already_waiting_for_the_worker(self):
        marketing_authorise(user=self.alice, channels=[Channel.EMAIL], actor=self.alice)
        email = self.marketing_email()
        self.assertEqual(email.status, Status.QUEUED)
        marketing_withdraw(user=self.alice, actor=self.alice)
        self.assertFalse(may_email(self.alice, Category.MARKETING))
        with smtp_server(pki=self.pki) as server, relay(server, self.pki):
            run_outbox()
        email.refresh_from_db()
        self.assertEqual(email.status, Status.SUPPRESSED)
        self.assertEqual(server.received, [])

    @pytest.mark.promise("MAIL-7")
    def test_newsletters_follow_the_privacy_centers_grid(self):
        self.assertFalse(may_email(self.alice, Category.NEWSLETTER))
        contact_preferences_update(
            user=self.alice,
            choices={(Channel.EMAIL, Kind.NEWSLETTERS): True},
            actor=self.alice,
        )
        self.assertTrue(may_email(self.alice, Category.NEWSLETTER))
        contact_preferences_update(
            user=self.alice,
            choices={
                (Channel.EMAIL, Kind.HEALTH_REMINDERS): False,
                (Channel.EMAIL, Kind.APPOINTMENT_REMINDERS): False,
            },
            actor=self.alice,
        )
        self.assertFalse(may_email(self.alice, Category.REMINDER))

    @pytest.mark.promise("MAIL-7")
    def test_a_plain_address_has_only_its_opt_outs_so_care_invitations_still_go(self):
        address = "friend@elsewhere.test"
        self.assertTrue(may_email(address, Category.MARKETING))
        result = invitations_send(inviter=self.alice, addresses=[address])
        (invitation,) = result.invitations
        self.assertEqual(invitation.email.status, Status.QUEUED)
        self.assertIsNone(invitation.email.user)
        email_opt_out(address=address, categories=[Category.MARKETING], source=OptOut.Source.LINK)
        self.assertFalse(may_email(address, Category.MARKETING))
