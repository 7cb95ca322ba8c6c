"""The `hcm` command-line tool (tools/cli/main.c), driven as a user would:
the real binary in a subprocess, its output, its exit code (0 ok, 1 failure
or not found, 2 usage) and what it leaves in /dev/shm.

Peers are made with the Python package (in this process or in a child
process) and with `hcm pub` itself. The binary is $HCM_CLI, else
build/tools/hcm (support.find_cli); a missing binary fails every test
(`make test` builds it first). No test asserts a duration: every wait is
for an event (a line of output, a peer in `hcm info`), bounded by a timeout.
"""
import json
import os
import signal
import subprocess
import threading
import time

import numpy as np
import pytest

import shm_action
import shm_pub_sub
import shm_service
from support import child_env, feed_until, find_cli, python_args

pytestmark = pytest.mark.timeout(60)

TIMEOUT = 30  # seconds, for every subprocess call

COMMANDS = ["list", "info", "echo", "hz", "bw", "pub", "call", "send-goal", "clean", "unlink",
            "top"]


# ---- running the tool ------------------------------------------------------------


def cli():
    """The binary; fails the calling test (not a skip) when there is none."""
    path = find_cli()
    if path is None or not (path.is_file() and os.access(path, os.X_OK)):
        pytest.fail(
            f"the hcm command-line tool is missing ({path or 'build/tools/hcm'}): build it with "
            "`cmake --build build --target hcm_cli` (`make test` does) or point $HCM_CLI at it",
            pytrace=False,
        )
    return str(path)


def hcm(*args, timeout=TIMEOUT):
    """Runs `hcm ARGS` to its end in the test's domain; the CompletedProcess."""
    return subprocess.run(
        [cli(), *map(str, args)], stdin=subprocess.DEVNULL, capture_output=True, text=True,
        encoding="utf-8", errors="replace", env=child_env(), timeout=timeout,
    )


def show(r):
    return f"{r.args!r}: exit {r.returncode}\n--- stdout ---\n{r.stdout}--- stderr ---\n{r.stderr}"


def ok(*args, timeout=TIMEOUT):
    """`hcm ARGS`, which must exit 0; the CompletedProcess."""
    r = hcm(*args, timeout=timeout)
    assert r.returncode == 0, show(r)
    return r


def ok_json(*args):
    """The JSON document `hcm ARGS` prints (it must exit 0)."""
    r = ok(*args)
    try:
        return json.loads(r.stdout)
    except ValueError as e:
        raise AssertionError(f"not JSON ({e}): {show(r)}") from None


def json_lines(r):
    """One JSON value per non-empty stdout line."""
    try:
        return [json.loads(line) for line in r.stdout.splitlines() if line.strip()]
    except ValueError as e:
        raise AssertionError(f"not JSON lines ({e}): {show(r)}") from None


def fails(code, *args, timeout=TIMEOUT):
    """`hcm ARGS`, which must exit `code` (1 or 2) with a message on stderr."""
    r = hcm(*args, timeout=timeout)
    assert r.returncode == code, show(r)
    assert r.stderr.strip(), show(r)
    return r


def start(spawn, *args):
    """`hcm ARGS` in the background (a support.Child, stopped at the end)."""
    return spawn([cli(), *map(str, args)])


def wait_until(pred, what, timeout=15.0):
    """Polls pred() until it returns something true; returns that."""
    deadline = time.monotonic() + timeout
    while True:
        value = pred()
        if value:
            return value
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.02)


def info(name, *extra):
    return ok_json("info", name, "--json", *extra)


def wait_peers(name, what, **want):
    """Waits until `hcm info NAME --json` has fields >= want (e.g. subscribers=1)."""
    def check():
        r = hcm("info", name, "--json")
        if r.returncode != 0:
            return None
        d = json.loads(r.stdout)
        return d if all(d.get(k, -1) >= v for k, v in want.items()) else None

    return wait_until(check, what)


def row(r, *first):
    """The line of a table whose first words are `first`."""
    found = [line for line in r.stdout.splitlines() if line.split()[:len(first)] == list(first)]
    assert len(found) == 1, f"{len(found)} rows {first}: {show(r)}"
    return found[0]


def seg(domain, kind, name):
    """The /dev/shm path of a segment: kind 't', 's' or 'a'."""
    return f"/dev/shm/hcm.{domain}.{kind}.{name}"


def create_topic(name, value, type_):
    """Creates a topic with `hcm pub` (which exits: the topic is then stale)."""
    ok("pub", name, value, "--type", type_, "-q")


def write_garbage(domain, name, size=5000):
    path = seg(domain, "t", name)
    with open(path, "wb") as f:
        f.write(bytes((i * 37 + 11) % 256 for i in range(size)))
    return path


# ---- child processes ---------------------------------------------------------------

SUBSCRIBER_CHILD = """
import os, signal, sys, time, shm_pub_sub
signal.signal(signal.SIGTERM, lambda *a: sys.exit(0))
sub = shm_pub_sub.Subscriber(sys.argv[1], 0)
print("ready", os.getpid(), flush=True)
while True:
    time.sleep(0.05)
"""

# Publishes once and dies without closing anything.
DYING_PUBLISHER_CHILD = """
import os, sys, shm_pub_sub
pub = shm_pub_sub.Publisher(sys.argv[1], 0)
pub.publish(7)
print("published", os.getpid(), flush=True)
os._exit(0)
"""

# A service server that dies without closing.
DYING_SERVER_CHILD = """
import os, sys, shm_service
srv = shm_service.ServiceServer(sys.argv[1], lambda x: x, 0, 0)
print("ready", os.getpid(), flush=True)
os._exit(0)
"""

