"""The errors the SDK raises: few classes, each with a stable ``code``.

Branch on ``code`` (or on the class): both are stable.

>>> try:
...     swarm.runs.get("run_000000000000000000000000")
... except NotFoundError as err:
...     print(err.code, err.status)  # not_found 404
"""

from __future__ import annotations

import email.utils
import errno
import json
import time
from typing import Any, Dict, Optional, Type

__all__ = [
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
]


class EdgeswarmError(Exception):
    """Every error the SDK raises. ``code`` is one of the API's error codes, or the
    client's own ``unreachable`` and ``invalid_response``; ``status`` is the HTTP
    status, or None when no answer came."""

    code: str
    status: Optional[int]
    message: str
    details: Any

    def __init__(self, code: str, message: str, *, status: Optional[int] = None, details: Any = None) -> None:
        super().__init__(message)
        self.code = code
        self.status = status
        self.message = message
        self.details = details

    def __str__(self) -> str:
        where = f"HTTP {self.status}" if self.status is not None else "no answer"
        return f"{self.message} ({self.code}, {where})"


class EdgeswarmApiError(EdgeswarmError):
    """The API answered with an error: a non-2xx status and its
    ``{"error": {"code", "message", "details"}}`` body.

    ``retry_after`` is the seconds the ``Retry-After`` header asked for (429
    ``quota_exceeded`` and ``queue_full``, 503 ``no_capacity`` and ``no_agents``),
    or None. ``status`` is always set."""

    def __init__(
        self, status: int, code: str, message: str, details: Any = None, retry_after: Optional[float] = None
    ) -> None:
        super().__init__(code, message, status=status, details=details)
        self.retry_after = retry_after


class InvalidRequestError(EdgeswarmApiError):
    """400: ``invalid_request`` (``details`` lists each field's ``path`` and ``message``) or ``invalid_json``."""


class UnauthorizedError(EdgeswarmApiError):
    """401 ``unauthorized``: no API key, or a wrong one."""


class ForbiddenError(EdgeswarmApiError):
    """403: ``forbidden`` (a pool the key may not use) or ``model_not_allowed``."""


class NotFoundError(EdgeswarmApiError):
    """404 ``not_found``: no such run for this key's tenant."""


class InvalidStateError(EdgeswarmApiError):
    """409 ``invalid_state``: the run is not in a state that allows the call."""


class RateLimitedError(EdgeswarmApiError):
    """429: ``quota_exceeded`` (``details``: ``{quota, limit}``) or ``queue_full``; see ``retry_after``."""


class UnavailableError(EdgeswarmApiError):
    """503: ``no_capacity``, ``no_agents``, ``pool_unavailable`` or ``misconfigured``; see ``retry_after``."""


class EdgeswarmUnreachableError(EdgeswarmError):
    """No answer from the API at all (refused, reset, DNS, TLS, a timeout): the
    URL is wrong, or the Worker is down. ``code`` is ``unreachable``."""

    def __init__(self, url: str, cause: BaseException) -> None:
        super().__init__("unreachable", f"cannot reach {url}: {describe(cause)}")
        self.__cause__ = cause


class EdgeswarmInvalidResponseError(EdgeswarmError):
    """An answer that is not what the API contract says: client and server are
    out of step. ``code`` is ``invalid_response``."""

    def __init__(self, message: str, *, status: Optional[int] = None) -> None:
        super().__init__("invalid_response", message, status=status)


_BY_STATUS: Dict[int, Type[EdgeswarmApiError]] = {
    400: InvalidRequestError,
    401: UnauthorizedError,
    403: ForbiddenError,
    404: NotFoundError,
    409: InvalidStateError,
    429: RateLimitedError,
    503: UnavailableError,
}


def api_error(status: int, body: bytes, retry_after_header: Optional[str]) -> EdgeswarmApiError:
    """@internal The typed error for a non-2xx answer, whatever its body holds."""
    retry_after = parse_retry_after(retry_after_header)
    cls = _BY_STATUS.get(status, EdgeswarmApiError)
    text = body.decode("utf-8", "replace")
    try:
        parsed = json.loads(text)
    except ValueError:
        parsed = None
    error = parsed.get("error") if isinstance(parsed, dict) else None
    if isinstance(error, dict) and isinstance(error.get("code"), str) and isinstance(error.get("message"), str):
        return cls(status, error["code"], error["message"], error.get("details"), retry_after)
    # Not our error body (a proxy's page, a gateway timeout): keep the status, say what came.
    snippet = text if len(text) <= 200 else text[:200] + "…"
    message = f"HTTP {status}: {snippet}" if snippet else f"HTTP {status}"
    return cls(status, _fallback_code(status), message, None, retry_after)


def _fallback_code(status: int) -> str:
    return {401: "unauthorized", 403: "forbidden", 404: "not_found", 413: "payload_too_large"}.get(
        status, "invalid_request" if 400 <= status < 500 else "internal_error"
    )


def parse_retry_after(header: Optional[str]) -> Optional[float]:
    """Seconds from a ``Retry-After`` header: a number, or an HTTP date (RFC 9110)."""
    if not header:
        return None
    header = header.strip()
    try:
        seconds = float(header)
        return seconds if seconds >= 0 else None
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(header)
    except (TypeError, ValueError):
        return None
    return max(0.0, when.timestamp() - time.time())


def describe(err: BaseException) -> str:
    # urllib wraps the socket's error in URLError.reason; errno names say the most (ECONNREFUSED).
    inner = getattr(err, "reason", None)
    if isinstance(inner, BaseException):
        err = inner
    number = getattr(err, "errno", None)
    if isinstance(number, int) and number in errno.errorcode:
        return f"{errno.errorcode[number]} ({getattr(err, 'strerror', None) or err})"
    name = type(err).__name__
    text = str(err) or name
    return text if name in text else f"{name}: {text}"
