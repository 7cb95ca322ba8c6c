"""The `hcm` tool on damaged segments: shared memory is untrusted input.

A valid topic, service and action segment each get random bytes overwritten
(a fixed seed, so a failure reproduces), and after every damage the tool's
reading commands must end with 0 or 1: never a crash (a signal), never a
hang (the timeout), never a usage error. Under `make check` $HCM_CLI is the
ASan+UBSan build of the tool, so an out-of-bounds read fails here too.
"""
import os
import random
import subprocess

import pytest

import shm_action
import shm_service
from support import child_env, find_cli

pytestmark = pytest.mark.timeout(120)

ROUNDS = 60


def cli():
    path = find_cli()
    if path is None:
        pytest.fail("the hcm tool is not built (make test builds build/tools/hcm)", pytrace=False)
    return str(path)


def run(*args):
    r = subprocess.run([cli(), *args], stdin=subprocess.DEVNULL, capture_output=True, text=True,
                       errors="replace", env=child_env(), timeout=30)
    assert r.returncode in (0, 1), f"{args}: exit {r.returncode}\n{r.stdout}\n{r.stderr}"
    for marker in ("AddressSanitizer", "runtime error", "LeakSanitizer"):
        assert marker not in r.stderr, f"{args}:\n{r.stderr}"
    return r


def damage(path, rng, original):
    """Restores the original bytes, then overwrites a few random ones, mostly
    in the header where every field is read."""
    with open(path, "r+b") as f:
        f.write(original)
        for _ in range(rng.randint(1, 8)):
            limit = len(original) if rng.random() < 0.3 else min(len(original), 2048)
            f.seek(rng.randrange(limit))
            f.write(bytes([rng.randrange(256)]) * rng.choice((1, 1, 4, 8)))


def fuzz(domain, kind, name, commands, seed):
    path = f"/dev/shm/hcm.{domain}.{kind}.{name}"
    with open(path, "rb") as f:
        original = f.read()
    rng = random.Random(seed)
    try:
        for _ in range(ROUNDS):
            damage(path, rng, original)
            for args in commands:
                run(*args)
    finally:
        os.unlink(path)


def test_reading_commands_survive_a_damaged_topic(domain):
    run("pub", "fz/t", "[1, -2, 3.5]", "--type", "struct:P:<qqd", "--slots", "4", "-n", "6")
    fuzz(domain, "t", "fz:t", [
        ("info", "fz/t", "--json"),
        ("list", "--json"),
        ("echo", "fz/t", "--latest", "--once", "--timeout", "0.05", "--json"),
        ("top", "-n", "1", "--interval", "0.1", "--json"),
        ("clean", "--dry-run"),
    ], seed=1)


def test_reading_commands_survive_a_damaged_string_topic(domain):
    run("pub", "fz/s", "hello", "--type", "string", "-n", "3")
    fuzz(domain, "t", "fz:s", [
        ("info", "fz/s"),
        ("echo", "fz/s", "--latest", "--once", "--timeout", "0.05"),
    ], seed=2)


def test_reading_commands_survive_a_damaged_service(domain):
    srv = shm_service.ServiceServer("fz/svc", lambda x: x, 0, 0)
    srv.close()  # the segment stays, with no server
    fuzz(domain, "s", "fz:svc", [
        ("info", "fz/svc", "--json"),
        ("list", "--kind", "service"),
        ("call", "fz/svc", "1", "--timeout", "0.05"),
    ], seed=3)


def test_reading_commands_survive_a_damaged_action(domain):
    srv = shm_action.ActionServer("fz/act", 0.0, 0.0, 0.0, lambda g: 0.0)
    srv.close()
    fuzz(domain, "a", "fz:act", [
        ("info", "fz/act", "--json"),
        ("list", "--kind", "action", "--json"),
        ("send-goal", "fz/act", "1.5", "--timeout", "0.05"),
    ], seed=4)
