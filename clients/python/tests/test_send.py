"""runs.send(): a message continues an ended run, whose one event stream goes on to the last turn's end."""

from __future__ import annotations

import unittest

from .support import RUN_TIMEOUT_S, client


class SendTest(unittest.TestCase):
    def setUp(self) -> None:
        self.swarm = client()

    def test_a_message_continues_an_ended_run(self):
        created = self.swarm.runs.create("Print the 10th Fibonacci number.", planner=None)
        first = self.swarm.runs.wait(created.id, timeout=RUN_TIMEOUT_S)
        self.assertEqual(first.status, "succeeded")

        sent = self.swarm.runs.send(created.id, "Now print it again.")
        self.assertEqual(sent.id, created.id)
        self.assertFalse(sent.ended, sent.status)

        # From the start: past the first turn's run.finished, closing after the second's.
        events = list(self.swarm.runs.events(created.id))
        types = [e.type for e in events]
        self.assertEqual(types.count("run.finished"), 2, types)
        self.assertEqual(types[-1], "run.finished")
        continued = [e for e in events if e.type == "run.continued"]
        self.assertEqual(
            [{k: v for k, v in e.payload.items() if k != "spanId"} for e in continued],
            [{"text": "Now print it again.", "turn": 1}],
        )
        # The new turn's workflow span, in the run's trace.
        self.assertRegex(continued[0].payload["spanId"], r"^[0-9a-f]{16}$")
        self.assertLess(types.index("run.finished"), types.index("run.continued"))

        run = self.swarm.runs.wait(created.id, timeout=RUN_TIMEOUT_S)
        self.assertEqual(run.status, "succeeded")
        assert run.result is not None
        self.assertEqual(run.result.stdout, "55\n")


if __name__ == "__main__":
    unittest.main()
