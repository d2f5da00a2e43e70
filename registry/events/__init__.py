"""Life events (一件事): bundles of items, edited and reviewed like an item.

A bundle is a small parallel table set (`LifeEvent`, `LifeEventEdition`, `LifeEventItem`) whose
editions go through the SAME workflow table (registry.editions.workflow: `check()` with a
`Subject`), the same permission rules (the lead department's editors edit, reviewers approve,
four eyes) and the same hash-chained change log (a record with no item id and the bundle's code).
Only what differs is here: the content (guides.events.EventContent, a list of item codes instead
of guide fields) and the snapshot (with its items' fingerprints).

- `store.py` — rows <-> content, locking, the bundle's published snapshot and its merged guide
- `commands.py` — create, save, submit, send back, approve (publishes at once)
- `reads.py` — the public side: every published bundle merged with its items' current guides,
  cached per change-log head; name/keyword matching for the search page
- `seeds.py` — `seeds/events.toml`, loaded by `onetrip seed`
"""
