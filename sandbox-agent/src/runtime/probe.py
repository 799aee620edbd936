"""edgeswarm image probe: what an image holds, as one line of JSON on stdout.

The agent runs it once per image at start, as an ordinary sandboxed program
(image-probe.ts), and bounds what it reads back; this side bounds it too.
"""

import json
import platform
import subprocess
import sys

MAX_DISTRIBUTIONS = 1024


def distributions():
    try:
        from importlib import metadata
    except ImportError:
        return []
    out = []
    for dist in metadata.distributions():
        try:
            name, version = dist.metadata["Name"], dist.version
        except Exception:
            continue
        if isinstance(name, str) and isinstance(version, str):
            out.append([name[:200], version[:100]])
        if len(out) >= MAX_DISTRIBUTIONS:
            break
    return out


def first_line(argv):
    try:
        done = subprocess.run(argv, capture_output=True, timeout=5, text=True, errors="replace")
    except (OSError, subprocess.SubprocessError):
        return None
    lines = (done.stdout or "").splitlines()
    return lines[0][:200] if done.returncode == 0 and lines else None


print(json.dumps({
    "python": {"implementation": sys.implementation.name, "version": platform.python_version()},
    "distributions": distributions(),
    "tools": {"bash": first_line(["bash", "--version"]), "node": first_line(["node", "--version"])},
}))
