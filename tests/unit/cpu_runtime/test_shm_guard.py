"""shm_guard: leaked segments of a finished job are removed; older, foreign and still-used ones are kept."""

import subprocess
import sys
from multiprocessing import shared_memory
from pathlib import Path

from pear_verl.cpu_runtime.shm_guard import leaks, remove_leaks, segments, segments_in_use, shm_guard

LEAK = """
from multiprocessing import resource_tracker, shared_memory
shm = shared_memory.SharedMemory(create=True, size=4096, name="{name}")
resource_tracker.unregister(shm._name, "shared_memory")  # die without cleanup, as a killed vLLM process does
"""


def leak(name: str) -> None:
    subprocess.run([sys.executable, "-c", LEAK.format(name=name)], check=True)


def test_guard_removes_what_the_job_leaked_and_nothing_else(tmp_path):
    old = shared_memory.SharedMemory(create=True, size=4096, name="psm_pear_test_old")  # before the job: kept
    try:
        with shm_guard(settle_s=0):  # the held segment stays in use: no waiting for it
            leak("psm_pear_test_new")
            leak("verl_weights_pear_test")
            leak("other_pear_test")  # not a known leak pattern: kept
            held = shared_memory.SharedMemory(create=True, size=4096, name="psm_pear_test_held")  # still mapped: kept
            assert {"psm_pear_test_new", "verl_weights_pear_test", "psm_pear_test_held"} <= segments()
            assert "psm_pear_test_held" in segments_in_use()
        names = {p.name for p in Path("/dev/shm").iterdir()}
        assert "psm_pear_test_new" not in names and "verl_weights_pear_test" not in names
        assert {"psm_pear_test_old", "psm_pear_test_held", "other_pear_test"} <= names
    finally:
        for name in ("psm_pear_test_old", "psm_pear_test_held", "other_pear_test", "psm_pear_test_new"):
            Path("/dev/shm", name).unlink(missing_ok=True)
        old.close()


def test_guard_cleans_up_after_a_failing_job():
    try:
        with shm_guard():
            leak("psm_pear_test_failed")
            raise RuntimeError("job failed")
    except RuntimeError:
        pass
    assert not Path("/dev/shm/psm_pear_test_failed").exists()


def test_command_line_passes_the_exit_code_through(tmp_path):
    proc = subprocess.run([sys.executable, "-m", "pear_verl.cpu_runtime.shm_guard", "--", sys.executable, "-c",
                           LEAK.format(name="psm_pear_test_cli") + "\nraise SystemExit(3)"], capture_output=True, text=True)
    assert proc.returncode == 3
    assert "removed 1 leaked" in proc.stderr
    assert not Path("/dev/shm/psm_pear_test_cli").exists()
    killed = subprocess.run([sys.executable, "-m", "pear_verl.cpu_runtime.shm_guard", "--", "sh", "-c", "kill -TERM $$"])
    assert killed.returncode == 128 + 15  # a signal's death is reported as a shell reports it


def test_remove_leaks_on_another_root(tmp_path):
    (tmp_path / "psm_a").write_bytes(b"x")
    before = segments(tmp_path)
    (tmp_path / "psm_b").write_bytes(b"x")
    assert remove_leaks(before, tmp_path) == ["psm_b"]
    assert [p.name for p in tmp_path.iterdir()] == ["psm_a"]


def test_a_segment_another_live_process_holds_is_not_a_leak(tmp_path):
    """What the integration tests assert after a run: a concurrent job's segment (held open) is not counted."""
    before = segments(tmp_path)
    (tmp_path / "psm_left").write_bytes(b"x")
    with open(tmp_path / "psm_held", "wb"):
        assert leaks(before, tmp_path) == {"psm_left"}
    assert leaks(before, tmp_path) == {"psm_left", "psm_held"}
