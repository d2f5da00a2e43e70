"""Loading seed history in bulk (`onetrip seed --update` at 100 000 items): the bulk path writes
exactly what publishing item by item writes, all or nothing, and a second run changes nothing."""

from __future__ import annotations

import importlib.util
import json
import os
import shutil
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from registry import seeding
from registry.changelog import verify_log
from registry.db import write_transaction
from registry.editions import bulk as bulk_work
from registry.editions import publication
from registry.seeding import apply_seeds, read_seeds
from registry.settings import PROJECT_ROOT
from registry.tables import (
    TABLES,
    ChangeRecord,
    Citation,
    Edition,
    EditionMaterial,
    QualityFinding,
    SearchEntry,
    ServiceItem,
)

spec = importlib.util.spec_from_file_location("bench_generate", PROJECT_ROOT / "bench" / "generate.py")
generate_module = importlib.util.module_from_spec(spec)
spec.loader.exec_module(generate_module)

BASE_AT = datetime(2026, 11, 2, 2, 0, tzinfo=UTC)
UPDATE_AT = datetime(2026, 11, 3, 4, 5, 6, 789_000, tzinfo=UTC)


class Rollback(Exception):
    pass


@pytest.fixture(scope="module")
def registry_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """120 items (the real 89 and 31 synthetic ones) with later editions under history/."""
    root = tmp_path_factory.mktemp("bulk") / "reg"
    generate_module.generate(120, root, history=0.6)
    return root


async def state() -> dict[str, Any]:
    """Every row the publication of an update writes, with database ids replaced by what they
    stand for (sequences on PostgreSQL do not roll back)."""
    codes = {r["id"]: r["code"] for r in await ServiceItem.select(ServiceItem.id, ServiceItem.code)}
    editions = await Edition.select().order_by(Edition.id)
    key = {e["id"]: (codes[e["item"]], e["version"]) for e in editions}
    return {
        "editions": sorted(
            (
                {
                    **{k: v for k, v in e.items() if k != "id"},
                    "item": codes[e["item"]],
                    "content": json.loads(e["content"]),
                    "contributors": json.loads(e["contributors"]),
                }
                for e in editions
            ),
            key=lambda e: (e["item"], e["version"]),
        ),
        "materials": sorted(
            (key[r["edition"]], r["material"], r["position"], r["source"], r["waivable"])
            for r in await EditionMaterial.select()
        ),
        "citations": sorted(
            (key[r["edition"]], r["document"], r["position"], r["articles"]) for r in await Citation.select()
        ),
        "findings": sorted(
            (codes[r["item"]], r["department"], r["code"], r["severity"], r["field"], r["message"])
            for r in await QualityFinding.select()
        ),
        "current": {
            r["code"]: key.get(r["current_edition"])
            for r in await ServiceItem.select().order_by(ServiceItem.code)
        },
        # A JSON column's text depends on who wrote it (bulk writes it compact): compare values.
        "changes": [
            {k: json.loads(v) if k == "diff" else v for k, v in r.items() if k != "id"}
            for r in await ChangeRecord.select().order_by(ChangeRecord.seq)
        ],
        "search": sorted(
            ({k: v for k, v in r.items() if k != "id"} for r in await SearchEntry.select()),
            key=lambda r: r["item"],
        ),
    }


async def counts() -> dict[str, int]:
    return {t._meta.tablename: await t.count() for t in TABLES}


async def test_bulk_update_writes_what_publishing_one_by_one_writes(db, registry_dir, monkeypatch):
    monkeypatch.setattr(seeding, "BATCH", 7)  # several batches, and a last one that is not full
    monkeypatch.setattr(bulk_work, "POOL_FROM", 1)  # prepared in worker processes, as at scale
    await apply_seeds(read_seeds(registry_dir), now=BASE_AT)
    history = read_seeds(registry_dir / "history" / "2")
    assert len(history.items) >= 8

    seen: dict[str, Any] = {}

    async def bulk_then_roll_back() -> None:
        async with write_transaction():
            seen["report"] = await apply_seeds(history, now=UPDATE_AT, update=True, bulk=True)
            seen["state"] = await state()
            raise Rollback

    with pytest.raises(Rollback):
        await bulk_then_roll_back()
    assert seen["report"].updated["items"] == len(history.items)
    bulk = seen["state"]
    report = await apply_seeds(history, now=UPDATE_AT, update=True, bulk=False)
    assert report.updated["items"] == len(history.items)
    one_by_one = await state()

    assert bulk == one_by_one
    changed = {i.code for i in history.items}
    assert {c["item_code"] for c in bulk["changes"] if c["kind"] == "change"} == changed
    assert all(bulk["current"][code] == (code, 2) for code in changed)
    assert (await verify_log()).ok


