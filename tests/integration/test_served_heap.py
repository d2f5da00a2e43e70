"""Issue 14: no request holds the event loop — not even the garbage collector.

A served process holds ≈ 320 000 objects after startup (jieba's and pypinyin's dictionaries,
templates, the calendar); a full collection walking them all held the loop ≈ 100 ms. The app
`onetrip serve` runs (`create_served_app`) freezes them once it has started (`settle_heap`), so
that a collection walks only what requests made since. Run in a new process: freezing is for a
whole process, and the test process builds many apps.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys

from registry.settings import PROJECT_ROOT

SCRIPT = """
import gc, json, sys
from litestar.testing import TestClient
from registry.app import create_app, create_served_app

factory = create_served_app if sys.argv[1] == "served" else create_app
with TestClient(app=factory()) as client:
    assert client.get("/livez").status_code == 200
    print(json.dumps({"frozen": gc.get_freeze_count(), "walked": len(gc.get_objects())}))
"""


def heap_after_startup(kind: str, tmp_path) -> dict[str, int]:
    env = {
        **os.environ,
        "ONETRIP_DATABASE_URL": f"sqlite:///{tmp_path / 'heap.sqlite'}",
        "ONETRIP_STATE_DIR": str(tmp_path / "state"),
        "ONETRIP_PUBLISH_INTERVAL": "0",
        "PYTHONPATH": str(PROJECT_ROOT),
    }
    done = subprocess.run(
        [sys.executable, "-c", SCRIPT, kind],
        env=env,
        cwd=PROJECT_ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    return json.loads(done.stdout.strip().splitlines()[-1])


def test_a_served_process_freezes_what_its_startup_loaded(tmp_path):
    served = heap_after_startup("served", tmp_path)
    plain = heap_after_startup("plain", tmp_path)
    # The startup's objects (the search dictionaries alone are > 100 000) are frozen …
    assert served["frozen"] > 100_000
    # … so a full collection walks a small part of what it walks in an app that is not.
    assert served["walked"] * 5 < plain["walked"]
    assert plain["frozen"] == 0
