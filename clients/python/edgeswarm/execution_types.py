"""What ``POST /v1/executions`` takes and answers: files, results, stream events.

Field names are the API's, in snake_case (``exitCode`` is ``exit_code``).
"""

from __future__ import annotations

import base64
import binascii
from dataclasses import dataclass
from typing import Any, ClassVar, Dict, List, Mapping, Optional, Union

from ._json import Obj
from .errors import EdgeswarmInvalidResponseError

__all__ = [
    "WorkspaceFile",
    "FileInput",
    "ErrorInfo",
    "Truncated",
    "ExecutionSummary",
    "ExecutionResult",
    "Queued",
    "Started",
    "Stdout",
    "Stderr",
    "Finished",
    "ExecutionEvent",
]


@dataclass(frozen=True)
class WorkspaceFile:
    """A file in the sandbox's ``/workspace``: sent with a request, or returned.

    >>> WorkspaceFile("data.csv", "a,b\\n1,2\\n")
    >>> WorkspaceFile.from_bytes("plot.png", png_bytes)  # base64 on the wire
    """

    path: str
    content: str
    encoding: str = "utf8"

    @staticmethod
    def from_bytes(path: str, data: bytes) -> "WorkspaceFile":
        """A file of any bytes, sent as base64."""
        return WorkspaceFile(path, base64.b64encode(data).decode("ascii"), "base64")

    @property
    def data(self) -> bytes:
        """The file's bytes, whatever its encoding on the wire."""
        if self.encoding == "base64":
            try:
                return base64.b64decode(self.content, validate=True)
            except binascii.Error as err:
                raise EdgeswarmInvalidResponseError(f"file {self.path}: its base64 content is invalid ({err})") from err
        return self.content.encode("utf-8")

    def to_json(self) -> Dict[str, str]:
        return {"path": self.path, "content": self.content, "encoding": self.encoding}

    @staticmethod
    def from_json(o: Obj) -> "WorkspaceFile":
        return WorkspaceFile(o.string("path"), o.string("content"), o.opt_string("encoding") or "utf8")


#: A file for a request: a :class:`WorkspaceFile`, or its JSON shape ``{"path", "content", "encoding"?}``.
FileInput = Union[WorkspaceFile, Mapping[str, str]]


def file_json(f: FileInput) -> Dict[str, str]:
    """@internal A request's file as JSON."""
    if isinstance(f, WorkspaceFile):
        return f.to_json()
    if isinstance(f, Mapping) and isinstance(f.get("path"), str) and isinstance(f.get("content"), str):
        return dict(f)
    raise TypeError(f"a file must be a WorkspaceFile or a dict with 'path' and 'content' strings, got {f!r}")


@dataclass(frozen=True)
class ErrorInfo:
    """``{code, message, details}``: why an execution has status ``error``, or
    why a result is partial (``files_truncated``)."""

    code: str
    message: str
    details: Any = None

    @staticmethod
    def from_json(o: Obj) -> "ErrorInfo":
        return ErrorInfo(o.string("code"), o.string("message"), o.raw("details"))


@dataclass(frozen=True)
class Truncated:
    """Which output streams passed ``outputBytes`` and were cut."""

    stdout: bool
    stderr: bool


@dataclass(frozen=True)
class ExecutionSummary:
    """How an execution ended and where it ran: the stream's ``finished`` result.

    ``status`` is ``succeeded``, ``failed``, ``timed_out``, ``oom_killed``,
    ``output_limited``, ``cancelled`` or ``error`` (then ``error.code`` says why).
    """

    id: str
    status: str
    exit_code: Optional[int]
    signal: Optional[str]
    duration_ms: float
    truncated: Truncated
    files: List[WorkspaceFile]
    agent_id: Optional[str]
    trace_id: Optional[str]
    error: Optional[ErrorInfo]

    @property
    def succeeded(self) -> bool:
        return self.status == "succeeded"

    @staticmethod
    def _fields(o: Obj) -> Dict[str, Any]:
        truncated = o.obj("truncated")
        error = o.opt_obj("error")
        return {
            "id": o.string("id"),
            "status": o.string("status"),
            "exit_code": o.opt_integer("exitCode"),
            "signal": o.opt_string("signal"),
            "duration_ms": o.number("durationMs"),
            "truncated": Truncated(truncated.boolean("stdout"), truncated.boolean("stderr")),
            "files": o.objects("files", WorkspaceFile.from_json),
            "agent_id": o.opt_string("agentId"),
            "trace_id": o.opt_string("traceId"),
            "error": ErrorInfo.from_json(error) if error else None,
        }

    @staticmethod
    def from_json(o: Obj) -> "ExecutionSummary":
        return ExecutionSummary(**ExecutionSummary._fields(o))


@dataclass(frozen=True)
class ExecutionResult(ExecutionSummary):
    """``POST /v1/executions``'s answer: the summary and the whole output.

    >>> r = swarm.executions.run("python", "print(6 * 7)")
    >>> r.status, r.exit_code, r.stdout
    ('succeeded', 0, '42\\n')
    """

    stdout: str
    stderr: str

    @staticmethod
    def from_json(o: Obj) -> "ExecutionResult":
        return ExecutionResult(**ExecutionSummary._fields(o), stdout=o.string("stdout"), stderr=o.string("stderr"))


@dataclass(frozen=True)
class Queued:
    """The execution waits for a sandbox; ``position`` 1 is next."""

    type: ClassVar[str] = "queued"
    position: int


@dataclass(frozen=True)
class Started:
    """A sandbox took the execution."""

    type: ClassVar[str] = "started"
    id: str
    agent_id: str


@dataclass(frozen=True)
class Stdout:
    """Output the program wrote to stdout, as it wrote it."""

    type: ClassVar[str] = "stdout"
    data: str


@dataclass(frozen=True)
class Stderr:
    """Output the program wrote to stderr, as it wrote it."""

    type: ClassVar[str] = "stderr"
    data: str


@dataclass(frozen=True)
class Finished:
    """The last event: how it ended (``result`` holds no output; that came before)."""

    type: ClassVar[str] = "finished"
    result: ExecutionSummary


#: One event of ``executions.stream()``; branch on ``event.type`` or on the class.
ExecutionEvent = Union[Queued, Started, Stdout, Stderr, Finished]


def execution_event(o: Obj) -> ExecutionEvent:
    """@internal One SSE event's data, by its ``type``."""
    kind = o.string("type")
    if kind == "queued":
        return Queued(o.integer("position"))
    if kind == "started":
        return Started(o.string("id"), o.string("agentId"))
    if kind == "stdout":
        return Stdout(o.string("data"))
    if kind == "stderr":
        return Stderr(o.string("data"))
    if kind == "finished":
        return Finished(ExecutionSummary.from_json(o.obj("result")))
    raise EdgeswarmInvalidResponseError(f"{o.where}.type: unknown execution event type {kind!r}")
