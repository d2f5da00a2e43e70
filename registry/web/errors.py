"""Errors: a Chinese page for people, structured JSON for programs. Never a bare 500."""

from __future__ import annotations

import logging

import asyncpg
from litestar import Request, Response
from litestar.exceptions import HTTPException, ValidationException
from litestar.response import Template

from guides.i18n import _
from registry.errors import DomainError, FieldError, NotFound, ValidationError

log = logging.getLogger("onetrip")

TITLES = {
    400: "请求有误",
    401: "请先登录",
    403: "没有权限",
    404: "页面不存在",
    405: "不支持的请求方式",
    409: "操作冲突",
    410: "事项已取消",
    429: "请求过于频繁",
    500: "系统错误",
}


class BadRequest(HTTPException):
    status_code = 400

    def __init__(self, message: str, errors: list[FieldError] | None = None) -> None:
        super().__init__(detail=message)
        self.errors = errors or []


def _wants_json(request: Request) -> bool:
    return request.url.path.startswith("/api") or request.url.path == "/healthz"


def error_response(request: Request, status: int, message: str, fields: list[FieldError]) -> Response:
    if _wants_json(request):
        return Response(
            {
                "error": {
                    "status": status,
                    "message": message,
                    "fields": [{"field": f.field, "message": f.message} for f in fields],
                }
            },
            status_code=status,
        )
    return Template(
        "errors/error.html",
        context={
            "status": status,
            "title": _(TITLES.get(status, "请求未能完成")),
            "message": message,
            "details": [f.message for f in fields],
        },
        status_code=status,
    )


def http_exception_handler(request: Request, exc: HTTPException) -> Response:
    status = exc.status_code
    if status == 401 and not _wants_json(request):
        from urllib.parse import quote

        from litestar.response import Redirect

        return Redirect(path=f"/login?next={quote(request.url.path)}")
    fields = list(getattr(exc, "errors", []))
    if isinstance(exc, ValidationException):
        message = _("请求参数有误，请检查后重试。")
        for extra in exc.extra or []:
            if isinstance(extra, dict):
                fields.append(FieldError(str(extra.get("key", "")), str(extra.get("message", ""))))
    elif status == 404 and exc.detail in ("Not Found", "", None):
        message = _("您访问的页面不存在，可能已移动或地址有误。")
    elif status == 405:
        message = _("此地址不支持该请求方式。")
    else:
        message = exc.detail
    return error_response(request, status, message, fields)


def domain_error_handler(request: Request, exc: DomainError) -> Response:
    """Domain refusals keep their message; the status says what kind of refusal it is."""
    from registry.access import PermissionDenied
    from registry.editions.commands import ConflictError
    from registry.editions.workflow import TransitionError

    fields: list[FieldError] = []
    if isinstance(exc, ValidationError):
        status, message, fields = 400, _("提交的内容有误，请修改后重试。"), exc.errors
    elif isinstance(exc, PermissionDenied):
        status, message = 403, str(exc)
    elif isinstance(exc, NotFound):
        status, message = 404, str(exc)
    elif isinstance(exc, ConflictError):
        response = error_response(request, 409, str(exc), [])
        if _wants_json(request):
            response.content["error"]["current_lock_version"] = exc.current_lock_version
        return response
    elif isinstance(exc, TransitionError):
        status, message = 409, str(exc)
    else:
        status, message = 400, str(exc)
    return error_response(request, status, message, fields)


def database_input_handler(request: Request, exc: Exception) -> Response:
    """The database refused a value (too long for its column, out of its range, a character it
    cannot store): the request was wrong, not the server. The transaction was rolled back."""
    log.info("database refused input on %s: %s", request.url.path, exc)
    return error_response(request, 400, _("输入内容过长、超出范围或含有无效字符，未保存任何内容。"), [])


DATABASE_INPUT_ERRORS: tuple[type[Exception], ...] = (
    asyncpg.exceptions.StringDataRightTruncationError,
    asyncpg.exceptions.NumericValueOutOfRangeError,
    asyncpg.exceptions.CharacterNotInRepertoireError,
    asyncpg.exceptions.UntranslatableCharacterError,
    asyncpg.exceptions.InvalidDatetimeFormatError,
    asyncpg.exceptions.DatetimeFieldOverflowError,
    OverflowError,  # sqlite3: a Python int beyond 64 bits
    RecursionError,  # a structure nested too deep for a decoder
)


def internal_error_handler(request: Request, exc: Exception) -> Response:
    if isinstance(exc, DATABASE_INPUT_ERRORS):
        return database_input_handler(request, exc)
    log.exception("unhandled error on %s", request.url.path, exc_info=exc)
    return error_response(request, 500, _("系统暂时无法处理您的请求，请稍后再试。如需帮助请拨打 12345。"), [])
