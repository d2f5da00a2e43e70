"""The one translation function for user-facing text.

Source strings are Simplified Chinese (the product's language). Another language is a gettext
catalogue (`locale/<lang>/LC_MESSAGES/onetrip.mo`) activated with `activate(lang)`; until one
exists, `_` returns the Chinese text unchanged. Templates get the same function as `_`.
"""

from __future__ import annotations

import gettext
from pathlib import Path

LOCALE_DIR = Path(__file__).resolve().parent.parent / "locale"
DEFAULT_LANGUAGE = "zh-CN"

_translations: gettext.NullTranslations = gettext.NullTranslations()


def activate(language: str = DEFAULT_LANGUAGE) -> None:
    """Switch the process to `language` (falls back to the Chinese source text)."""
    global _translations
    _translations = gettext.translation("onetrip", localedir=LOCALE_DIR, languages=[language], fallback=True)


def _(message: str, /, **values: object) -> str:
    """Translate `message`, then fill `{name}` placeholders from `values`."""
    text = _translations.gettext(message)
    return text.format(**values) if values else text


def ngettext(singular: str, plural: str, n: int) -> str:
    return _translations.ngettext(singular, plural, n)
