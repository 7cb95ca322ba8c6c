"""Every Python example of the seed tutorial, as the tutorial prints it.

The examples are stored verbatim in seed_examples/ (see its README.md). The
endless ones run in a child process for a moment, fed by the test where they
need data, and are then terminated. Every child runs in the test's
HCM_DOMAIN; the `cleanup_topics` fixture unlinks every topic afterwards.
"""
import re
import sys
import textwrap
from pathlib import Path

import pytest

import shm_pub_sub
from support import SEED, feed_until, python_args

SEED_ORIGINAL = Path("/work/shared/seed/000_c6b2fb70f5f84c2d.txt")


def tutorial_python_blocks():
    """The tutorial's ```python blocks, in order (list-indented ones dedented
    as Markdown renders them)."""
    text = (SEED / "tutorial_python_en.md").read_text(encoding="utf-8")
    blocks = re.findall(r"^([ \t]*)```(\w*)\n(.*?)^[ \t]*```", text, re.S | re.M)
    return [textwrap.dedent(body) if indent else body for indent, lang, body in blocks
            if lang == "python"]


def example(n):
    (path,) = SEED.glob(f"{n:02d}_*.py")
    return path


def source(n):
    return example(n).read_text(encoding="utf-8")


def run_file_with(path, prelude="", postlude=""):
    """argv running the verbatim file `path` after `prelude` (imports and
    names the snippet uses without defining) and before `postlude`."""
    return python_args(
        prelude
        + f"\nexec(compile(open({str(path)!r}, encoding='utf-8').read(), {str(path)!r}, 'exec'))\n"
        + postlude
    )


def test_every_python_block_of_the_tutorial_is_stored_verbatim():
    stored = [p.read_text(encoding="utf-8") for p in sorted(SEED.glob("[0-9][0-9]_*.py"))]
    assert stored == tutorial_python_blocks()
    assert len(stored) == 16
    if SEED_ORIGINAL.exists():  # the copy is the seed, byte for byte
        assert (SEED / "tutorial_python_en.md").read_bytes() == SEED_ORIGINAL.read_bytes()


# ---- constructors, publish(), subscribe() (blocks 01, 02, 04, 05) ---------

SIGNATURE_CALL = re.compile(r"^(\w+) = shm_pub_sub\.(Publisher|Subscriber)\((.*)\)$")
PARAMETER = re.compile(r"(\w+): (\w+)")
DEFAULTS = {"bool": False, "int": 0, "float": 0.0}


@pytest.mark.parametrize("style", ["keyword", "positional"])
def test_tutorial_constructor_publish_and_subscribe_examples_run(style, cleanup_topics):
    ns = {"shm_pub_sub": shm_pub_sub}
    for n in (1, 4):  # Publisher / Subscriber signatures
        for line in source(n).splitlines():
            match = SIGNATURE_CALL.match(line)
            if not match:
                continue
            kind = dict(PARAMETER.findall(match.group(3)))["default_value"]
            bound = {"name": f"tutorial_{kind}", "default_value": DEFAULTS[kind],
                     "buffer_num": 3}
            call = PARAMETER.sub(r"\1=\1" if style == "keyword" else r"\1", line)
            local = dict(bound)
            exec(call, ns, local)
            ns[match.group(1)] = local[match.group(1)]
    assert [ns[f"pub_{k}"].type for k in DEFAULTS] == ["bool", "int64", "float64"]
    assert [ns[f"sub_{k}"].type for k in DEFAULTS] == ["bool", "int64", "float64"]
    assert all(ns[f"pub_{k}"].buffer_num == 3 for k in DEFAULTS)

    exec(source(2), ns)  # pub_bool.publish(True) ... pub_float.publish(3.14159)
    exec(source(5), ns)  # data, is_success = sub_bool.subscribe() ...
    assert (ns["data"], ns["is_success"]) == (3.14159, True)  # the last one: float
    assert ns["sub_bool"].subscribe() == (True, True)
    assert ns["sub_int"].subscribe() == (42, True)
    assert type(ns["sub_bool"].subscribe()[0]) is bool
    assert type(ns["sub_int"].subscribe()[0]) is int
    for var in [v for v in ns if v.startswith(("pub_", "sub_"))]:
        ns[var].close()


