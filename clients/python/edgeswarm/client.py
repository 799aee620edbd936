"""The client: one API endpoint and key, and the three parts of the API."""

from __future__ import annotations

from typing import Optional

from ._transport import Transport
from .agents import Agents
from .executions import Executions
from .retry import DEFAULT_RETRY, RetryOptions
from .runs import Runs
from .version import __version__

__all__ = ["Edgeswarm"]


class Edgeswarm:
    """The edgeswarm API client. Standard library only, synchronous, and safe to
    share between threads (each call opens its own connection).

    ``timeout`` bounds each ordinary call in seconds (default: none, since an
    execution may wait in the queue and then run for minutes). Streams have
    their own bound on silence, 30 s, which the Worker's 2 s keep-alives never
    reach. ``retry`` says how ``runs.events()`` retries a dropped stream.

    >>> import os
    >>> swarm = Edgeswarm(os.environ["EDGESWARM_URL"], os.environ["EDGESWARM_API_KEY"])
    >>> created = swarm.runs.create("Print the 10th Fibonacci number.", planner=None)
    >>> swarm.runs.wait(created.id).status
    'succeeded'
    """

    def __init__(
        self,
        url: str,
        api_key: str,
        *,
        timeout: Optional[float] = None,
        retry: RetryOptions = DEFAULT_RETRY,
    ) -> None:
        if not isinstance(retry, RetryOptions):
            raise TypeError(f"Edgeswarm: retry must be a RetryOptions, got {retry!r}")
        self._transport = Transport(url, api_key, timeout, f"edgeswarm-python/{__version__}")
        #: The base URL, without a trailing slash.
        self.url = self._transport.base_url
        self.executions = Executions(self._transport)
        self.runs = Runs(self._transport, retry)
        self.agents = Agents(self._transport)

    def __repr__(self) -> str:
        return f"Edgeswarm({self.url!r})"
