"""Attachments (空白表格, 示例样表, 结果样本): an upload's type sniffed from its bytes, the bytes
stored once by SHA-256 in the database, and read back by hash.

The type is never taken from the file name or the client's Content-Type: PDF, PNG and JPEG by
their signatures, DOCX and XLSX as ZIP packages whose `[Content_Types].xml` declares a Word
document or an Excel workbook (macro-enabled packages and other ZIPs are refused). Storing is
insert-if-absent, so the same file uploaded twice costs nothing, and every app server of one
installation serves the same bytes.
"""

from __future__ import annotations

import hashlib
import io
import zipfile
from collections.abc import Mapping
from datetime import datetime
from pathlib import Path
from typing import Any
from urllib.parse import quote

import msgspec
import rtoml

from guides.i18n import _
from guides.snapshot import (
    ATTACHMENT_MAX_BYTES,
    DOCX,
    XLSX,
    Attachment,
    GuideContent,
    MaterialTerms,
    attachments_in,
    field_title,
    safe_file_name,
)
from registry.errors import FieldError
from registry.inputs import Invalid, fields_of
from registry.tables import StoredFile

# The main part a package's [Content_Types].xml must declare for each accepted Office type.
_OFFICE_MAIN = {
    DOCX: b"application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml",
    XLSX: b"application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml",
}
_OFFICE_FOLDER = {DOCX: "word/", XLSX: "xl/"}
_MAX_UNPACKED = 50 * ATTACHMENT_MAX_BYTES  # a ZIP that unpacks to more is not a form
ACCEPTED = "PDF、Word（.docx）、Excel（.xlsx）、PNG 或 JPEG"


def _office_type(data: bytes) -> str:
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as package:
            infos = package.infolist()
            if sum(i.file_size for i in infos) > _MAX_UNPACKED:
                raise Invalid(_("压缩包解压后过大，不是有效的 Word 或 Excel 文件"))
            names = {i.filename for i in infos}
            if "[Content_Types].xml" not in names:
                raise Invalid(_("不是有效的 Word 或 Excel 文件（缺少 [Content_Types].xml）"))
            types = package.read("[Content_Types].xml")
    except (zipfile.BadZipFile, ValueError, NotImplementedError, EOFError, OSError) as exc:
        raise Invalid(_("文件已损坏或不是有效的 Word / Excel 文件")) from exc
    for media_type, main in _OFFICE_MAIN.items():
        folder = _OFFICE_FOLDER[media_type]
        if main in types and any(n.startswith(folder) for n in names):
            return media_type
    raise Invalid(_("不支持的文件类型：只接受 {accepted}（含宏的文档也不接受）", accepted=ACCEPTED))


