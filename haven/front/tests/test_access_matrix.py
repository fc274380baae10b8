"""Every URL, as every role: exactly the answer the policy says (no IDOR, deny by default)."""

from importlib import import_module

from django.apps import apps
from django.urls import URLPattern, URLResolver, get_resolver, reverse

from haven.testing import access
from haven.testing.people import HavenTestCase


def named_urls(resolver=None, namespace="") -> set[str]:
    names = set()
    for pattern in (resolver or get_resolver()).url_patterns:
        if isinstance(pattern, URLResolver):
            inner = f"{namespace}{pattern.namespace}:" if pattern.namespace else namespace
            names |= named_urls(pattern, inner)
        elif isinstance(pattern, URLPattern) and pattern.name:
            names.add(f"{namespace}{pattern.name}")
    return names


def rules_by_app() -> dict[str, list[access.Rule]]:
    rules = {}
    for config in apps.get_app_configs():
        if config.name.startswith("haven."):
            try:
                module = import_module(f"{config.name}.tests.access_rules")
            except ModuleNotFoundError as error:
                if error.name != f"{config.name}.tests.access_rules":
                    raise
                continue
            rules[config.label] = module.RULES
    return rules


def all_rules() -> list[access.Rule]:
    return [rule for rules in rules_by_app().values() for rule in rules]


class AccessMatrixTests(HavenTestCase):
    def client_for(self, role: str):
        client = self.client_class()
        people = {
            access.MEMBER: self.alice,
            access.GUARDIAN: self.alice,
            access.SPOUSE: self.bruno,
            access.OUTSIDER: self.oscar,
            access.CAREGIVER: self.maria,
            access.CONSUMER: self.consumer,
            access.PROVIDER: self.provider,
            access.EMPLOYER: self.employer,
            access.PRODUCER: self.producer,
            access.PENDING_PRODUCER: self.pending_producer,
        } | {label: self.staff[role_value] for role_value, label in access.STAFF.items()}
        if role == access.ANONYMOUS:
            return client
        self.sign_in(people[role], client)
        if role in (access.GUARDIAN, access.CAREGIVER):
            grant = self.teo_guardian_grant if role == access.GUARDIAN else self.maria_grant
            session = client.session
            session["haven_acting_for_grant"] = grant.pk
            session.save()
        return client

    def test_every_named_url_has_a_rule(self):
        covered = {rule.url for rule in all_rules()} | set(access.EXEMPT)
        missing = sorted(named_urls() - covered)
        self.assertEqual(missing, [], "add these URLs to their app's tests/access_rules.py")

    def assert_every_role_gets_exactly_what_the_policy_says(self, rules: list[access.Rule]):
        failures = []
        for rule in rules:
            kwargs = rule.kwargs(self) if callable(rule.kwargs) else rule.kwargs
            data = rule.data(self) if callable(rule.data) else rule.data
            url = reverse(rule.url, kwargs=kwargs)
            for role in sorted(access.EVERYONE):
                # A fresh client each time: a rule (signing out, say) must not change the next one.
                client = self.client_for(role)
                response = (
                    client.generic(rule.method, url, data=None)
                    if not data
                    else (
                        client.post(url, data) if rule.method == "POST" else client.get(url, data)
                    )
                )
                status = response.status_code
                if role in rule.allow:
                    good = status in rule.ok
                elif role == access.ANONYMOUS:
                    good = status in (401, 403, 404) or (
                        status == 302 and response["Location"].startswith(reverse("accounts:login"))
                    )
                else:
                    good = status in (403, 404, 405) or (
                        status == 302
                        and response["Location"].startswith(reverse("accounts:two_factor"))
                        and role.startswith("staff:")
                    )
                if not good:
                    failures.append(f"{rule.method} {url} as {role}: {status}")
        self.maxDiff = None
        self.assertEqual(failures, [])


# One test per app, so the matrix spreads over the test workers.
for _label in rules_by_app():

    def _test(self, label=_label):
        self.assert_every_role_gets_exactly_what_the_policy_says(rules_by_app()[label])

    _test.__name__ = f"test_every_role_gets_exactly_what_the_policy_says_on_{_label}_urls"
    setattr(AccessMatrixTests, _test.__name__, _test)