# An action server that dies without closing.
DYING_ACTION_SERVER_CHILD = """
import os, sys, shm_action
srv = shm_action.ActionServer(sys.argv[1], 0, 0, 0, lambda g: 0)
print("ready", os.getpid(), flush=True)
os._exit(0)
"""


def subscriber_child(spawn, topic):
    child = spawn(python_args(SUBSCRIBER_CHILD) + [topic])
    line = child.wait_for("ready", timeout=20)[0]
    return child, int(line.split()[1])


def run_child(spawn, code, *args):
    """Runs a Python child to its end; returns its pid."""
    child = spawn(python_args(code) + list(args))
    assert child.wait(timeout=TIMEOUT) == 0, child.stderr()
    return child.pid


# ---- fixtures ---------------------------------------------------------------------


@pytest.fixture(autouse=True)
def segments(domain):
    """Removes every segment of the test's domain (and of its second domain,
    <domain>b) at the end, after the children of `spawn` are gone (set up
    first, torn down last), before conftest's leftover check."""
    yield domain
    for d in (domain, domain + "b"):
        prefix = f"hcm.{d}."
        for entry in os.listdir("/dev/shm"):
            if entry.startswith(prefix):
                try:
                    os.unlink(os.path.join("/dev/shm", entry))
                except FileNotFoundError:
                    pass


@pytest.fixture
def rate_topic(spawn):
    """Topic T: int64 published at 200 Hz by a background `hcm pub`."""
    start(spawn, "pub", "T", 1, "--type", "int64", "--rate", 200)
    wait_peers("T", "hcm pub to publish on T", publishers=1, publish_count=3)
    return "T"


@pytest.fixture
def adder():
    """Service 'add' (int64[2] -> their sum, int64), served from this process."""
    with shm_service.ServiceServer("add", lambda a: int(a.sum()), np.zeros(2, np.int64), 0):
        yield "add"


# ---- help, version, usage errors ----------------------------------------------------


def test_help_prints_usage_and_every_command():
    r = ok("--help")
    assert r.stdout.startswith("Usage:"), show(r)
    for cmd in COMMANDS:
        assert f"  {cmd}" in r.stdout, cmd


def test_version_prints_the_version():
    r = ok("--version")
    assert r.stdout.startswith("hcm "), show(r)
    assert r.stdout.split()[1][0].isdigit(), show(r)
    assert ok("-V").stdout == r.stdout


@pytest.mark.parametrize("cmd", COMMANDS)
def test_help_of_each_command_prints_its_usage(cmd):
    for flag in ("--help", "-h"):
        r = ok(cmd, flag)
        assert r.stdout.startswith(f"Usage: hcm [-d DOMAIN] {cmd}"), show(r)


def test_no_command_prints_usage_on_stderr_and_exits_2():
    r = fails(2)
    assert "Usage:" in r.stderr and r.stdout == ""


def test_unknown_command_exits_2_naming_it():
    r = fails(2, "frobnicate")
    assert "unknown command 'frobnicate'" in r.stderr, show(r)


@pytest.mark.parametrize("args, bad", [(["--bogus", "list"], "--bogus"),
                                       (["list", "--bogus"], "--bogus"),
                                       (["echo", "t", "-x"], "-x")])
def test_unknown_option_exits_2_naming_it(args, bad):
    r = fails(2, *args)
    assert f"unknown option '{bad}'" in r.stderr, show(r)


def test_an_invalid_domain_exits_2():
    r = fails(2, "-d", "bad domain!", "list")
    assert "not a valid domain" in r.stderr, show(r)


def test_domain_option_selects_the_domain(domain):
    other = domain + "b"  # removed by the `segments` fixture
    ok("--domain=" + other, "pub", "t", 1, "--type", "int64", "-q")
    assert [(e["domain"], e["name"]) for e in ok_json("-d", other, "list", "--json")] == \
        [(other, "t")]
    assert ok_json("list", "--json") == []  # $HCM_DOMAIN's


def test_domain_option_without_a_value_exits_2():
    fails(2, "-d")


def test_a_missing_argument_exits_2():
    r = fails(2, "info")
    assert "NAME is missing" in r.stderr, show(r)


# The fields docs/cli.md promises in `list --json`: every entry's, and each kind's.
COMMON_FIELDS = {"kind", "domain", "name", "state", "stale", "error", "size", "mode", "uid"}
KIND_FIELDS = {
    "topic": {"type", "slots", "max_payload", "publishers", "owners", "owners_alive",
              "subscribers", "publish_count", "last_publish_age_s", "max_lag", "lost",
              "lock_steals", "create_time_ns"},
    "service": {"request_type", "response_type", "request_max", "response_max", "slots",
                "server_pid", "server_alive", "server_generation", "calls_sent",
                "calls_answered", "pending", "in_progress", "clients_alive", "create_time_ns"},
    "action": {"goal_type", "feedback_type", "result_type", "goal_max", "feedback_max",
               "result_max", "slots", "server_pid", "server_alive", "server_generation",
               "goals_sent", "pending", "active", "finished", "clients_alive",
               "create_time_ns"},
}


# ---- list ----------------------------------------------------------------------------


def test_list_of_an_empty_domain_says_so(domain):
    assert ok("list").stdout == f"nothing in domain {domain}\n"
    assert ok_json("list", "--json") == []


def test_list_shows_a_topic_a_service_and_an_action_with_kind_and_type(adder):
    create_topic("t", 1.5, "float64")
    with shm_action.ActionServer("act", 0, 0, 0, lambda g: g.goal):
        r = ok("list")
    header, *rows = r.stdout.splitlines()
    assert {"KIND", "NAME", "TYPE", "STATE"} <= set(header.split()), show(r)
    assert len(rows) == 3, show(r)
    assert "float64" in row(r, "topic", "t").split()
    assert "stale" in row(r, "topic", "t").split()
    assert "int64[2] -> int64" in row(r, "service", "add")
    assert "live" in row(r, "service", "add").split()
    assert "int64 / int64 / int64" in row(r, "action", "act")


