"""The `maild` process as a user runs it: demo, config errors, listings, quarantine, reprocess."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from maild import resources


def maild(
    *args: str, cwd: Path, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "maild", *args],
        cwd=cwd,
        env={**os.environ, **(env or {})},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


@pytest.fixture
def demo_dir(tmp_path: Path) -> Path:
    result = maild("demo", "--dir", str(tmp_path / "demo"), cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    return tmp_path / "demo"


def sample_count() -> int:
    mailbox = resources.packaged("sample-mailbox")
    return sum(1 for sub in ("new", "cur") for p in (mailbox / sub).glob("*") if p.name != ".keep")


def test_demo_ingests_the_sample_mailbox_and_says_where_its_files_are(tmp_path: Path) -> None:
    """maild demo needs no config or server, prints a table and where it left its files."""
    result = maild("demo", "--dir", str(tmp_path / "demo"), cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert "maild demo" in result.stdout
    assert f"{sample_count()} new message(s) stored this run" in result.stdout
    assert "on 20 ticket(s)" in result.stdout
    assert str(tmp_path / "demo" / "maild.toml") in result.stdout
    assert (tmp_path / "demo" / "maild.db").is_file()
    again = maild("demo", "--dir", str(tmp_path / "demo"), cwd=tmp_path)
    assert "0 new message(s) stored this run" in again.stdout


def test_messages_list_json_has_the_documented_fields(demo_dir: Path) -> None:
    """messages list --json gives every stored message with the fields scripts rely on."""
    result = maild(
        "--config", str(demo_dir / "maild.toml"), "messages", "list", "--json", cwd=demo_dir
    )
    assert result.returncode == 0, result.stderr
    rows = json.loads(result.stdout)
    assert len(rows) == sample_count()
    for row in rows:
        assert {
            "id",
            "mailbox",
            "uid",
            "message_id",
            "subject",
            "from",
            "received_at",
            "status",
            "reason",
            "direction",
            "ticket",
        } <= row.keys()
        assert row["status"] in {"ok", "quarantined"}
        assert row["direction"] == "in"
        # Every processed message is on a ticket; a quarantined one is not.
        assert (row["ticket"] is None) == (row["status"] == "quarantined")
        assert row["ticket"] is None or re.fullmatch(r"CS\d{8}-\d{4}", row["ticket"])
        assert (row["reason"] is None) == (row["status"] == "ok")
    subjects = " ".join(row["subject"] or "" for row in rows)
    assert any("\u4e00" <= ch <= "\u9fff" for ch in subjects), "Chinese subjects decode readably"


def test_quarantine_list_and_reprocess(demo_dir: Path) -> None:
    """The sample's broken message is listed with its reason; reprocess runs it again."""
    config = str(demo_dir / "maild.toml")
    result = maild("--config", config, "quarantine", "list", "--json", cwd=demo_dir)
    rows = json.loads(result.stdout)
    assert len(rows) >= 1 and all(row["reason"] for row in rows)
    again = maild("--config", config, "reprocess", str(rows[0]["id"]), cwd=demo_dir)
    assert again.returncode == 0
    assert f"{rows[0]['id']}: quarantined:" in again.stdout
    everything = maild("--config", config, "reprocess", "--all", cwd=demo_dir)
    assert everything.returncode == 0
    missing = maild("--config", config, "reprocess", "999999", cwd=demo_dir)
    assert missing.returncode == 1 and "no message with id 999999" in missing.stderr


def test_config_error_exits_2_with_file_line_and_problem(tmp_path: Path) -> None:
    """A wrong config file stops maild with exit code 2 and a one-line explanation."""
    path = tmp_path / "maild.toml"
    path.write_text('timezone = "UTC"\n[schedule]\npoll_intervall = "1h"\n', encoding="utf-8")
    result = maild("--config", str(path), "poll", "--once", cwd=tmp_path)
    assert result.returncode == 2
    assert f"{path}:3: schedule.poll_intervall: unknown key" in result.stderr
    assert "Traceback" not in result.stderr


def test_missing_config_is_explained(tmp_path: Path) -> None:
    """Without any configuration, maild says how to give one instead of failing obscurely."""
    result = maild("status", cwd=tmp_path, env={"MAILD_CONFIG": ""})
    assert result.returncode == 2
    assert "no configuration" in result.stderr


