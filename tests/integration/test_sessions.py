"""Sessions in the database: fresh ids at login, unknown ids refused, nothing stored for anonymous
visitors, expired rows cleaned; an atomic login throttle; password change; token revocation."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

import pytest
from litestar.testing import AsyncTestClient

from registry import sessions
from registry.app import create_app
from registry.tables import ApiToken, LoginThrottle, StaffSession
from registry.users import actor_for_token, create_token, create_user, list_tokens, revoke_token
from tests.integration.test_staff_pages import PASSWORD, csrf, login

NOW = datetime(2026, 11, 25, 2, 0, tzinfo=UTC)
ATTACKER_ID = "attacker-chosen-id-123"


@pytest.fixture
async def people(small_db):
    await create_user("li", role="editor", password=PASSWORD, departments=["SGSJ"], now=NOW)
    return small_db


def session_cookie(response) -> str:
    found = [c for c in response.headers.get_list("set-cookie") if c.startswith("onetrip_session=")]
    assert len(found) == 1, response.headers.get_list("set-cookie")
    return found[0].split(";", 1)[0].split("=", 1)[1]


async def signed_in(client, cookie: str) -> bool:
    client.cookies.set("onetrip_session", cookie)
    response = await client.get("/staff/", follow_redirects=False)
    return response.status_code == 200


async def test_an_attacker_chosen_id_is_replaced_at_login_and_never_valid(small_client, people):
    small_client.cookies.set("onetrip_session", ATTACKER_ID)
    response = await login(small_client, "li")
    assert response.status_code in (302, 303)
    issued = session_cookie(response)
    assert issued != ATTACKER_ID and len(issued) >= 40
    app = create_app(people.settings, engine=people.engine, pool=False)
    async with AsyncTestClient(app=app) as attacker:
        assert not await signed_in(attacker, ATTACKER_ID)
        assert await signed_in(attacker, issued)  # the real id works from anywhere (shared store)


async def test_a_second_login_gets_a_new_id_and_ends_the_old_one(small_client, people):
    first = session_cookie(await login(small_client, "li"))
    second = session_cookie(await login(small_client, "li"))
    assert first != second
    assert not await signed_in(small_client, first)
    assert await signed_in(small_client, second)


async def test_logout_ends_the_session(small_client, people):
    cookie = session_cookie(await login(small_client, "li"))
    page = await small_client.get("/staff/")
    out = await small_client.post("/logout", data={"_csrf_token": csrf(page)}, follow_redirects=False)
    assert out.status_code in (302, 303)
    assert session_cookie(out) in ("", '""')  # the browser is told to drop it
    assert await StaffSession.count() == 0
    assert not await signed_in(small_client, cookie)


async def test_anonymous_visitors_get_no_stored_session(small_client, people):
    for path in ("/", "/login", "/staff/", "/staff/board", "/g/650100-SGSJ-001"):
        response = await small_client.get(path, follow_redirects=False)
        assert not [c for c in response.headers.get_list("set-cookie") if "onetrip_session" in c], path
    failed = await login(small_client, "li", "wrong password")  # the login form's CSRF still works
    assert failed.status_code == 400
    assert await StaffSession.count() == 0


async def test_expired_sessions_are_refused_and_cleaned(people):
    old = await sessions.create_session(1, now=NOW - timedelta(days=2))
    live = await sessions.create_session(1, now=NOW)
    assert await sessions.session_user(old, now=NOW) is None
    assert await sessions.session_user(live, now=NOW) == 1
    await sessions.clean_expired(now=NOW)
    assert await StaffSession.count() == 1


async def test_concurrent_attempts_are_counted_exactly(people):
    counts = await asyncio.gather(*(sessions.count_attempt("k", now=NOW) for _ in range(50)))
    assert sorted(counts) == list(range(1, 51))
    later = NOW + timedelta(seconds=sessions.THROTTLE_SECONDS)
    assert await sessions.count_attempt("k", now=later) == 1  # a new window


async def test_a_burst_of_100_wrong_passwords_is_throttled_after_exactly_the_allowed_number(
    small_client, people
):
    page = await small_client.get("/login")
    token = csrf(page)

    async def guess(i: int) -> int:
        response = await small_client.post(
            "/login",
            data={"username": "li", "password": f"wrong {i}", "next": "/staff", "_csrf_token": token},
            headers={"X-Forwarded-For": f"10.0.{i // 250}.{i % 250}"},  # not believed
        )
        return response.status_code

    statuses = await asyncio.gather(*(guess(i) for i in range(100)))
    allowed = people.settings.login_attempts
    assert statuses.count(400) == allowed, statuses
    assert statuses.count(429) == 100 - allowed, statuses
    assert (await LoginThrottle.select(LoginThrottle.failures).first())["failures"] == 100


async def test_a_user_changes_their_password_and_other_sessions_end(small_client, people):
    elsewhere = session_cookie(await login(small_client, "li"))
    here = session_cookie(await login(small_client, "li"))
    assert elsewhere != here
    # re-create the "elsewhere" session: the second login ended the first one
    elsewhere = await sessions.create_session(
        (await StaffSession.select(StaffSession.user).first())["user"], now=datetime.now(UTC)
    )
    small_client.cookies.set("onetrip_session", here)
    page = await small_client.get("/staff/password")
    assert page.status_code == 200
    wrong = await small_client.post(
        "/staff/password",
        data={"_csrf_token": csrf(page), "current": "nope", "new": "a new password!", "confirm": "x"},
    )
    assert wrong.status_code == 400 and "当前密码不正确" in wrong.text
    short = await small_client.post(
        "/staff/password",
        data={"_csrf_token": csrf(page), "current": PASSWORD, "new": "short", "confirm": "short"},
    )
    assert short.status_code == 400 and "至少 10 位" in short.text
    done = await small_client.post(
        "/staff/password",
        data={
            "_csrf_token": csrf(page),
            "current": PASSWORD,
            "new": "a new password!",
            "confirm": "a new password!",
        },
        follow_redirects=False,
    )
    assert done.status_code in (302, 303)
    assert await signed_in(small_client, here)
    assert not await signed_in(small_client, elsewhere)
    small_client.cookies.clear()
    assert (await login(small_client, "li")).status_code == 400
    assert (await login(small_client, "li", "a new password!")).status_code in (302, 303)


async def test_a_revoked_token_fails_at_once(small_client, people):
    token = await create_token("li", name="sync", now=NOW)
    headers = {"Authorization": f"Bearer {token}"}
    url = "/api/items/650100-SGSJ-001/draft/submit"
    assert (await small_client.post(url, json=[], headers=headers)).status_code == 400  # past the guard
    (listed,) = await list_tokens("li")
    assert listed["name"] == "sync" and listed["revoked"] is False
    await revoke_token(listed["id"])
    assert (await small_client.post(url, json=[], headers=headers)).status_code == 401
    assert await actor_for_token(token) is None
    assert (await ApiToken.select(ApiToken.revoked).first())["revoked"] is True
