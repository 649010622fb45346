"""The supervisors' dashboard (figures, tables and server-drawn SVG charts) and the admins'
user management (list, add, disable)."""

from __future__ import annotations

from collections import Counter
from typing import Any

from markupsafe import Markup
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response

from maild import users
from maild.web import charts
from maild.web.auth import checked_form, require
from maild.web.base import WebState, flash, redirect, render, state, translator
from maild.web.i18n import Translator
from maild.web.metrics import metrics


def dashboard_charts(data: dict[str, Any], t: Translator) -> dict[str, Markup]:
    daily = data["daily"]
    labels = [day["date"][5:] for day in daily]
    totals: Counter[str] = Counter()
    for day in daily:
        totals.update(day["received"])
    categories = [name for name, _ in totals.most_common()]
    series = {name: [day["received"].get(name, 0) for day in daily] for name in categories}
    lines = {
        t("median"): [day["first_response_median_hours"] for day in daily],
        t("p90"): [day["first_response_p90_hours"] for day in daily],
    }
    normal = data["targets_hours"].get("normal")
    return {
        "received": Markup(charts.stacked_bars(labels, series, title=t("chart_received"))),
        "first_response": Markup(
            charts.line_chart(
                labels,
                lines,
                title=t("chart_first_response"),
                unit=" h",
                reference=(t("target_normal"), normal) if normal is not None else None,
            )
        ),
        "compliance": Markup(
            charts.percent_bars(
                labels,
                [day["compliance_percent"] for day in daily],
                title=t("chart_compliance"),
            )
        ),
    }


async def dashboard(request: Request) -> Response:
    await require(request, "supervisor")
    web = state(request)
    data = await run_in_threadpool(metrics, web.database, web.config, web.policy, web.now())
    context = {"data": data, "charts": dashboard_charts(data, translator(request))}
    return render(request, "dashboard.html", context)


def _user_rows(web_state: WebState) -> list[dict[str, Any]]:
    with web_state.database.session() as session:
        return [
            {
                "email": user.email,
                "name": user.name,
                "role": user.role,
                "active": user.active,
                "created_at": user.created_at,
                "last_login_at": user.last_login_at,
            }
            for user in users.list_users(session)
        ]


async def _users_page(
    request: Request,
    *,
    error: str | None = None,
    status: int = 200,
    typed: dict[str, str] | None = None,
) -> Response:
    rows = await run_in_threadpool(_user_rows, state(request))
    context = {
        "users": rows,
        "roles": users.ROLES,
        "error": error,
        "typed": typed or {"email": "", "name": "", "role": "agent"},
    }
    return render(request, "admin_users.html", context, status=status)


async def users_list(request: Request) -> Response:
    await require(request, "admin")
    return await _users_page(request)


async def users_add(request: Request) -> Response:
    await require(request, "admin")
    form = await checked_form(request)
    web = state(request)
    typed = {key: str(form.get(key) or "") for key in ("email", "name", "role")}

    def add() -> str:
        with web.database.transaction() as session:
            user = users.add_user(
                session,
                typed["email"],
                typed["name"],
                typed["role"],
                str(form.get("password") or ""),
                web.now(),
            )
            return user.email

    try:
        email = await run_in_threadpool(add)
    except users.UserError as exc:
        return await _users_page(request, error=str(exc), status=400, typed=typed)
    flash(request, "user_added", email=email)
    return redirect("/admin/users")


async def users_disable(request: Request) -> Response:
    admin = await require(request, "admin")
    form = await checked_form(request)
    web = state(request)
    email = str(form.get("email") or "").strip().lower()
    if email == admin.email:
        return await _users_page(request, error="you cannot disable your own account", status=409)

    def disable() -> None:
        with web.database.transaction() as session:
            users.disable_user(session, email, web.now())

    try:
        await run_in_threadpool(disable)
    except users.UserError as exc:
        return await _users_page(request, error=str(exc), status=404)
    flash(request, "user_disabled", email=email)
    return redirect("/admin/users")
