"""Spreadsheets in and out: the item list as an XLSX template (and CSV), and its checked import.

The workbook has a sheet 事项 (one row per item), a sheet 材料 (one row per material an item asks
for) and a sheet 说明 that documents every column. Columns are found by their header, so their
order may change. List-valued cells hold one entry per line (see `ITEM_COLUMNS`).

Import reads and checks everything first (`read_workbook` → `ImportPlan`, every problem with its
sheet, Excel row number and column header), then `apply_import` compares each row with the item's
open draft (or its current edition) and, when nothing at all is wrong, creates or updates drafts in
one transaction. It never publishes: drafts go through review like any other change.

The writer helpers (`SheetSpec`, `write_xlsx`, `write_csv`) are shared by every table export.
"""

from __future__ import annotations

import asyncio
import copy
import csv
import dataclasses
import io
import re
from collections.abc import Callable, Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import IO, Any

from guides.i18n import _
from registry import attachments
from registry.access import SYSTEM, Actor
from registry.db import write_transaction
from registry.editions import commands, store
from registry.editions.schema import (
    CONTENT_FIELDS,
    EditionContent,
    MaterialUse,
    content_from_mapping,
    item_code_error,
)
from registry.editions.workflow import Action, refusal
from registry.errors import DomainError, FieldError, ValidationError
from registry.inputs import FieldSpec, entries_text, field_spec, fields_of, text_entries
from registry.tables import Department, LegalDocument, Material, ServiceItem
from registry.vocab import ITEM_TYPES

ITEM_SHEET = "事项"
MATERIAL_SHEET = "材料"
NOTES_SHEET = "说明"
XLSX_MEDIA_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
CSV_MEDIA_TYPE = "text/csv; charset=utf-8"

MAX_ITEM_ROWS = 5_000
MAX_MATERIAL_ROWS = 50_000
YES, NO = "是", "否"
NO_FEES = ("不收费", "免费")
SEPARATORS = "｜|"  # full-width bar, and the half-width one people type

Progress = Callable[[int, int], None]  # (done, total)


# ---- the layout ----------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Column:
    header: str
    key: str  # the content field (or code / department / item_type)
    kind: str  # text | int | date | lines | list | bool
    width: int
    note: str
    example: str = ""
    required: bool = True  # the column must be present in an imported sheet
    choices: tuple[str, ...] = ()
    wrap: bool = False


LINE_NOTE = "分隔符为全角竖线“｜”（半角“|”也可），后面的项可省略"
LIST_FIELDS = tuple(f.name for f in CONTENT_FIELDS if f.kind == "records" and f.name != "materials")
# The parts of one line of a list cell, with the label a problem names.
LINE_PARTS: dict[str, tuple[tuple[str, str], ...]] = {
    f.name: tuple((sub.name, sub.title) for sub in f.subfields)
    for f in CONTENT_FIELDS
    if f.name in LIST_FIELDS
}
# Parts of a line that are not plain text: nested entries (“key=label；…”) and lists (“一、二”).
_PART_SPECS: dict[str, dict[str, FieldSpec]] = {
    f.name: {sub.name: sub for sub in f.subfields if sub.kind in ("records", "choices")}
    for f in CONTENT_FIELDS
    if f.name in LIST_FIELDS
}


def _part_text(key: str, name: str, value: Any) -> str:
    spec = _PART_SPECS[key].get(name)
    if spec is None:
        return str(value)
    if spec.kind == "records":
        return entries_text(value, spec)
    return "、".join(value)


def _part_value(key: str, name: str, text: str) -> Any:
    spec = _PART_SPECS[key].get(name)
    if spec is None:
        return text
    if spec.kind == "records":
        return text_entries(text, spec)
    return [a for a in re.split(r"[、,，\s]+", text) if a]


_KINDS = {
    "text": "text",
    "choice": "text",
    "int": "int",
    "date": "date",
    "choices": "list",
    "records": "lines",
}


def _note(f: FieldSpec) -> str:
    """What the template says about a column: derived from the field's type, limits and help."""
    parts = []
    if f.kind == "int":
        parts.append(f"整数 {f.lo}–{f.hi}")
    elif f.kind == "date":
        parts.append("YYYY-MM-DD，或 Excel 日期单元格")
    elif f.kind == "choice":
        parts.append("、".join(f.choices) + " 之一")
    elif f.kind == "choices":
        parts.append("、".join(f.choices) + " 中的一项或多项，用顿号“、”分隔")
    elif f.kind == "records" and f.name == "legal_basis":
        parts.append("每行一项：“文件编码 条款”，编码与条款以空格分隔，条款可省略")
    elif f.kind == "records":
        parts.append(
            "每行一项：“" + "｜".join(title for _name, title in LINE_PARTS[f.name]) + "”；" + LINE_NOTE
        )
    if f.required:
        parts.append("必填")
    if f.help and f.help not in parts:
        parts.append(f.help)
    if f.kind == "text" and f.max_length:
        parts.append(f"最多 {f.max_length} 字")
    return "；".join(parts)


def _content_column(f: FieldSpec) -> Column:
    return Column(
        f.title,
        f.name,
        _KINDS[f.kind],
        f.extra.get("width") or 16,
        _note(f),
        f.example,
        choices=f.choices if f.kind == "choice" else (),
        wrap=f.kind == "records" or f.widget in ("textarea", "markdown"),
    )


