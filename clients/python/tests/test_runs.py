"""Runs against the real stack, with the fake coder that prints 55 and finishes."""

from __future__ import annotations

import unittest

from edgeswarm import RunCreated, RunView

from .support import RUN_TIMEOUT_S, client, until


class RunsTest(unittest.TestCase):
    def setUp(self) -> None:
        self.swarm = client()

    def test_create_then_wait_for_the_run_the_coder_finishes(self):
        created = self.swarm.runs.create(
            "Print the 10th Fibonacci number.", planner=None, max_iterations=4, metadata={"suite": "python"}
        )
        self.assertIsInstance(created, RunCreated)
        self.assertRegex(created.id, r"^run_[0-9a-f]{24}$")
        self.assertEqual(created.links.events, f"/v1/runs/{created.id}/events")

        run = self.swarm.runs.wait(created.id, timeout=RUN_TIMEOUT_S)
        self.assertIsInstance(run, RunView)
        self.assertEqual((run.status, run.iterations, run.error), ("succeeded", 1, None))
        self.assertTrue(run.ended)
        assert run.result is not None
        self.assertEqual(run.result.stdout, "55\n")
        self.assertIn("print(a)", run.result.code)
        self.assertEqual(run.metadata, {"suite": "python"})
        self.assertGreater(run.usage.total.input_tokens, 0)
        self.assertEqual(self.swarm.runs.get(created.id).status, "succeeded")

    def test_the_planner_plans_unless_it_is_none(self):
        created = self.swarm.runs.create("Print the 10th Fibonacci number.")
        run = self.swarm.runs.wait(created.id, timeout=RUN_TIMEOUT_S)
        self.assertEqual(run.status, "succeeded")
        assert run.plan is not None
        self.assertEqual([s.goal for s in run.plan], ["Compute and print the answer"])

    def test_list_pages_with_the_cursor(self):
        ids = [self.swarm.runs.create(f"Print 55, run {i}.", planner=None).id for i in range(3)]
        for run_id in ids:
            self.swarm.runs.wait(run_id, timeout=RUN_TIMEOUT_S)
        first = self.swarm.runs.list(limit=2)
        self.assertEqual([r.id for r in first.runs], ids[::-1][:2])
        assert first.next_cursor is not None
        second = self.swarm.runs.list(limit=2, cursor=first.next_cursor)
        self.assertEqual(second.runs[0].id, ids[0])
        every = [r.id for r in self.swarm.runs.all(page_size=2)]
        self.assertEqual(len(every), len(set(every)))
        self.assertEqual(every[:3], ids[::-1])

    def test_approve_a_parked_run_and_deny_another(self):
        parked = self.swarm.runs.create("Print 55.", planner=None, approval="always")
        seen = until(self.swarm, parked.id, "approval.requested")
        self.assertNotIn("execution.finished", [e.type for e in seen])
        self.assertEqual(seen[-1].payload["language"], "python")
        self.assertEqual(self.swarm.runs.get(parked.id).status, "awaiting_approval")
        [call] = self.swarm.runs.waiting(parked.id)
        self.assertEqual((call.tool_call_id, call.language), (seen[-1].payload["toolCallId"], "python"))
        self.assertIn("print(a)", call.code)
        self.assertEqual(self.swarm.runs.approve(parked.id, tool_call_id=call.tool_call_id).id, parked.id)
        run = self.swarm.runs.wait(parked.id, timeout=RUN_TIMEOUT_S)
        self.assertEqual(run.status, "succeeded")
        self.assertEqual(self.swarm.runs.waiting(parked.id), [])

        denied = self.swarm.runs.create("Print 55.", planner=None, approval="always")
        until(self.swarm, denied.id, "approval.requested")
        self.swarm.runs.approve(denied.id, approve=False, reason="not today")
        decided = [e for e in self.swarm.runs.event_page(denied.id).events if e.type == "approval.decided"]
        self.assertEqual((decided[0].payload["approve"], decided[0].payload["reason"]), (False, "not today"))
        # The coder hears "denied", and the fake one then finishes without running anything.
        self.assertTrue(self.swarm.runs.wait(denied.id, timeout=RUN_TIMEOUT_S).ended)

    def test_wait_gives_up_after_its_timeout(self):
        parked = self.swarm.runs.create("Print 55.", planner=None, approval="always")
        until(self.swarm, parked.id, "approval.requested")
        with self.assertRaises(TimeoutError):
            self.swarm.runs.wait(parked.id, timeout=1)
        self.assertEqual(self.swarm.runs.cancel(parked.id).status, "cancelled")


if __name__ == "__main__":
    unittest.main()
