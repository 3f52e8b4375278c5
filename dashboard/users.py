"""Users and kiosk tokens of the app DB (APP_DB_URL): `python -m dashboard.users <command>`.

  add NAME --role viewer|operator|admin --scope CODE|*  (asks for the password, or --password-stdin)
  list
  passwd NAME                                          (ends the user's sessions)
  disable NAME / enable NAME                           (disable ends the user's sessions at once)
  token-add LABEL --scope CODE [--playlist NAME]       (prints the token once; open /wall?token=…)
  token-list
  token-revoke ID                                      (the screen stops at its next refresh)
  init [--admin-if-empty]                              (create the tables; app.py's dev start)
Every change is written to the audit log with the OS user who made it.
"""
from __future__ import annotations

import argparse
import getpass
import secrets
import sys

from config import settings as settings_mod
from dashboard.security import accounts, db
from dashboard.wallconfig import WallConfigError

BOOTSTRAP_ADMIN = "admin"


def actor() -> str:
    return f"cli:{getpass.getuser()}"


def read_password(args) -> str:
    if getattr(args, "password_stdin", False):
        return sys.stdin.readline().rstrip("\n")
    first = getpass.getpass("password: ")
    if first != getpass.getpass("again: "):
        raise accounts.AccountError("the passwords differ")
    return first


def check_playlist(name: str) -> None:
    from dashboard import wallconfig
    wallconfig.load(name)          # a missing or malformed playlist is refused here, not on the wall


def init(eng, args) -> None:
    if args.admin_if_empty and accounts.count_users(eng) == 0:
        password = secrets.token_urlsafe(12)
        accounts.add_user(eng, BOOTSTRAP_ADMIN, password, "admin", args.scope, actor())
        print(f"created user '{BOOTSTRAP_ADMIN}' (admin, scope {args.scope}) with password: {password}\n"
              f"  shown once; change it with: python -m dashboard.users passwd {BOOTSTRAP_ADMIN}", flush=True)


def run(args) -> None:
    eng = db.engine(settings_mod.load_security().app_db_url)
    who = actor()
    if args.command == "add":
        accounts.add_user(eng, args.name, read_password(args), args.role, args.scope, who)
    elif args.command == "list":
        for u in accounts.list_users(eng):
            print(f"{u.name}\t{u.role}\t{u.scope}\t{'disabled' if u.disabled else 'active'}")
    elif args.command == "passwd":
        accounts.set_password(eng, args.name, read_password(args), who)
    elif args.command in ("disable", "enable"):
        accounts.set_disabled(eng, args.name, args.command == "disable", who)
    elif args.command == "token-add":
        check_playlist(args.playlist)
        print(accounts.add_token(eng, args.label, args.playlist, args.scope, who))
    elif args.command == "token-list":
        for tk in accounts.list_tokens(eng):
            print(f"{tk.id}\t{tk.label}\t{tk.playlist}\t{tk.scope}\t{'revoked' if tk.revoked else 'active'}")
    elif args.command == "token-revoke":
        accounts.revoke_token(eng, args.id, who)
    elif args.command == "init":
        init(eng, args)


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m dashboard.users", description=__doc__.splitlines()[0])
    sub = p.add_subparsers(dest="command", required=True)
    add = sub.add_parser("add")
    add.add_argument("name")
    add.add_argument("--role", required=True, choices=db.ROLES)
    add.add_argument("--scope", required=True, help=f"node code the user sees (and all below it); {db.WHOLE_TREE}: all")
    for name in ("passwd", "disable", "enable"):
        sub.add_parser(name).add_argument("name")
    for cmd in (add, sub.choices["passwd"]):
        cmd.add_argument("--password-stdin", action="store_true", help="read the password from one line of stdin")
    sub.add_parser("list")
    token = sub.add_parser("token-add")
    token.add_argument("label")
    token.add_argument("--scope", required=True)
    token.add_argument("--playlist", default="default", help="default: config/wall.yaml; NAME: config/wall-NAME.yaml")
    sub.add_parser("token-list")
    sub.add_parser("token-revoke").add_argument("id", type=int)
    boot = sub.add_parser("init")
    boot.add_argument("--admin-if-empty", action="store_true")
    boot.add_argument("--scope", default=db.WHOLE_TREE, help="the bootstrap admin's scope")
    return p


def main(argv=None) -> int:
    args = parser().parse_args(argv)
    try:
        run(args)
    except (accounts.AccountError, WallConfigError, FileNotFoundError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
