"""The one input reader: untrusted values (form strings, spreadsheet cells, TOML, JSON, query
parameters) into typed msgspec Structs, with every problem named by its field path in Chinese.

The Struct's declaration says everything the reader needs: types, defaults, limits (`Meta`) and
choices (`Literal`). Numbers, dates and codes are parsed here and nowhere else: `²`, `--1`, a
5,000-digit number or a NUL byte is a field error, never an exception.
"""

from __future__ import annotations

import re
import typing
from collections.abc import Mapping
from datetime import date
from functools import cache
from typing import Any, TypeVar

import msgspec
from msgspec import inspect as mi

from guides.i18n import _
from registry.errors import FieldError, ValidationError

T = TypeVar("T", bound=msgspec.Struct)

_INT = re.compile(r"[+-]?[0-9]{1,18}", re.ASCII)
_LONG_INT = re.compile(r"[+-]?[0-9]+", re.ASCII)
_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}", re.ASCII)
MAX_INPUT_TEXT = 100_000  # no field of ours is longer; refuse before any other work
_MISSING = object()


class Invalid(Exception):
    """One bad value (internal to the reader)."""

    def __init__(self, message: str) -> None:
        self.message = message


def clean_text(value: str) -> str:
    """One form of text, whatever the channel: LF line breaks, no surrounding space.
    Raises Invalid for text no column can hold (NUL bytes, lone surrogates)."""
    if "\x00" in value:
        raise Invalid(_("不能包含空字符"))
    if len(value) > MAX_INPUT_TEXT:
        raise Invalid(_("过长（最多 {n} 字）", n=MAX_INPUT_TEXT))
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        raise Invalid(_("包含无效字符")) from None
    return value.replace("\r\n", "\n").replace("\r", "\n").strip()


def parse_int(value: Any, *, lo: int | None = None, hi: int | None = None) -> int:
    """An integer from an int or ASCII digits; raises Invalid with a Chinese message."""
    if isinstance(value, str):
        text = value.strip()
        if not _INT.fullmatch(text):
            if _LONG_INT.fullmatch(text) and lo is not None and hi is not None:  # only too many digits
                raise Invalid(_("应在 {lo} 到 {hi} 之间", lo=lo, hi=hi))
            raise Invalid(_("应为整数"))
        value = int(text)
    elif isinstance(value, float) and value.is_integer() and abs(value) < 1e18:
        value = int(value)
    if isinstance(value, bool) or not isinstance(value, int):
        raise Invalid(_("应为整数"))
    if (lo is not None and value < lo) or (hi is not None and value > hi):
        if lo is not None and hi is not None:
            raise Invalid(_("应在 {lo} 到 {hi} 之间", lo=lo, hi=hi))
        raise Invalid(
            _("不能小于 {lo}", lo=lo) if lo is not None and value < lo else _("不能大于 {hi}", hi=hi)
        )
    return value


def parse_date(value: Any) -> date:
    if isinstance(value, date):
        return value
    if isinstance(value, str) and _DATE.fullmatch(value.strip()):
        try:
            return date.fromisoformat(value.strip())
        except ValueError:
            pass
    raise Invalid(_("日期格式应为 YYYY-MM-DD"))


def parse_bool(value: Any) -> bool:
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.strip() in ("true", "false"):
        return value.strip() == "true"
    raise Invalid(_("应为 true 或 false"))


# ---- the schema, as the reader sees it ----------------------------------------------------------


class FieldSpec(msgspec.Struct, frozen=True):
    """One field of a Struct: what a form, a spreadsheet column, a diff and the reader need."""

    name: str
    title: str
    kind: str  # text | int | bool | date | choices | records | choice | texts | file
    required: bool
    default: Any
    help: str = ""
    example: str = ""
    extra: dict[str, Any] = {}
    max_length: int | None = None
    min_length: int | None = None
    lo: int | None = None
    hi: int | None = None
    choices: tuple[str, ...] = ()
    record: type | None = None  # the Struct of each entry (kind "records"), of the value ("file")

    @property
    def widget(self) -> str:
        return self.extra.get("widget") or self.kind

    @property
    def subfields(self) -> tuple[FieldSpec, ...]:
        """An entry's fields, a catalogue reference first (it leads its row in forms)."""
        if self.record is None or self.kind != "records":
            return ()
        fields = fields_of(self.record)
        return tuple(sorted(fields, key=lambda f: not f.widget.startswith("ref:")))


def _unwrap(t: mi.Type) -> tuple[mi.Type, dict[str, Any]]:
    meta: dict[str, Any] = {}
    if isinstance(t, mi.Metadata):
        meta = {**(t.extra_json_schema or {}), "extra": t.extra or {}}
        t = t.type
    return t, meta


