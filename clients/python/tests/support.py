"""What the stack tests share: the client for the stack the test runner started, and bounded waits.

test/python/python-sdk.test.ts starts the Worker, an agent and the fake model
servers (a coder that prints the 10th Fibonacci number, 55, then finishes),
and passes the Worker's URL and a tenant's key as EDGESWARM_URL and
EDGESWARM_API_KEY.
"""

from __future__ import annotations

import os
import socket
import urllib.parse
from typing import List, Tuple

from edgeswarm import Edgeswarm, RunEvent

#: The longest any one run of these tests may take; the runner's own timeout is longer.
RUN_TIMEOUT_S = 60.0


def stack() -> Tuple[str, str]:
    """The URL and API key of the stack under test; a clear error when the runner set none."""
    url = os.environ.get("EDGESWARM_URL")
    key = os.environ.get("EDGESWARM_API_KEY")
    if not url or not key:
        raise RuntimeError(
            "these tests run against a live stack: set EDGESWARM_URL and EDGESWARM_API_KEY "
            "(npx vitest run test/python does, after starting one)"
        )
    return url, key


def client() -> Edgeswarm:
    url, key = stack()
    return Edgeswarm(url, key)


def stack_port() -> int:
    port = urllib.parse.urlsplit(stack()[0]).port
    if port is None:
        raise RuntimeError("EDGESWARM_URL must name its port, e.g. http://127.0.0.1:8787")
    return port


def closed_port() -> int:
    """A loopback port nothing listens on (it was free a moment ago)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def until(swarm: Edgeswarm, run_id: str, event_type: str) -> List[RunEvent]:
    """The run's events up to the first of ``event_type``; the run goes on (or stays parked) afterwards."""
    seen: List[RunEvent] = []
    for event in swarm.runs.events(run_id):
        seen.append(event)
        if event.type == event_type:
            return seen
    raise AssertionError(f"run {run_id} ended without {event_type}: {[e.type for e in seen]}")