ITEM_COLUMNS: tuple[Column, ...] = (
    Column(
        "事项编码",
        "code",
        "text",
        22,
        "3–40 位大写字母、数字或连字符；已有的编码更新该事项，新编码新增事项",
        "650100-SGSJ-001",
    ),
    Column("实施主体编码", "department", "text", 12, "实施主体（部门或区县）的编码", "SGSJ"),
    Column(
        "事项类型", "item_type", "text", 12, "、".join(ITEM_TYPES) + " 之一", "行政许可", choices=ITEM_TYPES
    ),
    # Attachments are files: uploaded on the staff form (a cell cannot carry them).
    *(_content_column(f) for f in CONTENT_FIELDS if f.name != "materials" and f.kind != "file"),
)
MATERIAL_USE_FIELDS = tuple(  # its terms (files are uploaded on the staff form)
    f for f in fields_of(MaterialUse) if f.name != "material" and f.kind != "file"
)


def _material_column(f: FieldSpec) -> Column:
    if f.kind == "bool":
        default = YES if f.default else NO
        return Column(f.title, f.name, "bool", 8, f"是 或 否；留空为{default}", default, choices=(YES, NO))
    column = _content_column(f)
    if f.default not in (None, ""):
        column = dataclasses.replace(column, note=f"{column.note}；留空为{f.default}".lstrip("；"))
    return column


MATERIAL_COLUMNS: tuple[Column, ...] = (
    Column("事项编码", "item", "text", 22, "「事项」表中的事项编码", "650100-SGSJ-001"),
    Column("序号", "position", "int", 6, "材料在该事项中的顺序（整数）；留空按行的先后", "1"),
    Column("材料编码", "material", "text", 22, "材料目录中的编码；留空时按「材料名称」查找", "id-card"),
    Column(
        "材料名称",
        "name",
        "text",
        24,
        "仅供阅读（导出时填写）；材料编码为空时按名称查找",
        "居民身份证",
        required=False,
    ),
    *(_material_column(f) for f in MATERIAL_USE_FIELDS),
)
ITEM_HEADERS = tuple(c.header for c in ITEM_COLUMNS)
MATERIAL_HEADERS = tuple(c.header for c in MATERIAL_COLUMNS)
_ITEM_BY_KEY = {c.key: c for c in ITEM_COLUMNS}
_MATERIAL_BY_KEY = {c.key: c for c in MATERIAL_COLUMNS}
_COLUMN_ORDER = {
    ITEM_SHEET: {h: i for i, h in enumerate(ITEM_HEADERS)},
    MATERIAL_SHEET: {h: i for i, h in enumerate(MATERIAL_HEADERS)},
}

# A rule that involves two fields is reported on one column; when the other column is missing from
# the sheet, the problem is the missing column, not the rule.
_RULE_ALSO_NEEDS = {
    "promised_days": "法定办结时限",
    "trips_reason": "到办事现场次数",
    "online_depth": "到办事现场次数",
    "complaint_phone": "咨询电话",
}

NOTES: tuple[str, ...] = (
    "本模板用于批量导入、导出政务服务事项。导入只生成草稿，提交审核并批准后才会发布。",
    "「事项」表每行一个事项；「材料」表每行一项申请材料，用「事项编码」与事项对应。列的顺序可以调整，但列名不能改。",
    "导入时先检查全部内容：任何一处有误，都不写入任何内容，并按“工作表、行号、列名”列出每个问题。",
    "已有事项按编码更新其草稿（没有草稿则新建草稿）；内容与现有草稿或现行版本相同的行不做改动。",
    "一个事项的申请材料以「材料」表为准：表中没有列出的材料将从该事项的草稿中删除。",
    "多行单元格中每行一项；在 Excel 中按 Alt+Enter 换行。" + LINE_NOTE + "。",
    "内容本身含竖线或需要换行时，写作“\\｜”或“\\n”；反斜杠本身写作“\\\\”。",
)


# ---- writing workbooks and CSV (shared by every table export) --------------------------------


@dataclass(frozen=True, slots=True)
class SheetSpec:
    """One sheet of a workbook: a header row and data rows, found by header when read back.

    `widths` (header → characters), `text_columns` (kept as text, e.g. codes and phone numbers),
    `wrap_columns` (multi-line), `number_formats` (header → Excel format such as "0.0%"),
    `choices` (header → a drop-down list), `notes` (header → a comment shown on the header)."""

    title: str
    headers: Sequence[str]
    rows: Iterable[Sequence[Any]] = ()
    widths: Mapping[str, float] = field(default_factory=dict)
    text_columns: Collection[str] = ()
    wrap_columns: Collection[str] = ()
    number_formats: Mapping[str, str] = field(default_factory=dict)
    choices: Mapping[str, Sequence[str]] = field(default_factory=dict)
    notes: Mapping[str, str] = field(default_factory=dict)


