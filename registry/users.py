"""Staff accounts and API tokens. Passwords are hashed with argon2 (argon2-cffi)."""

from __future__ import annotations

import hashlib
import secrets
from datetime import datetime

import anyio.to_thread
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from guides.i18n import _
from registry.access import Actor
from registry.db import write_transaction
from registry.errors import FieldError, NotFound, ValidationError
from registry.tables import ApiToken, Department, Role, User, UserDepartment

_hasher = PasswordHasher()
MIN_PASSWORD = 10
# Verifying against this keeps the time of "no such user" equal to a wrong password.
_DUMMY_HASH = _hasher.hash("onetrip-timing-equaliser")


async def hash_password(password: str) -> str:
    """argon2 takes tens of milliseconds of CPU: in a worker thread, never on the event loop."""
    return await anyio.to_thread.run_sync(_hasher.hash, password)


async def _verify(password_hash: str, password: str) -> bool:
    def check() -> bool:
        try:
            return _hasher.verify(password_hash, password)
        except (VerificationError, InvalidHashError):
            return False

    return await anyio.to_thread.run_sync(check)


async def create_user(
    username: str,
    *,
    role: str,
    password: str,
    departments: list[str] | None = None,
    display_name: str = "",
    now: datetime,
) -> int:
    errors = []
    if not username or not username.replace("-", "").replace("_", "").replace(".", "").isalnum():
        errors.append(FieldError("username", _("用户名只能包含字母、数字、点、连字符和下划线")))
    if role not in {r.value for r in Role}:
        errors.append(FieldError("role", _("角色应为 editor、reviewer 或 admin")))
    if len(password) < MIN_PASSWORD:
        errors.append(FieldError("password", _("密码至少 {n} 位", n=MIN_PASSWORD)))
    if role == Role.editor and not departments:
        errors.append(FieldError("department", _("编辑人员至少需要一个所属部门")))
    if errors:
        raise ValidationError(errors)
    password_hash = await hash_password(password)
    async with write_transaction():
        if await User.exists().where(User.username == username):
            raise ValidationError([FieldError("username", _("用户名“{u}”已存在", u=username))])
        dept_ids = []
        for code in departments or []:
            row = await Department.select(Department.id).where(Department.code == code).first()
            if row is None:
                raise ValidationError([FieldError("department", _("未知的实施主体编码“{c}”", c=code))])
            dept_ids.append(row["id"])
        (user,) = await User.insert(
            User(
                username=username,
                display_name=display_name or username,
                role=role,
                password_hash=password_hash,
                created_at=now,
            )
        ).returning(User.id)
        if dept_ids:
            await UserDepartment.insert(*(UserDepartment(user=user["id"], department=d) for d in dept_ids))
        return user["id"]


async def authenticate(username: str, password: str) -> Actor | None:
    row = await User.select(User.id, User.password_hash, User.active).where(User.username == username).first()
    if not await _verify(row["password_hash"] if row else _DUMMY_HASH, password):
        return None
    if row is None or not row["active"]:
        return None
    return await actor(row["id"])


async def actor(user_id: int) -> Actor | None:
    row = await User.select().where((User.id == user_id) & (User.active == True)).first()  # noqa: E712
    if row is None:
        return None
    departments = await UserDepartment.select(UserDepartment.department.code).where(
        UserDepartment.user == user_id
    )
    return Actor(
        id=row["id"],
        username=row["username"],
        role=row["role"],
        departments=frozenset(d["department.code"] for d in departments),
    )


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


async def create_token(username: str, *, name: str = "", now: datetime) -> str:
    """A new bearer token for `username`; only its hash is stored, so print it once."""
    row = await User.select(User.id).where(User.username == username).first()
    if row is None:
        raise NotFound(_("没有用户“{u}”", u=username))
    token = "ot_" + secrets.token_urlsafe(32)
    await ApiToken.insert(ApiToken(user=row["id"], token_hash=_digest(token), name=name, created_at=now))
    return token


async def actor_for_token(token: str) -> Actor | None:
    row = (
        await ApiToken.select(ApiToken.user)
        .where(
            (ApiToken.token_hash == _digest(token)) & (ApiToken.revoked == False)  # noqa: E712
        )
        .first()
    )
    return await actor(row["user"]) if row else None


async def change_password(user_id: int, current: str, new: str, confirm: str) -> None:
    """A user changes their own password: the current one first, then the new one twice."""
    row = await User.select(User.password_hash).where(User.id == user_id).first()
    if row is None or not await _verify(row["password_hash"], current):
        raise ValidationError([FieldError("current", _("当前密码不正确"))])
    errors = []
    if len(new) < MIN_PASSWORD:
        errors.append(FieldError("new", _("密码至少 {n} 位", n=MIN_PASSWORD)))
    elif new != confirm:
        errors.append(FieldError("confirm", _("两次输入的新密码不一致")))
    elif new == current:
        errors.append(FieldError("new", _("新密码不能与当前密码相同")))
    if errors:
        raise ValidationError(errors)
    await User.update({User.password_hash: await hash_password(new)}).where(User.id == user_id)


async def list_tokens(username: str) -> list[dict]:
    """A user's API tokens (never the tokens themselves: only their ids and names)."""
    row = await User.select(User.id).where(User.username == username).first()
    if row is None:
        raise NotFound(_("没有用户“{u}”", u=username))
    return await (
        ApiToken.select(ApiToken.id, ApiToken.name, ApiToken.created_at, ApiToken.revoked)
        .where(ApiToken.user == row["id"])
        .order_by(ApiToken.id)
    )


async def revoke_token(token_id: int) -> None:
    """Revoke a token: the next request with it is refused (every request reads the table)."""
    updated = (
        await ApiToken.update({ApiToken.revoked: True}).where(ApiToken.id == token_id).returning(ApiToken.id)
    )
    if not updated:
        raise NotFound(_("没有编号为 {id} 的令牌", id=token_id))


async def list_users() -> list[dict]:
    rows = await User.select(User.id, User.username, User.display_name, User.role, User.active).order_by(
        User.username
    )
    links = await UserDepartment.select(UserDepartment.user, UserDepartment.department.short_name)
    for row in rows:
        row["departments"] = [d["department.short_name"] for d in links if d["user"] == row["id"]]
    return rows


async def set_active(admin: Actor, username: str, active: bool) -> None:
    from registry.access import PermissionDenied

    if admin.role != Role.admin:
        raise PermissionDenied(_("只有管理员可以管理用户。"))
    if username == admin.username and not active:
        raise ValidationError([FieldError("username", _("不能停用自己的账号"))])
    await User.update({User.active: active}).where(User.username == username)
