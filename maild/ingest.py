"""Ingest: read what is new in each mailbox folder, store it durably, then run the pipeline.

Order of events per batch, which is what makes a crash harmless:
1. fetch the batch (a background thread fetches the next one meanwhile);
2. store raw bytes + messages + deliveries + the folder's new high-water mark, and commit;
3. run the pipeline (parse, classify) on the new messages in worker processes, record the
   results, then thread them onto tickets in this process, in arrival order;
4. after every batch of the folder is committed, apply `after_import` (flag or move), which
   the database remembers per delivery.
A crash before 2 refetches the batch; after 2, the messages are stored as "pending" (or processed
but on no ticket) and the next poll finishes them. Unique constraints make a repeated or
overlapping store a no-op.
"""

from __future__ import annotations

import threading
from collections import deque
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import Executor, Future
from dataclasses import dataclass

from sqlalchemy.exc import SQLAlchemyError
from structlog.typing import FilteringBoundLogger

from maild.config import Config, MailboxConfig
from maild.log import get_logger
from maild.pipeline import MailboxFacts, PipelineSettings, WorkItem
from maild.prefetch import prefetch
from maild.progress import NoProgress, ProgressReporter
from maild.replying import ReplyStage
from maild.rules import RuleSet, load_rules
from maild.sources.base import FetchedMessage, Inbox, SourceError
from maild.sources.imap import CONNECTION_ERRORS, ImapInbox
from maild.sources.maildir import MaildirInbox
from maild.store import repository as repo
from maild.store.db import Database
from maild.store.models import utcnow
from maild.store.rows import PreparedRow, prepare_batch
from maild.templating import TemplateSet
from maild.threader import ThreadingPolicy
from maild.ticketing import TicketingSettings, thread_messages

_MAX_ATTEMPTS = 4
_INLINE_BATCH = 32
_MARK_BATCH = 5000  # below this, shipping work to a process costs more than it saves


@dataclass(frozen=True)
class FolderOutcome:
    folder: str
    fetched: int
    stored: int
    error: str | None = None


@dataclass(frozen=True)
class MailboxOutcome:
    mailbox: str
    folders: tuple[FolderOutcome, ...]
    error: str | None = None

    @property
    def ok(self) -> bool:
        return self.error is None and all(f.error is None for f in self.folders)

    @property
    def stored(self) -> int:
        return sum(f.stored for f in self.folders)


def open_inbox(mailbox: MailboxConfig) -> Inbox:
    if mailbox.imap is not None:
        return ImapInbox(mailbox.imap, mailbox.name)
    assert mailbox.maildir is not None
    return MaildirInbox(mailbox.maildir.path)