def write_xlsx(target: str | Path | IO[bytes], sheets: Sequence[SheetSpec]) -> None:
    """Write `sheets` as one XLSX workbook. Text is always stored as text (never a formula)."""
    from openpyxl import Workbook
    from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
    from openpyxl.comments import Comment
    from openpyxl.styles import Alignment, Font, PatternFill
    from openpyxl.utils import get_column_letter
    from openpyxl.worksheet.datavalidation import DataValidation

    wb = Workbook()
    wb.remove(wb.active)
    bold = Font(bold=True)
    fill = PatternFill("solid", fgColor="DDEBF7")
    wrap = Alignment(wrap_text=True, vertical="top")
    for spec in sheets:
        ws = wb.create_sheet(spec.title)
        for c, header in enumerate(spec.headers, start=1):
            if not header:
                continue
            cell = ws.cell(row=1, column=c, value=header)
            cell.font, cell.fill = bold, fill
            if spec.notes.get(header):
                cell.comment = Comment(spec.notes[header], "onetrip", width=320, height=120)
            ws.column_dimensions[get_column_letter(c)].width = spec.widths.get(
                header, max(10, 2 * len(header))
            )
        ws.freeze_panes = "A2"
        formats = {
            c: ("@" if h in spec.text_columns else spec.number_formats.get(h))
            for c, h in enumerate(spec.headers, start=1)
        }
        wrapped = {c for c, h in enumerate(spec.headers, start=1) if h in spec.wrap_columns}
        last = 1
        for r, values in enumerate(spec.rows, start=2):
            last = r
            for c, value in enumerate(values, start=1):
                if value is None or value == "":
                    continue
                if isinstance(value, str):
                    value = ILLEGAL_CHARACTERS_RE.sub("", value)
                cell = ws.cell(row=r, column=c, value=value)
                if isinstance(value, str):
                    cell.data_type = "s"  # "=…" is text here, not a formula
                if formats.get(c):
                    cell.number_format = formats[c]
                elif isinstance(value, date):
                    cell.number_format = "yyyy-mm-dd"
                if c in wrapped:
                    cell.alignment = wrap
        for c, header in enumerate(spec.headers, start=1):
            allowed = spec.choices.get(header)
            if not allowed:
                continue
            letter = get_column_letter(c)
            dv = DataValidation(type="list", formula1='"' + ",".join(allowed) + '"', allow_blank=True)
            dv.error = _("请从下拉列表中选择：{v}", v="、".join(allowed))
            dv.errorTitle = _("取值有误")
            dv.showErrorMessage = True
            dv.add(f"{letter}2:{letter}{max(last, 1) + 2000}")
            ws.add_data_validation(dv)
    if isinstance(target, str | Path):
        wb.save(str(target))
    else:
        wb.save(target)


def xlsx_bytes(sheets: Sequence[SheetSpec]) -> bytes:
    buffer = io.BytesIO()
    write_xlsx(buffer, sheets)
    return buffer.getvalue()


