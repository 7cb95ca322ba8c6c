"""shm_service: request/response between processes and threads.

Round trips of every kind with the server in another process, many
concurrent clients, the callback thread and the GIL, errors raised by the
callback, take()/reply()/fail() by hand, servers and clients that die
mid-call, one live server per name, the documented exceptions, Ctrl-C,
close(), context managers, repr and docstrings.

Timing bounds (kill -> PeerDeadError, Ctrl-C -> KeyboardInterrupt, unknown
service -> error) are the spec's, with generous margins; the measured
values are recorded with record_property and printed at the end of the run.
"""
import inspect
import os
import signal
import subprocess
import threading
import time

import numpy as np
import pytest

import shm_service
from cases import cases, same
from support import child_env, python_args

pytestmark = pytest.mark.timeout(180)

KINDS = list(cases())


# ---- fixtures and helpers ---------------------------------------------------


def _unlink_services(domain):
    prefix = f"hcm.{domain}.s."
    for entry in os.listdir("/dev/shm"):
        if entry.startswith(prefix):
            try:
                shm_service.unlink(entry[len(prefix):].replace(":", "/"), domain)
            except shm_service.TopicNotFoundError:
                pass


@pytest.fixture(autouse=True)
def services(domain):
    """Unlinks every service segment of the test's domain at the end (after
    the children of `spawn` are gone: this fixture is set up first, so it is
    torn down last), before the /dev/shm leftover check of `domain`."""
    yield domain
    _unlink_services(domain)


def service_kwargs(kw):
    """cases() keyword arguments (for Publisher) -> ServiceServer/Client ones."""
    out = {}
    if "max_size" in kw:
        out["max_request_size"] = out["max_response_size"] = kw["max_size"]
    if "type_name" in kw:
        out["request_type_name"] = out["response_type_name"] = kw["type_name"]
    return out


def call_in_thread(client, request, **kw):
    """Starts client.call(request, **kw) on a thread; returns (thread, box):
    box gets "value" or "error", and "t" (monotonic time at the end)."""
    box = {}

    def run():
        try:
            box["value"] = client.call(request, **kw)
        except BaseException as e:  # noqa: BLE001 - handed to the test
            box["error"] = e
        box["t"] = time.monotonic()

    t = threading.Thread(target=run, daemon=True)
    t.start()
    return t, box


def take_n(server, n, timeout=10.0):
    """n requests taken with take(): [(request, call), ...]."""
    return [server.take(timeout=timeout) for _ in range(n)]


# A server process: serves `name` with `callback` (a lambda in argv[3],
# evaluated with time/os in scope) until SIGTERM, then closes cleanly.
SERVER_CHILD = """
import os, signal, sys, time, shm_service
name, default, callback = sys.argv[1], eval(sys.argv[2]), eval(sys.argv[3])
signal.signal(signal.SIGTERM, lambda *a: sys.exit(0))
with shm_service.ServiceServer(name, callback, default, default) as srv:
    print("ready", os.getpid(), flush=True)
    while True:
        time.sleep(0.05)
"""


def server_child(spawn, name, default="0", callback="lambda x: x + 1"):
    child = spawn(python_args(SERVER_CHILD) + [name, default, callback])
    child.wait_for("ready")
    return child


# ---- round trips ---------------------------------------------------------------

ECHO_SERVER_CHILD = """
import signal, sys, time, cases, shm_service
kind, name = sys.argv[1:3]
default, values, kw = cases.cases()[kind]
skw = {}
if "max_size" in kw:
    skw["max_request_size"] = skw["max_response_size"] = kw["max_size"]
if "type_name" in kw:
    skw["request_type_name"] = skw["response_type_name"] = kw["type_name"]
signal.signal(signal.SIGTERM, lambda *a: sys.exit(0))
seen = []
def echo(v):
    seen.append(v)
    return v
with shm_service.ServiceServer(name, echo, default, default, queue_size=2,
                               **skw) as srv:
    print("ready", flush=True)
    while len(seen) < len(values):
        time.sleep(0.01)
    bad = [i for i, (g, v) in enumerate(zip(seen, values)) if not cases.same(g, v)]
    print("served", len(seen), "mismatch", bad, "errors", srv.errors, flush=True)
    time.sleep(0.2)  # the last reply has gone out before close()
"""


