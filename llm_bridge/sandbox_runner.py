"""The child side of `llm_bridge.sandbox`: confines itself, then runs untrusted code.

This file is never imported by move37. `llm_bridge.sandbox` reads its source and starts it
as `python -I -S -c <this source> <config path>` in a new session, with a scrubbed
environment, its own temporary directory as working directory and HOME. Everything here
uses the standard library only, because `-S` keeps site-packages off the path.

Order of confinement, each step recorded in the isolation report sent to the parent:

1. read and delete the parent's config file (the code, the limits, a one-time nonce);
2. `resource` limits (CPU, address space, processes, file size, open files, no core dumps);
3. a new, empty network namespace (`unshare(CLONE_NEWNET)`, falling back to a new user
   namespace with it when not privileged), so no address outside the child is reachable;
4. pre-import the standard-library modules solutions commonly use, then drop root to an
   unprivileged uid when running as root (the interpreter's files may be unreadable to it);
5. an audit hook (PEP 578) that refuses, from then on, process creation, sockets, ctypes,
   frame and garbage-collector introspection, limit changes, writes outside the sandbox
   directory (and descriptors of directories outside it, which `dir_fd=` could write
   through) and reads under /proc. Audit hooks are defence in depth on top of the OS
   limits above, not a security boundary on their own.

Verdict: the code passes when it (and, if given, the trusted test code's
`check(candidate)`) runs to the end without an exception; the runner then writes the nonce
to a status pipe. Code that exits early (`sys.exit`, `os._exit`) never reaches that write,
and the nonce lives only in a frame local that the audit hook keeps out of reach. The
candidate handed to `check` is wrapped so that only plain built-in values (exact types, no
subclasses with a rigged `__eq__`) count as results. The test code runs in a namespace of
its own with a copy of the builtins taken before the untrusted code could patch them; the
trusted `setup` code (a problem's prompt, for the helpers its tests call) runs there first,
and the test sees the entry point's name bound to the wrapped candidate. Not covered:
standard-library modules the untrusted code patched in place (`math.sqrt = ...`) are the
same module objects the tests import.
"""

import builtins
import contextlib
import json
import os
import resource
import sys

CLONE_NEWUSER = 0x10000000
CLONE_NEWNET = 0x40000000
PRELOAD = (
    "typing", "math", "cmath", "random", "copy", "string", "collections", "re", "hashlib",
    "itertools", "functools", "heapq", "bisect", "fractions", "decimal", "statistics",
    "operator", "json", "datetime", "array", "numbers", "dataclasses", "enum", "textwrap",
    "unicodedata", "struct", "base64", "binascii", "calendar",
)
BLOCKED_EVENTS = frozenset({
    "os.fork", "os.forkpty", "os.posix_spawn", "os.exec", "os.spawn", "os.system",
    "os.kill", "os.killpg", "subprocess.Popen", "pty.spawn", "os.startfile",
    "sys._current_frames", "sys.settrace", "sys.setprofile", "sys._getframe",
    "gc.get_objects", "gc.get_referrers", "gc.get_referents",
    "resource.setrlimit", "resource.prlimit", "os.setuid", "os.chroot",
})
BLOCKED_PREFIXES = ("socket.", "ctypes.", "_posixsubprocess", "winreg.", "msvcrt.")
BLOCKED_IMPORTS = frozenset({"_posixsubprocess", "_ctypes", "ctypes", "_xxsubinterpreters",
                             "socket", "_socket", "ssl", "multiprocessing", "subprocess"})
FRAME_ATTRIBUTES = frozenset({"tb_frame", "gi_frame", "cr_frame", "ag_frame", "f_back"})
PATH_EVENTS = frozenset({
    "os.remove", "os.rename", "os.rmdir", "os.mkdir", "os.symlink", "os.link", "os.chmod",
    "os.chown", "os.truncate", "os.utime", "shutil.rmtree", "shutil.move", "shutil.copyfile",
    "shutil.copytree", "os.chflags", "os.lchflags", "os.mkfifo", "os.mknod", "os.setxattr",
    "os.removexattr",
})
WRITE_FLAGS = os.O_WRONLY | os.O_RDWR | os.O_CREAT | os.O_APPEND | os.O_TRUNC
PLAIN_ATOMS = (int, float, complex, str, bytes, bool, type(None))
PLAIN_CONTAINERS = (list, tuple, dict, set, frozenset)


