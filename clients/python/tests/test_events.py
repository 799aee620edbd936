"""runs.events(): one stream per run, resumed after a cut connection without a gap or a repeat."""

from __future__ import annotations

import unittest

from edgeswarm import Edgeswarm, RetryOptions

from .support import client, stack, stack_port
from .tcp_proxy import TcpProxy


class EventsTest(unittest.TestCase):
    def setUp(self) -> None:
        self.swarm = client()

    def test_resumes_after_the_connection_is_cut(self):
        proxy = TcpProxy(stack_port())
        self.addCleanup(proxy.close)
        via_proxy = Edgeswarm(proxy.url, stack()[1], retry=RetryOptions(attempts=5, base_s=0.05, max_s=0.5))
        created = self.swarm.runs.create("Print 55.", planner=None, approval="always")
        seqs, types, dropped = [], [], 0
        for event in via_proxy.runs.events(created.id):
            seqs.append(event.seq)
            types.append(event.type)
            if event.type == "approval.requested" and dropped == 0:
                # Parked: nothing more comes until the approval, so the cut lands mid-stream.
                dropped = proxy.drop_all()
                self.swarm.runs.approve(created.id)
        self.assertGreater(dropped, 0)
        self.assertGreaterEqual(proxy.connections, 2)
        log = self.swarm.runs.event_page(created.id)
        self.assertEqual(seqs, [e.seq for e in log.events])
        self.assertEqual(seqs, list(range(1, len(seqs) + 1)))
        self.assertIn("execution.finished", types)
        self.assertEqual(types[-1], "run.finished")
        self.assertTrue(log.done)

    def test_after_starts_past_a_sequence_number(self):
        created = self.swarm.runs.create("Print 55.", planner=None)
        everything = list(self.swarm.runs.events(created.id))
        self.assertEqual(everything[0].type, "run.created")
        later = list(self.swarm.runs.events(created.id, after=2))
        self.assertEqual([e.seq for e in later], [e.seq for e in everything[2:]])


if __name__ == "__main__":
    unittest.main()
