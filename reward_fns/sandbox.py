"""Run a function under hard time and memory bounds, in a pool of reusable worker processes.

Why: symbolic checking (math-verify, sympy) of model-written answers can hang or eat memory on
adversarial input (power towers, giant factorials). verl calls reward functions from thread pools,
asyncio executors and Ray actors, where signal-based timeouts (SIGALRM) do not work. A separate
process can always be killed: each call goes to an idle worker over a socket; if no answer comes in
time the worker is SIGKILLed, replaced, and the call reports "timeout". Inside the worker (one thread)
SIGALRM does work: it stops an overrunning call SOFT_MARGIN_S before that deadline, so the worker and what
it has learned (parser and sympy caches) live on; the kill is the backstop for work no signal reaches.

Workers are forked by a *zygote*: a fresh `python -m reward_fns.sandbox` process (started once, with
no state of the caller — not its threads, not its `__main__`) that imports the target module and forks
a worker on request, passing the worker's socket back over a Unix socket. A replacement therefore
costs milliseconds, not an interpreter start. The zygote first runs the pool's warm-up calls, so every
worker starts with lazy imports done and caches filled. Each worker caps its address space (`RLIMIT_AS`).
If the caller exits, the zygote and workers see EOF and exit too.

Use: `pool = BoundedPool("reward_fns.math_equivalence:worker_check")`, then
`pool.call(gold, pred, timeout_s=2.0)` -> `CallResult(ok, value, error)`. Thread-safe.
"""

from __future__ import annotations

import atexit
import importlib
import json
import os
import resource
import signal
import socket
import subprocess
import sys
import threading
import time
from collections import deque
from dataclasses import dataclass
from multiprocessing.connection import Connection
from typing import Any, Optional

SOFT_MARGIN_S = 0.15  # a worker stops a call this long before the caller would kill it


@dataclass(frozen=True)
class CallResult:
    ok: bool
    value: Any = None
    error: str = ""  # "timeout", "memory", "worker died", or the exception's text


def _resolve(target: str):
    module, _, name = target.partition(":")
    return getattr(importlib.import_module(module), name)


# ---- zygote and worker side ------------------------------------------------------------------------

class _SoftTimeout(BaseException):
    """Raised in a worker when a call overruns its soft deadline (a BaseException: `except Exception` in the
    target does not swallow it)."""


def _on_alarm(signum, frame):
    raise _SoftTimeout()


def soft_deadline(timeout_s: float) -> float:
    """When a worker stops a call itself: early enough for its reply to beat the caller's hard deadline."""
    return max(0.5 * timeout_s, timeout_s - SOFT_MARGIN_S)


def _serve(conn: Connection, fn, memory_mb: int) -> None:
    """Worker loop: (args, soft_s) -> ("ok", value) | ("error", text), until the caller hangs up. A call that
    runs past soft_s is interrupted here (SIGALRM works in this single-threaded process) and answers
    "timeout", so the worker and its warm caches live on; the caller's kill stays the backstop for work that
    signals cannot interrupt (a long computation inside C)."""
    if memory_mb > 0:
        with open("/proc/self/statm") as f:
            current = int(f.read().split()[0]) * os.sysconf("SC_PAGE_SIZE")
        limit = current + memory_mb * 2**20
        resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
    signal.signal(signal.SIGALRM, _on_alarm)
    while True:
        try:
            args, soft_s = conn.recv()
        except (EOFError, OSError):
            return
        try:
            signal.setitimer(signal.ITIMER_REAL, soft_s)
            try:
                reply = ("ok", fn(*args))
            finally:
                signal.setitimer(signal.ITIMER_REAL, 0)
        except _SoftTimeout:
            reply = ("error", "timeout")
        except MemoryError:
            reply = ("error", "memory")
        except RecursionError:
            reply = ("error", "recursion")
        except Exception as err:  # the checker's own failure on odd input: report, keep serving
            reply = ("error", f"{type(err).__name__}: {err}"[:300])
        try:
            conn.send(reply)
        except (OSError, ValueError):
            return


