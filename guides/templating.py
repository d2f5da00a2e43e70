"""The Jinja environment every channel renders with (the web app uses the same one)."""

from __future__ import annotations

import base64
import hashlib
import re
from pathlib import Path

from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape
from markupsafe import Markup

from guides import labels
from guides.i18n import _, ngettext
from guides.markdown import render_markdown
from guides.situations import MARK_LABELS, MARKS, applies, when_text
from guides.snapshot import declared_facts, field_title
from guides.venues import hours_today, weekly_hours

TEMPLATES_DIR = Path(__file__).resolve().parent.parent / "templates"
_INLINE_STYLE = re.compile(rb"<style>(.*?)</style>", re.DOTALL)


def inline_style_hashes(page: bytes) -> tuple[str, ...]:
    """The Content-Security-Policy sources (`sha256-…`) of a rendered page's inline `<style>`
    blocks: computed when a page is rendered, sent with it every time it is served."""
    return tuple(
        "sha256-" + base64.b64encode(hashlib.sha256(block).digest()).decode("ascii")
        for block in _INLINE_STYLE.findall(page)
    )


def make_environment(extra_dirs: tuple[Path, ...] = ()) -> Environment:
    env = Environment(
        loader=FileSystemLoader([*extra_dirs, TEMPLATES_DIR]),
        autoescape=select_autoescape(["html", "xml", "svg"]),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.globals.update(
        _=_,
        ngettext=ngettext,
        when_text=when_text,
        hours_today=hours_today,
        weekly_hours=weekly_hours,
        MARKS=MARKS,
        MARK_LABELS=MARK_LABELS,
        declared_facts=declared_facts,
        when_applies=lambda when, answers: applies(when, answers) is True,
        field_title=field_title,
    )
    env.filters.update(
        markdown=lambda text: Markup(render_markdown(text)),
        level_label=labels.level_label,
        days_label=labels.days_label,
        trips_label=labels.trips_label,
        depth_label=labels.depth_label,
        copies_label=labels.copies_label,
        local_time=labels.local_time,
        check_code=labels.check_code,
    )
    return env
