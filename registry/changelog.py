"""The append-only, hash-chained change log (seed item 40: the site must resist tampering).

Each record's hash is SHA-256 over the previous record's hash and the record's own canonical JSON.
Altering, inserting or removing a row behind the application's back breaks the chain at that row,
and `verify_log` names the first bad one. Nothing here updates or deletes a record.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

from piccolo.engine.postgres import PostgresEngine

from guides.i18n import _
from registry.db import bulk_insert, row_values
from registry.tables import ChangeRecord

GENESIS = "0" * 64
HASHED = (
    "seq",
    "item_code",
    "kind",
    "version_before",
    "version_after",
    "diff",
    "summary",
    "change_note",
    "editor",
    "reviewer",
    "approved_at",
    "publish_deadline",
    "published_at",
    "effective_at",
    "fingerprint",
    "prev_hash",
)
_LOG_LOCK = 4_031_967  # PostgreSQL advisory lock key: one appender at a time


def _normal(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.astimezone(UTC).isoformat(timespec="microseconds")
    if isinstance(value, date):
        return value.isoformat()
    return value


def record_hash(record: dict[str, Any]) -> str:
    body = {k: _normal(record[k]) for k in HASHED}
    if isinstance(body["diff"], str):
        body["diff"] = json.loads(body["diff"])
    text = json.dumps(body, ensure_ascii=False, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256((record["prev_hash"] + text).encode("utf-8")).hexdigest()


async def _head() -> tuple[int, str]:
    """Lock the log's end (PostgreSQL: one appender at a time) and return (last seq, last hash)."""
    engine = ChangeRecord._meta.db
    if isinstance(engine, PostgresEngine):
        await engine.run_ddl(f"SELECT pg_advisory_xact_lock({_LOG_LOCK})")
    last = (
        await ChangeRecord.select(ChangeRecord.seq, ChangeRecord.hash)
        .order_by(ChangeRecord.seq, ascending=False)
        .first()
    )
    return (last["seq"], last["hash"]) if last else (0, GENESIS)


def _chain(seq: int, prev_hash: str, fields: dict[str, Any]) -> dict[str, Any]:
    record = {**{k: _normal_in(v) for k, v in fields.items()}, "seq": seq, "prev_hash": prev_hash}
    record["hash"] = record_hash(record)
    return record


async def append(*, item_id: int, **fields: Any) -> dict[str, Any]:
    """Append one record (inside the caller's transaction) and return it."""
    seq, prev = await _head()
    record = _chain(seq + 1, prev, fields)
    await ChangeRecord.insert(ChangeRecord(item=item_id, **record))
    return record


async def append_many(entries: list[tuple[int, dict[str, Any]]]) -> None:
    """Append (item id, fields) records in order, in bulk (loading seeds)."""
    seq, prev = await _head()
    rows = []
    for item_id, fields in entries:
        seq += 1
        record = _chain(seq, prev, fields)
        prev = record["hash"]
        rows.append(row_values(ChangeRecord, item=item_id, **record))
    await bulk_insert(ChangeRecord, rows)


def _normal_in(value: Any) -> Any:
    # Stored timestamps come back in UTC with microseconds: hash what will be read back.
    if isinstance(value, datetime):
        return value.astimezone(UTC)
    return value


@dataclass(frozen=True, slots=True)
class Verification:
    ok: bool
    count: int
    first_bad: int | None = None
    reason: str = ""

    def message(self) -> str:
        if self.ok:
            return _("变更记录完整：共 {n} 条，哈希链校验通过。", n=self.count)
        return _(
            "变更记录被改动：第 {seq} 条起校验失败（{reason}）。", seq=self.first_bad, reason=self.reason
        )


async def verify_log() -> Verification:
    rows = await ChangeRecord.select().order_by(ChangeRecord.seq)
    prev = GENESIS
    for expected_seq, row in enumerate(rows, start=1):
        if row["seq"] != expected_seq:
            return Verification(False, len(rows), expected_seq, _("缺少记录"))
        if row["prev_hash"] != prev:
            return Verification(False, len(rows), row["seq"], _("与前一条记录的哈希不衔接"))
        if record_hash(row) != row["hash"]:
            return Verification(False, len(rows), row["seq"], _("记录内容与哈希不符"))
        prev = row["hash"]
    # A truncated tail leaves the chain intact: every publication must have its record.
    from registry.tables import Edition

    published = await Edition.count().where(Edition.published_at.is_not_null())
    if published > len(rows):
        return Verification(False, len(rows), len(rows) + 1, _("末尾记录缺失"))
    return Verification(True, len(rows))
