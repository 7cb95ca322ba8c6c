"""No reference or memory leaks: 100 000 publish/receive/subscribe calls
keep Python's traced memory and the process's RSS flat. (sys.gettotalrefcount
only exists in debug builds, so the measure is tracemalloc.)"""
import gc
import sys
import tracemalloc

import numpy as np
import pytest

import shm_pub_sub
from cases import POSE
from support import python_args

N = 100_000
MARGIN = 16 * 1024  # bytes; a leak of one small object per call would be megabytes


def kinds():
    pose = np.zeros((), POSE)
    pose["id"], pose["name"] = 7, b"leak"
    return {
        "bool": (False, [True, False, True, True], {}),
        "int": (0, [1, 2**40, -5, 2**63 - 1], {}),
        "float": (0.0, [1.5, 2.5, -0.0, 1e300], {}),
        "str": ("", ["abc", "héllo", "", "x" * 100], {"max_size": 128}),
        "bytes": (b"", [b"abc", b"", b"\0" * 50, b"z"], {"max_size": 128}),
        "array": (np.zeros(16, np.float32), [np.arange(16, dtype=np.float32)] * 4, {}),
        "struct": (np.zeros((), POSE), [pose] * 4, {"type_name": "Pose"}),
    }


def loop(pub, sub, values, n):
    for i in range(n):
        pub.publish(values[i & 3])
        sub.receive(timeout=0)
        sub.subscribe()
        sub.latest()


def traced_growth(fn, warmup, n):
    """Bytes of Python memory still allocated after fn(n), relative to after
    fn(warmup)."""
    fn(warmup)
    gc.collect()
    tracemalloc.start()
    try:
        fn(1000)
        gc.collect()
        before = tracemalloc.get_traced_memory()[0]
        fn(n)
        gc.collect()
        after = tracemalloc.get_traced_memory()[0]
    finally:
        tracemalloc.stop()
    return after - before


@pytest.mark.parametrize("kind", list(kinds()))
def test_100000_publish_receive_subscribe_calls_keep_traced_memory_flat(
        kind, cleanup_topics, record_property):
    default, values, kw = kinds()[kind]
    pub = shm_pub_sub.Publisher(f"leak/{kind}", default, 4, **kw)
    sub = shm_pub_sub.Subscriber(f"leak/{kind}", default, **kw)
    growth = traced_growth(lambda n: loop(pub, sub, values, n), 2000, N)
    record_property(f"measured_traced_growth_bytes_{kind}", growth)
    assert growth < MARGIN
    pub.close()
    sub.close()


def test_error_paths_keep_traced_memory_flat(cleanup_topics, record_property):
    pub = shm_pub_sub.Publisher("leak/errors", np.zeros(4, np.uint8))
    sub = shm_pub_sub.Subscriber("leak/errors", np.zeros(4, np.uint8))
    wrong = [np.zeros(5, np.uint8), np.zeros(4, np.int8), "text", 1.5]

    def errors(n):
        for i in range(n):
            try:
                pub.publish(wrong[i & 3])
            except (TypeError, ValueError):  # the kinds are checked in test_errors.py
                pass
            try:
                sub.receive(timeout=0)
            except TimeoutError:
                pass
            sub.subscribe()  # (default, False): nothing was ever published

    growth = traced_growth(errors, 2000, 20_000)
    record_property("measured_traced_growth_bytes_errors", growth)
    assert growth < MARGIN
    pub.close()
    sub.close()


def test_subscribe_before_data_does_not_leak_references_to_the_default(cleanup_topics):
    default = 12345.678  # a float object of our own, not a cached one
    sub = shm_pub_sub.Subscriber("leak/default", default)
    sub.subscribe()
    before = sys.getrefcount(default)
    for _ in range(N):
        sub.subscribe()
    assert sys.getrefcount(default) == before
    sub.close()


def test_publish_does_not_leak_references_to_the_published_objects(cleanup_topics):
    values = [2**62 + 12345, "text " * 3, b"bytes" * 3, np.arange(4, dtype=np.float64)]
    defaults = [0, "", b"", np.zeros(4)]
    pubs = [shm_pub_sub.Publisher(f"leak/ref{i}", d) for i, d in enumerate(defaults)]
    for p, v in zip(pubs, values):
        p.publish(v)
    before = [sys.getrefcount(v) for v in values]
    for p, v in zip(pubs, values):
        for _ in range(N // 4):
            p.publish(v)
    assert [sys.getrefcount(v) for v in values] == before
    for p in pubs:
        p.close()


RSS_CHILD = """
import resource, numpy as np, shm_pub_sub
from test_leaks import kinds, loop
pairs = []
for kind, (default, values, kw) in kinds().items():
    pub = shm_pub_sub.Publisher("rss/" + kind, default, 4, **kw)
    sub = shm_pub_sub.Subscriber("rss/" + kind, default, **kw)
    pairs.append((pub, sub, values))
for pub, sub, values in pairs:
    loop(pub, sub, values, 10000)
before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
for pub, sub, values in pairs:
    loop(pub, sub, values, 100000)
after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
print(after - before)
"""


def test_maxrss_of_a_fresh_process_stays_flat_over_100000_calls_per_kind(spawn, record_property):
    """Catches leaks in C (malloc) as well, which tracemalloc does not see."""
    child = spawn(python_args(RSS_CHILD))
    assert child.wait(timeout=120) == 0, child.stderr()
    growth_kib = int(child.lines()[-1])
    record_property("measured_maxrss_growth_kib", growth_kib)
    assert growth_kib < 2048
