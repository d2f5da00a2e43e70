"""Imported once by the fork server that bulk work's processes are forked from
(`registry.editions.bulk.worker_context`): jieba's and pypinyin's dictionaries and the modules a
worker runs are loaded there and frozen (`gc.freeze`, so that no collection in a child writes to
their pages), and every worker shares those pages with it instead of loading a copy of its own
(≈ 130 MB of dictionaries and ≈ 40 MB of modules each)."""

import gc

import registry.editions.bulk  # noqa: F401  # what a worker runs: imported here, shared by all
from registry.search import tokens

tokens.warm_up()
gc.collect()
gc.freeze()
