"""maild.toml loading: every documented key, and errors that name file, line and problem."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest

from maild.config import ConfigError, load_config, parse_duration

ISSUE_EXAMPLE = """\
timezone = "Asia/Shanghai"
rules_dir = "rules"
templates_dir = "templates"
supervisors = ["Wang Fang <wang.fang@example.com>"]
[owners]
lina = "Li Na <li.na@example.com>"
[database]
url = "sqlite:///maild.db"
[schedule]
poll_interval = "1h"
[[mailbox]]
name = "support"
address = "support@example.com"
default_owner = "lina"
  [mailbox.imap]
  host = "127.0.0.1"
  port = 10143
  security = "none"
  allow_insecure = true
  username = "support"
  password_env = "MAILD_SUPPORT_PASSWORD"
  folders = ["INBOX"]
  after_import = "keep"
[[mailbox]]
name = "local"
address = "billing@example.com"
  [mailbox.maildir]
  path = "/srv/mail/billing"
"""


def write(tmp_path: Path, text: str) -> Path:
    (tmp_path / "rules").mkdir(exist_ok=True)
    (tmp_path / "templates").mkdir(exist_ok=True)
    path = tmp_path / "maild.toml"
    path.write_text(text, encoding="utf-8")
    return path


def error_of(tmp_path: Path, text: str) -> ConfigError:
    with pytest.raises(ConfigError) as caught:
        load_config(write(tmp_path, text))
    return caught.value


def test_issue_example_loads(tmp_path: Path) -> None:
    """The example configuration from the foundation issue loads with every value typed."""
    config = load_config(write(tmp_path, ISSUE_EXAMPLE))
    assert str(config.timezone) == "Asia/Shanghai"
    assert config.rules_dir == (tmp_path / "rules").resolve()
    assert config.database_url == f"sqlite:///{(tmp_path / 'maild.db').resolve()}"
    assert config.poll_interval == timedelta(hours=1)
    assert config.owners == {"lina": "Li Na <li.na@example.com>"}
    support, local = config.mailboxes
    assert support.imap is not None and support.imap.port == 10143
    assert support.imap.security == "none" and support.imap.folders == ("INBOX",)
    assert local.maildir is not None and local.maildir.path == Path("/srv/mail/billing")


def test_relative_paths_follow_the_config_file_not_the_cwd(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Relative SQLite and folder paths resolve against the config file's folder."""
    monkeypatch.chdir("/")
    config = load_config(
        write(tmp_path, 'rules_dir = "rules"\n[database]\nurl = "sqlite:///data/m.db"\n')
    )
    assert config.database_url == f"sqlite:///{(tmp_path / 'data' / 'm.db').resolve()}"
    assert config.rules_dir == (tmp_path / "rules").resolve()


def test_unknown_key_names_file_line_and_key(tmp_path: Path) -> None:
    """A misspelt key is an error pointing at its line, not silently ignored."""
    error = error_of(tmp_path, '[schedule]\npoll_intervall = "1h"\n')
    assert error.path == tmp_path / "maild.toml"
    assert error.line == 2
    assert error.key == "schedule.poll_intervall"
    assert "unknown key" in str(error)
    assert str(error).startswith(f"{tmp_path / 'maild.toml'}:2: schedule.poll_intervall")


def test_error_inside_second_mailbox_points_at_its_line(tmp_path: Path) -> None:
    """Errors inside an array of tables find the right entry's line."""
    text = ISSUE_EXAMPLE.replace('  path = "/srv/mail/billing"', '  path = "/srv"\n  pth = 1')
    error = error_of(tmp_path, text)
    assert error.key == "mailbox[1].maildir.pth"
    assert error.line == text.splitlines().index("  pth = 1") + 1


def test_plain_text_imap_needs_explicit_consent(tmp_path: Path) -> None:
    """security = "none" without allow_insecure is refused with the reason."""
    error = error_of(tmp_path, ISSUE_EXAMPLE.replace("  allow_insecure = true\n", ""))
    assert error.key == "mailbox[0].imap.security"
    assert "allow_insecure" in error.problem


