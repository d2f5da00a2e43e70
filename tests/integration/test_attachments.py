"""Attachments through the staff form (both databases): an upload becomes part of the draft by
its hash, the bytes are served as uploaded with safe headers, and a bad file changes nothing."""

from __future__ import annotations

import hashlib
import shutil
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import quote, unquote

import pytest
import rtoml
from bs4 import BeautifulSoup

from registry.editions import store
from registry.exporting import export_site
from registry.seeding import load_seeds
from registry.tables import Edition, StoredFile
from tests.integration.test_staff_pages import CODE, csrf, form_values, login, people, soup  # noqa: F401
from tests.unit.test_attachments import PDF, docx

EDITORS = pytest.mark.usefixtures("people")  # an editor li of SGSJ, a reviewer zhao

FORM = f"/staff/items/{CODE}"
SEEDED = datetime(2026, 11, 2, 2, 0, tzinfo=UTC)


async def _draft_content():
    item = await store.item_row(CODE)
    draft = await store.open_edition(item["id"])
    return store.content_of(draft) if draft else None


async def _save(client, files, **changes):
    page = await client.get(FORM)
    kept = {k: v for k, v in form_values(page).items() if not k.endswith("-upload")}  # file inputs
    data = {**kept, **changes}
    return await client.post(FORM, data=data, files=files, follow_redirects=False)


@EDITORS
async def test_an_upload_makes_a_draft_with_its_hash_and_is_served_as_uploaded(small_client):
    assert (await login(small_client, "li")).status_code in (302, 303)
    form = docx()
    saved = await _save(
        small_client,
        {
            "result_sample-upload": ("营业执照（样本）.pdf", PDF, "application/octet-stream"),
            "materials-0-blank_form-upload": ("申请书.pdf", form, "application/pdf"),  # a misnamed DOCX
        },
    )
    assert saved.status_code in (302, 303), saved.text[:3000]
    content = await _draft_content()
    assert content.result_sample.sha256 == hashlib.sha256(PDF).hexdigest()
    assert (content.result_sample.name, content.result_sample.size) == ("营业执照（样本）.pdf", len(PDF))
    blank = content.materials[0].blank_form
    assert (blank.name, blank.sha256) == ("申请书.docx", hashlib.sha256(form).hexdigest())
    assert await StoredFile.count() == 2

    served = await small_client.get(f"/files/{blank.sha256}/{blank.name}")
    assert served.status_code == 200
    assert served.content == form
    assert served.headers["content-type"].startswith(
        "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
    )
    assert served.headers["x-content-type-options"] == "nosniff"
    assert "immutable" in served.headers["cache-control"]
    assert served.headers["content-disposition"] == (
        "attachment; filename=\"file.docx\"; filename*=UTF-8''%E7%94%B3%E8%AF%B7%E4%B9%A6.docx"
    )
    pdf = await small_client.get(f"/files/{content.result_sample.sha256}")
    assert pdf.content == PDF and pdf.headers["content-type"] == "application/pdf"
    assert pdf.headers["content-disposition"].startswith("inline;")
    assert (await small_client.get("/files/" + "0" * 64)).status_code == 404
    assert (await small_client.get("/files/not-a-hash")).status_code == 404

    # Saved again without choosing files, the draft keeps them; the same bytes cost nothing.
    page = await small_client.get(FORM)
    assert soup(page).select_one(f'a[href^="/files/{blank.sha256}/"]') is not None
    again = await _save(small_client, {"materials-1-sample-upload": ("样表.pdf", PDF, "application/pdf")})
    assert again.status_code in (302, 303), again.text[:3000]
    content = await _draft_content()
    assert content.materials[0].blank_form == blank
    assert content.materials[1].sample.sha256 == content.result_sample.sha256
    assert await StoredFile.count() == 2

    removed = await _save(small_client, {}, **{"materials-0-blank_form-remove": "true"})
    assert removed.status_code in (302, 303)
    assert (await _draft_content()).materials[0].blank_form is None


@EDITORS
async def test_a_bad_upload_is_a_chinese_field_error_and_changes_nothing(small_client):
    assert (await login(small_client, "li")).status_code in (302, 303)
    before = await Edition.count()
    refused = await _save(
        small_client,
        {
            "result_sample-upload": ("样本.pdf", b"MZ\x90\x00 a program", "application/pdf"),
            "materials-0-sample-upload": ("样表.pdf", PDF, "application/pdf"),
        },
        summary="改过的概述",
    )
    assert refused.status_code == 400
    errors = " ".join(e.get_text() for e in soup(refused).select(".field-error"))
    assert "不支持的文件类型" in errors and "重新选择" in errors
    assert await Edition.count() == before
    assert await _draft_content() is None
    assert await StoredFile.count() == 0  # not even the good file of the refused form


