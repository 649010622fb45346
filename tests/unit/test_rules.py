"""Tests for maild.rules: loading rule folders, and every problem with its file, line and key."""

from __future__ import annotations

from pathlib import Path

import pytest

from maild.resources import packaged
from maild.rules import Rule, RulesError, check_rules, load_rules
from maild.tomlreader import ConfigError
from tests.unit.rule_helpers import OWNERS, write_rules


def problems_of(
    folder: Path, files: dict[str, str], owners: dict[str, str] | None = OWNERS
) -> list[ConfigError]:
    """Every problem check_rules finds in a folder holding ``files``."""
    return check_rules(write_rules(folder, files), owners)


def only_problem(folder: Path, text: str, owners: dict[str, str] | None = OWNERS) -> ConfigError:
    """The single problem of a folder whose only file, 10-rules.toml, holds ``text``."""
    problems = problems_of(folder, {"10-rules.toml": text}, owners)
    assert len(problems) == 1, problems
    return problems[0]


# --- a valid folder ------------------------------------------------------------------------------


def test_valid_rule_is_loaded_with_every_field(tmp_path: Path) -> None:
    """A rule using every key of the README loads into a Rule with typed, normalised values."""
    text = """\
[[rule]]
name = "everything"
description = "All keys"
subject_any = ["down", "宕机"]
body_any = ["error 502"]
text_any = ["故障"]
subject_all = ["invoice", "wrong"]
body_all = ["refund", "order"]
subject_regex = '(?i)\\bINC-\\d+\\b'
body_regex = '订单号[:：]?\\s*(?P<order_id>\\d+)'
text_regex = 'Order #(?P<order_id>\\d+)'
from_address = "VIP@Customer.Example.com"
from_domain = ["customer.example.com"]
to_address = ["billing@example.com"]
language = ["zh", "en"]
has_attachment = true
is_reply = false
auto_submitted = false
weekdays = ["sat", "sun"]
hours = "18:00-09:00"
outside_business_hours = true
category = "technical"
priority = "high"
raise_priority = true
owner = "lina"
tags = ["outage"]
stop = true
"""
    rules = load_rules(write_rules(tmp_path, {"10-all.toml": text}), OWNERS).rules
    assert len(rules) == 1
    rule = rules[0]
    assert rule.name == "everything"
    assert rule.description == "All keys"
    assert rule.where == "10-all.toml:1"
    assert rule.subject_any == ("down", "宕机")
    assert rule.subject_all == ("invoice", "wrong")
    assert rule.from_address == frozenset({"vip@customer.example.com"})
    assert rule.from_domain == ("customer.example.com",)
    assert rule.language == frozenset({"zh", "en"})
    assert rule.weekdays == frozenset({5, 6})
    assert str(rule.hours) == "18:00-09:00"
    assert rule.has_attachment is True
    assert rule.is_reply is False
    assert rule.outside_business_hours is True
    assert (rule.category, rule.priority, rule.owner) == ("technical", "high", "lina")
    assert rule.raise_priority is True
    assert rule.stop is True
    assert rule.tags == ("outage",)


def test_rule_with_only_a_name_has_no_conditions_and_no_actions(tmp_path: Path) -> None:
    """A rule with just a name matches everything and decides nothing: all defaults."""
    (rule,) = load_rules(write_rules(tmp_path, {"a.toml": '[[rule]]\nname = "x"\n'})).rules
    assert rule == Rule(name="x", description="", where="a.toml:1")
    assert not rule.has_conditions


def test_files_in_file_name_order_then_rules_in_written_order(tmp_path: Path) -> None:
    """Files are read in file-name order (10- before 20-), each file's rules in written order."""
    write_rules(
        tmp_path,
        {
            "20-second.toml": '[[rule]]\nname = "c"\n[[rule]]\nname = "d"\n',
            "10-first.toml": '[[rule]]\nname = "b"\n[[rule]]\nname = "a"\n',
            "30-third.toml": '[[rule]]\nname = "e"\n',
        },
    )
    assert [r.name for r in load_rules(tmp_path).rules] == ["b", "a", "c", "d", "e"]


