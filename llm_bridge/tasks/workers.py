"""A small pool of worker processes that run reward functions, killed past a deadline.

A reward function is user code: it may raise, hang, or spin forever. A thread cannot be
stopped, so a hung call on a thread keeps a core busy for the rest of the run; a process
can be killed. Each worker is forked from the training process (so it holds the reward
callables already, closures and lambdas included, and only the batch's columns cross the
pipe), runs calls one at a time on its main thread (where `math-verify`'s alarm-based
deadline works), and is replaced by a fresh fork when it is killed or dies.

Workers are started at the first call, not when a pool is made, and die with the pool (or
with the training process); each is in its own process group, so that a kill reaches
whatever the reward started.

    >>> pool = RewardPool({"double": lambda x: 2 * x}, size=1)
    >>> pool.run([("double", {"x": 21})], timeout_s=10)
    [('ok', 42)]
    >>> pool.close()
"""

from __future__ import annotations

import multiprocessing
import os
import signal
import time
import weakref
from collections.abc import Callable, Mapping, Sequence
from multiprocessing.connection import Connection, wait
from typing import Any

IN_WORKER = False
"""True inside a worker process: a reward there runs inline (the pool already guards it)."""

Result = tuple[str, Any]
"""`("ok", value)`, `("error", "Type: message")` or `("timeout", seconds)`."""


def _serve(conn: Connection, functions: Mapping[str, Callable[..., Any]]) -> None:
    """A worker's loop: `(name, kwargs)` in, a `Result` out, until None or a closed pipe."""
    global IN_WORKER
    IN_WORKER = True
    os.setpgid(0, 0)
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the trainer's to handle
    while True:
        try:
            message = conn.recv()
        except (EOFError, OSError):
            return
        if message is None:
            return
        name, kwargs = message
        try:
            result: Result = ("ok", functions[name](**kwargs))
        except BaseException as error:  # noqa: BLE001 (any failure is reported, not fatal)
            result = ("error", f"{type(error).__name__}: {error}")
        try:
            conn.send(result)
        except Exception as error:  # noqa: BLE001 (an unpicklable result)
            conn.send(("error", f"the result could not be sent back: {error}"))


class _Worker:
    """One forked worker. Forked by hand rather than as a `multiprocessing.Process`, because
    the loop's actor processes are daemons, which `multiprocessing` forbids to have
    children."""

    def __init__(self, functions: Mapping[str, Callable[..., Any]]) -> None:
        parent, child = multiprocessing.Pipe()
        pid = os.fork()
        if pid == 0:  # the worker: serve, then leave without the parent's exit handlers
            code = 0
            try:
                parent.close()
                _die_with_parent()
                _serve(child, functions)
            except BaseException:  # noqa: BLE001
                code = 1
            finally:
                os._exit(code)
        child.close()
        self.pid, self.conn = pid, parent

    def kill(self) -> None:
        for target in (lambda: os.killpg(self.pid, signal.SIGKILL),
                       lambda: os.kill(self.pid, signal.SIGKILL)):
            try:
                target()
            except OSError:
                pass
        self._reap()

    def stop(self) -> None:
        try:
            self.conn.send(None)
        except (OSError, ValueError):
            pass
        deadline = time.monotonic() + 1.0
        while time.monotonic() < deadline:
            if os.waitpid(self.pid, os.WNOHANG) != (0, 0):
                self.conn.close()
                return
            time.sleep(0.01)
        self.kill()

    def _reap(self) -> None:
        try:
            os.waitpid(self.pid, 0)
        except ChildProcessError:
            pass
        self.conn.close()


def _die_with_parent() -> None:
    """Ask Linux to kill this worker when the training process dies (a hung call would
    otherwise outlive it); elsewhere the closed pipe ends an idle worker."""
    try:
        import ctypes

        ctypes.CDLL(None).prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG
    except (OSError, AttributeError):
        pass


class RewardPool:
    """Up to `size` forked workers running the named functions.

    Args:
        functions: name -> callable taking keyword arguments.
        size: most workers (calls beyond it wait for a free one).
    """

    def __init__(self, functions: Mapping[str, Callable[..., Any]], size: int = 2) -> None:
        if size < 1:
            raise ValueError(f"a pool needs at least one worker, got {size}")
        self.functions, self.size = dict(functions), size
        self.idle: list[_Worker] = []
        self.kills = 0
        self._finalizer = weakref.finalize(self, _stop_all, self.idle)

    @property
    def pids(self) -> list[int]:
        """The live workers' process ids."""
        return [w.pid for w in self.idle]

    def run(self, calls: Sequence[tuple[str, dict[str, Any]]], timeout_s: float) -> list[Result]:
        """Each `(name, kwargs)` run on a worker, at most `size` at a time, each killed
        `timeout_s` seconds after it started; results in the calls' order."""
        results: list[Result | None] = [None] * len(calls)
        pending = list(range(len(calls)))
        busy: dict[Connection, tuple[_Worker, int, float]] = {}
        while pending or busy:
            while pending and len(busy) < self.size:
                index = pending.pop(0)
                worker = self.idle.pop() if self.idle else _Worker(self.functions)
                try:
                    worker.conn.send(calls[index])
                except Exception as error:  # noqa: BLE001 (unpicklable arguments)
                    results[index] = ("error", f"the call could not be sent: {error}")
                    self.idle.append(worker)
                    continue
                busy[worker.conn] = (worker, index, time.monotonic() + timeout_s)
            if not busy:
                continue
            next_deadline = min(deadline for _, _, deadline in busy.values())
            ready = wait(list(busy), timeout=max(0.0, next_deadline - time.monotonic()))
            for conn in ready:
                worker, index, _ = busy.pop(conn)  # type: ignore[index]
                try:
                    results[index] = conn.recv()  # type: ignore[union-attr]
                    self.idle.append(worker)
                except (EOFError, OSError):
                    results[index] = ("error", "the reward's worker process died")
                    worker.kill()
            now = time.monotonic()
            for conn, (worker, index, deadline) in list(busy.items()):
                if now >= deadline:
                    del busy[conn]
                    worker.kill()
                    self.kills += 1
                    results[index] = ("timeout", timeout_s)
        return results  # type: ignore[return-value]

    def close(self) -> None:
        """Stop every worker (a later `run` forks new ones)."""
        _stop_all(self.idle)


def _stop_all(workers: list[_Worker]) -> None:
    while workers:
        workers.pop().stop()
