"""Run an iterator in a background thread, a few items ahead, so I/O overlaps with work."""

from __future__ import annotations

import queue
import threading
from collections.abc import Iterator
from typing import TypeVar, cast

T = TypeVar("T")
_DONE = object()


class _Failure:
    def __init__(self, error: BaseException) -> None:
        self.error = error


def prefetch(source: Iterator[T], *, depth: int, stop: threading.Event) -> Iterator[T]:
    """Yield `source`'s items, produced by a thread up to `depth` items ahead.

    An exception in the producer is re-raised in the consumer at the point it happened. When
    the consumer stops early (break, exception, `stop` set), the producer stops at its next item.
    """
    buffer: queue.Queue[object] = queue.Queue(maxsize=depth)
    abandoned = threading.Event()

    def put(item: object) -> bool:
        while not abandoned.is_set():
            try:
                buffer.put(item, timeout=0.1)
                return True
            except queue.Full:
                continue
        return False

    def produce() -> None:
        try:
            for item in source:
                if stop.is_set():
                    break
                if not put(item):
                    return
        except BaseException as exc:  # handed to the consumer, which re-raises it
            put(_Failure(exc))
            return
        put(_DONE)

    worker = threading.Thread(target=produce, name="maild-prefetch", daemon=True)
    worker.start()
    try:
        while True:
            item = buffer.get()
            if item is _DONE:
                return
            if isinstance(item, _Failure):
                raise item.error
            yield cast(T, item)
    finally:
        abandoned.set()
        worker.join()