@EDITORS
async def test_a_draft_cannot_name_a_file_that_is_not_stored(small_client):
    assert (await login(small_client, "li")).status_code in (302, 303)
    fake = '{"name":"x.pdf","sha256":"' + "a" * 64 + '","media_type":"application/pdf","size":10}'
    refused = await _save(small_client, {}, result_sample=fake)
    assert refused.status_code == 400
    assert "附件文件不存在" in refused.text
    assert await _draft_content() is None


@EDITORS
async def test_a_published_file_is_on_the_guide_and_in_the_static_export(small_client, small_db, tmp_path):
    assert (await login(small_client, "li")).status_code in (302, 303)
    saved = await _save(
        small_client, {"materials-0-blank_form-upload": ("申请书.pdf", PDF, "application/pdf")}
    )
    assert saved.status_code in (302, 303)
    page = await small_client.get(FORM)
    await small_client.post(
        f"{FORM}/submit",
        data={"_csrf_token": csrf(page), "change_note": "增加空白表格", "effective_at": ""},
    )
    await small_client.post("/logout", data={"_csrf_token": csrf(page)})
    await login(small_client, "zhao")
    review = await small_client.get(f"/staff/review/{CODE}")
    diff = " ".join(li.get_text(" ", strip=True) for li in soup(review).select(".diff-list li"))
    assert "空白表格：（无） → 《申请书.pdf》" in diff
    approved = await small_client.post(
        f"/staff/review/{CODE}/approve",
        data={"_csrf_token": csrf(review), "effective_at": ""},
        follow_redirects=False,
    )
    assert approved.status_code in (302, 303)

    guide = soup(await small_client.get(f"/g/{CODE}"))
    (link,) = guide.select("a.file-link")
    assert (await small_client.get(link["href"])).content == PDF
    published = (await small_client.get(f"/g/{CODE}/guide.json")).json()
    assert published["materials"][0]["blank_form"]["sha256"] == hashlib.sha256(PDF).hexdigest()

    out = tmp_path / "site"
    await export_site(out, small_db.settings)
    page = BeautifulSoup((out / "g" / CODE / "index.html").read_text(encoding="utf-8"), "html.parser")
    (exported,) = page.select("a.file-link")
    target = (out / "g" / CODE / unquote(exported["href"])).resolve()
    assert target == (out / "files" / hashlib.sha256(PDF).hexdigest() / "申请书.pdf").resolve()
    assert target.read_bytes() == PDF


@pytest.mark.slow
async def test_seeded_application_forms_have_a_blank_form_and_a_sample(client, seeded_db):
    seeds = Path(__file__).parent.parent.parent / "seeds"
    listed = rtoml.loads((seeds / "attachments.toml").read_text(encoding="utf-8"))["attachment"]
    assert await StoredFile.count() == 2 * len(listed) >= 100
    item = await store.item_row("650100-SGSJ-001")
    guide = await store.current_guide(item["id"])
    blank = next(m.blank_form for m in guide.materials if m.blank_form)
    assert blank.name.endswith("（空白表格）.pdf") and blank.media_type == "application/pdf"
    served = await client.get(f"/files/{blank.sha256}/{quote(blank.name)}")
    assert hashlib.sha256(served.content).hexdigest() == blank.sha256
    assert served.content.startswith(b"%PDF-")
    report = await load_seeds(seeds)  # a second run changes nothing and stores no file twice
    assert not report.changed and await StoredFile.count() == 2 * len(listed)


@pytest.mark.slow
async def test_a_registry_seeded_before_the_forms_gets_them_as_new_editions(db, tmp_path):
    seeds = Path(__file__).parent.parent.parent / "seeds"
    before_forms = tmp_path / "seeds"
    shutil.copytree(seeds, before_forms, ignore=shutil.ignore_patterns("attachments.toml", "files"))
    await load_seeds(before_forms, now=SEEDED)
    first = {r["item.code"]: r["fingerprint"] for r in await _current_editions()}

    told = await load_seeds(seeds, now=SEEDED)  # without --update: reported, nothing published
    assert (
        len(told.differs) == 88
        and {r["item.code"]: r["fingerprint"] for r in await _current_editions()} == first
    )

    updated = await load_seeds(seeds, now=SEEDED, update=True)
    assert updated.updated["items"] == 88
    now = {r["item.code"]: (r["version"], r["fingerprint"]) for r in await _current_editions()}
    assert sum(v == 2 for v, _fp in now.values()) == 88
    assert all(fp != first[code] for code, (v, fp) in now.items() if v == 2)
    kept = await Edition.select(Edition.fingerprint).where(Edition.version == 1)
    assert {r["fingerprint"] for r in kept} == set(first.values())  # history keeps the first editions


async def _current_editions():
    return await Edition.select(Edition.item.code, Edition.version, Edition.fingerprint).where(
        Edition.id == Edition.item.current_edition
    )
