"""edgeswarm sandbox runner: PID 1 inside every sandbox container.

Started as `python3 -I -c <this source>` by the agent (docker.ts). Reads one
request from stdin (decimal length, newline, that many bytes of JSON), writes
the workspace, runs the user's program, and reports on stdout in binary
frames: 1 byte kind, 4-byte big-endian length, payload. Every byte the user's
program prints travels inside a frame, so it cannot forge runner frames.

The user's program is hostile: every wait here is bounded, and the runner
touches the workspace again only after every other process is dead.

While it waits for its request, the runner starts a Python interpreter (the
stub, STUB below) with its pipes already connected. A Python execution hands
the stub its argv and environment and runs at once, without paying for an
interpreter start; anything else, and a request that sets variables read only
when a process starts (PYTHON*, LANG, LC_*, TZ, LD_*), gets a freshly exec'd
process instead.

With `--preload mod1,mod2` after the source, the stub imports those modules
while it waits, so a program that imports them does not pay for it. Such a
stub has read the environment as its imports ran, so a request that sets any
variable gets a fresh process. A module that fails to import is skipped: the
program's own import then fails as it would anywhere. It also ends without
tearing its modules down (see _edgeswarm_exit).
"""

import base64
import ctypes
import errno
import hashlib
import json
import os
import re
import selectors
import signal
import stat
import struct
import sys
import time

WORKSPACE = "/workspace"
STDOUT, STDERR, STARTED, FILE, EXIT, ERROR = 1, 2, 3, 4, 5, 6
READ_CHUNK = 64 * 1024  # output frames stay at most 64 KiB
FILE_CHUNK = 512 * 1024  # raw bytes per file frame: base64 + JSON stays well under 1 MiB
MAX_REQUEST = 64 * 1024 * 1024
DRAIN_SECONDS = 2.0  # after everything is killed, how long pipes may take to reach EOF
MAX_SCAN = 10_000  # directory entries examined when collecting returned files
PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
# The environment every program starts with, before the request's own variables.
BASE_ENV = {
    "PATH": PATH,
    "HOME": WORKSPACE,
    "LANG": "C.UTF-8",
    "PYTHONUNBUFFERED": "1",
    "PYTHONDONTWRITEBYTECODE": "1",
    "TMPDIR": "/tmp",
    # matplotlib's config and cache must be writable: under /tmp, not the
    # workspace (whose new files go back to the caller) nor the read-only root.
    "MPLCONFIGDIR": "/tmp/matplotlib",
}
# A font list built into the image (finish.sh), copied into MPLCONFIGDIR so the
# first plot of each container does not rebuild it.
MPL_PREBUILT = "/usr/local/share/edgeswarm/matplotlib"
MPL_PREBUILT_MAX_BYTES = 4 * 1024 * 1024
MODULE_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)*")
MAX_PRELOAD = 32
SANDBOX_ID = 65534  # the user's program runs as nobody:nogroup
RUNNER_UID = 65533  # the runner's real and saved uid: a user apart from the program's
PROGRAMS = {
    "python": ("main.py", ["python3", "main.py"]),
    "bash": ("main.sh", ["bash", "main.sh"]),
    "node": ("main.js", ["node", "main.js"]),
}


