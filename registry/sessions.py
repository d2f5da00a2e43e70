"""Staff sessions and login throttling, kept in the database so every app server shares them.

A session id is 32 random bytes, issued at login only; the table stores its SHA-256. An id the
server never issued (or one already ended) finds no row and is refused. The failed-login counter
is one upsert that returns the new count, so a burst of concurrent guesses is counted exactly.
"""

from __future__ import annotations

import hashlib
import secrets
from datetime import datetime

from registry.tables import LoginThrottle, StaffSession

SESSION_SECONDS = 12 * 3600
THROTTLE_SECONDS = 15 * 60


def _hash(session_id: str) -> str:
    return hashlib.sha256(session_id.encode("utf-8", "surrogatepass")).hexdigest()


def _epoch(now: datetime) -> int:
    return int(now.timestamp())


async def create_session(user_id: int, *, now: datetime) -> str:
    """A fresh session for `user_id`; returns the id for the cookie (never stored as such)."""
    session_id = secrets.token_urlsafe(32)
    await StaffSession.insert(
        StaffSession(
            id_hash=_hash(session_id),
            user=user_id,
            created_at=now,
            expires_at=_epoch(now) + SESSION_SECONDS,
        )
    )
    return session_id


async def session_user(session_id: str | None, *, now: datetime) -> int | None:
    """The user of a live session, or None (unknown, ended or expired ids alike)."""
    if not session_id or len(session_id) > 100:
        return None
    row = (
        await StaffSession.select(StaffSession.user)
        .where((StaffSession.id_hash == _hash(session_id)) & (StaffSession.expires_at > _epoch(now)))
        .first()
    )
    return row["user"] if row else None


async def end_session(session_id: str | None) -> None:
    if session_id and len(session_id) <= 100:
        await StaffSession.delete().where(StaffSession.id_hash == _hash(session_id))


async def end_user_sessions(user_id: int, *, keep: str | None = None) -> None:
    """Sign a user out everywhere (after a password change), except the session `keep`."""
    query = StaffSession.delete().where(StaffSession.user == user_id)
    if keep:
        query = query.where(StaffSession.id_hash != _hash(keep))
    await query


async def clean_expired(*, now: datetime) -> None:
    """Remove expired sessions and throttle windows (run at every login and by the server)."""
    await StaffSession.delete().where(StaffSession.expires_at <= _epoch(now))
    await LoginThrottle.delete().where(LoginThrottle.expires_at <= _epoch(now))


async def count_attempt(key: str, *, now: datetime) -> int:
    """Count one login attempt for `key` and return the count within the current window, in one
    atomic statement (SQLite ≥ 3.35 and PostgreSQL both know INSERT … ON CONFLICT … RETURNING)."""
    key = _hash(key)  # fixed length, whatever the username holds
    table = LoginThrottle._meta.tablename
    current = _epoch(now)
    rows = await LoginThrottle.raw(
        f'INSERT INTO "{table}" ("key", "failures", "expires_at") VALUES ({{}}, 1, {{}}) '
        f'ON CONFLICT ("key") DO UPDATE SET '
        f'"failures" = CASE WHEN "{table}"."expires_at" <= {{}} THEN 1 '
        f'ELSE "{table}"."failures" + 1 END, '
        f'"expires_at" = CASE WHEN "{table}"."expires_at" <= {{}} THEN excluded."expires_at" '
        f'ELSE "{table}"."expires_at" END '
        f'RETURNING "failures"',
        key,
        current + THROTTLE_SECONDS,
        current,
        current,
    )
    return int(rows[0]["failures"])


async def reset_attempts(key: str) -> None:
    await LoginThrottle.delete().where(LoginThrottle.key == _hash(key))