# ---- the sensor data publisher (block 03) -----------------------------------

def test_tutorial_sensor_publisher_publishes_the_temperatures_it_prints(spawn):
    sub = shm_pub_sub.Subscriber("temperature_sensor", 0.0)
    child = spawn([sys.executable, str(example(3))])
    received = [sub.receive(timeout=10) for _ in range(10)]  # ~1 s of the 10 s loop
    lines = child.wait_for("Published temperature:", count=10)
    child.stop()
    printed = [re.fullmatch(r"Published temperature: (\d+\.\d\d)Â°C", line).group(1)
               for line in lines]
    assert printed == [f"{v:.2f}" for v in received]
    assert all(15.0 <= v <= 35.0 for v in received)
    assert sub.lost == 0
    assert child.stderr() == ""


# ---- the multi-subscriber system (block 06) ---------------------------------

def test_tutorial_multi_subscriber_system_alerts_and_logs_what_is_published(spawn):
    pub = shm_pub_sub.Publisher("temperature_sensor", 0.0, 5)
    child = spawn([sys.executable, str(example(6))])
    for value, alert in ((35.0, "HIGH TEMPERATURE ALERT"), (5.0, "LOW TEMPERATURE ALERT"),
                         (20.0, None)):
        if alert:
            feed_until(pub, value, child, f"{alert}: {value:.2f}Â°C")
        feed_until(pub, value, child,
                   lambda l: "LOG: [" in l and f"Temperature: {value:.2f}Â°C" in l)
    child.stop()
    alerts = [l for l in child.lines() if "ALERT" in l]
    assert all(("35.00" in l) or ("5.00" in l) for l in alerts), alerts
    assert child.stderr() == ""


# ---- "Data Reading Failure" (block 08) --------------------------------------

def test_tutorial_data_reading_failure_without_publisher_gives_success_false(cleanup_topics):
    statement = source(8).split("\n\n")[0]  # "# Error symptoms\ndata, success = ..."
    assert "subscriber.subscribe()" in statement
    ns = {"subscriber": shm_pub_sub.Subscriber("data_topic", 0.0)}
    exec(statement, ns)
    assert (ns["data"], ns["success"]) == (0.0, False)


# ---- the performance benchmark (block 10) -----------------------------------

def test_tutorial_benchmark_script_finishes_and_leaves_9999_on_the_topic(spawn):
    for _ in range(2):
        child = spawn([sys.executable, str(example(10))])
        assert child.wait(timeout=60) == 0, child.stderr()
        out = child.stdout()
        assert "Messages: 10000" in out
        assert re.search(r"Throughput: \d+ messages/second", out), out
        assert child.stderr() == ""
        sub = shm_pub_sub.Subscriber("benchmark", 0, expiry=0)
        assert sub.latest() == 9999
        sub.close()


def test_tutorial_benchmark_function_reads_9999_on_every_run(capsys, cleanup_topics):
    head, call = source(10).rstrip("\n").rsplit("\n\n", 1)
    assert call == "benchmark_publish_subscribe()"
    ns = {}
    exec(head + "\n    return data, success, received_count\n", ns)
    for _ in range(3):
        assert ns["benchmark_publish_subscribe"]() == (9999, True, 10000)
    assert capsys.readouterr().out.count("Messages: 10000") == 3


# ---- test publisher / subscriber independently (block 11) -------------------

def test_tutorial_independent_publisher_and_subscriber_block_runs(spawn):
    child = spawn([sys.executable, str(example(11))])
    assert child.wait(timeout=30) == 0, child.stderr()
    assert child.lines() == [f"Published: {i}" for i in range(10)] + [
        "Received: 9, Success: True"] * 10
    assert child.stderr() == ""


def test_tutorial_subscriber_half_run_in_a_separate_process_reads_the_publisher_half(spawn):
    src = source(11)
    cut = src.index("# Test subscriber only")
    publisher = spawn(python_args(src[:cut]))
    assert publisher.wait(timeout=30) == 0, publisher.stderr()
    assert publisher.lines() == [f"Published: {i}" for i in range(10)]
    subscriber = spawn(python_args("import shm_pub_sub\n" + src[cut:]))
    assert subscriber.wait(timeout=30) == 0, subscriber.stderr()
    assert subscriber.lines() == ["Received: 9, Success: True"] * 10