# Runs as `python3 -c STUB <control fd>` in the workspace. It blocks on the
# control pipe; the runner writes one JSON message and closes it. The stub then
# lowers its rlimits, and either execs the program or becomes `python3 main.py`.
STUB = r"""
import builtins, json, os, resource, signal, sys, types
from importlib.machinery import SourceFileLoader

def _edgeswarm_preload(names):
    # Whatever the imports print would reach the program's output: it goes nowhere.
    saved = os.dup(1), os.dup(2)
    null = os.open(os.devnull, os.O_WRONLY)
    os.dup2(null, 1)
    os.dup2(null, 2)
    try:
        import importlib
        if any(n == "matplotlib" or n.startswith("matplotlib.") for n in names):
            try:
                import matplotlib
                matplotlib.use("Agg")  # before pyplot: files, never a display
            except BaseException:
                pass
        for name in names:
            try:
                importlib.import_module(name)
            except BaseException:
                pass
    finally:
        for stream in (sys.stdout, sys.stderr):
            try:
                stream.flush()
            except BaseException:
                pass
        os.dup2(saved[0], 1)
        os.dup2(saved[1], 2)
        for fd in (*saved, null):
            os.close(fd)

def _edgeswarm_stub(fd):
    data = b""
    while not data.endswith(b"\n"):  # one line of JSON; usually one read
        chunk = os.read(fd, 1 << 20)
        if not chunk:
            os._exit(0)
        data += chunk
    os.close(fd)
    msg = json.loads(data)
    for name, value in msg["rlimits"].items():
        resource.setrlimit(getattr(resource, name), (value, value))
    if msg["exec"]:
        os.execvpe(msg["argv"][0], msg["argv"], msg["env"])
    os.environ.clear()
    os.environ.update(msg["env"])
    sys.argv = msg["argv"][1:]
    path = os.path.join(os.getcwd(), sys.argv[0])
    sys.path[0] = os.path.dirname(path)
    return path

def _edgeswarm_main(path):
    main = types.ModuleType("__main__")
    main.__file__ = path
    main.__cached__ = None
    main.__loader__ = SourceFileLoader("__main__", path)
    main.__builtins__ = builtins
    sys.modules["__main__"] = main
    with open(path, "rb") as f:
        source = f.read()
    try:
        exec(compile(source, path, "exec"), main.__dict__)
    except SystemExit:
        raise
    except BaseException as e:
        tb = e.__traceback__  # hide the stub's own frames, as `python3 main.py` would show none
        while tb is not None and tb.tb_frame.f_code.co_filename != path:
            tb = tb.tb_next
        sys.excepthook(type(e), e.with_traceback(tb), tb)
        if isinstance(e, KeyboardInterrupt):  # python3 then dies of SIGINT
            sys.stdout.flush()
            sys.stderr.flush()
            signal.signal(signal.SIGINT, signal.SIG_DFL)
            os.kill(os.getpid(), signal.SIGINT)
        sys.exit(1)

def _edgeswarm_status(e):
    # The exit status Python gives a SystemExit.
    if e.code is None:
        return 0
    if isinstance(e.code, int):
        return e.code & 0xFF
    try:
        sys.stderr.write(f"{e.code}\n")
    except BaseException:
        pass
    return 1

def _edgeswarm_exit(status):
    # Ends as Python's own shutdown would, but for tearing the modules down,
    # which takes about 120 ms once numpy, pandas and matplotlib are loaded:
    # threads are joined, atexit functions run, the program's globals released
    # (so a file it left open is flushed), and the streams flushed.
    try:
        if "threading" in sys.modules:
            sys.modules["threading"]._shutdown()
        import atexit
        atexit._run_exitfuncs()
        sys.modules["__main__"].__dict__.clear()
    finally:
        for stream in (sys.stdout, sys.stderr):
            try:
                stream.flush()
            except BaseException:
                status = 120  # what Python exits with when it cannot flush
        os._exit(status)

if len(sys.argv) > 2 and sys.argv[2]:
    _edgeswarm_preload(sys.argv[2].split(","))
    _edgeswarm_path = _edgeswarm_stub(int(sys.argv[1]))
    try:
        _edgeswarm_main(_edgeswarm_path)
        _edgeswarm_exit(0)
    except SystemExit as e:
        _edgeswarm_exit(_edgeswarm_status(e))
_edgeswarm_main(_edgeswarm_stub(int(sys.argv[1])))
"""


# Variables a process reads only as it starts; a running interpreter cannot honour them.
STARTUP_PREFIXES = ("PYTHON", "LC_", "LD_")
STARTUP_VARS = ("LANG", "TZ")


