"""What the runs API answers: a run's view, its list, its events.

Field names are the API's, in snake_case (``currentStep`` is ``current_step``).
Event payloads stay as the API sends them (dicts with camelCase keys): their
schemas, one per event type, are in ``shared/src/events.ts``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Dict, Iterable, List, Optional

from ._json import Obj
from .execution_types import WorkspaceFile

__all__ = [
    "TERMINAL_RUN_STATUSES",
    "RunLinks",
    "RunCreated",
    "PlanStep",
    "FileSize",
    "RunResult",
    "TokenUsage",
    "RunUsage",
    "TeamInfo",
    "RunError",
    "WebhookStatus",
    "RunView",
    "RunSummary",
    "RunList",
    "RunEvent",
    "EventPage",
    "WaitingCall",
    "waiting_calls",
]

#: The statuses a run ends in; until then it is ``queued``, ``planning``,
#: ``running``, ``awaiting_approval`` or ``awaiting_input``.
TERMINAL_RUN_STATUSES = ("succeeded", "failed", "cancelled", "timed_out")


@dataclass(frozen=True)
class RunLinks:
    """The run's paths: ``run`` is the API's ``links.self``."""

    run: str
    events: str
    messages: str
    state: str

    @staticmethod
    def from_json(o: Obj) -> "RunLinks":
        return RunLinks(o.string("self"), o.string("events"), o.string("messages"), o.string("state"))


@dataclass(frozen=True)
class RunCreated:
    """``POST /v1/runs``'s answer: the new run's id, status and links."""

    id: str
    status: str
    trace_id: Optional[str]
    links: RunLinks

    @staticmethod
    def from_json(o: Obj) -> "RunCreated":
        return RunCreated(o.string("id"), o.string("status"), o.opt_string("traceId"), RunLinks.from_json(o.obj("links")))


@dataclass(frozen=True)
class PlanStep:
    goal: str
    success_criterion: str

    @staticmethod
    def from_json(o: Obj) -> "PlanStep":
        return PlanStep(o.string("goal"), o.string("successCriterion"))


@dataclass(frozen=True)
class FileSize:
    """A file the run wrote, named with its decoded size."""

    path: str
    encoding: str
    bytes: int

    @staticmethod
    def from_json(o: Obj) -> "FileSize":
        return FileSize(o.string("path"), o.string("encoding"), o.integer("bytes"))


@dataclass(frozen=True)
class RunResult:
    """A finished run's verified result. ``stopped_by``: a team's met conditions (as the API sends them)."""

    summary: str
    code: str
    stdout: str
    files: List[WorkspaceFile]
    manifest: List[FileSize]
    stopped_by: Optional[List[Dict[str, Any]]]

    @staticmethod
    def from_json(o: Obj) -> "RunResult":
        return RunResult(
            o.string("summary"),
            o.string("code"),
            o.string("stdout"),
            o.objects("files", WorkspaceFile.from_json),
            o.objects("manifest", FileSize.from_json),
            o.opt_objects("stoppedBy", lambda c: c.data),
        )


@dataclass(frozen=True)
class TokenUsage:
    """Tokens in and out; ``input_tokens`` counts cached ones too, which the cache fields say, where reported."""

    input_tokens: int
    output_tokens: int
    cache_read_tokens: Optional[int]
    cache_write_tokens: Optional[int]

    @staticmethod
    def from_json(o: Obj) -> "TokenUsage":
        return TokenUsage(
            o.integer("inputTokens"),
            o.integer("outputTokens"),
            o.opt_integer("cacheReadTokens"),
            o.opt_integer("cacheWriteTokens"),
        )


@dataclass(frozen=True)
class RunUsage:
    """Per role and in total; ``team``: a team run's per participant (and selector or orchestrator)."""

    planner: TokenUsage
    coder: TokenUsage
    total: TokenUsage
    team: Optional[Dict[str, TokenUsage]]

    @staticmethod
    def from_json(o: Obj) -> "RunUsage":
        team = o.opt_obj("team")
        return RunUsage(
            TokenUsage.from_json(o.obj("planner")),
            TokenUsage.from_json(o.obj("coder")),
            TokenUsage.from_json(o.obj("total")),
            {name: TokenUsage.from_json(team.obj(name)) for name in team.data} if team else None,
        )


@dataclass(frozen=True)
class TeamInfo:
    """A team run's kind, its messages so far, and who speaks next."""

    kind: str
    messages: int
    next: Optional[str]

    @staticmethod
    def from_json(o: Obj) -> "TeamInfo":
        return TeamInfo(o.string("kind"), o.integer("messages"), o.opt_string("next"))


@dataclass(frozen=True)
class RunError:
    """Why a run ended other than ``succeeded``: ``reason`` is ``max_iterations``, ``token_budget``, ..."""

    reason: str
    message: str

    @staticmethod
    def from_json(o: Obj) -> "RunError":
        return RunError(o.string("reason"), o.string("message"))


