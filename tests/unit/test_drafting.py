"""The draft stage's pure decisions and the messages we build: language, values, subject,
threading headers and encodings."""

from __future__ import annotations

import email
import email.policy
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage
from pathlib import Path

import pytest

from maild import resources
from maild.drafting import (
    ReplyFacts,
    agent_name,
    draft_reply,
    format_duration,
    reply_context,
    reply_languages,
    reply_subject,
)
from maild.outgoing import build_message, references_for
from maild.templating import TemplateSet

FACTS = ReplyFacts(
    ticket_number="CS20261124-0001",
    ticket_subject="回复：无法登录",
    category="technical",
    priority="high",
    customer_name="Zhang, Wei",
    customer_address="zhang.wei@example.cn",
    customer_language="zh",
    mailbox_name="support",
    mailbox_address="support@example.com",
    mailbox_language="en",
    agent_name="Li Na",
    signature=None,
    response_target=timedelta(hours=4),
    captures={"order_id": "88231", "customer": "not allowed to shadow"},
)


def test_the_customer_language_comes_first_then_the_mailbox_then_english() -> None:
    assert reply_languages(FACTS) == ("zh", "en")
    assert reply_languages(replace(FACTS, customer_language="other")) == ("en",)
    assert reply_languages(replace(FACTS, customer_language=None, mailbox_language="zh")) == (
        "zh",
        "en",
    )


def test_context_has_every_documented_placeholder() -> None:
    context = reply_context(FACTS, "en")
    assert context["customer"]["first_name"] == "Wei"
    assert context["customer"]["email"] == "zhang.wei@example.cn"
    assert context["greeting"]
    assert context["ticket"]["number"] == "CS20261124-0001"
    assert context["response_target"] == "4 hours"
    assert reply_context(FACTS, "zh")["response_target"] == "4 小时"
    assert context["agent"]["name"] == "Li Na"
    assert context["agent"]["signature"] == "Li Na\nsupport@example.com"
    assert context["mailbox"]["address"] == "support@example.com"
    assert context["order_id"] == "88231"
    assert context["captures"]["order_id"] == "88231"
    assert context["customer"]["name"] == "Wei Zhang"  # a capture cannot replace a namespace


@pytest.mark.parametrize(
    ("original", "expected"),
    [
        ("无法登录", "Re: 无法登录 [CS20261124-0001]"),
        ("回复：无法登录", "Re: 无法登录 [CS20261124-0001]"),
        ("RE: AW: Re: Invoice", "Re: Invoice [CS20261124-0001]"),
        ("Re: Invoice [CS20261124-0001]", "Re: Invoice [CS20261124-0001]"),
        ("【CS20261124-0001】 Invoice", "Re: Invoice [CS20261124-0001]"),
        ("", "Re: [CS20261124-0001]"),
    ],
)
def test_reply_subject_has_one_re_and_the_number_once(original: str, expected: str) -> None:
    assert reply_subject(original, "CS20261124-0001") == expected


@pytest.mark.parametrize(
    ("span", "en", "zh"),
    [
        (timedelta(hours=1), "1 hour", "1 小时"),
        (timedelta(hours=4), "4 hours", "4 小时"),
        (timedelta(hours=72), "3 days", "3 天"),
        (timedelta(minutes=30), "30 minutes", "30 分钟"),
    ],
)
def test_response_targets_read_as_people_say_them(span: timedelta, en: str, zh: str) -> None:
    assert (format_duration(span, "en"), format_duration(span, "zh")) == (en, zh)


def test_a_business_hours_target_says_so() -> None:
    business = replace(FACTS, business_hours=True)
    assert reply_context(business, "en")["response_target"] == "4 business hours"
    assert reply_context(business, "zh")["response_target"] == "4 个工作小时"


def test_the_agent_is_the_assignee_else_the_named_owner() -> None:
    assert agent_name("Wang Fang <wang.fang@example.com>", "Li Na <li.na@x>") == "Wang Fang"
    assert agent_name(None, "Li Na <li.na@example.com>") == "Li Na"
    assert agent_name(None, "li.na@example.com") == "li.na"
    assert agent_name(None, None) is None


def test_every_packaged_template_renders_for_every_category_and_language() -> None:
    """The shipped templates compile, and a full context leaves only `answer` (the agent's own
    words, by design) missing; an empty one shows markers, never blanks."""
    templates = TemplateSet(resources.packaged("templates"))
    assert templates.check() == []
    for category in ("billing", "complaint", "inquiry", "product", "suggestion", "technical"):
        for language in ("en", "zh"):
            facts = replace(FACTS, category=category, customer_language=language)
            draft = draft_reply(templates, facts)
            assert draft.template == f"replies/{category}.{language}.txt.j2"
            assert set(draft.missing) <= {"answer"}, (draft.template, draft.missing)
            assert "CS20261124-0001" in draft.text
    for language in ("en", "zh"):
        ack = templates.render(f"ack.{language}.txt.j2", reply_context(FACTS, language))
        assert ack.missing == () and "CS20261124-0001" in ack.text


def test_references_keep_the_root_and_the_latest() -> None:
    chain = [f"<m{i}@x>" for i in range(30)]
    refs = references_for("<parent@x>", chain)
    assert refs[0] == "<m0@x>" and refs[-1] == "<parent@x>" and len(refs) == 20
    assert references_for("<p@x>", []) == ["<p@x>"]
    assert references_for(None, ["<a@x>", "<a@x>"]) == ["<a@x>"]


def test_built_message_threads_and_survives_chinese() -> None:
    mail = build_message(
        from_address="support@example.com",
        from_name="客服中心",
        to_address="zhang.wei@example.cn",
        to_name="张伟",
        subject="Re: 无法登录 [CS20261124-0001]",
        text="张伟，您好！\n我们已收到您的来信。\n",
        html="<p>张伟，您好！</p>",
        in_reply_to="<a@customer>",
        references=["<root@customer>", "<a@customer>"],
        date=datetime(2026, 11, 24, 10, 0, tzinfo=UTC),
        auto_submitted="auto-replied",
    )
    assert mail.raw.isascii()  # RFC 2047 headers, quoted-printable bodies: 7-bit clean
    parsed = email.message_from_bytes(mail.raw, policy=email.policy.default)
    assert isinstance(parsed, EmailMessage)
    assert parsed["Subject"] == "Re: 无法登录 [CS20261124-0001]"
    assert parsed["From"].addresses[0].display_name == "客服中心"
    assert parsed["To"].addresses[0].addr_spec == "zhang.wei@example.cn"
    assert parsed["Message-ID"] == mail.message_id and mail.message_id.endswith("@example.com>")
    assert parsed["In-Reply-To"] == "<a@customer>"
    assert parsed["References"] == "<root@customer> <a@customer>"
    assert parsed["Auto-Submitted"] == "auto-replied"
    assert parsed["Date"]
    assert parsed.get_content_type() == "multipart/alternative"
    text = parsed.get_body(("plain",))
    html = parsed.get_body(("html",))
    assert text is not None and "我们已收到您的来信" in text.get_content()
    assert html is not None and "张伟" in html.get_content()


def test_templates_folder_is_packaged_with_a_readme() -> None:
    assert Path(resources.packaged("templates"), "README.md").is_file()
