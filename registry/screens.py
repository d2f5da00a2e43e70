"""Counter screens (实体大厅窗口): which guides a window shows, and whether each screen is alive."""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from datetime import datetime, timedelta

from guides import Guide
from guides.i18n import _
from registry import queries
from registry.access import Actor, PermissionDenied
from registry.db import write_transaction
from registry.errors import FieldError, NotFound, ValidationError
from registry.tables import Role, ScreenCheckin, ServiceItem, Window, WindowItem

WINDOW_CODE = re.compile(r"[A-Za-z0-9][A-Za-z0-9-]{0,39}")
STALE_AFTER = timedelta(seconds=60)  # a screen polls every 5 s; a minute of silence is a problem


@dataclass(frozen=True, slots=True)
class ScreenContent:
    window: dict
    slides: list[tuple[Guide, str]]  # (guide, fingerprint), in the window's order

    @property
    def state(self) -> str:
        """A tag that changes whenever anything the screen shows changes."""
        text = "|".join(fp for _g, fp in self.slides) + f"|{self.window['interval_seconds']}"
        return hashlib.sha256(text.encode()).hexdigest()[:32]


def _require_manager(actor: Actor) -> None:
    if actor.role not in (Role.admin, Role.reviewer):
        raise PermissionDenied(_("只有管理员和审核人员可以管理窗口屏幕。"))


async def save_window(
    actor: Actor,
    *,
    code: str,
    name: str,
    hall: str,
    interval_seconds: int,
    item_codes: list[str],
    now: datetime,
) -> None:
    """Create or update a window and the ordered list of items its screen shows."""
    _require_manager(actor)
    errors = []
    if not WINDOW_CODE.fullmatch(code or ""):
        errors.append(FieldError("code", _("窗口编码应为 1–40 位字母、数字或连字符")))
    if not (name or "").strip():
        errors.append(FieldError("name", _("请填写窗口名称")))
    elif len(name.strip()) > 100:
        errors.append(FieldError("name", _("窗口名称不能超过 {n} 个字符", n=100)))
    if len((hall or "").strip()) > 100:
        errors.append(FieldError("hall", _("大厅名称不能超过 {n} 个字符", n=100)))
    if len(item_codes) > 200:
        errors.append(FieldError("items", _("一个窗口最多显示 {n} 个事项", n=200)))
    if not 5 <= interval_seconds <= 600:
        errors.append(FieldError("interval_seconds", _("轮播间隔应在 5 到 600 秒之间")))
    codes = [c.strip().upper() for c in item_codes if c.strip()]
    async with write_transaction():
        known = {
            r["code"]: r["id"]
            for r in await ServiceItem.select(ServiceItem.id, ServiceItem.code).where(
                ServiceItem.code.is_in(codes or ["-"])
            )
        }
        unknown = [c for c in codes if c not in known]
        if unknown:
            errors.append(FieldError("items", _("没有这些事项编码：{c}", c="、".join(unknown))))
        if errors:
            raise ValidationError(errors)
        row = await Window.select(Window.id).where(Window.code == code).first()
        if row is None:
            (row,) = await Window.insert(
                Window(
                    code=code,
                    name=name.strip(),
                    hall=hall.strip(),
                    interval_seconds=interval_seconds,
                    created_at=now,
                )
            ).returning(Window.id)
        else:
            await Window.update(
                {
                    Window.name: name.strip(),
                    Window.hall: hall.strip(),
                    Window.interval_seconds: interval_seconds,
                }
            ).where(Window.id == row["id"])
            await WindowItem.delete().where(WindowItem.window == row["id"])
        if codes:
            await WindowItem.insert(
                *(WindowItem(window=row["id"], item=known[c], position=i) for i, c in enumerate(codes))
            )


async def screen_content(code: str) -> ScreenContent:
    window = await Window.select().where(Window.code == code).first()
    if window is None:
        raise NotFound(_("没有编码为“{code}”的窗口。", code=code))
    items = (
        await WindowItem.select(WindowItem.item.code)
        .where(WindowItem.window == window["id"])
        .order_by(WindowItem.position)
    )
    slides = []
    for row in items:
        found = await queries.published_guide(row["item.code"])
        if found.status == "ok":  # withdrawn items leave the screen by themselves
            slides.append((found.guide, found.fingerprint))
    return ScreenContent(window, slides)


async def check_in(window_id: int, *, state: str, client: str, now: datetime) -> None:
    """Record a poll. One upsert: a screen's first polls may arrive together (the window is
    unique in ScreenCheckin, and a read-then-insert would collide)."""
    await ScreenCheckin.insert(
        ScreenCheckin(window=window_id, seen_at=now, state=state[:64], client=client[:200])
    ).on_conflict(
        target=ScreenCheckin.window,
        action="DO UPDATE",
        values=[ScreenCheckin.seen_at, ScreenCheckin.state, ScreenCheckin.client],
    )


@dataclass(frozen=True, slots=True)
class ScreenStatus:
    code: str
    name: str
    hall: str
    interval_seconds: int
    items: list[str]
    seen_at: datetime | None
    shown_state: str
    current_state: str

    def stale(self, now: datetime) -> bool:
        return self.seen_at is None or now - self.seen_at > STALE_AFTER

    @property
    def up_to_date(self) -> bool:
        return self.shown_state == self.current_state


async def screen_statuses() -> list[ScreenStatus]:
    out = []
    for window in await Window.select().order_by(Window.code):
        content = await screen_content(window["code"])
        checkin = await ScreenCheckin.select().where(ScreenCheckin.window == window["id"]).first()
        items = (
            await WindowItem.select(WindowItem.item.code)
            .where(WindowItem.window == window["id"])
            .order_by(WindowItem.position)
        )
        out.append(
            ScreenStatus(
                code=window["code"],
                name=window["name"],
                hall=window["hall"],
                interval_seconds=window["interval_seconds"],
                items=[i["item.code"] for i in items],
                seen_at=checkin["seen_at"] if checkin else None,
                shown_state=checkin["state"] if checkin else "",
                current_state=content.state,
            )
        )
    return out
