"""`maild classify`, `maild rules check`, and what invalid rules do to start-up."""

from __future__ import annotations

import json
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

from maild import resources
from tests.e2e.test_cli import maild

OUTAGE_AT_NIGHT = (
    b"From: Liu Yang <liu.yang@ops.example.cn>\r\n"
    b"To: support@example.com\r\n"
    b"Subject: =?utf-8?b?572R56uZ5a6V5py65LqG?= site down\r\n"
    b"Date: Fri, 20 Nov 2026 02:30:00 +0800\r\n"
    b"Message-ID: <night@ops.example.cn>\r\n"
    b"Content-Type: text/plain; charset=utf-8\r\n"
    b"\r\n"
    b"Our whole team cannot open the site, 502 Bad Gateway.\r\n"
)


def write_config(directory: Path, rules_dir: Path | None = None, extra: str = "") -> Path:
    path = directory / "maild.toml"
    rules_line = f'rules_dir = "{rules_dir}"\n' if rules_dir else ""
    path.write_text(
        f'timezone = "Asia/Shanghai"\n{rules_line}{extra}'
        "[owners]\n"
        'lina = "Li Na <li.na@example.com>"\n'
        "[[mailbox]]\n"
        'name = "support"\n'
        'address = "support@example.com"\n'
        'default_owner = "lina"\n'
        "  [mailbox.maildir]\n"
        f'  path = "{directory / "Maildir"}"\n',
        encoding="utf-8",
    )
    for sub in ("new", "cur", "tmp"):
        (directory / "Maildir" / sub).mkdir(parents=True, exist_ok=True)
    return path


def test_classify_prints_category_priority_owner_and_reasons(tmp_path: Path) -> None:
    """An outage reported at 02:30 Shanghai time is technical and urgent, with the reasons."""
    message = tmp_path / "outage.eml"
    message.write_bytes(OUTAGE_AT_NIGHT)
    config = write_config(tmp_path)
    result = maild("--config", str(config), "classify", "--json", str(message), cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    (row,) = json.loads(result.stdout)
    assert set(row) >= {"file", "category", "priority", "owner", "reasons"}
    assert row["category"] == "technical"
    assert row["priority"] == "urgent"
    assert row["response_target"] == "1 h"
    assert row["owner"] == "Li Na <li.na@example.com>"
    assert any("outside business hours" in reason for reason in row["reasons"])
    text = maild("--config", str(config), "classify", str(message), cwd=tmp_path)
    assert "category technical, priority urgent (respond within 1 h)" in text.stdout


def test_classify_works_without_a_configuration(tmp_path: Path) -> None:
    """With no maild.toml anywhere, classify uses the packaged rules."""
    message = tmp_path / "m.eml"
    message.write_bytes(OUTAGE_AT_NIGHT)
    result = maild("classify", "--json", str(message), cwd=tmp_path, env={"MAILD_CONFIG": ""})
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)[0]["category"] == "technical"


def test_rules_check_lists_every_problem_with_file_and_line(tmp_path: Path) -> None:
    """rules check reports each bad rule with its file and line, and exits 1."""
    rules = tmp_path / "rules"
    rules.mkdir()
    (rules / "10-a.toml").write_text(
        '[[rule]]\nname = "one"\nsubjet_any = ["x"]\ncategory = "a"\n', encoding="utf-8"
    )
    (rules / "20-b.toml").write_text(
        '[[rule]]\nname = "two"\nbody_regex = "(unclosed"\n\n'
        '[[rule]]\nname = "three"\npriority = "critical"\n',
        encoding="utf-8",
    )
    result = maild("rules", "check", str(rules), cwd=tmp_path, env={"MAILD_CONFIG": ""})
    assert result.returncode == 1
    assert f"{rules / '10-a.toml'}:3: rule[0].subjet_any: unknown key" in result.stderr
    assert f"{rules / '20-b.toml'}:3: rule[0].body_regex:" in result.stderr
    assert f"{rules / '20-b.toml'}:7: rule[1].priority:" in result.stderr
    assert "3 problem(s)" in result.stderr


def test_rules_check_accepts_the_packaged_rules(tmp_path: Path) -> None:
    """The packaged default rules pass their own check."""
    result = maild("rules", "check", cwd=tmp_path, env={"MAILD_CONFIG": ""})
    assert result.returncode == 0, result.stderr
    assert "(the packaged defaults)" in result.stdout


