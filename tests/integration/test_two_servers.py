"""Stateless app servers: two `onetrip serve` processes (one of them with --workers 2) on one
PostgreSQL database share sessions, the login throttle and publications."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime

import pytest
import requests
from bs4 import BeautifulSoup

from registry.settings import PROJECT_ROOT
from registry.users import create_token, create_user

NOW = datetime(2026, 11, 25, 2, 0, tzinfo=UTC)
CODE = "650100-SGSJ-001"
PASSWORD = "correct horse battery"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start(database_url: str, state_dir, *extra: str) -> tuple[subprocess.Popen, str]:
    port = free_port()
    env = {
        **os.environ,
        "ONETRIP_DATABASE_URL": database_url,
        "ONETRIP_STATE_DIR": str(state_dir),
        "ONETRIP_SECRET": "shared-by-every-server-of-this-installation",
        "ONETRIP_PUBLISH_INTERVAL": "0",
    }
    process = subprocess.Popen(
        [sys.executable, "-m", "registry", "serve", "--host", "127.0.0.1", "--port", str(port), *extra],
        env=env,
        cwd=PROJECT_ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    return process, f"http://127.0.0.1:{port}"


def wait_until_up(base: str, process: subprocess.Popen) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        assert process.poll() is None, process.stderr.read().decode()[-2000:]
        try:
            if requests.get(f"{base}/healthz", timeout=2).status_code == 200:
                return
        except requests.ConnectionError:
            pass
        time.sleep(0.2)
    pytest.fail(f"{base} did not start")


def csrf_of(session: requests.Session, base: str) -> str:
    page = session.get(f"{base}/login", timeout=10)
    return BeautifulSoup(page.text, "html.parser").select_one("input[name=_csrf_token]")["value"]


def login(session: requests.Session, base: str, token: str, username: str, password: str) -> int:
    data = {"username": username, "password": password, "next": "/staff", "_csrf_token": token}
    return session.post(f"{base}/login", data=data, allow_redirects=False, timeout=30).status_code


@pytest.fixture
def servers(small_db, tmp_path):
    started = [start(small_db.settings.database_url, tmp_path, "--workers", "2")]
    started.append(start(small_db.settings.database_url, tmp_path))
    try:
        for process, base in started:
            wait_until_up(base, process)
        yield [base for _process, base in started]
    finally:
        for process, _base in started:
            process.terminate()
        for process, _base in started:
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                process.kill()


@pytest.fixture
async def people(small_db):
    await create_user("li", role="editor", password=PASSWORD, departments=["SGSJ"], now=NOW)
    await create_user("zhao", role="reviewer", password=PASSWORD, now=NOW)
    return {
        "editor": {"Authorization": f"Bearer {await create_token('li', now=NOW)}"},
        "reviewer": {"Authorization": f"Bearer {await create_token('zhao', now=NOW)}"},
    }


# Several app servers share one PostgreSQL (SQLite is the single-server installation): only that runs.
@pytest.mark.parametrize("small_db", ["postgres"], indirect=True)
def test_two_servers_share_sessions_throttle_and_publications(people, servers, small_db):
    a, b = servers
    browser = requests.Session()
    token = csrf_of(browser, a)
    assert login(browser, a, token, "li", PASSWORD) in (302, 303)
    # the session made on A is valid on B
    assert browser.get(f"{b}/staff/", allow_redirects=False, timeout=10).status_code == 200
    # an id neither server issued is refused by both
    stranger = requests.Session()
    stranger.cookies.set("onetrip_session", "attacker-chosen-id-123")
    for base in (a, b):
        assert stranger.get(f"{base}/staff/", allow_redirects=False, timeout=10).status_code in (302, 303)

    # 20 wrong passwords at once, half to each server: throttled after exactly the allowed number
    guesser = requests.Session()
    token = csrf_of(guesser, a)

    def guess(i: int) -> int:
        s = requests.Session()
        s.cookies.update(guesser.cookies)
        return login(s, (a, b)[i % 2], token, "zhao", f"wrong {i}")

    with ThreadPoolExecutor(20) as pool:
        statuses = list(pool.map(guess, range(20)))
    allowed = small_db.settings.login_attempts
    assert statuses.count(400) == allowed, statuses
    assert statuses.count(429) == 20 - allowed, statuses
    assert login(guesser, b, token, "zhao", PASSWORD) == 429  # even the right password, anywhere

    # a publication through A shows on B at once
    body = requests.get(f"{a}/api/items/{CODE}", timeout=10).json()
    body["promised_days"] = 2
    saved = requests.put(f"{a}/api/items/{CODE}/draft", json=body, headers=people["editor"], timeout=30)
    assert saved.status_code == 200, saved.text
    url = f"{a}/api/items/{CODE}/draft"
    submitted = requests.post(f"{url}/submit", json={"change_note": "压缩时限"}, headers=people["editor"])
    assert submitted.status_code == 200, submitted.text
    approved = requests.post(f"{url}/approve", json={}, headers=people["reviewer"], timeout=30)
    assert approved.json()["status"] == "published", approved.text
    shown = requests.get(f"{b}/api/items/{CODE}", timeout=10).json()
    assert (shown["version"], shown["promised_days"]) == (2, 2)