@pytest.mark.parametrize("kind", KINDS)
def test_each_kind_round_trips_intact_with_the_server_in_another_process(kind, spawn):
    default, values, kw = cases()[kind]
    name = f"echo/{kind}"
    server = spawn(python_args(ECHO_SERVER_CHILD) + [kind, name])
    server.wait_for("ready")
    client = shm_service.ServiceClient(name, default, default, **service_kwargs(kw))
    got = [client.call(v, timeout=20) for v in values]
    assert [same(g, v) for g, v in zip(got, values)] == [True] * len(values)
    server.wait_for("served")
    assert server.wait(timeout=20) == 0, server.stderr()
    assert server.lines()[-1] == f"served {len(values)} mismatch [] errors 0"
    client.close()


def test_request_and_response_may_have_different_types():
    pose = cases()["struct"][0]
    img = np.arange(12, dtype=np.float32).reshape(3, 4)
    with shm_service.ServiceServer("len", len, "", 0), \
            shm_service.ServiceServer("sum", lambda a: float(a.sum()), img, 0.0), \
            shm_service.ServiceServer("pose", lambda p: p["name"].item(), pose, b"",
                                      request_type_name="Pose"):
        assert shm_service.ServiceClient("len", "", 0).call("héllo") == 5
        assert shm_service.ServiceClient("sum", img, 0.0).call(img) == 66.0
        p = np.zeros((), pose.dtype)
        p["name"] = b"alpha"
        assert shm_service.ServiceClient("pose", pose, b"", request_type_name="Pose").call(p) \
            == b"alpha"


# ---- many clients ------------------------------------------------------------

CONCURRENT_CLIENT_CHILD = """
import sys, threading, shm_service
proc, calls = int(sys.argv[1]), int(sys.argv[2])
results = {}
def run(th):
    c = shm_service.ServiceClient("concurrent", 0, 0)
    base = (proc * 2 + th) * 1_000_000
    bad = errors = 0
    for i in range(calls):
        req = base + i
        try:
            if c.call(req, timeout=30) != 3 * req + 1:
                bad += 1
        except Exception as e:
            errors += 1
            print("error", repr(e), flush=True)
    results[th] = (bad, errors)
ts = [threading.Thread(target=run, args=(th,)) for th in range(2)]
for t in ts: t.start()
for t in ts: t.join()
print("mismatch", sum(b for b, _ in results.values()),
      "errors", sum(e for _, e in results.values()), flush=True)
"""


def test_four_processes_of_two_threads_get_exactly_their_own_responses(spawn, record_property):
    procs, calls = 4, 500
    seen = []

    def f(x):
        seen.append(x)
        return 3 * x + 1

    with shm_service.ServiceServer("concurrent", f, 0, 0) as srv:
        t0 = time.monotonic()
        children = [spawn(python_args(CONCURRENT_CLIENT_CHILD) + [str(p), str(calls)])
                    for p in range(procs)]
        for c in children:
            assert c.wait(timeout=150) == 0, c.stderr()
        record_property("measured_concurrent_4x2x500_calls_s", round(time.monotonic() - t0, 3))
        for c in children:
            assert c.lines()[-1] == "mismatch 0 errors 0", c.stdout()
        assert srv.errors == 0
    expected = {(p * 2 + th) * 1_000_000 + i
                for p in range(procs) for th in range(2) for i in range(calls)}
    assert len(seen) == len(expected) and set(seen) == expected


# ---- the callback thread and the GIL -------------------------------------------------


def test_the_callback_runs_on_a_thread_of_its_own_named_after_the_service():
    with shm_service.ServiceServer("who", lambda _: threading.get_ident(), 0, 0), \
            shm_service.ServiceClient("who", 0, 0) as c:
        names = []
        srv2 = shm_service.ServiceServer(
            "name", lambda _: names.append(threading.current_thread().name) or 0, 0, 0)
        assert c.call(0) != threading.get_ident()
        shm_service.ServiceClient("name", 0, 0).call(0)
        srv2.close()
        assert names == ["hcm-service-name"]


GIL_CHILD = """
import time, shm_service
def spin(seconds):
    n, end = 0, time.monotonic() + seconds
    while time.monotonic() < end:
        n += 1
    return n
calls = [0]
def counting(x):
    calls[0] += 1
    return x + 1
base = spin(0.3)                      # no server yet
srv = shm_service.ServiceServer("gil", counting, 0, 0)
time.sleep(0.1)                       # the serving thread is now blocked in take()
idle = spin(0.3)                      # and this thread runs Python meanwhile
print("loops", base, idle, flush=True)
print("ready", flush=True)
# A client process calls now: the callbacks run while this thread keeps
# running Python code (it never blocks, it only loops).
spins, end = 0, time.monotonic() + 60
while calls[0] < 200 and time.monotonic() < end:
    spins += 1
print("served", calls[0], "main-loop iterations", spins, flush=True)
srv.close()
"""