def test_only_toml_files_are_read(tmp_path: Path) -> None:
    """README.md, backups and other non-*.toml files in the folder are not rule files."""
    write_rules(
        tmp_path,
        {
            "10-rules.toml": '[[rule]]\nname = "a"\n',
            "README.md": "# notes\nnot = [toml\n",
            "10-rules.toml.bak": '[[rule]]\nname = "a"\n',
            "20-old.toml~": "garbage [[",
        },
    )
    assert [r.name for r in load_rules(tmp_path).rules] == ["a"]
    assert check_rules(tmp_path) == []


def test_where_names_file_and_line_of_each_rule(tmp_path: Path) -> None:
    """Each rule knows the file and the line of its [[rule]] header, for reasons and errors."""
    text = '# comment\n\n[[rule]]\nname = "a"\n\n# another\n[[rule]]\nname = "b"\n'
    rules = load_rules(write_rules(tmp_path, {"10-x.toml": text})).rules
    assert [r.where for r in rules] == ["10-x.toml:3", "10-x.toml:7"]


def test_load_returns_the_folder(tmp_path: Path) -> None:
    """The rule set remembers the folder it was read from."""
    write_rules(tmp_path, {"a.toml": '[[rule]]\nname = "a"\n'})
    assert load_rules(tmp_path).directory == tmp_path


# --- digest --------------------------------------------------------------------------------------


def test_digest_is_stable_and_changes_with_any_edit(tmp_path: Path) -> None:
    """The same files give the same digest; editing, adding or renaming a file changes it."""
    write_rules(tmp_path, {"10-a.toml": '[[rule]]\nname = "a"\nsubject_any = ["x"]\n'})
    first = load_rules(tmp_path).digest
    assert load_rules(tmp_path).digest == first
    assert first

    write_rules(tmp_path, {"10-a.toml": '[[rule]]\nname = "a"\nsubject_any = ["y"]\n'})
    edited = load_rules(tmp_path).digest
    assert edited != first

    write_rules(tmp_path, {"20-b.toml": '[[rule]]\nname = "b"\n'})
    added = load_rules(tmp_path).digest
    assert added not in (first, edited)

    (tmp_path / "20-b.toml").rename(tmp_path / "30-b.toml")
    renamed = load_rules(tmp_path).digest
    assert renamed not in (first, edited, added)


def test_digest_changes_with_a_comment_only_edit(tmp_path: Path) -> None:
    """Any change to a file's text changes the digest, even a comment."""
    write_rules(tmp_path, {"10-a.toml": '[[rule]]\nname = "a"\n'})
    before = load_rules(tmp_path).digest
    write_rules(tmp_path, {"10-a.toml": '# new comment\n[[rule]]\nname = "a"\n'})
    assert load_rules(tmp_path).digest != before


def test_same_files_in_two_folders_have_the_same_digest(tmp_path: Path) -> None:
    """The digest depends on the files' names and texts, not on where the folder is."""
    files = {"10-a.toml": '[[rule]]\nname = "a"\n', "20-b.toml": '[[rule]]\nname = "b"\n'}
    one = load_rules(write_rules(tmp_path / "one", files)).digest
    two = load_rules(write_rules(tmp_path / "two", files)).digest
    assert one == two


# --- the packaged defaults -----------------------------------------------------------------------


def test_packaged_rules_load_without_problems() -> None:
    """The rules maild ships (maild.resources.packaged("rules")) are valid as they are."""
    folder = packaged("rules")
    assert check_rules(folder) == []
    assert check_rules(folder, {}) == []
    assert check_rules(folder, OWNERS) == []
    ruleset = load_rules(folder, OWNERS)
    assert len(ruleset.rules) > 10
    assert ruleset.rules[0].name == "auto-submitted"
    files = [rule.where.split(":")[0] for rule in ruleset.rules]
    assert files == sorted(files)
    assert "90-urgency.toml" in files


# --- every problem has a file, a line and a key --------------------------------------------------


def assert_at(problem: ConfigError, path: Path, line: int, key: str) -> None:
    """``problem`` is reported at ``path``:``line`` under ``key``."""
    assert problem.path == path, problem
    assert problem.line == line, problem
    assert problem.key == key, problem
    assert str(path) in str(problem)
    assert f":{line}" in str(problem)


