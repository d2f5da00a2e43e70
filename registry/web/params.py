"""The web side of the one input reader (registry.inputs): query and path parameters, and the
checks every request body passes before a handler sees it. Bad input is a 400 that names the
field (in Chinese)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

import msgspec
from litestar import Request

from guides.i18n import _
from registry import inputs, queries
from registry.errors import FieldError
from registry.tables import Level
from registry.web.errors import BadRequest

MAX_INT = 2**31 - 1  # PostgreSQL `integer`
MAX_PARAM = 1000  # characters in one query or path parameter
MAX_JSON_DEPTH = 32


def parse_int(value: str | None, low: int = 0, high: int = MAX_INT) -> int | None:
    """An optional integer parameter in [low, high], or None when absent or unreadable (the one
    reader, registry.inputs.parse_int, decides what a number is: "²" and "--1" are not)."""
    if value in (None, ""):
        return None
    try:
        return inputs.parse_int(value, lo=low, hi=high)
    except inputs.Invalid:
        return None


def integer(field: str, value: str | None, low: int = 0, high: int = MAX_INT) -> int | None:
    """An optional integer parameter: None when absent, else the number or a 400 naming `field`."""
    if value in (None, ""):
        return None
    number = parse_int(value, low, high)
    if number is None:
        raise BadRequest(
            _("查询参数有误"), [FieldError(field, _("应为 {low} 到 {high} 之间的整数", low=low, high=high))]
        )
    return number


def text(field: str, value: str | None, max_length: int) -> str | None:
    """An optional text parameter, stripped; a 400 naming `field` when it is too long."""
    value = (value or "").strip()
    if len(value) > max_length:
        raise BadRequest(_("查询参数有误"), [FieldError(field, _("不能超过 {n} 个字符", n=max_length))])
    return value or None


def _nul_error(field: str) -> BadRequest:
    return BadRequest(_("请求内容有误"), [FieldError(field, _("含有无效字符（NUL）"))])


def _json_depth(raw: bytes) -> int:
    """Nesting depth of a JSON document, without parsing it (no recursion to exhaust)."""
    depth = deepest = 0
    in_string = escaped = False
    for byte in raw:
        if in_string:
            if escaped:
                escaped = False
            elif byte == 0x5C:  # backslash
                escaped = True
            elif byte == 0x22:
                in_string = False
        elif byte == 0x22:
            in_string = True
        elif byte in (0x5B, 0x7B):
            depth += 1
            deepest = max(deepest, depth)
        elif byte in (0x5D, 0x7D):
            depth -= 1
    return deepest


def _nul_path(value: Any, path: str) -> str | None:
    stack = [(value, path)]
    while stack:
        item, where = stack.pop()
        if isinstance(item, str):
            if "\x00" in item:
                return where
        elif isinstance(item, dict):
            for key, inner in item.items():
                if "\x00" in str(key):
                    return where
                stack.append((inner, f"{where}.{key}" if where else str(key)))
        elif isinstance(item, list):
            stack.extend((inner, f"{where}[{i}]") for i, inner in enumerate(item))
    return None


async def check_request_input(request: Request) -> None:
    """App-wide `before_request`: no NUL byte in any path or query parameter, form field or JSON
    string (PostgreSQL cannot store one), no over-long parameter, no JSON nested past
    MAX_JSON_DEPTH. Runs after routing, before any parameter is parsed."""
    for name, value in request.path_params.items():
        if isinstance(value, str) and ("\x00" in value or len(value) > MAX_PARAM):
            raise (
                _nul_error(name)
                if "\x00" in value
                else BadRequest(_("地址有误"), [FieldError(name, _("过长"))])
            )
    for name, value in request.query_params.multi_items():
        if "\x00" in name or "\x00" in value:
            raise _nul_error(name.replace("\x00", ""))
        if len(value) > MAX_PARAM:
            raise BadRequest(_("查询参数有误"), [FieldError(name, _("不能超过 {n} 个字符", n=MAX_PARAM))])
    if request.method not in ("POST", "PUT", "PATCH"):
        return
    content_type = request.content_type[0]
    if content_type == "application/json":
        raw = await request.body()
        if _json_depth(raw) > MAX_JSON_DEPTH:
            raise BadRequest(
                _("请求内容有误"), [FieldError("body", _("JSON 嵌套不能超过 {n} 层", n=MAX_JSON_DEPTH))]
            )
        if b"\\u0000" in raw or b"\x00" in raw:
            try:
                where = _nul_path(msgspec.json.decode(raw), "")
            except msgspec.DecodeError:
                return  # malformed JSON: the handler's decoder says so
            if where is not None:
                raise _nul_error(where or "body")
    elif content_type == "application/x-www-form-urlencoded":
        form = await request.form()
        for name, value in form.multi_items():
            if isinstance(value, str) and ("\x00" in name or "\x00" in value):
                raise _nul_error(name.replace("\x00", ""))


async def item_filter(
    department: str | None,
    level: str | None,
    trips: str | None,
    page: str | None,
    *,
    exists: Callable[[str], Awaitable[bool]] = queries.department_exists,
) -> tuple[queries.ItemFilter, int, list[FieldError]]:
    errors: list[FieldError] = []
    department = (department or "").strip() or None
    level = (level or "").strip() or None
    trips = (trips or "").strip() or None
    if department and (len(department) > 32 or not await exists(department)):
        errors.append(FieldError("department", _("没有编码为“{v}”的实施主体", v=department[:32])))
        department = None
    if level and level not in {lv.value for lv in Level}:
        errors.append(FieldError("level", _("层级应为 city（市级）或 district（区县级）")))
        level = None
    if trips and trips not in queries.TRIP_FILTERS:
        errors.append(FieldError("trips", _("到现场次数应为 0、1 或 2+")))
        trips = None
    number = 1
    if page not in (None, ""):
        parsed = parse_int(page, 1, 100_000)
        if parsed is None:
            errors.append(FieldError("page", _("页码应为正整数")))
        else:
            number = parsed
    return queries.ItemFilter(department, level, trips), number, errors