def test_list_json_has_the_documented_fields(domain, adder):
    create_topic("t", 1.5, "float64")
    with shm_action.ActionServer("act", 0, 0, 0, lambda g: g.goal):
        entries = ok_json("list", "--json")
    by = {(e["kind"], e["name"]): e for e in entries}
    assert set(by) == {("topic", "t"), ("service", "add"), ("action", "act")}
    for (kind, _), e in by.items():
        assert set(e) >= COMMON_FIELDS | KIND_FIELDS[kind], (kind, e)
    t = by["topic", "t"]
    assert (t["domain"], t["type"], t["slots"], t["max_payload"]) == (domain, "float64", 3, 8)
    assert (t["state"], t["stale"], t["error"]) == ("stale", True, None)  # `hcm pub` exited
    assert (t["publishers"], t["subscribers"], t["publish_count"]) == (0, 0, 1)
    assert t["last_publish_age_s"] >= 0
    s = by["service", "add"]
    assert (s["request_type"], s["response_type"]) == ("int64[2]", "int64")
    assert (s["state"], s["server_pid"], s["server_alive"]) == ("live", os.getpid(), True)
    a = by["action", "act"]
    assert (a["goal_type"], a["feedback_type"], a["result_type"]) == ("int64",) * 3
    assert (a["state"], a["server_pid"], a["server_alive"]) == ("live", os.getpid(), True)


def test_list_is_sorted_by_kind_then_name(adder):
    for name in ("b", "a"):
        create_topic(name, 1, "int64")
    with shm_action.ActionServer("act", 0, 0, 0, lambda g: g.goal):
        entries = ok_json("list", "--json")
        human = ok("list").stdout
    order = [("topic", "a"), ("topic", "b"), ("service", "add"), ("action", "act")]
    assert [(e["kind"], e["name"]) for e in entries] == order
    assert [tuple(line.split()[:2]) for line in human.splitlines()[1:]] == order, human


def test_list_kind_service_shows_only_services(adder):
    create_topic("t", 1, "int64")
    with shm_action.ActionServer("act", 0, 0, 0, lambda g: g.goal):
        entries = ok_json("list", "--kind", "service", "--json")
        human = ok("list", "-k", "service").stdout
    assert [(e["kind"], e["name"]) for e in entries] == [("service", "add")]
    assert [line.split()[0] for line in human.splitlines()[1:]] == ["service"], human


def test_list_kind_rejects_an_unknown_kind():
    r = fails(2, "list", "--kind", "queue")
    assert "queue" in r.stderr, show(r)


def test_list_marks_a_topic_whose_publisher_process_died_stale(spawn):
    run_child(spawn, DYING_PUBLISHER_CHILD, "t")
    (e,) = ok_json("list", "--json")
    assert (e["name"], e["type"], e["state"], e["stale"]) == ("t", "int64", "stale", True)
    assert (e["owners"], e["owners_alive"], e["publishers"]) == (1, 0, 0)
    assert "stale" in row(ok("list"), "topic", "t").split()


def test_list_all_domains_shows_entries_of_two_domains(domain):
    other = domain + "b"  # removed by the `segments` fixture
    create_topic("a", 1, "int64")
    ok("-d", other, "pub", "b", 2, "--type", "int64", "-q")
    mine = {(e["domain"], e["name"]) for e in ok_json("list", "--all-domains", "--json")}
    assert {(domain, "a"), (other, "b")} <= mine
    human = ok("list", "-a")
    assert human.stdout.split()[0] == "DOMAIN", show(human)
    row(human, domain, "topic", "a")
    row(human, other, "topic", "b")
    assert [(e["domain"], e["name"]) for e in ok_json("list", "--json")] == [(domain, "a")]


def test_list_shows_a_corrupt_segment_as_corrupt(domain):
    write_garbage(domain, "bad")
    create_topic("good", 1, "int64")
    by = {e["name"]: e for e in ok_json("list", "--json")}
    assert by["bad"]["state"] == "corrupt" and by["bad"]["error"], by
    assert by["bad"]["size"] == 5000
    assert by["good"]["state"] == "stale"
    assert "corrupt" in row(ok("list"), "topic", "bad").split()


# ---- info ----------------------------------------------------------------------------


def test_info_shows_a_live_subscriber_with_its_pid(spawn):
    create_topic("t", 1, "int64")
    _, pid = subscriber_child(spawn, "t")
    r = ok("info", "t")
    assert r.stdout.startswith("topic 't'"), show(r)
    words = row(r, "subscriber").replace(",", " ").split()
    assert str(pid) in words and "alive" in words, show(r)
    assert row(r, "state:").split() == ["state:", "live"], show(r)


def test_info_json_lists_peers_with_role_pid_and_alive(spawn):
    create_topic("t", 1, "int64")
    pub_pid = wait_until(lambda: info("t")["peers"], "the publisher peer")[0]["pid"]
    _, sub_pid = subscriber_child(spawn, "t")
    d = info("t")
    assert (d["kind"], d["name"], d["type"], d["subscribers"]) == ("topic", "t", "int64", 1)
    peers = {(p["role"], p["pid"], p["alive"]) for p in d["peers"]}
    assert peers == {("publisher", pub_pid, False), ("subscriber", sub_pid, True)}
    (sub,) = [p for p in d["peers"] if p["role"] == "subscriber"]
    assert set(sub) >= {"role", "pid", "alive", "open", "next_seq", "lost"}, sub