class RunnerError(Exception):
    pass


def send(kind, payload):
    data = memoryview(struct.pack(">BI", kind, len(payload)) + payload)
    while data:
        data = data[os.write(1, data):]


def send_json(kind, obj):
    send(kind, json.dumps(obj, separators=(",", ":")).encode())


def prctl_dumpable(value):
    try:
        ctypes.CDLL(None, use_errno=True).prctl(4, value, 0, 0, 0)  # PR_SET_DUMPABLE
    except Exception:
        pass


def become_runner_user():
    """
    The container starts this process as root holding only CAP_SETUID,
    CAP_SETGID and CAP_SETPCAP. It empties the capability bounding set, then
    keeps uid RUNNER_UID as its real and saved uid and works with effective uid
    nobody, which clears every capability it had. The user's program runs with
    every uid nobody, so it may neither ptrace the runner nor open
    /proc/1/fd/* (both need the caller's uid to equal all of the target's), nor
    signal it. Being non-dumpable is not enough: gVisor ignores it for procfs.
    The runner still owns the program's files and may kill its processes (its
    effective uid matches theirs).
    """
    libc = ctypes.CDLL(None, use_errno=True)
    os.setgroups([])
    os.setresgid(SANDBOX_ID, SANDBOX_ID, SANDBOX_ID)
    for cap in range(64):
        if libc.prctl(24, cap, 0, 0, 0) != 0 and ctypes.get_errno() != errno.EINVAL:  # PR_CAPBSET_DROP
            raise OSError(ctypes.get_errno(), f"cannot drop capability {cap} from the bounding set")
    os.setresuid(RUNNER_UID, SANDBOX_ID, RUNNER_UID)
    prctl_dumpable(0)  # changing uid did this too; said again for the reader


def read_request():
    stdin = sys.stdin.buffer
    line = stdin.readline(32)
    if not line.endswith(b"\n") or not line[:-1].isdigit():
        raise RunnerError("request header must be a decimal length and a newline")
    size = int(line)
    if size > MAX_REQUEST:
        raise RunnerError(f"request of {size} bytes is over {MAX_REQUEST}")
    body = stdin.read(size)
    if len(body) != size:
        raise RunnerError(f"request ended after {len(body)} of {size} bytes")
    return json.loads(body)


def checked_path(rel):
    if not isinstance(rel, str) or not rel or rel.startswith("/") or len(rel) > 255:
        raise RunnerError(f"invalid workspace path {rel!r}")
    parts = rel.split("/")
    if any(p in ("", ".", "..") for p in parts) or any(ord(c) < 32 or c == "\\" for c in rel):
        raise RunnerError(f"invalid workspace path {rel!r}")
    full = os.path.normpath(os.path.join(WORKSPACE, rel))
    if not full.startswith(WORKSPACE + "/"):
        raise RunnerError(f"path {rel!r} leaves the workspace")
    return parts


def write_file(rel, data, exclusive=True):
    parts = checked_path(rel)
    current = WORKSPACE
    for part in parts[:-1]:
        current = os.path.join(current, part)
        try:
            os.mkdir(current, 0o755)
        except FileExistsError:
            if not stat.S_ISDIR(os.lstat(current).st_mode):  # lstat: never follow a link
                raise RunnerError(f"{rel!r}: {part!r} is not a directory")
    flags = os.O_WRONLY | os.O_CREAT | os.O_NOFOLLOW | os.O_CLOEXEC
    flags |= os.O_EXCL if exclusive else os.O_TRUNC
    write_all(os.open(os.path.join(current, parts[-1]), flags, 0o644), data)


def oom_kills():
    """The cgroup's OOM-kill counter, or None where it cannot be read."""
    for path in ("/sys/fs/cgroup/memory.events", "/sys/fs/cgroup/memory/memory.oom_control"):
        try:
            with open(path, "rb") as f:
                for line in f.read(4096).decode().splitlines():
                    key, _, value = line.partition(" ")
                    if key == "oom_kill":
                        return int(value)
        except (OSError, ValueError):
            continue
    return None


