"""`maild tickets …` and `maild customers show`: the tickets messages were threaded onto,
and what agents do to them."""

from __future__ import annotations

import getpass
import os
import sys
from collections.abc import Callable
from datetime import UTC, datetime

import click
from sqlalchemy.orm import Session

from maild import ticket_actions, ticket_views, views
from maild.cli_context import Context, open_db, run_action
from maild.escalation import overdue_ticket_ids
from maild.rules import PRIORITIES
from maild.store.models import Ticket
from maild.ticket_actions import CLOSE_REASONS, TicketActionError


def _default_actor() -> str:
    return os.environ.get("MAILD_AGENT") or getpass.getuser()


_as_option = click.option(
    "--as",
    "actor",
    default=_default_actor,
    show_default="$MAILD_AGENT, else your login name",
    help="Who does this, for the ticket's history.",
)


def _act(obj: Context, number: str, action: Callable[[Session, Ticket, datetime], str]) -> None:
    run_action(
        obj,
        lambda session, now: action(session, ticket_actions.find_ticket(session, number), now),
        (TicketActionError,),
    )


@click.group()
def tickets() -> None:
    """Tickets: one per conversation with a customer."""


@tickets.command("list")
@click.option("--status", type=click.Choice(["new", "open", "waiting", "resolved", "closed"]))
@click.option("--owner", help="Only tickets whose owner contains this (name or address).")
@click.option(
    "--overdue",
    is_flag=True,
    help="Only tickets overdue for their priority or unanswered for more than 24 hours.",
)
@click.option("--json", "as_json", is_flag=True, help="A JSON array instead of a table.")
@click.pass_obj
def tickets_list(
    obj: Context, status: str | None, owner: str | None, overdue: bool, as_json: bool
) -> None:
    """Every ticket, oldest first."""
    config = obj.load()
    database = open_db(config)
    only = overdue_ticket_ids(database, config, datetime.now(UTC)) if overdue else None
    rows = ticket_views.list_tickets(database, status=status, owner=owner, only=only)
    if as_json:
        views.print_json(rows, obj.out)
    else:
        obj.out.print(ticket_views.tickets_table(rows))


@tickets.command("show")
@click.argument("number")
@click.option("--json", "as_json", is_flag=True)
@click.pass_obj
def tickets_show(obj: Context, number: str, as_json: bool) -> None:
    """One ticket: its messages (how each was threaded), participants and history."""
    ticket = ticket_views.show_ticket(open_db(obj.load()), number)
    if ticket is None:
        click.echo(f"maild: no ticket {number}", err=True)
        sys.exit(1)
    if as_json:
        views.print_json(ticket, obj.out)
        return
    click.echo(
        f"{ticket['number']}  {ticket['status']}  {ticket['priority']}  {ticket['category']}  "
        f"{ticket['customer']}\n  {ticket['subject']}"
    )
    if ticket["linked_to"]:
        click.echo(f"  linked to {ticket['linked_to']}")
    click.echo(f"  participants: {', '.join(ticket['participants'])}")
    for message in ticket["messages"]:
        click.echo(
            f"  [{message['id']}] {message['received_at'][:16]} {message['from']} "
            f"({message['thread_method']}): {message['subject']}"
        )
    for event in ticket["history"]:
        click.echo(f"  {event['at'][:16]} {event['actor']} {event['action']}")


@tickets.command("assign")
@click.argument("number")
@click.argument("agent")
@_as_option
@click.pass_obj
def tickets_assign(obj: Context, number: str, agent: str, actor: str) -> None:
    """Give a ticket to an agent (a new ticket becomes open)."""

    def action(session: Session, ticket: Ticket, now: datetime) -> str:
        ticket_actions.assign(session, ticket, agent, actor, now)
        return f"{ticket.number} assigned to {ticket.assignee} ({ticket.status})"

    _act(obj, number, action)


@tickets.command("resolve")
@click.argument("number")
@_as_option
@click.pass_obj
def tickets_resolve(obj: Context, number: str, actor: str) -> None:
    """Mark a ticket resolved; the customer's next reply reopens it."""

    def action(session: Session, ticket: Ticket, now: datetime) -> str:
        ticket_actions.resolve(session, ticket, actor, now)
        return f"{ticket.number} resolved"

    _act(obj, number, action)


@tickets.command("close")
@click.argument("number")
@click.option("--reason", required=True, type=click.Choice(CLOSE_REASONS))
@_as_option
@click.pass_obj
def tickets_close(obj: Context, number: str, reason: str, actor: str) -> None:
    """Close a ticket. A reply within reopen_days reopens it; a later one opens a new,
    linked ticket."""

    def action(session: Session, ticket: Ticket, now: datetime) -> str:
        ticket_actions.close(session, ticket, reason, actor, now)
        return f"{ticket.number} closed ({reason})"

    _act(obj, number, action)


@tickets.command("reopen")
@click.argument("number")
@_as_option
@click.pass_obj
def tickets_reopen(obj: Context, number: str, actor: str) -> None:
    """Open a waiting, resolved or closed ticket again."""

    def action(session: Session, ticket: Ticket, now: datetime) -> str:
        ticket_actions.reopen(session, ticket, actor, now)
        return f"{ticket.number} open"

    _act(obj, number, action)


@tickets.command("set")
@click.argument("number")
@click.option("--category", help="One of the categories the rules use (or 'other').")
@click.option("--priority", type=click.Choice(list(reversed(PRIORITIES))))
@_as_option
@click.pass_obj
def tickets_set(
    obj: Context, number: str, category: str | None, priority: str | None, actor: str
) -> None:
    """Correct a ticket's category and/or priority; the rules' decision is kept beside it."""
    _config, rules = obj.load_with_rules()
    known = {rule.category for rule in rules.rules if rule.category} | {"other"}

    def action(session: Session, ticket: Ticket, now: datetime) -> str:
        ticket_actions.correct(
            session,
            ticket,
            category=category,
            priority=priority,
            known_categories=known,
            actor=actor,
            now=now,
        )
        return f"{ticket.number}: category {ticket.category}, priority {ticket.priority}"

    _act(obj, number, action)


@tickets.command("merge")
@click.argument("source")
@click.argument("target")
@_as_option
@click.pass_obj
def tickets_merge(obj: Context, source: str, target: str, actor: str) -> None:
    """Move SOURCE's messages onto TARGET and close SOURCE as its duplicate."""

    def action(session: Session, ticket: Ticket, now: datetime) -> str:
        into = ticket_actions.find_ticket(session, target)
        moved = ticket_actions.merge(session, ticket, into, actor, now)
        return f"{ticket.number} merged into {into.number} ({moved} messages moved)"

    _act(obj, source, action)


@click.group()
def customers() -> None:
    """Customers: the people tickets are for."""


@customers.command("show")
@click.argument("address")
@click.option("--json", "as_json", is_flag=True)
@click.pass_obj
def customers_show(obj: Context, address: str, as_json: bool) -> None:
    """Every ticket of a customer (by address), oldest first, and those they took part in."""
    found = ticket_views.customer_tickets(open_db(obj.load()), address)
    if as_json:
        views.print_json(found, obj.out)
        return
    if not found["tickets"] and not found["participant_in"]:
        click.echo(f"maild: no tickets for {address}", err=True)
        sys.exit(1)
    click.echo(f"{found['address']}  {found['name'] or ''}")
    obj.out.print(ticket_views.tickets_table(found["tickets"]))
    if found["participant_in"]:
        click.echo("Also on (Cc or reply from a colleague):")
        obj.out.print(ticket_views.tickets_table(found["participant_in"]))