def test_info_of_a_service_shows_its_server(adder):
    d = info("add")
    assert (d["kind"], d["request_type"], d["server_pid"]) == ("service", "int64[2]", os.getpid())
    assert {"role": "server", "pid": os.getpid(), "alive": True, "open": True} in d["peers"]


def test_info_of_an_unknown_name_exits_1_naming_it():
    r = fails(1, "info", "nosuchthing")
    assert "'nosuchthing'" in r.stderr, show(r)


def test_info_of_an_invalid_name_exits_2():
    r = fails(2, "info", "bad name!")
    assert "not a valid name" in r.stderr, show(r)


def test_info_of_a_corrupt_segment_exits_1_saying_corrupt(domain):
    write_garbage(domain, "bad")
    r = fails(1, "info", "bad")
    assert "corrupt" in r.stderr and "'bad'" in r.stderr, show(r)
    r = fails(1, "info", "bad", "--json")
    assert json.loads(r.stdout)["state"] == "corrupt", show(r)
    assert ok("list").returncode == 0


# ---- echo ----------------------------------------------------------------------------


def test_echo_once_prints_a_sample_published_after_it_started(spawn):
    create_topic("t", 1.5, "float64")
    echo = start(spawn, "echo", "t", "--json", "-n", 1, "--timeout", 20)
    wait_peers("t", "echo to subscribe", subscribers=1)
    ok("pub", "t", 2.25)
    assert echo.wait(timeout=TIMEOUT) == 0, echo.stderr()
    (sample,) = [json.loads(line) for line in echo.lines()]
    assert (sample["value"], sample["seq"], sample["len"], sample["lost"]) == (2.25, 1, 8, 0)
    assert sample["timestamp_ns"] > 0


def test_echo_latest_once_prints_the_value_already_published():
    create_topic("t", 1.5, "float64")
    ok("pub", "t", 2.5)
    assert ok("echo", "t", "--latest", "--once").stdout == "2.5\n"
    (sample,) = json_lines(ok("echo", "t", "--latest", "--once", "--json"))
    assert (sample["value"], sample["seq"]) == (2.5, 1)


@pytest.mark.parametrize("type_, text, value", [
    ("int64", "-42", -42),
    ("int64", "9007199254740993", 9007199254740993),  # not a double: exact
    ("uint64", "18446744073709551615", 2**64 - 1),
    ("float64", "0.1", 0.1),
    ("bool", "true", True),
    ("string", 'hé "q" \\ tab\tend', 'hé "q" \\ tab\tend'),
    ("bytes", "0x0102ff", "0102ff"),
    ("uint8[2,3]", "[[1,2,3],[4,5,6]]", [[1, 2, 3], [4, 5, 6]]),
    ("struct:Pose:<3d", "[1.5,2,3]", [1.5, 2, 3]),
], ids=["int64", "int64-big", "uint64-max", "float64", "bool", "string", "bytes", "array",
        "struct"])
def test_echo_json_decodes_each_type_exactly(type_, text, value):
    create_topic("t", text, type_)
    (sample,) = json_lines(ok("echo", "t", "--latest", "--once", "--json"))
    assert sample["value"] == value and type(sample["value"]) is type(value), sample


def test_pub_and_echo_a_string_longer_than_the_default_max_size():
    text = "".join(chr(0x41 + i % 26) for i in range(5000))  # default max: 4096 bytes
    create_topic("long", text, "string")
    (sample,) = json_lines(ok("echo", "long", "--latest", "--once", "--json"))
    assert (sample["value"], sample["len"]) == (text, 5000)


def test_echo_prints_strings_json_quoted():
    text = 'say "hi"\\ ok'
    create_topic("s", text, "string")
    r = ok("echo", "s", "--latest", "--once")
    assert r.stdout.startswith('"') and json.loads(r.stdout) == text, show(r)


def test_echo_prints_bytes_as_hex():
    create_topic("b", "0xdeadbeef00", "bytes")
    assert ok("echo", "b", "--latest", "--once").stdout == "deadbeef00\n"


def test_echo_shows_the_first_64_elements_of_an_array_unless_full():
    values = np.arange(100, dtype=np.int32)
    with shm_pub_sub.Publisher("arr", values) as pub:
        pub.publish(values)
        short = ok("echo", "arr", "--latest", "--once").stdout
        full = ok("echo", "arr", "--latest", "--once", "--full").stdout
        (sample,) = json_lines(ok("echo", "arr", "--latest", "--once", "--json"))
    assert short.startswith(str(list(range(64)))[:-1] + ", ...]") and "100" in short, short
    assert json.loads(full) == list(range(100))
    assert sample["value"] == list(range(100))  # --json: always everything


def test_echo_decodes_a_struct_published_from_python():
    pose = np.dtype([("id", "<u4"), ("x", "<f8"), ("y", "<f8")])
    v = np.zeros((), pose)
    v["id"], v["x"], v["y"] = 7, -1.25, 3.5
    with shm_pub_sub.Publisher("pose", v, type_name="Pose") as pub:
        pub.publish(v)
        (sample,) = json_lines(ok("echo", "pose", "--latest", "--once", "--json"))
    assert sample["value"] == [7, -1.25, 3.5], sample


def test_echo_of_a_missing_topic_exits_1_naming_it():
    r = fails(1, "echo", "nothere", "--once")
    assert "'nothere'" in r.stderr and "--wait" in r.stderr, show(r)


def test_echo_wait_waits_for_a_topic_to_appear(spawn):
    echo = start(spawn, "echo", "w", "--wait", "--once", "--json", "--timeout", 20)
    with shm_pub_sub.Publisher("w", 0.0) as pub:
        line = feed_until(pub, 4.75, echo, "value", timeout=20)
    assert json.loads(line)["value"] == 4.75
    assert echo.wait(timeout=TIMEOUT) == 0, echo.stderr()


