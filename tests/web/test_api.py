"""The JSON API: bearer tokens or the session (with X-CSRF-Token for POSTs), the same roles
as the pages, and errors as {"error": …} with their status codes."""

from __future__ import annotations

from datetime import timedelta

from maild import users
from maild.store.db import Database
from tests.web.conftest import AGENT, NOW, OTHER_AGENT, SUPERVISOR, Web, csrf_of


def token_for(database: Database, email: str) -> dict[str, str]:
    with database.transaction() as session:
        token = users.issue_token(session, email, NOW)
    return {"Authorization": f"Bearer {token}"}


def test_without_a_valid_token_the_api_answers_401(web: Web) -> None:
    client = web.client()
    for headers in (
        {},
        {"Authorization": "Bearer maild_not-a-real-token"},
        {"Authorization": "Basic bGk6bmE="},
    ):
        response = client.get("/api/tickets", headers=headers)
        assert response.status_code == 401
        assert "error" in response.json()


def test_a_token_lists_tickets_and_drafts_with_filters_and_pages(any_web: Web) -> None:
    client = any_web.client()
    headers = token_for(any_web.database, SUPERVISOR)
    assert client.get("/api/me", headers=headers).json() == {
        "email": SUPERVISOR,
        "name": "Wang Fang",
        "role": "supervisor",
    }
    listed = client.get("/api/tickets", headers=headers, params={"per_page": 2}).json()
    assert (listed["total"], listed["pages"], len(listed["tickets"])) == (5, 3, 2)
    technical = client.get("/api/tickets", headers=headers, params={"category": "technical"})
    assert {t["subject"] for t in technical.json()["tickets"]} == {
        "无法登录",
        "URGENT: the whole service is down",
    }
    billing = client.get("/api/tickets", headers=headers, params={"mailbox": "billing"}).json()
    assert [t["subject"] for t in billing["tickets"]] == ["Invoice for October"]
    drafts = client.get("/api/drafts", headers=headers).json()["drafts"]
    assert [d["priority"] for d in drafts] == ["urgent", "normal", "normal", "normal", "low"]
    assert drafts[0]["overdue"] is True and drafts[0]["missing"] == ["answer"]
    one = client.get(f"/api/tickets/{drafts[0]['ticket']}", headers=headers).json()
    assert one["messages"][0]["from"] == "bob@corp.example"
    assert client.get("/api/tickets/CS19990101-0001", headers=headers).status_code == 404
    assert client.get("/api/drafts?status=bogus", headers=headers).status_code == 400


def test_an_agent_token_sees_what_the_agent_may_see(web: Web) -> None:
    client = web.client()
    headers = token_for(web.database, OTHER_AGENT)
    tickets = client.get("/api/tickets", headers=headers).json()["tickets"]
    assert [t["subject"] for t in tickets] == ["Invoice for October"]  # unclaimed only
    metrics = client.get("/api/metrics", headers=headers)
    assert metrics.status_code == 403
    assert metrics.json() == {"error": "this needs the supervisor role"}
    supervisor = token_for(web.database, SUPERVISOR)
    assert client.get("/api/metrics", headers=supervisor).status_code == 200


def test_approving_over_the_api_is_refused_with_409_until_the_draft_is_complete(
    any_web: Web,
) -> None:
    client = any_web.client()
    headers = token_for(any_web.database, AGENT)
    drafts = client.get("/api/drafts", headers=headers).json()["drafts"]
    incomplete = next(d for d in drafts if d["missing"])
    complete = next(d for d in drafts if not d["missing"])
    refused = client.post(f"/api/drafts/{incomplete['id']}/approve", headers=headers)
    assert refused.status_code == 409
    assert refused.json()["missing"] == ["answer"]
    approved = client.post(f"/api/drafts/{complete['id']}/approve", headers=headers)
    assert approved.status_code == 200
    assert approved.json()["draft"]["status"] == "approved"
    assert approved.json()["draft"]["decided_by"] == AGENT
    twice = client.post(f"/api/drafts/{complete['id']}/approve", headers=headers)
    assert twice.status_code == 409
    assert client.post("/api/drafts/99999/approve", headers=headers).status_code == 404


