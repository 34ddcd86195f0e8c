"""Run untrusted Python (model-written code) in a confined subprocess, never in-process.

    >>> result = run_python("print(6 * 7)")
    >>> result.passed, result.stdout.strip()
    (True, '42')

Each run gets:

* a fresh temporary directory as working directory, HOME and TMPDIR, removed afterwards;
* a scrubbed environment: only PATH, HOME, TMPDIR and LANG, nothing of the parent's;
* `python -I -S`: isolated mode (no PYTHON* variables, no user site, no script directory
  on the path) and no site-packages, so only the standard library is importable;
* a new session (`os.setsid`), so a wall-clock timeout kills the whole process group;
* `resource` limits: CPU seconds, address space, processes, file size, open files, and no
  core dumps;
* a new network namespace with nothing but a downed loopback, when the OS permits it;
* an unprivileged uid when started as root (RLIMIT_NPROC does not bind root; file
  permissions then keep the code out of the parent's files and /proc entries);
* an audit hook, as defence in depth on top of the OS limits: no process creation,
  sockets, ctypes, frame introspection or writes outside the sandbox directory.

What was actually applied on this machine is reported in `SandboxResult.isolation` (see
`probe_isolation`), because namespaces and uid changes depend on privileges. The child-side
code is `llm_bridge/sandbox_runner.py`; its docstring describes the order of confinement
and how a pass is proved (a one-time nonce written after the tests finish).
"""

from __future__ import annotations

import json
import os
import secrets
import selectors
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

RUNNER_SOURCE = (Path(__file__).with_name("sandbox_runner.py")).read_text(encoding="utf-8")
NOBODY_UID = 65534
NOBODY_GID = 65534


@dataclass(frozen=True)
class SandboxLimits:
    """Resource limits for one sandboxed run.

    Attributes:
        wall_seconds: wall-clock limit; the whole process group is killed after it.
        cpu_seconds: RLIMIT_CPU (SIGXCPU, then SIGKILL one second later).
        memory_bytes: RLIMIT_AS, the address-space cap (MemoryError past it).
        max_processes: RLIMIT_NPROC for the sandbox's uid; 1 forbids any fork or thread.
        file_bytes: RLIMIT_FSIZE, the largest file the code may write.
        open_files: RLIMIT_NOFILE.
        output_bytes: how much of stdout and of stderr is kept (the tail).
    """

    wall_seconds: float = 5.0
    cpu_seconds: int = 5
    memory_bytes: int = 512 * 2**20
    max_processes: int = 1
    file_bytes: int = 4 * 2**20
    open_files: int = 64
    output_bytes: int = 16_384

    def __post_init__(self) -> None:
        for name in ("wall_seconds", "cpu_seconds", "memory_bytes", "max_processes",
                     "file_bytes", "open_files", "output_bytes"):
            if getattr(self, name) <= 0:
                raise ValueError(f"SandboxLimits.{name} must be positive, got {getattr(self, name)}")


@dataclass(frozen=True)
class SandboxResult:
    """What one sandboxed run did.

    Attributes:
        passed: the code (and the test's `check`, if any) ran to the end without an
            exception, within the limits; proved by the run's nonce, not the exit code alone.
        returncode: the child's exit status (negative: killed by that signal).
        timed_out: the wall-clock limit was hit and the process group was killed.
        stdout: the last `output_bytes` of standard output, decoded leniently.
        stderr: the last `output_bytes` of standard error.
        isolation: the confinement actually applied, e.g. `("session", "rlimits:cpu,as",
            "netns", "uid:65534", "audit-hook", ...)`; empty if the child died before saying.
        seconds: wall-clock duration of the run.
    """

    passed: bool
    returncode: int | None
    timed_out: bool
    stdout: str
    stderr: str
    isolation: tuple[str, ...] = field(default_factory=tuple)
    seconds: float = 0.0


