"""Display labels for guide values (all user-facing text goes through `_`)."""

from __future__ import annotations

from guides.clock import local_time as local_time  # re-exported: a Jinja global
from guides.i18n import _

LEVELS = {"city": "市级部门", "district": "区（县）级"}


def level_label(level: str) -> str:
    return _(LEVELS.get(level, level))


def days_label(days: int) -> str:
    return _("即办") if days == 0 else _("{n} 个工作日", n=days)


def trips_label(trips: int) -> str:
    if trips == 0:
        return _("零跑动")
    if trips == 1:
        return _("最多跑一次")
    return _("需跑 {n} 次", n=trips)


def depth_label(depth: int) -> str:
    names = {
        0: "线下办理",
        1: "网上公开办事指南",
        2: "网上预约、下载表格",
        3: "网上申报、预审",
        4: "全程网办",
    }
    return _(names.get(depth, "")) if depth in names else str(depth)


def copies_label(form: str, copies: int) -> str:
    return _("{form} {n} 份", form=_(form), n=copies)


def check_code(fingerprint: str) -> str:
    """The short 校验码 people compare: the first 8 hex digits of the content fingerprint, in two
    groups ("3F2A-91C0"). Screen, paper and web page show the same code for the same content."""
    head = fingerprint[:8].upper()
    return f"{head[:4]}-{head[4:]}"
