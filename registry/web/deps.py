"""Shared objects for the web layer."""

from __future__ import annotations

from datetime import datetime
from functools import lru_cache

from litestar.connection import ASGIConnection

from registry.workdays import Calendar


@lru_cache(maxsize=1)
def calendar() -> Calendar:
    """The working-day calendar (seeds/calendar_overrides.toml), loaded once per process."""
    return Calendar.load()


def now(connection: ASGIConnection) -> datetime:
    """The current time from the app's clock (create_app(clock=…); tests inject one)."""
    return connection.app.state.clock()