class Ingestor:
    """Polls mailboxes into the database; one per process, reused across polls."""

    def __init__(
        self,
        database: Database,
        config: Config,
        *,
        executor: Executor | None = None,
        progress: ProgressReporter | None = None,
        stop: threading.Event | None = None,
        inbox_factory: Callable[[MailboxConfig], Inbox] = open_inbox,
        rules: RuleSet | None = None,
    ) -> None:
        self._db = database
        self._config = config
        self._settings = pipeline_settings(
            config, rules if rules is not None else load_rules(config.rules_dir, config.owners)
        )
        self._ticketing = ticketing_settings(config)
        self._replies = ReplyStage(config, TemplateSet(config.templates_dir))
        self._executor = executor
        self._progress = progress or NoProgress()
        self._stop = stop or threading.Event()
        self._inbox_factory = inbox_factory

    def poll_all(self) -> list[MailboxOutcome]:
        self.process_pending()
        return [self.poll_mailbox(mailbox) for mailbox in self._config.mailboxes]

    def poll_mailbox(self, mailbox: MailboxConfig) -> MailboxOutcome:
        """Poll one mailbox, retrying lost connections with backoff; never raises SourceError."""
        log = get_logger(mailbox=mailbox.name)
        with self._db.transaction() as session:
            mailbox_id = repo.ensure_mailbox(session, mailbox.name, mailbox.address)
        delay = self._config.retry_backoff.total_seconds()
        error = "not attempted"
        permanent = False
        for attempt in range(1, _MAX_ATTEMPTS + 1):
            inbox = self._inbox_factory(mailbox)
            try:
                folders = tuple(
                    self._poll_folder(inbox, mailbox, mailbox_id, folder)
                    for folder in inbox.folders()
                )
                return MailboxOutcome(mailbox.name, folders)
            except SourceError as exc:
                error = str(exc)
                permanent = exc.permanent
                log.warning(
                    "poll_failed",
                    attempt=attempt,
                    error=error,
                    retry_in_s=None if permanent else delay,
                )
            finally:
                inbox.close()
            if permanent or attempt == _MAX_ATTEMPTS or self._stop.is_set():
                break
            self._stop.wait(delay)
            delay *= 2
        self._record_failure(mailbox_id, mailbox, error)
        log.error("poll_gave_up", error=error)
        return MailboxOutcome(mailbox.name, (), error=error)

    def _record_failure(self, mailbox_id: int, mailbox: MailboxConfig, error: str) -> None:
        with self._db.transaction() as session:
            for folder in mailbox.folders:
                state = repo.folder_state(session, mailbox_id, folder)
                state.last_poll_at = utcnow()
                state.last_outcome = "failed"
                state.last_error = error

    def _poll_folder(
        self, inbox: Inbox, mailbox: MailboxConfig, mailbox_id: int, folder: str
    ) -> FolderOutcome:
        log = get_logger(mailbox=mailbox.name, folder=folder)
        snapshot = inbox.open_folder(folder)
        with self._db.transaction() as session:
            state = repo.folder_state(session, mailbox_id, folder)
            if state.uidvalidity is not None and state.uidvalidity != snapshot.uidvalidity:
                # The server renumbered the folder: read it again from the start; content
                # hashes recognise what is already stored, so nothing is stored twice.
                log.warning("uidvalidity_changed", old=state.uidvalidity, new=snapshot.uidvalidity)
                state.last_uid = 0
            state.uidvalidity = snapshot.uidvalidity
            state.server_count = snapshot.message_count
            last_uid = state.last_uid

        def known(keys: Sequence[str]) -> set[str]:
            with self._db.session() as session:
                return repo.known_source_keys(
                    session, mailbox_id, folder, snapshot.uidvalidity, keys
                )

        items = inbox.list_new(folder, last_uid, known)
        self._progress.start(mailbox.name, folder, len(items))
        fetched = stored = 0
        try:
            batches = prefetch(inbox.fetch(folder, items), depth=2, stop=self._stop)
            fetched, stored = self._store_all(
                batches, mailbox.name, mailbox_id, folder, snapshot.uidvalidity
            )
        except CONNECTION_ERRORS as exc:
            raise SourceError(f"connection lost while reading {folder!r}: {exc}") from exc
        finally:
            self._progress.finish()
        if mailbox.imap is not None and mailbox.imap.after_import != "keep":
            self._apply_after_import(inbox, mailbox_id, folder, snapshot.uidvalidity)
        with self._db.transaction() as session:
            state = repo.folder_state(session, mailbox_id, folder)
            state.last_poll_at = utcnow()
            state.last_outcome = "stopped" if self._stop.is_set() and fetched < len(items) else "ok"
            state.last_error = None
        log.info("folder_polled", fetched=fetched, stored=stored, new_on_server=len(items))
        return FolderOutcome(folder, fetched, stored)

    def _store_all(
        self,
        batches: Iterator[list[FetchedMessage]],
        mailbox_name: str,
        mailbox_id: int,
        folder: str,
        uidvalidity: int,
    ) -> tuple[int, int]:
        in_flight: deque[Future[list[PreparedRow]] | list[PreparedRow]] = deque()
        log = get_logger(mailbox=mailbox_name, folder=folder)
        uids: dict[int, int] = {}
        fetched = stored = 0
        try:
            for batch in batches:
                with self._db.transaction() as session:
                    result = repo.store_batch(
                        session,
                        mailbox_id=mailbox_id,
                        folder=folder,
                        uidvalidity=uidvalidity,
                        batch=batch,
                    )
                fetched += len(batch)
                stored += len(result.new_messages)
                work = [
                    (pk, batch[i].raw, batch[i].internaldate, mailbox_name)
                    for pk, i in result.new_messages
                ]
                uids.update((pk, batch[i].uid) for pk, i in result.new_messages)
                in_flight.append(self._submit(work))
                while in_flight and (len(in_flight) > 2 or _finished(in_flight[0])):
                    self._record(_result_of(in_flight.popleft()), log, uids)
                self._progress.advance(len(batch))
                if self._stop.is_set():
                    break
        finally:
            while in_flight:
                self._record(_result_of(in_flight.popleft()), log, uids)
        return fetched, stored

    def _apply_after_import(
        self, inbox: Inbox, mailbox_id: int, folder: str, uidvalidity: int
    ) -> None:
        """Flag or move what is stored but not yet marked, including what an earlier poll left
        (it failed or was killed after its commit); the database remembers what was done."""
        while not self._stop.is_set():
            with self._db.session() as session:
                pending = repo.deliveries_awaiting_after_import(
                    session, mailbox_id, folder, uidvalidity, limit=_MARK_BATCH
                )
            if not pending:
                return
            inbox.mark_done(folder, [uid for _, uid in pending])
            with self._db.transaction() as session:
                repo.mark_after_import_done(session, [delivery for delivery, _ in pending])

    def _submit(self, work: list[WorkItem]) -> Future[list[PreparedRow]] | list[PreparedRow]:
        if self._executor is None or len(work) < _INLINE_BATCH:
            return prepare_batch(work, self._settings)
        return self._executor.submit(prepare_batch, work, self._settings)

    def _record(
        self,
        results: list[PreparedRow],
        log: FilteringBoundLogger | None = None,
        uids: dict[int, int] | None = None,
    ) -> None:
        if not results:
            return
        rows = [result.columns for result in results]
        try:
            with self._db.transaction() as session:
                repo.apply_updates(session, rows)
        except SQLAlchemyError:
            # One value the database refuses must not cost the batch: retry row by row and
            # quarantine only the row that fails, with the database's reason.
            for row in rows:
                self._record_one(row)
        self._thread([r.message_pk for r in results if r.quarantine_reason is None])
        log = log or get_logger()
        uids = uids if uids is not None else {}
        for result in results:
            uid = uids.pop(result.message_pk, None)
            if result.quarantine_reason is not None:
                log.warning(
                    "message_quarantined",
                    message_pk=result.message_pk,
                    uid=uid,
                    message_id=result.columns.get("message_id"),
                    reason=result.quarantine_reason,
                )

    def _thread(self, message_pks: list[int]) -> None:
        """The thread stage, in one transaction per batch; a message it fails on is quarantined
        ("thread: …") and the others are threaded one by one."""
        if not message_pks:
            return
        try:
            with self._db.transaction() as session:
                threaded = thread_messages(session, message_pks, self._ticketing, utcnow())
                self._replies.after_threading(session, threaded, utcnow())
            return
        except Exception:
            get_logger().exception("thread_batch_failed", messages=len(message_pks))
        for pk in message_pks:
            try:
                with self._db.transaction() as session:
                    threaded = thread_messages(session, [pk], self._ticketing, utcnow())
                    self._replies.after_threading(session, threaded, utcnow())
            except Exception as exc:
                reason = f"thread: unexpected {type(exc).__name__}: {str(exc)[:200]}"
                with self._db.transaction() as session:
                    repo.apply_updates(
                        session, [{"id": pk, "status": "quarantined", "reason": reason}]
                    )
                get_logger(message_pk=pk).warning("message_quarantined", reason=reason)

    def _record_one(self, row: dict[str, object]) -> None:
        try:
            with self._db.transaction() as session:
                repo.apply_updates(session, [row])
        except SQLAlchemyError as exc:
            cause = exc.__cause__ or exc
            first_line = str(cause).splitlines()[0][:200] if str(cause) else ""
            reason = (
                "store: the database refused the parsed values: "
                f"{type(cause).__name__}: {first_line}"
            )
            with self._db.transaction() as session:
                repo.apply_updates(
                    session,
                    [
                        {
                            "id": row["id"],
                            "status": "quarantined",
                            "reason": reason,
                            "processed_at": row["processed_at"],
                        }
                    ],
                )

    def process_pending(self) -> int:
        """Finish messages stored but not processed (a crash between store and pipeline)."""
        total = 0
        while not self._stop.is_set():
            with self._db.session() as session:
                ids = repo.pending_message_ids(session, limit=500)
                work = repo.stored_work(session, ids) if ids else []
            if not work:
                break
            self._record(_result_of(self._submit(work)))
            total += len(work)
        # Processed but not threaded: a crash between the two commits.
        while not self._stop.is_set():
            with self._db.session() as session:
                unthreaded = repo.unthreaded_message_ids(session, limit=500)
            if not unthreaded:
                break
            self._thread(unthreaded)
            total += len(unthreaded)
        if total:
            get_logger().info("pending_processed", count=total)
        return total

    def reprocess(self, message_ids: Sequence[int]) -> list[PreparedRow]:
        """Run the pipeline again on stored raw bytes (after a fix, or a rules change)."""
        results: list[PreparedRow] = []
        for start in range(0, len(message_ids), 500):
            with self._db.session() as session:
                work = repo.stored_work(session, message_ids[start : start + 500])
            chunk = _result_of(self._submit(work))
            self._record(chunk)
            results.extend(chunk)
        return results


def ticketing_settings(config: Config) -> TicketingSettings:
    return TicketingSettings(
        policy=ThreadingPolicy(
            number_prefix=config.tickets.number_prefix,
            subject_window=config.tickets.subject_window,
            reopen_after=config.tickets.reopen_after,
        ),
        timezone=config.timezone,
        own_addresses=frozenset(mailbox.address.lower() for mailbox in config.mailboxes),
    )


def pipeline_settings(config: Config, rules: RuleSet) -> PipelineSettings:
    return PipelineSettings(
        ruleset=rules,
        timezone=config.timezone,
        calendar=config.sla.calendar,
        owners=dict(config.owners),
        mailboxes={
            mailbox.name: MailboxFacts(mailbox.address, mailbox.default_owner)
            for mailbox in config.mailboxes
        },
    )


def _finished(item: Future[list[PreparedRow]] | list[PreparedRow]) -> bool:
    return not isinstance(item, Future) or item.done()


def _result_of(item: Future[list[PreparedRow]] | list[PreparedRow]) -> list[PreparedRow]:
    return item.result() if isinstance(item, Future) else item