GIL_CALLER = """
import shm_service
c = shm_service.ServiceClient("gil", 0, 0)
for i in range(200):
    assert c.call(i, timeout=30) == i + 1
print("done", flush=True)
"""


def test_the_gil_is_released_while_the_server_waits_and_the_main_thread_keeps_running(
        spawn, record_property):
    child = spawn(python_args(GIL_CHILD))
    (loops,) = child.wait_for("loops", timeout=30)
    base, idle = map(int, loops.split()[1:])
    record_property("measured_main_thread_speed_with_idle_server_pct", round(100 * idle / base))
    # If the waiting server held the GIL the main thread would not run at
    # all; a small share of the baseline is plenty to show it does.
    assert idle > base // 20
    child.wait_for("ready", timeout=30)
    caller = spawn(python_args(GIL_CALLER))
    assert caller.wait(timeout=60) == 0, caller.stderr()
    (served,) = child.wait_for("served", timeout=30)
    assert served.split()[1] == "200"
    assert int(served.split()[-1]) > 0  # the main thread ran Python while they were served
    assert child.wait(timeout=30) == 0, child.stderr()


# ---- errors raised by the callback --------------------------------------------------


class Custom(Exception):
    pass


def test_an_exception_in_the_callback_reaches_the_caller_as_remote_error_and_serving_goes_on():
    def cb(x):
        if x == 1:
            raise ValueError("bad value 1")
        if x == 2:
            raise Custom("custom trouble")
        return x * 10

    with shm_service.ServiceServer("raises", cb, 0, 0) as srv, \
            shm_service.ServiceClient("raises", 0, 0) as c:
        with pytest.raises(shm_service.RemoteError, match="ValueError: bad value 1") as e1:
            c.call(1)
        assert isinstance(e1.value, shm_service.Error)
        assert c.call(3) == 30
        with pytest.raises(shm_service.RemoteError, match="Custom: custom trouble"):
            c.call(2)
        assert c.call(4) == 40
        assert srv.errors == 2
        assert "2 callback errors" in repr(srv)


@pytest.mark.parametrize("returned", ["a str", None, 1.5, [1]],
                         ids=["str", "None", "float", "list"])
def test_a_callback_returning_the_wrong_type_fails_the_call_with_remote_error(returned):
    with shm_service.ServiceServer("wrongtype", lambda x: returned if x else 7, 0, 0) as srv, \
            shm_service.ServiceClient("wrongtype", 0, 0) as c:
        with pytest.raises(shm_service.RemoteError) as e:
            c.call(1)
        msg = str(e.value)
        assert "TypeMismatchError" in msg and "int64" in msg, msg
        assert type(returned).__name__ in msg, msg
        assert c.call(0) == 7
        assert srv.errors == 1


def test_a_callback_returning_an_oversized_str_fails_the_call_with_remote_error():
    with shm_service.ServiceServer("bigreply", lambda n: "x" * n, 0, "",
                                   max_response_size=8) as srv, \
            shm_service.ServiceClient("bigreply", 0, "", max_response_size=8) as c:
        with pytest.raises(shm_service.RemoteError, match="8"):
            c.call(9)
        assert c.call(8) == "x" * 8
        assert srv.errors == 1


# ---- take / reply / fail by hand ---------------------------------------------------------


def test_take_and_reply_without_a_thread_answer_in_any_order():
    n = 6
    with shm_service.ServiceServer("manual", None, 0, 0) as srv:
        clients = [shm_service.ServiceClient("manual", 0, 0) for _ in range(n)]
        calls = [call_in_thread(c, 100 + i, timeout=20) for i, c in enumerate(clients)]
        taken = take_n(srv, n)
        assert sorted(r for r, _ in taken) == [100 + i for i in range(n)]
        order = taken[1::2] + taken[0::2][::-1]  # neither taken order nor its reverse
        for req, call in order:
            srv.reply(call, -req)
        for t, box in calls:
            t.join(20)
        assert [box.get("value", box.get("error")) for _, box in calls] == \
            [-(100 + i) for i in range(n)]
        for c in clients:
            c.close()


