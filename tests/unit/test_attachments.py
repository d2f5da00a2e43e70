"""Attachments: the type comes from the bytes, never from the name; sizes and names are safe."""

from __future__ import annotations

import hashlib
import io
import zipfile

import openpyxl
import pytest

from guides.snapshot import ATTACHMENT_MAX_BYTES, DOCX, XLSX, safe_file_name
from registry.attachments import content_disposition, describe, sniff
from registry.inputs import Invalid

PDF = b"%PDF-1.4\n1 0 obj <<>> endobj\ntrailer <<>>\n%%EOF\n"
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 32
JPEG = b"\xff\xd8\xff\xe0" + b"\x00" * 32


def office(main: str, folder: str, part: str) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as z:
        z.writestr(
            "[Content_Types].xml",
            f'<Types><Override PartName="/{folder}{part}" ContentType="{main}"/></Types>',
        )
        z.writestr(f"{folder}{part}", "<x/>")
    return buffer.getvalue()


def docx() -> bytes:
    return office(
        "application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml",
        "word/",
        "document.xml",
    )


def xlsx() -> bytes:
    buffer = io.BytesIO()
    openpyxl.Workbook().save(buffer)
    return buffer.getvalue()


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        (PDF, "application/pdf"),
        (PNG, "image/png"),
        (JPEG, "image/jpeg"),
        (docx(), DOCX),
        (xlsx(), XLSX),
    ],
)
def test_the_type_is_sniffed_from_the_bytes(data, expected):
    assert sniff(data) == expected


@pytest.mark.parametrize(
    ("data", "words"),
    [
        (b"", "为空"),
        (b"MZ\x90\x00" + b"\x00" * 100, "不支持"),  # a Windows program
        (b"<html><script>alert(1)</script>", "不支持"),
        (b"%PDF-1.4\n truncated", "不完整"),
        (b"PK\x03\x04 not really a zip", "损坏"),
        (office("application/zip", "other/", "a.xml"), "不支持"),
        (
            office("application/vnd.ms-word.document.macroEnabled.main+xml", "word/", "document.xml"),
            "宏",
        ),
    ],
)
def test_other_files_are_refused_in_chinese(data, words):
    with pytest.raises(Invalid) as refused:
        sniff(data)
    assert words in refused.value.message


def test_a_file_over_the_limit_is_refused():
    with pytest.raises(Invalid) as refused:
        sniff(PDF[:-6] + b" " * ATTACHMENT_MAX_BYTES + b"%%EOF\n")
    assert "过大" in refused.value.message
    at_limit = PDF[:-6] + b" " * (ATTACHMENT_MAX_BYTES - len(PDF)) + b"%%EOF\n"
    assert len(at_limit) == ATTACHMENT_MAX_BYTES
    assert sniff(at_limit) == "application/pdf"


def test_a_renamed_file_gets_the_extension_of_its_content():
    record = describe("C:\\Users\\张三\\申请表.pdf", docx())
    assert (record.media_type, record.name) == (DOCX, "申请表.docx")
    with pytest.raises(Invalid):
        describe("申请表.pdf", b"MZ\x90\x00 program")


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("../../etc/passwd", "passwd.pdf"),
        ('a"b;c\r\nd.pdf', "a b c d.pdf"),
        ("", "附件.pdf"),
        ("...", "附件.pdf"),
        ("表" * 200 + ".pdf", "表" * 80 + ".pdf"),
    ],
)
def test_file_names_are_made_safe(name, expected):
    assert safe_file_name(name, "application/pdf") == expected


def test_content_disposition_follows_rfc_6266():
    assert content_disposition("申请表.docx", DOCX) == (
        "attachment; filename=\"file.docx\"; filename*=UTF-8''%E7%94%B3%E8%AF%B7%E8%A1%A8.docx"
    )
    assert content_disposition('x"; evil.pdf', "application/pdf").startswith('inline; filename="x evil.pdf"')


def test_seed_files_are_checked_like_uploads(tmp_path):
    from registry.attachments import SeedFiles

    (tmp_path / "files").mkdir()
    (tmp_path / "files" / "form.pdf").write_bytes(PDF)
    (tmp_path / "files" / "fake.pdf").write_bytes(b"MZ\x90\x00 program")
    (tmp_path / "attachments.toml").write_text(
        '[[attachment]]\nmaterial = "form"\nblank_form = "form.pdf"\nsample = "missing.pdf"\n'
        '[[attachment]]\nmaterial = "nothing"\nblank_form = "form.pdf"\n',
        encoding="utf-8",
    )
    files = SeedFiles(tmp_path, {"form": "开业申请表", "id-card": "居民身份证"})
    item = {
        "name": "开业登记",
        "result_sample": "fake.pdf",
        "materials": [{"material": "form"}, {"material": "id-card"}],
    }
    applied = files.apply(item, ("items/X.toml", "item X"))
    assert applied["materials"][0]["blank_form"]["name"] == "开业申请表（空白表格）.pdf"
    assert "blank_form" not in applied["materials"][1] and item["materials"][0] == {"material": "form"}
    assert list(files.files) == [hashlib.sha256(PDF).hexdigest()]
    problems = {(p[2], p[3].split("：")[0]) for p in files.problems}
    assert problems == {
        ("material", "材料目录中没有“nothing”"),
        ("materials[0].sample", "找不到文件 files/missing.pdf"),
        ("result_sample", "files/fake.pdf"),
    }
