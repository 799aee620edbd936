"""executions.run and executions.stream against the real Worker, agent and Docker."""

from __future__ import annotations

import time
import unittest

from edgeswarm import Finished, Started, Stderr, Stdout, WorkspaceFile

from .support import client


class ExecutionsTest(unittest.TestCase):
    def setUp(self) -> None:
        self.swarm = client()

    def test_run_returns_stdout_and_the_exit_code(self):
        result = self.swarm.executions.run("python", "import sys\nprint(sys.stdin.read()[::-1])", stdin="olleh")
        self.assertEqual((result.status, result.exit_code, result.stdout, result.stderr), ("succeeded", 0, "hello\n", ""))
        self.assertTrue(result.succeeded)
        self.assertRegex(result.id, r"^ex_")
        self.assertIsNotNone(result.agent_id)

        failed = self.swarm.executions.run(
            "python", "import sys\nprint('bad input', file=sys.stderr)\nsys.exit(3)", limits={"timeoutMs": 10_000}
        )
        self.assertEqual((failed.status, failed.exit_code, failed.stderr), ("failed", 3, "bad input\n"))

    def test_files_go_in_and_come_back(self):
        result = self.swarm.executions.run(
            "python",
            "data = open('in.txt').read()\nopen('out.bin', 'wb').write(bytes([0, 255]) + data.encode())",
            files=[WorkspaceFile("in.txt", "hi")],
        )
        self.assertEqual(result.status, "succeeded", result.stderr)
        returned = {f.path: f for f in result.files}
        self.assertEqual(returned["out.bin"].data, b"\x00\xffhi")

    def test_stream_yields_started_output_and_finished(self):
        events = list(
            self.swarm.executions.stream(
                "python", "import sys\nprint('out')\nprint('err', file=sys.stderr)\nsys.exit(3)"
            )
        )
        self.assertIsInstance(events[0], Started)
        self.assertIsInstance(events[-1], Finished)
        self.assertEqual("".join(e.data for e in events if isinstance(e, Stdout)), "out\n")
        self.assertEqual("".join(e.data for e in events if isinstance(e, Stderr)), "err\n")
        started, finished = events[0], events[-1]
        assert isinstance(started, Started) and isinstance(finished, Finished)
        self.assertEqual((finished.result.status, finished.result.exit_code), ("failed", 3))
        self.assertEqual(finished.result.id, started.id)

    def test_stream_delivers_output_while_the_program_runs(self):
        stream = self.swarm.executions.stream("python", "import time\nprint('first')\ntime.sleep(30)\nprint('never')")
        stdout = ""
        # Chunks come as the program writes them, so "first" and its newline may come apart.
        for event in stream:
            if isinstance(event, Stdout):
                stdout += event.data
                if stdout.endswith("\n"):
                    break
            self.assertNotIsInstance(event, Finished, "the program ended before its output was read")
        self.assertEqual(stdout, "first\n")
        # Closing the stream cancels the execution: its slot is free long before the program's 30 s are up.
        stream.close()
        deadline = time.monotonic() + 15
        while sum(a.in_flight for a in self.swarm.agents.list()) > 0:
            self.assertLess(time.monotonic(), deadline, "the closed stream's execution still holds its slot after 15 s")
            time.sleep(0.2)


if __name__ == "__main__":
    unittest.main()