def test_inline_password_is_refused(tmp_path: Path) -> None:
    """A password written in the file is an error that does not echo the password."""
    error = error_of(
        tmp_path, ISSUE_EXAMPLE.replace("  username", '  password = "hunter2"\n  username')
    )
    assert "password_env" in error.problem
    assert "hunter2" not in str(error)


def test_invalid_toml_reports_the_line(tmp_path: Path) -> None:
    """A syntax error names the line tomllib found it on."""
    error = error_of(tmp_path, 'timezone = "UTC"\n[schedule\n')
    assert error.line == 2
    assert "not valid TOML" in error.problem


@pytest.mark.parametrize(
    ("text", "key", "words"),
    [
        ('timezone = "Mars/Olympus"\n', "timezone", "unknown time zone"),
        ('[schedule]\npoll_interval = "soon"\n', "schedule.poll_interval", "not a duration"),
        ("[schedule]\npoll_interval = 60\n", "schedule.poll_interval", "duration string"),
        (
            '[[mailbox]]\nname = "a"\naddress = "nope"\n[mailbox.maildir]\npath = "/x"\n',
            "mailbox[0].address",
            "not an email",
        ),
        ('[[mailbox]]\nname = "a"\naddress = "a@b.c"\n', "mailbox[0]", "exactly one of"),
        (
            '[[mailbox]]\nname = "a"\naddress = "a@b.c"\ndefault_owner = "nobody"\n'
            '[mailbox.maildir]\npath = "/x"\n',
            "mailbox[0].default_owner",
            "neither",
        ),
        ('rules_dir = "missing"\n', "rules_dir", "does not exist"),
        ("[owners]\nlina = 5\n", "owners.lina", "must be an address"),
    ],
)
def test_invalid_values_are_explained(tmp_path: Path, text: str, key: str, words: str) -> None:
    """Each kind of wrong value names its key and says what is wrong."""
    error = error_of(tmp_path, text)
    assert error.key == key
    assert words in error.problem
    assert error.line is not None


@pytest.mark.parametrize(
    ("text", "seconds"),
    [("1h", 3600), ("90s", 90), ("15m", 900), ("1h30m", 5400), ("2d", 172800), ("250ms", 0.25)],
)
def test_durations(text: str, seconds: float) -> None:
    """Durations are written with units and parsed once."""
    assert parse_duration(text).total_seconds() == seconds


@pytest.mark.parametrize("text", ["", "1", "h", "1x", "1h 2", "-1h"])
def test_bad_durations(text: str) -> None:
    """Anything that is not number+unit is rejected."""
    with pytest.raises(ValueError):
        parse_duration(text)


SMTP = """\
[smtp]
host = "smtp.example.com"
username = "support@example.com"
password_file = "smtp-password"
"""
MAILBOX = """\
[[mailbox]]
name = "support"
address = "support@example.com"
  [mailbox.maildir]
  path = "/srv/mail"
"""


def test_smtp_and_reply_settings_load_with_their_defaults(tmp_path: Path) -> None:
    (tmp_path / "smtp-password").write_text("s3cret\n", encoding="utf-8")
    mailbox = MAILBOX.replace(
        'address = "support@example.com"\n',
        'address = "support@example.com"\nlanguage = "zh"\nauto_ack = true\n'
        'ack_interval = "2h"\ndisplay_name = "客服中心"\n',
    )
    config = load_config(write(tmp_path, SMTP + mailbox))
    assert config.smtp is not None
    assert (config.smtp.port, config.smtp.security, config.smtp.timeout) == (587, "starttls", 60)
    assert config.smtp.flush_interval == timedelta(minutes=1)
    assert config.smtp.read_password() == "s3cret"
    replies = config.mailboxes[0].replies
    assert (replies.language, replies.auto_ack, replies.display_name) == ("zh", True, "客服中心")
    assert replies.ack_interval == timedelta(hours=2)
    plain = load_config(write(tmp_path, MAILBOX))
    assert plain.smtp is None and plain.mailboxes[0].replies.auto_ack is False


