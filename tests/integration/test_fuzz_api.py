"""schemathesis against /schema/openapi.json on a live server, on both databases: anonymous and
with a staff (admin) token, schema-conforming and schema-violating input; no 5xx allowed.

CI-sized (≥ 500 cases per database, about half a minute each); `-m "not slow"` skips it."""

from __future__ import annotations

import socket
import threading
import time
from collections import Counter
from datetime import UTC, datetime

import anyio.to_thread
import pytest
import requests
import schemathesis
import uvicorn
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from schemathesis.generation.modes import GenerationMode

from registry.app import create_app
from registry.users import create_token, create_user

NOW = datetime(2026, 11, 25, 2, 0, tzinfo=UTC)
EXAMPLES = 40  # per operation and identity (anonymous / staff): 9 operations x 2 x 40 = 720 at most
MINIMUM_CASES = 500


def serve(app):
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    server = uvicorn.Server(uvicorn.Config(app, log_level="warning", lifespan="on"))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 15
    while not server.started:
        assert time.monotonic() < deadline, "server did not start"
        time.sleep(0.05)
    return server, thread, f"http://127.0.0.1:{sock.getsockname()[1]}"


def fuzz(base_url: str, token: str) -> tuple[Counter, list[str]]:
    raw = requests.get(f"{base_url}/schema/openapi.json", timeout=30).json()
    schema = schemathesis.openapi.from_dict(raw)
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) >= 9, [op.label for op in operations]
    session = requests.Session()
    counts: Counter = Counter()
    failures: list[str] = []
    for operation in operations:
        strategy = st.one_of(
            operation.as_strategy(generation_mode=GenerationMode.POSITIVE),
            operation.as_strategy(generation_mode=GenerationMode.NEGATIVE),
        )
        for who, headers in (("anonymous", {}), ("staff", {"Authorization": f"Bearer {token}"})):
            run = _runner(strategy, who, headers, base_url, session, counts, failures)
            run()
    return counts, failures


def _runner(strategy, who, headers, base_url, session, counts, failures):
    @settings(
        max_examples=EXAMPLES,
        deadline=None,
        database=None,
        derandomize=True,
        suppress_health_check=list(HealthCheck),
    )
    @given(case=strategy)
    def run(case) -> None:
        if who == "anonymous" and case.headers:
            case.headers.pop("Authorization", None)
        response = case.call(base_url=base_url, session=session, headers=headers, timeout=30)
        counts[response.status_code] += 1
        counts["cases"] += 1
        if response.status_code >= 500:
            failures.append(f"{who} {case.method} {case.formatted_path} -> {response.status_code}")

    return run


@pytest.mark.slow
async def test_schemathesis_finds_no_server_error(small_db):
    await create_user("root", role="admin", password="correct horse battery", now=NOW)
    token = await create_token("root", now=NOW)
    app = create_app(small_db.settings, engine=small_db.engine, pool=False)
    server, thread, base_url = serve(app)
    try:
        counts, failures = await anyio.to_thread.run_sync(fuzz, base_url, token)
    finally:
        server.should_exit = True
        thread.join(timeout=10)
    print(f"schemathesis on {small_db.backend}: {dict(counts)}")
    assert not failures, failures[:20]
    assert counts["cases"] >= MINIMUM_CASES, counts
    assert counts[200] and counts[400] and counts[401], counts  # it reached handlers, in every way
