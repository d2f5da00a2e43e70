"""Security headers on every response, from one place (a `before_send` hook on the app).

The Content-Security-Policy allows scripts and styles from this site only: no inline script, no
`style=` attribute, no `unsafe-inline`. A template that needs one inline `<style>` (the print
page's running footer) asks for `csp_nonce()`; the hook then adds that nonce to `style-src`.
Everything else is fixed per installation (HSTS only when the public URL is https).
"""

from __future__ import annotations

import secrets
from typing import Any

from jinja2 import pass_context
from litestar.datastructures import MutableScopeHeaders
from litestar.types import Message, Scope

from registry.settings import Settings

NONCE_KEY = "onetrip_csp_nonce"
HSTS = "max-age=31536000; includeSubDomains"
PERMISSIONS = "camera=(), microphone=(), geolocation=(), payment=(), usb=(), interest-cohort=()"


def content_security_policy(nonce: str | None = None) -> str:
    style = "style-src 'self'" + (f" 'nonce-{nonce}'" if nonce else "")
    return "; ".join(
        [
            "default-src 'self'",
            "script-src 'self'",
            style,
            "img-src 'self' data:",
            "font-src 'self'",
            "connect-src 'self'",
            "object-src 'none'",
            "base-uri 'none'",
            "form-action 'self'",
            # Counter screens are top-level pages too: nothing of ours is ever framed.
            "frame-ancestors 'none'",
        ]
    )


def fixed_headers(settings: Settings) -> dict[str, str]:
    headers = {
        "X-Content-Type-Options": "nosniff",
        "Referrer-Policy": "strict-origin-when-cross-origin",
        "X-Frame-Options": "DENY",
        "Permissions-Policy": PERMISSIONS,
        "Cross-Origin-Opener-Policy": "same-origin",
    }
    if settings.public_url.lower().startswith("https://"):
        headers["Strict-Transport-Security"] = HSTS
    return headers


def security_headers_hook(settings: Settings):
    """A Litestar `before_send` hook: runs for every HTTP response, errors and 404s included."""
    fixed = fixed_headers(settings)

    async def before_send(message: Message, scope: Scope) -> None:
        if message["type"] != "http.response.start":
            return
        headers = MutableScopeHeaders.from_message(message)
        for name, value in fixed.items():
            headers[name] = value
        headers["Content-Security-Policy"] = content_security_policy(scope.get(NONCE_KEY))  # type: ignore[arg-type]

    return before_send


@pass_context
def csp_nonce(context: Any) -> str:
    """A per-response nonce for the one inline `<style>` a template needs; "" outside a request
    (the static export renders the same templates)."""
    request = context.get("request")
    if request is None:
        return ""
    scope = request.scope
    if NONCE_KEY not in scope:
        scope[NONCE_KEY] = secrets.token_urlsafe(16)
    return scope[NONCE_KEY]