def kill_all():
    # As PID 1, kill(-1) reaches every other process in the container and,
    # being one kernel pass, also catches children forked while it runs.
    try:
        os.kill(-1, signal.SIGKILL)
    except ProcessLookupError:
        pass


def set_rlimits(rlimits):
    import resource

    for name, value in rlimits.items():
        resource.setrlimit(getattr(resource, name), (value, value))


def child_setup():
    # Every uid becomes nobody; unprivileged, as each is one the runner already holds.
    os.setresuid(SANDBOX_ID, SANDBOX_ID, SANDBOX_ID)
    signal.signal(signal.SIGINT, signal.SIG_DFL)  # ignored here; ignored dispositions survive exec
    prctl_dumpable(1)  # /proc/self is writable only while dumpable
    try:
        with open("/proc/self/oom_score_adj", "w") as f:
            f.write("1000")  # under memory pressure, the user's code dies before the runner
    except OSError:
        pass


class Stub:
    """A Python interpreter started ahead of the request, waiting on its control pipe."""

    def __init__(self, preload):
        import subprocess

        self.preloaded = bool(preload)
        self.pipes = [os.pipe2(os.O_CLOEXEC) for _ in range(4)]  # stdin, stdout, stderr, control
        (in_r, self.in_w), (self.out_r, out_w), (self.err_r, err_w), (ctl_r, self.ctl_w) = self.pipes
        try:
            self.proc = subprocess.Popen(
                ["python3", "-c", STUB, str(ctl_r), ",".join(preload)], cwd=WORKSPACE, env=dict(BASE_ENV),
                stdin=in_r, stdout=out_w,
                stderr=err_w, pass_fds=(ctl_r,), close_fds=True, preexec_fn=child_setup,
            )
        finally:
            for fd in (in_r, out_w, err_w, ctl_r):
                os.close(fd)

    def hand_over(self, argv, env, rlimits, exec_fresh):
        """Gives the stub its program; False if it died waiting (the caller then spawns one)."""
        msg = json.dumps({"argv": argv, "env": env, "rlimits": rlimits, "exec": exec_fresh}).encode() + b"\n"
        try:
            view = memoryview(msg)
            while view:
                view = view[os.write(self.ctl_w, view):]
        except BrokenPipeError:
            self.discard()
            return False
        os.close(self.ctl_w)
        return True

    def discard(self):
        try:
            self.proc.kill()
            self.proc.wait()
        except OSError:
            pass
        for fd in (self.in_w, self.out_r, self.err_r, self.ctl_w):
            try:
                os.close(fd)
            except OSError:
                pass