def test_take_returns_requests_in_the_order_they_were_sent():
    with shm_service.ServiceServer("fifo", None, "", "") as srv:
        clients = [shm_service.ServiceClient("fifo", "", "") for _ in range(5)]
        calls = []
        for i, c in enumerate(clients):
            calls.append(call_in_thread(c, f"req{i}", timeout=20))
            time.sleep(0.05)  # sent one after the other
        taken = take_n(srv, 5)
        assert [r for r, _ in taken] == [f"req{i}" for i in range(5)]
        for r, call in taken:
            srv.reply(call, r.upper())
        for t, box in calls:
            t.join(20)
        assert [box["value"] for _, box in calls] == [f"REQ{i}" for i in range(5)]


def test_replies_may_come_from_other_threads():
    with shm_service.ServiceServer("threads", None, 0, 0) as srv, \
            shm_service.ServiceClient("threads", 0, 0) as c:
        t, box = call_in_thread(c, 5, timeout=20)
        req, call = srv.take(timeout=10)
        r = threading.Thread(target=srv.reply, args=(call, req * 2))
        r.start()
        r.join()
        t.join(20)
        assert box["value"] == 10


def test_fail_makes_the_call_raise_remote_error_with_the_message():
    with shm_service.ServiceServer("failing", None, 0, 0) as srv, \
            shm_service.ServiceClient("failing", 0, 0) as c:
        t, box = call_in_thread(c, 1, timeout=20)
        _, call = srv.take(timeout=10)
        srv.fail(call, "no such thing as 1")
        t.join(20)
        assert isinstance(box["error"], shm_service.RemoteError)
        assert "no such thing as 1" in str(box["error"])
        t, box = call_in_thread(c, 2, timeout=20)  # the client goes on
        req, call = srv.take(timeout=10)
        srv.reply(call, req)
        t.join(20)
        assert box["value"] == 2


def test_a_call_can_be_answered_once_only():
    with shm_service.ServiceServer("once", None, 0, 0) as srv, \
            shm_service.ServiceClient("once", 0, 0) as c:
        t, box = call_in_thread(c, 1, timeout=20)
        _, call = srv.take(timeout=10)
        srv.reply(call, 2)
        t.join(20)
        assert box["value"] == 2
        with pytest.raises(shm_service.InvalidArgumentError):
            srv.reply(call, 3)
        with pytest.raises(shm_service.InvalidArgumentError):
            srv.fail(call, "late")
        with pytest.raises(TypeError):
            srv.reply("not a call", 3)


def test_take_times_out_with_wait_timeout_error():
    with shm_service.ServiceServer("idle", None, 0, 0) as srv:
        with pytest.raises(shm_service.WaitTimeoutError):
            srv.take(timeout=0.05)
        with pytest.raises(TimeoutError):
            srv.take(timeout=0)


# ---- dying servers and clients -----------------------------------------------------

SLOW_SERVER_CHILD = """
import os, sys, time, shm_service
def cb(x):
    print("handling", x, flush=True)
    time.sleep(60)
    return x
srv = shm_service.ServiceServer("victim", cb, 0, 0)
print("ready", os.getpid(), flush=True)
time.sleep(120)
"""


def test_a_server_killed_mid_call_makes_the_caller_raise_peer_dead_error_and_can_be_replaced(
        spawn, record_property):
    server = spawn(python_args(SLOW_SERVER_CHILD))
    server.wait_for("ready")
    client = shm_service.ServiceClient("victim", 0, 0)
    t, box = call_in_thread(client, 7, timeout=30)
    server.wait_for("handling 7")
    killed = time.monotonic()
    server.proc.kill()
    server.wait(timeout=10)  # reaped, as a parent does
    t.join(30)
    assert isinstance(box.get("error"), shm_service.PeerDeadError), box
    latency = box["t"] - killed
    record_property("measured_kill_to_peer_dead_error_ms", round(latency * 1000, 1))
    assert latency < 1.0

    t0 = time.monotonic()
    with pytest.raises(shm_service.PeerDeadError):
        client.call(8, timeout=10)
    fast = time.monotonic() - t0
    record_property("measured_call_to_dead_server_ms", round(fast * 1000, 3))
    assert fast < 1.0

    server_child(spawn, "victim", callback="lambda x: x * 100")
    assert client.call(9, timeout=10) == 900
    client.close()


