"""The agents' pages over real polled mail: the queue, a ticket, its originals and files, the
draft editor and the ticket actions (SQLite and PostgreSQL where the queries matter)."""

from __future__ import annotations

import email
import email.policy
import re
from email.message import EmailMessage
from typing import Any

from sqlalchemy import select

from maild.store.models import OutgoingMessage, Ticket
from tests.web.conftest import ADMIN, AGENT, OTHER_AGENT, SUPERVISOR, Web, csrf_of, login

ZH = "CS20261124-0001"  # 无法登录, normal, 5 h
URGENT = "CS20261124-0002"  # urgent, 2 h
HTML = "CS20261124-0003"  # the HTML mail, normal, 1 h
LOW = "CS20261122-0001"  # suggestion, low, 50 h
BILLING = "CS20261123-0001"  # billing mailbox, no owner, 30 h


def queue_numbers(html: str) -> list[str]:
    return re.findall(r'<td><a href="/tickets/([^"]+)">', html)


def draft_id(web: Web, number: str) -> int:
    client = web.signed_in(SUPERVISOR)
    found = client.get("/api/drafts", params={"per_page": 200}).json()["drafts"]
    return next(d["id"] for d in found if d["ticket"] == number)


def test_the_queue_is_most_urgent_first_then_longest_waiting(any_web: Web) -> None:
    """Urgent, then normal by the customer's wait (30 h, 5 h, 1 h), then low; each row shows
    its age against its target, overdue ones marked."""
    page = any_web.signed_in(SUPERVISOR).get("/queue")
    assert page.status_code == 200
    assert queue_numbers(page.text) == [URGENT, BILLING, ZH, HTML, LOW]
    assert "2 h / 1 h target" in page.text
    assert "30 h / 24 h target" in page.text
    assert page.text.count('class="late"') == 2


def test_the_queue_filters_by_category_priority_owner_and_mailbox(any_web: Web) -> None:
    client = any_web.signed_in(SUPERVISOR)

    def numbers(**params: str) -> list[str]:
        return queue_numbers(client.get("/queue", params=params).text)

    assert numbers(category="technical") == [URGENT, ZH]
    assert numbers(priority="low") == [LOW]
    assert numbers(mailbox="billing") == [BILLING]
    assert numbers(owner="unclaimed") == [BILLING]
    assert numbers(owner="li.na@") == [URGENT, ZH, HTML, LOW]
    assert numbers(category="technical", mailbox="billing") == []


def test_agents_see_their_own_and_unclaimed_drafts(web: Web) -> None:
    """Supervisors see every owner's queue; another agent sees only unclaimed tickets until
    one is assigned to them, and cannot widen that with the owner filter."""
    other = web.signed_in(OTHER_AGENT)
    assert queue_numbers(other.get("/queue").text) == [BILLING]
    assert queue_numbers(other.get("/queue", params={"owner": "li.na"}).text) == [BILLING]
    assert queue_numbers(other.get("/queue", params={"owner": "mine"}).text) == []
    owner = web.signed_in(AGENT)
    assert queue_numbers(owner.get("/queue", params={"owner": "mine"}).text) == [
        URGENT,
        ZH,
        HTML,
        LOW,
    ]
    token = csrf_of(other.get(f"/tickets/{ZH}").text)
    assert other.post(f"/tickets/{ZH}/assign", data={"csrf": token}).status_code == 200
    assert queue_numbers(other.get("/queue").text) == [BILLING, ZH]


def test_the_queue_is_paginated(web: Web) -> None:
    client = web.signed_in(SUPERVISOR)
    first = client.get("/queue", params={"per_page": 2})
    second = client.get("/queue", params={"per_page": 2, "page": 2})
    last = client.get("/queue", params={"per_page": 2, "page": 3})
    assert queue_numbers(first.text) == [URGENT, BILLING]
    assert queue_numbers(second.text) == [ZH, HTML]
    assert queue_numbers(last.text) == [LOW]
    assert "Page 2 of 3 (5 drafts)" in second.text
    assert 'rel="next" href="/queue?page=3&amp;per_page=2"' in second.text


def test_the_ticket_page_shows_chinese_mail_its_classification_and_history(
    any_web: Web,
) -> None:
    page = any_web.signed_in(AGENT).get(f"/tickets/{ZH}")
    assert page.status_code == 200
    assert page.headers["content-type"] == "text/html; charset=utf-8"
    assert '<meta charset="utf-8">' in page.text
    assert "我的账号无法登录，提示错误 E1234。" in page.text
    assert "张伟" in page.text and "无法登录" in page.text
    assert "technical" in page.text and "created" in page.text
    assert f"/tickets/{ZH}/messages/" in page.text