def test_unknown_key_is_reported_at_its_line(tmp_path: Path) -> None:
    """A misspelt condition (subjet_any) is an error with the file, its line and its key."""
    text = '[[rule]]\nname = "a"\ncategory = "x"\n\n[[rule]]\nname = "b"\nsubjet_any = ["x"]\n'
    problem = only_problem(tmp_path, text)
    assert_at(problem, tmp_path / "10-rules.toml", 7, "rule[1].subjet_any")
    assert "unknown key" in problem.problem


def test_unknown_top_level_key_is_reported(tmp_path: Path) -> None:
    """A key outside any [[rule]] table is unknown too, not silently ignored."""
    text = 'rulez = 1\n[[rule]]\nname = "a"\n'
    problem = only_problem(tmp_path, text)
    assert_at(problem, tmp_path / "10-rules.toml", 1, "rulez")
    assert "unknown key" in problem.problem


def test_single_bracket_rule_table_is_an_error(tmp_path: Path) -> None:
    """`[rule]` instead of `[[rule]]` is reported, saying the array-of-tables form is needed."""
    problem = only_problem(tmp_path, '[rule]\nname = "a"\n')
    assert problem.path == tmp_path / "10-rules.toml"
    assert problem.line == 1
    assert problem.key == "rule"
    assert "[[rule]]" in problem.problem


@pytest.mark.parametrize("key", ["subject_regex", "body_regex", "text_regex"])
def test_bad_regular_expression_is_reported(tmp_path: Path, key: str) -> None:
    """A regular expression that does not compile is an error naming the pattern and its key."""
    text = f'[[rule]]\nname = "a"\ncategory = "x"\n{key} = \'(?P<id>\\d+\'\n'
    problem = only_problem(tmp_path, text)
    assert_at(problem, tmp_path / "10-rules.toml", 4, f"rule[0].{key}")
    assert "regular expression" in problem.problem
    assert "(?P<id>" in problem.problem


def test_unknown_priority_is_reported_with_the_allowed_ones(tmp_path: Path) -> None:
    """`priority = "critical"` is an error that lists urgent, high, normal and low."""
    problem = only_problem(tmp_path, '[[rule]]\nname = "a"\npriority = "critical"\n')
    assert_at(problem, tmp_path / "10-rules.toml", 3, "rule[0].priority")
    for word in ("critical", "urgent", "high", "normal", "low"):
        assert word in problem.problem


def test_priority_is_case_sensitive(tmp_path: Path) -> None:
    """Priorities are written in lower case; `High` is reported rather than guessed at."""
    problem = only_problem(tmp_path, '[[rule]]\nname = "a"\npriority = "High"\n')
    assert problem.key == "rule[0].priority"


def test_owner_not_in_owners_is_reported_when_owners_are_given(tmp_path: Path) -> None:
    """An owner that is neither an address nor an [owners] name is an error at its line."""
    text = '[[rule]]\nname = "a"\ncategory = "x"\nowner = "bob"\n'
    problem = only_problem(tmp_path, text, OWNERS)
    assert_at(problem, tmp_path / "10-rules.toml", 4, "rule[0].owner")
    assert "bob" in problem.problem
    assert "[owners]" in problem.problem


def test_owner_name_is_accepted_when_owners_are_unknown(tmp_path: Path) -> None:
    """Without an [owners] table to check against (owners=None), any owner name is accepted."""
    folder = write_rules(tmp_path, {"10-a.toml": '[[rule]]\nname = "a"\nowner = "bob"\n'})
    assert check_rules(folder, None) == []
    assert load_rules(folder).rules[0].owner == "bob"


def test_owner_name_rejected_by_an_empty_owners_table(tmp_path: Path) -> None:
    """An empty [owners] table is still a table: a name not in it is an error."""
    problem = only_problem(tmp_path, '[[rule]]\nname = "a"\nowner = "lina"\n', {})
    assert problem.key == "rule[0].owner"


@pytest.mark.parametrize(
    "owner", ["lina", "wei", "someone@example.com", "Some One <someone@example.com>"]
)
def test_owner_names_and_addresses_are_accepted(tmp_path: Path, owner: str) -> None:
    """An [owners] name, a bare address and a "Name <address>" are all valid owners."""
    folder = write_rules(tmp_path, {"10-a.toml": f'[[rule]]\nname = "a"\nowner = "{owner}"\n'})
    assert check_rules(folder, OWNERS) == []