def test_a_server_killed_mid_call_but_not_yet_reaped_by_its_parent_counts_as_dead(
        record_property):
    """The same kill, but the parent (this process) has not wait()ed for the
    server yet: the server is a zombie. It has exited and will never answer,
    so the caller must still get PeerDeadError within 1 s."""
    proc = subprocess.Popen(python_args(SLOW_SERVER_CHILD), stdin=subprocess.DEVNULL,
                            stdout=subprocess.PIPE, env=child_env(), text=True)
    try:
        assert proc.stdout.readline().startswith("ready")
        client = shm_service.ServiceClient("victim", 0, 0)
        t, box = call_in_thread(client, 7, timeout=5)
        assert proc.stdout.readline().strip() == "handling 7"
        killed = time.monotonic()
        os.kill(proc.pid, signal.SIGKILL)  # no proc.wait()/poll() until the call ended
        t.join(30)
        record_property("measured_kill_unreaped_to_error_ms", round((box["t"] - killed) * 1000, 1))
        assert isinstance(box.get("error"), shm_service.PeerDeadError), box
        assert box["t"] - killed < 1.0
        client.close()
    finally:
        proc.kill()
        proc.wait()
        proc.stdout.close()


VICTIM_CLIENT_CHILD = """
import shm_service
c = shm_service.ServiceClient("survivor", 0, 0)
print("calling", flush=True)
c.call(-1, timeout=60)
print("returned", flush=True)
"""

STEADY_CLIENT_CHILD = """
import time, shm_service
c = shm_service.ServiceClient("survivor", 0, 0)
ok = bad = 0
end = time.monotonic() + float(__import__("sys").argv[1])
while time.monotonic() < end:
    try:
        if c.call(ok + bad, timeout=30) == ok + bad + 1:
            ok += 1
        else:
            bad += 1
    except Exception as e:
        bad += 1
        print("error", repr(e), flush=True)
print("ok", ok > 0, "bad", bad, flush=True)
"""


def test_a_client_killed_mid_call_affects_neither_the_server_nor_other_clients(spawn):
    started = threading.Event()

    def cb(x):
        if x < 0:
            started.set()
            time.sleep(0.5)  # the victim dies while we work on its call
        return x + 1

    with shm_service.ServiceServer("survivor", cb, 0, 0, queue_size=3) as srv:
        steady = spawn(python_args(STEADY_CLIENT_CHILD) + ["2.5"])
        victims = []
        for _ in range(3):  # more dead callers than free slots (queue_size 3)
            v = spawn(python_args(VICTIM_CLIENT_CHILD))
            v.wait_for("calling")
            victims.append(v)
        assert started.wait(10)
        time.sleep(0.05)  # the other victims' requests are queued by now
        for v in victims:
            v.proc.kill()
            v.wait(timeout=10)
        assert steady.wait(timeout=60) == 0, steady.stderr()
        assert steady.lines()[-1] == "ok True bad 0", steady.stdout()
        # slots held by the dead callers are reclaimed: more sequential
        # calls than there are slots all succeed
        with shm_service.ServiceClient("survivor", 0, 0) as c:
            assert [c.call(i, timeout=10) for i in range(10)] == list(range(1, 11))
        assert srv.errors == 0
        assert all("returned" not in v.stdout() for v in victims)


# ---- one server per name ---------------------------------------------------------------


def test_a_second_server_of_the_same_name_in_this_process_raises_busy_error():
    with shm_service.ServiceServer("single", lambda x: x, 0, 0):
        with pytest.raises(shm_service.BusyError, match="live server"):
            shm_service.ServiceServer("single", lambda x: x, 0, 0)


BUSY_CHILD = """
import shm_service
try:
    shm_service.ServiceServer("single", lambda x: -x, 0, 0)
    print("opened", flush=True)
except shm_service.BusyError as e:
    print("BusyError", e, flush=True)
"""


def test_a_second_server_in_another_process_raises_busy_error_and_after_close_a_new_one_works(
        spawn):
    first = shm_service.ServiceServer("single", lambda x: x + 1, 0, 0)
    child = spawn(python_args(BUSY_CHILD))
    assert child.wait(timeout=30) == 0, child.stderr()
    assert child.lines()[-1].startswith("BusyError"), child.stdout()
    assert str(os.getpid()) in child.lines()[-1]  # names the live server
    c = shm_service.ServiceClient("single", 0, 0)
    assert c.call(1) == 2
    first.close()
    second = shm_service.ServiceServer("single", lambda x: x + 2, 0, 0)
    assert c.call(1) == 3  # the same client, served by the new server
    second.close()
    c.close()


# ---- the documented exceptions ----------------------------------------------------------


def test_a_client_of_other_types_raises_type_mismatch_error_naming_both():
    with shm_service.ServiceServer("typed", lambda x: x, 0, 0):
        with pytest.raises(TypeError) as e:
            shm_service.ServiceClient("typed", 0.0, 0)
        assert isinstance(e.value, shm_service.TypeMismatchError)
        assert "int64" in str(e.value) and "float64" in str(e.value), str(e.value)
        with pytest.raises(shm_service.TypeMismatchError) as e:
            shm_service.ServiceClient("typed", 0, "")
        assert "int64" in str(e.value) and "string" in str(e.value), str(e.value)


