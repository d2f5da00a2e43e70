"""A live server over the seeded registry (SQLite) and headless Chromium (Debian's package).

Without /usr/bin/chromium the browser tests skip — except with CI=true, where that is a failure.
"""

from __future__ import annotations

import shutil
import socket
import threading
import time
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
import uvicorn
from piccolo.engine.sqlite import SQLiteEngine

from registry.app import create_app
from registry.settings import Settings
from tests.conftest import IN_CI

CHROMIUM = Path("/usr/bin/chromium")
ARTIFACTS = Path(__file__).resolve().parent.parent / "artifacts"


@pytest.fixture
def live_server(templates, tmp_path) -> Iterator[str]:
    path = tmp_path / "live.sqlite"
    shutil.copyfile(templates.get("sqlite", "real"), path)
    settings = Settings(database_url=f"sqlite:///{path}", state_dir=str(tmp_path), publish_interval=0)
    app = create_app(settings, engine=SQLiteEngine(path=str(path), timeout=60))
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(app, log_level="warning"))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 15
    while not server.started:
        if time.monotonic() > deadline:
            pytest.fail("live server did not start")
        time.sleep(0.05)
    yield f"http://127.0.0.1:{port}"
    server.should_exit = True
    thread.join(timeout=10)


@pytest.fixture
def chromium() -> Path:
    if not CHROMIUM.exists():
        if IN_CI:
            pytest.fail("CI=true but /usr/bin/chromium is missing (make test installs it as root)")
        pytest.skip("no /usr/bin/chromium")
    return CHROMIUM


@pytest.fixture
async def browser(chromium: Path) -> AsyncIterator[object]:
    from playwright.async_api import async_playwright

    async with async_playwright() as p:
        b = await p.chromium.launch(
            executable_path=str(chromium),
            headless=True,
            args=[
                "--no-sandbox",
                "--disable-gpu",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
            ],
        )
        try:
            yield b
        finally:
            await b.close()


@pytest.fixture
def artifacts() -> Path:
    ARTIFACTS.mkdir(exist_ok=True)
    return ARTIFACTS
