"""Guide channels beyond the online hall: print, QR codes, JSON and Markdown (issue 4).

Every channel of a guide lives under its stable address `/g/{code}/…` and renders the same
published snapshot as the hall page (the table is `guides.channels.CHANNELS`). Unknown codes are
a 404, withdrawn items a 410, exactly as on the hall page.
"""

from __future__ import annotations

import hashlib
import json

from litestar import Controller, Request, Response, get
from litestar.di import NamedDependency
from litestar.exceptions import NotFoundException
from litestar.params import FromPath

from guides import Guide
from guides.channels import (
    CHANNELS,
    Channel,
    channel_qr,
    code_qr_text,
    context_for,
    notice_context,
    notice_params,
    stable_qr_text,
)
from guides.channels import render as render_channel
from guides.clock import local_today
from guides.i18n import _
from guides.qr import QrSource
from guides.situations import build_notice, read_answers, read_marks
from guides.urls import Urls
from registry import qrcodes, rendered
from registry.reads.public import PublicReads
from registry.web.deps import calendar, now
from registry.web.public import GoneException
from registry.web.rendering import (
    A_WHILE,
    FOREVER,
    cached_response,
    etag_for,
    reads_of,
    render,
    urls_of,
)
from registry.web.security import allow_style_hashes
from registry.workdays import CalendarGapError

# How long caches may keep each byte channel, and what its ETag is. A QR code encodes only the
# stable address: its bytes never change, so caches may keep it for a year. A guide's documents
# change when a new edition is published: revalidate after five minutes (the ETag makes it cheap).
CACHING = {
    "qr_svg": (FOREVER, "content"),  # ETag: SHA-256 of the bytes
    "qr_png": (FOREVER, "content"),
    "json": (A_WHILE, "fingerprint"),  # the bytes ARE the snapshot: its fingerprint is their hash
}


async def _fingerprint(reads: PublicReads, code: str) -> str:
    """The fingerprint of the guide a channel shows, without loading its snapshot when the
    rendered document is cached (404 and 410 as on the hall page)."""
    found = await reads.current(code)
    if found.status == "ok":
        return found.fingerprint
    return (await _published(reads, code))[1]  # raises


async def _published(reads: PublicReads, code: str) -> tuple[Guide, str]:
    found = await reads.published_guide(code)
    if found.status == "missing":
        raise NotFoundException(_("没有找到编码为“{code}”的服务事项。", code=code))
    if found.status == "withdrawn":
        raise GoneException(
            _("服务事项“{name}”（{code}）已取消，不再办理。", name=found.guide.name, code=code)
        )
    return found.guide, found.fingerprint


async def _stored_qr(spec: Channel, guide: Guide, urls: Urls) -> QrSource | None:
    """The channel's QR code as stored (drawn and stored now if it never was): rendering then
    only reads it (registry.qrcodes)."""
    if spec.qr is None:
        return None
    found = await qrcodes.ensure([spec.qr(guide, urls)])
    return found.__getitem__


async def _bytes(request: Request, reads: PublicReads, channel: str, code: str, urls: Urls) -> Response:
    """A channel rendered to bytes (once per fingerprint), with a strong ETag and a 304."""
    spec = CHANNELS[channel]
    assert spec.render is not None
    cache_control, tag = CACHING[channel]
    fingerprint = await _fingerprint(reads, code)
    key = (channel, fingerprint)
    cached = reads.documents.get(key)
    if cached is None and spec.qr is stable_qr_text:
        # The item's own QR code depends on its code alone: no snapshot to load.
        (qr,) = (await qrcodes.ensure([code_qr_text(code, urls)])).values()
        body = spec.render(None, fingerprint, urls, qr)  # type: ignore[arg-type]  # reads only `qr`
        # One read away: kept once asked for twice.
        cached = reads.documents.offer(key, (body, hashlib.sha256(body).hexdigest()))
    if cached is None:
        guide, fingerprint = await _published(reads, code)
        body = spec.render(
            guide, fingerprint, urls, channel_qr(spec, guide, urls, await _stored_qr(spec, guide, urls))
        )
        digest = fingerprint if tag == "fingerprint" else hashlib.sha256(body).hexdigest()
        cached = reads.documents.put(key, (body, digest))
    body, digest = cached
    headers = {"Cache-Control": cache_control}
    if tag == "fingerprint":
        headers["X-Content-Fingerprint"] = fingerprint
    return cached_response(request, body, etag=f'"{digest}"', media_type=spec.media_type, headers=headers)


