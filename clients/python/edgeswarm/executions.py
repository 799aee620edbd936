"""Plain executions: run code once in a fresh sandbox, no model."""

from __future__ import annotations

import json
from typing import Any, Dict, Generator, Mapping, Optional, Sequence

from ._json import Obj
from ._transport import STREAM_IDLE_TIMEOUT_S, Transport
from .errors import EdgeswarmInvalidResponseError, EdgeswarmUnreachableError
from .execution_types import ExecutionEvent, ExecutionResult, FileInput, execution_event, file_json
from .sse import SseParser

__all__ = ["Executions"]


class Executions:
    """``POST /v1/executions``, as one answer or as a live stream."""

    def __init__(self, transport: Transport) -> None:
        self._t = transport

    def run(
        self,
        language: str,
        code: str,
        *,
        files: Optional[Sequence[FileInput]] = None,
        stdin: Optional[str] = None,
        args: Optional[Sequence[str]] = None,
        env: Optional[Mapping[str, str]] = None,
        limits: Optional[Mapping[str, float]] = None,
        queue_timeout_ms: Optional[int] = None,
        pool: Optional[str] = None,
    ) -> ExecutionResult:
        """Runs ``code`` and returns its result once it ends, whatever its
        ``status``: a program that fails is a result, not an error.

        ``limits`` takes the API's names, e.g. ``{"timeoutMs": 5000, "memoryMb": 128}``.

        >>> r = swarm.executions.run("python", "import sys; print(sys.stdin.read().upper())", stdin="hi")
        >>> r.stdout
        'HI\\n'
        """
        body = _body(language, code, files, stdin, args, env, limits, queue_timeout_ms, pool)
        return self._t.json("POST", "/v1/executions", ExecutionResult.from_json, body=body)

    def stream(
        self,
        language: str,
        code: str,
        *,
        files: Optional[Sequence[FileInput]] = None,
        stdin: Optional[str] = None,
        args: Optional[Sequence[str]] = None,
        env: Optional[Mapping[str, str]] = None,
        limits: Optional[Mapping[str, float]] = None,
        queue_timeout_ms: Optional[int] = None,
        pool: Optional[str] = None,
    ) -> Generator[ExecutionEvent, None, None]:
        """Runs ``code`` and yields its events as they happen: ``Queued`` while it
        waits for a sandbox, ``Started``, ``Stdout`` and ``Stderr`` chunks, then
        ``Finished`` with the result (without the output, which came before).

        A refusal before the stream begins (a full queue, a quota, no such
        language) raises as ``run()`` does. Closing the generator early closes
        the connection, which kills the sandbox: ``close()`` it, or loop in
        ``contextlib.closing(...)`` (CPython also closes one dropped after ``break``).

        >>> for event in swarm.executions.stream("python", "print(1)"):
        ...     if event.type == "stdout":
        ...         print(event.data, end="")
        """
        body = _body(language, code, files, stdin, args, env, limits, queue_timeout_ms, pool)
        return self._follow(body)

    def _follow(self, body: Dict[str, Any]) -> Generator[ExecutionEvent, None, None]:
        res = self._t.open(
            "POST",
            "/v1/executions",
            body=body,
            headers={"Accept": "text/event-stream"},
            timeout=STREAM_IDLE_TIMEOUT_S,
        )
        with res:
            parser = SseParser()
            for chunk in self._t.chunks(res):
                for message in parser.feed(chunk):
                    try:
                        data = json.loads(message.data)
                    except ValueError:
                        raise EdgeswarmInvalidResponseError(f"execution event {message.event!r} is not JSON") from None
                    event = execution_event(Obj(data, f"execution event {message.event!r}"))
                    yield event
                    if event.type == "finished":
                        return
        raise EdgeswarmUnreachableError(self._t.base_url, ConnectionError("the execution stream ended before `finished`"))


def _body(
    language: str,
    code: str,
    files: Optional[Sequence[FileInput]],
    stdin: Optional[str],
    args: Optional[Sequence[str]],
    env: Optional[Mapping[str, str]],
    limits: Optional[Mapping[str, float]],
    queue_timeout_ms: Optional[int],
    pool: Optional[str],
) -> Dict[str, Any]:
    # Checked by the API too (400 invalid_request naming the field); only the
    # shape Python could get wrong silently is checked here.
    if not isinstance(language, str) or not isinstance(code, str):
        raise TypeError("executions: language and code must be strings, e.g. run('python', 'print(1)')")
    if isinstance(args, str):
        raise TypeError("executions: args must be a list of strings, not one string")
    body: Dict[str, Any] = {"language": language, "code": code}
    optional = {
        "files": [file_json(f) for f in files] if files is not None else None,
        "stdin": stdin,
        "args": list(args) if args is not None else None,
        "env": dict(env) if env is not None else None,
        "limits": dict(limits) if limits is not None else None,
        "queueTimeoutMs": queue_timeout_ms,
        "pool": pool,
    }
    body.update({k: v for k, v in optional.items() if v is not None})
    return body
