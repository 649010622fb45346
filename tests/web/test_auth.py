"""Signing in and out, sessions, CSRF and roles, enforced on the server."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from maild import users
from maild.store.models import Draft, Ticket
from tests.web.conftest import (
    ADMIN,
    AGENT,
    NOW,
    PASSWORD,
    SUPERVISOR,
    Web,
    csrf_of,
    login,
    web_config,
)


def draft_statuses(web: Web) -> set[str]:
    with web.database.session() as session:
        return set(session.scalars(select(Draft.status)))


def test_signing_in_opens_the_queue_and_signing_out_closes_it(web: Web) -> None:
    """A right password gives a session; POST /logout (with the token) ends it."""
    client = web.client()
    response = login(client, AGENT)
    assert response.status_code == 303
    assert response.headers["location"] == "/queue"
    assert client.get("/queue").status_code == 200
    page = client.get("/logout")
    assert page.status_code == 200
    out = client.post("/logout", data={"csrf": csrf_of(page.text)}, follow_redirects=False)
    assert (out.status_code, out.headers["location"]) == (303, "/login")
    again = client.get("/queue", follow_redirects=False)
    assert again.status_code == 303
    assert again.headers["location"] == "/login?next=/queue"


def test_a_wrong_password_is_refused_and_each_further_failure_waits_longer(web: Web) -> None:
    """The answer to a failed sign-in waits users.login_delay(earlier failures): 0, 0.5, 1 s."""
    client = web.client()
    for _ in range(3):
        response = login(client, AGENT, "wrong password!")
        assert response.status_code == 401
        assert "Wrong email or password" in response.text
    assert web.clock.sleeps == [0.0, 0.5, 1.0]
    assert client.get("/queue", follow_redirects=False).status_code == 303
    with web.database.session() as session:
        user = users.find_user(session, AGENT)
        assert user is not None and user.failed_logins == 3


def test_guessing_across_addresses_from_one_client_is_slowed_too(web: Web) -> None:
    """Unknown addresses have no failure count of their own; the client address does."""
    client = web.client()
    for number in range(3):
        login(client, f"nobody{number}@example.com", "whatever-password")
    assert web.clock.sleeps == [0.0, 0.5, 1.0]


def test_the_session_cookie_is_httponly_and_samesite_and_secure_over_https(web: Web) -> None:
    """auto: Secure exactly when the request came over https (as behind the TLS proxy)."""
    plain = login(web.client(), AGENT).headers["set-cookie"].lower()
    assert "httponly" in plain and "samesite=lax" in plain and "secure" not in plain
    assert "max-age=43200" in plain
    secure = login(web.client(base_url="https://testserver"), AGENT).headers["set-cookie"]
    assert "secure" in secure.lower()
    web.config = web_config(web={"secure_cookies": True})
    always = login(web.client(), AGENT).headers["set-cookie"]
    assert "secure" in always.lower()


def test_after_sign_in_the_page_goes_only_to_a_local_next(web: Web) -> None:
    client = web.client()
    page = client.get("/login?next=/dashboard")
    for target, expected in (
        ("/tickets/X?a=1", "/tickets/X?a=1"),
        ("//evil.example/", "/queue"),
        ("https://evil.example/", "/queue"),
    ):
        client.cookies.clear()
        page = client.get("/login")
        response = client.post(
            "/login",
            data={"email": AGENT, "password": PASSWORD, "csrf": csrf_of(page.text), "next": target},
            follow_redirects=False,
        )
        assert response.headers["location"] == expected


def test_signing_in_without_the_forms_csrf_token_is_refused(web: Web) -> None:
    client = web.client()
    client.get("/login")
    response = client.post("/login", data={"email": AGENT, "password": PASSWORD})
    assert response.status_code == 403
    assert client.get("/queue", follow_redirects=False).status_code == 303


@pytest.mark.parametrize("token", [None, "wrong-token-0123456789abcdef"])
def test_a_form_post_without_the_right_csrf_token_is_refused(web: Web, token: str | None) -> None:
    """Assigning, approving and signing out all need the session's token."""
    client = web.signed_in(AGENT)
    data = {} if token is None else {"csrf": token}
    for path in ("/tickets/CS20261124-0001/assign", "/drafts/1/approve", "/logout"):
        response = client.post(path, data=data, follow_redirects=False)
        assert response.status_code == 403, path
    with web.database.session() as session:
        ticket = session.scalars(select(Ticket).where(Ticket.number == "CS20261124-0001")).one()
        assert ticket.assignee is None
    assert draft_statuses(web) == {"pending"}
    assert client.get("/queue").status_code == 200  # still signed in


