"""Safe Markdown for editors' text: raw HTML off, javascript: links refused."""

from __future__ import annotations

from functools import lru_cache

from markdown_it import MarkdownIt

_md = MarkdownIt("js-default")


@lru_cache(maxsize=4096)
def render_markdown(text: str) -> str:
    return _md.render(text or "")
