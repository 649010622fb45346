"""Shared fixtures: databases (SQLite files and the local PostgreSQL server) and the corpus."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from maild.store.db import Database, open_database

REPO = Path(__file__).resolve().parents[1]
CORPUS = Path(os.environ.get("MAILD_CORPUS", REPO.parent / "shared" / "corpus"))
POSTGRES_ADMIN_URL = os.environ.get(
    "MAILD_TEST_POSTGRES", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
)


def skip_or_fail(reason: str) -> None:
    """Skip outside CI; in CI every server-backed test must run, so a missing server fails."""
    if os.environ.get("CI"):
        pytest.fail(f"{reason} (CI must run this test)")
    pytest.skip(reason)


def corpus_files() -> list[Path]:
    if not CORPUS.is_dir():
        return []
    return sorted(p for p in CORPUS.rglob("*.eml") if p.is_file())


@pytest.fixture
def corpus() -> list[Path]:
    files = corpus_files()
    if not files:
        skip_or_fail(f"the shared corpus is not at {CORPUS} (set MAILD_CORPUS)")
    return files


def postgres_database() -> Iterator[str]:
    from sqlalchemy import create_engine, text  # noqa: PLC0415

    try:
        admin = create_engine(POSTGRES_ADMIN_URL, isolation_level="AUTOCOMMIT")
        with admin.connect() as connection:
            name = f"maild_test_{uuid.uuid4().hex[:12]}"
            connection.execute(text(f'CREATE DATABASE "{name}"'))
    except Exception as exc:
        skip_or_fail(f"PostgreSQL is not reachable at {POSTGRES_ADMIN_URL}: {type(exc).__name__}")
        return
    url = POSTGRES_ADMIN_URL.rsplit("/", 1)[0] + f"/{name}"
    try:
        yield url
    finally:
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A fresh, empty database: an SQLite file, and a new database on the local PostgreSQL."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'maild.db'}"
    else:
        yield from postgres_database()


@pytest.fixture
def database(database_url: str) -> Iterator[Database]:
    db = open_database(database_url)
    try:
        yield db
    finally:
        db.dispose()