def test_echo_timeout_without_a_new_sample_exits_1():
    create_topic("t", 1, "int64")  # an old sample: echo shows only new ones
    r = fails(1, "echo", "t", "--timeout", "0.3")
    assert "no sample within 0.3 s" in r.stderr and r.stdout == "", show(r)


def test_echo_latest_then_follows_newer_samples_in_order(spawn):
    create_topic("t", 1, "int64")
    ok("pub", "t", 2)
    echo = start(spawn, "echo", "t", "--latest", "-n", 3, "--json", "--timeout", 20)
    echo.wait_for("value", timeout=20)
    ok("pub", "t", 3)
    ok("pub", "t", 4)
    assert echo.wait(timeout=TIMEOUT) == 0, echo.stderr()
    assert [json.loads(line)["value"] for line in echo.lines()] == [2, 3, 4]


def test_echo_reports_samples_it_could_not_keep_up_with(spawn):
    create_topic("t", 0, "int64")  # 3 slots
    echo = start(spawn, "echo", "t", "--json", "-n", 3, "--timeout", 20)
    wait_peers("t", "echo to subscribe", subscribers=1)
    echo.proc.send_signal(signal.SIGSTOP)  # echo falls behind by 10 samples
    try:
        with shm_pub_sub.Publisher("t", 0) as pub:
            for i in range(1, 11):
                pub.publish(i)
    finally:
        echo.proc.send_signal(signal.SIGCONT)
    assert echo.wait(timeout=TIMEOUT) == 0, echo.stderr()
    samples = [json.loads(line) for line in echo.lines()]
    assert [(x["seq"], x["value"]) for x in samples] == [(8, 8), (9, 9), (10, 10)], samples
    assert [x["lost"] for x in samples] == [7, 0, 0], samples
    assert "lost 7 samples" in echo.stderr(), echo.stderr()


# ---- hz and bw --------------------------------------------------------------------------


def test_hz_json_reports_a_positive_rate(rate_topic):
    reports = json_lines(ok("hz", rate_topic, "-n", 2, "--json"))
    assert len(reports) == 2, reports
    for rep in reports:
        assert rep["topic"] == "T"
        assert rep["rate_hz"] > 0 and rep["window"] >= 2 and rep["missed"] >= 0, rep
        assert 0 <= rep["min_period_s"] <= rep["max_period_s"], rep
        assert rep["std_period_s"] >= 0, rep


def test_hz_human_report(rate_topic):
    r = ok("hz", rate_topic, "-n", 1)
    assert r.stdout.startswith("average rate: ") and " Hz\n" in r.stdout, show(r)
    assert "window:" in r.stdout and "missed:" in r.stdout, show(r)


def test_bw_json_reports_bytes_per_second_and_sizes(rate_topic):
    (rep,) = json_lines(ok("bw", rate_topic, "-n", 1, "--json"))
    assert rep["bytes_per_s"] > 0 and rep["window"] >= 2 and rep["missed"] >= 0, rep
    assert rep["min_size"] == rep["max_size"] == 8 and rep["mean_size"] == 8, rep


def test_hz_restarts_its_window_when_the_topic_is_created_anew(spawn):
    ok("pub", "t", 1, "--type", "int64", "-n", 400)  # sequence numbers up to 399
    hz = start(spawn, "hz", "t", "--window", 1000, "-n", 3, "--json")
    wait_peers("t", "hz to subscribe", subscribers=1)
    ok("pub", "t", 1, "-n", 20, "--rate", 500)
    ok("unlink", "t")  # a new segment: its numbers start at 0 again
    ok("pub", "t", 1, "--type", "int64", "-n", 20, "--rate", 500)
    assert hz.wait(timeout=TIMEOUT) == 0, hz.stderr()
    reports = [json.loads(line) for line in hz.lines()]
    assert reports, hz.stderr()
    for rep in reports:  # before the fix: 9.4e18 Hz, from a wrapped difference
        assert 0 < rep["rate_hz"] < 1e7 and rep["missed"] < 1000, rep


def test_hz_of_an_idle_topic_exits_1_after_its_reports():
    create_topic("t", 1, "int64")
    r = fails(1, "hz", "t", "-n", 1)
    assert "no samples" in r.stderr, show(r)


def test_an_invalid_domain_from_the_environment_is_a_usage_error(monkeypatch):
    monkeypatch.setenv("HCM_DOMAIN", "bad/domain")
    r = fails(2, "list")
    assert "HCM_DOMAIN" in r.stderr and "not a valid domain" in r.stderr, show(r)


def test_a_listing_that_cannot_be_written_exits_1():
    create_topic("t", 1, "int64")
    with open("/dev/full", "w") as full:
        r = subprocess.run([cli(), "list", "--json"], stdout=full, stderr=subprocess.PIPE,
                           text=True, env=child_env(), timeout=TIMEOUT)
    assert r.returncode == 1 and "cannot write" in r.stderr, r.stderr


def test_info_of_a_corrupt_segment_shows_only_what_stat_can_tell(domain):
    path = f"/dev/shm/hcm.{domain}.t.junk"
    with open(path, "wb") as f:
        f.write(b"\xff" * 4096)
    os.chmod(path, 0o600)
    r = fails(1, "info", "junk")
    assert "corrupt" in r.stdout and "memory:" in r.stdout, show(r)
    assert "type:" not in r.stdout and "slots:" not in r.stdout, show(r)  # nothing made up
    os.unlink(path)


def test_hz_of_a_missing_topic_exits_1():
    r = fails(1, "hz", "nothere", "-n", 1)
    assert "'nothere'" in r.stderr, show(r)


def test_hz_window_below_2_exits_2():
    create_topic("t", 1, "int64")
    fails(2, "hz", "t", "--window", 1)