@dataclass(frozen=True)
class SandboxOptions:
    """Which isolation layers to request (all by default; switch off only to test a layer).

    Attributes:
        network_namespace: try `unshare(CLONE_NEWNET)`.
        drop_privileges: when root, run the code as `uid`/`gid` (nobody by default).
        audit_hook: install the runner's audit hook before running the code.
        uid: the unprivileged uid to switch to when root.
        gid: its group.
        python: the interpreter to run (default: this one).
    """

    network_namespace: bool = True
    drop_privileges: bool = True
    audit_hook: bool = True
    uid: int = NOBODY_UID
    gid: int = NOBODY_GID
    python: str = sys.executable


def run_python(
    code: str,
    *,
    test: str | None = None,
    entry_point: str | None = None,
    setup: str | None = None,
    limits: SandboxLimits = SandboxLimits(),
    options: SandboxOptions = SandboxOptions(),
) -> SandboxResult:
    """Run `code` in a confined subprocess; optionally then `check(<entry_point>)` from `test`.

    Safe to call from several threads at once (no `preexec_fn`; each run has its own
    directory and pipes).

    Args:
        code: untrusted Python source.
        test: trusted source defining `check(candidate)`; run after `code` with builtins
            as they were before `code` ran.
        entry_point: the name `code` must define; passed (wrapped) to `check`, and bound
            to that name in the test's namespace.
        setup: trusted source run in the test's namespace before `test` (e.g. a problem's
            prompt, whose helper functions the tests call); never sees `code`'s names.
        limits: resource limits.
        options: isolation layers to request.

    Returns:
        The run's `SandboxResult`.

    Raises:
        TypeError: `code` or `test` is not a string.
        ValueError: `test` is given without `entry_point` (or the reverse).
    """
    if not isinstance(code, str) or any(
        s is not None and not isinstance(s, str) for s in (test, setup)
    ):
        raise TypeError("code, test and setup must be str")
    if (test is None) != (entry_point is None):
        raise ValueError("test and entry_point go together")
    nonce = secrets.token_hex(16)
    sandbox_dir = tempfile.mkdtemp(prefix="move37-sandbox-")
    read_fd, write_fd = os.pipe()
    try:
        sources = {"code": code, "test": test, "setup": setup, "entry_point": entry_point}
        config_path = _write_config(sandbox_dir, sources, limits, options, nonce, write_fd)
        started = time.monotonic()
        process = subprocess.Popen(
            [options.python, "-I", "-S", "-c", RUNNER_SOURCE, config_path],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            cwd=sandbox_dir,
            env=_scrubbed_env(sandbox_dir),
            start_new_session=True,
            pass_fds=(write_fd,),
            close_fds=True,
        )
        os.close(write_fd)
        write_fd = -1
        outputs, timed_out = _collect(process, read_fd, limits, started)
        returncode = process.returncode
        seconds = time.monotonic() - started
    finally:
        if write_fd >= 0:
            os.close(write_fd)
        os.close(read_fd)
        shutil.rmtree(sandbox_dir, ignore_errors=True)
    status = outputs["status"].decode("ascii", "replace")
    passed = (not timed_out) and returncode == 0 and f"PASS {nonce}" in status.split("\n")
    return SandboxResult(
        passed=passed,
        returncode=returncode,
        timed_out=timed_out,
        stdout=outputs["stdout"].decode("utf-8", "replace"),
        stderr=outputs["stderr"].decode("utf-8", "replace"),
        isolation=_parse_isolation(status),
        seconds=seconds,
    )


def probe_isolation(options: SandboxOptions = SandboxOptions()) -> tuple[str, ...]:
    """The isolation layers a trivial run gets on this machine (for logs and reports)."""
    return run_python("pass", options=options).isolation


