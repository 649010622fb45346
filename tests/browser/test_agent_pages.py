"""An agent's day in a real browser: the queue, a draft edited and approved, the reply sent by
`maild send --once` arriving at a real SMTP server; approval refused while a placeholder is
missing; Chinese mail and the Chinese interface."""

from __future__ import annotations

from tests.browser.conftest import AGENT, OpenPage, Site

ANSWER = "Please clear the app's saved password and sign in again; we fixed the login server."


def test_agent_edits_and_approves_a_draft_and_the_reply_arrives(
    site: Site, open_page: OpenPage
) -> None:
    """Queue → draft → the [[answer]] placeholder replaced → "Save and approve" → the queue
    says approved → `maild send --once` delivers the edited text, threaded under the
    customer's message."""
    page = open_page(AGENT)
    number, draft_id = site.tickets["login"], site.drafts["login"]
    row = page.locator("table.queue tr", has=page.locator(f"a[href='/tickets/{number}']"))
    assert row.count() == 1, "the draft is in the agent's queue"
    assert "Bob Miller" in row.inner_text()
    row.locator(f"a[href='/drafts/{draft_id}']").click()
    page.wait_for_url(f"{site.url}/drafts/{draft_id}")

    # The unresolved placeholder is highlighted in the preview and present in the editor.
    assert page.locator(".preview mark.missing").all_inner_texts() == ["[[answer]]"]
    editor = page.locator("textarea[name=body]")
    text = editor.input_value()
    assert text.count("[[answer]]") == 1
    editor.fill(text.replace("[[answer]]", ANSWER))
    with page.expect_response(f"{site.url}/drafts/{draft_id}/approve") as posted:
        page.locator("button.primary", has_text="Save and approve").click()
    assert posted.value.status == 303
    page.wait_for_url(f"{site.url}/queue")
    assert "Approved" in page.locator("p.flash").inner_text()
    assert page.locator(f"a[href='/drafts/{draft_id}']").count() == 0, "gone from the queue"

    before = len(site.smtp.received)
    site.maild("send", "--once")
    arrived = site.smtp.wait_for(before + 1)
    replies = [m for m in arrived if m.recipients == ("bob@corp.example",)]
    assert len(replies) == 1
    reply = replies[0].message()
    customer_id = "<login@mail.example>"
    assert reply["In-Reply-To"] == customer_id
    assert customer_id in str(reply["References"]).split()
    assert str(reply["Subject"]) == f"Re: Cannot log in since this morning [{number}]"
    body = reply.get_body(("plain",))
    assert body is not None
    content = body.get_content()
    assert ANSWER in content and "[[" not in content

    shown = site.maild_json("drafts", "show", str(draft_id))
    assert shown["status"] == "sent"
    assert shown["decided_by"] == AGENT


def test_approval_is_refused_while_a_placeholder_is_missing(
    site: Site, open_page: OpenPage
) -> None:
    """Approving with [[answer]] still in the text: the page names the placeholder
    (409) and nothing is approved or queued."""
    page = open_page(AGENT)
    draft_id = site.drafts["invoice"]
    page.goto(f"{site.url}/drafts/{draft_id}")
    with page.expect_response(f"{site.url}/drafts/{draft_id}/approve") as posted:
        page.locator("button.primary").click()
    assert posted.value.status == 409
    refusal = page.locator("p.flash.error[role=alert]")
    assert "[[answer]]" in refusal.inner_text()
    assert "placeholders" in refusal.inner_text()
    assert page.locator(".preview mark.missing").count() == 1

    shown = site.maild_json("drafts", "show", str(draft_id))
    assert shown["status"] == "pending"
    assert shown["missing"] == ["answer"]
    assert shown["decided_by"] is None
    queued = site.maild_json("drafts", "list", "--ticket", site.tickets["invoice"])
    assert [d["status"] for d in queued] == ["pending"]


def test_chinese_mail_and_the_chinese_interface_render(site: Site, open_page: OpenPage) -> None:
    """A browser asking for zh gets the interface in Chinese (lang="zh-CN", UTF-8); the
    customer's Chinese subject and both messages of the thread are shown as written."""
    page = open_page(AGENT, locale="zh-CN")
    assert page.locator("nav a[href='/queue']").inner_text() == "待审回复"
    number = site.tickets["zh"]
    response = page.goto(f"{site.url}/tickets/{number}")
    assert response is not None and response.status == 200
    assert "charset=utf-8" in (response.header_value("content-type") or "").lower()
    assert page.evaluate("document.characterSet") == "UTF-8"
    assert page.locator("html").get_attribute("lang") == "zh-CN"
    assert "无法登录" in page.locator("h1").inner_text()
    thread = page.locator("section.thread").inner_text()
    assert "我的账号从今天早上开始无法登录，提示错误 E1234。" in thread
    assert "请问有进展吗？我们整个部门都在等。" in thread
    assert "张伟" in thread
    assert page.locator("section.thread h2").inner_text() == "往来邮件"

    # The draft page shows the Chinese template's text, with the placeholder highlighted.
    page.goto(f"{site.url}/drafts/{site.drafts['zh']}")
    preview = page.locator(".preview").inner_text()
    assert "感谢您的反馈" in preview
    assert page.locator(".preview mark.missing").all_inner_texts() == ["[[answer]]"]