# ---- pub -------------------------------------------------------------------------------


def test_pub_creates_a_topic_that_stays_after_it_exits(domain):
    r = ok("pub", "t", 1.5, "--type", "float64")
    assert r.stdout == f"published 1 sample of float64 to topic 't' (domain {domain})\n"
    assert os.path.exists(seg(domain, "t", "t"))
    assert ok("echo", "t", "--latest", "--once").stdout == "1.5\n"


@pytest.mark.parametrize("type_, value", [("int64", "abc"), ("uint8", "300"),
                                          ("float64[3]", "[1,2]")])
def test_pub_a_value_that_does_not_fit_the_topic_type_exits_2_naming_the_type(type_, value):
    create_topic("t", "[0,0,0]" if "[" in type_ else "0", type_)
    r = fails(2, "pub", "t", value)
    assert type_ in r.stderr and value in r.stderr, show(r)
    assert info("t")["publish_count"] == 1  # nothing was published


def test_pub_a_value_that_does_not_fit_a_new_topic_type_exits_2_and_creates_nothing(domain):
    r = fails(2, "pub", "t", 300, "--type", "uint8")
    assert "uint8" in r.stderr, show(r)
    assert not os.path.exists(seg(domain, "t", "t"))


def test_pub_type_differing_from_the_topic_exits_1_naming_both():
    create_topic("t", 1, "int64")
    r = fails(1, "pub", "t", 1, "--type", "float64")
    assert "int64" in r.stderr and "float64" in r.stderr, show(r)


def test_pub_to_a_new_topic_without_type_exits_2(domain):
    r = fails(2, "pub", "new", 1)
    assert "--type" in r.stderr, show(r)
    assert not os.path.exists(seg(domain, "t", "new"))


def test_pub_an_unknown_type_exits_2():
    r = fails(2, "pub", "t", 1, "--type", "int128")
    assert "int128" in r.stderr, show(r)


def test_pub_a_negative_number_is_a_value_not_an_option():
    create_topic("t", 1, "int64")
    ok("pub", "t", -3)
    assert ok("echo", "t", "--latest", "--once").stdout == "-3\n"


def test_pub_a_negative_infinity_in_capitals_is_a_value_not_an_option():
    create_topic("f", "INF", "float64")  # accepted
    r = hcm("pub", "f", "-INF")
    assert r.returncode == 0, show(r)
    assert info("f")["publish_count"] == 2


def test_pub_count_with_rate_publishes_that_many_samples():
    r = ok("pub", "t", 9, "--type", "int64", "-n", 5, "--rate", 1000)
    assert r.stdout.startswith("published 5 samples of int64"), show(r)
    assert info("t")["publish_count"] == 5


def test_pub_count_without_rate_publishes_that_many_samples_back_to_back():
    r = ok("pub", "t", 9, "--type", "int64", "-n", 4)
    assert r.stdout.startswith("published 4 samples of int64"), show(r)
    assert info("t")["publish_count"] == 4


def test_pub_quiet_prints_nothing():
    assert ok("pub", "t", 1, "--type", "int64", "-q").stdout == ""


def test_pub_slots_sets_the_ring_size_of_a_new_topic():
    create_topic("t", 1, "int64")
    ok("pub", "u", 1, "--type", "int64", "--slots", 7, "-q")
    assert (info("t")["slots"], info("u")["slots"]) == (3, 7)


def test_pub_with_rate_runs_until_sigterm_and_reports_what_it_published(spawn):
    pub = start(spawn, "pub", "t", 1, "--type", "int64", "--rate", 100)
    wait_peers("t", "publishing", publishers=1, publish_count=2)
    assert pub.stop(signal.SIGTERM) == 0, pub.stderr()
    (line,) = pub.lines()
    n = int(line.split()[1])
    assert line.startswith("published ") and n >= 2 and n == info("t")["publish_count"], line


# ---- call ------------------------------------------------------------------------------


def test_call_prints_the_response(adder):
    assert ok("call", adder, "[2, 3]").stdout == "response: 5\n"
    assert ok_json("call", adder, "[40,2]", "--json") == {"response": 42}


def test_call_a_string_service_returns_the_string():
    with shm_service.ServiceServer("upper", lambda s: s.upper(), "", ""):
        assert ok_json("call", "upper", "héllo", "--json") == {"response": "HÉLLO"}


def test_call_a_failing_handler_exits_1_with_its_message():
    def handler(x):
        raise ValueError(f"cannot handle {x}")

    with shm_service.ServiceServer("bad", handler, 0, 0):
        r = fails(1, "call", "bad", 4)
    assert "cannot handle 4" in r.stderr and "'bad'" in r.stderr, show(r)
    assert r.stdout == ""


def test_call_an_unknown_service_exits_1_naming_it():
    r = fails(1, "call", "nosuch", 1)
    assert "'nosuch'" in r.stderr, show(r)


def test_call_a_request_that_does_not_parse_exits_2(adder):
    r = fails(2, "call", adder, "abc")
    assert "int64[2]" in r.stderr, show(r)


def test_call_without_a_response_within_the_timeout_exits_1():
    release = threading.Event()

    def stuck(x):
        release.wait(20)
        return x

    with shm_service.ServiceServer("stuck", stuck, 0, 0):
        try:
            r = fails(1, "call", "stuck", 1, "--timeout", 0.3)
        finally:
            release.set()
    assert "no response within 0.3 s" in r.stderr, show(r)


def test_call_a_service_whose_server_died_exits_1(spawn):
    run_child(spawn, DYING_SERVER_CHILD, "gone")
    r = fails(1, "call", "gone", 1, "--timeout", 10)
    assert "no live server" in r.stderr, show(r)


# ---- send-goal ------------------------------------------------------------------------


