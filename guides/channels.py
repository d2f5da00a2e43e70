"""The channels of a guide: one snapshot, many documents.

`CHANNELS` is a table of plain records (datasette's output renderers): a channel is either a
Jinja template rendered with the guide's context, or a function of (guide, fingerprint, urls) that
returns bytes. The web app serves each channel at `/g/{code}/…`; the static export writes each
to `g/{code}/{filename}`. A new channel is one entry here and one template.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any

import msgspec
from jinja2 import Environment
from markupsafe import Markup

from guides.clock import local_time
from guides.i18n import _
from guides.qr import QrCode, QrSource, draw, inline_svg, qr_svg
from guides.situations import Notice
from guides.snapshot import Guide, canonical_json, declared_facts
from guides.urls import Urls

DEFAULT_AREA = "乌鲁木齐市"

Renderer = Callable[[Guide, str, Urls, QrCode | None], bytes]  # the QR code of `Channel.qr`
QrText = Callable[[Guide, Urls], str]
ExtraContext = Callable[[Guide, str, Urls], Mapping[str, Any]]


@dataclass(frozen=True, slots=True)
class Channel:
    name: str
    media_type: str
    filename: str  # the file name in an exported guide folder (g/{code}/…)
    template: str | None = None  # a Jinja template rendered with `guide_context` …
    render: Renderer | None = None  # … or a function returning the document's bytes
    extra_context: ExtraContext | None = None  # what this template needs beyond guide_context
    # The text this channel's QR code encodes, if it shows one. The code itself comes from a
    # `QrSource`: the registry passes its stored codes (drawn once, at publication), a plain
    # caller gets them drawn.
    qr: QrText | None = None


def published_local(guide: Guide) -> str:
    """The publication time as the city reads it (Beijing time)."""
    return local_time(guide.published_at)


def printed_qr_text(guide: Guide, urls: Urls) -> str:
    """What the printed guide's QR code carries: the stable address plus `?v=` the printed
    version (the item's own /g/{code}/qr.svg stays version-free and byte-identical)."""
    return urls.guide_printed(guide.code, guide.version)


def stable_qr_text(guide: Guide, urls: Urls) -> str:
    """What the item's own QR code carries: its stable address, nothing else (so it can be
    known from the code alone: `code_qr_text`)."""
    return code_qr_text(guide.code, urls)


def code_qr_text(code: str, urls: Urls) -> str:
    return urls.guide_absolute(code)


def qr_texts(guide: Guide, urls: Urls) -> list[str]:
    """Every text a QR code of this guide's channels encodes (what publication draws)."""
    return list(dict.fromkeys(c.qr(guide, urls) for c in CHANNELS.values() if c.qr is not None))


def guide_context(guide: Guide, fingerprint: str, urls: Urls) -> dict[str, Any]:
    """What every guide template gets."""
    return {
        "guide": guide,
        "fingerprint": fingerprint,
        "published_local": published_local(guide),
        "urls": urls,
    }


def json_ld(guide: Guide, fingerprint: str, urls: Urls) -> dict[str, Any]:
    """schema.org `GovernmentService` for the online hall page. The fingerprint identifies the
    guide document (the published snapshot), so it sits on `subjectOf`, as a PropertyValue."""
    department = guide.department
    address = urls.guide_absolute(guide.code)
    site = Urls(urls.public_url)  # the open data lives on the site, whatever page links to it
    area = {"@type": "AdministrativeArea", "name": department.region or DEFAULT_AREA}
    data: dict[str, Any] = {
        "@context": "https://schema.org",
        "@type": "GovernmentService",
        "@id": address,
        "name": guide.name,
        "serviceType": guide.item_type,
        "identifier": guide.code,
        "url": address,
        "provider": {
            "@type": "GovernmentOrganization",
            "name": department.name,
            "identifier": department.code,
            "areaServed": area,
        },
        "areaServed": area,
        "availableChannel": {
            "@type": "ServiceChannel",
            "serviceUrl": address,
            **({"servicePhone": guide.consult_phone} if guide.consult_phone else {}),
        },
        "subjectOf": {
            "@type": "DigitalDocument",
            "name": _("办事指南：{name}", name=guide.name),
            "url": site.public_url.rstrip("/") + site.guide_json(guide.code),
            "encodingFormat": "application/json",
            "version": str(guide.version),
            "datePublished": guide.published_at.isoformat(),
            "identifier": {
                "@type": "PropertyValue",
                "propertyID": "SHA-256",
                "name": _("内容指纹"),
                "value": fingerprint,
            },
        },
    }
    # The national implementation-list elements and the situations, from their declarations.
    properties = [
        {"@type": "PropertyValue", "propertyID": name, "name": title, "value": text}
        for name, title, text in declared_facts(guide)
    ]
    properties += [
        {
            "@type": "PropertyValue",
            "propertyID": f"situation:{q.key}",
            "name": q.question,
            "value": [o.label for o in q.options],
        }
        for q in guide.situations
    ]
    if properties:
        data["additionalProperty"] = properties
    if guide.summary:
        data["description"] = guide.summary
    if guide.audience:
        data["audience"] = {"@type": "Audience", "audienceType": "、".join(guide.audience)}
    return data


CHANNELS: Mapping[str, Channel] = MappingProxyType(
    {
        "hall": Channel(
            "hall",
            "text/html; charset=utf-8",
            "index.html",
            template="guides/hall.html",
            extra_context=lambda guide, fingerprint, urls: {
                "json_ld": json_ld(guide, fingerprint, urls),
                "interactive": True,
            },
        ),
        "print": Channel(
            "print",
            "text/html; charset=utf-8",
            "print.html",
            template="guides/print.html",
            extra_context=lambda guide, fingerprint, urls: {"open_faq": True},
            qr=printed_qr_text,
        ),
        "markdown": Channel(
            "markdown", "text/markdown; charset=utf-8", "guide.md", template="guides/guide.md"
        ),
        "json": Channel(
            "json",
            "application/json; charset=utf-8",
            "guide.json",
            render=lambda guide, fingerprint, urls, qr: canonical_json(guide),
        ),
        "qr_svg": Channel(
            "qr_svg",
            "image/svg+xml",
            "qr.svg",
            render=lambda guide, fingerprint, urls, qr: qr.svg,
            qr=stable_qr_text,
        ),
        "qr_png": Channel(
            "qr_png",
            "image/png",
            "qr.png",
            render=lambda guide, fingerprint, urls, qr: qr.png,
            qr=stable_qr_text,
        ),
    }
)


def api_item(guide: Guide, fingerprint: str) -> bytes:
    """The open-data API's document of one guide (/api/items/{code}): every field of the snapshot,
    defaults included, and its fingerprint."""
    return msgspec.json.encode({**guide.to_dict(), "fingerprint": fingerprint})


def notice_context(notice: Notice, fingerprint: str, urls: Urls, params: Mapping[str, str]) -> dict[str, Any]:
    """What the one-time notice page gets: the notice, its own address and QR code."""
    guide = notice.guide
    address = urls.notice_absolute(guide.code, params)
    svg = inline_svg(qr_svg(address))  # answers are in the address: drawn on demand, cached
    return {
        **guide_context(guide, fingerprint, urls),
        "notice": notice,
        "params": dict(params),
        "address": address,
        "qr": Markup(svg),
    }


def notice_params(notice: Notice) -> dict[str, str]:
    """The query parameters that reproduce a notice: answers, then marks, in the guide's order."""
    params = {s.key: notice.answers[s.key] for s in notice.guide.situations if s.key in notice.answers}
    for m in notice.guide.materials:
        mark = notice.marks.get(m.code)
        if mark is not None:
            params[f"m-{m.code}"] = mark.mark
            if mark.due is not None:
                params[f"due-{m.code}"] = mark.due.isoformat()
    return params


def channel_qr(channel: Channel, guide: Guide, urls: Urls, qr: QrSource | None = None) -> QrCode | None:
    """The channel's QR code from `qr` (drawn when no source is given), or None."""
    if channel.qr is None:
        return None
    return (qr or draw)(channel.qr(guide, urls))


def context_for(
    channel: Channel, guide: Guide, fingerprint: str, urls: Urls, qr: QrSource | None = None
) -> dict[str, Any]:
    context = guide_context(guide, fingerprint, urls)
    if channel.extra_context is not None:
        context.update(channel.extra_context(guide, fingerprint, urls))
    code = channel_qr(channel, guide, urls, qr)
    if code is not None and channel.template is not None:
        context["qr"] = Markup(inline_svg(code.svg))
    return context


def render(
    channel: Channel,
    guide: Guide,
    fingerprint: str,
    urls: Urls,
    env: Environment,
    qr: QrSource | None = None,
    **extra: Any,
) -> bytes:
    """The channel's document for one guide, as bytes (its QR code, if any, from `qr`)."""
    if channel.render is not None:
        return channel.render(guide, fingerprint, urls, channel_qr(channel, guide, urls, qr))
    assert channel.template is not None
    context = {**context_for(channel, guide, fingerprint, urls, qr), **extra}
    text = env.get_template(channel.template).render(context)
    return (text if text.endswith("\n") else text + "\n").encode("utf-8")