def _csv_value(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return YES if value else NO
    if isinstance(value, datetime | date):
        return value.isoformat()
    text = str(value)
    # Spreadsheet programs run a cell that starts with these as a formula (CSV injection).
    if isinstance(value, str) and text[:1] in ("=", "+", "-", "@", "\t", "\r"):
        return "'" + text
    return text


def write_csv(target: str | Path | IO[bytes], headers: Sequence[str], rows: Iterable[Sequence[Any]]) -> None:
    """UTF-8 with a byte-order mark (so Excel reads the Chinese), CRLF line ends, one header row."""
    text = io.StringIO()
    writer = csv.writer(text, lineterminator="\r\n")
    writer.writerow(headers)
    for row in rows:
        writer.writerow([_csv_value(v) for v in row])
    data = text.getvalue().encode("utf-8-sig")
    if isinstance(target, str | Path):
        Path(target).write_bytes(data)
    else:
        target.write(data)


def csv_bytes(headers: Sequence[str], rows: Iterable[Sequence[Any]]) -> bytes:
    buffer = io.BytesIO()
    write_csv(buffer, headers, rows)
    return buffer.getvalue()


# ---- list cells: one entry per line -------------------------------------------------------


def _escape(text: str, *, separators: bool = True) -> str:
    out = []
    for ch in text:
        if ch == "\\":
            out.append("\\\\")
        elif ch == "\n":
            out.append("\\n")
        elif separators and ch in SEPARATORS:
            out.append("\\" + ch)
        else:
            out.append(ch)
    return "".join(out)


def _split(line: str, *, separators: bool = True) -> list[str]:
    """Split one line on ｜ (or |), undoing `_escape`; an unknown escape keeps its backslash."""
    parts: list[str] = []
    current: list[str] = []
    i = 0
    while i < len(line):
        ch = line[i]
        nxt = line[i + 1] if i + 1 < len(line) else ""
        if ch == "\\" and (nxt in ("\\", "n") or (separators and nxt and nxt in SEPARATORS)):
            current.append("\n" if nxt == "n" else nxt)
            i += 2
            continue
        if separators and ch in SEPARATORS:
            parts.append("".join(current))
            current = []
        else:
            current.append(ch)
        i += 1
    parts.append("".join(current))
    return [p.strip() for p in parts]


def _join(values: Sequence[str]) -> str:
    parts = [_escape(v) for v in values]
    while parts and not parts[-1]:
        parts.pop()
    return "｜".join(parts)


def _lines(value: str) -> list[str]:
    return [line for line in value.replace("\r\n", "\n").replace("\r", "\n").split("\n") if line.strip()]


def encode_list(key: str, entries: Sequence[Any]) -> str:
    """The cell text of a list field (`legal_basis`, `steps`, `fees`, `venues`, `faq`)."""
    if key == "legal_basis":
        return "\n".join(
            f"{_escape(c.document, separators=False)} {_escape(c.articles, separators=False)}".strip()
            for c in entries
        )
    if key == "fees" and not entries:
        return NO_FEES[0]
    return "\n".join(
        _join([_part_text(key, name, getattr(e, name)) for name, _label in LINE_PARTS[key]]) for e in entries
    )


# ---- export -------------------------------------------------------------------------------


def _cell(column: Column, value: Any) -> Any:
    if column.kind == "list":
        return "、".join(value)
    if column.kind == "lines":
        return encode_list(column.key, value)
    if column.kind == "bool":
        return YES if value else NO
    return value


def _item_values(code: str, department: str, item_type: str, c: EditionContent) -> list[Any]:
    item = {"code": code, "department": department, "item_type": item_type}
    return [item[col.key] if col.key in item else _cell(col, getattr(c, col.key)) for col in ITEM_COLUMNS]


def _material_values(code: str, c: EditionContent, names: Mapping[str, str]) -> list[list[Any]]:
    return [
        [code, i, m.material, names.get(m.material, "")]
        + [_cell(col, getattr(m, col.key)) for col in MATERIAL_COLUMNS[4:]]
        for i, m in enumerate(c.materials, start=1)
    ]


@dataclass(frozen=True, slots=True)
class ItemTables:
    items: list[list[Any]]
    materials: list[list[Any]]


async def current_item_tables() -> ItemTables:
    """Every item in service (published, not withdrawn) as rows of the two sheets."""
    rows = (
        await ServiceItem.select(
            ServiceItem.code, ServiceItem.item_type, ServiceItem.current_edition, ServiceItem.department.code
        )
        .where(ServiceItem.current_edition.is_not_null() & (ServiceItem.withdrawn == False))  # noqa: E712
        .order_by(ServiceItem.department.position)
        .order_by(ServiceItem.code)
    )
    names = {m["code"]: m["name"] for m in await Material.select(Material.code, Material.name)}
    tables = ItemTables([], [])
    for row in rows:
        content = await store.edition_content(row["current_edition"])
        tables.items.append(_item_values(row["code"], row["department.code"], row["item_type"], content))
        tables.materials.extend(_material_values(row["code"], content, names))
    return tables


def _specs(tables: ItemTables) -> list[SheetSpec]:
    def spec(title: str, columns: tuple[Column, ...], rows: list[list[Any]]) -> SheetSpec:
        return SheetSpec(
            title=title,
            headers=[c.header for c in columns],
            rows=rows,
            widths={c.header: c.width for c in columns},
            text_columns=[c.header for c in columns if c.kind in ("text", "lines", "list")],
            wrap_columns=[c.header for c in columns if c.wrap],
            number_formats={c.header: "yyyy-mm-dd" for c in columns if c.kind == "date"},
            choices={c.header: c.choices for c in columns if c.choices},
            notes={c.header: c.note for c in columns},
        )

    notes_rows: list[list[Any]] = [[text, "", "", ""] for text in NOTES]
    notes_rows.append(["", "", "", ""])
    notes_rows.append(["工作表", "列名", "填写要求", "示例"])
    for sheet, columns in ((ITEM_SHEET, ITEM_COLUMNS), (MATERIAL_SHEET, MATERIAL_COLUMNS)):
        for c in columns:
            notes_rows.append([sheet, c.header + ("" if c.required else "（可无此列）"), c.note, c.example])
    return [
        spec(ITEM_SHEET, ITEM_COLUMNS, tables.items),
        spec(MATERIAL_SHEET, MATERIAL_COLUMNS, tables.materials),
        SheetSpec(
            title=NOTES_SHEET,
            headers=["说明", "", "", ""],
            rows=notes_rows,
            widths={"说明": 16, "": 24},
            text_columns=["说明", ""],
        ),
    ]


def write_template(target: str | Path | IO[bytes]) -> None:
    """The empty import template: headers, drop-downs and the 说明 sheet."""
    write_xlsx(target, _specs(ItemTables([], [])))


def template_bytes() -> bytes:
    buffer = io.BytesIO()
    write_template(buffer)
    return buffer.getvalue()


async def export_items_xlsx(target: str | Path | IO[bytes]) -> int:
    """Every current item in the template's format (事项, 材料, 说明); returns the item count."""
    tables = await current_item_tables()
    await asyncio.to_thread(write_xlsx, target, _specs(tables))
    return len(tables.items)


async def export_items_csv(
    target: str | Path | IO[bytes], materials_target: str | Path | IO[bytes] | None = None
) -> int:
    """The 事项 sheet as CSV (UTF-8 with BOM); the 材料 sheet too when `materials_target` is given."""
    tables = await current_item_tables()
    write_csv(target, ITEM_HEADERS, tables.items)
    if materials_target is not None:
        write_csv(materials_target, MATERIAL_HEADERS, tables.materials)
    return len(tables.items)


# ---- import: reading and checking ---------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Problem:
    sheet: str  # 事项 / 材料 ("" for the file itself)
    row: int | None  # the row number Excel shows (1 = the header row)
    column: str  # the column header ("" for the whole row)
    message: str

    def __str__(self) -> str:
        where = self.sheet
        if self.row is not None:
            where += f" 第 {self.row} 行"
        if self.column:
            where += f"「{self.column}」"
        return f"{where}：{self.message}" if where else self.message

    def as_tuple(self) -> tuple[str, int | None, str, str]:
        return (self.sheet, self.row, self.column, self.message)


@dataclass(frozen=True, slots=True)
class References:
    """What rows may refer to: code → name of departments, catalogue materials, legal documents."""

    departments: Mapping[str, str]
    materials: Mapping[str, str]
    documents: Mapping[str, str]


async def load_references() -> References:
    return References(
        departments={d["code"]: d["name"] for d in await Department.select(Department.code, Department.name)},
        materials={m["code"]: m["name"] for m in await Material.select(Material.code, Material.name)},
        documents={
            d["code"]: d["title"] for d in await LegalDocument.select(LegalDocument.code, LegalDocument.title)
        },
    )


@dataclass(frozen=True, slots=True)
class ItemRow:
    """One valid row of the 事项 sheet, with its materials."""

    row: int
    code: str
    department: str
    item_type: str
    content: EditionContent
    material_rows: tuple[int, ...] = ()


@dataclass
class ImportPlan:
    items: list[ItemRow] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)
    rows: int = 0  # data rows read from the 事项 sheet

    @property
    def ok(self) -> bool:
        return not self.problems


