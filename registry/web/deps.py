"""Shared objects for the web layer."""

from __future__ import annotations

from functools import lru_cache

from registry.workdays import Calendar


@lru_cache(maxsize=1)
def calendar() -> Calendar:
    """The working-day calendar (seeds/calendar_overrides.toml), loaded once per process."""
    return Calendar.load()
