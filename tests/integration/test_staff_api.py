"""The staff API: the same rules, permissions and audit as the pages, as JSON."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from registry.users import create_token, create_user

CODE = "650100-SGSJ-001"
OTHER = "650102-TSQ-001"
NOW = datetime(2026, 11, 25, 2, 0, tzinfo=UTC)


@pytest.fixture
async def tokens(small_db):
    async def make(name, role, departments=None):
        await create_user(name, role=role, password="correct horse battery", departments=departments, now=NOW)
        return {"Authorization": f"Bearer {await create_token(name, now=NOW)}"}

    return {
        "editor": await make("li", "editor", ["SGSJ"]),
        "reviewer": await make("zhao", "reviewer"),
        "admin": await make("root", "admin"),
    }


async def editable(client, code=CODE, **changes):
    body = (await client.get(f"/api/items/{code}")).json()
    body.update(changes)
    return body


async def test_put_submit_approve_publishes_through_the_api(small_client, tokens):
    body = await editable(small_client, promised_days=2)
    saved = await small_client.put(f"/api/items/{CODE}/draft", json=body, headers=tokens["editor"])
    assert saved.status_code == 200, saved.text
    assert saved.json()["status"] == "draft"
    assert saved.json()["version"] == 2

    submitted = await small_client.post(
        f"/api/items/{CODE}/draft/submit", json={"change_note": "压缩时限"}, headers=tokens["editor"]
    )
    assert submitted.json()["status"] == "in_review"
    approved = await small_client.post(
        f"/api/items/{CODE}/draft/approve", json={"effective_at": None}, headers=tokens["reviewer"]
    )
    assert approved.status_code == 200, approved.text
    assert approved.json()["status"] == "published"
    assert approved.json()["publish_deadline"]
    public = (await small_client.get(f"/api/items/{CODE}")).json()
    assert public["promised_days"] == 2
    assert public["version"] == 2

    log = (await small_client.get("/api/changes?since=3", headers=tokens["editor"])).json()
    assert [c["code"] for c in log] == [CODE]
    assert log[0]["changes"] == ["承诺办结时限：3 个工作日 → 2 个工作日"]


@pytest.mark.parametrize(
    ("who", "method", "path", "body", "status"),
    [
        (None, "put", f"/api/items/{CODE}/draft", {}, 401),
        ("editor", "put", f"/api/items/{OTHER}/draft", "other", 403),  # another department
        ("editor", "post", f"/api/items/{CODE}/draft/approve", {}, 403),  # editors don't approve
        ("editor", "post", f"/api/items/{CODE}/draft/send-back", {"reason": "x"}, 403),
        ("reviewer", "put", f"/api/items/{CODE}/draft", "same", 403),  # reviewers don't edit
        ("editor", "post", f"/api/items/{CODE}/draft/submit", {"change_note": "x"}, 409),  # no draft
        ("reviewer", "post", f"/api/items/{CODE}/draft/approve", {}, 409),  # nothing in review
        (None, "get", "/api/changes", None, 401),
    ],
)
async def test_permission_matrix(small_client, tokens, who, method, path, body, status):
    if body == "same":
        body = await editable(small_client)
    elif body == "other":
        body = await editable(small_client, code=OTHER)
    headers = tokens[who] if who else {}
    kwargs = {"headers": headers} if body is None else {"headers": headers, "json": body}
    response = await getattr(small_client, method)(path, **kwargs)
    assert response.status_code == status, response.text
    assert response.json()["error"]["message"]


async def test_self_approval_is_refused(small_client, tokens):
    body = await editable(small_client, promised_days=1)
    await small_client.put(f"/api/items/{CODE}/draft", json=body, headers=tokens["admin"])
    await small_client.post(
        f"/api/items/{CODE}/draft/submit", json={"change_note": "x"}, headers=tokens["admin"]
    )
    response = await small_client.post(f"/api/items/{CODE}/draft/approve", json={}, headers=tokens["admin"])
    assert response.status_code == 403
    assert "双人复核" in response.json()["error"]["message"]


async def test_bad_input_is_a_structured_400_and_changes_nothing(small_client, tokens):
    body = await editable(small_client, trips=3, trips_reason="", promised_days="soon")
    response = await small_client.put(f"/api/items/{CODE}/draft", json=body, headers=tokens["editor"])
    assert response.status_code == 400
    fields = {f["field"] for f in response.json()["error"]["fields"]}
    assert "promised_days" in fields
    submit = await small_client.post(
        f"/api/items/{CODE}/draft/submit", json={"change_note": "x"}, headers=tokens["editor"]
    )
    assert submit.status_code == 409  # no draft was created
    bad_date = await small_client.post(
        f"/api/items/{CODE}/draft/approve", json={"effective_at": "2026-02-30"}, headers=tokens["reviewer"]
    )
    assert bad_date.status_code == 400
    not_json = await small_client.put(
        f"/api/items/{CODE}/draft",
        content=b"[1,2]",
        headers={**tokens["editor"], "content-type": "application/json"},
    )
    assert not_json.status_code == 400


async def test_stale_lock_version_is_a_conflict(small_client, tokens):
    body = await editable(small_client, promised_days=2)
    first = (await small_client.put(f"/api/items/{CODE}/draft", json=body, headers=tokens["editor"])).json()
    body["lock_version"] = first["lock_version"]
    await small_client.put(f"/api/items/{CODE}/draft", json=body, headers=tokens["admin"])
    stale = await small_client.put(f"/api/items/{CODE}/draft", json=body, headers=tokens["editor"])
    assert stale.status_code == 409
    assert stale.json()["error"]["current_lock_version"] == first["lock_version"] + 1


async def test_a_new_item_starts_as_a_draft(small_client, tokens):
    body = await editable(small_client, name="个人独资企业设立登记")
    body["department"] = {"code": "SGSJ"}
    response = await small_client.put("/api/items/650100-SGSJ-009/draft", json=body, headers=tokens["editor"])
    assert response.status_code == 200, response.text
    assert response.json()["version"] == 1
    assert (await small_client.get("/g/650100-SGSJ-009")).status_code == 404  # not public yet
