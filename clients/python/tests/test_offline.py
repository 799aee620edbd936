"""What needs no server: the SSE parser, the error mapping, the options' checks, and the standard library only."""

from __future__ import annotations

import subprocess
import sys
import unittest

from edgeswarm import (
    Edgeswarm,
    EdgeswarmApiError,
    InvalidRequestError,
    NotFoundError,
    RateLimitedError,
    RetryOptions,
    UnavailableError,
    WorkspaceFile,
)
from edgeswarm.errors import api_error, parse_retry_after
from edgeswarm.retry import backoff_seconds
from edgeswarm.sse import SseMessage, SseParser


def feed_all(chunks):
    parser = SseParser()
    out = []
    for chunk in chunks:
        out.extend(parser.feed(chunk))
    return out


class SseParserTest(unittest.TestCase):
    def test_events_ids_comments_and_multiline_data(self):
        text = b": keep-alive\n\nid: 1\nevent: stdout\ndata: {\"a\": 1}\n\ndata: one\ndata: two\n\nid: 3\n\n"
        self.assertEqual(
            feed_all([text]),
            [SseMessage("stdout", '{"a": 1}', "1"), SseMessage("message", "one\ntwo", None)],
        )

    def test_any_split_gives_the_same_events(self):
        # CRLF, CR and LF line ends; a UTF-8 character of three bytes; split at every byte.
        text = "id: 7\r\ndata: caf\u00e9 \u20ac\r\n\r\nid: 8\rdata: x\r\rdata:no-space\n\n".encode("utf-8")
        whole = feed_all([text])
        self.assertEqual(
            whole,
            [SseMessage("message", "caf\u00e9 \u20ac", "7"), SseMessage("message", "x", "8"), SseMessage("message", "no-space", None)],
        )
        for cut in range(1, len(text)):
            self.assertEqual(feed_all([text[:cut], text[cut:]]), whole, f"split at byte {cut}")
        self.assertEqual(feed_all([bytes([b]) for b in text]), whole)

    def test_an_event_past_the_cap_is_an_error(self):
        parser = SseParser(max_event_chars=10)
        with self.assertRaises(ValueError):
            parser.feed(b"data: 0123456789abc\n")


class ErrorMappingTest(unittest.TestCase):
    def test_typed_by_status_with_code_details_and_retry_after(self):
        body = b'{"error": {"code": "quota_exceeded", "message": "too many", "details": {"quota": "activeRuns", "limit": 2}}}'
        err = api_error(429, body, "5")
        self.assertIsInstance(err, RateLimitedError)
        self.assertIsInstance(err, EdgeswarmApiError)
        self.assertEqual((err.code, err.status, err.retry_after), ("quota_exceeded", 429, 5.0))
        self.assertEqual(err.details, {"quota": "activeRuns", "limit": 2})
        self.assertIsInstance(api_error(503, b'{"error":{"code":"no_capacity","message":"m"}}', None), UnavailableError)
        self.assertIsInstance(api_error(400, b'{"error":{"code":"invalid_json","message":"m"}}', None), InvalidRequestError)

    def test_a_body_that_is_not_ours_keeps_the_status(self):
        err = api_error(404, b"<html>gateway</html>", None)
        self.assertIsInstance(err, NotFoundError)
        self.assertEqual((err.code, err.message), ("not_found", "HTTP 404: <html>gateway</html>"))
        self.assertEqual(api_error(502, b"", None).code, "internal_error")

    def test_retry_after_as_seconds_or_a_date(self):
        self.assertEqual(parse_retry_after("1"), 1.0)
        self.assertIsNone(parse_retry_after("soon"))
        self.assertIsNone(parse_retry_after(None))
        self.assertEqual(parse_retry_after("Wed, 21 Oct 2015 07:28:00 GMT"), 0.0)


class OptionsTest(unittest.TestCase):
    def test_mistakes_fail_at_once_and_say_how_to_fix_them(self):
        with self.assertRaisesRegex(ValueError, "http"):
            Edgeswarm("127.0.0.1:8787", "key")
        with self.assertRaisesRegex(ValueError, "api_key"):
            Edgeswarm("http://127.0.0.1:8787", "")
        with self.assertRaisesRegex(ValueError, "attempts"):
            RetryOptions(attempts=-1)
        with self.assertRaisesRegex(ValueError, "max_s"):
            RetryOptions(base_s=2, max_s=1)
        swarm = Edgeswarm("http://127.0.0.1:8787/", "key")
        self.assertEqual(swarm.url, "http://127.0.0.1:8787")
        with self.assertRaisesRegex(ValueError, "limit"):
            swarm.runs.list(limit=0)
        with self.assertRaisesRegex(ValueError, "text"):
            swarm.runs.send("run_000000000000000000000000", "")
        with self.assertRaisesRegex(TypeError, "args"):
            swarm.executions.run("python", "print(1)", args="--x")

    def test_backoff_doubles_to_its_cap_with_jitter_below(self):
        retry = RetryOptions(attempts=5, base_s=0.25, max_s=1.0)
        for attempt, full in ((1, 0.25), (2, 0.5), (3, 1.0), (9, 1.0)):
            wait = backoff_seconds(attempt, retry)
            self.assertTrue(0.75 * full <= wait <= full, (attempt, wait))

    def test_files_as_bytes(self):
        f = WorkspaceFile.from_bytes("a.bin", b"\x00\xff")
        self.assertEqual((f.encoding, f.data), ("base64", b"\x00\xff"))
        self.assertEqual(WorkspaceFile("a.txt", "h\u00e9").data, "h\u00e9".encode("utf-8"))


class StandardLibraryOnlyTest(unittest.TestCase):
    def test_importing_the_sdk_loads_nothing_outside_the_standard_library(self):
        # In a fresh interpreter without site-packages on the path at all (-S):
        # the import works, and every module it loaded is the SDK's, built in, or the standard library's.
        probe = (
            "import sys, sysconfig, os\n"
            "before = set(sys.modules)\n"
            "import edgeswarm\n"
            "stdlib = os.path.realpath(sysconfig.get_paths()['stdlib'])\n"
            "for name in sorted(set(sys.modules) - before):\n"
            "    f = getattr(sys.modules[name], '__file__', None)\n"
            "    if name.split('.')[0] == 'edgeswarm' or f is None or os.path.realpath(f).startswith(stdlib + os.sep):\n"
            "        continue\n"
            "    print('not standard library:', name, f)\n"
            "print(sys.version_info >= (3, 9))\n"
        )
        out = subprocess.run([sys.executable, "-S", "-c", probe], capture_output=True, text=True, check=True)
        self.assertEqual(out.stdout, "True\n", out.stdout + out.stderr)


if __name__ == "__main__":
    unittest.main()