def test_duplicate_rule_names_across_files_name_both_places(tmp_path: Path) -> None:
    """A name used in two files is an error at the second use that names the first one."""
    problems = problems_of(
        tmp_path,
        {
            "10-first.toml": '[[rule]]\nname = "other"\n\n[[rule]]\nname = "refund"\n',
            "20-second.toml": '# more\n[[rule]]\nname = "refund"\ncategory = "billing"\n',
        },
    )
    assert len(problems) == 1, problems
    (problem,) = problems
    assert problem.path == tmp_path / "20-second.toml"
    assert problem.line in (2, 3)
    assert problem.key.endswith("name")
    assert "refund" in problem.problem
    assert "10-first.toml:4" in problem.problem


def test_duplicate_rule_names_in_one_file(tmp_path: Path) -> None:
    """A name used twice in one file is reported at the second rule."""
    text = '[[rule]]\nname = "a"\n[[rule]]\nname = "b"\n[[rule]]\nname = "a"\n'
    problem = only_problem(tmp_path, text)
    assert problem.path == tmp_path / "10-rules.toml"
    assert problem.line in (5, 6)
    assert "10-rules.toml:1" in problem.problem


def test_rule_after_a_conditionless_stop_rule_can_never_run(tmp_path: Path) -> None:
    """Every rule after a rule with no conditions and `stop = true` is reported, in any file."""
    problems = problems_of(
        tmp_path,
        {
            "10-a.toml": (
                '[[rule]]\nname = "first"\nsubject_any = ["x"]\nstop = true\n'
                '[[rule]]\nname = "catch-all"\ncategory = "other"\nstop = true\n'
                '[[rule]]\nname = "dead"\ncategory = "x"\n'
            ),
            "20-b.toml": '[[rule]]\nname = "dead-too"\nsubject_any = ["y"]\n',
        },
    )
    assert [(p.path, p.line) for p in problems] == [
        (tmp_path / "10-a.toml", 9),
        (tmp_path / "20-b.toml", 1),
    ]
    for problem, dead in zip(problems, ("dead", "dead-too"), strict=True):
        assert dead in problem.problem
        assert "catch-all" in problem.problem
        assert "never run" in problem.problem
        assert "10-a.toml:5" in problem.problem


def test_stop_rule_with_a_condition_does_not_hide_later_rules(tmp_path: Path) -> None:
    """A `stop` rule with any condition, even a false flag, leaves later rules reachable."""
    text = (
        '[[rule]]\nname = "a"\nhas_attachment = false\nstop = true\n'
        '[[rule]]\nname = "b"\nweekdays = ["sun"]\nstop = true\n'
        '[[rule]]\nname = "c"\ncategory = "x"\n'
    )
    assert problems_of(tmp_path, {"10-a.toml": text}) == []


def test_conditionless_rule_without_stop_does_not_hide_later_rules(tmp_path: Path) -> None:
    """A rule matching every message but not stopping is fine (e.g. a default tag)."""
    text = '[[rule]]\nname = "all"\ntags = ["seen"]\n[[rule]]\nname = "b"\ncategory = "x"\n'
    assert problems_of(tmp_path, {"10-a.toml": text}) == []


def test_last_rule_may_be_a_conditionless_stop(tmp_path: Path) -> None:
    """A catch-all stop rule at the very end hides nothing and is valid."""
    text = '[[rule]]\nname = "a"\nsubject_any = ["x"]\n[[rule]]\nname = "rest"\nstop = true\n'
    assert problems_of(tmp_path, {"10-a.toml": text}) == []


@pytest.mark.parametrize(
    ("line", "key", "words"),
    [
        ("subject_any = 5", "subject_any", "list"),
        ('subject_any = ["ok", 5]', "subject_any", "list"),
        ('body_all = [""]', "body_all", "non-empty"),
        ('text_any = ["  "]', "text_any", "non-empty"),
        ("from_domain = [1]", "from_domain", "list"),
        ('from_address = ["not an address"]', "from_address", "not an email address"),
        ('to_address = "billing"', "to_address", "not an email address"),
        ('has_attachment = "yes"', "has_attachment", "true or false"),
        ("is_reply = 1", "is_reply", "true or false"),
        ('stop = "true"', "stop", "true or false"),
        ('raise_priority = "yes"', "raise_priority", "true or false"),
        ("priority = 3", "priority", "string"),
        ("category = 3", "category", "string"),
        ('category = "Technical Support"', "category", "lower-case"),
        ("hours = 9", "hours", "string"),
        ("subject_regex = ['a']", "subject_regex", "string"),
    ],
)
def test_wrong_types_are_reported(tmp_path: Path, line: str, key: str, words: str) -> None:
    """A value of the wrong type is an error at its line naming the key and the expected type."""
    text = f'[[rule]]\nname = "a"\n{line}\n'
    problems = problems_of(tmp_path, {"10-rules.toml": text})
    assert len(problems) == 1, problems
    assert_at(problems[0], tmp_path / "10-rules.toml", 3, f"rule[0].{key}")
    assert words in problems[0].problem


