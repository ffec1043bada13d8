"""segkit.course.sandbox: the confined command line, and the one process-tree reader."""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from segkit.course.sandbox import Limits, Mode, confine, live_descendants, process_tree, tree_cpu_seconds


def test_confine_without_a_sandbox_still_sets_the_environment(tmp_path):
    argv = confine(["python", "-V"], workdir=tmp_path, root=tmp_path, env={"A": "1"}, limits=Limits(), uid=1, mode=Mode("none"))
    assert argv[:3] == ["env", "-i", "-C"] and "A=1" in argv


def test_read_only_paths_under_tmp_survive_the_private_tmp(tmp_path):
    """A course cloned under /tmp (as CI may do) must stay visible once the sandbox mounts its own /tmp."""
    from segkit.course.sandbox import Limits, Mode, confine

    script = confine(["true"], workdir=tmp_path, root=tmp_path / "root", env={}, limits=Limits(), uid=65534,
                     mode=Mode("root"))[-1]
    private_tmp = script.find(f"tmpfs {tmp_path / 'root'}/tmp")
    first_bind = script.index("mount --rbind")
    assert 0 <= private_tmp < first_bind, "the private /tmp must be mounted before the read-only binds"


BURN_THEN_SLEEP = ("import time\nt = time.process_time()\nwhile time.process_time() - t < 0.3:\n    pass\n"
                   "print('burned', flush=True)\ntime.sleep(60)")


def _proc_stat_seconds(pid: int) -> float:
    """utime + stime of ``pid`` read straight from /proc (the reference)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


@pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="needs /proc")
def test_the_process_tree_reader_sees_a_child_and_its_cpu_time():
    child = subprocess.Popen([sys.executable, "-c", BURN_THEN_SLEEP], stdout=subprocess.PIPE, text=True)
    try:
        assert child.stdout.readline() == "burned\n"
        assert child.pid in [pid for pid, _ in live_descendants(os.getpid())]
        assert [p.pid for p in process_tree(child.pid)] == [child.pid]
        seconds = tree_cpu_seconds(child.pid)
        assert seconds >= 0.3 and seconds == pytest.approx(_proc_stat_seconds(child.pid), abs=0.05)
    finally:
        child.kill()
        child.wait()
    assert child.pid not in [pid for pid, _ in live_descendants(os.getpid())]
    assert tree_cpu_seconds(child.pid) is None and process_tree(child.pid) == []
