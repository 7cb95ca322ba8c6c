"""shm_action: long-running goals with feedback, result and cancel.

Goals run to their end with the server in another process; the statuses a
client sees only move along legal transitions; acceptance and rejection;
cancel before acceptance, while the callback runs, and when the server
decides to finish anyway; exceptions in the callback; concurrent goals and
the isolation of their feedback and results; servers and clients that die
mid-goal; close(); the documented exceptions; Ctrl-C; a multi-process
stress run with random cancels; repr, docstrings and context managers.

Timing bounds (kill -> PeerDeadError, client death -> cancel_requested,
Ctrl-C -> KeyboardInterrupt, unknown action -> error) are the spec's, with
generous margins; the measured values are recorded with record_property
and printed at the end of the run.
"""
import inspect
import json
import os
import signal
import textwrap
import threading
import time

import pytest

import shm_action
from support import python_args

pytestmark = pytest.mark.timeout(120)

FINAL = {"succeeded", "canceled", "aborted", "rejected"}

# Every status a goal can reach from a status (directly or through states a
# poller may miss); finals reach nothing.
REACHABLE = {
    "pending": {"accepted", "executing", "canceling", "succeeded", "canceled", "aborted",
                "rejected"},
    "accepted": {"executing", "canceling", "succeeded", "canceled", "aborted"},
    "executing": {"canceling", "succeeded", "canceled", "aborted"},
    "canceling": {"succeeded", "canceled", "aborted"},
    "succeeded": set(),
    "canceled": set(),
    "aborted": set(),
    "rejected": set(),
}


# ---- fixtures and helpers ---------------------------------------------------


def _unlink_actions(domain):
    prefix = f"hcm.{domain}.a."
    for entry in os.listdir("/dev/shm"):
        if entry.startswith(prefix):
            try:
                shm_action.unlink(entry[len(prefix):].replace(":", "/"), domain)
            except shm_action.TopicNotFoundError:
                pass


@pytest.fixture(autouse=True)
def actions(domain):
    """Unlinks every action segment of the test's domain at the end (after
    the children of `spawn` are gone: this fixture is set up first, so it is
    torn down last), before the /dev/shm leftover check of `domain`."""
    yield domain
    _unlink_actions(domain)


def wait_status(handle, wanted, timeout=10.0):
    """Polls handle.status until it is in `wanted`; returns it."""
    deadline = time.monotonic() + timeout
    while True:
        st = handle.status
        if st in wanted:
            return st
        assert time.monotonic() < deadline, f"status {st!r} after {timeout} s, wanted {wanted}"
        time.sleep(0.002)


def in_thread(fn, *args, **kw):
    """Starts fn(*args, **kw) on a thread; returns (thread, box): box gets
    "value" or "error", and "t" (monotonic time at the end)."""
    box = {}

    def run():
        try:
            box["value"] = fn(*args, **kw)
        except BaseException as e:  # noqa: BLE001 - handed to the test
            box["error"] = e
        box["t"] = time.monotonic()

    t = threading.Thread(target=run, daemon=True)
    t.start()
    return t, box


def assert_legal(seen):
    """seen: the distinct statuses in the order a poller saw them."""
    for a, b in zip(seen, seen[1:]):
        assert b in REACHABLE[a], f"illegal transition {a!r} -> {b!r} in {seen}"


# A server process for int goals, feedback and results: argv[2] is a dict of
# ActionServer keyword arguments, argv[3] code that defines execute(g) (and
# optionally accept(goal)). It logs "exec <goal>" as each callback starts;
# on SIGTERM it closes and logs the goals it executed.
SERVER_CHILD = """
import os, signal, sys, threading, time, shm_action
name, opts, code = sys.argv[1], eval(sys.argv[2]), sys.argv[3]
_out = threading.Lock()
def log(*a):
    with _out:  # one line at a time from any thread
        sys.stdout.write(" ".join(map(str, a)) + "\\n")
        sys.stdout.flush()
executed = []
exec(code)
def run(g):
    executed.append(g.goal)
    log("exec", g.goal)
    return execute(g)
stop = threading.Event()
signal.signal(signal.SIGTERM, lambda *a: stop.set())
srv = shm_action.ActionServer(name, 0, 0, 0, run, accept_callback=globals().get("accept"),
                              **opts)
log("ready", os.getpid())
while not stop.is_set():
    time.sleep(0.02)
srv.close()
log("executed", sorted(executed))
"""


def server_child(spawn, name, code, **opts):
    child = spawn(python_args(SERVER_CHILD) + [name, repr(opts), textwrap.dedent(code)])
    child.wait_for("ready")
    return child


def executed_by(child):
    """Stops a SERVER_CHILD (SIGTERM: clean close); returns the goals it executed."""
    assert child.stop() == 0, child.stderr()
    (line,) = child.wait_for("executed", timeout=5)
    return eval(line.split(" ", 1)[1])


# ---- a goal from start to end --------------------------------------------------------

FEEDBACK_SERVER = """
def execute(g):
    for i in range(10):
        g.publish_feedback(g.goal * 100 + i)
        time.sleep(0.02)
    return g.goal * 1000
"""


def test_a_goal_runs_to_succeeded_with_feedback_in_order_and_its_result_across_processes(
        spawn, record_property):
    server = server_child(spawn, "robot/move_to", FEEDBACK_SERVER)
    with shm_action.ActionClient("robot/move_to", 0, 0, 0) as client:
        goal = client.send_goal(7)
        assert goal.status in {"pending", "accepted", "executing"}
        seen = list(goal.feedback())  # until the goal ends
        assert goal.status == "succeeded"
        assert goal.result(timeout=10) == 7000
        record_property("measured_feedback_skipped_of_10", goal.feedback_skipped)
        # in order, only this goal's values, the last one included, and every
        # one of the 10 either seen or counted as skipped
        assert seen == sorted(set(seen)), seen
        assert set(seen) <= set(range(700, 710)), seen
        assert seen[-1] == 709, seen
        assert len(seen) + goal.feedback_skipped == 10, (seen, goal.feedback_skipped)
    assert executed_by(server) == [7]


