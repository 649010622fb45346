"""The agents' and supervisors' web pages and the JSON API (`maild web`).

Server-rendered HTML (Jinja2, autoescaped) on Starlette; no JavaScript build step. Every page
and API call checks the signed-in user's role on the server. `create_app` builds the ASGI app
from a loaded configuration and an open database.
"""

from __future__ import annotations

from maild.web.app import create_app

__all__ = ["create_app"]
