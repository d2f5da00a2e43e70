"""Turning the staff edit form into the mapping the content reader reads (and back).

The form's fields are the content schema's fields: scalars by name, list entries as
`{list}-{i}-{field}` (e.g. `materials-2-condition`), checkboxes sending "true".
"""

from __future__ import annotations

import re
from typing import Any

from registry.editions.schema import CONTENT_FIELDS, EditionContent
from registry.inputs import text_entries, to_mapping

SCALARS = tuple(f.name for f in CONTENT_FIELDS if f.kind not in ("records", "choices"))
MULTI = tuple(f.name for f in CONTENT_FIELDS if f.kind == "choices")
LISTS = {f.name: f.subfields for f in CONTENT_FIELDS if f.kind == "records"}
_ROW = re.compile(r"^(\w+)-(\d{1,4})-(\w+)$", re.ASCII)


def form_to_mapping(form: Any) -> dict[str, Any]:
    data: dict[str, Any] = {k: form.get(k) or "" for k in SCALARS}
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
                if sub.kind == "bool":
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
