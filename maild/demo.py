"""`maild demo`: the whole main job on the embedded default, with nothing to set up.

It writes a small maild.toml beside an SQLite database (so every other command can be tried on
the result), ingests the bundled sample mailbox and prints what it stored.
"""

from __future__ import annotations

import os
from pathlib import Path

from rich.console import Console

from maild import resources, views
from maild.config import load_config
from maild.draft_views import list_drafts
from maild.ingest import Ingestor
from maild.log import configure_logging
from maild.rules import load_rules
from maild.store.db import open_database


def default_demo_dir() -> Path:
    base = os.environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return Path(base) / "maild" / "demo"


def _demo_config_text(sample: Path) -> str:
    return (
        "# Written by `maild demo`: the embedded default (SQLite + the bundled sample mailbox).\n"
        'timezone = "Asia/Shanghai"\n\n'
        "[database]\n"
        'url = "sqlite:///maild.db"\n\n'
        "[logging]\n"
        'level = "warning"\n\n'
        "[[mailbox]]\n"
        'name = "sample"\n'
        'address = "support@example.com"\n'
        "  [mailbox.maildir]\n"
        f"  path = {str(sample)!r}\n".replace("'", '"')
    )


def run_demo(directory: Path | None, *, fresh: bool, out: Console, json_logs: bool | None) -> int:
    folder = (directory or default_demo_dir()).expanduser().resolve()
    folder.mkdir(parents=True, exist_ok=True)
    if fresh:
        for name in ("maild.db", "maild.db-wal", "maild.db-shm"):
            (folder / name).unlink(missing_ok=True)
    config_path = folder / "maild.toml"
    sample = resources.packaged("sample-mailbox")
    config_path.write_text(_demo_config_text(sample), encoding="utf-8")
    config = load_config(config_path)
    configure_logging(json_output=json_logs, level=config.log_level)
    database = open_database(config.database_url)
    rules = load_rules(config.rules_dir, config.owners)
    outcomes = Ingestor(database, config, rules=rules).poll_all()
    rows = views.list_messages(database)
    out.print(views.messages_table(rows, "maild demo: the bundled sample mailbox", out.width))
    new = sum(outcome.stored for outcome in outcomes)
    quarantined = sum(1 for row in rows if row["status"] == "quarantined")
    tickets = len({row["ticket"] for row in rows if row["ticket"]})
    pending = len(list_drafts(database, status="pending"))
    out.print(
        f"\n{new} new message(s) stored this run; {len(rows)} in the database, "
        f"{len(rows) - quarantined} ok, {quarantined} quarantined (see the reason column), "
        f"on {tickets} ticket(s); {pending} reply draft(s) wait for an agent.",
        markup=False,
    )
    out.print(
        f"Sample mailbox: {sample}\nDatabase:       {database.display_url()}\n"
        f"Config:         {config_path}\n"
        f"Try:            maild --config {config_path} messages list --json\n"
        f"                maild --config {config_path} tickets list\n"
        f"                maild --config {config_path} drafts list\n"
        f"                maild --config {config_path} status",
        markup=False,
    )
    return 0 if all(outcome.ok for outcome in outcomes) else 3
