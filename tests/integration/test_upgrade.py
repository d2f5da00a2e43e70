"""Upgrading keeps what was published: the same seeds give the same fingerprints as the code
before the write-path rewrite, and migrating a registry made by that code keeps every snapshot
byte-identical and every draft's content."""

from __future__ import annotations

import gzip
import hashlib
import json
import sqlite3
from datetime import UTC, datetime
from pathlib import Path

import msgspec
import pytest
from piccolo.engine.sqlite import SQLiteEngine

from guides import Guide, canonical_json, fingerprint
from guides.snapshot import added_later
from registry.changelog import verify_log
from registry.db import bind
from registry.editions import store
from registry.seeding import load_seeds
from registry.tables import Edition
from registry.upgrade import migrate
from tests.conftest import SEEDS

LEGACY = Path(__file__).parent.parent / "fixtures" / "legacy"
SEEDED_AT = datetime(2026, 11, 2, 2, 0, tzinfo=UTC)  # the `now` the fixtures were made with


def schema_1(value):
    """The value with every field added after schema 1 (at any depth) back at its default: what
    the seeds said before they used those fields."""
    if isinstance(value, msgspec.Struct):
        later = added_later(type(value))
        changes = {
            name: later[name] if name in later else schema_1(getattr(value, name))
            for name in value.__struct_fields__
        }
        return msgspec.structs.replace(value, **changes)
    if isinstance(value, tuple):
        return tuple(schema_1(v) for v in value)
    return value


# Items seeded after the legacy fixture was made (they have no schema-1 fingerprint to keep).
ADDED_SINCE_V1 = {"650104-XSQ-004"}  # issue 13: the pension claim of the life event 退休


async def test_seeds_publish_the_same_fingerprints_as_before(db):
    """Schema 2's fields (situations, national codes, hours …) are additions: with them taken
    out, every seeded guide has exactly its schema-1 bytes; items that do not use them did not
    change at all."""
    expected = json.loads((LEGACY / "seed-fingerprints-v1.json").read_text(encoding="utf-8"))
    await load_seeds(SEEDS, now=SEEDED_AT)
    rows = await Edition.select(Edition.item.code, Edition.fingerprint, Edition.snapshot).where(
        Edition.fingerprint.is_not_null()
    )
    assert len(expected) == 89
    assert {r["item.code"] for r in rows} == set(expected) | ADDED_SINCE_V1
    for r in rows:
        if r["item.code"] in ADDED_SINCE_V1:
            continue
        guide = Guide.from_json(r["snapshot"])
        assert fingerprint(schema_1(guide)) == expected[r["item.code"]], r["item.code"]
        if schema_1(guide) == guide:
            assert r["fingerprint"] == expected[r["item.code"]], r["item.code"]
    for r in rows:  # the stored text is the canonical form, and reading it back changes nothing
        assert canonical_json(Guide.from_json(r["snapshot"])) == r["snapshot"].encode("utf-8")
        assert hashlib.sha256(r["snapshot"].encode("utf-8")).hexdigest() == r["fingerprint"]


@pytest.fixture
def legacy_file(tmp_path: Path) -> Path:
    path = tmp_path / "legacy.sqlite"
    path.write_bytes(gzip.decompress((LEGACY / "registry-v1-small.sqlite.gz").read_bytes()))
    return path


def _snapshots(path: Path) -> dict[int, tuple[str, str]]:
    with sqlite3.connect(path) as conn:
        rows = conn.execute("SELECT id, snapshot, fingerprint FROM edition WHERE snapshot IS NOT NULL")
        return {r[0]: (r[1], r[2]) for r in rows}


async def test_migrating_a_v1_registry_keeps_snapshots_and_drafts(legacy_file):
    before = _snapshots(legacy_file)
    assert len(before) == 3
    engine = SQLiteEngine(path=str(legacy_file), timeout=60)
    bind(engine)
    await migrate(engine)

    assert _snapshots(legacy_file) == before  # byte-identical
    expected = json.loads((LEGACY / "registry-v1-small-fingerprints.json").read_text(encoding="utf-8"))
    assert sorted(fp for _snap, fp in before.values()) == sorted(expected.values())
    assert (await verify_log()).ok

    # The draft made by the old code keeps its content, now in one document.
    item = await store.item_row("650100-SGSJ-001")
    draft = await store.open_edition(item["id"])
    content = store.content_of(draft)
    current = await store.edition_content(item["current_edition"])
    assert (draft["version"], draft["status"]) == (2, "draft")
    assert content.promised_days == 1 and current.promised_days == 3
    assert [m.material for m in content.materials] == [current.materials[0].material]
    assert content.materials[0] == current.materials[0]
    assert content.legal_basis == current.legal_basis and content.legal_basis
    assert content.steps == current.steps and content.faq == current.faq

    # The published content read back from the new column builds the same snapshot it was.
    guide = await store.current_guide(item["id"])
    assert guide is not None and guide.materials[1].waivable is True

    # The database now refuses a second open edition of the item.
    with pytest.raises(Exception, match="UNIQUE"):
        await Edition.insert(
            Edition(item=item["id"], version=9, status="draft", name="x", effective_at=content.effective_at)
        )
