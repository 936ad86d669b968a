"""The math checker under load, as verl calls it (many threads at once): ordinary, outside and hostile
answers mixed. Every call returns within the pool's documented bound, waiting included (callers are served
first come, first served, so none starves); afterwards no worker process is left, and memory stayed flat."""

import math
import random
import threading
import time

import psutil

from reward_fns import compute_score, math_answer
from tests.unit.reward_fns.math_corpus import CASES
from tests.unit.reward_fns.test_hostile import HOSTILE

THREADS, CALLS_PER_THREAD, TIMEOUT_S = 16, 30, 0.8
FORK_SLACK_S = 0.5  # a killed worker's replacement fork, and thread scheduling on a busy 2-core machine


def test_latency_bound_and_no_leftovers_under_mixed_load(monkeypatch):
    monkeypatch.setattr(math_answer, "_VERDICTS", math_answer._Verdicts(size=0))  # every call reaches the pool
    rng = random.Random(0)
    # the hand-written corpus: its golds parse fast, as the bound (which leaves out a gold's first parse) assumes
    mixed = [(c[1], c[2]) for c in CASES if not c[0].startswith("mv_")]
    mixed += [(truth, response) for source, response, truth in HOSTILE if source == "math"]
    jobs = [[rng.choice(mixed) for _ in range(CALLS_PER_THREAD)] for _ in range(THREADS)]
    me = psutil.Process()
    assert compute_score("math", "\\boxed{\\sin\\frac{\\pi}{6}}", "\\frac{1}{2}")["acc"] == 1.0  # starts the pool: not a call's latency
    pool = math_answer._POOL
    rss_before = me.memory_info().rss
    latencies, errors = [], []

    def work(calls):
        for gold, response in calls:
            start = time.monotonic()
            try:
                compute_score("math", response, gold, timeout_s=TIMEOUT_S)
            except Exception as err:  # compute_score must never raise
                errors.append(err)
            latencies.append(time.monotonic() - start)

    threads = [threading.Thread(target=work, args=(calls,)) for calls in jobs]
    for t in threads:
        t.start()
    for t in threads:
        t.join()

    assert not errors
    bound = math.ceil(THREADS / pool._max) * (TIMEOUT_S + FORK_SLACK_S)
    assert len(latencies) == THREADS * CALLS_PER_THREAD
    assert max(latencies) <= bound, (max(latencies), bound)
    assert me.memory_info().rss - rss_before < 100 * 2**20  # the caller does not grow with the calls

    zygote = psutil.Process(pool._zygote.pid)
    workers = zygote.children()  # forked by the zygote
    assert 0 < len(workers) <= pool._max  # no pile-up of workers
    pool.close()
    math_answer._POOL = None
    gone, alive = psutil.wait_procs([zygote, *workers], timeout=10)
    assert not alive, [p.pid for p in alive]  # no orphaned or zombie worker, no zygote
