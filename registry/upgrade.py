"""Bringing a database to the current schema: the committed Piccolo migrations, run forwards.

Kept apart from registry.db, because Piccolo finds its engine through registry.piccolo_conf,
which itself builds the engine with registry.db (one direction, no cycle).
"""

from __future__ import annotations

import os

from piccolo.engine.base import Engine

from registry.db import prepare


async def migrate(engine: Engine) -> None:
    """Run the committed migrations forwards on `engine` (what `onetrip migrate` does)."""
    from piccolo.apps.migrations.commands.forwards import run_forwards
    from piccolo.apps.migrations.tables import Migration

    import registry.piccolo_conf as conf

    os.environ.setdefault("PICCOLO_CONF", "registry.piccolo_conf")
    conf.DB = engine
    Migration._meta.db = engine
    await prepare(engine)
    result = await run_forwards("registry")
    if not result.success:
        raise RuntimeError(f"migration failed: {result.message}")
    await _fill_search_index()


async def _fill_search_index() -> None:
    """A registry published before the search index existed gets it built once."""
    from registry.search.index import rebuild
    from registry.tables import SearchEntry, ServiceItem

    if not await SearchEntry.count() and await ServiceItem.count().where(
        ServiceItem.current_edition.is_not_null()
    ):
        await rebuild()