class SandboxViolation(PermissionError):
    """An operation the sandbox forbids."""


class SandboxFrameViolation(ValueError):
    """Frame introspection is forbidden (a ValueError so `typing`'s fallbacks still work)."""


def read_config(path):
    with open(path, encoding="utf-8") as handle:
        config = json.load(handle)
    os.remove(path)
    return config


def apply_limits(limits):
    applied = []
    pairs = (
        ("cpu", resource.RLIMIT_CPU, lambda v: (v, v + 1)),
        ("as", resource.RLIMIT_AS, lambda v: (v, v)),
        ("nproc", resource.RLIMIT_NPROC, lambda v: (v, v)),
        ("fsize", resource.RLIMIT_FSIZE, lambda v: (v, v)),
        ("nofile", resource.RLIMIT_NOFILE, lambda v: (v, v)),
        ("core", resource.RLIMIT_CORE, lambda v: (0, 0)),
    )
    for name, which, pair in pairs:
        value = limits.get(name)
        if value is None:
            continue
        try:
            resource.setrlimit(which, pair(int(value)))
            applied.append(name)
        except (ValueError, OSError):
            pass
    return "rlimits:" + ",".join(applied)


def unshare_network():
    """A new network namespace with only a downed loopback; returns the isolation label."""
    try:
        import ctypes

        libc = ctypes.CDLL(None, use_errno=True)
        attempts = [("netns", CLONE_NEWNET)]
        if os.geteuid() != 0:
            attempts.append(("netns+userns", CLONE_NEWUSER | CLONE_NEWNET))
        for label, flags in attempts:
            if libc.unshare(flags) == 0:
                return label
        return None
    except Exception:  # noqa: BLE001 (no ctypes or no unshare: fall back, reported)
        return None
    finally:
        for name in [m for m in sys.modules if m == "ctypes" or m.startswith(("ctypes.", "_ctypes"))]:
            del sys.modules[name]


def drop_privileges(uid, gid, sandbox_dir):
    if os.geteuid() != 0 or uid is None:
        return None
    for module in PRELOAD:
        try:
            __import__(module)
        except ImportError:
            pass
    try:
        os.chown(sandbox_dir, uid, gid)
        os.setgroups([])
        os.setgid(gid)
        os.setuid(uid)
    except OSError:
        return None  # no CAP_SETUID (some containers): stay root, reported as not applied
    return f"uid:{uid}"


def inside(path, root):
    try:
        if isinstance(path, int):
            return True  # an already-open descriptor: opening it was checked when it was made
        real = os.path.realpath(os.fsdecode(path))
    except (TypeError, ValueError):
        return False
    return real == root or real.startswith(root + os.sep)


def make_audit_hook(root):
    def hook(event, args):
        if event in BLOCKED_EVENTS or event.startswith(BLOCKED_PREFIXES):
            if event == "sys._getframe":
                raise SandboxFrameViolation("frame introspection is disabled in the sandbox")
            raise SandboxViolation(f"{event} is disabled in the sandbox")
        if event == "import" and args and args[0] in BLOCKED_IMPORTS:
            raise SandboxViolation(f"import of {args[0]} is disabled in the sandbox")
        if event == "object.__getattr__" and len(args) > 1 and args[1] in FRAME_ATTRIBUTES:
            raise SandboxViolation("frame introspection is disabled in the sandbox")
        if event == "open" and args:
            path, mode, flags = (tuple(args) + (None, None))[:3]
            if isinstance(path, (str, bytes)) and os.path.realpath(os.fsdecode(path)).startswith(
                ("/proc", "/sys")
            ):
                raise SandboxViolation("reading /proc and /sys is disabled in the sandbox")
            writing = (isinstance(mode, str) and any(c in mode for c in "wax+")) or (
                isinstance(flags, int) and flags & WRITE_FLAGS
            )
            if writing and not inside(path, root):
                raise SandboxViolation(f"writing outside the sandbox is disabled: {path!r}")
            if not inside(path, root) and os.path.isdir(os.fsdecode(path)):
                # A directory descriptor would let dir_fd= calls write relative to it.
                raise SandboxViolation("opening directories outside the sandbox is disabled")
        if event in PATH_EVENTS:
            for arg in args:
                if isinstance(arg, (str, bytes, os.PathLike)) and not inside(arg, root):
                    raise SandboxViolation(f"{event} outside the sandbox is disabled")

    return hook