def _literal_values(hint: Any) -> tuple[str, ...] | None:
    """The values of the Literal inside a type hint, in declared order (msgspec's are a set)."""
    origin = typing.get_origin(hint)
    if origin is typing.Literal:
        return tuple(typing.get_args(hint))
    for arg in typing.get_args(hint):
        found = _literal_values(arg)
        if found is not None:
            return found
    return None


@cache
def fields_of(cls: type) -> tuple[FieldSpec, ...]:
    """The fields of a Struct in declaration order, with their metadata."""
    specs = []
    hints = typing.get_type_hints(cls, include_extras=True)
    for f in mi.type_info(cls).fields:
        t, meta = _unwrap(f.type)
        if isinstance(t, mi.UnionType):  # `X | None`: an optional X
            others = [u for u in t.types if not isinstance(u, mi.NoneType)]
            if len(others) != 1:
                raise TypeError(f"{cls.__name__}.{f.name}: unsupported union {t!r}")
            t, inner = _unwrap(others[0])
            meta = {**inner, **meta}
        extra = dict(meta.get("extra", {}))
        default = f.default if f.default is not mi.NODEFAULT else _MISSING
        kw: dict[str, Any] = {}
        if isinstance(t, mi.StrType):
            kind = "text"
            kw = {"max_length": t.max_length, "min_length": t.min_length}
        elif isinstance(t, mi.BoolType):
            kind = "bool"
        elif isinstance(t, mi.IntType):
            kind = "int"
            kw = {"lo": t.ge, "hi": t.le}
        elif isinstance(t, mi.DateType):
            kind = "date"
        elif isinstance(t, mi.EnumType):
            kind = "choice"
            kw = {"choices": tuple(member.value for member in t.cls)}
        elif isinstance(t, mi.LiteralType):
            kind = "choice"
            kw = {"choices": _literal_values(hints[f.name]) or tuple(t.values)}
        elif isinstance(t, mi.StructType):  # one optional record: an attachment
            kind, kw = "file", {"record": t.cls}
        elif isinstance(t, mi.VarTupleType | mi.ListType):
            item, _meta = _unwrap(t.item_type)
            kw = {"max_length": t.max_length}
            if isinstance(item, mi.StructType):
                kind, kw["record"] = "records", item.cls
            elif isinstance(item, mi.LiteralType):
                kind, kw["choices"] = "choices", _literal_values(hints[f.name]) or tuple(item.values)
            elif isinstance(item, mi.StrType):  # a list of words (search synonyms, topics)
                kind = "texts"
                extra["item_max_length"] = item.max_length
            else:
                raise TypeError(f"{cls.__name__}.{f.name}: unsupported list item {item!r}")
        else:
            raise TypeError(f"{cls.__name__}.{f.name}: unsupported type {t!r}")
        required = default is _MISSING or bool(kw.get("min_length")) or bool(extra.get("required"))
        specs.append(
            FieldSpec(
                name=f.name,
                title=meta.get("title", f.name),
                kind=kind,
                required=required,
                default=None if default is _MISSING else default,
                help=meta.get("description") or "",
                example=(meta.get("examples") or [""])[0],
                extra=extra,
                **kw,
            )
        )
    return tuple(specs)


def field_spec(cls: type, name: str) -> FieldSpec:
    return next(f for f in fields_of(cls) if f.name == name)


# ---- reading --------------------------------------------------------------------------------------


def _value(spec: FieldSpec, raw: Any, path: str, errors: list[FieldError]) -> Any:
    """The typed value of one field, or raises Invalid."""
    if spec.kind == "text":
        if not isinstance(raw, str):
            raise Invalid(_("应为文本"))
        text = clean_text(raw)
        if spec.required and not text:
            raise Invalid(_("必填"))
        if spec.max_length is not None and len(text) > spec.max_length:
            raise Invalid(_("过长（最多 {n} 字）", n=spec.max_length))
        return text
    if spec.kind == "int":
        return parse_int(raw, lo=spec.lo, hi=spec.hi)
    if spec.kind == "bool":
        return parse_bool(raw)
    if spec.kind == "date":
        return parse_date(raw)
    if spec.kind == "choice":
        text = clean_text(raw) if isinstance(raw, str) else raw
        if text not in spec.choices:
            raise Invalid(_("应为 {v} 之一", v="、".join(spec.choices)))
        return text
    if spec.kind == "file":
        if not isinstance(raw, Mapping):
            raise Invalid(_("应为对象"))
        return _read(spec.record, raw, f"{path}.", (), errors)
    if not isinstance(raw, list | tuple):
        raise Invalid(_("应为文本列表") if spec.kind == "choices" else _("应为列表"))
    if spec.max_length is not None and len(raw) > spec.max_length:
        raise Invalid(_("最多 {n} 项", n=spec.max_length))
    if spec.kind == "texts":
        if not all(isinstance(v, str) for v in raw):
            raise Invalid(_("应为文本列表"))
        texts = tuple(clean_text(v) for v in raw)
        limit = spec.extra.get("item_max_length")
        for v in texts:
            if not v:
                raise Invalid(_("不能包含空文本"))
            if limit is not None and len(v) > limit:
                raise Invalid(_("“{v}”过长（最多 {n} 字）", v=v[:20], n=limit))
        return texts
    if spec.kind == "choices":
        if not all(isinstance(v, str) for v in raw):
            raise Invalid(_("应为文本列表"))
        bad = [v for v in raw if v not in spec.choices]
        if bad:
            raise Invalid(_("“{v}”不是可选值（{allowed}）", v=bad[0], allowed="、".join(spec.choices)))
        return tuple(raw)
    entries = []
    for i, entry in enumerate(raw):
        if not isinstance(entry, Mapping):
            errors.append(FieldError(f"{path}[{i}]", _("应为对象")))
            continue
        value = _read(spec.record, entry, f"{path}[{i}].", (), errors)
        if value is not None:
            entries.append(value)
    return tuple(entries)


