"""`maild classify` and `maild rules check`: try and validate classification rules."""

from __future__ import annotations

import json
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import click

from maild import resources
from maild.cli_context import Context, rules_or_exit
from maild.config import Config, config_from_mapping
from maild.ingest import pipeline_settings
from maild.pipeline import run_pipeline
from maild.rules import check_rules


def _optional_config(obj: Context) -> Config:
    """The configuration when one is given or found; else the packaged defaults (no file)."""
    return obj.load() if obj.config_found() else config_from_mapping({})


def _hours(target: timedelta) -> str:
    hours = target.total_seconds() / 3600
    return f"{hours:g} h" if hours >= 1 else f"{target.total_seconds() / 60:g} min"


@click.command()
@click.argument("files", nargs=-1, required=True, type=click.Path(exists=True, path_type=Path))
@click.option("--json", "as_json", is_flag=True, help="A JSON array instead of text.")
@click.option("--mailbox", help="Classify as received by this configured mailbox.")
@click.pass_obj
def classify(obj: Context, files: tuple[Path, ...], as_json: bool, mailbox: str | None) -> None:
    """Show the category, priority, owner and reasons the rules give each .eml FILE."""
    config = _optional_config(obj)
    rules = rules_or_exit(config.rules_dir, config.owners)
    settings = pipeline_settings(config, rules)
    if mailbox is None and config.mailboxes:
        mailbox = config.mailboxes[0].name
    results: list[dict[str, Any]] = []
    for number, path in enumerate(files, start=1):
        arrived = datetime.fromtimestamp(path.stat().st_mtime, UTC)
        result = run_pipeline((number, path.read_bytes(), arrived, mailbox or ""), settings)
        decision = result.decision
        results.append(
            {
                "file": str(path),
                "category": decision.category if decision else None,
                "priority": decision.priority if decision else None,
                "response_target": _hours(config.sla.targets[decision.priority])
                if decision
                else None,
                "owner": decision.owner if decision else None,
                "tags": list(decision.tags) if decision else [],
                "captures": dict(decision.captures) if decision else {},
                "reasons": list(decision.reasons) if decision else [],
                "error": result.quarantine_reason,
            }
        )
    if as_json:
        click.echo(json.dumps(results, ensure_ascii=False, indent=2))
    else:
        for row in results:
            click.echo(f"{row['file']}")
            if row["error"]:
                click.echo(f"  cannot classify: {row['error']}")
                continue
            click.echo(
                f"  category {row['category']}, priority {row['priority']} "
                f"(respond within {row['response_target']}), "
                f"owner {row['owner'] or '-'}"
                + (f", tags {', '.join(row['tags'])}" if row["tags"] else "")
            )
            for reason in row["reasons"]:
                click.echo(f"    {reason}")
    if any(row["error"] for row in results):
        sys.exit(1)


@click.group()
def rules() -> None:
    """Classification rules."""


@rules.command("check")
@click.argument("directory", required=False, type=click.Path(path_type=Path))
@click.pass_obj
def rules_check(obj: Context, directory: Path | None) -> None:
    """Validate rule files (default: the configuration's rules_dir); exit 1 on any problem."""
    owners = None
    if directory is None:
        config = _optional_config(obj)
        directory = config.rules_dir
        owners = config.owners if config.path is not None else None
    elif obj.config_option:
        owners = obj.load().owners
    problems = check_rules(directory, owners)
    for problem in problems:
        click.echo(str(problem), err=True)
    if problems:
        click.echo(f"maild: {len(problems)} problem(s) in {directory}", err=True)
        sys.exit(1)
    count = len(list(directory.glob("*.toml")))
    packaged = " (the packaged defaults)" if directory == resources.packaged("rules") else ""
    click.echo(f"{directory}{packaged}: {count} rule file(s), ok")
