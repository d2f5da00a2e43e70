"""Security headers on every response, from one place (a `before_send` hook on the app).

The Content-Security-Policy allows scripts and styles from this site only: no inline script, no
`style=` attribute, no `unsafe-inline`. A page with an inline `<style>` (the print page's running
footer) is served through `allow_inline_styles`, which adds the SHA-256 of each block to
`style-src`: a hash, unlike a nonce, stays right for a page rendered once and served from cache.
Everything else is fixed per installation (HSTS only when the public URL is https).
"""

from __future__ import annotations

from litestar.types import Message, Scope

from guides.templating import inline_style_hashes
from registry.settings import Settings

STYLE_HASHES_KEY = "onetrip_csp_style_hashes"
HSTS = "max-age=31536000; includeSubDomains"
PERMISSIONS = "camera=(), microphone=(), geolocation=(), payment=(), usb=(), interest-cohort=()"


def content_security_policy(style_hashes: tuple[str, ...] = ()) -> str:
    style = " ".join(["style-src 'self'", *(f"'{h}'" for h in style_hashes)])
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
    # Encoded once: this runs for every response (setting them one by one through
    # MutableScopeHeaders scanned the header list each time: ~20 % of a page served from memory).
    fixed = [(k.lower().encode("latin-1"), v.encode("latin-1")) for k, v in fixed_headers(settings).items()]
    csp_name = b"content-security-policy"
    ours = {name for name, _v in fixed} | {csp_name}
    default_csp = content_security_policy().encode("latin-1")

    async def before_send(message: Message, scope: Scope) -> None:
        if message["type"] != "http.response.start":
            return
        hashes = scope.get(STYLE_HASHES_KEY, ())  # type: ignore[call-overload]
        csp = content_security_policy(hashes).encode("latin-1") if hashes else default_csp
        headers = [h for h in message.get("headers", ()) if bytes(h[0]).lower() not in ours]
        message["headers"] = [*headers, *fixed, (csp_name, csp)]

    return before_send


def allow_inline_styles(scope: Scope, body: bytes) -> None:
    """Let this response's inline `<style>` blocks through the policy, by their SHA-256."""
    allow_style_hashes(scope, inline_style_hashes(body))


def allow_style_hashes(scope: Scope, hashes: tuple[str, ...]) -> None:
    """As `allow_inline_styles`, with the hashes computed once for a cached page."""
    scope[STYLE_HASHES_KEY] = hashes  # type: ignore[literal-required]
