"""BoundedPool: hard timeouts and memory caps that work from threads, with workers replaced."""

import os
import threading
import time

import pytest

from reward_fns.sandbox import BoundedPool


@pytest.fixture(scope="module")
def pool():
    p = BoundedPool("tests.unit.reward_fns.sandbox_targets:run", max_workers=2, memory_mb=256)
    yield p
    p.close()


def test_returns_values_and_reports_exceptions(pool):
    assert pool.call("add", 2, 3).value == 5
    failed = pool.call("raise", "boom")
    assert not failed.ok and "ValueError: boom" in failed.error
    assert pool.call("add", 1, 1).value == 2  # the worker survived the exception


def test_an_overrun_is_stopped_by_the_worker_which_lives_on(pool):
    """Python-level work is interrupted inside the worker before the caller's deadline: the worker (and
    its warm caches) survives."""
    pid = pool.call("pid").value
    start = time.monotonic()
    result = pool.call("sleep", 30, timeout_s=0.5)
    assert not result.ok and result.error == "timeout"
    assert time.monotonic() - start < 0.5
    assert pool.call("pid").value == pid


def test_timeout_kills_and_replaces_a_deaf_worker(pool):
    """Work that signals cannot interrupt is killed at the deadline, and the worker replaced."""
    pid = pool.call("pid").value
    start = time.monotonic()
    result = pool.call("sleep_deaf", 30, timeout_s=0.3)
    assert not result.ok and result.error == "timeout"
    assert time.monotonic() - start < 1.5
    assert pool.call("add", 4, 4).value == 8
    assert pool.call("pid").value != pid


def test_memory_cap(pool):
    result = pool.call("allocate_mb", 2048, timeout_s=10)
    assert not result.ok and result.error in ("memory", "worker died")
    assert pool.call("add", 0, 7).value == 7


def test_a_crashing_worker_is_replaced(pool):
    result = pool.call("exit", timeout_s=5)
    assert not result.ok and result.error == "worker died"
    assert pool.call("add", 1, 2).value == 3


def test_workers_are_separate_processes(pool):
    assert pool.call("pid").value != os.getpid()


def test_threads_share_the_pool(pool):
    out = {}

    def work(i):
        out[i] = pool.call("add", i, i).value

    threads = [threading.Thread(target=work, args=(i,)) for i in range(16)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert out == {i: 2 * i for i in range(16)}


def test_call_steps_run_on_one_worker_each_under_its_own_timeout(pool):
    # 0.4 s + 0.4 s of work: more than either budget alone, within each step's own one
    result = pool.call_steps([(("sleep_pid", 0.4), 0.6), (("sleep_pid", 0.4), 0.6)])
    assert result.ok
    pids = pool.call_steps([(("remember_pid",), 1.0), (("same_pid_as_remembered",), 1.0)])
    assert pids.ok and pids.value is True  # the second step saw the first step's process
    late = pool.call_steps([(("add", 1, 1), 1.0), (("sleep", 30), 0.3), (("add", 2, 2), 1.0)])
    assert not late.ok and late.error == "timeout"  # stops at the failing step
    failed = pool.call_steps([(("raise", "first"), 1.0), (("add", 2, 2), 1.0)])
    assert not failed.ok and "first" in failed.error
    assert pool.call("add", 3, 3).value == 6


def test_call_steps_keeps_the_slot_when_sending_fails(pool):
    for _ in range(3):  # more failures than the pool has slots: a leaked slot each time would starve the pool
        with pytest.raises(Exception):
            pool.call_steps([((lambda: 0,), 1.0)])  # a lambda cannot be pickled
    with pytest.raises(ValueError):
        pool.call_steps([])
    results = []
    caller = threading.Thread(target=lambda: results.extend(pool.call("add", i, 1).value for i in range(4)), daemon=True)
    caller.start()
    caller.join(timeout=20)
    assert results == [1, 2, 3, 4]


def test_a_hanging_warm_up_call_does_not_stop_the_pool():
    """Warm-up calls run in the zygote before any fork; one that hangs is stopped after warmup_call_s."""
    warmed = BoundedPool("tests.unit.reward_fns.sandbox_targets:run", max_workers=1, memory_mb=256,
                         warmup_calls=(("sleep", 60), ("raise", "in warm-up")), warmup_call_s=0.5)
    try:
        start = time.monotonic()
        assert warmed.call("add", 1, 2, timeout_s=5).value == 3
        assert time.monotonic() - start < 20
    finally:
        warmed.close()