def check_plain(value, budget=100_000):
    """Raise TypeError unless `value` is built from exact built-in types only."""
    seen = set()
    stack = [value]
    while stack:
        budget -= 1
        if budget < 0:
            raise TypeError("result too large to check")
        item = stack.pop()
        kind = type(item)
        if kind in PLAIN_ATOMS:
            continue
        if kind not in PLAIN_CONTAINERS:
            raise TypeError(f"result of type {kind.__name__} is not a plain built-in value")
        if id(item) in seen:
            continue
        seen.add(id(item))
        stack.extend(item.items() if kind is dict else item)


def guarded(function):
    def candidate(*args, **kwargs):
        result = function(*args, **kwargs)
        check_plain(result)
        return result

    return candidate


def report_exception(exc):
    lines = []
    tb = exc.__traceback__
    while tb is not None:
        lines.append(f"  line {tb.tb_lineno}")
        tb = tb.tb_next
    try:
        message = str(exc)
    except BaseException:  # noqa: BLE001 (an untrusted __str__ may raise anything)
        message = "<unprintable>"
    sys.stderr.write("Traceback (line numbers only):\n" + "\n".join(lines) + "\n")
    sys.stderr.write(f"{type(exc).__name__}: {message}\n")
    sys.stderr.flush()


def run(config, status_fd, nonce):
    clean_builtins = dict(builtins.__dict__)
    solution = {"__name__": "__main__", "__builtins__": builtins}
    try:
        exec(compile(config["code"], "<solution>", "exec"), solution)  # noqa: S102 (sandboxed child)
        if config.get("test") is not None:
            candidate = guarded(solution[config["entry_point"]])
            tests = {"__name__": "__test__", "__builtins__": clean_builtins}
            if config.get("setup") is not None:
                exec(compile(config["setup"], "<setup>", "exec"), tests)  # noqa: S102 (trusted)
            tests[config["entry_point"]] = candidate
            exec(compile(config["test"], "<test>", "exec"), tests)  # noqa: S102 (trusted test code)
            tests["check"](candidate)
        sys.stdout.flush()
    except BaseException as exc:  # noqa: BLE001 (SystemExit included: an early exit fails)
        with contextlib.suppress(BaseException):
            sys.stdout.flush()  # keep what the code printed before failing
        report_exception(exc)
        os._exit(1)
    os.write(status_fd, b"\nPASS " + nonce.encode("ascii") + b"\n")
    os._exit(0)


def main():
    config = read_config(sys.argv[1])
    root = os.path.realpath(config["sandbox_dir"])
    os.chdir(root)
    status_fd = config["status_fd"]
    isolation = ["session", "scrubbed-env", "isolated-python", "cwd:sandbox"]
    isolation.append(apply_limits(config["limits"]))
    if config.get("network_namespace", True):
        label = unshare_network()
        if label:
            isolation.append(label)
    if config.get("drop_privileges", True):
        label = drop_privileges(config.get("uid"), config.get("gid"), root)
        if label:
            isolation.append(label)
    if config.get("audit_hook", True):
        sys.addaudithook(make_audit_hook(root))
        isolation.append("audit-hook")
    os.write(status_fd, (json.dumps({"isolation": isolation}) + "\n").encode("ascii"))
    sys.argv = ["<solution>"]
    nonce = config.pop("nonce")
    run(config, status_fd, nonce)


main()