def sniff(data: bytes) -> str:
    """The media type of `data`, from its content; raises Invalid (Chinese) for anything else."""
    if not data:
        raise Invalid(_("文件为空"))
    if len(data) > ATTACHMENT_MAX_BYTES:
        raise Invalid(_("文件过大（最大 {mb} MB）", mb=ATTACHMENT_MAX_BYTES // (1024 * 1024)))
    if data.startswith(b"%PDF-"):
        if b"%%EOF" not in data[-2048:]:
            raise Invalid(_("PDF 文件不完整"))
        return "application/pdf"
    if data.startswith(b"\x89PNG\r\n\x1a\n"):
        return "image/png"
    if data.startswith(b"\xff\xd8\xff"):
        return "image/jpeg"
    if data.startswith(b"PK\x03\x04"):
        return _office_type(data)
    raise Invalid(_("不支持的文件类型：只接受 {accepted}", accepted=ACCEPTED))


def describe(name: str, data: bytes) -> Attachment:
    """The attachment record of an upload: type sniffed, name made safe; raises Invalid."""
    media_type = sniff(data)
    return Attachment(
        name=safe_file_name(name, media_type),
        sha256=hashlib.sha256(data).hexdigest(),
        media_type=media_type,
        size=len(data),
    )


async def store(data: bytes, *, now: datetime) -> Attachment:
    """Check and keep an upload's bytes (insert-if-absent); the caller names it."""
    record = describe("", data)
    await StoredFile.insert(
        StoredFile(
            sha256=record.sha256, content=data, media_type=record.media_type, size=record.size, created_at=now
        )
    ).on_conflict(action="DO NOTHING")
    return record


async def load(sha256: str) -> dict[str, Any] | None:
    """The stored file (sha256, content, media_type, size), or None."""
    if len(sha256) != 64 or not all(c in "0123456789abcdef" for c in sha256):
        return None
    return await StoredFile.select().where(StoredFile.sha256 == sha256).first()


async def known(hashes: set[str]) -> dict[str, dict[str, Any]]:
    """Media type and size of the stored files among `hashes`."""
    if not hashes:
        return {}
    rows = await StoredFile.select(StoredFile.sha256, StoredFile.media_type, StoredFile.size).where(
        StoredFile.sha256.is_in(sorted(hashes))
    )
    return {r["sha256"]: r for r in rows}


async def contents(hashes: set[str]) -> dict[str, bytes]:
    """The bytes of the stored files among `hashes` (the static export writes them)."""
    if not hashes:
        return {}
    rows = await StoredFile.select(StoredFile.sha256, StoredFile.content).where(
        StoredFile.sha256.is_in(sorted(hashes))
    )
    return {r["sha256"]: bytes(r["content"]) for r in rows}


async def reference_errors(content: Any) -> list[FieldError]:
    """Every attachment of an edition's content must name a stored file, with its type and size
    (the API and a tampered form could name any hash)."""
    found = attachments_in(content)
    stored = await known({a.sha256 for _path, a in found})
    errors = []
    for path, a in found:
        row = stored.get(a.sha256)
        if a.name != safe_file_name(a.name, a.media_type):
            errors.append(
                FieldError(f"{path}.name", _("文件名应为“{n}”", n=safe_file_name(a.name, a.media_type)))
            )
        elif row is None:
            errors.append(FieldError(path, _("附件文件不存在，请重新上传")))
        elif (row["media_type"], row["size"]) != (a.media_type, a.size):
            errors.append(FieldError(path, _("附件的类型或大小与已存文件不符")))
    return errors


MATERIAL_FILES = tuple(f.name for f in fields_of(MaterialTerms) if f.kind == "file")  # blank_form, sample
ITEM_FILES = tuple(f.name for f in fields_of(GuideContent) if f.kind == "file")  # result_sample


def keep_files(content: Any, base: Any) -> Any:
    """`content` with `base`'s attachments wherever it has none: for channels that cannot carry
    files (a spreadsheet row), so importing a sheet never drops an item's forms."""
    old = {m.material: m for m in base.materials}
    materials = []
    for m in content.materials:
        before = old.get(m.material)
        kept = {
            role: getattr(before, role)
            for role in MATERIAL_FILES
            if before is not None and getattr(m, role) is None and getattr(before, role) is not None
        }
        materials.append(msgspec.structs.replace(m, **kept) if kept else m)
    changes: dict[str, Any] = {"materials": tuple(materials)}
    for role in ITEM_FILES:
        if getattr(content, role) is None and getattr(base, role) is not None:
            changes[role] = getattr(base, role)
    return msgspec.structs.replace(content, **changes)


def content_disposition(name: str, media_type: str) -> str:
    """RFC 6266: an ASCII fallback and the UTF-8 name; Office files download, PDF and images
    open in the browser."""
    safe = safe_file_name(name, media_type)
    ascii_name = safe.encode("ascii", "ignore").decode().strip() or "file"
    if ascii_name.startswith("."):
        ascii_name = "file" + ascii_name
    kind = "attachment" if media_type in _OFFICE_MAIN else "inline"
    return f"{kind}; filename=\"{ascii_name}\"; filename*=UTF-8''{quote(safe, safe='')}"


# ---- seed files (seeds/files/, referred to by file name) ------------------------------------


class SeedFiles:
    """The files seed data refers to by name: `seeds/attachments.toml` gives a catalogue
    material its blank form and sample for every item that asks for it; an item may also name a
    file itself (`blank_form = "x.pdf"` in a material entry, `result_sample = "y.pdf"`). Every
    file is checked like an upload; `files` holds the bytes to store, by SHA-256."""

    ROLES = MATERIAL_FILES

    def __init__(self, root: Path, material_names: dict[str, str]) -> None:
        self.root = root
        self.names = material_names
        self.files: dict[str, bytes] = {}
        self.problems: list[tuple[str, str, str, str]] = []
        self._records: dict[str, dict[str, Any]] = {}
        self.by_material: dict[str, dict[str, str]] = {}
        listing = root / "attachments.toml"
        if listing.is_file():
            self._read_listing(listing)

    def _read_listing(self, listing: Path) -> None:
        label = listing.name
        try:
            data = rtoml.loads(listing.read_text(encoding="utf-8"))
        except (rtoml.TomlParsingError, UnicodeDecodeError) as exc:
            self.problems.append((label, "-", "-", _("不是有效的 TOML：{e}", e=exc)))
            return
        for i, entry in enumerate(data.get("attachment", []), start=1):
            where = (label, f"attachment #{i}")
            code = entry.get("material") if isinstance(entry, dict) else None
            if code not in self.names:
                self.problems.append((*where, "material", _("材料目录中没有“{v}”", v=code)))
                continue
            unknown = set(entry) - {"material", *self.ROLES}
            for key in sorted(unknown):
                self.problems.append((*where, key, _("未知字段")))
            self.by_material[code] = {r: entry[r] for r in self.ROLES if isinstance(entry.get(r), str)}

    def record(
        self, file_name: str, display: str, where: tuple[str, str], field: str
    ) -> dict[str, Any] | None:
        """The attachment record of seeds/files/{file_name}, shown as `display`."""
        key = f"{file_name}\n{display}"
        if key in self._records:
            return self._records[key]
        path = self.root / "files" / file_name
        if "/" in file_name or "\\" in file_name or not path.is_file():
            self.problems.append((*where, field, _("找不到文件 files/{f}", f=file_name)))
            return None
        data = path.read_bytes()
        try:
            media_type = sniff(data)
        except Invalid as exc:
            self.problems.append((*where, field, f"files/{file_name}：{exc.message}"))
            return None
        record = describe(display, data)
        self.files[record.sha256] = data
        self._records[key] = msgspec.to_builtins(record)
        assert record.media_type == media_type
        return self._records[key]

    def apply(self, data: Mapping[str, Any], where: tuple[str, str]) -> Mapping[str, Any]:
        """An item's seed mapping with file names turned into attachment records (a copy when
        anything changes; bad names become problems)."""
        materials = data.get("materials")
        changed: dict[str, Any] = {}
        if isinstance(data.get("result_sample"), str):
            name = data.get("result") or data.get("name") or "结果"
            changed["result_sample"] = self.record(
                data["result_sample"],
                f"{name}（{field_title(GuideContent, 'result_sample')}）",
                where,
                "result_sample",
            )
        if isinstance(materials, list):
            entries = []
            for i, entry in enumerate(materials):
                if not isinstance(entry, dict) or entry.get("material") not in self.names:
                    entries.append(entry)
                    continue
                code = entry["material"]
                new = dict(entry)
                for role in self.ROLES:
                    file_name = entry.get(role, self.by_material.get(code, {}).get(role))
                    if isinstance(file_name, str):
                        display = f"{self.names[code]}（{field_title(MaterialTerms, role)}）"
                        new[role] = self.record(file_name, display, where, f"materials[{i}].{role}")
                entries.append({k: v for k, v in new.items() if v is not None})
            changed["materials"] = entries
        return {**data, **changed} if changed else data
