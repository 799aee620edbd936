import { beforeEach } from "vitest";
import { runningProcs } from "../../scripts/lib/process.ts";

/** Lines of each process's output a failing test prints. */
const TAIL_LINES = 60;

// When a test fails, print the last lines of every Worker, agent and other
// child process still running: a CI run keeps only the test output, and
// without them a stall says only that it timed out.
beforeEach(({ onTestFailed }) => {
  onTestFailed(({ task }) => {
    for (const proc of runningProcs) {
      const tail = proc.log.all.slice(-TAIL_LINES);
      console.error(`--- ${task.name}: the last ${tail.length} lines of ${proc.name} ---\n${tail.join("\n")}`);
    }
  });
});