def test_single_strings_are_one_item_lists(tmp_path: Path) -> None:
    """`from_address`, keywords and tags may be one string instead of a list of one."""
    text = '[[rule]]\nname = "a"\nfrom_address = "a@b.example"\nsubject_any = "x"\ntags = "t"\n'
    (rule,) = load_rules(write_rules(tmp_path, {"a.toml": text})).rules
    assert (rule.from_address, rule.subject_any, rule.tags) == (
        frozenset({"a@b.example"}),
        ("x",),
        ("t",),
    )


@pytest.mark.parametrize(
    "hours", ["25:00-01:00", "09:00-24:30", "9-18", "09:60-10:00", "09:00", "09:00-09:00", ""]
)
def test_bad_hours_are_reported(tmp_path: Path, hours: str) -> None:
    """An `hours` window that is not HH:MM-HH:MM within a day is an error at its line."""
    problem = only_problem(tmp_path, f'[[rule]]\nname = "a"\nhours = "{hours}"\n')
    assert_at(problem, tmp_path / "10-rules.toml", 3, "rule[0].hours")


@pytest.mark.parametrize(
    "hours", ["18:00-09:00", "00:00-24:00", "9:00-18:00", "２２：００－０６：００"]
)
def test_good_hours_are_accepted(tmp_path: Path, hours: str) -> None:
    """Wrapping, whole-day, one-digit-hour and full-width windows are valid."""
    folder = write_rules(tmp_path, {"a.toml": f'[[rule]]\nname = "a"\nhours = "{hours}"\n'})
    assert check_rules(folder) == []


@pytest.mark.parametrize("weekdays", ['["funday"]', '["mon", "tues"]', '["周六"]', "3"])
def test_bad_weekdays_are_reported(tmp_path: Path, weekdays: str) -> None:
    """Unknown day names, and a value that is not a list of names, are errors."""
    problem = only_problem(tmp_path, f'[[rule]]\nname = "a"\nweekdays = {weekdays}\n')
    assert_at(problem, tmp_path / "10-rules.toml", 3, "rule[0].weekdays")


def test_weekdays_accept_short_and_full_names_in_any_case(tmp_path: Path) -> None:
    """`mon` … `sun`, full names and any letter case are all day names."""
    text = '[[rule]]\nname = "a"\nweekdays = ["Mon", "TUESDAY", "sun"]\n'
    (rule,) = load_rules(write_rules(tmp_path, {"a.toml": text})).rules
    assert rule.weekdays == frozenset({0, 1, 6})


@pytest.mark.parametrize("language", ['["fr"]', '["zh", "EN"]', '["chinese"]', '"jp"'])
def test_bad_language_is_reported(tmp_path: Path, language: str) -> None:
    """Languages are zh, en or other; anything else is an error naming the allowed ones."""
    problem = only_problem(tmp_path, f'[[rule]]\nname = "a"\nlanguage = {language}\n')
    assert_at(problem, tmp_path / "10-rules.toml", 3, "rule[0].language")
    assert "zh" in problem.problem


def test_missing_name_is_reported_at_the_rule(tmp_path: Path) -> None:
    """A rule without `name` is an error pointing at its [[rule]] header."""
    text = '[[rule]]\nname = "a"\n\n[[rule]]\ncategory = "x"\n'
    problem = only_problem(tmp_path, text)
    assert problem.path == tmp_path / "10-rules.toml"
    assert problem.line == 4
    assert problem.key == "rule[1].name"
    assert "required" in problem.problem


