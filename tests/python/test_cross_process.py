"""Samples cross process boundaries intact: Python to Python for every kind,
and Python to C and back with the examples' struct DemoSample."""
import re
import signal
import time

import numpy as np
import pytest

import shm_pub_sub
from cases import DEMO_SAMPLE, cases, same
from support import REPO, find_c_examples, python_args

KINDS = list(cases())

PUBLISHER_CHILD = """
import sys, cases, shm_pub_sub
kind, topic = sys.argv[1:3]
default, values, kw = cases.cases()[kind]
pub = shm_pub_sub.Publisher(topic, default, len(values) + 1, **kw)
for v in values:
    pub.publish(v)
pub.close()
print("published", len(values))
"""

SUBSCRIBER_CHILD = """
import sys, cases, shm_pub_sub
kind, topic = sys.argv[1:3]
default, values, kw = cases.cases()[kind]
sub = shm_pub_sub.Subscriber(topic, default, **kw)
print("ready", flush=True)
got = [sub.receive(timeout=20) for _ in values]
bad = [i for i, (g, v) in enumerate(zip(got, values)) if not cases.same(g, v)]
data, ok = sub.subscribe()
print("received", len(got), "mismatch", bad, "lost", sub.lost,
      "latest", cases.same(data, values[-1]) and ok)
"""


@pytest.mark.parametrize("kind", KINDS)
def test_values_published_in_a_child_process_arrive_intact_and_in_order(kind, spawn):
    default, values, kw = cases()[kind]
    topic = f"xproc/{kind}"
    sub = shm_pub_sub.Subscriber(topic, default, **kw)
    child = spawn(python_args(PUBLISHER_CHILD) + [kind, topic])
    assert child.wait(timeout=30) == 0, child.stderr()
    assert child.lines() == [f"published {len(values)}"]
    got = [sub.receive(timeout=10) for _ in values]
    assert [same(g, v) for g, v in zip(got, values)] == [True] * len(values)
    assert sub.lost == 0
    data, ok = sub.subscribe()
    assert same(data, values[-1]) and ok is True
    sub.close()


@pytest.mark.parametrize("kind", KINDS)
def test_values_published_here_arrive_intact_in_a_child_process(kind, spawn):
    default, values, kw = cases()[kind]
    topic = f"xproc/{kind}"
    child = spawn(python_args(SUBSCRIBER_CHILD) + [kind, topic])
    child.wait_for("ready")
    pub = shm_pub_sub.Publisher(topic, default, len(values) + 1, **kw)
    for v in values:
        pub.publish(v)
    assert child.wait(timeout=30) == 0, child.stderr()
    assert child.lines()[-1] == f"received {len(values)} mismatch [] lost 0 latest True"
    pub.close()


# ---- Python <-> C -------------------------------------------------------------


@pytest.fixture(scope="session")
def c_examples():
    """(talker, listener): the C example programs, built if missing."""
    return find_c_examples()


def demo_default():
    return np.zeros((), DEMO_SAMPLE)


def test_type_info_prints_the_c_declaration_that_the_talker_uses():
    info = shm_pub_sub.type_info(demo_default(), type_name="DemoSample")
    assert info["type"] == "struct DemoSample '<Qqd'"
    assert info["size"] == 24 and info["fixed_size"] is True
    assert info["c"] == 'hcm_type_struct(&t, "DemoSample", "<Qqd", 24);'
    talker_c = (REPO / "examples" / "talker.c").read_text()
    assert 'hcm_type_struct(t, "DemoSample", "<Qqd", (uint32_t)sizeof(struct sample))' in talker_c


def test_python_subscriber_reads_the_c_talkers_struct_demo_sample(spawn, c_examples):
    talker, _ = c_examples
    sub = shm_pub_sub.Subscriber("demo/sensor", demo_default(), type_name="DemoSample")
    assert sub.type == "struct DemoSample '<Qqd'"
    child = spawn([str(talker), "--rate", "100"])
    samples = [sub.receive(timeout=10) for _ in range(10)]
    now = time.monotonic_ns()
    assert child.stop(signal.SIGINT) == 0, child.stderr()
    assert re.search(r"talker: sent \d+ samples on 'demo/sensor'", child.stdout())
    assert all(type(s) is np.ndarray and s.dtype == DEMO_SAMPLE and s.shape == () for s in samples)
    assert [int(s["counter"]) for s in samples] == list(range(10))
    sent = [int(s["sent_ns"]) for s in samples]
    assert sent == sorted(sent) and 0 < sent[0] and sent[-1] <= now
    values = [float(s["value"]) for s in samples]
    # sin(2 pi 0.25 Hz t) over the first 0.1 s: small and rising
    assert all(-1.0 <= v <= 1.0 for v in values)
    assert values == sorted(values) and values[-1] > values[0]
    assert sub.lost == 0
    sub.close()


@pytest.mark.parametrize("how", ["publish", "loan"])
def test_c_listener_reads_struct_demo_sample_published_from_python(how, spawn, c_examples):
    _, listener = c_examples
    child = spawn([str(listener), "demo/sensor", "--count", "5", "--seconds", "30"])
    child.wait_for("listener: waiting for samples on 'demo/sensor'")
    pub = shm_pub_sub.Publisher("demo/sensor", demo_default(), 16, type_name="DemoSample")
    values = [0.5, -0.25, 0.125, 1.0, -1.0]
    for i, v in enumerate(values):
        if how == "publish":
            s = demo_default()
            s["counter"], s["sent_ns"], s["value"] = i, time.monotonic_ns(), v
            pub.publish(s)
        else:
            with pub.loan() as buf:
                buf["counter"], buf["sent_ns"], buf["value"] = i, time.monotonic_ns(), v
        time.sleep(0.02)
    assert child.wait(timeout=30) == 0, child.stdout() + child.stderr()
    rows = [re.fullmatch(r"listener: seq +(\d+) +value ([+-]\d\.\d{3}) +latency +(\S+) us +lost (\d+)",
                         line) for line in child.lines()]
    rows = [r.groups() for r in rows if r]
    assert [int(r[0]) for r in rows] == list(range(5))
    assert [r[1] for r in rows] == [f"{v:+.3f}" for v in values]
    assert all(float(r[2]) >= 0 for r in rows)  # sent_ns was read where Python wrote it
    assert [int(r[3]) for r in rows] == [0] * 5
    assert re.search(r"listener: received 5, lost 0,", child.stdout())
    pub.close()