class Execution:
    def __init__(self, req):
        self.req = req
        self.cap = int(req["output_bytes"])
        self.counts = {STDOUT: 0, STDERR: 0}
        self.truncated = {STDOUT: False, STDERR: False}
        self.timed_out = False
        self.output_limited = False
        self.killed = False
        self.status = None
        self.ended = None
        self.inputs = {}

    def prepare(self):
        for f in self.req.get("files", []):
            data = base64.b64decode(f["b64"], validate=True)
            write_file(f["path"], data)
            self.inputs[f["path"]] = hashlib.sha256(data).digest()
        language = self.req["language"]
        if language not in PROGRAMS:
            raise RunnerError(f"unknown language {language!r}")
        self.code_file, argv = PROGRAMS[language]
        write_file(self.code_file, self.req["code"].encode(), exclusive=False)
        self.argv = argv + [str(a) for a in self.req.get("args", [])]
        self.req["files"] = self.req["code"] = None  # the runner shares the sandbox's memory limit
        self.env = dict(BASE_ENV)
        self.env.update({str(k): str(v) for k, v in self.req.get("env", {}).items()})
        self.stdin = base64.b64decode(self.req.get("stdin_b64") or "", validate=True)
        self.rlimits = {
            "RLIMIT_NOFILE": int(self.req["open_files"]),
            "RLIMIT_FSIZE": int(self.req["file_size_bytes"]),
            "RLIMIT_CORE": 0,  # a crash leaves no core for the host's core handler (the container sets it too)
        }
        if self.req.get("max_processes") is not None:
            self.rlimits["RLIMIT_NPROC"] = int(self.req["max_processes"])

    def spawn(self, stub):
        if stub is not None and self.req["language"] == "python":
            env = self.req.get("env", {})
            # A preloading stub's imports may have read any variable (OMP_NUM_THREADS, MPLBACKEND, ...).
            if stub.preloaded:
                fresh = bool(env)
            else:
                fresh = any(k.startswith(STARTUP_PREFIXES) or k in STARTUP_VARS for k in env)
            if stub.hand_over(self.argv, self.env, self.rlimits, fresh):
                self.proc = stub.proc
                return self.started_with(stub.in_w, stub.out_r, stub.err_r)
        elif stub is not None:
            stub.discard()  # not Python: the stub would only hold memory and a pid
        return self.spawn_fresh()

    def spawn_fresh(self):
        import subprocess  # only needed here; keeps start-up lean

        in_r, in_w = os.pipe2(os.O_CLOEXEC)
        out_r, out_w = os.pipe2(os.O_CLOEXEC)
        err_r, err_w = os.pipe2(os.O_CLOEXEC)
        rlimits = self.rlimits

        def setup():
            child_setup()
            set_rlimits(rlimits)

        try:
            self.proc = subprocess.Popen(
                self.argv, cwd=WORKSPACE, env=self.env, stdin=in_r, stdout=out_w, stderr=err_w,
                close_fds=True, preexec_fn=setup,
            )
        except FileNotFoundError:
            raise RunnerError(f"{self.argv[0]} is not installed in this sandbox image")
        finally:
            for fd in (in_r, out_w, err_w):
                os.close(fd)
        return self.started_with(in_w, out_r, err_r)

    def started_with(self, in_w, out_r, err_r):
        self.started = time.monotonic()
        self.deadline = self.started + int(self.req["timeout_ms"]) / 1000
        send_json(STARTED, {"pid": self.proc.pid})
        return in_w, out_r, err_r

    def reap(self):
        while True:
            try:
                pid, status = os.waitpid(-1, os.WNOHANG)
            except ChildProcessError:
                return
            if pid == 0:
                return
            if pid == self.proc.pid:
                self.status = status
                self.ended = time.monotonic()
                self.proc.returncode = 0  # reaped here; stops Popen from waiting on it

    def kill(self):
        self.killed = True
        kill_all()

    def on_output(self, kind, data):
        room = self.cap - self.counts[kind]
        if len(data) > room:
            data = data[:room]
            self.truncated[kind] = True
            self.output_limited = True
        self.counts[kind] += len(data)
        if data:
            send(kind, data)
        if self.output_limited and not self.killed:
            self.kill()

    def pump(self, in_w, out_r, err_r):
        wake_r, wake_w = os.pipe2(os.O_NONBLOCK | os.O_CLOEXEC)
        signal.set_wakeup_fd(wake_w, warn_on_full_buffer=False)
        sel = selectors.DefaultSelector()
        sel.register(wake_r, selectors.EVENT_READ, None)
        sel.register(out_r, selectors.EVENT_READ, STDOUT)
        sel.register(err_r, selectors.EVENT_READ, STDERR)
        open_pipes = 2
        pending = memoryview(self.stdin)
        if pending:
            os.set_blocking(in_w, False)
            sel.register(in_w, selectors.EVENT_WRITE, "stdin")
        else:
            os.close(in_w)
        drain_until = None
        while True:
            self.reap()
            now = time.monotonic()
            if drain_until is None:
                if self.status is None and not self.killed and now >= self.deadline:
                    self.timed_out = True
                    self.kill()
                if self.status is not None or self.killed:
                    self.kill()  # also when the child exited: no background process outlives it
                    drain_until = now + DRAIN_SECONDS
            if drain_until is not None and ((open_pipes == 0 and self.status is not None) or now >= drain_until):
                break
            limit = self.deadline if drain_until is None else drain_until
            for key, _ in sel.select(max(0.0, limit - now)):
                if key.data is None:
                    while True:
                        try:
                            if not os.read(wake_r, 4096):
                                break
                        except BlockingIOError:
                            break
                elif key.data == "stdin":
                    try:
                        pending = pending[os.write(in_w, pending[:READ_CHUNK]):]
                    except BlockingIOError:
                        continue
                    except OSError:  # EPIPE: the program closed its stdin
                        pending = pending[:0]
                    if not pending:
                        sel.unregister(in_w)
                        os.close(in_w)
                else:
                    data = os.read(key.fd, READ_CHUNK)
                    if data:
                        self.on_output(key.data, data)
                    else:
                        sel.unregister(key.fd)
                        os.close(key.fd)
                        open_pipes -= 1
        kill_all()
        self.reap()

    def collect_files(self, max_files, max_file_bytes, max_total):
        """Yields (path, bytes) of new or changed regular files; sets files_truncated when a cap skips one."""
        self.files_truncated = False
        count = total = scanned = 0
        stack = [""]
        while stack:
            rel_dir = stack.pop()
            try:
                with os.scandir(os.path.join(WORKSPACE, rel_dir)) as it:
                    entries = sorted(it, key=lambda e: e.name)
            except OSError:
                continue
            for entry in entries:
                scanned += 1
                if scanned > MAX_SCAN:
                    self.files_truncated = True
                    return
                rel = f"{rel_dir}/{entry.name}" if rel_dir else entry.name
                if entry.is_symlink():
                    continue
                if not returnable_path(rel):
                    self.files_truncated = True
                    continue
                if entry.is_dir(follow_symlinks=False):
                    stack.append(rel)
                    continue
                if not entry.is_file(follow_symlinks=False) or rel == self.code_file:
                    continue
                data = read_regular(os.path.join(WORKSPACE, rel), max_file_bytes)
                if data is None:
                    continue
                if self.inputs.get(rel) == hashlib.sha256(data).digest():
                    continue
                if count >= max_files or len(data) > max_file_bytes or total + len(data) > max_total:
                    self.files_truncated = True
                    continue
                count += 1
                total += len(data)
                yield rel, data

    def report(self):
        req = self.req
        for rel, data in self.collect_files(
            int(req["max_files"]), int(req["max_file_bytes"]), int(req["max_total_file_bytes"])
        ):
            for start in range(0, max(len(data), 1), FILE_CHUNK):
                chunk = data[start:start + FILE_CHUNK]
                more = start + FILE_CHUNK < len(data)
                send_json(FILE, {"path": rel, "b64": base64.b64encode(chunk).decode(), "more": more})
        code = sig = None
        if self.status is not None:
            if os.WIFSIGNALED(self.status):
                sig = signal_name(os.WTERMSIG(self.status))
            else:
                code = os.waitstatus_to_exitcode(self.status)
        ended = self.ended if self.ended is not None else time.monotonic()
        return {
            "exit_code": code,
            "signal": sig,
            "timed_out": self.timed_out,
            "output_limited": self.output_limited,
            "stdout_truncated": self.truncated[STDOUT],
            "stderr_truncated": self.truncated[STDERR],
            "files_truncated": self.files_truncated,
            "duration_ms": round((ended - self.started) * 1000, 1),
        }


