"""@internal One API endpoint and key: builds requests, maps every failure to an
``EdgeswarmError``, and reads answers field by field."""

from __future__ import annotations

import http.client
import ipaddress
import json
import socket
import urllib.error
import urllib.parse
import urllib.request
from typing import Any, Callable, Dict, Iterator, Mapping, Optional, TypeVar, Union

from ._json import Obj
from .errors import EdgeswarmInvalidResponseError, EdgeswarmUnreachableError, api_error

T = TypeVar("T")

Query = Mapping[str, Union[str, int, None]]

# A read of a stream that waits longer than this means a dead connection: the
# Worker sends a keep-alive comment every 2 s on both of its event streams.
STREAM_IDLE_TIMEOUT_S = 30.0

_CHUNK_BYTES = 64 * 1024
# What a connection can break with, below HTTP: refused, reset, timed out, cut mid-body.
NETWORK_ERRORS = (urllib.error.URLError, http.client.HTTPException, OSError)


class Transport:
    def __init__(self, url: str, api_key: str, timeout: Optional[float], user_agent: str) -> None:
        parsed = urllib.parse.urlsplit(url) if isinstance(url, str) else None
        if parsed is None or parsed.scheme not in ("http", "https") or not parsed.netloc:
            raise ValueError(f'Edgeswarm: url must be an http(s) URL such as "http://127.0.0.1:8787", got {url!r}')
        if not isinstance(api_key, str) or not api_key:
            raise ValueError("Edgeswarm: api_key must be a non-empty string (the API key `npm start` printed)")
        if timeout is not None and not (isinstance(timeout, (int, float)) and timeout > 0):
            raise ValueError(f"Edgeswarm: timeout must be a number of seconds above 0, or None, got {timeout!r}")
        self.base_url = url.rstrip("/")
        self._api_key = api_key
        self._timeout = timeout
        self._user_agent = user_agent
        # A loopback Worker is never reached through a proxy from the environment.
        handlers = [urllib.request.ProxyHandler({})] if _is_loopback(parsed.hostname or "") else []
        self._opener = urllib.request.build_opener(*handlers)

    def url(self, path: str, query: Optional[Query] = None) -> str:
        pairs = [(k, str(v)) for k, v in (query or {}).items() if v is not None]
        return self.base_url + path + (f"?{urllib.parse.urlencode(pairs)}" if pairs else "")

    def open(
        self,
        method: str,
        path: str,
        *,
        query: Optional[Query] = None,
        body: Any = None,
        headers: Optional[Mapping[str, str]] = None,
        timeout: Optional[float] = None,
    ) -> http.client.HTTPResponse:
        """Sends a request; returns the open 2xx answer (the caller closes it), or raises."""
        sent: Dict[str, str] = {
            "Authorization": f"Bearer {self._api_key}",
            "Accept": "application/json",
            # A compressed answer would need decoding here; ask for none.
            "Accept-Encoding": "identity",
            "User-Agent": self._user_agent,
        }
        data = None
        if body is not None:
            data = json.dumps(body, separators=(",", ":")).encode("utf-8")
            sent["Content-Type"] = "application/json"
        sent.update(headers or {})
        request = urllib.request.Request(self.url(path, query), data=data, headers=sent, method=method)
        try:
            return self._opener.open(request, timeout=timeout if timeout is not None else self._timeout)
        except urllib.error.HTTPError as err:
            try:
                text = err.read()
            except NETWORK_ERRORS:
                text = b""
            finally:
                err.close()
            raise api_error(err.code, text, err.headers.get("Retry-After")) from None
        except NETWORK_ERRORS as err:
            raise EdgeswarmUnreachableError(self.base_url, err) from err

    def json(
        self,
        method: str,
        path: str,
        read: Callable[[Obj], T],
        *,
        query: Optional[Query] = None,
        body: Any = None,
    ) -> T:
        """Sends a request and reads its JSON answer with ``read``."""
        with self.open(method, path, query=query, body=body) as res:
            try:
                raw = res.read()
            except NETWORK_ERRORS as err:
                raise EdgeswarmUnreachableError(self.base_url, err) from err
            status = res.status
        try:
            parsed = json.loads(raw.decode("utf-8"))
        except ValueError:
            raise EdgeswarmInvalidResponseError(
                f"{method} {path} answered {status} with a body that is not JSON", status=status
            ) from None
        try:
            return read(Obj(parsed, f"{method} {path}"))
        except EdgeswarmInvalidResponseError as err:
            raise EdgeswarmInvalidResponseError(
                f"{err.message}: the answer does not match the API contract", status=status
            ) from None

    def chunks(self, res: http.client.HTTPResponse) -> Iterator[bytes]:
        """The body's bytes as they arrive; a broken connection is an ``EdgeswarmUnreachableError``."""
        while True:
            try:
                chunk = res.read1(_CHUNK_BYTES)
            except (socket.timeout, *NETWORK_ERRORS) as err:
                raise EdgeswarmUnreachableError(self.base_url, err) from err
            if not chunk:
                return
            yield chunk


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False