def test_the_interface_follows_the_browsers_language(web: Web) -> None:
    client = web.signed_in(AGENT)
    chinese = client.get("/queue", headers={"Accept-Language": "zh-CN,zh;q=0.9,en;q=0.8"})
    assert '<html lang="zh-CN">' in chinese.text and "待审回复" in chinese.text
    english = client.get("/queue", headers={"Accept-Language": "en-US,en;q=0.9,zh;q=0.5"})
    assert '<html lang="en">' in english.text and "Queue" in english.text


def _message_link(page: str, number: str) -> str:
    match = re.search(rf"/tickets/{number}/messages/(\d+)/original", page)
    assert match
    return match.group(0)


def test_html_mail_is_shown_without_scripts_handlers_or_remote_images(web: Web) -> None:
    client = web.signed_in(AGENT)
    original = _message_link(client.get(f"/tickets/{HTML}").text, HTML)
    page = client.get(original)
    assert "<b>team</b>" in page.text
    assert "<script" not in page.text and "alert(" not in page.text
    assert "onerror" not in page.text
    assert "tracker.example" not in page.text
    assert "1 remote image(s) not loaded" in page.text
    assert "img-src 'self' data:;" in page.headers["content-security-policy"]
    loaded = client.get(original, params={"images": "1"})
    assert 'src="https://tracker.example/p.gif"' in loaded.text
    assert "onerror" not in loaded.text and "<script" not in loaded.text
    assert "img-src 'self' data: https: http:" in loaded.headers["content-security-policy"]
    as_text = client.get(original, params={"view": "text"})
    assert "my order 12345 is missing" in as_text.text and "<b>team</b>" not in as_text.text


def test_attachments_and_the_original_download_as_attachments(web: Web) -> None:
    client = web.signed_in(AGENT)
    base = _message_link(client.get(f"/tickets/{HTML}").text, HTML).removesuffix("/original")
    attached = client.get(f"{base}/attachments/0")
    assert attached.status_code == 200
    assert attached.content == b"%PDF-1.4\n"
    assert attached.headers["content-type"] == "application/octet-stream"
    disposition = attached.headers["content-disposition"]
    assert disposition.startswith("attachment;")
    assert "filename*=UTF-8''%E6%8A%A5%E4%BB%B7%E5%8D%95.pdf" in disposition
    raw = client.get(f"{base}/raw")
    assert raw.headers["content-disposition"].startswith("attachment;")
    assert raw.content.startswith(b"From: Eve")
    assert client.get(f"{base}/attachments/1").status_code == 404
    # A message id from another ticket is not found through this one.
    assert client.get(f"/tickets/{ZH}/messages/{base.rsplit('/', 1)[1]}/raw").status_code == 404


def _post(client: Any, path: str, **data: str) -> Any:
    token = csrf_of(client.get("/queue").text)
    return client.post(path, data={"csrf": token, **data})


def test_assign_to_me_correct_and_close_with_a_reason(web: Web) -> None:
    client = web.signed_in(AGENT)
    assert _post(client, f"/tickets/{ZH}/assign").status_code == 200
    page = _post(client, f"/tickets/{ZH}/set", category="billing", priority="high")
    assert "rules said technical" in page.text
    page = _post(client, f"/tickets/{ZH}/close", reason="nonsense")
    assert "unknown close reason" in page.text
    page = _post(client, f"/tickets/{ZH}/close", reason="spam")
    assert "Ticket closed." in page.text
    with web.database.session() as session:
        ticket = session.scalars(select(Ticket).where(Ticket.number == ZH)).one()
        assert (ticket.assignee, ticket.category, ticket.priority) == (AGENT, "billing", "high")
        assert (ticket.status, ticket.close_reason) == ("closed", "spam")
    assert _post(client, "/tickets/CS19990101-0001/assign").status_code == 404


