"""``python -m accounts.staff add --email E --name N --role manager``: add a team member.

How production gets its first manager (who then adds the others from the console). The
password is read from ``ACCOUNTS_STAFF_PASSWORD`` when set, else asked twice at a prompt; it
must follow the customers' password policy. Connects to ``ACCOUNTS_DATABASE_URL`` and applies
the migrations first.
"""

from __future__ import annotations

import argparse
import asyncio
import getpass
import os
import sys

import asyncpg
from jg_auth import StaffRole
from jg_messaging import migrate

from accounts import domain
from accounts.app import MIGRATIONS
from accounts.domain.staff import normalise_staff_email
from accounts.handlers import SERVICE
from accounts.security import Passwords
from accounts.settings import AccountsSettings
from accounts.usecases.staff import NewStaffMember, insert_member

PASSWORD_VARIABLE = "ACCOUNTS_STAFF_PASSWORD"  # noqa: S105 - a variable's name


def _password(email: str, name: str) -> str:
    password = os.environ.get(PASSWORD_VARIABLE) or ""
    if not password:
        password = getpass.getpass("Password: ")
        if getpass.getpass("Password (again): ") != password:
            raise SystemExit("the two passwords differ")
    first, _, last = name.partition(" ")
    problems = domain.password_problems(password, email=email, names=(first, last))
    if problems:
        raise SystemExit("password refused: " + "; ".join(p.value for p in problems))
    return password


async def _add(settings: AccountsSettings, new: NewStaffMember) -> bool:
    conn = await asyncpg.connect(settings.database_url.get_secret_value())
    try:
        await migrate(conn, MIGRATIONS, namespace=SERVICE)
        return await insert_member(conn, Passwords(settings), new, "cli") is not None
    finally:
        await conn.close()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m accounts.staff", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    add = commands.add_parser("add", help="add a team member")
    add.add_argument("--email", required=True)
    add.add_argument("--name", required=True)
    add.add_argument("--role", choices=[r.value for r in StaffRole], default="agent")
    args = parser.parse_args(argv)
    try:
        email = normalise_staff_email(args.email)
        name = domain.clean_name(args.name)
    except ValueError as error:
        raise SystemExit(str(error)) from error
    new = NewStaffMember(email, name, StaffRole(args.role), _password(email, name))
    if not asyncio.run(_add(AccountsSettings(), new)):
        print(f"{email} is already a team member", file=sys.stderr)
        return 1
    print(f"added {email} ({args.role})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
