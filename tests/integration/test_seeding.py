"""`onetrip seed`: idempotent, all-or-nothing, and precise about what is wrong."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from registry.seeding import SeedError, load_seeds, read_seeds
from registry.tables import TABLES, Department, Edition, EditionStatus, ServiceItem
from tests.conftest import SMALL_SEEDS


async def table_counts() -> dict[str, int]:
    return {t._meta.tablename: await t.count() for t in TABLES}


async def test_seeding_twice_changes_nothing(db):
    first = await load_seeds(SMALL_SEEDS)
    assert first.created == {"departments": 2, "documents": 1, "materials": 3, "items": 3, "targets": 2}
    before = await table_counts()
    snapshots = await Edition.select(Edition.fingerprint).order_by(Edition.id)
    second = await load_seeds(SMALL_SEEDS)
    assert not second.changed
    assert second.unchanged["items"] == 3
    assert await table_counts() == before
    assert await Edition.select(Edition.fingerprint).order_by(Edition.id) == snapshots


async def test_seeded_item_is_published_with_its_snapshot(db):
    await load_seeds(SMALL_SEEDS)
    item = await ServiceItem.select().where(ServiceItem.code == "650100-SGSJ-001").first()
    edition = await Edition.select().where(Edition.id == item["current_edition"]).first()
    assert edition["status"] == EditionStatus.published.value
    assert edition["version"] == 1
    assert len(edition["fingerprint"]) == 64
    assert '"name":"有限责任公司设立登记"' in edition["snapshot"]


def broken_copy(tmp_path: Path, file: str, old: str, new: str) -> Path:
    root = tmp_path / "seeds"
    shutil.copytree(SMALL_SEEDS, root)
    path = root / file
    text = path.read_text(encoding="utf-8")
    assert old in text
    path.write_text(text.replace(old, new, 1), encoding="utf-8")
    return root


@pytest.mark.parametrize(
    ("file", "old", "new", "expected"),
    [
        (
            "items/SGSJ.toml",
            'material = "id-card"',
            'material = "no-such-material"',
            ("items/SGSJ.toml", "item 650100-SGSJ-001", "materials[1].material"),
        ),
        (
            "items/SGSJ.toml",
            'trips_reason = "领取通知书"\n',
            "",
            None,  # trips = 1 without reason is fine: no error expected
        ),
        (
            "items/TSQ.toml",
            'trips_reason = "首次面谈和领取材料"\n',
            "",
            ("items/TSQ.toml", "item 650102-TSQ-001", "trips_reason"),
        ),
        (
            "items/TSQ.toml",
            'department = "TSQ"',
            'department = "NOPE"',
            ("items/TSQ.toml", "item 650102-TSQ-001", "department"),
        ),
        (
            "departments.toml",
            'level = "district"',
            'level = "province"',
            ("departments.toml", "department TSQ", "level"),
        ),
        (
            "items/SGSJ.toml",
            "statutory_days = 15",
            'statutory_days = "fifteen"',
            ("items/SGSJ.toml", "item 650100-SGSJ-001", "statutory_days"),
        ),
    ],
)
def test_a_bad_seed_names_file_entry_and_field(tmp_path, file, old, new, expected):
    root = broken_copy(tmp_path, file, old, new)
    if expected is None:
        assert len(read_seeds(root).items) == 3
        return
    with pytest.raises(SeedError) as info:
        read_seeds(root)
    found = [(Path(p.file).as_posix().split("seeds/", 1)[-1], p.entry, p.field) for p in info.value.problems]
    assert expected in found, found


async def test_a_bad_seed_loads_nothing(db, tmp_path):
    root = broken_copy(tmp_path, "items/TSQ.toml", 'department = "TSQ"', 'department = "NOPE"')
    with pytest.raises(SeedError):
        await load_seeds(root)
    assert await Department.count() == 0
    assert await ServiceItem.count() == 0


async def test_update_publishes_a_new_edition_when_the_seed_changed(db, tmp_path):
    await load_seeds(SMALL_SEEDS)
    root = broken_copy(tmp_path, "items/SGSJ.toml", "promised_days = 3", "promised_days = 2")
    report = await load_seeds(root)
    assert report.differs == ["650100-SGSJ-001"]
    assert await Edition.count() == 3  # reported, not overwritten

    report = await load_seeds(root, update=True)
    assert report.updated == {"items": 1}
    rows = (
        await Edition.select(Edition.version, Edition.status, Edition.promised_days)
        .where(Edition.item.code == "650100-SGSJ-001")
        .order_by(Edition.version)
    )
    assert rows == [
        {"version": 1, "status": "superseded", "promised_days": 3},
        {"version": 2, "status": "published", "promised_days": 2},
    ]
