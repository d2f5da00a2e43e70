"""Staff sign-in: argon2 passwords, server-side sessions (HttpOnly, SameSite=Lax, Secure on
https), CSRF on every form, and throttling of failed logins."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated
from urllib.parse import quote

from litestar import Controller, Request, get, post
from litestar.config.csrf import CSRFConfig
from litestar.connection import ASGIConnection
from litestar.di import NamedDependency
from litestar.enums import RequestEncodingType
from litestar.exceptions import NotAuthorizedException
from litestar.handlers.base import BaseRouteHandler
from litestar.middleware.session.server_side import ServerSideSessionConfig
from litestar.params import Body, FromQuery
from litestar.response import Redirect, Template
from litestar.stores.file import FileStore

from guides.i18n import _
from registry import users
from registry.access import Actor
from registry.settings import Settings

THROTTLE_SECONDS = 15 * 60
# Sessions and CSRF cookies only where staff work: the public pages stay cookie-free and cacheable.
NOT_STAFF = r"^/(?!staff|login|logout)"


def secret_for(settings: Settings) -> str:
    if settings.secret:
        return settings.secret
    path = Path(settings.state_dir) / "secret.key"
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(secrets.token_hex(32))
        path.chmod(0o600)
    return path.read_text().strip()


def stores(settings: Settings) -> dict[str, FileStore]:
    root = Path(settings.state_dir)
    return {
        "sessions": FileStore(root / "sessions", create_directories=True),
        "throttle": FileStore(root / "throttle", create_directories=True),
    }


def session_config(settings: Settings) -> ServerSideSessionConfig:
    return ServerSideSessionConfig(
        key="onetrip_session",
        max_age=12 * 3600,
        httponly=True,
        samesite="lax",
        secure=settings.public_url.startswith("https://"),
        exclude=[NOT_STAFF],
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
    uid = connection.session.get("uid") if connection.scope.get("session") is not None else None
    found = await users.actor(uid) if isinstance(uid, int) else None
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
        store = request.app.stores.get("throttle")
        client = request.client.host if request.client else "-"
        key = f"login:{data.username.strip().lower()}:{client}"
        failures = int((await store.get(key)) or 0)
        context = {"next": _safe_next(data.next), "username": data.username}
        if failures >= settings.login_attempts:
            return Template(
                "staff/login.html",
                context={**context, "error": _("登录失败次数过多，请 15 分钟后再试。")},
                status_code=429,
            )
        actor = await users.authenticate(data.username.strip(), data.password)
        if actor is None:
            await store.set(key, str(failures + 1), expires_in=THROTTLE_SECONDS)
            return Template(
                "staff/login.html",
                context={**context, "error": _("用户名或密码不正确。")},
                status_code=400,
            )
        await store.delete(key)
        request.clear_session()
        request.set_session({"uid": actor.id})
        return Redirect(path=_safe_next(data.next))

    @post("/logout", name="logout")
    async def logout(self, request: Request) -> Redirect:
        request.clear_session()
        return Redirect(path="/")
