"""Turning the staff edit form into the mapping `content_from_mapping` reads (and back)."""

from __future__ import annotations

import dataclasses
import re
from typing import Any

from registry.content import EditionContent

SCALARS = (
    "name",
    "summary",
    "result",
    "conditions",
    "statutory_days",
    "promised_days",
    "trips",
    "trips_reason",
    "online_depth",
    "effective_at",
    "consult_phone",
    "complaint_phone",
)
LISTS: dict[str, tuple[str, ...]] = {
    "materials": ("material", "form", "copies", "medium", "required", "condition", "waivable", "notes"),
    "legal_basis": ("document", "articles"),
    "steps": ("name", "actor", "duration", "description"),
    "fees": ("name", "amount", "basis"),
    "venues": ("name", "address", "window", "hours", "note"),
    "faq": ("question", "answer"),
}
CHECKBOXES = {("materials", "required"), ("materials", "waivable")}
# The field a row must have to count; a row without it is an unused blank row.
KEY_FIELD = {
    "materials": "material",
    "legal_basis": "document",
    "steps": "name",
    "fees": "name",
    "venues": "name",
    "faq": "question",
}
_ROW = re.compile(r"^(\w+)-(\d+)-(\w+)$")


def form_to_mapping(form: Any) -> dict[str, Any]:
    data: dict[str, Any] = {k: (form.get(k) or "").strip() for k in SCALARS}
    data["audience"] = [a for a in form.getall("audience", []) if a]
    rows: dict[str, dict[int, dict[str, Any]]] = {name: {} for name in LISTS}
    for key in form:
        m = _ROW.match(key)
        if m and m.group(1) in LISTS and m.group(3) in LISTS[m.group(1)]:
            rows[m.group(1)].setdefault(int(m.group(2)), {})[m.group(3)] = (form.get(key) or "").strip()
    for name, by_index in rows.items():
        out = []
        for index in sorted(by_index):
            row = by_index[index]
            if not row.get(KEY_FIELD[name]):
                continue
            for field in LISTS[name]:
                if (name, field) in CHECKBOXES:
                    row[field] = row.get(field) == "true"
                else:
                    row.setdefault(field, "")
            if name == "materials" and not row.get("copies"):
                row["copies"] = "1"
            out.append(row)
        data[name] = out
    return data


def content_to_mapping(content: EditionContent) -> dict[str, Any]:
    """The same shape, from saved content, to fill the form."""
    data = dataclasses.asdict(content)
    data["effective_at"] = content.effective_at.isoformat()
    data["audience"] = list(content.audience)
    return data
