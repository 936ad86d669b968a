"""Functions run inside BoundedPool workers by test_sandbox.py."""

import os
import signal
import time

_REMEMBERED = []


def run(action, *args):
    if action == "add":
        return args[0] + args[1]
    if action == "raise":
        raise ValueError(args[0])
    if action == "sleep":
        time.sleep(args[0])
    if action == "sleep_deaf":  # like work inside C that no signal interrupts: only a kill stops it
        signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGALRM})
        time.sleep(args[0])
    if action == "allocate_mb":
        block = bytearray(args[0] * 2**20)
        return len(block)
    if action == "exit":
        os._exit(3)
    if action == "pid":
        return os.getpid()
    if action == "sleep_pid":
        time.sleep(args[0])
        return os.getpid()
    if action == "remember_pid":
        _REMEMBERED[:] = [os.getpid()]
        return True
    if action == "same_pid_as_remembered":
        return _REMEMBERED == [os.getpid()]
    return None