def _write_config(
    sandbox_dir: str,
    sources: dict[str, str | None],
    limits: SandboxLimits,
    options: SandboxOptions,
    nonce: str,
    status_fd: int,
) -> str:
    """Write the runner's config (0600, read and deleted by the runner before any code runs)."""
    config = {
        "sandbox_dir": sandbox_dir,
        **sources,
        "nonce": nonce,
        "status_fd": status_fd,
        "network_namespace": options.network_namespace,
        "drop_privileges": options.drop_privileges,
        "audit_hook": options.audit_hook,
        "uid": options.uid,
        "gid": options.gid,
        "limits": {
            "cpu": limits.cpu_seconds,
            "as": limits.memory_bytes,
            "nproc": limits.max_processes,
            "fsize": limits.file_bytes,
            "nofile": limits.open_files,
            "core": 0,
        },
    }
    path = os.path.join(sandbox_dir, ".runner-config.json")
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(descriptor, "w", encoding="utf-8") as handle:
        json.dump(config, handle)
    return path


def _scrubbed_env(sandbox_dir: str) -> dict[str, str]:
    """The child's whole environment: nothing is inherited from the parent."""
    return {"PATH": "/usr/bin:/bin", "HOME": sandbox_dir, "TMPDIR": sandbox_dir,
            "LANG": "C.UTF-8"}


def _collect(
    process: subprocess.Popen, status_fd: int, limits: SandboxLimits, started: float
) -> tuple[dict[str, bytes], bool]:
    """Drain stdout, stderr and the status pipe until the child exits or the deadline.

    Keeps only the last `limits.output_bytes` of each output stream and the first 4 KiB of
    status. Kills the child's whole process group before reaping it (so its id cannot have
    been reused), whether it finished, timed out or left descendants holding the pipes.
    """
    assert process.stdout is not None and process.stderr is not None
    caps = {"stdout": limits.output_bytes, "stderr": limits.output_bytes, "status": 4096}
    buffers = {name: bytearray() for name in caps}
    selector = selectors.DefaultSelector()
    selector.register(process.stdout, selectors.EVENT_READ, "stdout")
    selector.register(process.stderr, selectors.EVENT_READ, "stderr")
    selector.register(status_fd, selectors.EVENT_READ, "status")
    deadline = started + limits.wall_seconds
    timed_out = False
    exited_at: float | None = None
    try:
        while selector.get_map():
            now = time.monotonic()
            if now >= deadline:
                timed_out = not _has_exited(process)
                break
            if exited_at is None and _has_exited(process):
                exited_at = now
            if exited_at is not None and now - exited_at > 0.5:
                break  # descendants still hold the pipes open: stop waiting for them
            for key, _ in selector.select(timeout=min(0.05, deadline - now)):
                chunk = os.read(key.fd, 65536)
                if not chunk:
                    selector.unregister(key.fileobj)
                    continue
                _append(buffers[key.data], chunk, caps[key.data], keep_tail=key.data != "status")
    finally:
        selector.close()
        _kill_group(process)
        process.wait()
        process.stdout.close()
        process.stderr.close()
    return {name: bytes(buffer) for name, buffer in buffers.items()}, timed_out


def _append(buffer: bytearray, chunk: bytes, cap: int, *, keep_tail: bool) -> None:
    """Append `chunk` keeping at most `cap` bytes: the last ones, or the first ones."""
    if keep_tail:
        buffer.extend(chunk)
        if len(buffer) > cap:
            del buffer[: len(buffer) - cap]
    elif len(buffer) < cap:
        buffer.extend(chunk[: cap - len(buffer)])


def _has_exited(process: subprocess.Popen) -> bool:
    """Whether the child has exited, without reaping it (its pid stays reserved)."""
    try:
        info = os.waitid(os.P_PID, process.pid, os.WEXITED | os.WNOHANG | os.WNOWAIT)
    except ChildProcessError:
        return True
    return info is not None


def _kill_group(process: subprocess.Popen) -> None:
    """SIGKILL the child's process group (its id is the child's pid, from `setsid`)."""
    try:
        os.killpg(process.pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass


def _parse_isolation(status: str) -> tuple[str, ...]:
    """The isolation list from the runner's first status line (written before the code ran)."""
    first = status.split("\n", 1)[0]
    try:
        report = json.loads(first)
        return tuple(str(item) for item in report["isolation"])
    except (ValueError, KeyError, TypeError):
        return ()
