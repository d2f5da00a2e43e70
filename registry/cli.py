"""The `onetrip` command: serve, migrate, seed, settings."""

from __future__ import annotations

import argparse
import asyncio
import os
import socket
import sys
from datetime import UTC, datetime
from pathlib import Path

from guides.i18n import _
from registry.settings import Settings, settings_table


def _engine(settings: Settings):
    from registry.db import bind, engine_for

    engine = engine_for(settings)
    bind(engine)
    return engine


def cmd_migrate(settings: Settings, args: argparse.Namespace) -> int:
    from registry.db import migrate

    asyncio.run(migrate(_engine(settings)))
    print(_("数据库已是最新结构。"))
    return 0


def cmd_seed(settings: Settings, args: argparse.Namespace) -> int:
    from registry.seeding import SeedError, load_seeds

    _engine(settings)
    root = Path(args.dir or settings.seeds_dir)
    try:
        report = asyncio.run(load_seeds(root, update=args.update))
    except SeedError as exc:
        print(_("种子数据有误，未写入任何内容："), file=sys.stderr)
        for problem in exc.problems:
            print(f"  {problem}", file=sys.stderr)
        return 1
    for line in report.lines():
        print(line)
    return 0


def _listening_sockets(host: str | None, port: int) -> list[socket.socket]:
    """Sockets to serve on. By default one IPv6 and one IPv4 socket (seed item 39: IPv6), since
    asyncio marks IPv6 server sockets V6ONLY; an address without IPv6 gets IPv4 alone."""
    targets = [(socket.AF_INET6, "::"), (socket.AF_INET, "0.0.0.0")] if host is None else []
    if host is not None:
        targets = [(socket.AF_INET6 if ":" in host else socket.AF_INET, host)]
    sockets = []
    for family, address in targets:
        try:
            sock = socket.socket(family, socket.SOCK_STREAM)
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            if family == socket.AF_INET6:
                sock.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 1)
            sock.bind((address, port))
        except OSError:
            if host is not None or family == socket.AF_INET:
                raise
            continue  # no IPv6 on this machine: IPv4 alone
        sock.set_inheritable(True)
        sockets.append(sock)
    return sockets


def cmd_serve(settings: Settings, args: argparse.Namespace) -> int:
    import uvicorn

    sockets = _listening_sockets(args.host, args.port)
    where = ", ".join(
        f"[{s.getsockname()[0]}]" if s.family == socket.AF_INET6 else s.getsockname()[0] for s in sockets
    )
    print(_("onetrip 正在监听 http://localhost:{port}/ （{where}）", port=args.port, where=where))
    config = uvicorn.Config("registry.app:create_app", factory=True, proxy_headers=True, log_level="info")
    uvicorn.Server(config).run(sockets=sockets)
    return 0


def cmd_user_add(settings: Settings, args: argparse.Namespace) -> int:
    import getpass

    from registry.errors import ValidationError
    from registry.users import create_user

    _engine(settings)
    password = os.environ.get("ONETRIP_NEW_PASSWORD") or getpass.getpass(_("密码："))
    try:
        asyncio.run(
            create_user(
                args.name,
                role=args.role,
                password=password,
                departments=args.department,
                display_name=args.display_name or "",
                now=datetime.now(UTC),
            )
        )
    except ValidationError as exc:
        for error in exc.errors:
            print(f"{error.field}: {error.message}", file=sys.stderr)
        return 1
    print(_("已创建用户 {name}（{role}）", name=args.name, role=args.role))
    return 0


def cmd_token_create(settings: Settings, args: argparse.Namespace) -> int:
    from registry.errors import NotFound
    from registry.users import create_token

    _engine(settings)
    try:
        token = asyncio.run(create_token(args.user, name=args.name or "", now=datetime.now(UTC)))
    except NotFound as exc:
        print(exc, file=sys.stderr)
        return 1
    print(token)
    return 0


def cmd_deadline(settings: Settings, args: argparse.Namespace) -> int:
    from registry.errors import DomainError
    from registry.workdays import deadline_report

    try:
        lines = deadline_report(args.approved_at)
    except (DomainError, ValueError) as exc:
        print(exc, file=sys.stderr)
        return 2
    print("\n".join(lines))
    return 0


