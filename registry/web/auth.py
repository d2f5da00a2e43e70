"""Staff sign-in: argon2 passwords (hashed off the event loop), sessions in the database (a
fresh random id at each login, HttpOnly, SameSite=Lax, Secure on https; unknown ids refused),
CSRF on every form (a double-submit cookie: no session needed for the login form), and an atomic
failed-login counter shared by every app server."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated
from urllib.parse import quote

from litestar import Controller, Request, get, post
from litestar.config.csrf import CSRFConfig
from litestar.connection import ASGIConnection
from litestar.datastructures import Cookie
from litestar.di import NamedDependency
from litestar.enums import RequestEncodingType
from litestar.exceptions import NotAuthorizedException
from litestar.handlers.base import BaseRouteHandler
from litestar.params import Body, FromQuery
from litestar.response import Redirect, Template

from guides.i18n import _
from registry import sessions, users
from registry.access import Actor
from registry.settings import Settings

SESSION_COOKIE = "onetrip_session"
# CSRF cookies only where staff work: the public pages stay cookie-free and cacheable.
NOT_STAFF = r"^/(?!staff|login|logout)"


def _now() -> datetime:
    return datetime.now(UTC)


def secret_for(settings: Settings) -> str:
    if settings.secret:
        return settings.secret
    path = Path(settings.state_dir) / "secret.key"
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(secrets.token_hex(32))
        path.chmod(0o600)
    return path.read_text().strip()


def session_cookie(settings: Settings, value: str) -> Cookie:
    return Cookie(
        key=SESSION_COOKIE,
        value=value,
        max_age=sessions.SESSION_SECONDS if value else 0,
        path="/",
        httponly=True,
        samesite="lax",
        secure=settings.public_url.startswith("https://"),
    )


def csrf_config(settings: Settings) -> CSRFConfig:
    return CSRFConfig(
        secret=secret_for(settings),
        cookie_name="onetrip_csrf",
        cookie_secure=settings.public_url.startswith("https://"),
        cookie_samesite="lax",
        exclude=[NOT_STAFF],  # the API authenticates with bearer tokens, not cookies
    )


async def staff_guard(connection: ASGIConnection, _handler: BaseRouteHandler) -> None:
    """Signed-in staff only; the actor is loaded fresh (a deactivated user is out at once)."""
    uid = await sessions.session_user(connection.cookies.get(SESSION_COOKIE), now=_now())
    found = await users.actor(uid) if uid is not None else None
    if found is None:
        raise NotAuthorizedException(_("请先登录"))
    connection.state.actor = found


def current_actor(request: Request) -> Actor:
    return request.state.actor


def login_redirect(path: str) -> Redirect:
    return Redirect(path=f"/login?next={quote(path)}")


@dataclass
class LoginForm:
    username: str = ""
    password: str = ""
    next: str = "/staff"


def _safe_next(target: str) -> str:
    # Only local paths: no open redirect to another site.
    return target if target.startswith("/") and not target.startswith("//") else "/staff"


def client_address(request: Request) -> str:
    """The peer address as the server saw it. Forwarded headers count only when the server was
    told to trust a proxy (ONETRIP_TRUSTED_PROXIES; uvicorn then rewrites the peer)."""
    return request.client.host if request.client else "-"


class AuthController(Controller):
    include_in_schema = False

    @get("/login", name="login")
    async def form(self, next: FromQuery[str] = "/staff") -> Template:
        return Template("staff/login.html", context={"next": _safe_next(next), "error": None})

    @post("/login", name="login_submit")
    async def login(
        self,
        request: Request,
        settings: NamedDependency[Settings],
        data: Annotated[LoginForm, Body(media_type=RequestEncodingType.URL_ENCODED)],
    ) -> Template | Redirect:
        now = _now()
        username = data.username.strip()
        key = f"login:{username.lower()}:{client_address(request)}"
        context = {"next": _safe_next(data.next), "username": data.username}
        # Count first, then verify: concurrent guesses each get their own number.
        if await sessions.count_attempt(key, now=now) > settings.login_attempts:
            return Template(
                "staff/login.html",
                context={**context, "error": _("登录失败次数过多，请 15 分钟后再试。")},
                status_code=429,
            )
        actor = await users.authenticate(username, data.password)
        if actor is None:
            return Template(
                "staff/login.html",
                context={**context, "error": _("用户名或密码不正确。")},
                status_code=400,
            )
        await sessions.reset_attempts(key)
        await sessions.clean_expired(now=now)
        await sessions.end_session(request.cookies.get(SESSION_COOKIE))  # never keep an old id
        session_id = await sessions.create_session(actor.id, now=now)
        return Redirect(path=_safe_next(data.next), cookies=[session_cookie(settings, session_id)])

    @post("/logout", name="logout")
    async def logout(self, request: Request, settings: NamedDependency[Settings]) -> Redirect:
        await sessions.end_session(request.cookies.get(SESSION_COOKIE))
        return Redirect(path="/", cookies=[session_cookie(settings, "")])
