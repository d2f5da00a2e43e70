"""The issue-13 migration fills its new columns from what a registry already holds (SQLite here;
the PostgreSQL statements run in every PostgreSQL test database)."""

from __future__ import annotations

import sqlite3
from datetime import datetime

from piccolo.engine.sqlite import SQLiteEngine

from guides.clock import CHINA
from registry.db import bind
from registry.freshness import add_months
from registry.upgrade import migrate
from tests.integration.test_upgrade import legacy_file  # noqa: F401


async def test_backfill_of_review_dates_articles_and_material_terms(legacy_file):  # noqa: F811
    engine = SQLiteEngine(path=str(legacy_file), timeout=60)
    bind(engine)
    await migrate(engine)
    with sqlite3.connect(legacy_file) as conn:
        items = conn.execute(
            "SELECT si.reviewed_on, si.review_by, e.published_at FROM service_item si"
            " JOIN edition e ON e.id = si.current_edition"
        ).fetchall()
        citations = conn.execute("SELECT articles FROM citation").fetchall()
        waivable = conn.execute("SELECT COUNT(*) FROM edition_material WHERE waivable").fetchone()[0]
    assert len(items) == 3
    for reviewed_on, review_by, published_at in items:
        published = datetime.fromisoformat(published_at).astimezone(CHINA).date()
        assert reviewed_on == published.isoformat()
        assert review_by == add_months(published, 12).isoformat()
    assert citations and all(a for (a,) in citations)  # every small-seed citation names its articles
    assert waivable >= 1  # SGSJ-001's 居民身份证 may be shared instead of brought