def _zygote_main(target: str, memory_mb: int, control_fd: int, warmup: str, warmup_call_s: float) -> None:
    fn = _resolve(target)  # imported once, inherited by every fork
    signal.signal(signal.SIGALRM, _on_alarm)
    for args in json.loads(warmup) if warmup else []:
        try:  # warm caches and lazy imports (sympy's, the parser's) once, for every worker
            signal.setitimer(signal.ITIMER_REAL, warmup_call_s)
            fn(*args)
        except (Exception, _SoftTimeout):  # noqa: S112 - warming is an optimisation: it must not stop the pool
            pass
        finally:
            signal.setitimer(signal.ITIMER_REAL, 0)
    signal.signal(signal.SIGCHLD, signal.SIG_IGN)  # workers are reaped automatically
    control = socket.socket(fileno=control_fd)
    while control.recv(1) == b"F":
        parent_end, child_end = socket.socketpair()
        pid = os.fork()
        if pid == 0:
            control.close()
            parent_end.close()
            signal.signal(signal.SIGCHLD, signal.SIG_DFL)
            try:
                _serve(Connection(child_end.detach()), fn, memory_mb)
            finally:
                os._exit(0)
        child_end.close()
        socket.send_fds(control, [str(pid).encode()], [parent_end.fileno()])
        parent_end.close()


# ---- caller side ------------------------------------------------------------------------------------

