"""The staff pages as an editor and a reviewer use them (forms, CSRF, sessions)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from bs4 import BeautifulSoup
from litestar.testing import AsyncTestClient

from registry.app import create_app
from registry.users import create_user

CODE = "650100-SGSJ-001"
PASSWORD = "correct horse battery"
NOW = datetime(2026, 11, 25, 2, 0, tzinfo=UTC)


def soup(response) -> BeautifulSoup:
    return BeautifulSoup(response.text, "html.parser")


def csrf(response) -> str:
    return soup(response).select_one("input[name=_csrf_token]")["value"]


async def login(client, username, password=PASSWORD):
    page = await client.get("/login")
    return await client.post(
        "/login",
        data={"username": username, "password": password, "next": "/staff", "_csrf_token": csrf(page)},
        follow_redirects=False,
    )


def form_values(page) -> dict[str, str | list[str]]:
    """What a browser would send for the edit form as it stands."""
    form = soup(page).select_one("form.edit-form")
    data: dict[str, str | list[str]] = {}
    for field in form.select("input, textarea, select"):
        name = field.get("name")
        if not name:
            continue
        if field.name == "select":
            chosen = field.select_one("option[selected]") or field.select_one("option")
            value = chosen.get("value", chosen.get_text()) if chosen else ""
        elif field.get("type") == "checkbox":
            if not field.has_attr("checked"):
                continue
            value = field.get("value", "on")
        elif field.name == "textarea":
            value = field.get_text()
        else:
            value = field.get("value", "")
        if name == "audience":
            data.setdefault(name, [])
            data[name].append(value)
        else:
            data[name] = value
    return data


@pytest.fixture
async def people(small_db):
    await create_user("li", role="editor", password=PASSWORD, departments=["SGSJ"], now=NOW)
    await create_user("wang", role="editor", password=PASSWORD, departments=["TSQ"], now=NOW)
    await create_user("zhao", role="reviewer", password=PASSWORD, now=NOW)
    return small_db


@pytest.fixture
async def second_client(people):
    app = create_app(people.settings, engine=people.engine, pool=False)
    async with AsyncTestClient(app=app) as c:
        yield c


async def test_staff_pages_need_a_login(small_client, people):
    response = await small_client.get("/staff/", follow_redirects=False)
    assert response.status_code in (302, 303, 307)
    assert response.headers["location"].startswith("/login?next=")


async def test_login_sets_a_safe_session_cookie_and_throttles_failures(small_client, people):
    for _ in range(5):
        failed = await login(small_client, "li", "wrong password")
        assert failed.status_code == 400
        assert "用户名或密码不正确" in failed.text
    blocked = await login(small_client, "li")  # even the right password, for 15 minutes
    assert blocked.status_code == 429
    assert "登录失败次数过多" in blocked.text


async def test_successful_login_cookie_flags(small_client, people):
    response = await login(small_client, "li")
    assert response.status_code in (302, 303)
    cookie = next(c for c in response.headers.get_list("set-cookie") if c.startswith("onetrip_session="))
    assert "HttpOnly" in cookie
    assert "SameSite=lax" in cookie or "SameSite=Lax" in cookie


async def test_forms_without_the_csrf_token_are_refused(small_client, people):
    await login(small_client, "li")
    response = await small_client.post(f"/staff/items/{CODE}", data={"name": "x"})
    assert response.status_code == 403


async def test_edit_submit_review_approve_shows_on_the_public_guide(small_client, people):
    assert (await login(small_client, "li")).status_code in (302, 303)
    page = await small_client.get(f"/staff/items/{CODE}")
    assert page.status_code == 200
    data = form_values(page)
    data["promised_days"] = "2"
    saved = await small_client.post(f"/staff/items/{CODE}", data=data, follow_redirects=False)
    assert saved.status_code in (302, 303), saved.text[:2000]
    page = await small_client.get(f"/staff/items/{CODE}")
    submit = await small_client.post(
        f"/staff/items/{CODE}/submit",
        data={"_csrf_token": csrf(page), "change_note": "压缩承诺时限", "effective_at": ""},
        follow_redirects=False,
    )
    assert submit.status_code in (302, 303)
    await small_client.post("/logout", data={"_csrf_token": csrf(page)})

    await login(small_client, "zhao")
    review = await small_client.get(f"/staff/review/{CODE}")
    diff = [li.get_text(" ", strip=True) for li in soup(review).select(".diff-list li")]
    assert diff == ["承诺办结时限 ：3 个工作日 → 2 个工作日"]
    approved = await small_client.post(
        f"/staff/review/{CODE}/approve",
        data={"_csrf_token": csrf(review), "effective_at": ""},
        follow_redirects=False,
    )
    assert approved.status_code in (302, 303)
    public = soup(await small_client.get(f"/g/{CODE}"))
    assert "2 个工作日" in public.select_one(".facts").get_text()


async def test_inline_validation_errors_in_chinese(small_client, people):
    await login(small_client, "li")
    data = form_values(await small_client.get(f"/staff/items/{CODE}"))
    data["trips"] = "3"
    data["trips_reason"] = ""
    response = await small_client.post(f"/staff/items/{CODE}", data=data)
    assert response.status_code == 400
    errors = [e.get_text() for e in soup(response).select(".field-error")]
    assert any("跑多次是例外" in e for e in errors)
    # Nothing was saved.
    again = form_values(await small_client.get(f"/staff/items/{CODE}"))
    assert again["trips"] == "0"


@pytest.mark.parametrize(
    ("who", "path", "status"),
    [
        ("wang", f"/staff/items/{CODE}", 403),  # another department's item
        ("zhao", f"/staff/items/{CODE}", 403),  # reviewers don't edit
        ("li", f"/staff/review/{CODE}/approve", 403),  # editors don't approve
        ("li", f"/staff/review/{CODE}/send-back", 403),
    ],
)
async def test_page_permissions(small_client, people, who, path, status):
    await login(small_client, who)
    page = await small_client.get("/staff/")
    data = {"_csrf_token": csrf(page), "name": "改名", "reason": "x", "lock_version": "0"}
    response = await small_client.post(path, data=data)
    assert response.status_code == status
    assert "zh-CN" in response.text


async def test_editors_do_not_see_other_departments_drafts(small_client, people):
    await login(small_client, "li")  # SGSJ's editor writes a draft nobody else should read yet
    data = {**form_values(await small_client.get(f"/staff/items/{CODE}")), "summary": "尚未公开的草稿内容"}
    assert (await small_client.post(f"/staff/items/{CODE}", data=data)).status_code in (200, 302, 303)
    await small_client.post("/logout", data={"_csrf_token": csrf(await small_client.get("/staff/"))})

    await login(small_client, "wang")  # an editor of another department
    for path in (f"/staff/items/{CODE}", f"/staff/review/{CODE}"):
        response = await small_client.get(path)
        assert response.status_code == 403
        assert "尚未公开的草稿内容" not in response.text


async def test_editors_reserve_codes_only_within_their_departments(small_client, people):
    await login(small_client, "li")  # an editor of SGSJ
    page = await small_client.get("/staff/new")
    base = {"_csrf_token": csrf(page), "name": "新事项", "department": "SGSJ", "item_type": "行政许可"}
    taken = await small_client.post("/staff/new", data={**base, "code": "650100-SGSZ-901"})
    assert taken.status_code == 400
    assert "实施主体编码 SGSJ" in BeautifulSoup(taken.text, "html.parser").get_text()
    assert (await small_client.get("/g/650100-SGSZ-901")).status_code == 404
    ok = await small_client.post("/staff/new", data={**base, "code": "650100-SGSJ-901"})
    assert ok.status_code in (200, 302, 303)
    assert (await small_client.get("/staff/items/650100-SGSJ-901")).status_code == 200


async def test_two_editors_saving_the_same_draft_see_a_conflict(small_client, second_client, people):
    await create_user("sun", role="editor", password=PASSWORD, departments=["SGSJ"], now=NOW)
    await login(small_client, "li")
    await login(second_client, "sun")
    first = await small_client.get(f"/staff/items/{CODE}")
    data = form_values(first)
    data["promised_days"] = "2"
    await small_client.post(f"/staff/items/{CODE}", data=data)  # creates the draft

    mine = form_values(await small_client.get(f"/staff/items/{CODE}"))
    theirs = form_values(await second_client.get(f"/staff/items/{CODE}"))
    theirs["promised_days"] = "1"
    assert (
        await second_client.post(f"/staff/items/{CODE}", data=theirs, follow_redirects=False)
    ).status_code in (302, 303)
    mine["summary"] = "我的修改"
    conflict = await small_client.post(f"/staff/items/{CODE}", data=mine)
    assert conflict.status_code == 409
    page = soup(conflict)
    assert "保存冲突" in page.select_one(".alert").get_text()
    assert page.select_one("textarea[name=summary]").get_text() == "我的修改"  # nothing lost


async def test_admin_manages_users_and_others_cannot(small_client, people):
    await create_user("root", role="admin", password=PASSWORD, now=NOW)
    await login(small_client, "li")
    assert (await small_client.get("/staff/users")).status_code == 403
    await small_client.post("/logout", data={"_csrf_token": csrf(await small_client.get("/staff/"))})

    await login(small_client, "root")
    page = await small_client.get("/staff/users")
    assert [td.get_text() for td in soup(page).select("tbody tr td:first-child")] == [
        "li",
        "root",
        "wang",
        "zhao",
    ]
    bad = await small_client.post(
        "/staff/users",
        data={"_csrf_token": csrf(page), "username": "qian", "role": "editor", "password": "short"},
    )
    assert bad.status_code == 400
    assert "密码至少 10 位" in bad.text
    added = await small_client.post(
        "/staff/users",
        data={
            "_csrf_token": csrf(page),
            "username": "qian",
            "role": "editor",
            "password": PASSWORD,
            "department": "TSQ",
        },
        follow_redirects=False,
    )
    assert added.status_code in (302, 303)
    await small_client.post("/staff/users/li/active", data={"_csrf_token": csrf(page), "active": "false"})
    await small_client.post("/logout", data={"_csrf_token": csrf(page)})
    assert (await login(small_client, "li")).status_code == 400  # deactivated
    assert (await login(small_client, "qian")).status_code in (302, 303)


async def test_editor_adds_a_catalogue_material_inline(small_client, people):
    await login(small_client, "li")
    page = await small_client.get(f"/staff/items/{CODE}")
    response = await small_client.post(
        "/staff/materials",
        data={
            "_csrf_token": csrf(page),
            "new_material_name": "股东会决议",
            "new_material_kind": "其他",
            "return_to": f"/staff/items/{CODE}",
        },
    )
    options = [o.get_text() for o in soup(response).select("select[name='materials-0-material'] option")]
    assert "股东会决议" in options
    again = await small_client.post(
        "/staff/materials",
        data={
            "_csrf_token": csrf(page),
            "new_material_name": "股东会决议",
            "new_material_kind": "其他",
            "return_to": f"/staff/items/{CODE}",
        },
    )
    assert "材料目录中已有" in soup(again).select_one(".inline-material .field-error").get_text()