# ---- the robot sensor network (block 12) ------------------------------------

def test_tutorial_robot_sensor_network_publishes_its_three_sensors(spawn):
    ranges = {"lidar_distance": (0.1, 10.0), "camera_fps": (25.0, 35.0),
              "imu_acceleration": (-2.0, 2.0)}
    subs = {name: shm_pub_sub.Subscriber(name, 0.0) for name in ranges}
    child = spawn([sys.executable, str(example(12))])
    for name, (lo, hi) in ranges.items():
        values = [subs[name].receive(timeout=10) for _ in range(3)]
        assert all(lo <= v <= hi for v in values), (name, values)
        assert len(set(values)) > 1, (name, values)  # random readings, not a constant
    assert child.proc.poll() is None  # still running (endless)
    child.stop()
    assert child.stdout() == ""
    assert child.stderr() == ""


# ---- real-time data analytics (block 13) ------------------------------------

def test_tutorial_data_analytics_publishes_the_moving_average_it_prints(spawn):
    pub = shm_pub_sub.Publisher("sensor_data", 0.0, 5)
    result = shm_pub_sub.Subscriber("analytics_result", 0.0)
    child = spawn([sys.executable, str(example(13))])
    line = feed_until(pub, 2.5, child, "Analytics: Moving average = ")
    assert line.endswith("Analytics: Moving average = 2.500"), line
    assert result.receive(timeout=10) == 2.5
    child.stop()
    assert child.stderr() == ""


# ---- best practices (blocks 14, 15, 16) -------------------------------------

def test_tutorial_topic_naming_examples_create_hierarchical_topics(cleanup_topics):
    ns = {}
    exec("import shm_pub_sub\n" + source(14), ns)
    info = {t["name"]: t for t in shm_pub_sub.topics()}
    for name in ("robot/sensors/lidar/distance", "robot_main/lidar_front/distance_meters"):
        assert info[name]["type"] == "float64"
        assert info[name]["buffer_num"] == 5
    ns["pub"].close()


ROBUST_PRELUDE = """
import shm_pub_sub
import time

def process_data(data):
    print(f"processed {data!r}", flush=True)
    time.sleep(0.01)
"""


def test_tutorial_robust_subscriber_processes_published_data(spawn):
    pub = shm_pub_sub.Publisher("data_topic", 0.0)
    child = spawn(run_file_with(example(15), ROBUST_PRELUDE, "robust_subscriber()\n"))
    feed_until(pub, 1.25, child, "processed 1.25")
    feed_until(pub, 2.5, child, "processed 2.5")
    child.stop()
    assert not any("Error in subscriber" in l for l in child.lines())
    assert child.stderr() == ""


def test_tutorial_robust_subscriber_reports_a_type_mismatch_and_recovers(spawn):
    right = shm_pub_sub.Publisher("data_topic", 0.0)
    child = spawn(run_file_with(example(15), ROBUST_PRELUDE, "robust_subscriber()\n"))
    feed_until(right, 0.5, child, "processed 0.5")
    right.close()
    shm_pub_sub.unlink("data_topic")
    wrong = shm_pub_sub.Publisher("data_topic", 0)  # int64; the subscriber wants float64
    line = feed_until(wrong, 1, child, "Error in subscriber: ")
    assert line.startswith("âŒ Error in subscriber: ")
    assert "int64" in line and "float64" in line, line
    wrong.close()
    shm_pub_sub.unlink("data_topic")
    right = shm_pub_sub.Publisher("data_topic", 0.0)
    feed_until(right, 0.75, child, "processed 0.75")
    child.stop()
    assert child.stderr() == ""


def test_tutorial_managed_publisher_publishes_42(spawn):
    child = spawn(run_file_with(example(16), "import shm_pub_sub\n"))
    assert child.wait(timeout=30) == 0, child.stderr()
    assert child.stdout() == "" and child.stderr() == ""
    sub = shm_pub_sub.Subscriber("my_topic", 0.0)
    assert sub.latest() == 42.0
    assert sub.subscribe() == (42.0, True)
    (info,) = shm_pub_sub.topics()
    assert (info["name"], info["type"], info["buffer_num"]) == ("my_topic", "float64", 3)
    sub.close()