@dataclass
class _Sheet:
    name: str
    present: dict[str, int]  # header → column index
    missing: set[str]
    rows: list[tuple[int, dict[str, Any]]]


def _is_blank(value: Any) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


def _read_sheet(
    wb: Any, name: str, columns: tuple[Column, ...], limit: int, problems: list[Problem]
) -> _Sheet | None:
    if name not in wb.sheetnames:
        problems.append(Problem(name, None, "", _("缺少工作表「{name}」", name=name)))
        return None
    rows = wb[name].iter_rows(values_only=True)
    header = next(rows, None) or ()
    present: dict[str, int] = {}
    for index, value in enumerate(header):
        if _is_blank(value):
            continue
        title = str(value).strip()
        if title in present:
            problems.append(Problem(name, 1, title, _("列名重复")))
        else:
            present[title] = index
    missing = {c.header for c in columns if c.required and c.header not in present}
    for c in columns:
        if c.header in missing:
            problems.append(Problem(name, 1, c.header, _("缺少该列")))
    wanted = {c.header: present[c.header] for c in columns if c.header in present}
    data: list[tuple[int, dict[str, Any]]] = []
    for number, values in enumerate(rows, start=2):
        if all(_is_blank(v) for v in values):
            continue
        if len(data) >= limit:
            problems.append(Problem(name, number, "", _("行数超过上限 {n}，请拆分为多个文件", n=limit)))
            break
        data.append((number, {h: values[i] if i < len(values) else None for h, i in wanted.items()}))
    return _Sheet(name, present, missing, data)


def _text(value: Any) -> str:
    """A cell as text: numbers typed into text columns (phone numbers, codes) become their digits."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return YES if value else NO
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, datetime):
        return value.date().isoformat() if value.time() == datetime.min.time() else value.isoformat()
    if isinstance(value, date):
        return value.isoformat()
    return str(value).strip()


def _number(value: Any) -> Any:
    """What the content reader's integer check gets: ints, digit strings, or the bad value itself."""
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, str):
        return value.strip()
    return value


_LOOSE_DATE = re.compile(r"(\d{4})\s*[-/.年]\s*(\d{1,2})\s*[-/.月]\s*(\d{1,2})\s*日?")


def _day(value: Any) -> Any:
    if _is_blank(value):
        return None
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, str):
        value = value.strip()
        m = _LOOSE_DATE.fullmatch(value)
        if m:
            try:
                return date(int(m.group(1)), int(m.group(2)), int(m.group(3)))
            except ValueError:
                return value
    return value


def _boolean(value: Any) -> bool | str | None:
    """True/False, None when blank, or the bad text."""
    if _is_blank(value):
        return None
    if isinstance(value, bool):
        return value
    text = _text(value)
    if text in (YES, NO):
        return text == YES
    return text


class _ItemReader:
    """Turns one 事项 row (and its 材料 rows) into the mapping `content_from_mapping` reads."""

    def __init__(self, refs: References, problems: list[Problem]) -> None:
        self.refs = refs
        self.problems = problems

    def fail(self, row: int, column: str, message: str, sheet: str = ITEM_SHEET) -> None:
        self.problems.append(Problem(sheet, row, column, message))

    def list_cell(self, key: str, value: Any, row: int) -> list[dict[str, str]]:
        column = _ITEM_BY_KEY[key].header
        text = _text(value)
        if key == "fees" and text in NO_FEES:
            return []
        entries = []
        parts_of = LINE_PARTS[key]
        for i, line in enumerate(_lines(text), start=1):
            if key == "legal_basis":
                head, _sep, rest = line.strip().replace("\u3000", " ").replace("\t", " ").partition(" ")
                parts = [_split(head, separators=False)[0], _split(rest, separators=False)[0]]
                if parts[0] not in self.refs.documents:
                    self.fail(row, column, _("第 {i} 条：法律依据中没有“{v}”", i=i, v=parts[0]))
            else:
                parts = _split(line)
                if len(parts) > len(parts_of):
                    self.fail(
                        row,
                        column,
                        _(
                            "第 {i} 条：最多 {n} 项（{labels}），用“｜”分隔",
                            i=i,
                            n=len(parts_of),
                            labels="｜".join(label for _name, label in parts_of),
                        ),
                    )
            entries.append(
                {
                    name: _part_value(key, name, parts[j]) if j < len(parts) else ""
                    for j, (name, _label) in enumerate(parts_of)
                }
            )
        return entries

    def mapping(self, row: int, cells: Mapping[str, Any]) -> dict[str, Any]:
        data: dict[str, Any] = {}
        for col in ITEM_COLUMNS:
            if col.key in ("code", "department", "item_type") or col.header not in cells:
                continue
            value = cells[col.header]
            if col.kind == "text":
                data[col.key] = _text(value)
            elif col.kind == "int":
                data[col.key] = _number(value)
            elif col.kind == "date":
                data[col.key] = _day(value)
            elif col.kind == "list":
                data[col.key] = [a for a in re.split(r"[、,，;；\s]+", _text(value)) if a]
            else:
                data[col.key] = self.list_cell(col.key, value, row)
        return data

    def material(self, row: int, cells: Mapping[str, Any]) -> dict[str, Any]:
        col = {c.key: c.header for c in MATERIAL_COLUMNS}
        code = _text(cells.get(col["material"]))
        name = _text(cells.get(col["name"]))
        if not code and name:
            by_name = {v: k for k, v in self.refs.materials.items()}
            code = by_name.get(name, "")
            if not code:
                self.fail(row, col["name"], _("材料目录中没有名为“{v}”的材料", v=name), MATERIAL_SHEET)
                code = "?"  # reported; keeps "必填" from following
        elif code and code not in self.refs.materials:
            self.fail(row, col["material"], _("材料目录中没有“{v}”", v=code), MATERIAL_SHEET)
        entry: dict[str, Any] = {"material": code}
        for f in MATERIAL_USE_FIELDS:
            if col[f.name] not in cells or _is_blank(cells[col[f.name]]):
                continue
            raw = cells[col[f.name]]
            if f.kind == "bool":
                value = _boolean(raw)
                if isinstance(value, str):
                    self.fail(row, col[f.name], _("应填“是”或“否”"), MATERIAL_SHEET)
                    continue
                entry[f.name] = value
            else:
                entry[f.name] = _number(raw) if f.kind == "int" else _text(raw)
        return entry