def test_rejecting_over_the_api_needs_a_reason(web: Web) -> None:
    client = web.client()
    headers = token_for(web.database, AGENT)
    draft = client.get("/api/drafts", headers=headers).json()["drafts"][0]
    path = f"/api/drafts/{draft['id']}/reject"
    assert client.post(path, headers=headers, json={}).status_code == 400
    assert client.post(path, headers=headers, content=b"not json").status_code == 400
    done = client.post(path, headers=headers, json={"reason": "客户已自行解决"})
    assert done.status_code == 200
    assert (done.json()["draft"]["status"], done.json()["draft"]["reason"]) == (
        "rejected",
        "客户已自行解决",
    )


def test_with_the_session_cookie_an_api_post_needs_the_csrf_header(web: Web) -> None:
    client = web.signed_in(AGENT)
    token = csrf_of(client.get("/queue").text)
    draft = client.get("/api/drafts").json()["drafts"][0]
    path = f"/api/drafts/{draft['id']}/reject"
    assert client.post(path, json={"reason": "x"}).status_code == 403
    wrong = client.post(path, json={"reason": "x"}, headers={"X-CSRF-Token": "nope"})
    assert wrong.status_code == 403
    right = client.post(path, json={"reason": "x"}, headers={"X-CSRF-Token": token})
    assert right.status_code == 200


def test_a_disabled_users_token_stops_working(web: Web) -> None:
    client = web.client()
    headers = token_for(web.database, AGENT)
    assert client.get("/api/me", headers=headers).status_code == 200
    with web.database.transaction() as session:
        users.disable_user(session, AGENT, NOW)
    assert client.get("/api/me", headers=headers).status_code == 401


def test_metrics_give_the_dashboards_figures(any_web: Web) -> None:
    """Overdue by owner (the 50 h low ticket and the overdue urgent one are Li Na's; the
    30 h billing ticket has no owner), today's volume and 30 days of daily figures."""
    client = any_web.client()
    data = client.get("/api/metrics", headers=token_for(any_web.database, SUPERVISOR)).json()
    assert data["timezone"] == "Asia/Shanghai"
    owners = {o["owner"]: [t["priority"] for t in o["tickets"]] for o in data["overdue"]}
    assert owners == {"Li Na <li.na@example.com>": ["low", "urgent"], None: ["normal"]}
    assert data["today"] == {
        "date": "2026-11-24",
        "by_category": {"other": 1, "technical": 2},
    }
    assert len(data["daily"]) == 30 and data["daily"][-1]["date"] == "2026-11-24"
    today = data["daily"][-1]
    assert (today["received_total"], today["within_target"], today["missed_target"]) == (3, 0, 1)
    assert today["compliance_percent"] == 0.0
    page = any_web.signed_in(SUPERVISOR).get("/dashboard")
    assert page.text.count("<svg") == 3
    assert "Li Na &lt;li.na@example.com&gt;" in page.text


def test_the_endpoint_list_and_openapi_document(web: Web) -> None:
    client = web.client()
    headers = token_for(web.database, AGENT)
    listed = client.get("/api", headers=headers).json()["endpoints"]
    assert {"method": "GET", "path": "/api/metrics", "role": "supervisor"}.items() <= next(
        e for e in listed if e["path"] == "/api/metrics"
    ).items()
    document = client.get("/api/openapi.json", headers=headers).json()
    assert document["openapi"] == "3.1.0"
    assert "post" in document["paths"]["/api/drafts/{id}/approve"]
    web.clock.now = NOW + timedelta(days=1)  # tokens do not expire with sessions
    assert client.get("/api/me", headers=headers).status_code == 200
