"""Runs last (file order): the whole run left nothing behind."""
import os

from conftest import USED_DOMAINS


def test_no_child_process_of_the_run_is_still_running():
    me = str(os.getpid())
    alive = []
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            with open(f"/proc/{pid}/stat") as f:
                fields = f.read().rsplit(")", 1)[1].split()
        except OSError:
            continue
        state, ppid = fields[0], fields[1]
        if ppid == me and state != "Z":
            with open(f"/proc/{pid}/cmdline", "rb") as f:
                alive.append((pid, f.read().replace(b"\0", b" ")[:200]))
    assert alive == []


def test_the_whole_run_left_dev_shm_clean_for_every_test_domain():
    assert len(USED_DOMAINS) > 1  # the other tests ran in this session
    prefixes = tuple(f"hcm.{d}" for d in USED_DOMAINS)  # also hcm.<domain>x.
    left = sorted(n for n in os.listdir("/dev/shm") if n.startswith(prefixes))
    assert left == []
