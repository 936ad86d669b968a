"""Functions run inside BoundedPool workers by test_sandbox.py."""

import os
import time


def run(action, *args):
    if action == "add":
        return args[0] + args[1]
    if action == "raise":
        raise ValueError(args[0])
    if action == "sleep":
        time.sleep(args[0])
    if action == "allocate_mb":
        block = bytearray(args[0] * 2**20)
        return len(block)
    if action == "exit":
        os._exit(3)
    if action == "pid":
        return os.getpid()
    return None