@pytest.mark.parametrize(
    ("text", "line", "complaint"),
    [
        (MAILBOX.replace("[mailbox.maildir]", "auto_ack = true\n  [mailbox.maildir]"), 4,
         "auto_ack: is true, but there is no [smtp] section"),
        ('[smtp]\nhost = "h"\nsecurity = "none"\n', 3, "set allow_insecure = true"),
        ('[smtp]\nhost = "h"\npassword = "x"\n', 3, "passwords never go in the file"),
        ('[smtp]\nhost = "h"\nhots = "x"\n', 3, "hots"),
        ('[smtp]\nhost = "h"\npassword_env = "P"\n', None, "username: is required"),
        (MAILBOX.replace("[mailbox.maildir]", 'language = "fr"\n  [mailbox.maildir]'), 4,
         "must be one of en, zh"),
    ],
)  # fmt: skip
def test_bad_sending_settings_name_the_line(
    tmp_path: Path, text: str, line: int | None, complaint: str
) -> None:
    error = error_of(tmp_path, text)
    assert complaint in str(error)
    if line is not None:
        assert error.line == line


def test_escalation_digest_and_notification_settings(tmp_path: Path) -> None:
    text = MAILBOX + (
        '[sla]\nclock = "business"\nremind_every = "12h"\n'
        '[[escalation]]\nafter = "4h"\nnotify = "owner"\n'
        '[[escalation]]\nafter = "1d"\nnotify = "supervisors"\n'
        '[digest]\nat = "07:30"\nsend_empty = true\n'
        '[notifications]\nlanguage = "zh"\n'
        '[schedule]\nsweep_interval = "1m"\n'
    )
    config = load_config(write(tmp_path, text))
    assert (config.sla.clock, config.sla.remind_every) == ("business", timedelta(hours=12))
    assert [(t.after, t.notify) for t in config.escalation] == [
        (timedelta(hours=4), "owner"),
        (timedelta(days=1), "supervisors"),
    ]
    assert (config.digest.at.hour, config.digest.at.minute, config.digest.send_empty) == (
        7,
        30,
        True,
    )
    assert config.notifications.language == "zh"
    assert config.sweep_interval == timedelta(minutes=1)
    default = load_config(write(tmp_path, MAILBOX))
    assert [t.after for t in default.escalation] == [timedelta(hours=24), timedelta(hours=48)]
    assert default.sla.clock == "24x7" and default.digest.at.hour == 8


@pytest.mark.parametrize(
    ("text", "complaint"),
    [
        ('[sla]\nclock = "lunar"\n', 'must be "24x7" or "business"'),
        ('[[escalation]]\nafter = "24h"\nnotify = "boss"\n', 'must be "owner" or "supervisors"'),
        ('[[escalation]]\nafter = "48h"\n[[escalation]]\nafter = "24h"\n', "increasing order"),
        ('[[escalation]]\nnotify = "owner"\n', "after: is required"),
        ('[digest]\nat = "8 am"\n', "not a time like 08:00"),
        ('[notifications]\nlanguage = "fr"\n', "must be en or zh"),
        ('[digest]\nwhen = "08:00"\n', "when"),
    ],
)
def test_bad_escalation_settings_are_named(tmp_path: Path, text: str, complaint: str) -> None:
    assert complaint in str(error_of(tmp_path, MAILBOX + text))


def test_under_systemd_a_relative_sqlite_path_lives_in_the_state_directory(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """/etc/maild is read-only to the service: `sqlite:///maild.db` (or no [database] at all)
    means $STATE_DIRECTORY/maild.db when systemd sets it."""
    state = tmp_path / "state"
    monkeypatch.setenv("STATE_DIRECTORY", f"{state}:/var/lib/other")
    named = load_config(write(tmp_path, '[database]\nurl = "sqlite:///maild.db"\n' + MAILBOX))
    assert named.database_url == f"sqlite:///{state / 'maild.db'}"
    assert load_config(write(tmp_path, MAILBOX)).database_url == f"sqlite:///{state / 'maild.db'}"
    absolute = load_config(write(tmp_path, '[database]\nurl = "sqlite:////srv/m.db"\n' + MAILBOX))
    assert absolute.database_url == "sqlite:////srv/m.db"