def _read(
    cls: type[T], data: Mapping[str, Any], prefix: str, ignore: tuple[str, ...], errors: list[FieldError]
):
    before = len(errors)
    values: dict[str, Any] = {}
    specs = fields_of(cls)
    for spec in specs:
        path = f"{prefix}{spec.name}"
        raw = data.get(spec.name)
        if raw is None or (raw == "" and spec.kind != "text"):
            if spec.required:
                errors.append(FieldError(path, _("必填")))
            continue
        try:
            values[spec.name] = _value(spec, raw, path, errors)
        except Invalid as exc:
            errors.append(FieldError(path, exc.message))
    known = {s.name for s in specs}
    for key in data:
        if key not in known and key not in ignore:
            errors.append(FieldError(f"{prefix}{key}", _("未知字段")))
    if len(errors) > before:
        return None
    return cls(**values)


def _clean(value: Any) -> bool:
    """Is every text inside `value` already in its one clean form?"""
    if isinstance(value, str):
        return "\x00" not in value and "\r" not in value and value == value.strip()
    if isinstance(value, dict):
        return all(_clean(v) for v in value.values())
    if isinstance(value, list | tuple):
        return all(_clean(v) for v in value)
    return True


def _fast(cls: type[T], data: Mapping[str, Any], ignore: tuple[str, ...]) -> T | None:
    """Well-formed, already clean input converted at C speed (loading 100 000 seed items); None
    sends anything else through the field-by-field reader, which names every problem."""
    own = {k: v for k, v in data.items() if k not in ignore} if ignore else data
    if any(f.required and own.get(f.name) in (None, "") for f in fields_of(cls)):
        return None
    try:
        value = msgspec.convert(own, cls)
    except (msgspec.ValidationError, TypeError):
        return None
    return value if _clean(own) else None


def read(cls: type[T], data: Any, *, ignore: tuple[str, ...] = (), prefix: str = "") -> T:
    """`data` as a `cls`, or ValidationError naming every bad field (all of them, at once)."""
    if not isinstance(data, Mapping):
        raise ValidationError([FieldError(prefix.rstrip(".") or "-", _("应为对象"))])
    if (value := _fast(cls, data, ignore)) is not None:
        return value
    errors: list[FieldError] = []
    value = _read(cls, data, prefix, ignore, errors)
    if errors or value is None:
        raise ValidationError(errors)
    return value


def to_mapping(value: msgspec.Struct) -> dict[str, Any]:
    """The plain mapping `read` takes back: dates as ISO text, lists of entries as dicts."""
    return msgspec.to_builtins(value)


# ---- nested records as one line of text (a form input, a part of a spreadsheet line) ----------

ENTRY_SEPARATORS = re.compile(r"[；;]")


def entries_text(value: Any, spec: FieldSpec) -> str:
    """Nested records (e.g. a question's options) as “key=label；key=label”: the text a form input
    or a spreadsheet cell holds. Text passes through (a form being shown again)."""
    if isinstance(value, str):
        return value
    names = [sub.name for sub in spec.subfields]
    parts = []
    for entry in value or ():
        get = entry.get if isinstance(entry, Mapping) else (lambda name, _d="", e=entry: getattr(e, name, _d))
        parts.append("=".join(str(get(name, "")) for name in names).rstrip("="))
    return "；".join(parts)


def text_entries(text: Any, spec: FieldSpec) -> Any:
    """The inverse of `entries_text`: a list of mappings the reader checks (non-text passes
    through, so the reader reports it)."""
    if not isinstance(text, str):
        return text
    names = [sub.name for sub in spec.subfields]
    entries = []
    for piece in ENTRY_SEPARATORS.split(text):
        if not piece.strip():
            continue
        values = [v.strip() for v in piece.split("=", len(names) - 1)]
        entries.append({name: values[i] for i, name in enumerate(names) if i < len(values)})
    return entries
