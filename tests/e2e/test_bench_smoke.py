"""The benchmark scripts still run (tiny sizes; they measure nothing here, they must not rot)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import REPO, skip_or_fail
from tests.servers.dovecot import SKIP_REASON, dovecot_available


def run_bench(script: str, *args: str, cwd: Path) -> str:
    result = subprocess.run(
        [sys.executable, str(REPO / "bench" / script), *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    return result.stdout


def test_classify_bench_runs(tmp_path: Path) -> None:
    """bench/classify.py prints its rates and the target line on a tiny rule set."""
    out = run_bench(
        "classify.py",
        "--rules",
        "20",
        "--keywords",
        "100",
        "--messages",
        "50",
        "--facts-messages",
        "10",
        "--repeat",
        "1",
        "--profile",
        "never",
        cwd=tmp_path,
    )
    assert "(b) classify, 20 rules:" in out
    assert "target > 5,000 msg/s on one core" in out


@pytest.mark.dovecot
def test_ingest_bench_runs(tmp_path: Path) -> None:
    """bench/ingest.py loads a Dovecot, runs all three measurements and prints the ratios."""
    if not dovecot_available():
        skip_or_fail(SKIP_REASON)
    out = run_bench("ingest.py", "--messages", "60", cwd=tmp_path)
    assert "(a) bare imapclient fetch" in out
    assert "(c) maild poll --once into fresh SQLite" in out
    assert "maild / (b) =" in out and "peak RSS" in out


def test_threading_bench_runs(tmp_path: Path) -> None:
    """bench/threading_cost.py fills, threads and prints the growth summary at tiny sizes."""
    out = run_bench(
        "threading_cost.py",
        "--sizes",
        "20,40",
        "--messages",
        "5",
        "--breakdown",
        "5",
        cwd=tmp_path,
    )
    assert "threading:" in out and "StoreLookups query plans" in out


def test_web_bench_runs(tmp_path: Path) -> None:
    """bench/web.py seeds, serves with the real `maild web` and prints its table, tiny."""
    out = run_bench(
        "web.py",
        "--tickets",
        "50",
        "--drafts",
        "10",
        "--requests",
        "3",
        "--warmup",
        "1",
        cwd=tmp_path,
    )
    assert "seeded 50 tickets" in out and "10 pending drafts" in out
    assert "median ms" in out and "p95/base" in out
    for page in ("GET /login (baseline", "GET /queue (supervisor", "GET /tickets/{number}"):
        assert page in out
    assert "GET /dashboard" in out and "GET /api/metrics" in out
    assert "slowest p95:" in out
