"""The runs API: start agent runs, read and follow them, steer them."""

from __future__ import annotations

import time
import urllib.parse
from typing import Any, Dict, Generator, Iterator, List, Mapping, Optional, Sequence, Set, Union

from ._transport import Transport
from .execution_types import FileInput, file_json
from .retry import RetryOptions
from .run_events import RunSource, follow_run_events
from .run_types import EventPage, RunCreated, RunEvent, RunList, RunSummary, RunView, WaitingCall, waiting_calls

__all__ = ["Runs", "RUN_LIST_MAX", "MESSAGE_MAX_CHARS"]

#: The most a page of ``GET /v1/runs`` holds.
RUN_LIST_MAX = 100
#: The longest message ``send()`` takes.
MESSAGE_MAX_CHARS = 16_384


class _Unset:
    def __repr__(self) -> str:
        return "UNSET"


#: ``planner``'s default: the API's (an OpenAI planner). ``planner=None`` skips planning.
UNSET: Any = _Unset()


class Runs:
    """``/v1/runs``: create, get, list, follow, wait for, cancel, approve, and continue runs."""

    def __init__(self, transport: Transport, retry: RetryOptions) -> None:
        self._t = transport
        self._retry = retry

    def create(
        self,
        task: str,
        *,
        team: Optional[Mapping[str, Any]] = None,
        from_state: Optional[Mapping[str, Any]] = None,
        planner: Union[Mapping[str, Any], None] = UNSET,
        coder: Optional[Mapping[str, Any]] = None,
        max_iterations: Optional[int] = None,
        token_budget: Optional[int] = None,
        timeout_ms: Optional[int] = None,
        approval: Optional[str] = None,
        limits: Optional[Mapping[str, float]] = None,
        files: Optional[Sequence[FileInput]] = None,
        metadata: Optional[Mapping[str, str]] = None,
        webhook_url: Optional[str] = None,
        pool: Optional[str] = None,
        context: Optional[Mapping[str, Any]] = None,
    ) -> RunCreated:
        """Starts a run: the default team (planner, then coder), or the ``team`` it
        names, or, with ``from_state`` (what :meth:`state` gave), a team that goes
        on with an earlier run's conversation, ``task`` being its next turn.

        Nested values take the API's JSON shape and names: ``team`` as in
        docs/teams.md, ``planner`` and ``coder`` as ``{"provider", "model",
        "baseUrl"}``, ``limits`` as ``{"timeoutMs": 5000}``. ``planner=None``
        skips planning: the task is the one step. ``approval="always"`` parks
        the run before each execution until :meth:`approve` decides.

        >>> run = swarm.runs.create("Print the 100th prime.", planner=None, max_iterations=4)
        >>> team = {"kind": "round_robin",
        ...         "participants": [{"name": "coder", "role": "coder"}, {"name": "reviewer", "role": "assistant"}],
        ...         "termination": {"textMention": "APPROVE", "sources": ["reviewer"]}}
        >>> run = swarm.runs.create("Print 2 + 2.", team=team)
        """
        if not isinstance(task, str) or not task:
            raise ValueError("runs.create: task must be a non-empty string")
        body: Dict[str, Any] = {"task": task}
        if planner is not UNSET:
            body["planner"] = None if planner is None else dict(planner)
        optional = {
            "team": team,
            "fromState": from_state,
            "coder": coder,
            "maxIterations": max_iterations,
            "tokenBudget": token_budget,
            "timeoutMs": timeout_ms,
            "approval": approval,
            "limits": dict(limits) if limits is not None else None,
            "files": [file_json(f) for f in files] if files is not None else None,
            "metadata": dict(metadata) if metadata is not None else None,
            "webhookUrl": webhook_url,
            "pool": pool,
            "context": context,
        }
        body.update({k: v for k, v in optional.items() if v is not None})
        return self._t.json("POST", "/v1/runs", RunCreated.from_json, body=body)

    def get(self, run_id: str) -> RunView:
        """The run as it is now: status, plan, iterations, result, usage, error."""
        return self._t.json("GET", _path(run_id), RunView.from_json)

    def list(self, *, limit: Optional[int] = None, cursor: Optional[str] = None) -> RunList:
        """One page of the tenant's runs, newest first (``limit``: 1 to 100, default 20);
        pass ``next_cursor`` back as ``cursor`` for the next.

        >>> page = swarm.runs.list(limit=10)
        >>> older = swarm.runs.list(limit=10, cursor=page.next_cursor) if page.next_cursor else None
        """
        if limit is not None and (isinstance(limit, bool) or not isinstance(limit, int) or not 1 <= limit <= RUN_LIST_MAX):
            raise ValueError(f"runs.list: limit must be a whole number from 1 to {RUN_LIST_MAX}, got {limit!r}")
        return self._t.json("GET", "/v1/runs", RunList.from_json, query={"limit": limit, "cursor": cursor})

    def all(self, *, page_size: int = RUN_LIST_MAX) -> Iterator[RunSummary]:
        """Every run of the tenant, newest first, fetching pages as the loop asks.

        >>> for run in swarm.runs.all():
        ...     print(run.id, run.status)
        """
        cursor: Optional[str] = None
        seen: Set[str] = set()
        while True:
            page = self.list(limit=page_size, cursor=cursor)
            yield from page.runs
            cursor = page.next_cursor
            # A cursor that came back twice would loop forever; the contract says it never does.
            if cursor is None or cursor in seen:
                return
            seen.add(cursor)

    def events(self, run_id: str, *, after: int = 0) -> Generator[RunEvent, None, None]:
        """The run's events as they happen (SSE), from the first (or after ``after``),
        resuming by itself after a dropped connection (``Last-Event-ID``) with no
        gap or repeat, and ending after the last ``run.finished`` (a run continued
        with :meth:`send` has one per turn).

        >>> for event in swarm.runs.events(run.id):
        ...     print(event.seq, event.type)
        """
        if isinstance(after, bool) or not isinstance(after, int) or after < 0:
            raise ValueError(f"runs.events: after must be a whole number >= 0, got {after!r}")
        return follow_run_events(self._t, run_id, _path(run_id), self._retry, self._source(run_id), after)

    def event_page(self, run_id: str, *, after: int = 0, limit: Optional[int] = None) -> EventPage:
        """One JSON page of the run's log after ``after`` (the log so far, without following)."""
        return self._t.json(
            "GET", f"{_path(run_id)}/events", EventPage.from_json, query={"after": after, "limit": limit}
        )

    def wait(self, run_id: str, *, timeout: Optional[float] = None) -> RunView:
        """Returns the run once it has ended (``succeeded``, ``failed``, ``cancelled``
        or ``timed_out``); raises ``TimeoutError`` after ``timeout`` seconds, if given.

        >>> run = swarm.runs.wait(created.id, timeout=600)
        >>> run.status, run.result.stdout if run.result else None
        """
        deadline = None if timeout is None else time.monotonic() + timeout
        now = self.get(run_id)
        if now.ended:
            return now
        # To the events' end, not the first run.finished: a continued run has one per turn.
        for _ in follow_run_events(
            self._t, run_id, _path(run_id), self._retry, self._source(run_id), 0, deadline=deadline
        ):
            pass
        return self.get(run_id)

    def cancel(self, run_id: str) -> RunView:
        """Ends the run as ``cancelled`` and kills its running container; ``InvalidStateError`` if it has ended."""
        return self._t.json("POST", f"{_path(run_id)}/cancel", RunView.from_json)

    def approve(
        self, run_id: str, *, approve: bool = True, reason: Optional[str] = None, tool_call_id: Optional[str] = None
    ) -> RunView:
        """Approves (or, with ``approve=False``, denies, telling the coder ``reason``) a
        call the run is parked on in ``awaiting_approval``: the one ``tool_call_id``
        names, else the first waiting. A reply with several run_code calls waits
        until each is decided; the approved ones then run.

        >>> swarm.runs.approve(run.id)
        >>> swarm.runs.approve(run.id, approve=False, reason="no network calls, please")
        """
        if not isinstance(approve, bool):
            raise TypeError(f"runs.approve: approve must be True or False, got {approve!r}")
        body: Dict[str, Any] = {"approve": approve}
        if reason is not None:
            body["reason"] = reason
        if tool_call_id is not None:
            body["toolCallId"] = tool_call_id
        return self._t.json("POST", f"{_path(run_id)}/approval", RunView.from_json, body=body)

    def send(self, run_id: str, text: str) -> RunView:
        """Sends the run a message, and returns the run. A swarm that handed off to
        the user (``awaiting_input``) takes it as the answer it waits for; a run
        that has ended takes it as its next task turn and goes on, with its
        conversation and workspace. While the run works: ``InvalidStateError``.

        >>> swarm.runs.send(run.id, "Now write the result to out.csv.")
        >>> swarm.runs.wait(run.id)
        """
        if not isinstance(text, str) or not text or len(text) > MESSAGE_MAX_CHARS:
            raise ValueError(f"runs.send: text must be a non-empty string of at most {MESSAGE_MAX_CHARS} characters")
        return self._t.json("POST", f"{_path(run_id)}/messages", RunView.from_json, body={"text": text})

    def state(self, run_id: str) -> Dict[str, Any]:
        """A team run's state as the API exports it (versioned JSON): pass it back as
        ``runs.create(task, from_state=state)`` to go on with the conversation in a
        new run. A run of the default team has none (``InvalidStateError``).

        >>> state = swarm.runs.state(run.id)
        >>> swarm.runs.create("And now the tests.", from_state=state)
        """
        return self._t.json("GET", f"{_path(run_id)}/state", lambda o: o.data)

    def waiting(self, run_id: str) -> List[WaitingCall]:
        """The calls the run waits on for a decision, in the order asked, each with
        its ``tool_call_id``, code and files; empty unless it is ``awaiting_approval``.

        >>> for call in swarm.runs.waiting(run.id):
        ...     swarm.runs.approve(run.id, approve="rm -rf" not in call.code, tool_call_id=call.tool_call_id)
        """
        events: List[RunEvent] = []
        after = 0
        # Bounded: each page moves `after` on or ends the loop.
        for _ in range(100_000):
            page = self.event_page(run_id, after=after, limit=1000).events
            if not page:
                break
            events.extend(e for e in page if e.type.startswith("approval.") or e.type == "run.finished")
            after = page[-1].seq
        return waiting_calls(events)

    def _source(self, run_id: str) -> RunSource:
        return RunSource(
            view=lambda: self.get(run_id),
            page=lambda after, limit: self.event_page(run_id, after=after, limit=limit),
        )


def _path(run_id: str) -> str:
    if not isinstance(run_id, str) or not run_id:
        raise ValueError(f"a run id must be a non-empty string such as 'run_…', got {run_id!r}")
    return f"/v1/runs/{urllib.parse.quote(run_id, safe='')}"