def test_invalid_toml_syntax_is_reported_with_its_line(tmp_path: Path) -> None:
    """A file that is not valid TOML is reported with the line where the syntax breaks."""
    text = '[[rule]]\nname = "a"\n\n[[rule]]\nname = "b\ncategory = "x"\n'
    problem = only_problem(tmp_path, text)
    assert problem.path == tmp_path / "10-rules.toml"
    assert problem.line == 5
    assert "TOML" in problem.problem


def test_invalid_toml_at_end_of_file_still_has_a_line(tmp_path: Path) -> None:
    """A syntax error found only at the end of the file (an unclosed list) still has a line."""
    text = '[[rule]]\nname = "a"\nsubject_any = [\n  "x",\n'
    problem = only_problem(tmp_path, text)
    assert problem.path == tmp_path / "10-rules.toml"
    assert "TOML" in problem.problem
    assert problem.line is not None
    assert 3 <= problem.line <= 5


def test_file_that_is_not_utf8_is_reported(tmp_path: Path) -> None:
    """A rule file saved in GBK is an error naming the file, not a crash."""
    (tmp_path / "10-gbk.toml").write_bytes(
        '[[rule]]\nname = "a"\nsubject_any = ["发票"]\n'.encode("gbk")
    )
    problems = check_rules(tmp_path)
    assert len(problems) == 1
    assert problems[0].path == tmp_path / "10-gbk.toml"


def test_empty_folder_is_an_error(tmp_path: Path) -> None:
    """A folder without any *.toml file is an error naming the folder."""
    (tmp_path / "README.md").write_text("no rules here\n")
    problems = check_rules(tmp_path)
    assert len(problems) == 1
    assert problems[0].path == tmp_path
    assert "no *.toml" in problems[0].problem
    with pytest.raises(RulesError):
        load_rules(tmp_path)


def test_missing_folder_is_an_error(tmp_path: Path) -> None:
    """A rules_dir that does not exist is an error naming it, not an empty rule set."""
    missing = tmp_path / "nope"
    problems = check_rules(missing)
    assert len(problems) == 1
    assert problems[0].path == missing
    assert "does not exist" in problems[0].problem
    with pytest.raises(RulesError) as caught:
        load_rules(missing)
    assert str(missing) in str(caught.value)


def test_file_instead_of_folder_is_an_error(tmp_path: Path) -> None:
    """Pointing rules_dir at a file is reported like a missing folder."""
    single = tmp_path / "10-a.toml"
    single.write_text('[[rule]]\nname = "a"\n')
    assert len(check_rules(single)) == 1


# --- all problems at once ------------------------------------------------------------------------

BROKEN_FILES = {
    "10-a.toml": (
        '[[rule]]\nname = "a"\nsubjet_any = ["x"]\n'  # line 3: unknown key
        '[[rule]]\nname = "b"\npriority = "critical"\n'  # line 6: unknown priority
        '[[rule]]\nname = "c"\nbody_regex = "(x"\n'  # line 9: bad regex
        '[[rule]]\nname = "ok"\ncategory = "x"\n'  # line 10: valid
    ),
    "20-b.toml": '[[rule]]\nname = "d"\nhours = "25:00-01:00"\n',  # line 3
    "30-c.toml": '[[rule]]\nname = "e\n',  # line 2: syntax
    "40-d.toml": (
        '[[rule]]\nname = "f"\nowner = "bob"\n'  # line 3: unknown owner
        '[[rule]]\nname = "g"\nlanguage = ["fr"]\n'  # line 6: bad language
        '[[rule]]\nname = "h"\nweekdays = ["xyz"]\n'  # line 9: bad weekday
        '[[rule]]\nname = "ok"\n'  # line 10: duplicate of 10-a.toml's "ok"; matches all, stops:
        "stop = true\n"
        '[[rule]]\nname = "i"\ncategory = "x"\n'  # line 13: can never run
    ),
}


