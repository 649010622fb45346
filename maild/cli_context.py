"""What every `maild` command shares: finding and loading the configuration, failing clearly."""

from __future__ import annotations

import os
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import NoReturn

import click
from rich.console import Console

from maild.config import Config, ConfigError, load_config
from maild.log import configure_logging
from maild.rules import RulesError, RuleSet, load_rules
from maild.store.db import Database, open_database, safe_url

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
        """The configuration and its rules; exit 2 listing every problem in the rule files."""
        config = self.load()
        return config, rules_or_exit(config.rules_dir, config.owners)


def rules_or_exit(directory: Path, owners: Mapping[str, str] | None) -> RuleSet:
    try:
        return load_rules(directory, owners)
    except RulesError as exc:
        fail(f"invalid rules: {exc}")


def fail(message: str, code: int = EXIT_CONFIG) -> NoReturn:
    click.echo(f"maild: {message}", err=True)
    sys.exit(code)


def open_db(config: Config) -> Database:
    try:
        return open_database(config.database_url)
    except Exception as exc:  # the URL or server is wrong: say so in one line, not a traceback
        fail(f"cannot open database {safe_url(config.database_url)}: {type(exc).__name__}: {exc}")
