"""What the server must refuse or defuse, seen from a real browser: a customer's hostile HTML
mail, pages beyond the user's role, and form POSTs without the session's CSRF token."""

from __future__ import annotations

from typing import TYPE_CHECKING

from tests.browser.conftest import ADMIN, AGENT, SUPERVISOR, OpenPage, Site

if TYPE_CHECKING:
    from playwright.sync_api import Dialog, Request


def test_html_mail_runs_no_script_and_loads_no_remote_image(
    site: Site, open_page: OpenPage
) -> None:
    """The ticket page and the full original of a mail with <script>, onerror= and a remote
    image: no dialog opens, nothing is fetched from the image's host (neither the browser nor
    that host sees a request), no script or handler is in the DOM. Only the agent's explicit
    "show images" loads the image, and still runs nothing."""
    page = open_page(AGENT)
    dialogs: list[str] = []
    requests: list[str] = []

    def on_dialog(dialog: Dialog) -> None:
        dialogs.append(dialog.message)
        dialog.dismiss()

    def on_request(request: Request) -> None:
        requests.append(request.url)

    page.on("dialog", on_dialog)
    page.context.on("request", on_request)
    number = site.tickets["html"]

    page.goto(f"{site.url}/tickets/{number}")  # returns after the load event: images included
    assert "my order 12345 never arrived" in page.locator("section.thread").inner_text()
    assert page.locator("script").count() == 0
    assert page.locator("[onerror]").count() == 0

    page.locator("section.thread a", has_text="Full original").click()
    page.wait_for_url(f"{site.url}/tickets/{number}/messages/*/original")
    page.wait_for_load_state("load")
    mail = page.locator("div.mail-html")
    assert "my order 12345 never arrived" in mail.inner_text()
    assert mail.locator("b", has_text="team").count() == 1, "harmless markup stays"
    assert page.locator("script").count() == 0
    assert page.locator("[onerror]").count() == 0
    assert "alert(" not in page.content()
    images = mail.locator("img")
    assert images.count() == 2
    assert [images.nth(i).get_attribute("src") for i in range(2)] == [None, None]
    assert "1" in page.locator("p.flash.warning").inner_text(), "the blocked image is counted"

    assert dialogs == []
    assert not [url for url in requests if url.startswith(site.tracker.url)]
    assert site.tracker.requests == []

    # The control: asked for explicitly, the image is loaded — the tracker and the request
    # listener above would have seen it — and still no handler runs.
    page.locator("p.flash.warning a[href='?images=1']").click()
    page.wait_for_url("**/original?images=1")
    page.wait_for_load_state("load")
    assert site.tracker.requests == ["/tracker.png"]
    assert f"{site.tracker.url}/tracker.png" in requests
    assert page.locator("[onerror]").count() == 0
    assert dialogs == []


def test_pages_beyond_the_users_role_are_refused_by_the_server(
    site: Site, open_page: OpenPage
) -> None:
    """An agent typing the addresses gets 403 on the dashboard, the admin pages and the
    metrics API; a supervisor gets the dashboard with its three SVG charts but not the admin
    pages; an admin gets the users page; nobody signed in is sent to the login page."""
    anonymous = open_page()
    anonymous.goto(f"{site.url}/dashboard")
    assert anonymous.url == f"{site.url}/login?next=/dashboard"

    agent = open_page(AGENT)
    assert agent.locator("nav a[href='/dashboard']").count() == 0
    for path, role in (("/dashboard", "supervisor"), ("/admin/users", "admin")):
        response = agent.goto(f"{site.url}{path}")
        assert response is not None and response.status == 403, path
        assert f"It needs the {role} role" in agent.locator("main").inner_text()
    assert agent.request.get(f"{site.url}/api/metrics").status == 403

    supervisor = open_page(SUPERVISOR)
    response = supervisor.goto(f"{site.url}/dashboard")
    assert response is not None and response.status == 200
    charts = supervisor.locator("section.charts figure svg")
    assert charts.count() == 3
    for index in range(3):
        drawn = charts.nth(index).locator("rect, path, polyline, line")
        assert drawn.count() > 0, f"chart {index + 1} draws something"
        assert charts.nth(index).bounding_box() is not None, "and is visible"
    assert supervisor.locator("section.overdue table").count() == 1, "overdue tickets shown"
    assert supervisor.request.get(f"{site.url}/api/metrics").status == 200
    response = supervisor.goto(f"{site.url}/admin/users")
    assert response is not None and response.status == 403

    admin = open_page(ADMIN)
    response = admin.goto(f"{site.url}/admin/users")
    assert response is not None and response.status == 200
    listed = admin.locator("table.users").inner_text()
    assert AGENT in listed and SUPERVISOR in listed and ADMIN in listed


def test_a_post_without_the_csrf_token_is_refused(site: Site, open_page: OpenPage) -> None:
    """Signed in, with the session cookie: the page's own form with its hidden token removed,
    and POSTs made by script with no or a wrong token, are refused with 403 and change
    nothing. The same POST with the page's token works (the control)."""
    page = open_page(AGENT)
    number = site.tickets["dark-mode"]
    assign = f"{site.url}/tickets/{number}/assign"
    page.goto(f"{site.url}/tickets/{number}")
    form = f"form[action='/tickets/{number}/assign']"
    page.evaluate(
        "(form) => document.querySelector(form).querySelector('input[name=csrf]').remove()", form
    )
    assert page.locator(f"{form} input[name=csrf]").count() == 0
    with page.expect_response(assign) as posted:
        page.locator(f"{form} button").click()
    assert posted.value.status == 403
    page.wait_for_load_state()
    assert "did not come from maild" in page.locator("main").inner_text()

    forged: list[dict[str, str | float | bool]] = [{}, {"csrf": "forged-" + "x" * 30}]
    for fields in forged:
        refused = page.request.post(assign, form=fields, max_redirects=0)
        assert refused.status == 403, fields
    draft_id = site.drafts["dark-mode"]
    api = page.request.post(
        f"{site.url}/api/drafts/{draft_id}/reject", data={"reason": "forged"}, max_redirects=0
    )
    assert api.status == 403
    assert "X-CSRF-Token" in api.json()["error"]

    shown = site.maild_json("tickets", "show", number)
    assert shown["assignee"] is None and shown["status"] == "new"
    assert site.maild_json("drafts", "show", str(draft_id))["status"] == "pending"

    page.goto(f"{site.url}/tickets/{number}")
    token = page.locator(f"{form} input[name=csrf]").get_attribute("value")
    assert token
    accepted = page.request.post(assign, form={"csrf": token}, max_redirects=0)
    assert accepted.status == 303
    assert site.maild_json("tickets", "show", number)["assignee"] == AGENT