async def test_history_loads_in_bulk_once(db, registry_dir):
    await apply_seeds(read_seeds(registry_dir), now=BASE_AT)
    folders = sorted((registry_dir / "history").iterdir(), key=lambda p: int(p.name))
    assert len(folders) >= 2
    for folder in folders:
        bundle = read_seeds(folder)
        first = await apply_seeds(bundle, now=UPDATE_AT, update=True)
        assert first.updated["items"] == len(bundle.items)
        after = await counts()
        fingerprints = await Edition.select(Edition.fingerprint).order_by(Edition.id)
        again = await apply_seeds(bundle, now=UPDATE_AT, update=True)  # twice = no change
        assert not again.changed
        assert await counts() == after
        assert await Edition.select(Edition.fingerprint).order_by(Edition.id) == fingerprints
    last = read_seeds(folders[-1]).items[0]
    item = await ServiceItem.select(ServiceItem.current_edition).where(ServiceItem.code == last.code).first()
    edition = await Edition.select(Edition.version).where(Edition.id == item["current_edition"]).first()
    assert edition["version"] == len(folders) + 1
    assert (await verify_log()).ok


async def test_a_bad_file_or_a_failure_half_way_leaves_nothing(db, registry_dir, monkeypatch, tmp_path):
    await apply_seeds(read_seeds(registry_dir), now=BASE_AT)
    before = await counts()
    bad = tmp_path / "h2"
    shutil.copytree(registry_dir / "history" / "2", bad)
    last = sorted((bad / "items").glob("*.toml"))[-1]
    text = last.read_text(encoding="utf-8")
    last.write_text(text.replace("online_depth = ", "online_depth = 9", 1), encoding="utf-8")
    with pytest.raises(seeding.SeedError) as error:
        await seeding.load_seeds(bad, now=UPDATE_AT, update=True)
    assert any(p.field == "online_depth" for p in error.value.problems)
    assert await counts() == before

    monkeypatch.setattr(seeding, "BATCH", 5)
    calls = []
    real = publication.publish_seed_updates

    async def fail_on_second_batch(*args: Any, **kwargs: Any) -> None:
        calls.append(1)
        if len(calls) == 2:
            raise RuntimeError("disk full")
        await real(*args, **kwargs)

    monkeypatch.setattr(seeding, "publish_seed_updates", fail_on_second_batch)
    with pytest.raises(RuntimeError):
        await apply_seeds(read_seeds(registry_dir / "history" / "2"), now=UPDATE_AT, update=True)
    assert len(calls) == 2
    assert await counts() == before


def test_item_files_read_in_worker_processes_give_the_same_bundle_and_problems(
    registry_dir, monkeypatch, tmp_path
):
    broken = tmp_path / "reg"
    shutil.copytree(registry_dir, broken, ignore=shutil.ignore_patterns("history"))
    files = sorted((broken / "items").glob("*.toml"))
    assert len(files) >= 2
    first, last = files[0], files[-1]
    code = next(line for line in first.read_text(encoding="utf-8").splitlines() if line.startswith("code = "))
    text = last.read_text(encoding="utf-8")
    theirs = next(line for line in text.splitlines() if line.startswith("code = "))
    text = text.replace(theirs, code, 1)  # a code already used in another file
    text = text.replace("online_depth = ", "online_depth = 9", 1)
    last.write_text(text, encoding="utf-8")

    def read(root: Path) -> Any:
        try:
            return read_seeds(root)
        except seeding.SeedError as exc:
            return exc.problems

    here = read(registry_dir), read(broken)
    monkeypatch.setattr(seeding, "READ_POOL_FROM", 0)
    apart = read(registry_dir), read(broken)
    assert here[0].items == apart[0].items
    assert len(here[0].items) == 120
    assert here[1] == apart[1]
    assert {p.field for p in apart[1]} >= {"code", "online_depth"}


def test_a_bundle_keeps_its_items_contents_in_its_spill_file_not_in_memory(registry_dir):
    import gc

    bundle = read_seeds(registry_dir)
    assert len(bundle.items) == 120
    zdicts = {id(item.zdict) for item in bundle.items}
    for item in bundle.items:
        # what an item holds: its few short strings and the bundle's shared dictionary, no content
        held = [o for o in gc.get_referents(item) if isinstance(o, bytes) and id(o) not in zdicts]
        assert held == []
        assert item.content.name  # and its content comes back whole from the file
    again = read_seeds(registry_dir)
    assert again.items == bundle.items and again.spill is not bundle.spill
    assert bundle.items[0] != bundle.items[1]


def test_a_spill_gives_back_what_it_was_given_and_refuses_a_cut_file():
    spill = seeding.Spill()
    pieces = [b"", b"x", bytes(range(256)) * 300, "事项".encode() * 5000, b"\0" * 70_000]
    places = [spill.put(p) for p in pieces]
    assert places == [0, 0, 1, 1 + 256 * 300, 1 + 256 * 300 + 30_000]
    assert [spill.get(at, len(p)) for at, p in zip(places, pieces, strict=True)][::-1] == pieces[::-1]
    os.ftruncate(spill._file.fileno(), 10)
    with pytest.raises(OSError, match="seed spill file"):
        spill.get(places[3], len(pieces[3]))


def test_bulk_workers_are_forked_with_the_search_dictionaries_loaded_and_frozen():
    """Workers share the fork server's jieba and pypinyin (registry.search.preload) instead of
    loading ≈ 130 MB each: they start with the dictionaries loaded and frozen."""
    import gc
    from concurrent.futures import ProcessPoolExecutor

    from registry.search import tokens

    with ProcessPoolExecutor(1, mp_context=bulk_work.worker_context()) as pool:
        assert pool.submit(gc.get_freeze_count).result() > 100_000
        assert pool.submit(tokens.cut, "居民身份证换领").result() == tokens.cut("居民身份证换领")