def test_a_client_opened_before_a_server_of_other_types_gets_type_mismatch_error_on_call():
    c = shm_service.ServiceClient("later", "", "")
    with shm_service.ServiceServer("later", lambda x: x, 0, 0):
        with pytest.raises(shm_service.TypeMismatchError) as e:
            c.call("x")
        assert "int64" in str(e.value) and "string" in str(e.value), str(e.value)
    c.close()


def test_calling_a_service_that_does_not_exist_raises_topic_not_found_error_at_once(
        record_property):
    c = shm_service.ServiceClient("nobody/home", 0, 0)
    t0 = time.monotonic()
    with pytest.raises(FileNotFoundError) as e:
        c.call(1, timeout=5.0)
    took = time.monotonic() - t0
    record_property("measured_unknown_service_ms", round(took * 1000, 3))
    assert isinstance(e.value, shm_service.TopicNotFoundError)
    assert "nobody/home" in str(e.value)
    assert took < 1.0


OVERSIZED = {  # default, too big for max_request_size=16, the largest that fits
    "str": ("", "x" * 17, "x" * 16),
    "str_utf8": ("", "\u00e9" * 9, "\u00e9" * 8),  # 18 bytes of UTF-8 / 16
    "bytes": (b"", b"\0" * 17, b"\0" * 16),
}


@pytest.mark.parametrize("client_max", [None, 16], ids=["client_default_max", "client_max_16"])
@pytest.mark.parametrize("kind", list(OVERSIZED))
def test_an_oversized_str_or_bytes_request_raises_value_error(kind, client_max):
    default, big, fits = OVERSIZED[kind]
    kw = {} if client_max is None else {"max_request_size": client_max}
    with shm_service.ServiceServer("small", lambda x: x, default, default,
                                   max_request_size=16) as srv, \
            shm_service.ServiceClient("small", default, default, **kw) as c:
        with pytest.raises(ValueError) as e:
            c.call(big)
        assert isinstance(e.value, shm_service.InvalidArgumentError)
        assert "16" in str(e.value), str(e.value)
        assert c.call(fits) == fits
        assert srv.errors == 0


def test_a_call_without_a_response_in_time_raises_timeout_error_and_the_client_goes_on():
    with shm_service.ServiceServer("slow", None, 0, 0) as srv, \
            shm_service.ServiceClient("slow", 0, 0) as c:
        with pytest.raises(TimeoutError) as e:
            c.call(1, timeout=0.2)
        assert isinstance(e.value, shm_service.WaitTimeoutError)
        # the abandoned request is gone: the next one is what take() gets
        t, box = call_in_thread(c, 2, timeout=20)
        req, call = srv.take(timeout=10)
        assert req == 2
        srv.reply(call, 20)
        t.join(20)
        assert box["value"] == 20


def test_a_reply_to_a_call_that_timed_out_is_dropped_quietly():
    with shm_service.ServiceServer("late", None, 0, 0) as srv, \
            shm_service.ServiceClient("late", 0, 0) as c:
        t, box = call_in_thread(c, 1, timeout=0.3)
        req, call = srv.take(timeout=10)
        t.join(20)
        assert isinstance(box["error"], shm_service.WaitTimeoutError)
        srv.reply(call, 10)  # no error: the client gave up
        t, box = call_in_thread(c, 2, timeout=20)
        req, call = srv.take(timeout=10)
        srv.reply(call, req * 10)
        t.join(20)
        assert box["value"] == 20  # not the stale 10


def test_one_client_used_by_two_threads_at_once_raises_runtime_error():
    with shm_service.ServiceServer("shared", None, 0, 0) as srv, \
            shm_service.ServiceClient("shared", 0, 0) as c:
        t, box = call_in_thread(c, 1, timeout=20)
        req, call = srv.take(timeout=10)
        with pytest.raises(RuntimeError, match="one client per thread"):
            c.call(2)
        srv.reply(call, 1)
        t.join(20)
        assert box["value"] == 1


CTRL_C_CHILD = """
import time, shm_service
c = shm_service.ServiceClient("ctrlc", 0, 0)
{prepare}
print("ready", flush=True)
try:
    c.call(1, timeout={timeout})
except KeyboardInterrupt:
    print("interrupted", time.monotonic_ns(), flush=True)
    raise
except BaseException as e:
    print("raised", type(e).__name__, e, time.monotonic_ns(), flush=True)
    raise
print("returned", flush=True)
"""