# ---- statuses ----------------------------------------------------------------------

STATUS_SERVER = """
def accept(goal):
    return goal != 0
def execute(g):
    if g.goal == 1:
        time.sleep(0.3)
        return 10
    if g.goal == 2:
        time.sleep(0.2)
        raise RuntimeError("goal 2 fails")
    if g.goal in (3, 4):
        n = 0
        while not g.cancel_requested:
            n += 1
            time.sleep(0.01)
        if g.goal == 3:
            g.canceled()
            return n
        time.sleep(0.2)   # goal 4: the server finishes it anyway
        return 40
"""


def test_statuses_seen_by_the_client_only_move_along_legal_transitions(spawn):
    server = server_child(spawn, "statuses", STATUS_SERVER)
    expected_final = {0: "rejected", 1: "succeeded", 2: "aborted", 3: "canceled", 4: "succeeded"}
    observed = {}
    with shm_action.ActionClient("statuses", 0, 0, 0) as client:
        for value in (1, 2, 3, 4, 0):
            goal = client.send_goal(value)
            seen = [goal.status]
            cancel_sent = False
            deadline = time.monotonic() + 20
            while seen[-1] not in FINAL:
                assert time.monotonic() < deadline, (value, seen)
                st = goal.status
                if st != seen[-1]:
                    seen.append(st)
                if value in (3, 4) and st == "executing" and not cancel_sent:
                    time.sleep(0.05)
                    goal.cancel()
                    cancel_sent = True
                time.sleep(0.0005)
            observed[value] = seen
            assert goal.status == seen[-1]  # stays as it ended
    for value, seen in observed.items():
        assert_legal(seen)
        assert seen[-1] == expected_final[value], observed
    for value in (1, 2, 3, 4):  # each ran for 0.2 s or more: the poller saw it run
        assert "executing" in observed[value], observed
    assert "canceling" in observed[4], observed  # 0.2 s between the cancel and the end
    assert "executing" not in observed[0], observed
    assert executed_by(server) == [1, 2, 3, 4]


def test_accept_callback_returning_false_rejects_the_goal_without_running_it(
        spawn, record_property):
    server = server_child(spawn, "picky", "def accept(goal): return goal > 0\n"
                                          "def execute(g): return g.goal\n")
    with shm_action.ActionClient("picky", 0, 0, 0) as client:
        t0 = time.monotonic()
        goal = client.send_goal(-5)
        wait_status(goal, FINAL)
        record_property("measured_send_to_rejected_ms", round((time.monotonic() - t0) * 1000, 3))
        assert goal.status == "rejected"
        assert goal.result(timeout=5) is None
        assert list(goal.feedback()) == []
        assert client.send_goal(5).result(timeout=10) == 5  # the server goes on
    assert executed_by(server) == [5]


# The callback's exception goes to sys.unraisablehook by design (tested on its
# own below); here only the goal's fate is under test.
@pytest.mark.filterwarnings("ignore::pytest.PytestUnraisableExceptionWarning")
def test_an_accept_callback_that_raises_rejects_the_goal():
    def accept(goal):
        if goal == 13:
            raise ValueError("unlucky")
        return True

    with shm_action.ActionServer("unlucky", 0, 0, 0, lambda g: g.goal * 2,
                                 accept_callback=accept), \
            shm_action.ActionClient("unlucky", 0, 0, 0) as client:
        goal = client.send_goal(13)
        assert goal.result(timeout=10) is None
        assert goal.status == "rejected"
        assert client.send_goal(12).result(timeout=10) == 24


def test_an_accept_callback_exception_is_reported_to_sys_unraisablehook(monkeypatch):
    seen = []
    monkeypatch.setattr("sys.unraisablehook", seen.append)

    def accept(goal):
        raise ValueError("unlucky accept")

    with shm_action.ActionServer("unraisable_accept", 0, 0, 0, lambda g: g.goal,
                                 accept_callback=accept), \
            shm_action.ActionClient("unraisable_accept", 0, 0, 0) as client:
        assert client.send_goal(1).result(timeout=10) is None
    assert [type(u.exc_value) for u in seen] == [ValueError]
    assert str(seen[0].exc_value) == "unlucky accept"


def test_an_execute_callback_exception_aborts_the_goal_and_is_reported(monkeypatch):
    seen = []
    monkeypatch.setattr("sys.unraisablehook", seen.append)

    def execute(goal):
        raise KeyError("unlucky execute")

    with shm_action.ActionServer("unraisable_execute", 0, 0, 0, execute), \
            shm_action.ActionClient("unraisable_execute", 0, 0, 0) as client:
        goal = client.send_goal(1)
        assert goal.result(timeout=10) == 0  # the default result
        assert goal.status == "aborted"
    assert [type(u.exc_value) for u in seen] == [KeyError]


# ---- cancel --------------------------------------------------------------------------

SLOW_ACCEPT_SERVER = """
def accept(goal):
    log("accepting", goal)
    time.sleep(0.5)
    return True
def execute(g):
    return g.goal + 1
"""


def test_a_cancel_while_the_accept_callback_decides_ends_canceled_and_never_executes(
        spawn, record_property):
    server = server_child(spawn, "slowaccept", SLOW_ACCEPT_SERVER)
    with shm_action.ActionClient("slowaccept", 0, 0, 0) as client:
        goal = client.send_goal(1)
        server.wait_for("accepting 1")
        assert goal.status == "pending"
        t0 = time.monotonic()
        goal.cancel()
        record_property("measured_status_right_after_cancel_in_accept", goal.status)
        wait_status(goal, FINAL)
        record_property("measured_cancel_in_accept_to_canceled_ms",
                        round((time.monotonic() - t0) * 1000, 1))
        assert goal.status == "canceled"
        assert client.send_goal(2).result(timeout=10) == 3  # served after it
    assert executed_by(server) == [2]


