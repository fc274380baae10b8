"""The health library: staff write articles in three languages, members read theirs in their
language (English where it is missing), visitors only the public ones, and nothing records who
reads what (PLAN-5)."""

import pytest
from django.apps import apps
from django.contrib.auth.models import Permission
from django.core.exceptions import PermissionDenied, ValidationError
from django.urls import reverse

from haven.accounts.models import User
from haven.library import demo, services
from haven.library.models import Article, Status
from haven.plans.models import Member
from haven.testing.people import HavenTestCase, make_user

ENGLISH = {"title": "Walking every day", "summary": "Thirty minutes", "body": "Walk.\n\nMore."}


def row_counts() -> dict[str, int]:
    """How many rows every table of Haven holds (sessions aside)."""
    return {
        model._meta.label: model.objects.count()
        for model in apps.get_models()
        if model._meta.label not in ("sessions.Session",) and not model._meta.proxy
    }


def names_a_person(label: str) -> bool:
    """Whether rows of this model point at an account or a roster entry."""
    model = apps.get_model(label)
    return any(
        field.is_relation and field.related_model in (User, Member)
        for field in model._meta.get_fields()
        if field.concrete
    )


class LibraryTests(HavenTestCase):
    @classmethod
    def setUpTestData(cls):
        super().setUpTestData()
        demo.load()

    @pytest.mark.promise("PLAN-5")
    def test_a_member_reads_the_article_in_their_language(self):
        self.alice.language = "es"
        self.alice.save()
        self.sign_in(self.alice)
        response = self.client.get(
            reverse("library:article", args=["flu-vaccine"]), HTTP_ACCEPT_LANGUAGE="es"
        )
        self.assertContains(response, "Su vacuna anual contra la gripe")
        self.assertNotContains(response, "Your yearly flu vaccine")
        self.assertNotContains(response, "not yet available in your language")

    @pytest.mark.promise("PLAN-5")
    def test_a_missing_language_falls_back_to_english_and_says_so(self):
        self.alice.language = "it"
        self.alice.save()
        self.sign_in(self.alice)
        response = self.client.get(reverse("library:article", args=["sleep-well"]))
        self.assertContains(response, "Sleeping well")
        self.assertContains(response, 'lang="en"')
        # The notice itself is in Italian.
        self.assertContains(response, "non è ancora disponibile nella sua lingua")
        index = self.client.get(reverse("library:index"))
        self.assertContains(index, "Sleeping well")
        self.assertContains(index, "Il vaccino antinfluenzale di ogni anno")

    @pytest.mark.promise("PLAN-5")
    def test_visitors_read_only_public_articles(self):
        index = self.client.get(reverse("library:index"))
        self.assertContains(index, "Your yearly flu vaccine")
        self.assertNotContains(index, "Sleeping well")
        self.assertEqual(
            self.client.get(reverse("library:article", args=["flu-vaccine"])).status_code, 200
        )
        private = self.client.get(reverse("library:article", args=["sleep-well"]))
        self.assertEqual(private.status_code, 302)
        self.assertTrue(private["Location"].startswith(reverse("accounts:login")))

    def test_drafts_are_seen_only_by_staff_who_write_content(self):
        draft = services.article_save(
            article=None,
            slug="walking",
            status=Status.DRAFT,
            public=True,
            texts={"en": ENGLISH},
            actor=self.nurse,
        )
        self.assertIsNone(draft.published_at)
        url = reverse("library:article", args=["walking"])
        self.sign_in(self.alice)
        self.assertEqual(self.client.get(url).status_code, 404)
        self.assertNotContains(self.client.get(reverse("library:index")), "Walking every day")
        self.sign_in(self.nurse)
        self.assertContains(self.client.get(url), "Draft: only staff")

    @pytest.mark.promise("PLAN-5")
    def test_reading_writes_nothing_about_the_reader(self):
        self.sign_in(self.alice)
        self.client.get(reverse("library:index"))
        before = row_counts()
        for slug in ("flu-vaccine", "sleep-well"):
            self.assertEqual(
                self.client.get(reverse("library:article", args=[slug])).status_code, 200
            )
        self.client.get(reverse("library:index"))
        after = row_counts()
        written = sorted(label for label in after if after[label] != before[label])
        # A web log of pages and addresses (LOG-1) may count requests; nothing written names
        # the reader, and this app keeps no trace at all.
        self.assertEqual([label for label in written if names_a_person(label)], [])
        self.assertEqual([label for label in written if label.startswith("library.")], [])

    def test_the_care_team_writes_an_article_in_three_languages(self):
        self.sign_in(self.nurse)
        response = self.client.post(
            reverse("library:article_new"),
            {
                "slug": "walking",
                "status": Status.PUBLISHED,
                "public": "on",
                "en-title": "Walking every day",
                "en-body": "Walk thirty minutes.",
                "es-title": "Caminar cada día",
                "es-body": "Camine treinta minutos.",
                "it-title": "Camminare ogni giorno",
                "it-body": "Cammini trenta minuti.",
            },
        )
        self.assertEqual(response.status_code, 302)
        article = Article.objects.get(slug="walking")
        self.assertEqual(article.author, self.nurse)
        self.assertIsNotNone(article.published_at)
        self.assertEqual(
            sorted(article.texts.values_list("language", flat=True)), ["en", "es", "it"]
        )
        # Emptying the Italian title drops that version; readers of Italian then get English.
        self.client.post(
            reverse("library:article_edit", args=[article.pk]),
            {
                "slug": "walking",
                "status": Status.PUBLISHED,
                "en-title": "Walking every day",
                "en-body": "Walk thirty minutes.",
                "es-title": "Caminar cada día",
                "es-body": "Camine treinta minutos.",
            },
        )
        self.assertEqual(sorted(article.texts.values_list("language", flat=True)), ["en", "es"])
        self.assertEqual(article.text_in("it").title, "Walking every day")

    def test_english_is_required(self):
        self.sign_in(self.nurse)
        response = self.client.post(
            reverse("library:article_new"),
            {"slug": "x", "status": Status.DRAFT, "es-title": "Solo", "es-body": "Español"},
        )
        self.assertEqual(response.status_code, 200)
        self.assertFalse(Article.objects.filter(slug="x").exists())
        with self.assertRaises(ValidationError):
            services.article_save(
                article=None,
                slug="y",
                status=Status.DRAFT,
                public=False,
                texts={"es": ENGLISH},
                actor=self.nurse,
            )
        self.assertFalse(Article.objects.filter(slug="y").exists())

    def test_other_staff_write_only_with_the_permission(self):
        writer = make_user("writer", User.Kind.STAFF, staff_role=User.StaffRole.CUSTOMER_SERVICE)
        with self.assertRaises(PermissionDenied):
            services.article_save(
                article=None,
                slug="walking",
                status=Status.DRAFT,
                public=False,
                texts={"en": ENGLISH},
                actor=writer,
            )
        self.sign_in(writer)
        self.assertEqual(self.client.get(reverse("library:staff_content")).status_code, 403)
        writer.user_permissions.add(Permission.objects.get(codename="edit_content"))
        writer = User.objects.get(pk=writer.pk)  # permissions are cached per instance
        self.assertTrue(services.can_edit(writer))
        self.assertEqual(self.client.get(reverse("library:staff_content")).status_code, 200)
        # A member given the permission by mistake still cannot write.
        self.alice.user_permissions.add(Permission.objects.get(codename="edit_content"))
        self.assertFalse(services.can_edit(User.objects.get(pk=self.alice.pk)))

    def test_cards_show_the_library_to_signed_in_people_and_content_to_writers(self):
        self.sign_in(self.alice)
        home = self.client.get(reverse("front:home"))
        self.assertIn("library/home_cards.html", home.context["card_templates"])
        self.assertContains(home, reverse("library:mine"))
        self.sign_in(self.nurse)
        self.assertContains(
            self.client.get(reverse("front:staff_home")), reverse("library:staff_content")
        )
        self.sign_in(self.representative)
        self.assertNotContains(
            self.client.get(reverse("front:staff_home")), reverse("library:staff_content")
        )