def test_roles_are_enforced_on_every_page(web: Web) -> None:
    """Agents: queue, tickets, drafts; supervisors also the dashboard; admins also users."""
    expected = {
        AGENT: {"/queue": 200, "/dashboard": 403, "/admin/users": 403, "/drafts/1": 200},
        SUPERVISOR: {"/queue": 200, "/dashboard": 200, "/admin/users": 403},
        ADMIN: {"/queue": 200, "/dashboard": 200, "/admin/users": 200},
    }
    for email, pages in expected.items():
        client = web.signed_in(email)
        for path, status in pages.items():
            assert client.get(path).status_code == status, (email, path)
    forbidden = web.signed_in(AGENT).get("/dashboard")
    assert "supervisor" in forbidden.text
    # Not by hiding links alone: an agent's POST to the admin form is refused as well.
    agent = web.signed_in(AGENT)
    token = csrf_of(agent.get("/queue").text)
    response = agent.post(
        "/admin/users",
        data={
            "csrf": token,
            "email": "x@example.com",
            "name": "X",
            "role": "admin",
            "password": PASSWORD,
        },
    )
    assert response.status_code == 403


def test_signed_out_pages_redirect_to_login_and_the_api_answers_401(web: Web) -> None:
    client = web.client()
    page = client.get("/drafts/1?x=1", follow_redirects=False)
    assert (page.status_code, page.headers["location"]) == (303, "/login?next=/drafts/1%3Fx%3D1")
    api = client.get("/api/drafts")
    assert api.status_code == 401
    assert api.json() == {"error": "authentication required: a bearer token or a session"}
    assert api.headers["www-authenticate"].startswith("Bearer")


def test_a_disabled_users_session_stops_at_the_next_request(web: Web) -> None:
    client = web.signed_in(AGENT)
    assert client.get("/queue").status_code == 200
    with web.database.transaction() as session:
        users.disable_user(session, AGENT, NOW)
    assert client.get("/queue", follow_redirects=False).status_code == 303
    assert login(web.client(), AGENT).status_code == 401


def test_a_session_ends_after_its_lifetime(web: Web) -> None:
    client = web.signed_in(AGENT)
    web.clock.now = NOW + timedelta(hours=11)
    assert client.get("/queue").status_code == 200
    web.clock.now = NOW + timedelta(hours=13)
    assert client.get("/queue", follow_redirects=False).status_code == 303


def test_every_response_carries_the_security_headers(web: Web) -> None:
    client = web.signed_in(AGENT)
    for path in ("/login", "/queue", "/tickets/CS20261124-0001", "/nowhere", "/api/me"):
        headers = client.get(path).headers
        csp = headers["content-security-policy"]
        assert "default-src 'self'" in csp and "frame-ancestors 'none'" in csp, path
        assert "img-src 'self' data:;" in csp
        assert headers["x-content-type-options"] == "nosniff"
        assert headers["referrer-policy"] == "same-origin"
        assert headers["x-frame-options"] == "DENY"


def test_a_new_password_ends_the_users_sessions(web: Web) -> None:
    client = web.signed_in(AGENT)
    with web.database.transaction() as session:
        users.set_password(session, AGENT, "another long password")
    assert client.get("/queue", follow_redirects=False).status_code == 303
    assert login(web.client(), AGENT, "another long password").status_code == 303
