"""The `onetrip` command: serve, migrate, seed, settings."""

from __future__ import annotations

import argparse
import asyncio
import os
import socket
import sys
from pathlib import Path

from guides.clock import system_now
from guides.i18n import _
from registry.settings import Settings, settings_table


def _engine(settings: Settings):
    from registry.db import bind, engine_for

    engine = engine_for(settings)
    bind(engine)
    return engine


def cmd_migrate(settings: Settings, args: argparse.Namespace) -> int:
    from registry.upgrade import migrate

    asyncio.run(migrate(_engine(settings)))
    print(_("数据库已是最新结构。"))
    return 0


def cmd_seed(settings: Settings, args: argparse.Namespace) -> int:
    from registry.seeding import SeedError, apply_seeds, read_seeds

    _engine(settings)
    root = Path(args.dir or settings.seeds_dir)

    shown = [0]

    def progress(done: int, total: int) -> None:  # every 10 000 items, and the last
        if total >= 5000 and (done // 10_000 > shown[0] // 10_000 or done == total):
            shown[0] = done
            print(_("写入事项 {done}/{total}", done=done, total=total), file=sys.stderr, flush=True)

    try:
        bundle = read_seeds(root)
        if len(bundle.items) >= 5000:
            print(_("已检查 {n} 个事项，开始写入", n=len(bundle.items)), file=sys.stderr, flush=True)
        report = asyncio.run(apply_seeds(bundle, update=args.update, progress=progress))
    except SeedError as exc:
        print(_("种子数据有误，未写入任何内容："), file=sys.stderr)
        for problem in exc.problems:
            print(f"  {problem}", file=sys.stderr)
        return 1
    for line in report.lines():
        print(line)
    # The pages and QR codes of what was loaded, rendered now (in processes) rather than on the
    # first request of each guide — unless the caller renders once after several loads.
    if not args.no_render:
        _render_all()
    return 0


def _render_all() -> int:
    from registry import rendered
    from registry.qrcodes import publication_urls

    shown = [0]

    def progress(done: int, total: int) -> None:  # every 10 000 guides, and the last
        if total >= 5000 and (done // 10_000 > shown[0] // 10_000 or done == total):
            shown[0] = done
            print(_("预渲染指南 {done}/{total}", done=done, total=total), file=sys.stderr, flush=True)

    return asyncio.run(rendered.fill(publication_urls(), progress=progress))


def cmd_render(settings: Settings, args: argparse.Namespace) -> int:
    """Render and store the pages and QR codes of every current guide that are not stored for
    this version and public address (registry.rendered): after an upgrade or a new
    ONETRIP_PUBLIC_URL, instead of rendering each guide on its first request."""
    _engine(settings)
    print(_("已预渲染 {n} 个指南", n=_render_all()))
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


def served_public_url(host: str | None, port: int) -> str:
    """The base URL of a server listening on `host` (None, "::" or "0.0.0.0": every address, so
    the machine's own name) and `port`."""
    if host in (None, "", "::", "0.0.0.0"):
        host = socket.gethostname() or "localhost"
    if ":" in host:
        host = f"[{host}]"
    return f"http://{host}:{port}" if port != 80 else f"http://{host}"


# glibc malloc for a long-running threaded server (registry.db keeps reader threads): two arenas
# instead of eight per core, and large blocks returned to the system when freed. The usual advice
# for Python servers; on the 10 000-item bench it keeps ≈ 13 MB less resident after the big
# public pages. Values as `mallopt` takes them and as environment variables for worker processes.
# The bulk commands get it too: their batches are pickled and unpickled by pool threads, each
# with an arena of its own (seeding 10 000 items: 420 -> 370 MB for all its processes together).
MALLOC_TUNED_COMMANDS = frozenset({"serve", "seed", "import", "render", "reindex", "export"})
MALLOC_TUNING = {"ARENA_MAX": (-8, 2), "MMAP_THRESHOLD_": (-3, 131072), "TRIM_THRESHOLD_": (-1, 131072)}


def _tune_malloc() -> None:
    import ctypes
    import ctypes.util

    for name, (_option, value) in MALLOC_TUNING.items():
        os.environ.setdefault(f"MALLOC_{name}", str(value))  # spawned workers read it at start
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
        for option, value in MALLOC_TUNING.values():
            libc.mallopt(option, value)  # this process, before uvicorn starts any thread
    except (OSError, AttributeError):  # not glibc: nothing to tune
        pass


def cmd_serve(settings: Settings, args: argparse.Namespace) -> int:
    import uvicorn

    sockets = _listening_sockets(args.host, args.port)
    where = ", ".join(
        f"[{s.getsockname()[0]}]" if s.family == socket.AF_INET6 else s.getsockname()[0] for s in sockets
    )
    print(_("onetrip 正在监听 http://localhost:{port}/ （{where}）", port=args.port, where=where))
    if not settings.public_url:
        # QR codes and printed addresses must reach this server: follow where it listens.
        os.environ["ONETRIP_PUBLIC_URL"] = served_public_url(args.host, args.port)
        print(
            _(
                "警告：未设置 ONETRIP_PUBLIC_URL，二维码和打印地址暂用 {url}；"
                "正式部署必须设置为对外公开的网址。",
                url=os.environ["ONETRIP_PUBLIC_URL"],
            ),
            file=sys.stderr,
        )
    proxies = settings.trusted_proxies.strip()
    config = uvicorn.Config(
        "registry.app:create_served_app",
        factory=True,
        proxy_headers=bool(proxies),
        forwarded_allow_ips=proxies or None,
        log_level="info",
        workers=args.workers,
    )
    server = uvicorn.Server(config)
    if args.workers > 1:
        from uvicorn.supervisors import Multiprocess

        # N processes on the same sockets; they share sessions and throttling via the database.
        Multiprocess(config, sockets=sockets).run()
    else:
        server.run(sockets=sockets)
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
                now=system_now(),
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
        token = asyncio.run(create_token(args.user, name=args.name or "", now=system_now()))
    except NotFound as exc:
        print(exc, file=sys.stderr)
        return 1
    print(token)
    return 0


def cmd_token_list(settings: Settings, args: argparse.Namespace) -> int:
    from registry.errors import NotFound
    from registry.users import list_tokens

    _engine(settings)
    try:
        rows = asyncio.run(list_tokens(args.user))
    except NotFound as exc:
        print(exc, file=sys.stderr)
        return 1
    for row in rows:
        state = _("已吊销") if row["revoked"] else _("有效")
        print(f"{row['id']}\t{state}\t{row['created_at']:%Y-%m-%d %H:%M}\t{row['name']}")
    return 0


def cmd_token_revoke(settings: Settings, args: argparse.Namespace) -> int:
    from registry.errors import NotFound
    from registry.users import revoke_token

    _engine(settings)
    try:
        asyncio.run(revoke_token(args.id))
    except NotFound as exc:
        print(exc, file=sys.stderr)
        return 1
    print(_("令牌 {id} 已吊销", id=args.id))
    return 0


def cmd_backup(settings: Settings, args: argparse.Namespace) -> int:
    from registry.backup import BackupError, backup

    try:
        backup(settings, Path(args.file))
    except (BackupError, OSError) as exc:
        print(_("备份失败：{error}", error=exc), file=sys.stderr)
        return 1
    print(_("已备份到 {path}", path=args.file))
    return 0


def cmd_restore(settings: Settings, args: argparse.Namespace) -> int:
    from registry.backup import BackupError, restore

    try:
        restore(settings, Path(args.file))
    except (BackupError, OSError) as exc:
        print(_("恢复失败：{error}", error=exc), file=sys.stderr)
        return 1
    print(_("已从 {path} 恢复", path=args.file))
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
    from registry.editions.publication import publish_due

    _engine(settings)
    report = asyncio.run(publish_due(now=system_now()))
    if report.published or report.activated or args.verbose:
        print(
            _(
                "已发布 {p} 项，已生效 {a} 项",
                p=len(report.published),
                a=len(report.activated),
            )
        )
    return 0


def cmd_reindex(settings: Settings, args: argparse.Namespace) -> int:
    from registry.search.index import rebuild

    _engine(settings)
    count = asyncio.run(rebuild())
    print(_("搜索索引已重建：{n} 个事项", n=count))
    return 0


def cmd_verify_log(settings: Settings, args: argparse.Namespace) -> int:
    from registry.changelog import verify_log

    _engine(settings)
    result = asyncio.run(verify_log())
    print(result.message(), file=sys.stdout if result.ok else sys.stderr)
    return 0 if result.ok else 1


def cmd_check(settings: Settings, args: argparse.Namespace) -> int:
    """Every named check over the current guides: per rule, per department; exit 1 on an error."""
    from registry import checks
    from registry.quality import check_registry
    from registry.vocab import local_today

    _engine(settings)
    report = asyncio.run(check_registry(local_today(system_now()), department=args.department))
    findings, items = report.per_rule(), report.items_per_rule()
    print(_("已检查 {n} 个现行事项", n=report.items))
    print(_("按规则："))
    for check in checks.CHECKS:
        label = _(checks.SEVERITY_LABELS[check.severity])
        print(f"  {check.code} [{label}] {check.title}: {items[check.code]} / {findings[check.code]}")
    print(_("按实施主体（错误 / 提示）："))
    for code, counts in sorted(report.per_department().items()):
        name = report.departments.get(code, code)
        print(f"  {code} {name}: {counts['error']} / {counts['warning']}")
    if args.verbose:
        for row in report.rows:
            for f in row.findings:
                print(f"  {row.code} {f.code} {f.severity_label} {f.field}: {f.message}")
    errors = report.errors()
    if errors:
        print(_("发现 {n} 处错误", n=errors), file=sys.stderr)
        return 1
    print(_("没有错误"))
    return 0


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
    serve.add_argument("--workers", type=int, default=1, help="number of server processes (default 1)")
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
    seed.add_argument(
        "--no-render",
        action="store_true",
        help="load only; render pages and QR codes later with `onetrip render` (after several loads)",
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
    listing = token.add_parser("list", help="list USER's tokens (id, state, created, name)")
    listing.add_argument("user")
    listing.set_defaults(func=cmd_token_list)
    revoke = token.add_parser("revoke", help="revoke token ID: it fails at once")
    revoke.add_argument("id", type=int)
    revoke.set_defaults(func=cmd_token_revoke)

    back = sub.add_parser("backup", help="write the whole registry to FILE")
    back.add_argument("file")
    back.set_defaults(func=cmd_backup)
    rest = sub.add_parser("restore", help="replace the registry with the backup in FILE (servers stopped)")
    rest.add_argument("file")
    rest.set_defaults(func=cmd_restore)

    deadline = sub.add_parser("deadline", help="publication deadline for an approval time")
    deadline.add_argument("approved_at", help="ISO 8601; Asia/Shanghai unless an offset is given")
    deadline.set_defaults(func=cmd_deadline)

    due = sub.add_parser("publish-due", help="publish what is due (safe from cron every minute)")
    due.add_argument("--verbose", action="store_true")
    due.set_defaults(func=cmd_publish_due)

    render = sub.add_parser(
        "render", help="store the hall page, printout and QR codes of every current guide not stored yet"
    )
    render.set_defaults(func=cmd_render)

    reindex = sub.add_parser("reindex", help="rebuild the search index from the current guides")
    reindex.set_defaults(func=cmd_reindex)

    check = sub.add_parser("check", help="run the data-quality checks over every current guide")
    check.add_argument("--department", default=None, help="only this department's items (code)")
    check.add_argument("--verbose", "-v", action="store_true", help="list every finding")
    check.set_defaults(func=cmd_check)

    verify = sub.add_parser("verify-log", help="check the hash chain of the change log")
    verify.set_defaults(func=cmd_verify_log)

    export = sub.add_parser("export", help="write a static site of every published guide to DIR")
    export.add_argument("dir", nargs="?", default="", help="target folder (default: var/site)")
    export.set_defaults(func=_cmd_export)

    show = sub.add_parser("settings", help="list the settings and their environment variables")
    show.set_defaults(func=cmd_settings)

    imp = sub.add_parser(
        "import",
        help="check an item workbook (dry run, changes nothing); --apply writes drafts; "
        "--template FILE writes the empty template",
    )
    imp.add_argument("file", nargs="?", default=None, help="the .xlsx file to check or import")
    imp.add_argument("--apply", action="store_true", help="create or update drafts (never publishes)")
    imp.add_argument("--user", default=None, help="staff user to act as (required with --apply)")
    imp.add_argument("--template", metavar="FILE", default=None, help="write the empty import template")
    imp.set_defaults(func=cmd_import)

    items_export = sub.add_parser(
        "items-export", help="every current item as FILE.xlsx (the import template) or FILE.csv"
    )
    items_export.add_argument("file", help="FILE.xlsx, or FILE.csv (also writes FILE-materials.csv)")
    items_export.set_defaults(func=cmd_export_items)
    return parser


def main(argv: list[str] | None = None) -> int:
    os.environ.setdefault("PICCOLO_CONF", "registry.piccolo_conf")
    args = build_parser().parse_args(argv)
    if args.command in MALLOC_TUNED_COMMANDS:
        _tune_malloc()  # before any thread or worker process starts
    return args.func(Settings.from_env(), args)


def cmd_import(settings: Settings, args: argparse.Namespace) -> int:
    """`onetrip import FILE [--apply --user U]` and `onetrip import --template FILE`."""
    from registry import spreadsheets

    if args.template:
        if args.file or args.apply:
            print(_("--template 只生成空白模板，不能同时导入文件。"), file=sys.stderr)
            return 2
        try:
            spreadsheets.write_template(args.template)
        except OSError as exc:
            print(_("无法写入模板：{error}", error=exc), file=sys.stderr)
            return 1
        print(_("已写入导入模板：{path}", path=args.template))
        return 0
    if not args.file:
        print(_("请指定要导入的 .xlsx 文件，或用 --template FILE 生成空白模板。"), file=sys.stderr)
        return 2
    if args.apply and not args.user:
        print(_("--apply 需要用 --user USERNAME 指明以哪位工作人员的身份导入。"), file=sys.stderr)
        return 2
    path = Path(args.file)
    if not path.is_file():
        print(_("找不到文件：{path}", path=path), file=sys.stderr)
        return 2

    async def run() -> int:
        from registry.exporting import progress_bar
        from registry.tables import User
        from registry.users import actor as load_actor

        who = None
        if args.user:
            row = await User.select(User.id).where(User.username == args.user).first()
            who = await load_actor(row["id"]) if row else None
            if who is None:
                print(_("没有启用的工作人员账号“{u}”", u=args.user), file=sys.stderr)
                return 2
        plan = await spreadsheets.read_workbook(path)
        drawn = [0, 0]
        bar = progress_bar(sys.stdout) if sys.stdout.isatty() and len(plan.items) >= 50 else None

        def progress(done: int, total: int) -> None:
            drawn[:] = [done, total]
            bar(done, total)

        report = await spreadsheets.apply_import(
            plan, who, system_now(), dry_run=not args.apply, progress=progress if bar else None
        )
        if drawn[0] != drawn[1]:
            print()  # the bar stopped early (a problem): end its line
        for line in report.lines():
            print(line)
        if report.ok and not args.apply:
            print(_("（试运行：加 --apply --user USERNAME 导入为草稿）"))
        return 0 if report.ok else 1

    _engine(settings)
    return asyncio.run(run())


def cmd_export_items(settings: Settings, args: argparse.Namespace) -> int:
    """`onetrip items-export FILE.xlsx|FILE.csv`: every current item in the template's format."""
    from registry import spreadsheets

    target = Path(args.file)
    suffix = target.suffix.lower()
    if suffix not in (".xlsx", ".csv"):
        print(_("文件名应以 .xlsx 或 .csv 结尾。"), file=sys.stderr)
        return 2
    _engine(settings)
    try:
        if suffix == ".xlsx":
            count = asyncio.run(spreadsheets.export_items_xlsx(target))
            written = [target]
        else:
            materials = target.with_name(f"{target.stem}-materials.csv")
            count = asyncio.run(spreadsheets.export_items_csv(target, materials))
            written = [target, materials]
    except OSError as exc:
        print(_("导出失败：{error}", error=exc), file=sys.stderr)
        return 1
    print(_("已导出 {n} 个事项：{files}", n=count, files="、".join(str(p) for p in written)))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
