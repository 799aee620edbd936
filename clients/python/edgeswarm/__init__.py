"""edgeswarm: a typed, synchronous client for the edgeswarm API, standard library only.

>>> from edgeswarm import Edgeswarm
>>> swarm = Edgeswarm("http://127.0.0.1:8787", api_key)
>>> swarm.executions.run("python", "print(6 * 7)").stdout
'42\\n'
"""

from .agent_types import AgentHealth, AgentSandbox, AgentSummary
from .client import Edgeswarm
from .errors import (
    EdgeswarmApiError,
    EdgeswarmError,
    EdgeswarmInvalidResponseError,
    EdgeswarmUnreachableError,
    ForbiddenError,
    InvalidRequestError,
    InvalidStateError,
    NotFoundError,
    RateLimitedError,
    UnauthorizedError,
    UnavailableError,
)
from .execution_types import (
    ErrorInfo,
    ExecutionEvent,
    ExecutionResult,
    ExecutionSummary,
    Finished,
    Queued,
    Started,
    Stderr,
    Stdout,
    Truncated,
    WorkspaceFile,
)
from .retry import DEFAULT_RETRY, RetryOptions
from .run_types import (
    TERMINAL_RUN_STATUSES,
    EventPage,
    FileSize,
    PlanStep,
    RunCreated,
    RunError,
    RunEvent,
    RunLinks,
    RunList,
    RunResult,
    RunSummary,
    RunUsage,
    RunView,
    TeamInfo,
    TokenUsage,
    WaitingCall,
    WebhookStatus,
    waiting_calls,
)
from .version import __version__

__all__ = [
    "Edgeswarm",
    "RetryOptions",
    "DEFAULT_RETRY",
    # errors
    "EdgeswarmError",
    "EdgeswarmApiError",
    "InvalidRequestError",
    "UnauthorizedError",
    "ForbiddenError",
    "NotFoundError",
    "InvalidStateError",
    "RateLimitedError",
    "UnavailableError",
    "EdgeswarmUnreachableError",
    "EdgeswarmInvalidResponseError",
    # executions
    "WorkspaceFile",
    "ErrorInfo",
    "Truncated",
    "ExecutionSummary",
    "ExecutionResult",
    "ExecutionEvent",
    "Queued",
    "Started",
    "Stdout",
    "Stderr",
    "Finished",
    # runs
    "TERMINAL_RUN_STATUSES",
    "RunCreated",
    "RunLinks",
    "RunView",
    "RunResult",
    "RunUsage",
    "TokenUsage",
    "PlanStep",
    "FileSize",
    "TeamInfo",
    "RunError",
    "WebhookStatus",
    "RunSummary",
    "RunList",
    "RunEvent",
    "EventPage",
    "WaitingCall",
    "waiting_calls",
    # agents
    "AgentSummary",
    "AgentHealth",
    "AgentSandbox",
    "__version__",
]
