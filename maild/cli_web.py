"""`maild web`: the agents' and supervisors' web pages and JSON API, served by uvicorn on
`[web] listen` (or `--listen HOST:PORT`), meant to sit behind a TLS reverse proxy."""

from __future__ import annotations

import os
import signal

import click

from maild.cli_context import Context, fail, open_db
from maild.config_web import parse_listen
from maild.log import get_logger


@click.command()
@click.option(
    "--listen",
    metavar="HOST:PORT",
    help="Address to serve on (default: [web] listen, 127.0.0.1:8025).",
)
@click.pass_obj
def web(obj: Context, listen: str | None) -> None:
    """Serve the web pages and the JSON API until SIGTERM/SIGINT."""
    import uvicorn  # noqa: PLC0415 - only this command needs the server

    from maild.web.app import create_app  # noqa: PLC0415
    from maild.web.keys import WebKeyError, session_key  # noqa: PLC0415

    config, rules = obj.load_with_rules()
    host, port = config.web.host, config.web.port
    if listen is not None:
        try:
            host, port = parse_listen(listen)
        except ValueError as exc:
            fail(f"--listen: {exc}")
    try:
        key = session_key(config.web, config.database_url)
    except WebKeyError as exc:
        fail(str(exc))
    database = open_db(config)
    app = create_app(config, database, rules=rules, secret_key=key)
    get_logger().info("web_started", listen=f"{host}:{port}", database=database.display_url())
    # uvicorn stops gracefully on SIGTERM/SIGINT and then re-raises the signal to the handler
    # it found: with these, that is a no-op and maild exits 0, as `maild run` does.
    for number in (signal.SIGTERM, signal.SIGINT):
        signal.signal(number, lambda _number, _frame: None)
    uvicorn.run(
        app,
        host=host,
        port=port,
        # Behind the proxy: trust its X-Forwarded-Proto/For (from 127.0.0.1 unless
        # FORWARDED_ALLOW_IPS names the proxy), so "auto" Secure cookies and logged client
        # addresses are right.
        proxy_headers=True,
        forwarded_allow_ips=os.environ.get("FORWARDED_ALLOW_IPS", "127.0.0.1"),
        server_header=False,
        log_level="warning",
        log_config=None,
    )
    get_logger().info("web_stopped")