async def _page(request: Request, reads: PublicReads, channel: str, code: str, urls: Urls) -> Response:
    """A template channel (print, Markdown) rendered once per fingerprint."""
    spec = CHANNELS[channel]
    assert spec.template is not None
    stored_kind = "print" if channel == "print" else None  # Markdown is not stored
    found, fetched = await reads.current_and_stored(code, stored_kind) if stored_kind else (None, None)
    fingerprint = found.fingerprint if found and found.status == "ok" else await _fingerprint(reads, code)
    key = (channel, fingerprint)
    cached = reads.documents.get(key)
    if cached is None:
        # The printout is stored at publication (registry.rendered); Markdown is rendered here.
        stamp = rendered.stamp(urls)
        stored_key = rendered.print_key(fingerprint) if stored_kind else None
        stored = await rendered.read(stored_key, stamp, fetched) if stored_key else None
        keep = reads.documents.offer  # one read away: kept once asked for twice
        if stored is None:
            guide, fingerprint = await _published(reads, code)
            env = request.app.template_engine.engine
            page = render_channel(spec, guide, fingerprint, urls, env, await _stored_qr(spec, guide, urls))
            stored, keep = rendered.Stored.of(page), reads.documents.put
            if stored_key:
                rendered.remember(stored_key, stored, stamp)
        cached = keep(key, (stored, etag_for(channel, fingerprint)))
    stored, etag = cached
    headers = {"X-Content-Fingerprint": fingerprint, "Cache-Control": A_WHILE}
    allow_style_hashes(request.scope, stored.styles)
    return cached_response(
        request, stored.body, etag=etag, media_type=spec.media_type, headers=headers, gzipped=True
    )


def _code(request: Request) -> str:
    """The item code of a channel's address, read without Litestar's parameter model (these are
    the hottest routes after the hall page: registry.web.rendering.query_param)."""
    return request.path_params["code"]


class ChannelController(Controller):
    include_in_schema = False
    path = "/g"

    @get("/{code:str}/qr.svg", name="guide_qr_svg")
    async def qr_svg(self, request: Request) -> Response:
        return await _bytes(request, reads_of(request), "qr_svg", _code(request), urls_of(request))

    @get("/{code:str}/qr.png", name="guide_qr_png")
    async def qr_png(self, request: Request) -> Response:
        return await _bytes(request, reads_of(request), "qr_png", _code(request), urls_of(request))

    @get("/{code:str}/guide.json", name="guide_json")
    async def guide_json(self, request: Request) -> Response:
        return await _bytes(request, reads_of(request), "json", _code(request), urls_of(request))

    @get("/{code:str}/guide.md", name="guide_md")
    async def guide_md(self, request: Request) -> Response:
        return await _page(request, reads_of(request), "markdown", _code(request), urls_of(request))

    @get("/{code:str}/print", name="guide_print")
    async def print_page(self, request: Request) -> Response:
        return await _page(request, reads_of(request), "print", _code(request), urls_of(request))


def _notice(request: Request, guide: Guide):
    """The notice for the answers (and marks) in the query; anything unknown is ignored."""
    query = dict(request.query_params.items())
    answers = read_answers(query, guide.situations)
    marks = read_marks(query, guide.materials)
    notice = build_notice(guide, answers, marks)
    return notice, notice_params(notice)


class NoticeController(Controller):
    """情形引导 and the one-time notice: `/g/{code}/notice?{question}={option}…` (HTML, A4),
    `/g/{code}/notice.json` (the same list as data) and `/g/{code}/counter` (the clerk's form).
    Everything is in the address: nothing is stored, and the QR code reproduces the notice."""

    include_in_schema = False
    path = "/g"

    @get("/{code:str}/notice", name="guide_notice")
    async def notice(
        self,
        request: Request,
        reads: NamedDependency[PublicReads],
        code: FromPath[str],
        urls: NamedDependency[Urls],
    ) -> Response:
        guide, fingerprint = await _published(reads, code)
        notice, params = _notice(request, guide)
        key = ("notice", fingerprint, tuple(params.items()))
        body = reads.documents.get(key)
        if body is None:
            body = reads.documents.put(
                key, render(request, "guides/notice.html", notice_context(notice, fingerprint, urls, params))
            )
        headers = {"X-Content-Fingerprint": fingerprint, "Cache-Control": A_WHILE}
        return cached_response(request, body, etag=etag_for(*map(str, key)), headers=headers)

    @get("/{code:str}/notice.json", name="guide_notice_json")
    async def notice_json(
        self,
        request: Request,
        reads: NamedDependency[PublicReads],
        code: FromPath[str],
        urls: NamedDependency[Urls],
    ) -> Response:
        guide, fingerprint = await _published(reads, code)
        notice, params = _notice(request, guide)
        data = {**notice.to_dict(urls.notice_absolute(guide.code, params)), "fingerprint": fingerprint}
        body = json.dumps(data, ensure_ascii=False, sort_keys=True).encode("utf-8")
        headers = {"X-Content-Fingerprint": fingerprint, "Cache-Control": A_WHILE}
        return cached_response(
            request,
            body,
            etag=etag_for("notice.json", fingerprint, repr(sorted(params.items()))),
            media_type="application/json",
            headers=headers,
        )

    @get("/{code:str}/counter", name="guide_counter", cache=False)
    async def counter(
        self,
        request: Request,
        reads: NamedDependency[PublicReads],
        code: FromPath[str],
        urls: NamedDependency[Urls],
    ) -> Response:
        guide, fingerprint = await _published(reads, code)
        notice, _params = _notice(request, guide)
        today = local_today(now(request))
        print_ = CHANNELS["print"]
        defaults = {}
        for m in guide.materials:
            if m.deferrable:
                try:
                    due = calendar().add_workdays(today, m.defer_days or 5)
                except CalendarGapError:
                    continue
                defaults[m.code] = due.isoformat()
        context = {
            **context_for(print_, guide, fingerprint, urls, await _stored_qr(print_, guide, urls)),
            "notice": notice,
            "answers": notice.answers,
            "defaults": defaults,
        }
        return cached_response(request, render(request, "guides/counter.html", context))
