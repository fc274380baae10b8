"""Locust users for bench/load.py: members, staff and API clients (not run by `make bench` alone).

bench/load.py prepares the database and names the accounts in a JSON file given by
HAVEN_LOAD_ACCOUNTS: each locust user takes an account of its own, so no two users share a
session or a second-factor code.
"""

import hashlib
import hmac
import itertools
import json
import os
import re
import struct
import time

import gevent
from locust import HttpUser, between, events, task

if os.environ.get("HAVEN_LOAD_ACCOUNTS"):
    ACCOUNTS = json.loads(open(os.environ["HAVEN_LOAD_ACCOUNTS"], encoding="utf-8").read())
else:  # imported outside bench/load.py (`make bench` runs every bench/*.py)
    ACCOUNTS = {"password": "", "members": [], "staff": []}
PASSWORD = ACCOUNTS["password"]
_members = itertools.cycle(ACCOUNTS["members"] or [{}])
_staff = iter(ACCOUNTS["staff"])
CSRF = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"')


def totp(hex_key: str, step: int = 30, digits: int = 6) -> str:
    """RFC 6238, as the staff member's authenticator app computes it (django-otp's defaults)."""
    counter = struct.pack(">Q", int(time.time()) // step)
    digest = hmac.new(bytes.fromhex(hex_key), counter, hashlib.sha1).digest()
    offset = digest[-1] & 0x0F
    value = struct.unpack(">I", digest[offset : offset + 4])[0] & 0x7FFFFFFF
    return f"{value % 10**digits:0{digits}d}"


@events.test_start.add_listener
def measure_after_warmup(environment, **_kwargs):
    """After HAVEN_LOAD_WARMUP seconds (every user started and signed in), keep what the warm-up
    measured in HAVEN_LOAD_WARMUP_FILE and start the figures again: the rest is steady state."""
    warmup = float(os.environ.get("HAVEN_LOAD_WARMUP", "0"))
    if warmup <= 0:
        return

    def reset():
        gevent.sleep(warmup)
        stats = environment.stats
        entries = {f"{method} {name}": entry for (name, method), entry in stats.entries.items()}
        entries["Aggregated"] = stats.total
        snapshot = {
            key: {
                "requests": entry.num_requests,
                "failures": entry.num_failures,
                "p50": entry.get_response_time_percentile(0.5),
                "p95": entry.get_response_time_percentile(0.95),
                "p99": entry.get_response_time_percentile(0.99),
            }
            for key, entry in entries.items()
        }
        with open(os.environ["HAVEN_LOAD_WARMUP_FILE"], "w", encoding="utf-8") as out:
            json.dump(snapshot, out)
        stats.reset_all()

    gevent.spawn(reset)


class SignedIn(HttpUser):
    abstract = True
    wait_time = between(1, 3)

    def post_form(self, url: str, data: dict, name: str):
        page = self.client.get(url, name=f"{name}: form")
        found = CSRF.search(page.text)
        if not found:
            raise RuntimeError(f"no CSRF token on {url}: {page.status_code}")
        return self.client.post(url, {**data, "csrfmiddlewaretoken": found.group(1)}, name=name)

    def page(self, url: str, name: str, expect: str | None = None):
        with self.client.get(url, name=name, catch_response=True, allow_redirects=False) as r:
            if r.status_code != 200:
                r.failure(f"{r.status_code}")
            elif expect and expect not in r.text:
                r.failure(f"{expect!r} missing")


class MemberUser(SignedIn):
    weight = 7

    def on_start(self):
        self.account = next(_members)
        response = self.post_form(
            "/accounts/login/",
            {"username": self.account["username"], "password": PASSWORD},
            "sign in (member)",
        )
        if "/accounts/login/" in response.url:
            raise RuntimeError(f"member sign-in failed for {self.account['username']}")

    @task(3)
    def home(self):
        self.page("/", "home (member)")

    @task(3)
    def inbox(self):
        self.page("/messages/", "messages inbox")

    @task(2)
    def conversation(self):
        pk = self.account["conversations"][int(time.time() * 1000) % 5]
        self.page(f"/messages/{pk}/", "message conversation")

    @task(2)
    def plan(self):
        self.page("/plans/", "plan")

    @task(2)
    def claims(self):
        self.page("/plans/claims/", "claims")


class StaffUser(SignedIn):
    weight = 2

    def on_start(self):
        self.account = next(_staff)
        self.post_form(
            "/accounts/login/",
            {"username": self.account["username"], "password": PASSWORD},
            "sign in (staff)",
        )
        response = self.post_form(
            "/accounts/two-factor/", {"otp_token": totp(self.account["totp_key"])}, "two-factor"
        )
        if "two-factor" in response.url:
            raise RuntimeError(f"second factor refused for {self.account['username']}")

    @task(2)
    def workspace(self):
        self.page("/staff/", "staff workspace")

    @task(2)
    def queue(self):
        self.page("/messages/queue/", "staff message queue")

    @task(3)
    def record(self):
        pk = self.account["members"][int(time.time() * 1000) % len(self.account["members"])]
        self.page(f"/records/{pk}/?purpose=treatment", "member record (staff, audited)")


class ApiClient(HttpUser):
    weight = 1
    wait_time = between(1, 3)

    @task(1)
    def metadata(self):
        self.client.get("/fhir/metadata", name="FHIR metadata")

    @task(3)
    def directory(self):
        self.client.get("/fhir/Practitioner?name=son", name="FHIR provider directory")


if __name__ == "__main__":
    print("bench/locustfile.py is run by locust from bench/load.py: nothing to do on its own")