# a second client holds the only call slot, so call() waits for a free one
HOLD_THE_SLOT = """
import threading
other = shm_service.ServiceClient("ctrlc", 0, 0)
threading.Thread(target=lambda: other.call(0, timeout=None), daemon=True).start()
time.sleep(0.3)
"""


def _ctrl_c(spawn, prepare, timeout):
    """Starts a child blocked in call(), sends SIGINT; returns (exit status,
    stderr, the child's last stdout line, ms from the signal to the
    KeyboardInterrupt caught around call(), or None if there was none)."""
    child = spawn(python_args(CTRL_C_CHILD.format(prepare=prepare, timeout=timeout)))
    child.wait_for("ready")
    time.sleep(0.3)  # let it block
    assert child.proc.poll() is None
    sent = time.monotonic_ns()
    child.proc.send_signal(signal.SIGINT)
    status = child.wait(timeout=10)
    line = (child.lines() or [""])[-1]
    ms = (int(line.split()[-1]) - sent) / 1e6 if line.startswith("interrupted") else None
    return status, child.stderr(), line, ms


@pytest.mark.parametrize("timeout", ["None", "30"])
def test_ctrl_c_in_a_call_waiting_for_its_response_raises_keyboard_interrupt(
        timeout, spawn, record_property):
    with shm_service.ServiceServer("ctrlc", None, 0, 0, queue_size=4):  # never replies
        status, stderr, line, ms = _ctrl_c(spawn, "", timeout)
    assert line.startswith("interrupted"), (line, stderr)
    record_property(f"measured_ctrl_c_latency_ms_call_timeout_{timeout}", round(ms, 3))
    assert status == -signal.SIGINT
    assert stderr.rstrip().endswith("KeyboardInterrupt")
    assert ms < 1000.0


@pytest.mark.parametrize("timeout", ["None", "30"])
def test_ctrl_c_in_a_call_waiting_for_a_free_call_slot_raises_keyboard_interrupt(
        timeout, spawn, record_property):
    with shm_service.ServiceServer("ctrlc", None, 0, 0, queue_size=1):  # never replies
        status, stderr, line, ms = _ctrl_c(spawn, HOLD_THE_SLOT, timeout)
    # call() itself must raise KeyboardInterrupt (not shm_service.Error first)
    assert line.startswith("interrupted"), (line, stderr)
    record_property(f"measured_ctrl_c_latency_ms_slot_wait_timeout_{timeout}", round(ms, 3))
    assert status == -signal.SIGINT
    assert ms < 1000.0


def test_a_full_queue_without_wait_for_slot_raises_busy_error_at_once():
    with shm_service.ServiceServer("full", None, 0, 0, queue_size=1) as srv, \
            shm_service.ServiceClient("full", 0, 0) as a, \
            shm_service.ServiceClient("full", 0, 0, wait_for_slot=False) as b:
        t, box = call_in_thread(a, 1, timeout=20)
        req, call = srv.take(timeout=10)
        t0 = time.monotonic()
        with pytest.raises(shm_service.BusyError):
            b.call(2, timeout=5)
        assert time.monotonic() - t0 < 1.0
        srv.reply(call, 1)
        t.join(20)
        assert b.call  # still usable
        t, box = call_in_thread(b, 3, timeout=20)
        req, call = srv.take(timeout=10)
        srv.reply(call, 30)
        t.join(20)
        assert box["value"] == 30


# ---- close, context managers, repr, docstrings ----------------------------------------


def test_close_with_a_taken_call_unanswered_makes_the_caller_raise_peer_dead_error():
    srv = shm_service.ServiceServer("closing", None, 0, 0)
    c = shm_service.ServiceClient("closing", 0, 0)
    t, box = call_in_thread(c, 1, timeout=20)
    srv.take(timeout=10)
    srv.close()
    t.join(20)
    assert isinstance(box.get("error"), shm_service.PeerDeadError), box
    with pytest.raises(shm_service.PeerDeadError):
        c.call(2)
    c.close()


def test_close_with_calls_still_queued_makes_their_callers_raise_peer_dead_error():
    srv = shm_service.ServiceServer("closing", None, 0, 0)
    clients = [shm_service.ServiceClient("closing", 0, 0) for _ in range(3)]
    calls = [call_in_thread(c, i, timeout=20) for i, c in enumerate(clients)]
    time.sleep(0.2)  # all three are queued, none taken
    srv.close()
    for t, box in calls:
        t.join(20)
        assert isinstance(box.get("error"), shm_service.PeerDeadError), box


