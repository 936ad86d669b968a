"""Leave no shared-memory segment behind: run a job, then remove the /dev/shm segments it leaked.

Why: a verl GRPO run with vLLM rollouts on CPU left 160-240 MB of `psm_*` segments in /dev/shm after every
run (vLLM's shared-memory message queues, whose owners are killed with their Ray actors before they can
unlink them), and a run that crashed during a weight sync left verl's 2 GB `verl_weights_*` bucket. /dev/shm
is RAM: on a CI machine or a laptop a few such runs exhaust it.

`shm_guard()` notes which segments exist before the job; afterwards (also when the job failed or was
interrupted: `run_guarded` passes SIGTERM on to the job and cleans up after it) it removes the segments
that are new, belong to this user, match the patterns of the leaks above, and that no live process still
maps or holds open (after giving dying processes a few seconds), so a concurrent job's segments are left
alone. (A process in another PID namespace that shares /dev/shm is invisible here: run concurrent jobs of
one user in such a setup under separate users, or without the guard.)

Run: python -m pear_verl.cpu_runtime.shm_guard -- COMMAND ARGS...  (exits with COMMAND's status)
"""

from __future__ import annotations

import fnmatch
import os
import signal
import subprocess
import sys
import time
from contextlib import contextmanager
from pathlib import Path

SHM = Path("/dev/shm")
LEAK_PATTERNS = ("psm_*", "verl_weights_*", "sem.mp-*")  # vLLM queues, verl sync buckets, multiprocessing locks


def segments(root: Path = SHM) -> set[str]:
    """Names of this user's /dev/shm entries that match a known leak pattern (others' are never touched)."""
    if not root.is_dir():
        return set()
    names = set()
    for path in root.iterdir():
        try:
            if any(fnmatch.fnmatch(path.name, pat) for pat in LEAK_PATTERNS) and path.stat().st_uid == os.getuid():
                names.add(path.name)
        except OSError:  # removed meanwhile
            continue
    return names


def segments_in_use(root: Path = SHM) -> set[str]:
    """Segments any live process maps or holds open (read from /proc; unreadable processes are skipped)."""
    used: set[str] = set()
    prefix = str(root) + "/"
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit():
            continue
        try:
            paths = [fields[5] for fields in (line.split(maxsplit=5) for line in (proc / "maps").read_text().splitlines()) if len(fields) == 6]
            paths += [_readlink(fd) for fd in (proc / "fd").iterdir()]
        except OSError:  # the process ended, or is not ours to read
            continue
        used.update(path[len(prefix):].split(" ")[0] for path in paths if path.startswith(prefix))
    return used


def _readlink(path: Path) -> str:
    try:
        return os.readlink(path)
    except OSError:  # closed meanwhile
        return ""


def leaks(before: set[str], root: Path = SHM) -> set[str]:
    """Leak-pattern segments that are new since `before` and that no live process holds: left behind, not the
    working memory of another job running on the same machine."""
    return segments(root) - before - segments_in_use(root)


def remove_leaks(before: set[str], root: Path = SHM) -> list[str]:
    """Remove leak-pattern segments that are not in `before` and not in use; return their names."""
    leaked = sorted(leaks(before, root))
    removed = []
    for name in leaked:
        try:
            (root / name).unlink()
            removed.append(name)
        except OSError:  # gone meanwhile, or not ours to remove: never fail the job's clean-up over it
            pass
    return removed


def clean_up(before: set[str], root: Path = SHM, settle_s: float = 10.0) -> None:
    """Remove what leaked since `before`, waiting up to `settle_s` for dying processes to let go of it."""
    deadline = time.monotonic() + settle_s
    while segments(root) - before & segments_in_use(root) and time.monotonic() < deadline:
        time.sleep(0.5)
    leaked = remove_leaks(before, root)
    if leaked:
        print(f"shm_guard: removed {len(leaked)} leaked shared-memory segment(s) from {root}", file=sys.stderr)


@contextmanager
def shm_guard(root: Path = SHM, settle_s: float = 10.0):
    before = segments(root)
    try:
        yield
    finally:
        clean_up(before, root, settle_s)


def run_guarded(cmd: list[str], env: dict[str, str] | None = None) -> int:
    """Run `cmd` under `shm_guard`, return its exit status (128 + N if signal N ended it, as a shell does).

    SIGTERM is passed on to it (a terminal's Ctrl-C already reaches its whole process group; passing SIGINT
    on as well would cut its own graceful shutdown short), and the guard cleans up once it has exited."""
    with shm_guard():
        child = subprocess.Popen(cmd, env=env)
        previous = signal.signal(signal.SIGTERM, lambda signum, _frame: child.send_signal(signum))
        try:
            code = child.wait()
        except KeyboardInterrupt:
            code = child.wait()
        finally:
            signal.signal(signal.SIGTERM, previous)
            if child.poll() is None:
                child.terminate()
                try:
                    child.wait(timeout=60)
                except subprocess.TimeoutExpired:
                    child.kill()
                    child.wait()
        return 128 - code if code < 0 else code


def main() -> None:
    args = sys.argv[1:]
    if args[:1] == ["--"]:
        args = args[1:]
    if not args:
        sys.exit("usage: python -m pear_verl.cpu_runtime.shm_guard -- COMMAND ARGS...")
    sys.exit(run_guarded(args))


if __name__ == "__main__":
    main()
