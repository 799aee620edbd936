"""Typed errors from the real Worker: code, status, details; and no answer at all."""

from __future__ import annotations

import unittest

from edgeswarm import (
    Edgeswarm,
    EdgeswarmApiError,
    EdgeswarmError,
    EdgeswarmUnreachableError,
    InvalidRequestError,
    InvalidStateError,
    NotFoundError,
    UnauthorizedError,
)

from .support import client, closed_port, stack, until


class ErrorsTest(unittest.TestCase):
    def setUp(self) -> None:
        self.swarm = client()

    def test_a_wrong_key_is_401_unauthorized(self):
        url, _ = stack()
        with self.assertRaises(UnauthorizedError) as caught:
            Edgeswarm(url, "not-a-real-key-000").runs.list()
        err = caught.exception
        self.assertIsInstance(err, EdgeswarmApiError)
        self.assertIsInstance(err, EdgeswarmError)
        self.assertEqual((err.code, err.status), ("unauthorized", 401))

    def test_bad_input_is_400_invalid_request_with_details(self):
        with self.assertRaises(InvalidRequestError) as caught:
            self.swarm.executions.run("python", "print(1)", limits={"timeoutMs": 10_000_000})
        err = caught.exception
        self.assertEqual((err.code, err.status), ("invalid_request", 400))
        self.assertIn({"path": "limits.timeoutMs", "message": "timeoutMs must be at most 300000"}, err.details)
        self.assertIn("timeoutMs must be at most 300000", err.message)

        with self.assertRaises(InvalidRequestError) as unknown:
            self.swarm.executions.run("cobol", "DISPLAY 'HI'.")
        self.assertEqual(unknown.exception.details[0]["path"], "language")

    def test_an_unknown_run_is_404_not_found(self):
        with self.assertRaises(NotFoundError) as caught:
            self.swarm.runs.get("run_000000000000000000000000")
        self.assertEqual((caught.exception.code, caught.exception.status), ("not_found", 404))

    def test_the_wrong_state_is_409_invalid_state(self):
        created = self.swarm.runs.create("Print 55.", planner=None, approval="always")
        until(self.swarm, created.id, "approval.requested")
        self.assertEqual(self.swarm.runs.cancel(created.id).status, "cancelled")
        with self.assertRaises(InvalidStateError) as again:
            self.swarm.runs.cancel(created.id)
        self.assertEqual((again.exception.code, again.exception.status), ("invalid_state", 409))
        # A run of the default team has no team state to export.
        with self.assertRaises(InvalidStateError):
            self.swarm.runs.state(created.id)

    def test_nothing_listening_is_unreachable(self):
        _, key = stack()
        with self.assertRaises(EdgeswarmUnreachableError) as caught:
            Edgeswarm(f"http://127.0.0.1:{closed_port()}", key).agents.list()
        err = caught.exception
        self.assertEqual((err.code, err.status), ("unreachable", None))
        self.assertIn("ECONNREFUSED", err.message)


if __name__ == "__main__":
    unittest.main()