_FIELD_PATH = re.compile(r"(\w+)(?:\[(\d+)\])?(?:\.(\w+))?")
# Stand-ins for cells that did not read, chosen to trip no rule of their own.
_NEUTRAL = {
    "trips": 0,
    "online_depth": 0,
    "statutory_days": field_spec(EditionContent, "statutory_days").hi,
    "promised_days": 0,
}


def _locate(error: FieldError, item_row: int, material_rows: Sequence[int]) -> tuple[str, int, str, str]:
    """(sheet, row, column, message) for a content error, e.g. "steps[1].actor" → 办理流程, 第 2 条."""
    m = _FIELD_PATH.fullmatch(error.field)
    if m is None:
        return ITEM_SHEET, item_row, "", f"{error.field}：{error.message}"
    key, index, part = m.group(1), m.group(2), m.group(3)
    if key == "materials" and index is not None and int(index) < len(material_rows):
        column = _MATERIAL_BY_KEY.get(part or "material", _MATERIAL_BY_KEY["material"]).header
        return MATERIAL_SHEET, material_rows[int(index)], column, error.message
    col = _ITEM_BY_KEY.get(key)
    if col is None:
        return ITEM_SHEET, item_row, "", f"{error.field}：{error.message}"
    if index is None:
        return ITEM_SHEET, item_row, col.header, error.message
    prefix = _("第 {i} 条", i=int(index) + 1)
    if part:
        label = dict(LINE_PARTS.get(key, ())).get(part, part)
        prefix += f"「{label}」"
    return ITEM_SHEET, item_row, col.header, f"{prefix}：{error.message}"


def _all_errors(data: Mapping[str, Any], errors: list[FieldError]) -> list[FieldError]:
    """`content_from_mapping` checks the rules only once every cell reads. To report everything
    at once, check the rules again with a neutral stand-in for each cell that did not read."""
    patched = copy.deepcopy(dict(data))
    for error in errors:
        m = _FIELD_PATH.fullmatch(error.field)
        if m is None:
            continue
        key, index, part = m.groups()
        if index is None:
            if key in _NEUTRAL:
                patched[key] = _NEUTRAL[key]
            elif key == "effective_at":
                patched[key] = date(2000, 1, 1)
            elif key == "audience":
                patched[key] = [
                    a for a in patched.get(key) or [] if a in field_spec(EditionContent, key).choices
                ]
            elif key in ("consult_phone", "complaint_phone"):
                patched[key] = ""
            else:
                patched[key] = "?"
            continue
        entries = patched.get(key)
        if part and isinstance(entries, list) and int(index) < len(entries):
            sub = {f.name: f for f in field_spec(EditionContent, key).subfields}.get(part)
            if sub is not None and not sub.required and sub.default is not None:
                entries[int(index)][part] = sub.default
            else:
                entries[int(index)][part] = f"?{index}"  # distinct: no false "duplicate"
    seen = {e.field for e in errors}
    try:
        content_from_mapping(patched, complete=False)
    except ValidationError as again:
        return errors + [e for e in again.errors if e.field not in seen]
    return errors


