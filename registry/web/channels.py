"""Guide channels beyond the online hall: print, QR codes, JSON and Markdown (issue 4).

Every channel of a guide lives under its stable address `/g/{code}/…` and renders the same
published snapshot as the hall page (the table is `guides.channels.CHANNELS`). Unknown codes are
a 404, withdrawn items a 410, exactly as on the hall page.
"""

from __future__ import annotations

import hashlib

from litestar import Controller, Request, Response, get
from litestar.di import NamedDependency
from litestar.exceptions import NotFoundException
from litestar.params import FromPath

from guides import Guide
from guides.channels import CHANNELS, context_for
from guides.i18n import _
from guides.urls import Urls
from registry.reads.public import PublicReads
from registry.web.public import GoneException
from registry.web.rendering import cached_response, etag_for, render
from registry.web.security import allow_inline_styles

# How long caches may keep each byte channel, and what its ETag is. A QR code encodes only the
# stable address: its bytes never change, so caches may keep it for a year. A guide's documents
# change when a new edition is published: revalidate after five minutes (the ETag makes it cheap).
FOREVER = "public, max-age=31536000, immutable"
A_WHILE = "public, max-age=300"
CACHING = {
    "qr_svg": (FOREVER, "content"),  # ETag: SHA-256 of the bytes
    "qr_png": (FOREVER, "content"),
    "json": (A_WHILE, "fingerprint"),  # the bytes ARE the snapshot: its fingerprint is their hash
}


async def _published(reads: PublicReads, code: str) -> tuple[Guide, str]:
    found = await reads.published_guide(code)
    if found.status == "missing":
        raise NotFoundException(_("没有找到编码为“{code}”的服务事项。", code=code))
    if found.status == "withdrawn":
        raise GoneException(
            _("服务事项“{name}”（{code}）已取消，不再办理。", name=found.guide.name, code=code)
        )
    return found.guide, found.fingerprint


def _bytes(
    request: Request, reads: PublicReads, channel: str, guide: Guide, fingerprint: str, urls: Urls
) -> Response:
    """A channel rendered to bytes (once per fingerprint), with a strong ETag and a 304."""
    spec = CHANNELS[channel]
    assert spec.render is not None
    cache_control, tag = CACHING[channel]

    def rendered() -> tuple[bytes, str]:
        body = spec.render(guide, fingerprint, urls)
        return body, fingerprint if tag == "fingerprint" else hashlib.sha256(body).hexdigest()

    key = (channel, fingerprint)
    body, digest = reads.documents.get(key) or reads.documents.put(key, rendered())
    headers = {"Cache-Control": cache_control}
    if tag == "fingerprint":
        headers["X-Content-Fingerprint"] = fingerprint
    return cached_response(request, body, etag=f'"{digest}"', media_type=spec.media_type, headers=headers)


def _page(
    request: Request, reads: PublicReads, channel: str, guide: Guide, fingerprint: str, urls: Urls
) -> Response:
    """A template channel (print, Markdown) rendered once per fingerprint."""
    spec = CHANNELS[channel]
    assert spec.template is not None
    key = (channel, fingerprint)
    body = reads.documents.get(key)
    if body is None:
        body = reads.documents.put(
            key, render(request, spec.template, context_for(spec, guide, fingerprint, urls))
        )
    headers = {"X-Content-Fingerprint": fingerprint, "Cache-Control": A_WHILE}
    allow_inline_styles(request.scope, body)
    return cached_response(
        request, body, etag=etag_for(channel, fingerprint), media_type=spec.media_type, headers=headers
    )


class ChannelController(Controller):
    include_in_schema = False
    path = "/g"

    @get("/{code:str}/qr.svg", name="guide_qr_svg")
    async def qr_svg(
        self,
        request: Request,
        reads: NamedDependency[PublicReads],
        code: FromPath[str],
        urls: NamedDependency[Urls],
    ) -> Response:
        guide, fingerprint = await _published(reads, code)
        return _bytes(request, reads, "qr_svg", guide, fingerprint, urls)

    @get("/{code:str}/qr.png", name="guide_qr_png")
    async def qr_png(
        self,
        request: Request,
        reads: NamedDependency[PublicReads],
        code: FromPath[str],
        urls: NamedDependency[Urls],
    ) -> Response:
        guide, fingerprint = await _published(reads, code)
        return _bytes(request, reads, "qr_png", guide, fingerprint, urls)

    @get("/{code:str}/guide.json", name="guide_json")
    async def guide_json(
        self,
        request: Request,
        reads: NamedDependency[PublicReads],
        code: FromPath[str],
        urls: NamedDependency[Urls],
    ) -> Response:
        guide, fingerprint = await _published(reads, code)
        return _bytes(request, reads, "json", guide, fingerprint, urls)

    @get("/{code:str}/guide.md", name="guide_md")
    async def guide_md(
        self,
        request: Request,
        reads: NamedDependency[PublicReads],
        code: FromPath[str],
        urls: NamedDependency[Urls],
    ) -> Response:
        guide, fingerprint = await _published(reads, code)
        return _page(request, reads, "markdown", guide, fingerprint, urls)

    @get("/{code:str}/print", name="guide_print")
    async def print_page(
        self,
        request: Request,
        reads: NamedDependency[PublicReads],
        code: FromPath[str],
        urls: NamedDependency[Urls],
    ) -> Response:
        guide, fingerprint = await _published(reads, code)
        return _page(request, reads, "print", guide, fingerprint, urls)
