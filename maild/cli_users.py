"""`maild users …`: the accounts that sign in to the web pages and approve drafts.

Passwords never appear on the command line (where `ps` and shell history would keep them):
they are typed twice at a hidden prompt, or read from a file (`--password-file`).
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Any

import click
from rich.table import Table
from sqlalchemy.orm import Session

from maild import users as accounts
from maild import views
from maild.cli_context import EXIT_REFUSED, Context, fail, open_db, run_action
from maild.store.models import User
from maild.users import ROLES, UserError

_password_file = click.option(
    "--password-file",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Read the password from this file (one trailing newline is ignored) instead of asking.",
)


def read_password_file(path: Path) -> str:
    """The file's text without ONE trailing line break: editors and `echo` add one, but a
    password may itself end in spaces, so nothing else is stripped."""
    try:
        text = path.read_bytes().decode("utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        fail(f"cannot read {path}: {exc}", EXIT_REFUSED)
    for ending in ("\r\n", "\n"):
        if text.endswith(ending):
            return text[: -len(ending)]
    return text


def _password(file: Path | None) -> str:
    if file is not None:
        return read_password_file(file)
    password: str = click.prompt("Password", hide_input=True, confirmation_prompt=True)
    return password


def _refuse_early(obj: Context, email: str, *, must_exist: bool) -> None:
    """Say that the address is taken (or unknown) before asking for a password, not after.
    The action checks again in its own transaction: this is only for the person typing."""
    with open_db(obj.load()).session() as session:
        found = accounts.find_user(session, email) is not None
    if found and not must_exist:
        fail(f"{accounts.normalize_email(email)} is already a maild user", EXIT_REFUSED)
    if not found and must_exist:
        fail(f"no maild user {accounts.normalize_email(email)}", EXIT_REFUSED)


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value is not None else None


def user_dict(user: User) -> dict[str, Any]:
    return {
        "email": user.email,
        "name": user.name,
        "role": user.role,
        "active": user.active,
        "created_at": _iso(user.created_at),
        "last_login_at": _iso(user.last_login_at),
    }


def users_table(rows: list[dict[str, Any]]) -> Table:
    table = Table(title="Users", title_justify="left")
    for column in ("email", "name", "role", "active", "created", "last login"):
        table.add_column(column, no_wrap=column != "name", overflow="ellipsis")
    for row in rows:
        table.add_row(
            row["email"],
            row["name"],
            row["role"],
            "yes" if row["active"] else "disabled",
            (row["created_at"] or "")[:16],
            (row["last_login_at"] or "never")[:16],
        )
    return table


@click.group()
def users() -> None:
    """Users: who signs in to the web pages and approves drafts (agent, supervisor, admin)."""


@users.command("add")
@click.argument("email")
@click.option("--name", required=True, help="The person's name, as colleagues see it.")
@click.option("--role", required=True, type=click.Choice(ROLES), help="What they may do.")
@_password_file
@click.pass_obj
def users_add(obj: Context, email: str, name: str, role: str, password_file: Path | None) -> None:
    """Add a user (asks for the password twice unless --password-file is given)."""
    _refuse_early(obj, email, must_exist=False)
    password = _password(password_file)

    def action(session: Session, now: datetime) -> str:
        user = accounts.add_user(session, email, name, role, password, now)
        return f"added {user.email} ({user.role})"

    run_action(obj, action, (UserError,))


@users.command("list")
@click.option("--json", "as_json", is_flag=True, help="A JSON array instead of a table.")
@click.pass_obj
def users_list(obj: Context, as_json: bool) -> None:
    """Every user, by address, disabled ones included."""
    with open_db(obj.load()).session() as session:
        rows = [user_dict(user) for user in accounts.list_users(session)]
    if as_json:
        views.print_json(rows, obj.out)
    else:
        obj.out.print(users_table(rows))


@users.command("disable")
@click.argument("email")
@click.pass_obj
def users_disable(obj: Context, email: str) -> None:
    """Stop a user signing in or approving; their API tokens stop working at once."""

    def action(session: Session, now: datetime) -> str:
        user = accounts.disable_user(session, email, now)
        return f"disabled {user.email}; their API tokens are revoked"

    run_action(obj, action, (UserError,))


@users.command("password")
@click.argument("email")
@_password_file
@click.pass_obj
def users_password(obj: Context, email: str, password_file: Path | None) -> None:
    """Set a new password for a user (asks twice unless --password-file is given)."""
    _refuse_early(obj, email, must_exist=True)
    password = _password(password_file)

    def action(session: Session, now: datetime) -> str:
        del now  # a password reset records no time
        user = accounts.set_password(session, email, password)
        return f"password changed for {user.email}"

    run_action(obj, action, (UserError,))


@users.command("token")
@click.argument("email")
@click.pass_obj
def users_token(obj: Context, email: str) -> None:
    """Issue an API token for a user; it is printed once, and only its hash is kept."""
    run_action(obj, lambda session, now: accounts.issue_token(session, email, now), (UserError,))
    click.echo(
        "maild: this token is shown only once (maild keeps only its hash): store it now",
        err=True,
    )
