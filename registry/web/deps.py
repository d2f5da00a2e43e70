"""Shared objects for the web layer."""

from __future__ import annotations

from datetime import datetime

from litestar.connection import ASGIConnection

from registry.workdays import Calendar, default_calendar


def calendar() -> Calendar:
    """The working-day calendar, loaded once per process (registry.workdays.default_calendar)."""
    return default_calendar()


def now(connection: ASGIConnection) -> datetime:
    """The current time from the app's clock (create_app(clock=…); tests inject one)."""
    return connection.app.state.clock()