BUSY_SERVER = """
def execute(g):
    if g.goal == 1:
        time.sleep(0.5)
    return g.goal * 10
"""


def test_a_cancel_of_a_goal_queued_behind_a_busy_server_ends_canceled_at_once(spawn):
    server = server_child(spawn, "queued", BUSY_SERVER)  # max_concurrent=1
    with shm_action.ActionClient("queued", 0, 0, 0) as client:
        first = client.send_goal(1)
        server.wait_for("exec 1")
        second = client.send_goal(2)
        time.sleep(0.05)
        assert second.status == "pending"
        second.cancel()
        assert second.status == "canceled"  # at once: nobody had taken it
        assert first.result(timeout=10) == 10
        assert first.status == "succeeded"
        assert client.send_goal(3).result(timeout=10) == 30
        assert second.status == "canceled"
    assert executed_by(server) == [1, 3]


def test_the_result_of_a_goal_canceled_before_acceptance_is_none_not_an_error():
    """The goal never ran, so it has no result: result() returns like a
    rejected goal's (None; the result default would do too) instead of
    failing to decode the 0 bytes of result the goal holds."""
    release = threading.Event()

    def execute(g):
        release.wait(10)
        return g.goal

    with shm_action.ActionServer("nores", 0, 0, 0, execute), \
            shm_action.ActionClient("nores", 0, 0, 0) as client:
        busy = client.send_goal(1)
        wait_status(busy, {"executing"})
        queued = client.send_goal(2)
        queued.cancel()
        assert queued.status == "canceled"
        try:
            result = queued.result(timeout=5)
        finally:
            release.set()
        assert result in (None, 0), result
        assert busy.result(timeout=10) == 1


def test_a_goal_whose_server_died_stays_aborted_with_peer_dead_error(spawn):
    """A goal whose server died while running it ends 'aborted' (the client
    ends it, or a new server does); its result() keeps raising PeerDeadError
    (the result never came), never a decoding error, also after a new server
    took the action over."""
    server = server_child(spawn, "orphaned", HANGING_SERVER)
    with shm_action.ActionClient("orphaned", 0, 0, 0) as client:
        goal = client.send_goal(1)
        server.wait_for("exec 1")
        server.proc.kill()
        server.wait(timeout=10)
        with pytest.raises(shm_action.PeerDeadError):
            goal.result(timeout=10)
        with shm_action.ActionServer("orphaned", 0, 0, 0, lambda g: g.goal):
            assert wait_status(goal, FINAL) == "aborted"
            with pytest.raises(shm_action.PeerDeadError):
                goal.result(timeout=5)


CANCELABLE_SERVER = """
def execute(g):
    n = 0
    while True:
        if g.cancel_requested:
            log("cancel seen", g.goal, n)
            g.canceled()
            return n          # the partial result
        n += 1
        time.sleep(0.01)
"""


def test_a_cancel_while_the_callback_runs_ends_canceled_with_the_partial_result(spawn):
    server = server_child(spawn, "cancelme", CANCELABLE_SERVER)
    with shm_action.ActionClient("cancelme", 0, 0, 0) as client:
        goal = client.send_goal(1)
        server.wait_for("exec 1")
        time.sleep(0.2)
        assert goal.status == "executing"
        goal.cancel()
        assert goal.status in {"canceling", "canceled"}
        partial = goal.result(timeout=10)
        assert goal.status == "canceled"
        (line,) = server.wait_for("cancel seen 1")
        assert partial == int(line.split()[-1]) and partial > 0, (partial, line)
        assert list(goal.feedback()) == []  # it published none
    assert executed_by(server) == [1]


STUBBORN_SERVER = """
def execute(g):
    time.sleep(0.5)                  # busy, not looking at cancel_requested
    log("cancel_requested", g.cancel_requested)
    return g.goal * 2                # and finishes anyway
"""


def test_a_cancel_the_server_ignores_lets_the_goal_end_succeeded(spawn):
    server = server_child(spawn, "stubborn", STUBBORN_SERVER)
    with shm_action.ActionClient("stubborn", 0, 0, 0) as client:
        goal = client.send_goal(21)
        server.wait_for("exec 21")
        goal.cancel()
        assert goal.status == "canceling"  # the server decides
        assert goal.result(timeout=10) == 42
        assert goal.status == "succeeded"
        server.wait_for("cancel_requested True")


# ---- how a callback ends a goal ------------------------------------------------------


# The callback's exception goes to sys.unraisablehook by design (tested on its
# own below); here only the goal's fate is under test.
@pytest.mark.filterwarnings("ignore::pytest.PytestUnraisableExceptionWarning")
def test_an_exception_in_the_execute_callback_aborts_the_goal_and_serving_goes_on():
    def execute(g):
        if g.goal == 1:
            raise ValueError("no can do")
        return g.goal + 1

    with shm_action.ActionServer("raises", 0, 0, -1, execute) as srv, \
            shm_action.ActionClient("raises", 0, 0, -1) as client:
        bad = client.send_goal(1)
        assert bad.result(timeout=10) == -1  # the result default
        assert bad.status == "aborted"
        good = client.send_goal(2)
        assert good.result(timeout=10) == 3
        assert good.status == "succeeded"
        assert "closed" not in repr(srv)


@pytest.mark.filterwarnings("ignore::pytest.PytestUnraisableExceptionWarning")  # wrong_type
@pytest.mark.parametrize("how, status, result", [
    ("return", "succeeded", 5),
    ("abort", "aborted", 5),
    ("wrong_type", "aborted", -1),
    ("canceled_without_request", "aborted", 5),
])
def test_how_the_callback_ends_the_goal_decides_its_final_status(how, status, result):
    def execute(g):
        if how == "abort":
            g.abort()
        elif how == "wrong_type":
            return "five"
        elif how == "canceled_without_request":
            g.canceled()  # no cancel was asked for: it cannot end canceled
        return 5

    with shm_action.ActionServer("ends", 0, 0, -1, execute), \
            shm_action.ActionClient("ends", 0, 0, -1) as client:
        goal = client.send_goal(0)
        assert goal.result(timeout=10) == result
        assert goal.status == status


