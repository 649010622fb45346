"""Screenshots of the queue, a ticket and the dashboard, as a supervisor sees them (1280x800).

They go to the test's tmp_path; with MAILD_SCREENSHOTS=DIR also to DIR, which is how the
README's images in docs/screenshots/ are made:

    MAILD_SCREENSHOTS=docs/screenshots .venv/bin/python -m pytest tests/browser -k screenshots
"""

from __future__ import annotations

import os
import shutil
import struct
from pathlib import Path

from tests.browser.conftest import SUPERVISOR, VIEWPORT, OpenPage, Site


def png_size(path: Path) -> tuple[int, int]:
    data = path.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n", f"{path} is not a PNG"
    width, height = struct.unpack(">II", data[16:24])
    return width, height


def test_screenshots_of_the_queue_a_ticket_and_the_dashboard(
    site: Site, open_page: OpenPage, tmp_path: Path
) -> None:
    page = open_page(SUPERVISOR)
    shots: list[Path] = []

    def shoot(name: str, path: str, ready: str, show: str | None = None) -> None:
        page.goto(f"{site.url}{path}")
        page.locator(ready).first.wait_for()
        if show is not None:  # what matters is below the fold: scroll it to the top
            page.locator(show).evaluate("(element) => element.scrollIntoView()")
        target = tmp_path / name
        page.screenshot(path=str(target), animations="disabled")
        shots.append(target)

    shoot("queue.png", "/queue", "table.queue tbody tr")
    shoot("ticket.png", f"/tickets/{site.tickets['zh']}", "section.thread article")
    shoot("dashboard.png", "/dashboard", "section.charts svg", show="section.charts")

    for shot in shots:
        assert png_size(shot) == (VIEWPORT["width"], VIEWPORT["height"])
        assert shot.stat().st_size > 10_000, f"{shot.name} looks empty"
    keep = os.environ.get("MAILD_SCREENSHOTS")
    if keep:
        Path(keep).mkdir(parents=True, exist_ok=True)
        for shot in shots:
            shutil.copyfile(shot, Path(keep) / shot.name)
