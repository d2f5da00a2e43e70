"""The Atom feed of published changes (feedgen, not string concatenation)."""

from __future__ import annotations

from feedgen.feed import FeedGenerator

from guides.events import event_code_error
from guides.i18n import _
from guides.urls import Urls
from registry.queries import ChangeEntry


def atom_feed(entries: list[ChangeEntry], urls: Urls) -> bytes:
    feed = FeedGenerator()
    home = urls.public_url.rstrip("/")
    feed.id(f"{home}/changes.atom")
    feed.title(_("乌鲁木齐市政务服务事项变更公告"))
    feed.subtitle(_("办事条件变化的事项，审批后 1 个工作日内公开变更内容和实施时间。"))
    feed.link(href=f"{home}/changes.atom", rel="self")
    feed.link(href=f"{home}/", rel="alternate")
    feed.language("zh-CN")
    feed.author({"name": _("乌鲁木齐市政务服务管理局")})
    if entries:
        feed.updated(max(e.published_at for e in entries))
    else:
        from datetime import UTC, datetime

        feed.updated(datetime(2018, 7, 12, tzinfo=UTC))
    for e in reversed(entries):  # feedgen prepends: oldest first gives newest first
        item = feed.add_entry()
        item.id(f"{home}/g/{e.item_code}/history#change-{e.seq}")
        name = e.name or e.item_code
        item.title(f"{name}：{e.summary}")
        # A life event (一件事) shares the change log: its record links to its own page.
        is_event = event_code_error(e.item_code) is None
        item.link(href=urls.event_absolute(e.item_code) if is_event else urls.guide_absolute(e.item_code))
        item.updated(e.published_at)
        item.published(e.published_at)
        body = [*e.lines, _("实施日期：{d}", d=e.effective_at.isoformat())]
        if e.change_note:
            body.append(_("变更说明：{n}", n=e.change_note))
        item.content("\n".join(body), type="text")
    return feed.atom_str(pretty=True)
