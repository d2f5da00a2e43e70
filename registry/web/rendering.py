"""Rendering to bytes, for responses served from the read side's caches.

A cached page is rendered once with the app's own Jinja environment (the same one `Template`
responses use) and then served as bytes with an ETag; a client holding it gets a 304.
"""

from __future__ import annotations

import hashlib
from functools import lru_cache
from typing import Any

from jinja2_fragments import render_block
from litestar import Request, Response
from litestar.enums import MediaType
from litestar.types import Receive, Scope, Send
from litestar.utils.helpers import get_enum_string_value

from guides.templating import TEMPLATES_DIR
from guides.urls import Urls
from registry import rendered
from registry.reads.public import PublicReads

# How long HTTP caches may keep a response (the one place these are written).
FOREVER = "public, max-age=31536000, immutable"  # bytes named by their content
A_WHILE = "public, max-age=300"  # a published document: revalidate after five minutes (ETag)
HTML = "text/html"  # Litestar adds "; charset=utf-8" to text/*


def _templates_stamp() -> str:
    """Changes when a template changes, so a new deployment never answers 304 with old markup."""
    h = hashlib.sha256()
    for path in sorted(TEMPLATES_DIR.rglob("*")):
        if path.is_file():
            h.update(str(path.relative_to(TEMPLATES_DIR)).encode())
            h.update(path.read_bytes())
    return h.hexdigest()[:8]


TEMPLATES_STAMP = _templates_stamp()


def reads_of(request: Request) -> PublicReads:
    """The process's read side, for the hottest routes (a guide and its channels): as the
    `reads` dependency, without resolving it through Litestar's dependency injection per request."""
    return request.app.state["reads"]


def urls_of(request: Request) -> Urls:
    return request.app.state["urls"]


def query_param(request: Request, name: str) -> str | None:
    """A hot route's one optional query parameter (None when absent), read from the request
    rather than through Litestar's per-request parameter model (a tenth of a page from memory);
    such a route reads its path parameter as `request.path_params[...]` likewise."""
    return request.query_params.get(name) if request.scope["query_string"] else None


class _Ready:
    """An ASGI response whose status, headers and body are final bytes: two messages, no work."""

    __slots__ = ("body", "headers", "status")

    def __init__(self, status: int, headers: list[tuple[bytes, bytes]], body: bytes) -> None:
        self.status, self.headers, self.body = status, headers, body

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        await send({"type": "http.response.start", "status": self.status, "headers": self.headers})
        await send({"type": "http.response.body", "body": self.body, "more_body": False})


class Page(Response[bytes]):
    """A response of bytes from a cache: Litestar's `Response`, sent without its generic path
    (headers set one by one, each a scan of the list, and a serializer): ~20 % of the time of a
    guide page served from memory. Anything the generic path adds (a layer's response headers or
    cookies, a background task) sends it the generic way."""

    def to_asgi_response(self, app, request, *, background=None, cookies=None, headers=None, **kwargs):  # type: ignore[override]
        if app is not None or background or cookies or headers or self.cookies or self.background:
            return super().to_asgi_response(
                app, request, background=background, cookies=cookies, headers=headers, **kwargs
            )
        media_type = get_enum_string_value(self.media_type or MediaType.HTML)
        if media_type.startswith("text/"):
            media_type += f"; charset={self.encoding}"
        body = self.content
        encoded = [(k.lower().encode("latin-1"), v.encode("latin-1")) for k, v in self.headers.items()]
        encoded.append((b"content-type", media_type.encode("latin-1")))
        encoded.append((b"content-length", str(len(body)).encode("ascii")))
        return _Ready(self.status_code or 200, encoded, body)


def render(request: Request, template: str, context: dict[str, Any], *, block: str | None = None) -> bytes:
    environment = request.app.template_engine.engine
    if block is not None:
        return render_block(environment, template, block, **context).encode()
    return environment.get_template(template).render(**context).encode()


def etag_for(*parts: str) -> str:
    return '"' + hashlib.sha256("\0".join((TEMPLATES_STAMP, *parts)).encode()).hexdigest()[:32] + '"'


def raw_header(request: Request, name: bytes) -> str:
    """A request header's value ("" when absent; repeated fields joined by ", ", as RFC 9110
    5.3 allows), read from the ASGI scope: `request.headers` builds a case-insensitive multidict
    of every header, ≈ 4 µs of a page served from memory. ASGI servers give names in lower case."""
    values = [v for k, v in request.scope["headers"] if k == name]
    if not values:
        return ""
    return values[0].decode("latin-1") if len(values) == 1 else b", ".join(values).decode("latin-1")


def fresh(request: Request, etag: str) -> bool:
    """Does the client already hold this version (If-None-Match)?"""
    header = raw_header(request, b"if-none-match")
    if not header:
        return False
    tags = [t.strip().removeprefix("W/") for t in header.split(",")]
    return "*" in tags or etag in tags


@lru_cache(maxsize=256)
def accepts_gzip(accept_encoding: str) -> bool:
    """Does an Accept-Encoding header admit gzip (RFC 9110 12.5.3: `gzip`, else `*`, with q > 0)?"""
    weights: dict[str, float] = {}
    for part in accept_encoding.lower().split(","):
        name, _sep, params = part.partition(";")
        weight = 1.0
        for param in params.split(";"):
            key, _eq, value = param.strip().partition("=")
            if key == "q":
                try:
                    weight = float(value)
                except ValueError:
                    weight = 0.0
        weights.setdefault(name.strip(), weight)
    weight = weights.get("gzip", weights.get("x-gzip", weights.get("*", 0.0)))
    return weight > 0


def _vary(headers: dict[str, str], field: str) -> None:
    present = headers.get("Vary")
    headers["Vary"] = f"{present}, {field}" if present else field


def cached_response(
    request: Request,
    body: bytes,
    *,
    etag: str | None = None,
    media_type: str = HTML,
    headers: dict[str, str] | None = None,
    status_code: int = 200,
    gzipped: bool = False,
) -> Response[bytes]:
    """`gzipped`: `body` is in its stored, gzip-compressed form (registry.rendered.compress): sent
    as it is to a client that accepts gzip (under its own ETag), decompressed for any other."""
    headers = dict(headers or {})
    if gzipped:
        _vary(headers, "Accept-Encoding")
        if accepts_gzip(raw_header(request, b"accept-encoding")):
            headers["Content-Encoding"] = "gzip"
            if etag is not None:  # one strong ETag per representation (RFC 9110 8.8.3)
                etag = etag[:-1] + '-gzip"'
        else:
            body = rendered.decompress(body)
    if etag is not None:
        headers["ETag"] = etag
        if status_code == 200 and fresh(request, etag):
            return Response(content=b"", status_code=304, headers=headers)
    media_type = media_type.split(";")[0] if media_type.startswith("text/") else media_type
    return Page(content=body, status_code=status_code, media_type=media_type, headers=headers)


__all__ = [
    "HTML",
    "MediaType",
    "Page",
    "accepts_gzip",
    "cached_response",
    "etag_for",
    "fresh",
    "query_param",
    "raw_header",
    "reads_of",
    "render",
    "urls_of",
]
