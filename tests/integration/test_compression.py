"""承诺时限压缩比 per department, as of any date: /api/metrics and the dashboard."""

from __future__ import annotations

import pytest


async def test_compression_per_department_as_of_a_date(small_client):
    data = (await small_client.get("/api/metrics?as_of=2018-12-31")).json()
    rows = {c["department"]: c for c in data["compression"]}
    # In force on 2018-12-31: SGSJ-001 (15 → 3 days) and SGSJ-002 (10 → 1); TSQ-001 from 2019-03-01.
    assert rows["SGSJ"]["items"] == 2
    assert (rows["SGSJ"]["statutory_days"], rows["SGSJ"]["promised_days"]) == (25, 4)
    assert rows["SGSJ"]["compression"] == pytest.approx(1 - 4 / 25, abs=1e-4)
    assert "TSQ" not in rows
    assert rows[""]["items"] == 2

    later = {
        c["department"]: c
        for c in (await small_client.get("/api/metrics?as_of=2019-03-01")).json()["compression"]
    }
    assert "TSQ" in later and later[""]["items"] == later["SGSJ"]["items"] + later["TSQ"]["items"]
    only = (await small_client.get("/api/metrics?as_of=2019-03-01&department=TSQ")).json()["compression"]
    assert [c["department"] for c in only] == ["TSQ", ""]

    page = await small_client.get("/metrics?as_of=2018-12-31")
    assert "承诺时限压缩比" in page.text and "84.0%" in page.text