def test_init_writes_an_editable_setup_that_checks(tmp_path: Path) -> None:
    """maild init copies rules, templates and an example config that `maild check` accepts."""
    result = maild("init", str(tmp_path / "site"), cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert (tmp_path / "site" / "rules").is_dir() and (tmp_path / "site" / "templates").is_dir()
    check = maild("--config", str(tmp_path / "site" / "maild.toml"), "check", cwd=tmp_path)
    assert check.returncode == 0, check.stderr
    assert "ok (1 mailbox(es)" in check.stdout


def test_tickets_list_and_show(demo_dir: Path) -> None:
    """The demo's conversations are tickets; `tickets show` tells how each message joined."""
    config = str(demo_dir / "maild.toml")
    listed = maild("--config", config, "tickets", "list", "--json", cwd=demo_dir)
    assert listed.returncode == 0, listed.stderr
    tickets = json.loads(listed.stdout)
    assert len(tickets) == 20
    conversation = next(t for t in tickets if t["message_count"] == 2)
    shown = maild("--config", config, "tickets", "show", conversation["number"], cwd=demo_dir)
    assert shown.returncode == 0, shown.stderr
    assert conversation["number"] in shown.stdout
    assert "(new)" in shown.stdout and "created" in shown.stdout
    missing = maild("--config", config, "tickets", "show", "CS20000101-0001", cwd=demo_dir)
    assert missing.returncode == 1 and "no ticket CS20000101-0001" in missing.stderr


def test_agents_work_tickets_from_the_command_line(demo_dir: Path) -> None:
    """assign, set, close, merge and customers show, as an agent types them; each change is
    in the ticket's history under the agent's name, and refusals say why with exit 1."""
    config = str(demo_dir / "maild.toml")

    def run(*args: str) -> subprocess.CompletedProcess[str]:
        return maild("--config", config, *args, cwd=demo_dir, env={"MAILD_AGENT": "li.na"})

    tickets = json.loads(run("tickets", "list", "--json").stdout)
    first, second = tickets[0]["number"], tickets[1]["number"]
    assigned = run("tickets", "assign", first, "wang.fang")
    assert assigned.returncode == 0 and "assigned to wang.fang (open)" in assigned.stdout
    corrected = run("tickets", "set", first, "--category", "billing", "--priority", "high")
    assert corrected.returncode == 0, corrected.stderr
    unknown = run("tickets", "set", first, "--category", "weather")
    assert unknown.returncode == 1 and "unknown category 'weather'" in unknown.stderr
    bad_reason = run("tickets", "close", first, "--reason", "bored")
    assert bad_reason.returncode == 2 and "bored" in bad_reason.stderr
    merged = run("tickets", "merge", second, first, "--as", "boss")
    assert merged.returncode == 0 and f"{second} merged into {first}" in merged.stdout
    shown = json.loads(run("tickets", "show", first, "--json").stdout)
    assert (shown["assignee"], shown["category"], shown["priority"]) == (
        "wang.fang",
        "billing",
        "high",
    )
    assert shown["rule_category"] == tickets[0]["category"]
    assert {m["message_id"] for m in shown["messages"]} and all(
        m["direction"] == "in" and m["thread_method"] for m in shown["messages"]
    )
    history = [(e["actor"], e["action"]) for e in shown["history"]]
    assert ("li.na", "assigned") in history and ("li.na", "category_set") in history
    assert ("boss", "merged_in") in history
    closed = run("tickets", "close", first, "--reason", "resolved")
    assert closed.returncode == 0 and "closed (resolved)" in closed.stdout
    listed = json.loads(run("tickets", "list", "--status", "closed", "--json").stdout)
    assert {t["number"] for t in listed} == {first, second}
    customer = shown["customer"]
    theirs = json.loads(run("customers", "show", customer.upper(), "--json").stdout)
    assert first in {t["number"] for t in theirs["tickets"]}
    nobody = run("customers", "show", "nobody@example.invalid")
    assert nobody.returncode == 1 and "no tickets for nobody@example.invalid" in nobody.stderr


def test_agents_review_drafts_from_the_command_line(demo_dir: Path, tmp_path: Path) -> None:
    """drafts list/show/edit/approve/reject as an agent types them: approval is refused while a
    placeholder is missing; $EDITOR edits; without [smtp], `send --once` says nothing can go."""
    config = str(demo_dir / "maild.toml")

    def run(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
        return maild("--config", config, *args, cwd=demo_dir, env=env)

    listed = json.loads(run("drafts", "list", "--json").stdout)
    assert len(listed) == 20
    first, second = listed[0], listed[1]
    assert {"id", "ticket", "status", "template", "language", "missing", "subject", "body"} <= (
        first.keys()
    )
    assert first["status"] == "pending" and first["missing"] == ["answer"]
    refused = run("drafts", "approve", str(first["id"]), "--as", "li.na@example.com")
    assert refused.returncode == 1 and "[[answer]]" in refused.stderr
    editor = tmp_path / "editor.py"
    editor.write_text(
        "import pathlib, sys\n"
        "p = pathlib.Path(sys.argv[1])\n"
        "p.write_text(p.read_text(encoding='utf-8').replace('[[answer]]', '请更新到 5.2 版。'),"
        " encoding='utf-8')\n",
        encoding="utf-8",
    )
    edited = run(
        "drafts",
        "edit",
        str(first["id"]),
        "--as",
        "li.na@example.com",
        env={"EDITOR": f"{sys.executable} {editor}"},
    )
    assert edited.returncode == 0, edited.stderr
    approved = run("drafts", "approve", str(first["id"]), "--as", "li.na@example.com")
    assert approved.returncode == 0 and "approved by li.na@example.com" in approved.stdout
    shown = json.loads(run("drafts", "show", str(first["id"]), "--json").stdout)
    assert shown["status"] == "approved" and "请更新到 5.2 版。" in shown["body"]
    assert [r["kind"] for r in shown["revisions"]][-1] == "edited"
    rejected = run("drafts", "reject", str(second["id"]), "--reason", "dup", "--as", "x@y.z")
    assert rejected.returncode == 0
    assert [d["status"] for d in json.loads(run("drafts", "list", "--json").stdout)][:2] == [
        "approved",
        "rejected",
    ]
    no_smtp = run("send", "--once")
    assert no_smtp.returncode == 2 and "no [smtp] section" in no_smtp.stderr


def test_escalate_digest_and_overdue_from_the_command_line(tmp_path: Path) -> None:
    """The sample mailbox left unanswered for days: `escalate --dry-run --json` shows what
    would go out and records nothing; the real sweep decides it once; the digest previews;
    `tickets list --overdue` shows the tickets and their tiers."""
    sample = resources.packaged("sample-mailbox")
    config = tmp_path / "maild.toml"
    config.write_text(
        'timezone = "Asia/Shanghai"\n'
        'supervisors = ["Wang Fang <wang.fang@example.com>"]\n'
        "[[mailbox]]\n"
        'name = "sample"\n'
        'address = "support@example.com"\n'
        'default_owner = "Li Na <li.na@example.com>"\n'
        "  [mailbox.maildir]\n"
        f'  path = "{sample}"\n',
        encoding="utf-8",
    )

    def run(*args: str) -> subprocess.CompletedProcess[str]:
        return maild("--config", str(config), *args, cwd=tmp_path)

    assert run("poll", "--once").returncode == 0
    now = "2026-11-23T12:00:00+08:00"
    dry = run("escalate", "--now", now, "--dry-run", "--json")
    assert dry.returncode == 0, dry.stderr
    planned = json.loads(dry.stdout)
    assert planned and {"ticket", "tier", "after_hours", "to", "age_hours"} <= planned[0].keys()
    assert {p["to"] for p in planned} >= {"wang.fang@example.com"}
    assert json.loads(run("escalate", "--now", now, "--dry-run", "--json").stdout) == planned
    done = json.loads(run("escalate", "--now", now, "--json").stdout)
    assert [(d["ticket"], d["tier"], d["to"]) for d in done] == [
        (p["ticket"], p["tier"], p["to"]) for p in planned
    ]
    assert json.loads(run("escalate", "--now", now, "--json").stdout) == []
    overdue = json.loads(run("tickets", "list", "--overdue", "--json").stdout)
    tiers: dict[str, int] = {}
    for notice in done:
        tiers[notice["ticket"]] = max(tiers.get(notice["ticket"], 0), notice["tier"])
    assert {t["number"]: t["escalation_tier"] for t in overdue if t["number"] in tiers} == tiers
    preview = run("digest", "--now", now, "--preview")
    assert preview.returncode == 0 and "Overdue digest for 2026-11-23" in preview.stdout
    assert overdue[0]["number"] in preview.stdout