def test_unknown_owner_in_rules_is_caught_against_the_configuration(tmp_path: Path) -> None:
    """With a config, rules check knows the [owners] names and rejects an unknown one."""
    rules = tmp_path / "rules"
    shutil.copytree(resources.packaged("rules"), rules)
    (rules / "99-owner.toml").write_text(
        '[[rule]]\nname = "vip"\nfrom_domain = "vip.example.com"\nowner = "nobody"\n',
        encoding="utf-8",
    )
    config = write_config(tmp_path, rules)
    result = maild("--config", str(config), "rules", "check", cwd=tmp_path)
    assert result.returncode == 1
    assert "'nobody' is neither an address nor a name in [owners]" in result.stderr


def test_poll_refuses_to_start_with_invalid_rules(tmp_path: Path) -> None:
    """maild will not ingest with broken rules: exit 2 naming the file and line."""
    rules = tmp_path / "rules"
    rules.mkdir()
    (rules / "10-a.toml").write_text('[[rule]]\nname = "x"\nhours = "25:00-26:00"\n')
    config = write_config(tmp_path, rules)
    for command in (("poll", "--once"), ("run",), ("check",)):
        result = maild("--config", str(config), *command, cwd=tmp_path)
        assert result.returncode == 2, (command, result.stderr)
        assert f"{rules / '10-a.toml'}:3: rule[0].hours:" in result.stderr


def test_sighup_keeps_the_old_rules_when_new_ones_are_invalid(tmp_path: Path) -> None:
    """A daemon told to reload broken rules logs why and keeps classifying with the old ones;
    once they are fixed, the next SIGHUP applies them."""
    rules = tmp_path / "rules"
    rules.mkdir()
    (rules / "10-vip.toml").write_text(
        '[[rule]]\nname = "vip"\nfrom_domain = "vip.example.com"\ncategory = "vip"\n'
    )
    config = write_config(tmp_path, rules, extra='[schedule]\npoll_interval = "1s"\n')
    log_path = tmp_path / "daemon.log"
    with log_path.open("w") as log:
        daemon = subprocess.Popen(
            [sys.executable, "-m", "maild", "--json-logs", "--config", str(config), "run"],
            cwd=tmp_path,
            stdout=log,
            stderr=log,
        )
    try:
        wait_for_event(log_path, "folder_polled")
        (rules / "10-vip.toml").write_text('[[rule]]\nname = "vip"\npriority = "asap"\n')
        daemon.send_signal(signal.SIGHUP)
        failed = wait_for_event(log_path, "reload_failed")
        assert "10-vip.toml:3" in str(failed["error"])
        deliver(tmp_path, "1795000001.M1.test", "boss@vip.example.com", "first")
        wait_for(lambda: "first" in categories(config))
        (rules / "10-vip.toml").write_text(
            '[[rule]]\nname = "b"\nsubject_any = ["second"]\ncategory = "later"\n'
        )
        daemon.send_signal(signal.SIGHUP)
        wait_for_event(log_path, "config_reloaded")
        deliver(tmp_path, "1795000002.M2.test", "boss@vip.example.com", "second")
        wait_for(lambda: len(categories(config)) == 2)
    finally:
        daemon.send_signal(signal.SIGTERM)
        assert daemon.wait(timeout=10) == 0
    assert categories(config) == {"first": "vip", "second": "later"}


def deliver(root: Path, name: str, sender: str, subject: str) -> None:
    raw = f"From: {sender}\r\nTo: support@example.com\r\nSubject: {subject}\r\n\r\nhello\r\n"
    (root / "Maildir" / "new" / name).write_bytes(raw.encode())


def categories(config: Path) -> dict[str, str]:
    result = maild("--config", str(config), "messages", "list", "--json", cwd=config.parent)
    return {row["subject"]: row["category"] for row in json.loads(result.stdout)}


def wait_for(predicate: Callable[[], bool], timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.1)


def wait_for_event(log_path: Path, name: str) -> dict[str, object]:
    found: list[dict[str, object]] = []

    def seen() -> bool:
        for line in log_path.read_text(encoding="utf-8").splitlines():
            if line.startswith("{") and json.loads(line)["event"] == name:
                found.append(json.loads(line))
                return True
        return False

    wait_for(seen)
    return found[0]
