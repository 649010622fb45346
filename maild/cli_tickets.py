"""`maild tickets list|show`: the tickets messages were threaded onto."""

from __future__ import annotations

import sys

import click

from maild import ticket_views, views
from maild.cli_context import Context, open_db


@click.group()
def tickets() -> None:
    """Tickets: one per conversation with a customer."""


@tickets.command("list")
@click.option("--status", type=click.Choice(["new", "open", "waiting", "resolved", "closed"]))
@click.option("--owner", help="Only tickets whose owner contains this (name or address).")
@click.option("--json", "as_json", is_flag=True, help="A JSON array instead of a table.")
@click.pass_obj
def tickets_list(obj: Context, status: str | None, owner: str | None, as_json: bool) -> None:
    """Every ticket, oldest first."""
    rows = ticket_views.list_tickets(open_db(obj.load()), status=status, owner=owner)
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
    ticket = ticket_views.show_ticket(open_db(obj.load()), number.strip("[]"))
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
    for event in ticket["events"]:
        click.echo(f"  {event['at'][:16]} {event['actor']} {event['action']}")
