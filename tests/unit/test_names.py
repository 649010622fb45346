"""Tests for maild.names: how a customer is addressed, from the display name or the address."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from maild.names import NO_NAME, PersonName, greeting, person_name


def latin(full: str, first: str, family: str | None) -> PersonName:
    return PersonName(full, first, family, False)


def han(full: str, first: str | None, family: str | None) -> PersonName:
    return PersonName(full, first, family, True)


@pytest.mark.parametrize(
    ("display", "expected"),
    [
        # The comma form is family, given.
        ("Zhang, Wei", latin("Wei Zhang", "Wei", "Zhang")),
        ("Smith, John", latin("John Smith", "John", "Smith")),
        ("Zhang, Wei Ming", latin("Wei Ming Zhang", "Wei Ming", "Zhang")),
        ("O'BRIEN, PATRICK", latin("Patrick O'Brien", "Patrick", "O'Brien")),
        # Western order.
        ("Wei Zhang", latin("Wei Zhang", "Wei", "Zhang")),
        ("John Smith", latin("John Smith", "John", "Smith")),
        ("Mary Ann Smith", latin("Mary Ann Smith", "Mary", "Smith")),
        ("Jean-Luc Picard", latin("Jean-Luc Picard", "Jean-Luc", "Picard")),
        ("Ludwig van Beethoven", latin("Ludwig van Beethoven", "Ludwig", "van Beethoven")),
        ("Wei", latin("Wei", "Wei", None)),
        # Romanised Chinese written surname first.
        ("Zhang Wei", latin("Zhang Wei", "Wei", "Zhang")),
        ("Li Na", latin("Li Na", "Na", "Li")),
        ("Wang Fang", latin("Wang Fang", "Fang", "Wang")),
        ("Chan Tai Man", latin("Chan Tai Man", "Tai Man", "Chan")),
        ("Tan Wei Ming", latin("Tan Wei Ming", "Wei Ming", "Tan")),
        ("Wong Ka Keung", latin("Wong Ka Keung", "Ka Keung", "Wong")),
        # A Chinese given name before the surname is kept whole.
        ("Wei Ling Tan", latin("Wei Ling Tan", "Wei Ling", "Tan")),
        # One ALL-CAPS token at an end marks the family name.
        ("CHAN Tai Man", latin("Chan Tai Man", "Tai Man", "Chan")),
        ("Wei ZHANG", latin("Wei Zhang", "Wei", "Zhang")),
        ("John SMITH", latin("John Smith", "John", "Smith")),
    ],
)
def test_latin_display_names(display: str, expected: PersonName) -> None:
    assert person_name(display, None) == expected


@pytest.mark.parametrize(
    ("display", "family", "first"),
    [
        ("Wei Zhang", "Zhang", "Wei"),  # zhang is more frequent than wei
        ("Zhang Wei", "Zhang", "Wei"),
        ("Yang Li", "Li", "Yang"),  # li is more frequent than yang, whichever way round
        ("Li Yang", "Li", "Yang"),
        ("Wang Wei", "Wang", "Wei"),
        ("Chen Jing", "Chen", "Jing"),  # jing is no surname
        ("Jing Chen", "Chen", "Jing"),
    ],
)
def test_two_surnames_the_more_frequent_is_the_family_name(
    display: str, family: str, first: str
) -> None:
    name = person_name(display, None)
    assert (name.family, name.first) == (family, first)


@pytest.mark.parametrize(
    ("display", "first", "family"),
    [
        # "Lee" spells 李, but only flips the order before romanised Chinese syllables.
        ("Lee Wei", "Wei", "Lee"),
        ("Lee Chong Wei", "Chong Wei", "Lee"),
        ("Bruce Lee", "Bruce", "Lee"),
        ("Lee Smith", "Lee", "Smith"),
        ("Lee Harvey Oswald", "Lee", "Oswald"),
        ("Lee Ann Womack", "Lee", "Womack"),
        # Other pinyin surnames that are also Western words stay Western before Western names.
        ("Long John Silver", "Long", "Silver"),
        ("Song Harper", "Song", "Harper"),
    ],
)
def test_lee_and_other_ambiguous_surnames(display: str, first: str, family: str) -> None:
    name = person_name(display, None)
    assert (name.first, name.family) == (first, family)


@pytest.mark.parametrize(
    ("display", "expected"),
    [
        ("张伟", han("张伟", "伟", "张")),
        ("王小明", han("王小明", "小明", "王")),
        ("張偉", han("張偉", "偉", "張")),
        ("陳大文", han("陳大文", "大文", "陳")),
        ("欧阳娜娜", han("欧阳娜娜", "娜娜", "欧阳")),
        ("司马相如", han("司马相如", "相如", "司马")),
        ("诸葛亮", han("诸葛亮", "亮", "诸葛")),
        ("上官婉儿", han("上官婉儿", "婉儿", "上官")),
        ("歐陽修", han("歐陽修", "修", "歐陽")),
        ("张 伟", NO_NAME),  # two Han runs: not read as one name
        ("  张伟  ", han("张伟", "伟", "张")),
        ("张伟 (Wei Zhang)", han("张伟", "伟", "张")),
        ("张伟 Wei Zhang", han("张伟", "伟", "张")),
        ("【张伟】", NO_NAME),
        # A surname with an honorific is addressed as written.
        ("张先生", han("张先生", None, "张")),
        ("王女士", han("王女士", None, "王")),
        ("欧阳先生", han("欧阳先生", None, "欧阳")),
        ("张伟先生", han("张伟", "伟", "张")),
        # Japanese and Korean: the full name only.
        ("やまだ たろう", han("やまだ たろう", None, None)),
        ("김민준", han("김민준", None, None)),
    ],
)
def test_cjk_names(display: str, expected: PersonName) -> None:
    assert person_name(display, None) == expected


def test_two_han_runs_fall_back_to_the_address() -> None:
    assert person_name("张 伟", "zhang.wei@example.cn").first == "Wei"


@pytest.mark.parametrize(
    "display",
    [
        "客服部",
        "北京某某科技有限公司",
        "技术支持",
        "张氏贸易",
        "王府井店",
        "财务",  # no known surname
        "小王",  # a nickname, not a name
        "张",  # a surname alone
        "张伟伟伟伟",  # too long
        "阿里巴巴（中国）网络技术有限公司",
        "株式会社やまだ",
        "Acme Support",
        "Customer Service",
        "Support Team",
        "The Widget Company",
        "noreply",
        "Billing",
        "jsmith",  # a lower-case single token is a user name
        "John Smith 2",
        "=?utf-8?b?5byg5Lyf?=",
        "=?GB2312?B?1cXOsA==?=",
        '""',
        "   ",
        "A B C D E",
    ],
)
def test_non_person_display_names(display: str) -> None:
    assert person_name(display, None) == NO_NAME


@pytest.mark.parametrize(
    ("display", "expected"),
    [
        ("zhang.wei@example.cn", latin("Zhang Wei", "Wei", "Zhang")),
        ('"Wei Zhang"', latin("Wei Zhang", "Wei", "Zhang")),
        ("'Wei Zhang'", latin("Wei Zhang", "Wei", "Zhang")),
        ("“Wei Zhang”", latin("Wei Zhang", "Wei", "Zhang")),
        ("ZHANG WEI", latin("Zhang Wei", "Wei", "Zhang")),
        ("JOHN SMITH", latin("John Smith", "John", "Smith")),
        ("john smith", latin("John Smith", "John", "Smith")),
        ("  John \t  Smith ", latin("John Smith", "John", "Smith")),
        ("Dr. John Smith", latin("John Smith", "John", "Smith")),
        ("Mrs Mary Ann Smith", latin("Mary Ann Smith", "Mary", "Smith")),
        ("Prof. Zhang Wei", latin("Zhang Wei", "Wei", "Zhang")),
        ("John Smith, PhD", latin("John Smith", "John", "Smith")),
        ("Smith Jr., John", latin("John Smith", "John", "Smith")),
        ("Smith, John (Sales)", latin("John Smith", "John", "Smith")),
        ("Smith, John [Acme]", latin("John Smith", "John", "Smith")),
        ("Wei Zhang（张伟）", latin("Wei Zhang", "Wei", "Zhang")),
        ("'Wei Zhang' via Support", latin("Wei Zhang", "Wei", "Zhang")),
        ("Wei Zhang | Acme Ltd", latin("Wei Zhang", "Wei", "Zhang")),
        ("Wei Zhang - Acme Corp", latin("Wei Zhang", "Wei", "Zhang")),
        ("Acme Support / Wei Zhang", latin("Wei Zhang", "Wei", "Zhang")),
        ("ＺＨＡＮＧ　ＷＥＩ", latin("Zhang Wei", "Wei", "Zhang")),  # full-width letters
        ("zhang.wei", latin("Zhang Wei", "Wei", "Zhang")),  # a local part as display name
        ("Wei Zhang wei@example.cn", latin("Wei Zhang", "Wei", "Zhang")),
        ("José Álvarez", latin("José Álvarez", "José", "Álvarez")),
        ("McDonald, Ronald", latin("Ronald McDonald", "Ronald", "McDonald")),
    ],
)
def test_display_name_cleanup(display: str, expected: PersonName) -> None:
    assert person_name(display, "someone@example.com") == expected


@pytest.mark.parametrize(
    ("address", "expected"),
    [
        ("zhang.wei@example.cn", latin("Zhang Wei", "Wei", "Zhang")),
        ("john.smith@example.com", latin("John Smith", "John", "Smith")),
        ("wei.zhang88@163.com", latin("Wei Zhang", "Wei", "Zhang")),
        ("zhang_wei_1990@126.com", latin("Zhang Wei", "Wei", "Zhang")),
        ("li-na@example.cn", latin("Li Na", "Na", "Li")),
        ("John.Smith@Example.com", latin("John Smith", "John", "Smith")),
        ("john.a.smith@example.com", latin("John Smith", "John", "Smith")),
        ("john.smith+orders@example.com", latin("John Smith", "John", "Smith")),
        ("john.de.souza@example.com", latin("John de Souza", "John", "de Souza")),
        ("Wei Zhang <wei.zhang@example.cn>", latin("Wei Zhang", "Wei", "Zhang")),
    ],
)
def test_name_from_the_address(address: str, expected: PersonName) -> None:
    assert person_name(None, address) == expected
    assert person_name("", address) == expected


@pytest.mark.parametrize(
    "address",
    [
        "jsmith@example.com",
        "zhangwei@example.cn",
        "info@example.com",
        "support@example.com",
        "noreply@example.com",
        "no-reply@example.com",
        "do-not-reply@example.com",
        "service@example.com",
        "sales@example.com",
        "admin@example.com",
        "customer.service@example.com",
        "kefu@example.cn",
        "12345678@qq.com",
        "1234567890@qq.com",
        "j.smith@example.com",
        "w3i.zhang@example.cn",
        "a.b.c.d@example.com",
        "张伟@example.cn",
        "",
        "@example.com",
    ],
)
def test_addresses_without_a_name(address: str) -> None:
    assert person_name(None, address) == NO_NAME


def test_the_display_name_wins_over_the_address() -> None:
    assert person_name("张伟", "john.smith@example.com") == han("张伟", "伟", "张")
    assert person_name("Customer Service", "john.smith@example.com").first == "John"
    assert person_name("客服部", "zhang.wei@example.cn").first == "Wei"
    assert person_name(None, None) == NO_NAME


@pytest.mark.parametrize(
    ("name", "en", "zh"),
    [
        (latin("Wei Zhang", "Wei", "Zhang"), "Hi Wei,", "Wei，您好！"),
        (latin("Chan Tai Man", "Tai Man", "Chan"), "Hi Tai Man,", "Tai Man，您好！"),
        (han("张伟", "伟", "张"), "Dear 张伟,", "张伟，您好！"),
        (han("张先生", None, "张"), "Dear 张先生,", "张先生，您好！"),
        (han("김민준", None, None), "Dear 김민준,", "김민준，您好！"),
        (NO_NAME, "Hello,", "您好！"),
        (PersonName("J. Smith", None, "Smith", False), "Hello,", "您好！"),
    ],
)
def test_greeting(name: PersonName, en: str, zh: str) -> None:
    assert greeting(name, "en") == en
    assert greeting(name, "zh") == zh


@pytest.mark.parametrize(("language", "expected"), [("zh-CN", "您好！"), ("ZH", "您好！")])
def test_greeting_language_variants(language: str, expected: str) -> None:
    assert greeting(NO_NAME, language) == expected


@pytest.mark.parametrize("language", ["fr", "", "en-GB", "de"])
def test_greeting_other_languages_are_english(language: str) -> None:
    assert greeting(person_name("Wei Zhang", None), language) == "Hi Wei,"


def test_greeting_end_to_end() -> None:
    assert greeting(person_name("张伟", None), "zh") == "张伟，您好！"
    assert greeting(person_name(None, "zhang.wei@example.cn"), "en") == "Hi Wei,"
    assert greeting(person_name("Support", "info@example.com"), "zh") == "您好！"


@given(st.one_of(st.none(), st.text(max_size=60)), st.one_of(st.none(), st.text(max_size=60)))
def test_any_input_gives_a_consistent_name_and_a_greeting(
    display: str | None, address: str | None
) -> None:
    name = person_name(display, address)
    if name.full is None:
        assert name == NO_NAME
    else:
        assert name.full == name.full.strip() and name.full
        assert "\n" not in name.full and "@" not in name.full
        for part in (name.first, name.family):
            assert part is None or part in name.full
    for language in ("en", "zh", "xx"):
        text = greeting(name, language)
        assert text and text == text.strip()


@given(st.text(alphabet="abcdefghijklmnopqrstuvwxyz._-0123456789", max_size=30))
def test_local_parts_give_title_cased_latin_names(local: str) -> None:
    name = person_name(None, f"{local}@example.com")
    if name.full is not None:
        assert not name.cjk
        particles = {"van", "von", "de", "der", "den", "da", "di", "del", "della", "du", "la", "le"}
        assert all(word[:1].isupper() or word in particles for word in name.full.split())