@dataclass(frozen=True)
class WebhookStatus:
    """Where the run's webhook delivery stands: ``state`` is ``pending``, ``delivered`` or ``failed``."""

    delivery_id: str
    state: str
    attempts: int
    last_status: Optional[int]
    last_error: Optional[str]
    next_attempt_at: Optional[str]

    @staticmethod
    def from_json(o: Obj) -> "WebhookStatus":
        return WebhookStatus(
            o.string("deliveryId"),
            o.string("state"),
            o.integer("attempts"),
            o.opt_integer("lastStatus"),
            o.opt_string("lastError"),
            o.opt_string("nextAttemptAt"),
        )


@dataclass(frozen=True)
class RunView:
    """``GET /v1/runs/:id``: the run as it is now."""

    id: str
    status: str
    task: str
    plan: Optional[List[PlanStep]]
    current_step: Optional[int]
    iterations: int
    result: Optional[RunResult]
    usage: RunUsage
    team: Optional[TeamInfo]
    error: Optional[RunError]
    metadata: Optional[Dict[str, str]]
    created_at: str
    updated_at: str
    finished_at: Optional[str]
    webhook: Optional[WebhookStatus]
    trace_id: Optional[str]
    links: RunLinks

    @property
    def ended(self) -> bool:
        """Whether the run has ended (a message can still continue it)."""
        return self.status in TERMINAL_RUN_STATUSES

    @staticmethod
    def from_json(o: Obj) -> "RunView":
        result, team, error, webhook = (o.opt_obj(k) for k in ("result", "team", "error", "webhook"))
        return RunView(
            id=o.string("id"),
            status=o.string("status"),
            task=o.string("task"),
            plan=o.opt_objects("plan", PlanStep.from_json),
            current_step=o.opt_integer("currentStep"),
            iterations=o.integer("iterations"),
            result=RunResult.from_json(result) if result else None,
            usage=RunUsage.from_json(o.obj("usage")),
            team=TeamInfo.from_json(team) if team else None,
            error=RunError.from_json(error) if error else None,
            metadata=o.opt_string_map("metadata"),
            created_at=o.string("createdAt"),
            updated_at=o.string("updatedAt"),
            finished_at=o.opt_string("finishedAt"),
            webhook=WebhookStatus.from_json(webhook) if webhook else None,
            trace_id=o.opt_string("traceId"),
            links=RunLinks.from_json(o.obj("links")),
        )


@dataclass(frozen=True)
class RunSummary:
    """One line of ``GET /v1/runs``."""

    id: str
    status: str
    task: str
    created_at: str
    updated_at: str

    @staticmethod
    def from_json(o: Obj) -> "RunSummary":
        return RunSummary(
            o.string("id"), o.string("status"), o.string("task"), o.string("createdAt"), o.string("updatedAt")
        )


@dataclass(frozen=True)
class RunList:
    """One page of runs, newest first; pass ``next_cursor`` back as ``cursor`` (None: the last page)."""

    runs: List[RunSummary]
    next_cursor: Optional[str]

    @staticmethod
    def from_json(o: Obj) -> "RunList":
        return RunList(o.objects("runs", RunSummary.from_json), o.opt_string("nextCursor"))


@dataclass(frozen=True)
class RunEvent:
    """One event of a run's log. ``seq`` counts from 1 without gaps; ``payload``
    is the API's, per ``type`` (``run.created``, ``execution.output``, ``run.finished``, ...)."""

    seq: int
    type: str
    source: str
    at: str
    v: int
    payload: Dict[str, Any]

    @staticmethod
    def from_json(o: Obj) -> "RunEvent":
        return RunEvent(
            o.integer("seq"), o.string("type"), o.string("source"), o.string("at"), o.integer("v"), o.obj("payload").data
        )


@dataclass(frozen=True)
class EventPage:
    """One JSON page of a run's log: the events after ``after``, ``next`` to pass
    as the next ``after``, and whether the run has ended with nothing after."""

    events: List[RunEvent]
    next: int
    done: bool

    @staticmethod
    def from_json(o: Obj) -> "EventPage":
        return EventPage(o.objects("events", RunEvent.from_json), o.integer("next"), o.boolean("done"))


@dataclass(frozen=True)
class WaitingCall:
    """A run_code call a run in ``awaiting_approval`` waits on, as its
    ``approval.requested`` event gave it: the code, and the files it writes
    into the workspace first (both run, so both are what is approved)."""

    tool_call_id: str
    #: The plan step, from 0 as the API counts.
    step: int
    language: str
    code: str
    files: List[Dict[str, str]]


def waiting_calls(events: Iterable[RunEvent]) -> List[WaitingCall]:
    """The calls still waiting for a decision after ``events`` (a run's log, in
    order): each ``approval.requested`` adds one, its ``approval.decided`` removes
    it, and ``run.finished`` leaves none."""
    calls: Dict[str, WaitingCall] = {}
    for e in events:
        if e.type == "approval.requested":
            p = Obj(e.payload, f"event {e.seq}.payload")
            calls[p.string("toolCallId")] = WaitingCall(
                p.string("toolCallId"), p.integer("step"), p.string("language"), p.string("code"),
                p.opt_objects("files", lambda f: {"path": f.string("path"), "content": f.string("content")}) or [],
            )
        elif e.type == "approval.decided":
            calls.pop(str(e.payload.get("toolCallId")), None)
        elif e.type == "run.finished":
            calls.clear()
    return list(calls.values())
