"""Progress of a long sync: a bar per mailbox folder on a terminal, log lines everywhere else."""

from __future__ import annotations

import time
from types import TracebackType
from typing import Protocol

from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TaskID,
    TextColumn,
    TimeRemainingColumn,
)

from maild.log import get_logger


class ProgressReporter(Protocol):
    def start(self, mailbox: str, folder: str, total: int) -> None: ...

    def advance(self, count: int) -> None: ...

    def finish(self) -> None: ...


class LogProgress:
    """Logs `sync_progress` at most every `every` seconds (and at the end of a long sync)."""

    def __init__(self, every: float = 10.0) -> None:
        self._every = every
        self._log = get_logger()
        self._total = 0
        self._done = 0
        self._started = 0.0
        self._last = 0.0

    def start(self, mailbox: str, folder: str, total: int) -> None:
        self._log = get_logger(mailbox=mailbox, folder=folder)
        self._total, self._done = total, 0
        self._started = self._last = time.monotonic()
        if total:
            self._log.info("sync_started", new_messages=total)

    def advance(self, count: int) -> None:
        self._done += count
        now = time.monotonic()
        if now - self._last >= self._every:
            self._last = now
            self._emit(now)

    def _emit(self, now: float) -> None:
        elapsed = max(now - self._started, 1e-6)
        rate = self._done / elapsed
        left = (self._total - self._done) / rate if rate else None
        self._log.info(
            "sync_progress",
            fetched=self._done,
            total=self._total,
            rate_per_s=round(rate, 1),
            seconds_left=round(left) if left is not None else None,
        )

    def finish(self) -> None:
        if self._total and time.monotonic() - self._started >= self._every:
            self._emit(time.monotonic())


class BarProgress:
    """One rich progress bar per mailbox folder: fetched of total, rate, time left."""

    def __init__(self, console: Console | None = None) -> None:
        self._progress = Progress(
            TextColumn("[bold]{task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            TextColumn("{task.fields[rate]} msg/s"),
            TimeRemainingColumn(),
            console=console or Console(stderr=True),
            transient=False,
        )
        self._task: TaskID | None = None
        self._started = 0.0
        self._done = 0

    def __enter__(self) -> BarProgress:
        self._progress.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self._progress.stop()

    def start(self, mailbox: str, folder: str, total: int) -> None:
        self._task = self._progress.add_task(f"{mailbox}/{folder}", total=total, rate="-")
        self._started = time.monotonic()
        self._done = 0

    def advance(self, count: int) -> None:
        if self._task is None:
            return
        self._done += count
        elapsed = max(time.monotonic() - self._started, 1e-6)
        self._progress.update(self._task, advance=count, rate=f"{self._done / elapsed:,.0f}")

    def finish(self) -> None:
        self._task = None


class NoProgress:
    def start(self, mailbox: str, folder: str, total: int) -> None:
        pass

    def advance(self, count: int) -> None:
        pass

    def finish(self) -> None:
        pass