def test_close_of_a_callback_server_finishes_the_call_in_hand_and_fails_the_queued_ones():
    started = threading.Event()

    def cb(x):
        started.set()
        time.sleep(0.3)
        return x + 1

    srv = shm_service.ServiceServer("closing", cb, 0, 0)
    clients = [shm_service.ServiceClient("closing", 0, 0) for _ in range(3)]
    first = call_in_thread(clients[0], 0, timeout=20)
    assert started.wait(10)
    rest = [call_in_thread(c, i, timeout=20) for i, c in enumerate(clients[1:], 1)]
    time.sleep(0.1)
    srv.close()
    first[0].join(20)
    assert first[1].get("value") == 1
    for t, box in rest:
        t.join(20)
        assert isinstance(box.get("error"), shm_service.PeerDeadError), box


def test_context_managers_close_server_and_client():
    with shm_service.ServiceServer("ctx", lambda x: x, 0, 0) as srv:
        with shm_service.ServiceClient("ctx", 0, 0) as c:
            assert c.call(5) == 5
            assert not c.closed and not srv.closed
        assert c.closed
    assert srv.closed
    with pytest.raises(shm_service.Error, match="closed"):
        c.call(1)
    with pytest.raises(shm_service.Error, match="closed"):
        srv.take(timeout=0)
    srv.close()  # twice is fine
    c.close()


def test_close_is_refused_while_the_client_is_in_a_call_on_another_thread():
    with shm_service.ServiceServer("busyclose", None, 0, 0) as srv:
        c = shm_service.ServiceClient("busyclose", 0, 0)
        t, box = call_in_thread(c, 1, timeout=20)
        req, call = srv.take(timeout=10)
        with pytest.raises(RuntimeError):
            c.close()
        srv.reply(call, 1)
        t.join(20)
        assert box["value"] == 1
        c.close()


def test_repr_names_the_service_its_types_and_whether_it_is_closed():
    srv = shm_service.ServiceServer("repr/me", lambda x: len(x), "", 0)
    c = shm_service.ServiceClient("repr/me", "", 0)
    assert repr(srv) == "<shm_service.ServiceServer 'repr/me' string -> int64, 0 callback errors>"
    assert repr(c) == "<shm_service.ServiceClient 'repr/me' string -> int64>"
    assert srv.name == c.name == "repr/me"
    c.close()
    srv.close()
    assert repr(srv).endswith(", closed, 0 callback errors>")
    assert repr(c).endswith(", closed>")


def test_the_module_classes_and_methods_have_docstrings():
    assert "request/response" in shm_service.__doc__
    for obj in (shm_service.ServiceServer, shm_service.ServiceClient):
        assert obj.__doc__
    assert list(inspect.signature(shm_service.ServiceServer).parameters)[:4] == \
        ["name", "callback", "request_default", "response_default"]
    assert list(inspect.signature(shm_service.ServiceClient).parameters)[:3] == \
        ["name", "request_default", "response_default"]
    assert inspect.signature(shm_service.ServiceClient.call).parameters["timeout"].default == 5.0
    for meth in ("take", "reply", "fail", "serve_forever", "close"):
        assert getattr(shm_service.ServiceServer, meth).__doc__, meth
    for meth in ("call", "close"):
        assert getattr(shm_service.ServiceClient, meth).__doc__, meth
    assert shm_service.unlink.__doc__
    for exc in ("RemoteError", "PeerDeadError", "WaitTimeoutError", "TypeMismatchError",
                "TopicNotFoundError", "BusyError"):
        cls = getattr(shm_service, exc)
        assert issubclass(cls, shm_service.Error) and cls.__doc__, exc
    assert issubclass(shm_service.WaitTimeoutError, TimeoutError)
    assert issubclass(shm_service.TopicNotFoundError, FileNotFoundError)
    assert issubclass(shm_service.TypeMismatchError, TypeError)


def test_unlink_removes_the_segment_and_a_missing_one_raises_topic_not_found_error(domain):
    with shm_service.ServiceServer("gone", lambda x: x, 0, 0):
        pass
    assert os.path.exists(f"/dev/shm/hcm.{domain}.s.gone")
    shm_service.unlink("gone")
    assert not os.path.exists(f"/dev/shm/hcm.{domain}.s.gone")
    with pytest.raises(shm_service.TopicNotFoundError):
        shm_service.unlink("gone")
