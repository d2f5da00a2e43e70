"""Every response carries the security headers, from every route of the app's route table:
anonymous and signed in, every method, errors included; HEAD answers wherever GET does."""

from __future__ import annotations

import base64
import hashlib
import re
from datetime import UTC, datetime

import pytest
from litestar.testing import AsyncTestClient

from registry.app import create_app
from registry.settings import Settings
from registry.users import create_user
from registry.web.security import content_security_policy
from tests.integration.test_staff_pages import PASSWORD, login

NOW = datetime(2026, 11, 25, 2, 0, tzinfo=UTC)
SAMPLES = {
    "code": "650100-SGSJ-001",
    "window": "W1",
    "username": "li",
    "file_path": "css/site.css",
    "path": "nothing-here",
    "synonym_id": "1",
    "department": "SGSJ",
    "sha256": "0" * 64,  # /files/{sha256}/{name}: an attachment that does not exist (404)
    "name": "x.pdf",
}
EXPECTED = {
    "x-content-type-options": "nosniff",
    "referrer-policy": "strict-origin-when-cross-origin",
    "x-frame-options": "DENY",
}


def concrete(path: str) -> str:
    return re.sub(r"\{(\w+):\w+\}", lambda m: SAMPLES[m.group(1)], path)


def check(response, where: str) -> None:
    headers = response.headers
    for name, value in EXPECTED.items():
        assert headers.get(name) == value, (where, name, dict(headers))
    csp = headers.get("content-security-policy", "")
    assert "frame-ancestors 'none'" in csp, where
    assert "default-src 'self'" in csp and "script-src 'self'" in csp, where
    assert "unsafe-inline" not in csp and "unsafe-eval" not in csp, where
    assert "camera=()" in headers.get("permissions-policy", ""), where
    assert "strict-transport-security" not in headers, where  # http public URL: no HSTS


def every_request(app) -> list[tuple[str, str]]:
    requests = []
    for route in app.routes:
        for method in sorted(getattr(route, "methods", ())):
            requests.append((method, concrete(route.path)))
    return requests


@pytest.fixture
async def admin(small_db):
    await create_user("root", role="admin", password=PASSWORD, now=NOW)
    await create_user("li", role="editor", password=PASSWORD, departments=["SGSJ"], now=NOW)
    return small_db


async def test_every_route_sends_the_security_headers(small_client, admin):
    requests = every_request(small_client.app)
    assert len(requests) > 100  # the whole table, not a sample
    statuses = set()
    for signed_in in (False, True):
        if signed_in:
            assert (await login(small_client, "root")).status_code in (302, 303)
        for method, path in requests:
            if path == "/logout":
                continue  # would end the session the second half of the walk needs
            response = await small_client.request(method, path, follow_redirects=False)
            statuses.add(response.status_code)
            check(response, f"{method} {path} signed_in={signed_in} -> {response.status_code}")
    # Errors too: unknown page, wrong method, bad input, refused form.
    for method, path in [("GET", "/no/such/page"), ("DELETE", "/items"), ("GET", "/items?page=x")]:
        response = await small_client.request(method, path)
        statuses.add(response.status_code)
        check(response, f"{method} {path}")
    assert {200, 400, 403, 404, 405} <= statuses, statuses
    assert not [s for s in statuses if s >= 500], statuses


async def test_head_answers_wherever_get_does(small_client, admin):
    for method, path in every_request(small_client.app):
        if method != "GET" or path.startswith("/staff"):
            continue
        got = await small_client.get(path, follow_redirects=False)
        head = await small_client.head(path, follow_redirects=False)
        assert head.status_code == got.status_code, path
        assert head.content == b"", path
        assert head.headers.get("content-type") == got.headers.get("content-type"), path
        check(head, f"HEAD {path}")


async def test_hsts_when_the_public_url_is_https(small_db):
    settings = Settings(
        database_url="sqlite:///unused",
        public_url="https://zwfw.example.cn",
        state_dir=small_db.settings.state_dir,
        publish_interval=0,
    )
    app = create_app(settings, engine=small_db.engine, pool=False)
    async with AsyncTestClient(app=app) as client:
        for path in ("/", "/no/such/page", "/api/items"):
            response = await client.get(path)
            assert response.headers["strict-transport-security"].startswith("max-age=31536000"), path


async def test_the_print_page_inline_style_is_allowed_by_its_hash_only(small_client):
    first = await small_client.get(f"/g/{SAMPLES['code']}/print")
    style = re.search(r"<style>(.*?)</style>", first.text, re.DOTALL).group(1)
    digest = base64.b64encode(hashlib.sha256(style.encode("utf-8")).digest()).decode("ascii")
    assert f"'sha256-{digest}'" in first.headers["content-security-policy"]
    again = await small_client.get(f"/g/{SAMPLES['code']}/print")  # served from the cache
    assert again.headers["content-security-policy"] == first.headers["content-security-policy"]
    home = await small_client.get("/")
    assert "sha256-" not in home.headers["content-security-policy"]
    assert "'unsafe-inline'" not in content_security_policy(("sha256-x",))
