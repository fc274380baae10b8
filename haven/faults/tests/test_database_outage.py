"""The database stopped and restarted under traffic: a clear error page, no half-written request,
full service again afterwards, without restarting Haven.

Haven runs as a real server process (`haven runserver --noreload`, DEBUG off) against a throwaway
PostgreSQL database reached through a TCP proxy the test controls (proxy.py): cutting the proxy
is, for this Haven, the database going away, while the shared PostgreSQL server keeps serving
the other tests. The registration of a consumer (ACC-3) is cut in the middle of its transaction,
after the account's row was sent and before its profile's.
"""

import re
import textwrap
from urllib.parse import urlsplit

import httpx
import pytest

from haven.faults.tests.deployment import free_port, wait_for
from haven.faults.tests.proxy import DatabaseProxy

pytestmark = [pytest.mark.django_db, pytest.mark.postgres]

PASSWORD = "a long and unusual passphrase 42"
CLEAR_PAGE = "Something went wrong on our side"
DETAILS = ("Traceback", "OperationalError", "psycopg", "Exception", "SELECT", "INSERT", "5432")

ROWS = textwrap.dedent(
    """
    import json
    from haven.accounts.models import ConsumerProfile, User
    print(json.dumps({
        "users": list(User.objects.values_list("username", flat=True)),
        "profiles": ConsumerProfile.objects.count(),
    }))
    """
)


def registration(username: str) -> dict:
    return {
        "first_name": "Dana",
        "last_name": "Whitfield",
        "adult": "on",
        "email": f"{username}@example.org",
        "phone": "+1 860 555 0199",
        "address_line": "12 Elm Street",
        "city": "Hartford",
        "region": "CT",
        "postal_code": "06103",
        "insurance_carrier": "Evergreen Mutual",
        "insurance_plan": "Evergreen Silver",
        "username": username,
        "password1": PASSWORD,
        "password2": PASSWORD,
    }


def csrf_token(page: httpx.Response) -> str:
    return re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page.text).group(1)


def assert_clear_error_page(response: httpx.Response) -> None:
    assert response.status_code in (500, 503), response.status_code
    assert CLEAR_PAGE in response.text
    for detail in DETAILS:
        assert detail not in response.text, detail


@pytest.fixture
def proxied_haven(request, deployment_factory):
    """Haven's server process whose only way to its database is through a proxy we can cut.

    Parametrised indirectly with ("threads" or "one thread", DB_CONN_MAX_AGE): runserver gives
    each request a thread (and so a fresh connection); with --nothreading one connection
    lives across requests, as in a production worker with persistent connections.
    """
    threads, max_age = getattr(request, "param", ("threads", "0"))
    haven = deployment_factory(DB_CONN_MAX_AGE=max_age)
    address = urlsplit(haven.database_url)
    proxy = DatabaseProxy((address.hostname, address.port or 5432))
    through_proxy = (
        f"postgres://{address.username or 'postgres'}"
        f"{':' + address.password if address.password else ''}"
        f"@127.0.0.1:{proxy.port}{address.path}?sslmode=disable"
    )
    port = free_port()
    options = ["--noreload"] + (["--nothreading"] if threads == "one thread" else [])
    server = haven.start("runserver", *options, f"127.0.0.1:{port}", DATABASE_URL=through_proxy)
    base = f"http://127.0.0.1:{port}"

    def up():
        try:
            return httpx.get(f"{base}/accounts/register/consumer/", timeout=5).status_code == 200
        except httpx.HTTPError:
            return server.poll() is not None and pytest.fail(haven.log(server))

    wait_for(up, timeout=40, interval=0.3, what="Haven's server to answer")
    yield haven, proxy, base
    haven.kill(server)
    proxy.close()


@pytest.mark.parametrize(
    "proxied_haven", [("threads", "0"), ("one thread", "60")], indirect=True, ids=str
)
def test_a_database_outage_shows_a_clear_page_writes_nothing_half_and_service_comes_back(
    proxied_haven,
):
    haven, proxy, base = proxied_haven
    page_url = f"{base}/accounts/register/consumer/"
    with httpx.Client(base_url=base, timeout=20) as browser:
        form = browser.get(page_url)
        assert form.status_code == 200
        assert browser.get("/library/").status_code == 200  # a page that reads the database

        # The database goes away in the middle of the registration's transaction: the account's
        # row has reached PostgreSQL, the profile's never does.
        proxy.cut_when(b'INSERT INTO "accounts_consumerprofile"')
        cut = browser.post(
            page_url, data=registration("dana") | {"csrfmiddlewaretoken": csrf_token(form)}
        )
        assert proxy.tripped.is_set(), "the registration never reached its second insert"
        assert_clear_error_page(cut)

        # While it is down, pages answer with the same clear page, not a hang or a traceback.
        assert_clear_error_page(browser.get("/library/"))
        assert_clear_error_page(browser.get("/library/"))

        proxy.restore()
        # Nothing half-written: neither the account nor its profile.
        assert haven.shell(ROWS) == {"users": [], "profiles": 0}

        # Full service again, from the same server process, from the first request on.
        assert browser.get("/library/").status_code == 200
        form = browser.get(page_url)
        done = browser.post(
            page_url, data=registration("dana") | {"csrfmiddlewaretoken": csrf_token(form)}
        )
        assert done.status_code == 302, done.text[:2000]
    assert haven.shell(ROWS) == {"users": ["dana"], "profiles": 1}


@pytest.mark.parametrize("proxied_haven", [("one thread", "60")], indirect=True, ids=str)
def test_a_database_restarted_between_requests_is_not_noticed_by_the_next_request(proxied_haven):
    """The kept connection died while idle (a restart at night): the next visitor gets the page.

    Needs CONN_HEALTH_CHECKS with persistent connections, which haven/settings.py sets (without
    it this request answers 500).
    """
    _haven, proxy, base = proxied_haven
    with httpx.Client(base_url=base, timeout=20) as browser:
        assert browser.get("/library/").status_code == 200
        proxy.cut()
        proxy.restore()
        assert browser.get("/library/").status_code == 200