def signal_name(number):
    """SIGSEGV, SIGRTMIN+6, ...: realtime signals have no name of their own in Python."""
    try:
        return signal.Signals(number).name
    except ValueError:
        if signal.SIGRTMIN <= number <= signal.SIGRTMAX:
            return "SIGRTMIN" if number == signal.SIGRTMIN else f"SIGRTMIN+{number - signal.SIGRTMIN}"
        return f"SIG{number}"


def returnable_path(rel):
    """The agent's WorkspacePath rules: a name it could not send back is skipped."""
    try:
        rel.encode("utf-8")  # undecodable names arrive as lone surrogates
    except UnicodeEncodeError:
        return False
    return len(rel) <= 255 and not any(ord(c) < 32 or c == "\\" for c in rel)


def read_regular(path, limit):
    """Reads a regular file without following links; None if it is not one. Bytes past limit+1 are not read."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC)
    except OSError:
        return None
    try:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            return None
        parts, size = [], 0
        while size <= limit:
            chunk = os.read(fd, min(1024 * 1024, limit + 1 - size))
            if not chunk:
                break
            parts.append(chunk)
            size += len(chunk)
        return b"".join(parts)
    except OSError:
        return None
    finally:
        os.close(fd)


def preload_modules(argv):
    """The modules after `--preload`, comma-separated; names that are not dotted identifiers are dropped."""
    if len(argv) < 2 or argv[0] != "--preload":
        return []
    names = [n for n in argv[1].split(",") if len(n) <= 100 and MODULE_NAME.fullmatch(n)]
    return list(dict.fromkeys(names))[:MAX_PRELOAD]


def seed_matplotlib_cache():
    """Copies the image's prebuilt matplotlib font list into MPLCONFIGDIR; nothing when there is none."""
    try:
        names = [n for n in os.listdir(MPL_PREBUILT) if n.startswith("fontlist-") and n.endswith(".json")][:4]
    except OSError:
        return
    target = BASE_ENV["MPLCONFIGDIR"]
    try:
        os.makedirs(target, 0o700, exist_ok=True)
        for name in names:
            data = read_regular(os.path.join(MPL_PREBUILT, name), MPL_PREBUILT_MAX_BYTES)
            if data is not None and len(data) <= MPL_PREBUILT_MAX_BYTES:
                write_file_at(os.path.join(target, name), data)
    except OSError:
        pass  # matplotlib then builds the list itself, slower


