"""The write path under real concurrency, on both databases.

A real `onetrip serve` process answers requests fired together from separate HTTP connections
(and `onetrip publish-due` runs as separate processes), so every transaction is on its own
database connection, as in production. Each test states the exact expected counts. The long
form (more requests, more rounds) is `make bench-concurrency`.
"""

from __future__ import annotations

import asyncio
import os
import socket
import sys
from collections import Counter
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, date, datetime

import httpx
import pytest

from guides.clock import system_now
from guides.snapshot import replace
from registry.access import Actor
from registry.changelog import verify_log
from registry.editions import commands, store
from registry.settings import PROJECT_ROOT
from registry.tables import ChangeRecord, Department, Edition, Role, User, UserDepartment
from registry.users import create_token
from registry.workdays import Calendar

CODE = "650100-SGSJ-001"
DEPARTMENT = "SGSJ"
ROUNDS = int(os.environ.get("ONETRIP_CONCURRENCY_ROUNDS", "1"))  # bench raises it


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@dataclass
class Server:
    url: str
    env: dict[str, str]


@pytest.fixture
async def server(seeded_db, tmp_path) -> AsyncIterator[Server]:
    """`onetrip serve` in its own process, on the test's database."""
    port = _free_port()
    env = {
        **os.environ,
        "ONETRIP_DATABASE_URL": seeded_db.settings.database_url,
        "ONETRIP_STATE_DIR": str(tmp_path / "state"),
        "ONETRIP_PUBLISH_INTERVAL": "0",
        "PYTHONPATH": str(PROJECT_ROOT),
    }
    proc = await asyncio.create_subprocess_exec(
        *(sys.executable, "-m", "registry", "serve", "--host", "127.0.0.1", "--port", str(port)),
        env=env,
        cwd=PROJECT_ROOT,
        stdout=asyncio.subprocess.DEVNULL,
        stderr=asyncio.subprocess.PIPE,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        async with httpx.AsyncClient() as client:
            for _ in range(150):
                try:
                    if (await client.get(f"{url}/healthz")).status_code == 200:
                        break
                except httpx.TransportError:
                    pass
                if proc.returncode is not None:
                    pytest.fail(f"server exited: {(await proc.stderr.read()).decode()[-2000:]}")
                await asyncio.sleep(0.1)
            else:
                pytest.fail("server did not start within 15 s")
        yield Server(url, env)
    finally:
        if proc.returncode is None:
            proc.terminate()
        try:
            await asyncio.wait_for(proc.wait(), timeout=10)
        except TimeoutError:
            proc.kill()


async def _staff(prefix: str, role: str, n: int) -> list[tuple[Actor, str]]:
    """`n` staff members with API tokens (the hash is a placeholder: they never log in)."""
    people = []
    for i in range(n):
        name = f"{prefix}{i}"
        (row,) = await User.insert(
            User(username=name, display_name=name, role=role, password_hash="-", created_at=system_now())
        ).returning(User.id)
        departments: frozenset[str] = frozenset()
        if role == Role.editor:
            dept = await Department.select(Department.id).where(Department.code == DEPARTMENT).first()
            await UserDepartment.insert(UserDepartment(user=row["id"], department=dept["id"]))
            departments = frozenset({DEPARTMENT})
        token = await create_token(name, now=system_now())
        people.append((Actor(row["id"], name, role, departments), token))
    return people


async def _together(requests) -> list[httpx.Response]:
    """Fire every request at once, each on its own connection."""

    async def one(method: str, url: str, token: str, body: dict) -> httpx.Response:
        async with httpx.AsyncClient(timeout=60) as client:
            return await client.request(method, url, json=body, headers={"Authorization": f"Bearer {token}"})

    return await asyncio.gather(*(one(*r) for r in requests))


async def _content_of(code: str):
    item = await store.item_row(code)
    return await store.edition_content(item["current_edition"])


async def test_ten_simultaneous_approvals_publish_once(server):
    ((editor, _token),) = await _staff("ed", Role.editor, 1)
    reviewers = await _staff("rv", Role.reviewer, 10)
    now = system_now()
    content = replace(await _content_of(CODE), promised_days=1)
    await commands.save_draft(editor, CODE, content, base_lock_version=None, now=now)
    draft = await commands.submit(editor, CODE, change_note="压缩时限", effective_at=None, now=now)

    url = f"{server.url}/api/items/{CODE}/draft/approve"
    responses = await _together([("POST", url, token, {}) for _actor, token in reviewers])

    statuses = Counter(r.status_code for r in responses)
    assert statuses == {200: 1, 409: 9}, [r.text for r in responses]
    refused = [r.json()["error"]["message"] for r in responses if r.status_code == 409]
    assert all("没有待审核的版本" in m for m in refused)
    records = await ChangeRecord.select().where(ChangeRecord.item_code == CODE).order_by(ChangeRecord.seq)
    assert [r["version_after"] for r in records] == [1, draft["version"]]  # the seed, then one change
    assert (await verify_log()).ok


async def test_five_simultaneous_first_saves_make_one_draft(server):
    editors = await _staff("ed", Role.editor, 5)
    guide = (await httpx.AsyncClient().get(f"{server.url}/api/items/{CODE}")).json()
    url = f"{server.url}/api/items/{CODE}/draft"
    bodies = [{**guide, "promised_days": i} for i in range(5)]
    responses = await _together(
        [("PUT", url, token, body) for (_a, token), body in zip(editors, bodies, strict=True)]
    )

    assert Counter(r.status_code for r in responses) == {200: 1, 409: 4}, [r.text for r in responses]
    saved = next(r.json() for r in responses if r.status_code == 200)
    item = await store.item_row(CODE)
    drafts = await Edition.select().where((Edition.item == item["id"]) & (Edition.status == "draft"))
    assert len(drafts) == 1 and drafts[0]["version"] == saved["version"] == 2
    assert all(r.json()["error"]["current_lock_version"] == 1 for r in responses if r.status_code == 409)


async def test_concurrent_publish_due_runs_publish_each_edition_once(server, seeded_db):
    ((editor, _t),) = await _staff("ed", Role.editor, 1)
    ((reviewer, _t2),) = await _staff("rv", Role.reviewer, 1)
    codes = [f"650100-SGSJ-00{i}" for i in (1, 2, 3)]
    calendar = Calendar.load()
    past = datetime(2026, 1, 5, 2, 0, tzinfo=UTC)
    for i, code in enumerate(codes):
        content = replace(await _content_of(code), promised_days=1)
        await commands.save_draft(editor, code, content, base_lock_version=None, now=past)
        await commands.submit(editor, code, change_note="调整", effective_at=None, now=past)
        if i == 0:  # a publication that failed: approved, not held, not public
            await commands.approve(reviewer, code, effective_at=None, now=past, calendar=calendar, hold=True)
            await Edition.update({Edition.held: False}).where(Edition.status == "approved")
        else:  # announced in January, in force since June: due to become current
            await commands.approve(reviewer, code, effective_at=date(2026, 6, 1), now=past, calendar=calendar)
    assert await Edition.count().where(Edition.status == "scheduled") == 2

    procs = [
        await asyncio.create_subprocess_exec(
            *(sys.executable, "-m", "registry", "publish-due", "--verbose"),
            env=server.env,
            cwd=PROJECT_ROOT,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
        )
        for _ in range(4)
    ]
    done = await asyncio.wait_for(asyncio.gather(*(p.communicate() for p in procs)), timeout=120)
    outputs = [(out.decode(), err.decode()) for out, err in done]
    assert [p.returncode for p in procs] == [0, 0, 0, 0], outputs

    published = await Edition.select(Edition.item.code, Edition.status).where(
        Edition.item.code.is_in(codes) & (Edition.version == 2)
    )
    assert sorted((r["item.code"], r["status"]) for r in published) == [(c, "published") for c in codes]
    records = await ChangeRecord.select(ChangeRecord.item_code).where(
        ChangeRecord.item_code.is_in(codes) & (ChangeRecord.version_after == 2)
    )
    assert Counter(r["item_code"] for r in records) == {codes[0]: 1, codes[1]: 1, codes[2]: 1}
    # Across the four runs, one published the failed edition and the others found nothing to do.
    said = " ".join(out for out, _err in outputs)
    assert said.count("已发布 1 项") == 1 and said.count("已发布 0 项") == 3
    assert (await verify_log()).ok


async def test_fifty_editors_lose_no_acknowledged_save(server):
    editors = await _staff("ed", Role.editor, 50)
    codes = [f"650100-SGSJ-00{i}" for i in (1, 2, 3, 4, 5)]
    guides = {}
    async with httpx.AsyncClient() as client:
        for code in codes:
            guides[code] = (await client.get(f"{server.url}/api/items/{code}")).json()
    acknowledged: dict[str, list[int]] = {code: [] for code in codes}

    async def editor_saves(index: int, token: str) -> None:
        code = codes[index % len(codes)]  # ten editors on each item, all at once
        lock = None
        async with httpx.AsyncClient(timeout=60) as client:
            for _attempt in range(60 * ROUNDS):
                body = {**guides[code], "promised_days": index % 3, "lock_version": lock}
                r = await client.put(
                    f"{server.url}/api/items/{code}/draft",
                    json=body,
                    headers={"Authorization": f"Bearer {token}"},
                )
                if r.status_code == 200:
                    acknowledged[code].append(r.json()["lock_version"])
                    return
                assert r.status_code == 409, r.text
                lock = r.json()["error"]["current_lock_version"] or None
        pytest.fail(f"editor {index} never got a save through")

    await asyncio.gather(*(editor_saves(i, token) for i, (_actor, token) in enumerate(editors)))

    for code in codes:
        # Every acknowledged save produced its own version of the draft: none overwrote another.
        assert sorted(acknowledged[code]) == list(range(1, 11)), (code, acknowledged[code])
        item = await store.item_row(code)
        draft = await store.open_edition(item["id"])
        assert draft["lock_version"] == 10
        assert len(draft["contributors"]) == 10  # four eyes: every saver is recorded
    assert sum(len(v) for v in acknowledged.values()) == 50