# ---- concurrent goals ---------------------------------------------------------------

CONCURRENT_SERVER = """
lock = threading.Lock()
running = [0]
def execute(g):
    with lock:
        running[0] += 1
        log("running", running[0])
    try:
        for i in range(15):
            g.publish_feedback(g.goal * 1000 + i)
            time.sleep(0.01)
        return g.goal * 1000 + 999
    finally:
        with lock:
            running[0] -= 1
"""


def test_concurrent_goals_each_get_only_their_own_feedback(spawn, record_property):
    server = server_child(spawn, "many", CONCURRENT_SERVER, max_concurrent=3)
    values = [1, 2, 3, 4, 5, 6]
    with shm_action.ActionClient("many", 0, 0, 0) as client:
        goals = [client.send_goal(v) for v in values]
        readers = [in_thread(lambda g: list(g.feedback()), g) for g in goals]
        for t, _ in readers:
            t.join(30)
        for v, g, (_, box) in zip(values, goals, readers):
            seen = box.get("value", box.get("error"))
            assert isinstance(seen, list), seen
            assert seen and all(x // 1000 == v for x in seen), (v, seen)
            assert seen == sorted(set(seen)) and seen[-1] == v * 1000 + 14, (v, seen)
            assert len(seen) + g.feedback_skipped == 15, (v, seen, g.feedback_skipped)
        # results read one at a time, from this thread
        assert [g.result(timeout=10) for g in goals] == [v * 1000 + 999 for v in values]
        assert [g.status for g in goals] == ["succeeded"] * 6
        assert len({g.id for g in goals}) == 6
    peak = max(int(line.split()[1]) for line in server.lines() if line.startswith("running"))
    record_property("measured_peak_concurrent_goals", peak)
    assert peak == 3
    assert executed_by(server) == values


def test_goals_of_one_client_waited_on_from_several_threads_each_get_their_own_result():
    """One ActionClient, three goals finishing at the same moment, each
    handle's result() called on a thread of its own: every handle must get
    its own goal's result."""
    barrier = threading.Barrier(3)

    def execute(g):
        try:
            barrier.wait(2)  # the three goals end together
        except threading.BrokenBarrierError:
            pass
        return g.goal * 10

    wrong = []
    with shm_action.ActionServer("mixup", 0, 0, 0, execute, max_concurrent=3), \
            shm_action.ActionClient("mixup", 0, 0, 0) as client:
        for rnd in range(300):
            goals = [client.send_goal(rnd * 10 + i) for i in range(3)]
            waits = [in_thread(g.result, timeout=10) for g in goals]
            for t, _ in waits:
                t.join(20)
            for i, (_, box) in enumerate(waits):
                got = box.get("value", box.get("error"))
                if got != (rnd * 10 + i) * 10:
                    wrong.append((rnd * 10 + i, got))
            barrier.reset()
            if wrong:
                break
    assert wrong == [], f"(goal, result got) pairs: {wrong}"


# ---- dying servers and clients --------------------------------------------------------

HANGING_SERVER = """
def execute(g):
    time.sleep(60)
    return g.goal
"""


@pytest.mark.parametrize("stage", ["executing", "pending"])
def test_a_server_killed_mid_goal_makes_result_raise_peer_dead_error(stage, spawn,
                                                                      record_property):
    server = server_child(spawn, "victim", HANGING_SERVER)
    client = shm_action.ActionClient("victim", 0, 0, 0)
    running = client.send_goal(1)
    server.wait_for("exec 1")
    goal = running
    if stage == "pending":
        goal = client.send_goal(2)  # queued behind the hanging goal 1
        time.sleep(0.05)
    assert goal.status == stage
    t, box = in_thread(goal.result, timeout=30)
    time.sleep(0.1)
    killed = time.monotonic()
    server.proc.kill()
    server.wait(timeout=10)
    t.join(30)
    assert isinstance(box.get("error"), shm_action.PeerDeadError), box
    latency = box["t"] - killed
    record_property(f"measured_kill_to_peer_dead_error_ms_{stage}", round(latency * 1000, 1))
    assert latency < 1.0
    # a new server takes the action over; the goal that was running when its
    # server died ends aborted
    server_child(spawn, "victim", "def execute(g): return g.goal * 100\n")
    assert wait_status(running, FINAL) == "aborted"
    assert client.send_goal(3).result(timeout=10) == 300
    client.close()


CLIENT_CHILD = """
import time, shm_action
c = shm_action.ActionClient("orphan", 0, 0, 0)
g = c.send_goal(1)
print("sent", g.id, flush=True)
time.sleep(60)
"""


def test_a_client_killed_mid_goal_makes_the_callback_see_cancel_requested(spawn,
                                                                          record_property):
    started = threading.Event()
    seen = {}

    def execute(g):
        started.set()
        end = time.monotonic() + 20
        while time.monotonic() < end:
            if g.cancel_requested:
                seen[g.goal] = time.monotonic()
                g.canceled()
                return -1
            time.sleep(0.005)
        return 0

    with shm_action.ActionServer("orphan", 0, 0, 0, execute):
        child = spawn(python_args(CLIENT_CHILD))
        child.wait_for("sent")
        assert started.wait(10)
        time.sleep(0.1)
        killed = time.monotonic()
        child.proc.kill()
        child.wait(timeout=10)
        deadline = time.monotonic() + 10
        while 1 not in seen and time.monotonic() < deadline:
            time.sleep(0.005)
        assert 1 in seen, "the callback never saw cancel_requested"
        latency = seen[1] - killed
        record_property("measured_client_kill_to_cancel_requested_ms", round(latency * 1000, 1))
        assert latency < 1.0
        with shm_action.ActionClient("orphan", 0, 0, 0) as client:  # serving goes on
            started.clear()
            goal = client.send_goal(2)
            assert started.wait(10)
            goal.cancel()
            assert goal.result(timeout=10) == -1
            assert goal.status == "canceled"


# ---- close -------------------------------------------------------------------------


def test_close_with_a_running_goal_stops_its_callback_and_the_client_gets_aborted(
        record_property):
    told = {}

    def execute(g):
        n = 0
        while not g.cancel_requested:  # close() turns it true
            n += 1
            time.sleep(0.01)
        told["n"] = n
        g.canceled()
        return n

    srv = shm_action.ActionServer("closing", 0, 0, 0, execute)
    with shm_action.ActionClient("closing", 0, 0, 0) as client:
        running = client.send_goal(1)
        queued = client.send_goal(2)
        wait_status(running, {"executing"})
        time.sleep(0.1)
        t, box = in_thread(running.result, timeout=20)
        t0 = time.monotonic()
        srv.close()
        record_property("measured_close_with_running_goal_ms",
                        round((time.monotonic() - t0) * 1000, 1))
        t.join(20)
        assert "n" in told  # the callback was told to stop, and did
        assert running.status == "aborted"  # no client asked: it cannot end canceled
        assert box.get("value") == told["n"], box
        assert queued.result(timeout=5) is None
        assert queued.status == "rejected"
        with pytest.raises(shm_action.PeerDeadError):
            client.send_goal(3)
    assert repr(srv).endswith(", closed>")


# ---- the documented exceptions ----------------------------------------------------------


@pytest.mark.parametrize("which, client_defaults, names", [
    ("goal", (0.0, 0, ""), ("int64", "float64")),
    ("result", (0, 0, b""), ("string", "bytes")),
    ("feedback", (0, 0.0, ""), ("int64", "float64")),
])
def test_a_client_of_other_types_raises_type_mismatch_error_naming_them(
        which, client_defaults, names):
    with shm_action.ActionServer("typed", 0, 0, "", lambda g: ""):
        with pytest.raises(TypeError) as e:
            shm_action.ActionClient("typed", *client_defaults)
        assert isinstance(e.value, shm_action.TypeMismatchError)
        msg = str(e.value)
        assert "typed" in msg and all(n in msg for n in names), msg


def test_a_client_opened_before_a_server_of_other_types_gets_type_mismatch_error_on_send():
    client = shm_action.ActionClient("later", "", "", "")
    with shm_action.ActionServer("later", 0, 0, 0, lambda g: 0):
        with pytest.raises(shm_action.TypeMismatchError) as e:
            client.send_goal("x")
        assert "int64" in str(e.value) and "string" in str(e.value), str(e.value)
    client.close()


def test_sending_to_an_action_that_does_not_exist_raises_file_not_found_error_at_once(
        record_property):
    client = shm_action.ActionClient("nobody/home", 0, 0, 0)
    t0 = time.monotonic()
    with pytest.raises(FileNotFoundError) as e:
        client.send_goal(1, timeout=5.0)
    took = time.monotonic() - t0
    record_property("measured_unknown_action_ms", round(took * 1000, 3))
    assert isinstance(e.value, shm_action.TopicNotFoundError)
    assert "nobody/home" in str(e.value)
    assert took < 1.0
    client.close()


@pytest.mark.parametrize("client_max", [None, 16], ids=["client_default_max", "client_max_16"])
def test_an_oversized_str_goal_raises_value_error_and_is_not_sent(client_max):
    got = []
    kw = {} if client_max is None else {"max_goal_size": client_max}
    with shm_action.ActionServer("small", "", 0, 0, lambda g: got.append(g.goal) or len(g.goal),
                                 max_goal_size=16), \
            shm_action.ActionClient("small", "", 0, 0, **kw) as client:
        first = client.send_goal("x" * 16)
        assert first.result(timeout=10) == 16
        with pytest.raises(ValueError) as e:
            client.send_goal("x" * 17)
        assert isinstance(e.value, shm_action.InvalidArgumentError)
        assert "16" in str(e.value), str(e.value)
        with pytest.raises(ValueError):
            client.send_goal("\u00e9" * 9)  # 18 bytes of UTF-8
        nxt = client.send_goal("ok")
        assert nxt.result(timeout=10) == 2
        assert nxt.id == first.id + 1  # nothing was sent in between
    assert got == ["x" * 16, "ok"]


@pytest.mark.parametrize("bad", ["7", 7.5, None, [7], b"7"], ids=["str", "float", "None",
                                                                   "list", "bytes"])
def test_a_goal_of_the_wrong_type_raises_type_error_and_is_not_sent(bad):
    got = []
    with shm_action.ActionServer("strict", 0, 0, 0, lambda g: got.append(g.goal) or g.goal), \
            shm_action.ActionClient("strict", 0, 0, 0) as client:
        first = client.send_goal(1)
        assert first.result(timeout=10) == 1
        with pytest.raises(TypeError) as e:
            client.send_goal(bad)
        assert isinstance(e.value, shm_action.TypeMismatchError)
        assert "int64" in str(e.value), str(e.value)
        nxt = client.send_goal(2)
        assert nxt.result(timeout=10) == 2
        assert nxt.id == first.id + 1
    assert got == [1, 2]


def test_cancel_of_a_finished_goal_raises_value_error_and_it_stays_as_it_ended():
    with shm_action.ActionServer("done", 0, 0, 0, lambda g: g.goal,
                                 accept_callback=lambda goal: goal >= 0), \
            shm_action.ActionClient("done", 0, 0, 0) as client:
        done = client.send_goal(3)
        assert done.result(timeout=10) == 3
        with pytest.raises(ValueError) as e:
            done.cancel()
        assert isinstance(e.value, shm_action.InvalidArgumentError)
        assert "succeeded" in str(e.value), str(e.value)
        assert done.status == "succeeded"
        assert done.result(timeout=1) == 3
        rejected = client.send_goal(-1)
        assert rejected.result(timeout=10) is None
        with pytest.raises(shm_action.InvalidArgumentError):
            rejected.cancel()
        assert rejected.status == "rejected"


def test_feedback_iteration_ends_when_the_goal_ends():
    def execute(g):
        for i in range(3):
            g.publish_feedback(i)
            time.sleep(0.03)
        time.sleep(0.1)  # no feedback for a while before the end
        return 9

    with shm_action.ActionServer("fbend", 0, 0, 0, execute), \
            shm_action.ActionClient("fbend", 0, 0, 0) as client:
        goal = client.send_goal(1)
        seen = list(goal.feedback())
        assert seen and seen[-1] == 2 and seen == sorted(set(seen)), seen
        assert goal.status == "succeeded"
        assert list(goal.feedback()) == []  # ended: nothing more, at once
        with pytest.raises(StopIteration):
            goal.next_feedback(timeout=5)
        assert goal.result() == 9


def test_next_feedback_without_feedback_in_time_raises_timeout_error():
    release = threading.Event()
    with shm_action.ActionServer("quiet", 0, 0, 0, lambda g: release.wait(10) and 1), \
            shm_action.ActionClient("quiet", 0, 0, 0) as client:
        goal = client.send_goal(1)
        try:
            with pytest.raises(TimeoutError) as e:
                goal.next_feedback(timeout=0.2)
            assert isinstance(e.value, shm_action.WaitTimeoutError)
        finally:
            release.set()
        assert goal.result(timeout=10) == 1


def test_result_without_an_end_in_time_raises_timeout_error_and_the_goal_goes_on():
    release = threading.Event()

    def execute(g):
        release.wait(10)
        return g.goal * 3

    with shm_action.ActionServer("slow", 0, 0, 0, execute), \
            shm_action.ActionClient("slow", 0, 0, 0) as client:
        goal = client.send_goal(4)
        try:
            with pytest.raises(TimeoutError) as e:
                goal.result(timeout=0.2)
            assert isinstance(e.value, shm_action.WaitTimeoutError)
            assert goal.status == "executing"
        finally:
            release.set()
        assert goal.result(timeout=10) == 12
        assert goal.status == "succeeded"


def test_a_negative_or_nan_timeout_raises_value_error():
    with shm_action.ActionServer("badtimeout", 0, 0, 0, lambda g: 0), \
            shm_action.ActionClient("badtimeout", 0, 0, 0) as client:
        goal = client.send_goal(1)
        for bad in (-1, float("nan")):
            with pytest.raises(ValueError):
                goal.result(timeout=bad)
        with pytest.raises(TypeError):
            goal.result(timeout="1")
        assert goal.result(timeout=10) == 0


CTRL_C_CHILD = """
import signal, time, shm_action
# Ctrl-C raises KeyboardInterrupt even if this child was started with SIGINT
# ignored (as background jobs of a non-interactive shell are)
signal.signal(signal.SIGINT, signal.default_int_handler)
c = shm_action.ActionClient("ctrlc", 0, 0, 0)
g = c.send_goal(1)
print("ready", flush=True)
try:
    {call}
except KeyboardInterrupt:
    print("interrupted", time.monotonic_ns(), flush=True)
    raise
except BaseException as e:
    print("raised", type(e).__name__, e, time.monotonic_ns(), flush=True)
    raise
print("returned", flush=True)
"""


@pytest.mark.parametrize("what, call", [
    ("result", "g.result()"),
    ("result_timeout_30", "g.result(timeout=30)"),
    ("feedback", "list(g.feedback())"),
], ids=["result", "result_timeout_30", "feedback"])
def test_ctrl_c_in_a_child_blocked_on_a_goal_raises_keyboard_interrupt(what, call, spawn,
                                                                       record_property):
    started = threading.Event()

    def execute(g):  # never ends on its own; the child's death cancels it
        started.set()
        while not g.cancel_requested:
            time.sleep(0.01)
        g.canceled()
        return 0

    with shm_action.ActionServer("ctrlc", 0, 0, 0, execute):
        child = spawn(python_args(CTRL_C_CHILD.format(call=call)))
        child.wait_for("ready")
        assert started.wait(10)
        time.sleep(0.3)  # let it block
        assert child.proc.poll() is None
        sent = time.monotonic_ns()
        child.proc.send_signal(signal.SIGINT)
        status = child.wait(timeout=10)
    line = (child.lines() or [""])[-1]
    assert line.startswith("interrupted"), (line, child.stderr())
    ms = (int(line.split()[-1]) - sent) / 1e6
    record_property(f"measured_ctrl_c_latency_ms_{what}", round(ms, 3))
    assert status == -signal.SIGINT
    assert child.stderr().rstrip().endswith("KeyboardInterrupt")
    assert ms < 1000.0


# ---- stress ---------------------------------------------------------------------------

STRESS_CLIENT = """
import json, random, sys, time, shm_action
proc, n, seed = map(int, sys.argv[1:4])
rng = random.Random(seed * 1000 + proc)
c = shm_action.ActionClient("stress", 0, 0, 0)
out = []
i = 0
while i < n:
    batch = []
    for _ in range(min(rng.randint(1, 4), n - i)):
        goal = proc * 1000 + i
        i += 1
        batch.append([goal, c.send_goal(goal, timeout=30), rng.random() < 0.3,
                      rng.choice([0.0, 0.0005, 0.002, 0.005, 0.01]), None])
    for b in batch:
        if b[2]:
            time.sleep(b[3])
            try:
                b[1].cancel()
                b[4] = "sent"
            except shm_action.InvalidArgumentError:
                b[4] = "late"          # it had ended already
    for goal, h, cancel, delay, how in batch:
        fbs = list(h.feedback())       # until it ends (its result not read yet)
        status = h.status
        try:
            res, err = h.result(timeout=30), None
        except Exception as e:
            res, err = None, type(e).__name__
        out.append([goal, h.id, status, res, err, how, fbs])
print("OUT", json.dumps(out), flush=True)
"""


def test_stress_eight_processes_fifty_goals_each_with_random_cancels(spawn, record_property):
    procs, per_proc, seed = 8, 50, 20240607
    lock = threading.Lock()
    executed = {}  # goal -> how the callback ended it
    state = {"running": 0, "peak": 0}

    def execute(g):
        with lock:
            state["running"] += 1
            state["peak"] = max(state["peak"], state["running"])
            assert g.goal not in executed, g.goal
            executed[g.goal] = "running"
        try:
            for k in range(3):
                if g.cancel_requested:
                    executed[g.goal] = "canceled"
                    g.canceled()
                    return -g.goal
                g.publish_feedback(g.goal * 10 + k)
                time.sleep(0.002)
            executed[g.goal] = "succeeded"
            return g.goal * 3 + 1
        finally:
            with lock:
                state["running"] -= 1

    with shm_action.ActionServer("stress", 0, 0, 0, execute, max_concurrent=4):
        t0 = time.monotonic()
        children = [spawn(python_args(STRESS_CLIENT) + [str(p), str(per_proc), str(seed)])
                    for p in range(procs)]
        for c in children:
            assert c.wait(timeout=90) == 0, c.stderr()
        record_property("measured_stress_8x50_goals_s", round(time.monotonic() - t0, 3))
    records = []
    for c in children:
        (line,) = c.wait_for("OUT", timeout=0)
        records += json.loads(line.split(" ", 1)[1])
    sent = {p * 1000 + i for p in range(procs) for i in range(per_proc)}
    by_goal = {r[0]: r for r in records}
    assert len(records) == len(sent) and set(by_goal) == sent  # nothing lost
    assert len({r[1] for r in records}) == len(records)  # ids unique
    statuses = {}
    for goal, gid, status, res, err, how, fbs in records:
        statuses[status] = statuses.get(status, 0) + 1
        assert status in FINAL, (goal, status)
        assert all(f // 10 == goal for f in fbs), (goal, fbs)  # its own feedback only
        if how is None or how == "late":  # no cancel reached it while it was live
            assert status == "succeeded", (goal, status, how)
        else:
            assert status in {"succeeded", "canceled"}, (goal, status, how)
        if status == "succeeded":
            assert (res, err) == (goal * 3 + 1, None), (goal, res, err)
            assert executed.get(goal) == "succeeded", (goal, executed.get(goal))
        elif goal in executed:  # canceled while the callback ran
            assert executed[goal] == "canceled", (goal, executed[goal])
            assert (res, err) == (-goal, None), (goal, res, err)
    assert set(executed) <= sent
    assert all(by_goal[g][2] == how for g, how in executed.items()), \
        [(g, how, by_goal[g][2]) for g, how in executed.items() if by_goal[g][2] != how]
    record_property("measured_stress_statuses", json.dumps(statuses, sort_keys=True))
    early = [r for r in records if r[2] == "canceled" and r[0] not in executed]
    record_property("measured_stress_canceled_before_running", len(early))
    errors = {}
    for r in early:  # their result: see test_the_result_of_a_goal_canceled_before_...
        errors[r[4] or repr(r[3])] = errors.get(r[4] or repr(r[3]), 0) + 1
    record_property("measured_stress_results_of_goals_canceled_before_running",
                    json.dumps(errors, sort_keys=True))
    assert 1 <= state["peak"] <= 4, state


# ---- handles after their goal ended ----------------------------------------------------


def test_a_handle_still_tells_how_its_goal_ended_after_more_goals_were_sent():
    """h.result() then h.status is the documented way to learn how a goal
    ended; more goals sent meanwhile (here: by the same client, after all
    64 slots were used once) must not make the handle forget it."""
    with shm_action.ActionServer("many_goals", 0, 0, 0, lambda g: g.goal + 1), \
            shm_action.ActionClient("many_goals", 0, 0, 0) as client:
        first = client.send_goal(0)
        assert first.result(timeout=10) == 1
        for v in range(1, 70):
            assert client.send_goal(v).result(timeout=10) == v + 1
        assert first.status == "succeeded"
        assert first.result(timeout=1) == 1
        assert repr(first).endswith(" succeeded>")


# ---- one server per action ------------------------------------------------------------


def test_a_second_server_of_the_same_action_raises_busy_error_and_after_close_one_opens():
    first = shm_action.ActionServer("single", 0, 0, 0, lambda g: 1)
    with pytest.raises(shm_action.Error, match="live server"):
        shm_action.ActionServer("single", 0, 0, 0, lambda g: 2)
    with shm_action.ActionClient("single", 0, 0, 0) as client:
        assert client.send_goal(0).result(timeout=10) == 1
        first.close()
        with shm_action.ActionServer("single", 0, 0, 0, lambda g: 2):
            assert client.send_goal(0).result(timeout=10) == 2  # the same client


# ---- close, context managers, repr, docstrings -------------------------------------------


def test_context_managers_close_server_and_client():
    with shm_action.ActionServer("ctx", 0, 0, 0, lambda g: g.goal) as srv:
        with shm_action.ActionClient("ctx", 0, 0, 0) as client:
            goal = client.send_goal(5)
            assert goal.result(timeout=10) == 5
            assert "closed" not in repr(client)
        assert repr(client).endswith(", closed>")
        with pytest.raises(shm_action.Error, match="closed"):
            client.send_goal(1)
        # a handle keeps what it learned: the final status and result it read
        assert goal.status == "succeeded"
        assert goal.result(timeout=1) == 5
        client.close()  # twice is fine
    assert repr(srv).endswith(", closed>")
    srv.close()  # twice is fine


def test_closing_a_client_cancels_its_unfinished_goals():
    started = threading.Event()
    ended = {}

    def execute(g):
        started.set()
        end = time.monotonic() + 10
        while time.monotonic() < end:
            if g.cancel_requested:
                ended["canceled"] = True
                g.canceled()
                return 0
            time.sleep(0.005)
        return 1

    with shm_action.ActionServer("detach", 0, 0, 0, execute):
        client = shm_action.ActionClient("detach", 0, 0, 0)
        client.send_goal(1)
        assert started.wait(10)
        client.close()
        deadline = time.monotonic() + 5
        while "canceled" not in ended and time.monotonic() < deadline:
            time.sleep(0.005)
        assert ended == {"canceled": True}


def test_repr_names_the_action_the_goal_id_and_status():
    srv = shm_action.ActionServer("repr/me", 0, 0, 0, lambda g: g.goal,
                                  accept_callback=lambda goal: goal != 0)
    client = shm_action.ActionClient("repr/me", 0, 0, 0)
    assert repr(srv) == "<shm_action.ActionServer 'repr/me'>"
    assert repr(client) == "<shm_action.ActionClient 'repr/me'>"
    goal = client.send_goal(4)
    goal.result(timeout=10)
    assert repr(goal) == f"<shm_action.ClientGoalHandle id={goal.id} succeeded>"
    rejected = client.send_goal(0)
    rejected.result(timeout=10)
    assert repr(rejected) == f"<shm_action.ClientGoalHandle id={rejected.id} rejected>"
    client.close()
    srv.close()
    assert repr(srv) == "<shm_action.ActionServer 'repr/me', closed>"
    assert repr(client) == "<shm_action.ActionClient 'repr/me', closed>"


def test_the_server_goal_handle_shows_the_goal_and_its_id():
    seen = []

    def execute(g):
        seen.append((type(g).__name__, g.goal, g.id, g.cancel_requested))
        return 0

    with shm_action.ActionServer("handle", "", 0, 0, execute), \
            shm_action.ActionClient("handle", "", 0, 0) as client:
        goal = client.send_goal("héllo")
        goal.result(timeout=10)
        assert seen == [("ServerGoalHandle", "héllo", goal.id, False)]


def test_the_module_classes_and_methods_have_docstrings():
    assert "feedback" in shm_action.__doc__ and "cancel" in shm_action.__doc__
    for st in ("pending", "accepted", "executing", "canceling", "succeeded", "canceled",
               "aborted", "rejected"):
        assert f"'{st}'" in shm_action.__doc__, st
        assert getattr(shm_action, st.upper()) == st
    assert shm_action.FINAL == frozenset(FINAL)
    for cls in (shm_action.ActionServer, shm_action.ActionClient, shm_action.ServerGoalHandle,
                shm_action.ClientGoalHandle):
        assert cls.__doc__, cls
    assert list(inspect.signature(shm_action.ActionServer).parameters)[:5] == \
        ["name", "goal_default", "feedback_default", "result_default", "execute_callback"]
    params = inspect.signature(shm_action.ActionServer).parameters
    assert params["accept_callback"].default is None
    assert params["max_concurrent"].default == 1
    assert list(inspect.signature(shm_action.ActionClient).parameters)[:4] == \
        ["name", "goal_default", "feedback_default", "result_default"]
    assert inspect.signature(shm_action.ActionClient.send_goal).parameters["timeout"].default \
        == 5.0
    assert inspect.signature(shm_action.ClientGoalHandle.result).parameters["timeout"].default \
        is None
    for meth in ("serve_forever", "close"):
        assert getattr(shm_action.ActionServer, meth).__doc__, meth
    for meth in ("send_goal", "close"):
        assert getattr(shm_action.ActionClient, meth).__doc__, meth
    for meth in ("publish_feedback", "canceled", "abort", "goal", "id", "cancel_requested"):
        assert getattr(shm_action.ServerGoalHandle, meth).__doc__, meth
    for meth in ("feedback", "next_feedback", "result", "cancel", "status", "id",
                 "feedback_skipped"):
        assert getattr(shm_action.ClientGoalHandle, meth).__doc__, meth
    assert shm_action.unlink.__doc__
    for exc in ("PeerDeadError", "WaitTimeoutError", "TypeMismatchError", "TopicNotFoundError",
                "InvalidArgumentError"):
        cls = getattr(shm_action, exc)
        assert issubclass(cls, shm_action.Error) and cls.__doc__, exc
    assert issubclass(shm_action.WaitTimeoutError, TimeoutError)
    assert issubclass(shm_action.TopicNotFoundError, FileNotFoundError)
    assert issubclass(shm_action.TypeMismatchError, TypeError)
    assert issubclass(shm_action.InvalidArgumentError, ValueError)


NEW_HANDLE_CHILD = """
import shm_action
for cls, attrs in ((shm_action.ServerGoalHandle, ("goal", "id", "cancel_requested")),
                   (shm_action.ClientGoalHandle, ("id", "status", "feedback_skipped"))):
    try:
        h = cls()
    except TypeError as e:
        print(cls.__name__, "TypeError", e, flush=True)
        continue
    print(cls.__name__, "made", flush=True)
    for a in attrs:
        try:
            getattr(h, a)
            print(cls.__name__, a, "read", flush=True)
        except Exception as e:
            print(cls.__name__, a, type(e).__name__, flush=True)
"""


def test_goal_handles_cannot_be_made_by_hand(spawn):
    """Only send_goal() and the server make goal handles: calling the
    classes raises TypeError (in a child: a handle made anyway and then
    used could crash the interpreter)."""
    child = spawn(python_args(NEW_HANDLE_CHILD))
    status = child.wait(timeout=30)
    assert status == 0, (status, child.stdout(), child.stderr())
    lines = child.lines()
    assert [line.split()[:2] for line in lines] == \
        [["ServerGoalHandle", "TypeError"], ["ClientGoalHandle", "TypeError"]], lines


def test_unlink_removes_the_segment_and_a_missing_one_raises_topic_not_found_error(domain):
    with shm_action.ActionServer("gone/away", 0, 0, 0, lambda g: 0):
        pass
    assert os.path.exists(f"/dev/shm/hcm.{domain}.a.gone:away")
    shm_action.unlink("gone/away")
    assert not os.path.exists(f"/dev/shm/hcm.{domain}.a.gone:away")
    with pytest.raises(shm_action.TopicNotFoundError):
        shm_action.unlink("gone/away")