def test_approval_is_refused_while_a_placeholder_is_missing_then_goes_out(any_web: Web) -> None:
    """The editor highlights [[answer]]; approving says what is missing (409, nothing queued);
    "save and approve" with the gap filled queues the reply with the agent as approver."""
    client = any_web.signed_in(AGENT)
    number = draft_id(any_web, ZH)
    page = client.get(f"/drafts/{number}")
    assert '<mark class="missing">[[answer]]</mark>' in page.text
    refused = client.post(f"/drafts/{number}/approve", data={"csrf": csrf_of(page.text)})
    assert refused.status_code == 409
    assert "Fill in the highlighted placeholders before approving: [[answer]]" in refused.text
    body = "张伟，您好！\r\n\r\n请清除浏览器缓存后重新登录。\r\n"
    done = client.post(
        f"/drafts/{number}/approve",
        data={"csrf": csrf_of(page.text), "body": body, "subject": "Re: 无法登录"},
    )
    assert done.status_code == 200
    assert "Approved: the reply is queued" in done.text
    shown = client.get(f"/drafts/{number}")
    assert "This draft is approved." in shown.text and AGENT in shown.text
    with any_web.database.session() as session:
        (queued,) = session.scalars(select(OutgoingMessage)).all()
        assert queued.subject == "Re: 无法登录" and queued.kind == "reply"
        sent = email.message_from_bytes(queued.raw, policy=email.policy.default)
        assert isinstance(sent, EmailMessage)
        text = sent.get_body(("plain",))
        assert text is not None and "请清除浏览器缓存后重新登录。" in text.get_content()
        assert sent["To"] == "张伟 <zhang.wei@example.cn>"


def test_editing_keeps_the_text_and_rejecting_needs_a_reason(web: Web) -> None:
    client = web.signed_in(AGENT)
    number = draft_id(web, BILLING)
    token = csrf_of(client.get(f"/drafts/{number}").text)
    saved = client.post(
        f"/drafts/{number}/edit",
        data={"csrf": token, "body": "Hello Carl,\r\n\r\nIt is attached. [[order_id]]\r\n"},
    )
    assert "Draft saved." in saved.text
    assert '<mark class="missing">[[order_id]]</mark>' in saved.text
    assert client.post(f"/drafts/{number}/reject", data={"csrf": token}).status_code == 400
    rejected = client.post(f"/drafts/{number}/reject", data={"csrf": token, "reason": "dup"})
    assert "Draft rejected." in rejected.text
    assert BILLING not in queue_numbers(rejected.text)
    again = client.post(f"/drafts/{number}/approve", data={"csrf": token})
    assert again.status_code == 409 and "only a pending draft" in again.text
    assert client.get("/drafts/99999").status_code == 404


def test_admins_add_and_disable_users(web: Web) -> None:
    client = web.signed_in(ADMIN)
    listed = client.get("/admin/users")
    assert AGENT in listed.text and "Wang Fang" in listed.text
    token = csrf_of(listed.text)
    new = {"csrf": token, "email": "new@example.com", "name": "新同事", "role": "agent"}
    short = client.post("/admin/users", data={**new, "password": "short"})
    assert short.status_code == 400 and "at least 10 characters" in short.text
    assert 'value="new@example.com"' in short.text  # what was typed is kept
    added = client.post("/admin/users", data={**new, "password": "a long password"})
    assert "User new@example.com added." in added.text and "新同事" in added.text
    assert login(web.client(), "new@example.com", "a long password").status_code == 303
    disabled = client.post("/admin/users/disable", data={"csrf": token, "email": "new@example.com"})
    assert "User new@example.com disabled." in disabled.text
    assert login(web.client(), "new@example.com", "a long password").status_code == 401
    itself = client.post("/admin/users/disable", data={"csrf": token, "email": ADMIN})
    assert itself.status_code == 409
    unknown = client.post("/admin/users/disable", data={"csrf": token, "email": "x@y.example"})
    assert unknown.status_code == 404


def test_every_page_renders_in_chinese(web: Web) -> None:
    client = web.signed_in(ADMIN, headers={"Accept-Language": "zh-CN,zh;q=0.9"})
    number = draft_id(web, ZH)
    for path, words in (
        ("/queue", "待审回复"),
        (f"/tickets/{ZH}", "往来邮件"),
        (f"/drafts/{number}", "回复草稿"),
        ("/dashboard", "各负责人的超时工单"),
        ("/admin/users", "添加用户"),
        ("/logout", "确定退出"),
        ("/nowhere", "未找到"),
    ):
        page = client.get(path)
        assert words in page.text, path
        assert '<html lang="zh-CN">' in page.text
    original = _message_link(client.get(f"/tickets/{HTML}").text, HTML)
    assert "已阻止 1 张远程图片" in client.get(original).text