def parse_workbook(source: str | Path | IO[bytes], refs: References) -> ImportPlan:
    """Read and check an item workbook against `refs`; never touches the database."""
    from openpyxl import load_workbook

    plan = ImportPlan()
    problems = plan.problems
    unreadable = Problem("", None, "", _("无法读取文件：应为 Excel 工作簿（.xlsx）"))
    try:
        wb = load_workbook(source, read_only=True, data_only=True)
    except Exception:  # a zip that is not a workbook, a .xls, a text file … all the same to the user
        problems.append(unreadable)
        return plan
    try:
        items = _read_sheet(wb, ITEM_SHEET, ITEM_COLUMNS, MAX_ITEM_ROWS, problems)
        materials = _read_sheet(wb, MATERIAL_SHEET, MATERIAL_COLUMNS, MAX_MATERIAL_ROWS, problems)
    except Exception:  # broken XML inside the zip
        plan.problems = [unreadable]
        return plan
    finally:
        wb.close()
    reader = _ItemReader(refs, problems)
    missing = {
        ITEM_SHEET: items.missing if items else set(),
        MATERIAL_SHEET: materials.missing if materials else set(),
    }
    complete_layout = items is not None and materials is not None and not any(missing.values())

    # 材料: grouped by item code, ordered by 序号 (blank: the order of the rows).
    by_item: dict[str, list[tuple[int, int, dict[str, Any]]]] = {}
    positions: dict[tuple[str, int], int] = {}
    for number, cells in materials.rows if materials else []:
        code = _text(cells.get("事项编码"))
        if not code:
            reader.fail(number, "事项编码", _("必填"), MATERIAL_SHEET)
            continue
        position = _number(cells.get("序号"))
        if position is None or position == "":
            position = 10**9
        elif isinstance(position, str) and position.isdigit():
            position = int(position)
        if isinstance(position, bool) or not isinstance(position, int):
            reader.fail(number, "序号", _("应为整数"), MATERIAL_SHEET)
            position = 10**9
        elif position < 10**9:
            if (code, position) in positions:
                reader.fail(
                    number, "序号", _("与第 {r} 行的序号重复", r=positions[(code, position)]), MATERIAL_SHEET
                )
            positions.setdefault((code, position), number)
        by_item.setdefault(code, []).append((position, number, reader.material(number, cells)))

    seen: dict[str, int] = {}
    for number, cells in items.rows if items else []:
        plan.rows += 1
        before = len(problems)
        code = _text(cells.get("事项编码"))
        department = _text(cells.get("实施主体编码"))
        item_type = _text(cells.get("事项类型"))
        if "事项编码" in cells:
            if not code:
                reader.fail(number, "事项编码", _("必填"))
            elif (message := item_code_error(code)) is not None:
                reader.fail(number, "事项编码", message)
            elif code in seen:
                reader.fail(number, "事项编码", _("与第 {r} 行的事项编码重复", r=seen[code]))
        if "实施主体编码" in cells:
            if not department:
                reader.fail(number, "实施主体编码", _("必填"))
            elif department not in refs.departments:
                reader.fail(number, "实施主体编码", _("未知的实施主体编码“{v}”", v=department))
        if "事项类型" in cells and item_type not in ITEM_TYPES:
            reader.fail(
                number,
                "事项类型",
                _("必填") if not item_type else _("应为 {v} 之一", v="、".join(ITEM_TYPES)),
            )
        data = reader.mapping(number, cells)
        duplicate = code in seen
        own = [] if duplicate or not code else sorted(by_item.get(code, []), key=lambda m: (m[0], m[1]))
        seen.setdefault(code, number)
        data["materials"] = [entry for _p, _n, entry in own]
        material_rows = tuple(n for _p, n, _entry in own)
        try:
            content = content_from_mapping(data, complete=False)
        except ValidationError as exc:
            for error in _all_errors(data, exc.errors):
                sheet, row, column, message = _locate(error, number, material_rows)
                also = _RULE_ALSO_NEEDS.get(error.field)
                if column in missing[sheet] or also in missing[ITEM_SHEET]:
                    continue  # the missing column is the problem
                problems.append(Problem(sheet, row, column, message))
            continue
        if len(problems) == before and complete_layout:
            plan.items.append(ItemRow(number, code, department, item_type, content, material_rows))

    if items is not None and not items.rows and not problems:
        problems.append(Problem(ITEM_SHEET, None, "", _("没有任何事项（第 2 行起每行一个事项）")))
    known = set(seen) if items else set()
    for code, entries in by_item.items():
        if code not in known:
            for _p, number, _entry in entries:
                reader.fail(
                    number, "事项编码", _("「事项」表中没有编码为“{v}”的事项", v=code), MATERIAL_SHEET
                )
    plan.problems = sorted(problems, key=_problem_order)
    return plan


def _problem_order(p: Problem) -> tuple[int, int, int]:
    sheets = {"": 0, ITEM_SHEET: 1, MATERIAL_SHEET: 2}
    column = _COLUMN_ORDER.get(p.sheet, {}).get(p.column, -1 if not p.column else 99)
    return (sheets.get(p.sheet, 3), p.row or 0, column)


async def read_workbook(source: str | Path | IO[bytes]) -> ImportPlan:
    """Read and check an item workbook against the registry's departments and catalogues."""
    refs = await load_references()
    return await asyncio.to_thread(parse_workbook, source, refs)


# ---- import: comparing with the registry and writing drafts ---------------------------------


@dataclass(frozen=True, slots=True)
class Outcome:
    row: int
    code: str
    name: str
    action: str  # new | update | unchanged
    lock_version: int | None = None  # of the draft an update replaces


ACTION_LABELS = {"new": "新增", "update": "更新", "unchanged": "未变"}


@dataclass
class ImportReport:
    problems: list[Problem] = field(default_factory=list)
    outcomes: list[Outcome] = field(default_factory=list)
    applied: bool = False

    @property
    def ok(self) -> bool:
        return not self.problems

    def count(self, action: str) -> int:
        return sum(1 for o in self.outcomes if o.action == action)

    def summary(self) -> str:
        if self.problems:
            return _("发现 {n} 个问题，未导入任何内容。", n=len(self.problems))
        counts = _(
            "新增 {c} 项，更新 {u} 项，未变 {k} 项",
            c=self.count("new"),
            u=self.count("update"),
            k=self.count("unchanged"),
        )
        if self.applied:
            return _("已导入为草稿（未发布，提交审核批准后才会发布）：{counts}。", counts=counts)
        return _("检查通过（试运行，未写入任何内容）：{counts}。", counts=counts)

    def lines(self) -> list[str]:
        out = [self.summary()]
        if self.problems:
            out.extend(str(p) for p in self.problems)
            return out
        for o in self.outcomes:
            out.append(f"{_(ACTION_LABELS[o.action])}  {o.code}  {o.name}")
        return out


