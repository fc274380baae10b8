"""The navigation leads a signed-in person to their secure inbox."""

from django.urls import reverse

from haven.testing.people import HavenTestCase


class NavigationTests(HavenTestCase):
    def test_signed_in_people_see_the_inbox_link_marked_when_they_are_there(self):
        for user in (self.alice, self.nurse, self.maria):
            with self.subTest(user=user.username):
                self.sign_in(user)
                response = self.client.get(reverse("messaging:inbox"))
                self.assertContains(
                    response, f'<a href="{reverse("messaging:inbox")}" aria-current="page">'
                )

    def test_visitors_see_no_inbox_link(self):
        self.assertNotContains(self.client.get(reverse("front:home")), reverse("messaging:inbox"))