def feedback_then_succeed(g):
    for i in range(3):
        g.publish_feedback(g.goal * 10 + i)
        time.sleep(0.02)
    return g.goal * 100


def test_send_goal_prints_feedback_and_the_result():
    with shm_action.ActionServer("move", 0, 0, 0, feedback_then_succeed):
        r = ok("send-goal", "move", 7)
    lines = r.stdout.splitlines()
    assert lines[0].startswith("goal ") and "sent to action 'move'" in lines[0], show(r)
    feedback = [int(line.split()[1]) for line in lines if line.startswith("feedback: ")]
    assert feedback and set(feedback) <= {70, 71, 72} and feedback == sorted(feedback), show(r)
    assert lines[-2:] == ["status: succeeded", "result: 700"], show(r)


def test_send_goal_json_prints_one_object_per_event():
    with shm_action.ActionServer("move", 0, 0, 0, feedback_then_succeed):
        events = json_lines(ok("send-goal", "move", 2, "--json"))
    assert events[0]["event"] == "sent" and events[0]["goal_id"] > 0, events
    feedback = [e["feedback"] for e in events if "feedback" in e]
    assert feedback and set(feedback) <= {20, 21, 22}, events
    assert events[-2:] == [{"event": "status", "status": "succeeded"}, {"result": 200}], events


def test_send_goal_no_feedback_prints_no_feedback():
    with shm_action.ActionServer("move", 0, 0, 0, feedback_then_succeed):
        r = ok("send-goal", "move", 1, "--no-feedback")
    assert "feedback" not in r.stdout and r.stdout.endswith("result: 100\n"), show(r)


def test_send_goal_an_aborted_goal_exits_1():
    def abort(g):
        g.abort()
        return -1

    with shm_action.ActionServer("fail", 0, 0, 0, abort):
        r = fails(1, "send-goal", "fail", 1)
    assert "status: aborted" in r.stdout, show(r)
    assert "aborted" in r.stderr and "'fail'" in r.stderr, show(r)


def test_send_goal_a_rejected_goal_exits_1_without_a_result():
    with shm_action.ActionServer("picky", 0, 0, 0, lambda g: 1,
                                 accept_callback=lambda goal: goal > 0):
        r = fails(1, "send-goal", "picky", -1)
    assert "status: rejected" in r.stdout and "result" not in r.stdout, show(r)
    assert "rejected" in r.stderr, show(r)


def test_send_goal_to_an_unknown_action_exits_1():
    r = fails(1, "send-goal", "nosuch", 1)
    assert "'nosuch'" in r.stderr, show(r)


def test_send_goal_to_an_action_whose_server_died_exits_1(spawn):
    run_child(spawn, DYING_ACTION_SERVER_CHILD, "gone")
    r = fails(1, "send-goal", "gone", 1)
    assert "no live server" in r.stderr and "'gone'" in r.stderr, show(r)


def test_send_goal_a_goal_that_does_not_parse_exits_2():
    with shm_action.ActionServer("move", 0, 0, 0, feedback_then_succeed):
        r = fails(2, "send-goal", "move", "x")
    assert "int64" in r.stderr, show(r)


def test_sigint_to_send_goal_cancels_the_goal(spawn):
    saw_cancel = []

    def run_until_canceled(g):
        n = 0
        while not g.cancel_requested:
            g.publish_feedback(n)
            n += 1
            time.sleep(0.02)
        saw_cancel.append(g.goal)
        g.canceled()
        return n

    with shm_action.ActionServer("long", 0, 0, 0, run_until_canceled):
        goal = start(spawn, "send-goal", "long", 5)
        goal.wait_for("feedback: ", timeout=20)
        goal.proc.send_signal(signal.SIGINT)
        rc = goal.wait(timeout=TIMEOUT)
    assert rc not in (0, None), (rc, goal.stdout(), goal.stderr())
    assert rc > 0, f"killed by signal {-rc}"  # it handled SIGINT
    assert "status: canceled" in goal.lines(), goal.stdout()
    assert "canceling goal" in goal.stderr(), goal.stderr()
    assert saw_cancel == [5]


def run_until_released(release):
    """An execute callback that ignores cancel until `release` is set."""
    def execute(g):
        release.wait(20)
        return 1
    return execute


def test_send_goal_timeout_cancels_the_goal():
    def run_until_canceled(g):
        while not g.cancel_requested:
            time.sleep(0.01)
        g.canceled()
        return 0

    with shm_action.ActionServer("long", 0, 0, 0, run_until_canceled):
        r = fails(1, "send-goal", "long", 1, "--timeout", 0.3)
    assert "status: canceled" in r.stdout, show(r)
    assert "(timeout)" in r.stderr, show(r)


def test_a_second_sigint_to_send_goal_quits_at_once(spawn):
    release = threading.Event()
    with shm_action.ActionServer("stubborn", 0, 0, 0, run_until_released(release)):
        try:
            goal = start(spawn, "send-goal", "stubborn", 1)
            goal.wait_for("status: executing", timeout=20)
            goal.proc.send_signal(signal.SIGINT)
            goal.wait_for("status: canceling", timeout=20)  # the first one was seen
            goal.proc.send_signal(signal.SIGINT)
            rc = goal.wait(timeout=TIMEOUT)
        finally:
            release.set()
    assert rc == 1, (rc, goal.stdout(), goal.stderr())
    assert "second Ctrl-C" in goal.stderr(), goal.stderr()


# ---- clean -----------------------------------------------------------------------------


def test_clean_dry_run_lists_a_stale_topic_and_removes_nothing(domain):
    create_topic("old", 1, "int64")
    r = ok("clean", "--dry-run")
    assert f"would remove topic 'old' (domain {domain})" in r.stdout, show(r)
    assert r.stdout.splitlines()[-1].startswith("would remove 1 segment"), show(r)
    assert os.path.exists(seg(domain, "t", "old"))