def write_file_at(path, data):
    write_all(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC, 0o600), data)


def write_all(fd, data):
    """Writes all of `data` to `fd` (os.write may write less), then closes it."""
    try:
        view = memoryview(data)
        while view:
            view = view[os.write(fd, view):]
    finally:
        os.close(fd)


def main():
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # user code could otherwise raise KeyboardInterrupt in PID 1
    signal.signal(signal.SIGCHLD, lambda *_: None)  # a handler, so set_wakeup_fd wakes select on exit
    try:
        become_runner_user()
        preload = preload_modules(sys.argv[1:])
        seed_matplotlib_cache()
        try:
            stub = Stub(preload)
        except OSError:
            stub = None  # no python3 to pre-start; every program is spawned fresh
        execution = Execution(read_request())
        execution.prepare()
        oom_before = oom_kills()
        pipes = execution.spawn(stub)
        execution.pump(*pipes)
        oom_after = oom_kills()
        result = execution.report()
        if oom_before is None or oom_after is None:
            result["oom_killed"] = None  # the agent asks Docker instead
        else:
            result["oom_killed"] = oom_after > oom_before
        send_json(EXIT, result)
    except BrokenPipeError:
        os._exit(1)  # the agent is gone; nobody to report to
    except Exception as e:  # noqa: BLE001 - the agent must hear about every failure
        kill_all()
        message = str(e) if isinstance(e, RunnerError) else f"{type(e).__name__}: {e}"
        if isinstance(e, OSError) and e.errno == errno.ENOSPC:
            message = "the workspace is full"
        try:
            send_json(ERROR, {"message": message})
        except OSError:
            pass
    sys.stdout.flush()
    os._exit(0)  # PID 1 exiting ends the container, and any process left in it


main()