def test_check_rules_lists_every_problem_in_every_file(tmp_path: Path) -> None:
    """check_rules reports all problems across files, in file and line order, not just the first."""
    problems = problems_of(tmp_path, BROKEN_FILES)
    found = [(p.path.name if p.path else None, p.line, p.key) for p in problems]
    assert found[:8] == [
        ("10-a.toml", 3, "rule[0].subjet_any"),
        ("10-a.toml", 6, "rule[1].priority"),
        ("10-a.toml", 9, "rule[2].body_regex"),
        ("20-b.toml", 3, "rule[0].hours"),
        ("30-c.toml", 2, ""),
        ("40-d.toml", 3, "rule[0].owner"),
        ("40-d.toml", 6, "rule[1].language"),
        ("40-d.toml", 9, "rule[2].weekdays"),
    ]
    assert [(name, line) for name, line, _ in found[8:]] == [("40-d.toml", 10), ("40-d.toml", 13)]
    assert "10-a.toml:10" in problems[8].problem
    assert "never run" in problems[9].problem
    assert all(p.path is not None and p.line is not None for p in problems)


def test_one_bad_rule_does_not_hide_problems_of_the_next_rules(tmp_path: Path) -> None:
    """Each rule is checked on its own: three bad rules in a row give three problems."""
    text = (
        '[[rule]]\nname = "a"\npriority = "p1"\n'
        '[[rule]]\nname = "b"\npriority = "p2"\n'
        '[[rule]]\nname = "c"\npriority = "p3"\n'
    )
    problems = problems_of(tmp_path, {"10-a.toml": text})
    assert [p.line for p in problems] == [3, 6, 9]


def test_load_rules_raises_rules_error_with_every_problem(tmp_path: Path) -> None:
    """load_rules raises RulesError whose `.problems` are exactly what check_rules lists."""
    write_rules(tmp_path, BROKEN_FILES)
    expected = check_rules(tmp_path, OWNERS)
    with pytest.raises(RulesError) as caught:
        load_rules(tmp_path, OWNERS)
    error = caught.value
    assert isinstance(error.problems, tuple)
    assert [str(p) for p in error.problems] == [str(p) for p in expected]
    assert all(isinstance(p, ConfigError) for p in error.problems)
    message = str(error)
    assert f"{len(expected)} problem" in message
    for problem in expected:
        assert str(problem) in message


def test_problem_text_names_file_line_and_key(tmp_path: Path) -> None:
    """A problem's text reads `file:line: key: problem`, ready to print for a person."""
    problem = only_problem(tmp_path, '[[rule]]\nname = "a"\nsubjet_any = ["x"]\n')
    assert str(problem).startswith(f"{tmp_path / '10-rules.toml'}:3: rule[0].subjet_any: ")


def test_check_rules_is_empty_for_valid_files(tmp_path: Path) -> None:
    """A valid folder has no problems, and load_rules does not raise for it."""
    folder = write_rules(
        tmp_path,
        {
            "10-a.toml": '[[rule]]\nname = "a"\nsubject_any = ["x"]\ncategory = "c"\n',
            "20-b.toml": "# only comments\n",
        },
    )
    assert check_rules(folder, OWNERS) == []
    assert [r.name for r in load_rules(folder, OWNERS).rules] == ["a"]


def test_every_problem_of_one_rule_is_reported(tmp_path: Path) -> None:
    """A rule with two independent mistakes gets both reported in one check, not one per run."""
    text = '[[rule]]\nname = "a"\npriority = "critical"\nsubjet_any = ["x"]\n'
    problems = problems_of(tmp_path, {"10-rules.toml": text})
    assert sorted(p.key for p in problems) == ["rule[0].priority", "rule[0].subjet_any"]


@pytest.mark.parametrize("keyword", ["\\u200b", "\\u00ad", "\\ufeff\\u200b"])
def test_keyword_that_normalises_to_nothing_is_reported(tmp_path: Path, keyword: str) -> None:
    """A keyword of only invisible characters could never match, so loading reports it."""
    problem = only_problem(tmp_path, f'[[rule]]\nname = "a"\nsubject_any = ["ok", "{keyword}"]\n')
    assert_at(problem, tmp_path / "10-rules.toml", 3, "rule[0].subject_any")


@pytest.mark.parametrize("domain", ["@", ".", "@."])
def test_empty_from_domain_is_reported(tmp_path: Path, domain: str) -> None:
    """A from_domain that is empty once `@` and dots are removed is an error, not a wildcard."""
    problem = only_problem(tmp_path, f'[[rule]]\nname = "a"\nfrom_domain = ["{domain}"]\n')
    assert_at(problem, tmp_path / "10-rules.toml", 3, "rule[0].from_domain")
