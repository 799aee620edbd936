"""@internal A run's events over SSE, resumed after any dropped connection.

The follower sends the last sequence number it saw as ``Last-Event-ID``, so each
event is yielded exactly once and in order. It gives up after
``retry.attempts`` failures in a row (any event that arrives resets the count),
and ends after a ``run.finished`` that is the log's last event, or when the run
is already over and nothing is left. A run continued after it ended (a message
sent to it) has one ``run.finished`` per turn; following it from before an
earlier one goes on into the next turn.
"""

from __future__ import annotations

import json
import time
from typing import Callable, Generator, List, Optional

from ._json import Obj
from ._transport import STREAM_IDLE_TIMEOUT_S, Transport
from .errors import EdgeswarmApiError, EdgeswarmError, EdgeswarmInvalidResponseError, EdgeswarmUnreachableError
from .retry import RetryOptions, backoff_seconds
from .run_types import TERMINAL_RUN_STATUSES, EventPage, RunEvent, RunView
from .sse import SseParser


class RunSource:
    """How the follower reads the run when its stream closes: its view, and JSON pages of its log."""

    def __init__(self, view: Callable[[], RunView], page: Callable[[int, Optional[int]], EventPage]) -> None:
        self.view = view
        self.page = page


def _retryable(err: EdgeswarmError) -> bool:
    # The Worker restarting, overloaded, or a gateway in between.
    if isinstance(err, EdgeswarmUnreachableError):
        return True
    return isinstance(err, EdgeswarmApiError) and err.status is not None and (err.status == 429 or err.status >= 500)


def follow_run_events(
    transport: Transport,
    run_id: str,
    path: str,
    retry: RetryOptions,
    source: RunSource,
    after: int = 0,
    deadline: Optional[float] = None,
    sleep: Callable[[float], None] = time.sleep,
) -> Generator[RunEvent, None, None]:
    last = after
    failures = 0
    while True:
        _check(deadline, run_id)
        failure: Optional[EdgeswarmError] = None
        try:
            headers = {"Accept": "text/event-stream"}
            if last > 0:
                headers["Last-Event-ID"] = str(last)
            with transport.open("GET", f"{path}/events", headers=headers, timeout=STREAM_IDLE_TIMEOUT_S) as res:
                parser = SseParser()
                for chunk in transport.chunks(res):
                    # Keep-alives arrive every 2 s, so a deadline is noticed within about that.
                    _check(deadline, run_id)
                    for message in parser.feed(chunk):
                        event = _event(message.data, message.id, run_id)
                        # The server resumes after Last-Event-ID; anything at or before it would be a repeat.
                        if event.seq <= last:
                            continue
                        last = event.seq
                        failures = 0
                        yield event
                        # A run taken up again (POST /messages) has a run.finished per turn: only one with nothing after it ends.
                        if event.type == "run.finished" and not source.page(last, 1).events:
                            return
            # The stream closed without run.finished: either the run had already
            # ended (nothing left after `last`) or the connection was cut cleanly.
            if source.view().status in TERMINAL_RUN_STATUSES:
                for event in _drain(source, last):
                    yield event
                return
        except EdgeswarmError as err:
            if not _retryable(err):
                raise
            failure = err
        failures += 1
        if failures > retry.attempts:
            if failure is not None:
                raise failure
            raise EdgeswarmUnreachableError(transport.base_url, ConnectionError("the event stream kept closing"))
        wait = backoff_seconds(failures, retry)
        if deadline is not None:
            wait = min(wait, max(0.0, deadline - time.monotonic()))
        sleep(wait)


def _event(data: str, event_id: Optional[str], run_id: str) -> RunEvent:
    what = f"event {event_id or '?'} of run {run_id}"
    try:
        parsed = json.loads(data)
    except ValueError:
        raise EdgeswarmInvalidResponseError(f"{what} is not JSON") from None
    return RunEvent.from_json(Obj(parsed, what))


def _drain(source: RunSource, after: int) -> List[RunEvent]:
    """Events after ``after`` from the JSON pages: the rest of an ended run that the closed stream did not carry."""
    out: List[RunEvent] = []
    # Bounded: a run's log is finite, and each page moves `after` forward or ends.
    for _ in range(10_000):
        events = source.page(after, None).events
        if not events:
            break
        out.extend(events)
        after = events[-1].seq
    return out


def _check(deadline: Optional[float], run_id: str) -> None:
    if deadline is not None and time.monotonic() >= deadline:
        raise TimeoutError(f"run {run_id} did not end in time")