def test_clean_removes_a_stale_topic(domain):
    create_topic("old", 1, "int64")
    r = ok("clean")
    assert f"removed topic 'old' (domain {domain})" in r.stdout, show(r)
    assert not os.path.exists(seg(domain, "t", "old"))
    assert ok_json("list", "--json") == []


def test_clean_never_removes_a_topic_with_a_live_publisher(domain, spawn):
    start(spawn, "pub", "busy", 1, "--type", "int64", "--rate", 10)
    wait_peers("busy", "the publisher", publishers=1)
    r = ok("clean")
    assert "busy" not in r.stdout and "removed 0 segments" in r.stdout, show(r)
    assert os.path.exists(seg(domain, "t", "busy"))


def test_clean_never_removes_a_topic_whose_publisher_died_but_has_a_live_subscriber(
        domain, spawn):
    run_child(spawn, DYING_PUBLISHER_CHILD, "t")
    subscriber_child(spawn, "t")
    assert info("t")["state"] == "live"
    r = ok("clean")
    assert "removed 0 segments" in r.stdout, show(r)
    assert os.path.exists(seg(domain, "t", "t"))
    assert "would remove 0" in ok("clean", "-n").stdout


def test_clean_leaves_a_corrupt_segment_alone_and_reports_it(domain):
    path = write_garbage(domain, "bad")
    r = ok("clean")
    assert f"left topic 'bad' (domain {domain}): corrupt" in r.stdout, show(r)
    assert os.path.exists(path)


def test_clean_removes_a_service_whose_server_died(domain, spawn):
    run_child(spawn, DYING_SERVER_CHILD, "gone")
    assert info("gone")["state"] == "stale"
    r = ok("clean")
    assert f"removed service 'gone' (domain {domain})" in r.stdout, show(r)
    assert not os.path.exists(seg(domain, "s", "gone"))


def test_clean_removes_an_action_whose_server_died(domain, spawn):
    run_child(spawn, DYING_ACTION_SERVER_CHILD, "gone")
    assert info("gone")["state"] == "stale"
    r = ok("clean")
    assert f"removed action 'gone' (domain {domain})" in r.stdout, show(r)
    assert not os.path.exists(seg(domain, "a", "gone"))


def test_clean_never_removes_a_service_with_a_live_server(domain, adder):
    r = ok("clean")
    assert "removed 0 segments" in r.stdout, show(r)
    assert os.path.exists(seg(domain, "s", "add"))


def test_clean_json_lists_removed_and_left(domain):
    create_topic("old", 1, "int64")
    write_garbage(domain, "bad")
    dry = ok_json("clean", "--dry-run", "--json")
    assert dry["dry_run"] is True
    assert [(e["kind"], e["name"]) for e in dry["removed"]] == [("topic", "old")]
    d = ok_json("clean", "--json")
    assert d["dry_run"] is False
    assert [(e["kind"], e["domain"], e["name"]) for e in d["removed"]] == \
        [("topic", domain, "old")]
    assert d["removed"][0]["size"] > 0
    assert d["left"] == [{"kind": "topic", "domain": domain, "name": "bad", "reason": "corrupt"}]


# ---- unlink ----------------------------------------------------------------------------


def test_unlink_removes_a_topic(domain):
    create_topic("t", 1, "int64")
    r = ok("unlink", "t")
    assert r.stdout == f"removed topic 't' (domain {domain})\n"
    assert not os.path.exists(seg(domain, "t", "t"))


def test_unlink_removes_a_corrupt_segment(domain):
    path = write_garbage(domain, "bad")
    ok("unlink", "bad")
    assert not os.path.exists(path)


def test_unlink_of_a_missing_name_exits_1():
    r = fails(1, "unlink", "nothere")
    assert "'nothere'" in r.stderr, show(r)


# ---- top -------------------------------------------------------------------------------


TOP_FIELDS = {"name", "state", "rate_hz", "bytes_per_s", "publishers", "subscribers", "lost",
              "max_lag", "publish_count"}


def test_top_json_prints_one_array_per_refresh():
    create_topic("t", 1, "int64")
    r = ok("top", "-n", 2, "--interval", 0.2, "--json")
    frames = [json.loads(line) for line in r.stdout.splitlines()]
    assert len(frames) == 2, show(r)
    for frame in frames:
        (row,) = frame
        assert set(row) >= TOP_FIELDS, row
        assert (row["name"], row["state"], row["publish_count"]) == ("t", "stale", 1), row
        assert (row["publishers"], row["subscribers"]) == (0, 0), row
        assert row["type"] == "int64", row
    # nothing was published while top ran (the first refresh may have no
    # earlier one to compare with: null)
    assert frames[0][0]["rate_hz"] in (None, 0), frames
    assert frames[1][0]["rate_hz"] == 0, frames


def test_top_shows_the_header_and_the_topic(domain):
    create_topic("mytopic", 1, "int64")
    r = ok("top", "-n", 1)
    assert r.stdout.startswith(f"hcm top - domain {domain} - 1 topic"), show(r)
    assert {"TOPIC", "TYPE", "PUB", "SUB", "STATE"} <= set(row(r, "TOPIC").split()), show(r)
    assert {"int64", "stale"} <= set(row(r, "mytopic").split()), show(r)


def test_top_exits_0_on_sigint(spawn):
    create_topic("t", 1, "int64")
    top = start(spawn, "top", "--interval", 0.2)
    top.wait_for("hcm top", timeout=20)
    top.proc.send_signal(signal.SIGINT)
    assert top.wait(timeout=TIMEOUT) == 0, top.stderr()