def cmd_publish_due(settings: Settings, args: argparse.Namespace) -> int:
    from registry.changes import publish_due

    _engine(settings)
    report = asyncio.run(publish_due(now=datetime.now(UTC)))
    if report.published or report.activated or args.verbose:
        print(
            _(
                "已发布 {p} 项，已生效 {a} 项",
                p=len(report.published),
                a=len(report.activated),
            )
        )
    return 0


def cmd_verify_log(settings: Settings, args: argparse.Namespace) -> int:
    from registry.changelog import verify_log

    _engine(settings)
    result = asyncio.run(verify_log())
    print(result.message(), file=sys.stdout if result.ok else sys.stderr)
    return 0 if result.ok else 1


def _cmd_export(settings: Settings, args: argparse.Namespace) -> int:
    from registry.exporting import cmd_export

    return cmd_export(settings, args)


def cmd_settings(settings: Settings, args: argparse.Namespace) -> int:
    for env, default, help_text in settings_table():
        print(f"{env}  (default: {default})\n    {help_text}")
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="onetrip", description="最多跑一次 — service-item registry")
    sub = parser.add_subparsers(dest="command", required=True)

    serve = sub.add_parser("serve", help="serve the web app")
    serve.add_argument("--host", default=None, help="address to bind (default: both :: and 0.0.0.0)")
    serve.add_argument("--port", type=int, default=int(os.environ.get("PORT", "8000")))
    serve.set_defaults(func=cmd_serve)

    migrate = sub.add_parser("migrate", help="create or upgrade the database schema")
    migrate.set_defaults(func=cmd_migrate)

    seed = sub.add_parser("seed", help="load seeds/ (idempotent)")
    seed.add_argument("--dir", default=None, help="seed folder (default: ONETRIP_SEEDS_DIR)")
    seed.add_argument(
        "--update",
        action="store_true",
        help="publish a new edition for items whose seed differs from the published guide",
    )
    seed.set_defaults(func=cmd_seed)

    user = sub.add_parser("user", help="staff accounts").add_subparsers(dest="action", required=True)
    add = user.add_parser("add", help="add a staff user (password from ONETRIP_NEW_PASSWORD or a prompt)")
    add.add_argument("name")
    add.add_argument("--role", required=True, choices=["editor", "reviewer", "admin"])
    add.add_argument("--department", action="append", default=[], help="department code (repeatable)")
    add.add_argument("--display-name", default="")
    add.set_defaults(func=cmd_user_add)

    token = sub.add_parser("token", help="API tokens").add_subparsers(dest="action", required=True)
    create = token.add_parser("create", help="print a new bearer token for USER")
    create.add_argument("user")
    create.add_argument("--name", default="")
    create.set_defaults(func=cmd_token_create)

    deadline = sub.add_parser("deadline", help="publication deadline for an approval time")
    deadline.add_argument("approved_at", help="ISO 8601; Asia/Shanghai unless an offset is given")
    deadline.set_defaults(func=cmd_deadline)

    due = sub.add_parser("publish-due", help="publish what is due (safe from cron every minute)")
    due.add_argument("--verbose", action="store_true")
    due.set_defaults(func=cmd_publish_due)

    verify = sub.add_parser("verify-log", help="check the hash chain of the change log")
    verify.set_defaults(func=cmd_verify_log)

    export = sub.add_parser("export", help="write a static site of every published guide to DIR")
    export.add_argument("dir", nargs="?", default="", help="target folder (default: var/site)")
    export.set_defaults(func=_cmd_export)

    show = sub.add_parser("settings", help="list the settings and their environment variables")
    show.set_defaults(func=cmd_settings)
    return parser


def main(argv: list[str] | None = None) -> int:
    os.environ.setdefault("PICCOLO_CONF", "registry.piccolo_conf")
    args = build_parser().parse_args(argv)
    return args.func(Settings.from_env(), args)


if __name__ == "__main__":
    raise SystemExit(main())
