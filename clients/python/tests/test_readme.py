"""The README's Python examples, each run as written, in a fresh interpreter, against the stack."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import tempfile
import unittest
from pathlib import Path
from typing import List

from .support import stack

PACKAGE_DIR = Path(__file__).resolve().parent.parent


def python_blocks() -> List[str]:
    text = (PACKAGE_DIR / "README.md").read_text(encoding="utf-8")
    return re.findall(r"^```python\n(.*?)^```$", text, flags=re.MULTILINE | re.DOTALL)


def run_example(source: str) -> str:
    url, key = stack()
    with tempfile.TemporaryDirectory(prefix="edgeswarm-readme-") as home:
        path = Path(home, "example.py")
        path.write_text(source, encoding="utf-8")
        # As a user's script: elsewhere on disk, the package found as if installed, only the stack's URL and key set.
        env = {"PATH": os.environ.get("PATH", ""), "HOME": home, "PYTHONPATH": str(PACKAGE_DIR),
               "PYTHONDONTWRITEBYTECODE": "1", "EDGESWARM_URL": url, "EDGESWARM_API_KEY": key}
        done = subprocess.run(
            [sys.executable, str(path)], cwd=home, env=env, capture_output=True, text=True, timeout=120
        )
    if done.returncode != 0:
        raise AssertionError(f"the example exited {done.returncode}:\n{done.stdout}{done.stderr}")
    return done.stdout


class ReadmeTest(unittest.TestCase):
    def test_there_are_two_examples(self):
        self.assertEqual(len(python_blocks()), 2)

    def test_the_example_runs_as_written(self):
        out = run_example(python_blocks()[0])
        self.assertIn("succeeded 42\n", out)
        self.assertRegex(out, r"(?m)^1 run\.created$")
        self.assertRegex(out, r"(?m)^\d+ plan\.created$")
        self.assertRegex(out, r"(?m)^\d+ run\.finished$")
        self.assertIn("succeeded 55\n", out)
        self.assertTrue(out.endswith("not_found 404\n"), out)

    def test_streaming_follow_ups_and_retry_after_run_as_written(self):
        out = run_example(python_blocks()[1])
        self.assertEqual(out, "0\n1\n2\nexit 0\ncontinued: succeeded\nhi\n")


if __name__ == "__main__":
    unittest.main()
