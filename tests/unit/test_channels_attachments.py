"""Attachments, national-list elements and situations on every channel (guides/ alone)."""

from __future__ import annotations

import json

import pytest
from bs4 import BeautifulSoup

from guides import fingerprint
from guides.channels import CHANNELS, json_ld, render
from guides.snapshot import DOCX, Attachment, Situation, SituationOption, canonical_json, replace
from guides.urls import StaticUrls
from registry.diff import diff_guides
from tests.unit.test_channels_render import URLS, env, guide  # noqa: F401

FORM = Attachment(name="申请书.docx", sha256="ab" * 32, media_type=DOCX, size=12_800)
SAMPLE = Attachment(name="样表.pdf", sha256="cd" * 32, media_type="application/pdf", size=2_048_000)
RESULT = Attachment(name="营业执照（样本）.png", sha256="ef" * 32, media_type="image/png", size=900)


@pytest.fixture
def with_files(guide):  # noqa: F811
    first = replace(guide.materials[0], blank_form=FORM, sample=SAMPLE)
    return replace(guide, materials=(first, *guide.materials[1:]), result_sample=RESULT)


def test_a_guide_without_files_keeps_its_canonical_bytes(guide):  # noqa: F811
    assert b"blank_form" not in canonical_json(guide) and b"result_sample" not in canonical_json(guide)


def test_the_fingerprint_covers_the_file_hash(with_files):
    other = replace(with_files, result_sample=replace(RESULT, sha256="ee" * 32))
    assert fingerprint(other) != fingerprint(with_files)
    data = json.loads(canonical_json(with_files))
    assert data["materials"][0]["blank_form"] == {
        "media_type": DOCX,
        "name": "申请书.docx",
        "sha256": "ab" * 32,
        "size": 12_800,
    }


def test_hall_print_and_markdown_link_the_files(env, with_files):  # noqa: F811
    fp = fingerprint(with_files)
    hall = BeautifulSoup(render(CHANNELS["hall"], with_files, fp, URLS, env), "html.parser")
    links = {a.get_text(): a["href"] for a in hall.select("a.file-link")}
    assert links == {
        "申请书.docx": "/files/" + "ab" * 32 + "/%E7%94%B3%E8%AF%B7%E4%B9%A6.docx",
        "样表.pdf": "/files/" + "cd" * 32 + "/%E6%A0%B7%E8%A1%A8.pdf",
        "营业执照（样本）.png": "/files/"
        + "ef" * 32
        + "/%E8%90%A5%E4%B8%9A%E6%89%A7%E7%85%A7%EF%BC%88%E6%A0%B7%E6%9C%AC%EF%BC%89.png",
    }
    text = "".join(hall.select_one("li.material").get_text().split())
    assert "空白表格：申请书.docx（Word，12KB）" in text and "示例样表：样表.pdf（PDF，2.0MB）" in text
    printed = BeautifulSoup(render(CHANNELS["print"], with_files, fp, URLS, env), "html.parser")
    assert "空白表格：申请书.docx" in "".join(printed.get_text().split())
    markdown = render(CHANNELS["markdown"], with_files, fp, URLS, env).decode()
    assert "空白表格：[申请书.docx](/files/" + "ab" * 32 + "/%E7%94%B3%E8%AF%B7%E4%B9%A6.docx)" in markdown
    assert "**结果样本**：[营业执照（样本）.png]" in markdown
    site = StaticUrls(URLS.public_url).at(2)
    exported = render(CHANNELS["hall"], with_files, fp, site, env).decode()
    assert 'href="../../files/' + "ab" * 32 + '/%E7%94%B3%E8%AF%B7%E4%B9%A6.docx"' in exported


def test_the_diff_names_a_new_file(guide, with_files):  # noqa: F811
    lines = [c.line() for c in diff_guides(guide, with_files)]
    assert "结果样本：（无） → 《营业执照（样本）.png》" in lines
    (materials,) = [line for line in lines if line.startswith("申请材料")]
    assert "空白表格：（无） → 《申请书.docx》" in materials
    renewed = replace(with_files, result_sample=replace(RESULT, sha256="00" * 32))
    assert [c.line() for c in diff_guides(with_files, renewed)] == [
        "结果样本：《营业执照（样本）.png》更换了文件"
    ]


def test_markdown_and_json_ld_show_the_national_elements_and_situations(env, guide):  # noqa: F811
    rich = replace(
        guide,
        basic_code="000105001000",
        case_kind="承诺件",
        handling_forms=("窗口办理", "网上办理"),
        online_url="https://zwfw.example.cn/apply",
        supervision="市政务服务管理局督查科",
        situations=(
            Situation(
                key="agent",
                question="是否委托他人办理？",
                options=(SituationOption("self", "本人办理"), SituationOption("agent", "委托他人办理")),
            ),
        ),
        materials=(replace(guide.materials[0], source="申请人自备", fill_guide="用黑色墨水笔填写"),),
    )
    fp = fingerprint(rich)
    markdown = render(CHANNELS["markdown"], rich, fp, URLS, env).decode()
    for line in (
        "- **基本编码**：000105001000",
        "- **办件类型**：承诺件",
        "- **办理形式**：窗口办理、网上办理",
        "- **监督投诉渠道**：市政务服务管理局督查科",
        "- **网上办理地址**：<https://zwfw.example.cn/apply>",
        "- **是否委托他人办理？** 本人办理 / 委托他人办理",
        "   来源渠道：申请人自备",
        "   填报须知：用黑色墨水笔填写",
    ):
        assert line in markdown, line
    properties = {p["propertyID"]: p for p in json_ld(rich, fp, URLS)["additionalProperty"]}
    assert properties["basic_code"] == {
        "@type": "PropertyValue",
        "propertyID": "basic_code",
        "name": "基本编码",
        "value": "000105001000",
    }
    assert properties["handling_forms"]["value"] == "窗口办理、网上办理"
    assert properties["situation:agent"]["value"] == ["本人办理", "委托他人办理"]
    assert "additionalProperty" not in json_ld(guide, fingerprint(guide), URLS)
