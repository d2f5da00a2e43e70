"""Attachments, served by SHA-256: `/files/{sha256}/{name}` (guides.urls.Urls.attachment).

The bytes never change for a hash, so responses are cacheable for a year (`immutable`); the type
is the one sniffed at upload, `nosniff` keeps browsers from guessing another, and the name in the
address only names the download (made safe again here: it is part of an untrusted URL).
"""

from __future__ import annotations

from litestar import Controller, Request, Response, get
from litestar.di import NamedDependency
from litestar.exceptions import NotFoundException
from litestar.params import FromPath

from guides.i18n import _
from registry import attachments
from registry.reads.public import PublicReads

IMMUTABLE = "public, max-age=31536000, immutable"


async def _file(request: Request, reads: PublicReads, sha256: str, name: str) -> Response[bytes]:
    # The bytes of a hash never change: kept in the bounded LRU of rendered documents.
    cached = reads.documents.get(("file", sha256))
    if cached is None:
        row = await attachments.load(sha256)
        if row is None:
            raise NotFoundException(_("没有这个文件。"))
        cached = reads.documents.put(("file", sha256), (row["media_type"], bytes(row["content"])))
    media_type, content = cached
    etag = f'"{sha256}"'
    headers = {
        "Cache-Control": IMMUTABLE,
        "ETag": etag,
        "X-Content-Type-Options": "nosniff",
        "Content-Disposition": attachments.content_disposition(name or sha256[:12], media_type),
    }
    if request.headers.get("if-none-match") == etag:
        return Response(b"", status_code=304, headers=headers)
    return Response(content, media_type=media_type, headers=headers)


class FileController(Controller):
    path = "/files"
    include_in_schema = False

    @get("/{sha256:str}", name="attachment_bare")
    async def bare(
        self, request: Request, reads: NamedDependency[PublicReads], sha256: FromPath[str]
    ) -> Response[bytes]:
        return await _file(request, reads, sha256, "")

    @get("/{sha256:str}/{name:str}", name="attachment")
    async def named(
        self,
        request: Request,
        reads: NamedDependency[PublicReads],
        sha256: FromPath[str],
        name: FromPath[str],
    ) -> Response[bytes]:
        return await _file(request, reads, sha256, name)
