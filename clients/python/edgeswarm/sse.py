"""Server-Sent Events, parsed as the HTML spec says, from bytes as they arrive.

>>> parser = SseParser()
>>> parser.feed(b"id: 1\\ndata: {}\\n\\n")
[SseMessage(event='message', data='{}', id='1')]
"""

from __future__ import annotations

import codecs
from dataclasses import dataclass
from typing import List, Optional

__all__ = ["SseMessage", "SseParser", "MAX_SSE_EVENT_CHARS"]

#: An event bigger than this is an error rather than memory growing without
#: bound. An execution's ``finished`` event carries its returned files (up to
#: 16 MiB, more once base64 and JSON-escaped), so the cap sits well above.
MAX_SSE_EVENT_CHARS = 64 * 1024 * 1024


@dataclass(frozen=True)
class SseMessage:
    """One event: its ``event`` name (default ``message``), its ``data``, and its ``id`` if it set one."""

    event: str
    data: str
    id: Optional[str]


class SseParser:
    """Lines end in CRLF, LF or CR; ``:`` lines are comments (keep-alives);
    ``data`` lines join with ``\\n``; a blank line dispatches; an event with no
    data is dropped. Bytes may split anywhere, a UTF-8 character or a CRLF
    included."""

    def __init__(self, max_event_chars: int = MAX_SSE_EVENT_CHARS) -> None:
        self._max = max_event_chars
        self._decoder = codecs.getincrementaldecoder("utf-8")("replace")
        self._pending = ""
        self._last_was_cr = False
        self._event = ""
        self._data: List[str] = []
        self._data_chars = 0
        self._id: Optional[str] = None

    def feed(self, chunk: bytes) -> List[SseMessage]:
        """Takes the next bytes of the body; returns the events they completed."""
        out: List[SseMessage] = []
        for line in self._lines(self._decoder.decode(chunk)):
            message = self._line(line)
            if message is not None:
                out.append(message)
        if len(self._pending) > self._max:
            raise ValueError(f"an SSE line passed {self._max} characters")
        return out

    def _lines(self, text: str) -> List[str]:
        if self._last_was_cr and text.startswith("\n"):
            text = text[1:]
        self._last_was_cr = False
        if not text:
            return []
        text = self._pending + text
        # splitlines() would also split at \v, \f, \x1c... which SSE does not.
        lines = text.replace("\r\n", "\n").replace("\r", "\n").split("\n")
        self._pending = lines.pop()
        # A CR at the very end may be the first half of a CRLF still to come.
        self._last_was_cr = text.endswith("\r")
        return lines

    def _line(self, line: str) -> Optional[SseMessage]:
        if line == "":
            message = SseMessage(self._event or "message", "\n".join(self._data), self._id) if self._data else None
            self._event, self._data, self._data_chars, self._id = "", [], 0, None
            return message
        if line.startswith(":"):
            return None
        field, colon, value = line.partition(":")
        if colon and value.startswith(" "):
            value = value[1:]
        if field == "data":
            self._data_chars += len(value) + 1
            if self._data_chars > self._max:
                raise ValueError(f"an SSE event passed {self._max} characters")
            self._data.append(value)
        elif field == "event":
            self._event = value
        elif field == "id" and "\0" not in value:
            self._id = value
        return None