class _Rollback(Exception):
    def __init__(self, report: ImportReport) -> None:
        self.report = report


async def _existing(codes: list[str]) -> dict[str, dict[str, Any]]:
    found: dict[str, dict[str, Any]] = {}
    for start in range(0, len(codes), 500):
        chunk = codes[start : start + 500]
        for row in await ServiceItem.select(
            ServiceItem.id,
            ServiceItem.code,
            ServiceItem.item_type,
            ServiceItem.withdrawn,
            ServiceItem.current_edition,
            ServiceItem.department.code,
            ServiceItem.department.name,
        ).where(ServiceItem.code.is_in(chunk)):
            found[row["code"]] = row
    return found


async def _compare(
    plan: ImportPlan, actor: Actor | None, progress: Progress | None, total: int
) -> ImportReport:
    report = ImportReport(problems=list(plan.problems))
    existing = await _existing([r.code for r in plan.items])
    refused = _("无权编辑该实施主体的事项")

    def fail(r: ItemRow, column: str, message: str) -> None:
        report.problems.append(Problem(ITEM_SHEET, r.row, column, message))

    for done, r in enumerate(plan.items, start=1):
        if progress is not None:
            progress(done, total)
        item = existing.get(r.code)
        if item is None:
            if actor is not None and not actor.can_edit(r.department):
                fail(r, "实施主体编码", refused)
            else:
                report.outcomes.append(Outcome(r.row, r.code, r.content.name, "new"))
            continue
        if item["department.code"] != r.department:
            fail(
                r,
                "实施主体编码",
                _(
                    "该事项属于“{d}”（{c}），导入不能变更实施主体",
                    d=item["department.name"],
                    c=item["department.code"],
                ),
            )
        if item["item_type"] != r.item_type:
            fail(r, "事项类型", _("该事项的类型是“{t}”，导入不能变更事项类型", t=item["item_type"]))
        if item["department.code"] != r.department or item["item_type"] != r.item_type:
            continue
        draft = await store.open_edition(item["id"])
        base = draft["id"] if draft else item["current_edition"]
        base_content = await store.edition_content(base) if base is not None else None
        if base_content is not None:  # a sheet carries no files: the item keeps its attachments
            r = plan.items[done - 1] = dataclasses.replace(
                r, content=attachments.keep_files(r.content, base_content)
            )
        if base_content is not None and base_content == r.content:
            report.outcomes.append(Outcome(r.row, r.code, r.content.name, "unchanged"))
            continue
        action = Action.save if draft else Action.open_draft
        refused_by = refusal(action, actor or SYSTEM, store.subject(item, draft))
        if refused_by is not None:
            column = "实施主体编码" if actor is not None and not actor.can_edit(r.department) else "事项编码"
            fail(r, column, refused if column == "实施主体编码" else str(refused_by))
        else:
            lock = draft["lock_version"] if draft else None
            report.outcomes.append(Outcome(r.row, r.code, r.content.name, "update", lock))
    report.problems.sort(key=_problem_order)
    return report


async def apply_import(
    plan: ImportPlan,
    actor: Actor | None,
    now: datetime,
    *,
    dry_run: bool = False,
    progress: Progress | None = None,
) -> ImportReport:
    """Compare every row with the registry and, unless `dry_run` or anything is wrong, write the
    drafts in one transaction: a new item for a new code (`commands.create_item`), the item's draft
    otherwise (`commands.save_draft`). Rows equal to the open draft or current edition are left
    alone. `actor` None (dry run only) skips the permission checks."""
    if actor is None and not dry_run:
        raise ValueError("apply_import needs an actor unless it is a dry run")
    engine = Department._meta.db
    steps = len(plan.items) * (1 if dry_run else 2)
    try:
        async with engine.transaction() if dry_run else write_transaction():
            report = await _compare(plan, actor, progress, steps)
            rows = {r.row: r for r in plan.items}  # as compared (with the items' kept files)
            if dry_run or report.problems:
                return report
            done = len(plan.items)
            for outcome in report.outcomes:
                done += 1
                if progress is not None:
                    progress(done, steps)
                if outcome.action == "unchanged":
                    continue
                r = rows[outcome.row]
                try:
                    if outcome.action == "new":
                        await commands.create_item(
                            actor,
                            code=r.code,
                            department_code=r.department,
                            item_type=r.item_type,
                            content=r.content,
                            now=now,
                        )
                    else:
                        await commands.save_draft(
                            actor, r.code, r.content, base_lock_version=outcome.lock_version, now=now
                        )
                except ValidationError as exc:
                    for error in exc.errors:
                        key = {"code": "code", "department": "department", "item_type": "item_type"}
                        if error.field in key:
                            column = _ITEM_BY_KEY[key[error.field]].header
                            report.problems.append(Problem(ITEM_SHEET, r.row, column, error.message))
                        else:
                            report.problems.append(Problem(*_locate(error, r.row, r.material_rows)))
                    raise _Rollback(report) from exc
                except DomainError as exc:
                    report.problems.append(Problem(ITEM_SHEET, r.row, "", str(exc)))
                    raise _Rollback(report) from exc
            report.applied = True
            return report
    except _Rollback as rollback:
        rollback.report.problems.sort(key=_problem_order)
        return rollback.report
