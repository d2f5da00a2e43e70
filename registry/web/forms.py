"""Turning the staff edit form into the mapping the content reader reads (and back).

The form's fields are the content schema's fields: scalars by name, list entries as
`{list}-{i}-{field}` (e.g. `materials-2-condition`), checkboxes sending "true". An attachment
field (`result_sample`, `materials-2-blank_form`) is a hidden input holding the current file's
record as JSON, a file input `{name}-upload` and a checkbox `{name}-remove`.
"""

from __future__ import annotations

import re
from typing import Any

import msgspec
from litestar.datastructures import UploadFile

from guides.snapshot import Attachment
from registry import attachments
from registry.editions.schema import CONTENT_FIELDS, EditionContent
from registry.inputs import Invalid, text_entries, to_mapping

SCALARS = tuple(f.name for f in CONTENT_FIELDS if f.kind not in ("records", "choices", "file"))
MULTI = tuple(f.name for f in CONTENT_FIELDS if f.kind == "choices")
LISTS = {f.name: f.subfields for f in CONTENT_FIELDS if f.kind == "records"}
FILES = tuple(f.name for f in CONTENT_FIELDS if f.kind == "file")
_ROW = re.compile(r"^(\w+)-(\d{1,4})-(\w+)$", re.ASCII)
UPLOAD = "-upload"


def _attachment(form: Any, key: str, files: dict[str, Any]) -> Any:
    """An attachment field's value: a new upload, else the kept file (the hidden JSON), else None."""
    if key in files:
        return files[key]
    raw = form.get(key) or ""
    if not isinstance(raw, str) or not raw or form.get(f"{key}-remove") == "true":
        return None
    try:
        return msgspec.json.decode(raw)
    except msgspec.DecodeError:
        return raw  # the reader names it


def upload_path(key: str) -> str | None:
    """The content path of a form key (`materials-2-blank_form` → `materials[2].blank_form`)."""
    if key in FILES:
        return key
    m = _ROW.match(key)
    if (
        m
        and m.group(1) in LISTS
        and any(s.name == m.group(3) and s.kind == "file" for s in LISTS[m.group(1)])
    ):
        return f"{m.group(1)}[{int(m.group(2))}].{m.group(3)}"
    return None


async def read_uploads(form: Any) -> tuple[dict[str, tuple[Attachment, bytes]], dict[str, str]]:
    """The files chosen in the form, checked (type from the bytes, size): form key → (record,
    bytes), and the problems by content path. Nothing is stored here."""
    found: dict[str, tuple[Attachment, bytes]] = {}
    errors: dict[str, str] = {}
    for key in form:
        if not key.endswith(UPLOAD) or (path := upload_path(key[: -len(UPLOAD)])) is None:
            continue
        upload = next((v for v in form.getall(key, []) if isinstance(v, UploadFile)), None)
        if upload is None:
            continue
        data = await upload.read()
        if not upload.filename and not data:  # the input was left empty
            continue
        try:
            found[key[: -len(UPLOAD)]] = (attachments.describe(upload.filename or "", data), data)
        except Invalid as exc:
            errors[path] = exc.message
    return found, errors


def form_to_mapping(form: Any, files: dict[str, Any] | None = None) -> dict[str, Any]:
    """The form as the content reader's mapping; `files` (form key → attachment record) are new
    uploads that replace the kept files."""
    files = files or {}
    data: dict[str, Any] = {k: form.get(k) or "" for k in SCALARS}
    for name in FILES:
        if (value := _attachment(form, name, files)) is not None:
            data[name] = value
    for name in MULTI:
        data[name] = [a for a in form.getall(name, []) if a]
    rows: dict[str, dict[int, dict[str, Any]]] = {name: {} for name in LISTS}
    names = {list_name: {sub.name for sub in subs} for list_name, subs in LISTS.items()}
    for key in form:
        m = _ROW.match(key)
        if m and m.group(1) in LISTS and m.group(3) in names[m.group(1)]:
            rows[m.group(1)].setdefault(int(m.group(2)), {})[m.group(3)] = form.get(key) or ""
    for name, by_index in rows.items():
        out = []
        key_field = LISTS[name][0]  # a row whose first field is empty is an unused blank row
        for index in sorted(by_index):
            row = by_index[index]
            if not str(row.get(key_field.name, "")).strip():
                continue
            for sub in LISTS[name]:
                if sub.kind == "file":
                    row[sub.name] = _attachment(form, f"{name}-{index}-{sub.name}", files) or ""
                elif sub.kind == "bool":
                    row[sub.name] = "true" if row.get(sub.name) == "true" else "false"
                elif sub.kind == "records":  # nested entries, one input: “key=label；key=label”
                    row[sub.name] = text_entries(row.get(sub.name, ""), sub)
                elif sub.kind == "choices":
                    row[sub.name] = [a for a in re.split(r"[、,，\s]+", row.get(sub.name, "")) if a]
            out.append({k: v for k, v in row.items() if v not in ("", [])})
        data[name] = out
    return data


def content_to_mapping(content: EditionContent) -> dict[str, Any]:
    """The same shape, from saved content, to fill the form."""
    return to_mapping(content)