class _Worker:
    def __init__(self, pid: int, fd: int):
        self.pid, self.conn = pid, Connection(fd)

    def kill(self) -> None:
        try:
            os.kill(self.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        self.conn.close()


@dataclass
class _Handoff:
    """A waiting caller's place in line; `_release` fills it."""

    ready: bool = False
    worker: Optional[_Worker] = None


class BoundedPool:
    """Up to `max_workers` worker processes running `target` ("module:function").

    Latency bound: callers are served first come, first served, and each call holds a worker for at most
    its `timeout_s` (the sum of its steps' timeouts with `call_steps`; plus a fork of a few ms when a worker
    was killed). With C concurrent callers and W = max_workers, a call therefore returns within
    ceil(C / W) · (timeout_s + fork time): waiting plus working, whatever the answers are (tests/unit/reward_fns/test_sandbox.py holds it under load)."""

    def __init__(
        self,
        target: str,
        max_workers: int = 4,
        memory_mb: int = 1024,
        start_timeout_s: float = 120.0,
        warmup_args: tuple = (),
        warmup_calls: tuple[tuple, ...] = (),
        warmup_call_s: float = 10.0,
    ):
        """`warmup_args` (one call) and `warmup_calls` (several) run in the zygote before any worker is forked:
        the first call of every worker then finds lazy imports done and caches filled. A warm-up call that runs
        past `warmup_call_s` is stopped (the pool starts anyway)."""
        self.target, self.memory_mb, self.start_timeout_s = target, memory_mb, start_timeout_s
        calls = [list(args) for args in warmup_calls] + ([list(warmup_args)] if warmup_args else [])
        self.warmup, self.warmup_call_s = (json.dumps(calls) if calls else ""), warmup_call_s
        self._zygote: Optional[subprocess.Popen] = None
        self._control: Optional[socket.socket] = None
        self._zygote_lock = threading.Lock()
        self._idle: list[_Worker] = []
        self._count, self._max = 0, max_workers
        self._waiting: deque[_Handoff] = deque()  # callers waiting for a worker, first come first served
        self._cond = threading.Condition()
        atexit.register(self.close)

    def _start_zygote(self) -> None:
        ours, theirs = socket.socketpair()
        # The zygote imports this very copy of reward_fns, installed or not (verl may have loaded it by file
        # path, and a caller's sys.path edits do not reach a fresh interpreter): its root goes first.
        root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
        env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [root, os.environ.get("PYTHONPATH")]))}
        self._zygote = subprocess.Popen(
            [sys.executable, "-m", "reward_fns.sandbox", self.target, str(self.memory_mb), str(theirs.fileno()), self.warmup,
             str(self.warmup_call_s)],
            pass_fds=[theirs.fileno()],
            stdin=subprocess.DEVNULL,
            env=env,
        )
        theirs.close()
        self._control = ours

    def _fork_worker(self) -> _Worker:
        with self._zygote_lock:
            for attempt in range(2):  # a dead zygote (e.g. killed by the kernel) is restarted once
                if self._zygote is None or self._zygote.poll() is not None:
                    self._start_zygote()
                try:
                    self._control.settimeout(self.start_timeout_s)
                    self._control.sendall(b"F")
                    message, fds, _, _ = socket.recv_fds(self._control, 32, 1)
                    if fds:
                        return _Worker(int(message), fds[0])
                except OSError:
                    pass
                self._stop_zygote()
        raise RuntimeError(f"sandbox for {self.target} could not start a worker")

    def _acquire(self) -> _Worker:
        """A worker for this caller. Callers are served in arrival order: a released worker (or the right
        to fork a replacement) is handed to the longest waiting caller, never taken back by the releaser."""
        with self._cond:
            if not self._waiting and self._idle:
                return self._idle.pop()
            if not self._waiting and self._count < self._max:
                self._count += 1
                handoff = _Handoff(ready=True)
            else:
                handoff = _Handoff()
                self._waiting.append(handoff)
                while not handoff.ready:
                    self._cond.wait()
        if handoff.worker is not None:
            return handoff.worker
        try:  # a slot without a worker: fork one (the slot is already counted)
            return self._fork_worker()
        except BaseException:
            self._release(None)
            raise

    def _release(self, worker: Optional[_Worker]) -> None:
        """Give `worker` back (None: its slot is free, the worker is gone) to the first waiting caller."""
        with self._cond:
            if self._waiting:
                handoff = self._waiting.popleft()
                handoff.worker, handoff.ready = worker, True
                self._cond.notify_all()
            elif worker is None:
                self._count -= 1
            else:
                self._idle.append(worker)

    def call(self, *args, timeout_s: float = 2.0) -> CallResult:
        """Run target(*args) in a worker; never raises for the target's misbehaviour."""
        return self.call_steps([(args, timeout_s)])

    def call_steps(self, steps: list[tuple[tuple, float]]) -> CallResult:
        """Run target(*args) for each (args, timeout_s) in turn on one worker, each step under its own
        timeout, stopping at the first failure; returns the last step's result. Lets a caller give trusted
        preparation (e.g. parsing a gold answer, cached in the worker) a budget of its own."""
        if not steps:
            raise ValueError("call_steps needs at least one step")
        worker = self._acquire()
        try:
            for args, timeout_s in steps:
                deadline = time.monotonic() + timeout_s
                worker.conn.send((args, soft_deadline(timeout_s)))
                if not worker.conn.poll(max(0.0, deadline - time.monotonic())):
                    error = "timeout"
                    break
                status, value = worker.conn.recv()
                if status != "ok":
                    self._release(worker)
                    return CallResult(False, error=value)
            else:
                self._release(worker)
                return CallResult(True, value)
        except (EOFError, OSError):  # the worker died, e.g. killed by the kernel for memory
            error = "worker died"
        except BaseException:  # unpicklable arguments, KeyboardInterrupt: never lose the worker's slot
            worker.kill()
            self._release(None)
            raise
        worker.kill()
        self._release(None)
        return CallResult(False, error=error)

    def _stop_zygote(self) -> None:
        if self._control is not None:
            self._control.close()
        if self._zygote is not None and self._zygote.poll() is None:
            self._zygote.kill()
            self._zygote.wait(timeout=5)
        self._zygote = self._control = None

    def close(self) -> None:
        with self._cond:
            idle, self._idle = self._idle, []
        for worker in idle:
            worker.kill()
        with self._zygote_lock:
            self._stop_zygote()


if __name__ == "__main__":
    _zygote_main(sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), sys.argv[4], float(sys.argv[5]))
