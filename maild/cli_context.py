"""What every `maild` command shares: finding and loading the configuration, failing clearly."""

from __future__ import annotations

import os
import sys
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import NoReturn

import click
from rich.console import Console
from sqlalchemy.orm import Session

from maild.config import Config, ConfigError, load_config
from maild.log import configure_logging
from maild.rules import RulesError, RuleSet, load_rules
from maild.store.db import Database, open_database, safe_url
from maild.templating import TemplateSet

EXIT_REFUSED = 1
EXIT_CONFIG = 2
EXIT_POLL_FAILED = 3
_SEARCHED = (Path("maild.toml"), Path("/etc/maild/maild.toml"))


class Context:
    def __init__(self, config_option: str | None, json_logs: bool | None) -> None:
        self.config_option = config_option
        self.json_logs = json_logs
        self.out = Console(soft_wrap=True)

    def config_found(self) -> bool:
        """Whether a configuration was named or sits where maild looks for one."""
        if self.config_option or os.environ.get("MAILD_CONFIG"):
            return True
        return any(candidate.is_file() for candidate in _SEARCHED)

    def config_path(self) -> Path:
        chosen = self.config_option or os.environ.get("MAILD_CONFIG")
        if chosen:
            return Path(chosen)
        for candidate in _SEARCHED:
            if candidate.is_file():
                return candidate
        fail(
            "no configuration: pass --config PATH, set MAILD_CONFIG, or create ./maild.toml "
            "(`maild init DIR` writes one; `maild demo` needs none)"
        )

    def load(self) -> Config:
        path = self.config_path()
        try:
            config = load_config(path)
        except ConfigError as exc:
            fail(f"configuration error: {exc}")
        configure_logging(json_output=self.json_logs, level=config.log_level)
        return config

    def load_with_rules(self) -> tuple[Config, RuleSet]:
        """The configuration, its rules and templates; exit 2 listing every problem in the
        rule files or templates."""
        config = self.load()
        rules = rules_or_exit(config.rules_dir, config.owners)
        templates_or_exit(config)
        return config, rules


def rules_or_exit(directory: Path, owners: Mapping[str, str] | None) -> RuleSet:
    try:
        return load_rules(directory, owners)
    except RulesError as exc:
        fail(f"invalid rules: {exc}")


def templates_or_exit(config: Config) -> None:
    """Every template compiles, and each mailbox has the templates its settings need."""
    templates = TemplateSet(config.templates_dir)
    problems = [str(problem) for problem in templates.check()]
    for mailbox in config.mailboxes:
        needed = [f"replies/default.{mailbox.replies.language}.txt.j2"]
        if mailbox.replies.auto_ack:
            needed.append(f"ack.{mailbox.replies.language}.txt.j2")
        problems.extend(
            f"{config.templates_dir / name}: missing (mailbox {mailbox.name!r} needs it)"
            for name in needed
            if not templates.exists(name)
        )
    if problems:
        fail("invalid templates:\n  " + "\n  ".join(problems))


def fail(message: str, code: int = EXIT_CONFIG) -> NoReturn:
    click.echo(f"maild: {message}", err=True)
    sys.exit(code)


def run_action(
    obj: Context,
    action: Callable[[Session, datetime], str],
    refused: tuple[type[Exception], ...],
) -> None:
    """Run an agent's action in one transaction and print what it did; a refusal (one of
    `refused`) exits 1 with its reason and changes nothing."""
    database = open_db(obj.load())
    try:
        with database.transaction() as session:
            done = action(session, datetime.now(UTC))
    except refused as exc:
        fail(str(exc), EXIT_REFUSED)
    click.echo(done)


def open_db(config: Config) -> Database:
    try:
        return open_database(config.database_url)
    except Exception as exc:  # the URL or server is wrong: say so in one line, not a traceback
        fail(f"cannot open database {safe_url(config.database_url)}: {type(exc).__name__}: {exc}")
