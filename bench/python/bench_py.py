#!/usr/bin/env python3
"""Python benchmark of hcm's CPython binding (module ``shm_pub_sub``).

Every number is compared with references measured in the same run, by the same
program, on the same machine (see docs/performance.md, section "Python"):

  calls    per-call cost in one process, as a ratio to ``len(b"")`` timed the same way
  lat      two-process ping-pong, one-way = RTT/2, p50/p99 (8 B and 1 MiB zero copy)
  tput     1 MiB one-way stream, lossless (credit scheme), GB/s
  seed     the tutorial's "Performance Testing" function, verbatim

References: a pure-Python ``multiprocessing.shared_memory`` + ``struct`` spin
ping-pong (the Python floor), ``multiprocessing.Pipe`` / ``Queue``, pyzmq over
``ipc://`` and iceoryx2's Python binding (both optional: a missing one prints
"n/a (not installed: pip install X)").

    .venv/bin/python bench/python/bench_py.py            # 5 repeats (~70 s)
    .venv/bin/python bench/python/bench_py.py --quick    # 1 repeat, short windows
    .venv/bin/python bench/python/bench_py.py --list     # the rows

Stdlib + NumPy only besides the optional peers; installs nothing.  Exit status 0
when every measurement ran (a missed goal is a result, not an error), 1 when one
failed or something was left behind, 130 on Ctrl-C.
"""
from __future__ import annotations

import os

# before NumPy is imported: no BLAS thread pools in the processes we fork
for _v in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_v, "1")
DOMAIN = "pybench%d" % os.getpid()
os.environ["HCM_DOMAIN"] = DOMAIN  # inherited by every child (fork)

import argparse  # noqa: E402
import contextlib  # noqa: E402
import ctypes  # noqa: E402
import glob  # noqa: E402
import io  # noqa: E402
import mmap  # noqa: E402
import multiprocessing  # noqa: E402
import multiprocessing.connection  # noqa: E402
import platform  # noqa: E402
import re  # noqa: E402
import shutil  # noqa: E402
import signal  # noqa: E402
import statistics  # noqa: E402
import struct  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402
import timeit  # noqa: E402
import traceback  # noqa: E402
import types  # noqa: E402
from multiprocessing import shared_memory  # noqa: E402

import numpy as np  # noqa: E402

try:
    import shm_pub_sub  # noqa: E402
except ImportError as e:  # pragma: no cover
    sys.exit("bench_py: cannot import shm_pub_sub (%s); run `make python` first" % e)

try:
    import zmq  # noqa: E402
except ImportError:
    zmq = None
try:
    import iceoryx2 as iox2  # noqa: E402

    iox2.set_log_level(iox2.LogLevel.Error)
except ImportError:
    iox2 = None

CTX = multiprocessing.get_context("fork")
PID = os.getpid()
IOX_PREFIX = "pyb%d_" % PID  # every iceoryx2 file of this run starts with it
ZMQ_DIR = "/tmp/pybench%d" % PID  # ipc:// endpoints of this run
IOX_ROOT = "/tmp/iceoryx2"

A, B = 0, 1  # roles: A pings / produces, B pongs / consumes
MIB = 1 << 20
N64 = MIB // 8  # 1 MiB as int64 elements
STREAM_SLOTS = 8  # hcm buffer_num, floor ring slots, iceoryx2 subscriber buffer
CREDIT = STREAM_SLOTS - 1  # the producer never runs more than this far ahead
SPIN = range(100_000_000)  # cap of every pure-Python spin loop (~10 s), never hang
MEAS_TIMEOUT = 30.0  # parent kills a measurement's children after this
CHILD_ALARM = 45  # each child's own alarm(), in case the parent is gone
PROBE_RTTS = 250
PROBE_BATCHES = 8
STREAM_ROUNDS = 3  # the 1 MiB stream rows run this many times per repeat, interleaved

Q = struct.Struct("q")
pk, up = Q.pack_into, Q.unpack_from

# control page (MAP_SHARED, one per measurement): one 64-byte line per word
C_PING, C_PONG, C_STOP, C_TAKEN = 0, 64, 128, 192

# The tutorial's benchmark function, verbatim from the seed
# ("Example: Performance Testing"); only its last line, the call, is left out:
# we call it ourselves, with stdout captured.
SEED_SRC = r'''def benchmark_publish_subscribe():
    """Benchmark publish/subscribe performance"""
    pub = shm_pub_sub.Publisher("benchmark", 0, 10)
    sub = shm_pub_sub.Subscriber("benchmark", 0)
    
    # Warm up
    for i in range(100):
        pub.publish(i)
        data, success = sub.subscribe()
    
    # Benchmark
    start_time = time.time()
    messages_sent = 10000
    
    for i in range(messages_sent):
        pub.publish(i)
    
    # Measure receive performance
    received_count = 0
    while received_count < messages_sent:
        data, success = sub.subscribe()
        if success:
            received_count += 1
    
    end_time = time.time()
    duration = end_time - start_time
    
    print(f"ğŸ“Š Performance Results:")
    print(f"   Messages: {messages_sent}")
    print(f"   Duration: {duration:.3f} seconds")
    print(f"   Throughput: {messages_sent/duration:.0f} messages/second")
    print(f"   Average latency: {duration/messages_sent*1000:.3f} ms")
'''
ORIGINAL_P1 = (7.5e-3, 1340204)  # shared/research/original.md §10 row P1 (another run)

# ---------------------------------------------------------------- hcm polling
# docs/python.md: "spin= seconds; a negative value polls until the timeout".
POLL_SPIN = -1.0
NOTES: list[str] = []


def _probe_poll_spin():
    global POLL_SPIN
    try:
        shm_pub_sub.Subscriber("probe/spin", 0, spin=-1.0).close()
    except ValueError as e:
        POLL_SPIN = 1e6  # spin up to 11 days before sleeping: polling in effect
        NOTES.append(
            "Subscriber(spin=-1) raises ValueError (%s) although docs/python.md and the "
            "docstring say a negative spin polls until the timeout; the polling rows use "
            "spin=1e6 instead" % e
        )


# ====================================================================== helpers


def fmt_t(us):
    if us is None or us != us:
        return "n/a"
    if us < 1:
        return "%.3f" % us
    if us < 10:
        return "%.2f" % us
    if us < 100:
        return "%.1f" % us
    return "%.0f" % us


def fmt_rate(r):
    if r is None:
        return "n/a"
    if r >= 1e6:
        return "%.2fM" % (r / 1e6)
    if r >= 1e3:
        return "%.1fk" % (r / 1e3)
    return "%.0f" % r


def fmt_x(x):
    if x is None or x != x:
        return "n/a"
    if x >= 100:
        return "%.0fx" % x
    if x >= 10:
        return "%.1fx" % x
    if x >= 0.1:
        return "%.2fx" % x
    return "%.2gx" % x


def med_rng(vals, f):
    vals = [v for v in vals if v is not None]
    if not vals:
        return "n/a"
    if len(vals) == 1:
        return f(vals[0])
    return "%s [%s–%s]" % (f(statistics.median(vals)), f(min(vals)), f(max(vals)))


def libc():
    return ctypes.CDLL(None, use_errno=True)


def all_cpus():
    return sorted(os.sched_getaffinity(0))


def percentiles(ts):
    """ts: clock readings, one per round trip (ts[0] = before the first)."""
    a = np.diff(np.asarray(ts, dtype=np.int64))
    p50, p99 = np.percentile(a, [50, 99])
    return p50 / 2e3, p99 / 2e3, len(a)  # one-way µs


def cpu_now():
    """The CPU this thread last ran on (/proc/thread-self/stat, field 39).
    Read by A and B at the end of the window (within a few µs of each other):
    an unpinned run whose two readings match ran on one CPU, at least then."""
    try:
        with open("/proc/thread-self/stat") as f:
            s = f.read()
        return int(s[s.rfind(")") + 2 :].split()[36])
    except (OSError, ValueError, IndexError):
        return -1


def spin_until_eq(buf, off, v):
    for _ in SPIN:
        if up(buf, off)[0] == v:
            return
    raise TimeoutError("spin timed out waiting for %d" % v)


# ====================================================================== probe
# Placement probe (pinned runs): the pure-Python shared-memory ping-pong of the
# floor row on the control page, PROBE_BATCHES batches of PROBE_RTTS round
# trips; the probe is the lowest batch-mean one-way ns (the lowest, so that an
# interrupt or a preemption in one batch does not count as placement). It runs
# right before and right after the measurement.


def probe_a(ctl, base):
    clk = time.perf_counter_ns
    best = None
    i = base
    for _ in range(PROBE_BATCHES):
        t0 = clk()
        for i in range(i + 1, i + PROBE_RTTS + 1):
            pk(ctl, C_PING, i)
            while up(ctl, C_PONG)[0] != i:
                pass
        d = (clk() - t0) / PROBE_RTTS / 2
        best = d if best is None else min(best, d)
    return best


def probe_b(ctl, base):
    for i in range(base + 1, base + PROBE_BATCHES * PROBE_RTTS + 1):
        spin_until_eq(ctl, C_PING, i)
        pk(ctl, C_PONG, i)


# ===================================================== latency mechanisms
# make(role, env) -> (send(int), recv() -> int, close()); A is set up first,
# then B (after a barrier), then both start after a second barrier.


def mk_floor(role, env):
    """multiprocessing.shared_memory + struct: one 8-byte word per direction,
    holding the counter (the sequence word is the payload); spin on it.
    struct.pack_into zero-fills the field before it writes the value, so a
    reader can see 0 in between: 0 is never sent and is skipped."""
    buf = env.shm.buf
    out_off, in_off = (0, 64) if role == A else (64, 0)
    last = 0

    def send(v):
        pk(buf, out_off, v)

    def recv():
        nonlocal last
        for _ in SPIN:
            v = up(buf, in_off)[0]
            if v != last and v:  # 0: pack_into memsets the field before it stores
                last = v
                return v
        raise TimeoutError("floor: no message")

    return send, recv, lambda: None


# The floor's measured window and echo are written inline (no send/recv
# function calls): the tightest pure-Python ping-pong we know with struct. No
# spin cap in these two loops; the child's alarm() and the parent's timeout
# end a hang.


def floor_window(buf, i, end, app):
    clk = time.perf_counter_ns
    now = 0
    while now < end:
        i += 1
        pk(buf, 0, i)
        while up(buf, 64)[0] != i:
            pass
        now = clk()
        app(now)
    return i


def floor_echo(buf):
    last = 0  # A never sends 0
    while True:
        v = up(buf, 0)[0]
        while v == last or not v:  # 0: pack_into's memset before its store
            v = up(buf, 0)[0]
        if v < 0:
            return
        pk(buf, 64, v)
        last = v


def _hcm_pair(role, env, default, **subkw):
    out_t, in_t = ("ping", "pong") if role == A else ("pong", "ping")
    pub = shm_pub_sub.Publisher(env.topic(out_t), default)
    sub = shm_pub_sub.Subscriber(env.topic(in_t), default, **subkw)

    def close():
        pub.close()
        sub.close()

    return pub, sub, close


def mk_hcm_recv(spin):
    def make(role, env):
        kw = {} if spin is None else {"spin": POLL_SPIN if spin == "poll" else spin}
        pub, sub, close = _hcm_pair(role, env, 0, **kw)
        return pub.publish, sub.receive, close  # receive(timeout=None), the default

    return make


def mk_hcm_subloop(role, env):
    """The tutorial's style: spin on subscribe() until the newest value changes."""
    pub, sub, close = _hcm_pair(role, env, 0)
    subscribe = sub.subscribe
    last = 0

    def recv():
        nonlocal last
        for _ in SPIN:
            v = subscribe()[0]
            if v != last:
                last = v
                return v
        raise TimeoutError("subscribe loop: no message")

    return pub.publish, recv, close


def mk_hcm_loan(role, env):
    """1 MiB int64 array topic; the sender writes the counter in place
    (loan), the receiver reads it in place (view); polling."""
    pub, sub, close = _hcm_pair(role, env, np.zeros(N64, np.int64), spin=POLL_SPIN)
    loan, view = pub.loan, sub.view

    def send(v):
        with loan() as buf:
            buf[0] = v

    def recv():
        with view() as vw:
            return int(vw.data[0])

    return send, recv, close


def mk_pipe(role, env):
    c = env.pipe[role]
    return c.send, c.recv, lambda: None


def mk_queue(role, env):
    qout, qin = (env.queues[0], env.queues[1]) if role == A else (env.queues[1], env.queues[0])

    def close():
        for q in env.queues:
            q.cancel_join_thread()

    return qout.put, qin.get, close


def _zmq_sock(role, env, ctx, hwm=None):
    s = ctx.socket(zmq.PAIR)
    s.linger = 0
    if hwm:
        s.sndhwm = s.rcvhwm = hwm
    s.rcvtimeo = 10000
    s.sndtimeo = 10000
    ep = "ipc://%s/%s.ipc" % (ZMQ_DIR, env.key_rep)
    if role == A:
        s.bind(ep)
    else:
        s.connect(ep)
    return s


def mk_zmq(role, env):
    ctx = zmq.Context()
    s = _zmq_sock(role, env, ctx)
    ssend, srecv, pack, unpack = s.send, s.recv, Q.pack, Q.unpack

    def send(v):
        ssend(pack(v))

    def recv():
        return unpack(srecv())[0]

    def close():
        s.close(linger=0)
        ctx.term()

    return send, recv, close


def _iox_node():
    cfg = iox2.config.global_config()
    cfg.global_cfg.prefix = iox2.FileName.new(IOX_PREFIX)
    return iox2.NodeBuilder.new().config(cfg).create(iox2.ServiceType.Ipc)


def _iox_ps(node, name, payload, buffer_size=None):
    b = (
        node.service_builder(iox2.ServiceName.new(name))
        .publish_subscribe(payload)
        .max_publishers(1)
        .max_subscribers(1)
    )
    if buffer_size:
        b = b.subscriber_max_buffer_size(buffer_size)
    return b.open_or_create()


def _iox_close(keep):
    for k in ("pub", "sub", "notifier", "listener"):
        o = keep.pop(k, None)
        if o is not None:
            o.delete()
    keep.clear()  # services, then the node: dropped here (removes their files)


def mk_iox(blocking):
    def make(role, env):
        keep = {"node": _iox_node()}
        node = keep["node"]
        out_t, in_t = ("ping", "pong") if role == A else ("pong", "ping")
        keep["svc_out"] = _iox_ps(node, env.topic(out_t), ctypes.c_uint64)
        keep["svc_in"] = _iox_ps(node, env.topic(in_t), ctypes.c_uint64)
        pub = keep["pub"] = keep["svc_out"].publisher_builder().create()
        sub = keep["sub"] = keep["svc_in"].subscriber_builder().create()
        send_copy, receive, u64 = pub.send_copy, sub.receive, ctypes.c_uint64
        if blocking:
            keep["ev_out"] = (
                node.service_builder(iox2.ServiceName.new(env.topic(out_t + "_ev"))).event().open_or_create()
            )
            keep["ev_in"] = (
                node.service_builder(iox2.ServiceName.new(env.topic(in_t + "_ev"))).event().open_or_create()
            )
            notifier = keep["notifier"] = keep["ev_out"].notifier_builder().create()
            listener = keep["listener"] = keep["ev_in"].listener_builder().create()
            notify, timed_wait = notifier.notify, listener.timed_wait
            tmo = iox2.Duration.from_secs(5)

            def send(v):
                send_copy(u64(v & 0xFFFFFFFFFFFFFFFF))
                notify()

            def recv():
                for _ in range(100):
                    s = receive()
                    if s is not None:
                        v = s.payload().contents.value
                        s.delete()
                        return v - (1 << 64) if v >> 63 else v
                    timed_wait(tmo)
                raise TimeoutError("iceoryx2: no sample")

        else:

            def send(v):
                send_copy(u64(v & 0xFFFFFFFFFFFFFFFF))

            def recv():
                for _ in SPIN:
                    s = receive()
                    if s is not None:
                        v = s.payload().contents.value
                        s.delete()
                        return v - (1 << 64) if v >> 63 else v
                raise TimeoutError("iceoryx2: no sample")

        return send, recv, lambda: _iox_close(keep)

    return make


def mk_iox_loan(role, env):
    """1 MiB slice; the sender writes the 8-byte counter into the loaned
    sample, the receiver reads it from the received sample; polling."""
    keep = {"node": _iox_node()}
    node = keep["node"]
    out_t, in_t = ("ping", "pong") if role == A else ("pong", "ping")
    payload = iox2.Slice[ctypes.c_uint8]
    keep["svc_out"] = _iox_ps(node, env.topic(out_t), payload)
    keep["svc_in"] = _iox_ps(node, env.topic(in_t), payload)
    pub = keep["pub"] = keep["svc_out"].publisher_builder().initial_max_slice_len(MIB).create()
    sub = keep["sub"] = keep["svc_in"].subscriber_builder().create()
    loan, receive, i64 = pub.loan_slice_uninit, sub.receive, ctypes.c_int64

    def send(v):
        u = loan(MIB)
        i64.from_address(u.payload_ptr).value = v
        u.assume_init().send()

    def recv():
        for _ in SPIN:
            s = receive()
            if s is not None:
                v = i64.from_address(s.payload_ptr).value
                s.delete()
                return v
        raise TimeoutError("iceoryx2: no sample")

    return send, recv, lambda: _iox_close(keep)


# ===================================================== stream mechanisms
# make(role, env) -> (send(counter) [A] or recv() -> counter [B], close, extra())


def ms_floor(role, env):
    """A ring of 8 x 1 MiB slots in multiprocessing.shared_memory after a
    64-byte line with the producer's count; numpy copy in, numpy copy out."""
    buf = env.shm.buf
    slots = np.frombuffer(buf, np.int64, count=STREAM_SLOTS * N64, offset=64).reshape(STREAM_SLOTS, N64)
    arr = np.zeros(N64, np.int64)
    copyto = np.copyto
    n = 0
    holder = [slots]

    def close():
        holder.clear()

    if role == A:

        def send(v):
            arr[0] = v
            copyto(slots[v % STREAM_SLOTS], arr)
            pk(buf, 0, v + 1)

        return send, close, lambda: {}

    def recv():
        nonlocal n
        for _ in SPIN:
            if up(buf, 0)[0] > n:
                copyto(arr, slots[n % STREAM_SLOTS])
                n += 1
                return int(arr[0])
        raise TimeoutError("floor ring: no message")

    return recv, close, lambda: {}


def ms_hcm(role, env):
    """publish() of a preallocated array / receive() (a new array each call)."""
    default = np.zeros(N64, np.int64)
    if role == A:
        pub = shm_pub_sub.Publisher(env.topic("stream"), default, STREAM_SLOTS)
        arr = np.zeros(N64, np.int64)
        publish = pub.publish

        def send(v):
            arr[0] = v
            publish(arr)

        return send, pub.close, lambda: {}
    sub = shm_pub_sub.Subscriber(env.topic("stream"), default, spin=POLL_SPIN)
    receive = sub.receive

    def recv():
        return int(receive()[0])

    def extra():
        return {"lost_lib": sub.lost}

    return recv, sub.close, extra


def ms_iox(role, env):
    """1 MiB slice samples: memmove in from a private array, memmove out."""
    keep = {"node": _iox_node()}
    payload = iox2.Slice[ctypes.c_uint8]
    keep["svc"] = _iox_ps(keep["node"], env.topic("stream"), payload, STREAM_SLOTS)
    arr = np.zeros(N64, np.int64)
    addr = arr.ctypes.data
    memmove = ctypes.memmove
    if role == A:
        pub = keep["pub"] = keep["svc"].publisher_builder().initial_max_slice_len(MIB).create()
        loan = pub.loan_slice_uninit

        def send(v):
            arr[0] = v
            u = loan(MIB)
            memmove(u.payload_ptr, addr, MIB)
            u.assume_init().send()

        return send, lambda: _iox_close(keep), lambda: {}
    sub = keep["sub"] = keep["svc"].subscriber_builder().buffer_size(STREAM_SLOTS).create()
    receive = sub.receive

    def recv():
        for _ in SPIN:
            s = receive()
            if s is not None:
                memmove(addr, s.payload_ptr, MIB)
                s.delete()
                return int(arr[0])
        raise TimeoutError("iceoryx2: no sample")

    return recv, lambda: _iox_close(keep), lambda: {}


def ms_zmq(role, env):
    """PAIR over ipc://, two frames: the counter, then the 1 MiB array sent
    with copy=False; received with copy=False, as an array over the frame.
    Lossless by zmq's own flow control (a send blocks at the high-water mark,
    4 messages each side), not by the credit: a pinned producer spinning for
    credit starves zmq's I/O thread, which shares its CPU (measured: ~100-200
    msg/s instead of thousands)."""
    ctx = zmq.Context()
    s = _zmq_sock(role, env, ctx, hwm=4)

    def close():
        s.close(linger=0)
        ctx.term()

    if role == A:
        arr = np.zeros(N64, np.int64)
        ssend, pack, more = s.send, Q.pack, zmq.SNDMORE
        s.sndtimeo = 100
        ctl = env.ctl

        def send(v):
            for _ in range(200):
                try:
                    ssend(pack(v), more)
                    break
                except zmq.Again:
                    if up(ctl, C_STOP)[0]:
                        return
            else:
                raise TimeoutError("zmq: send blocked for 20 s")
            ssend(arr, copy=False)  # a multipart message is queued atomically

        return send, close, lambda: {}
    recv_multipart, unpack, frombuffer = s.recv_multipart, Q.unpack, np.frombuffer

    def recv():
        f = recv_multipart(copy=False)
        data = frombuffer(f[1].buffer, np.int64)
        if data.size != N64:
            raise RuntimeError("zmq: short frame")
        return unpack(f[0].bytes)[0]

    return recv, close, lambda: {}


# ============================================================== child bodies


def lat_body(role, env):
    make = LAT_MECH[env.row.mech]
    if role == A:
        send, recv, close = make(A, env)
        env.barrier.wait()
    else:
        env.barrier.wait()
        send, recv, close = make(B, env)
    env.barrier.wait()
    ctl, pinned = env.ctl, env.row.mode == "pin"
    clk = time.perf_counter_ns
    try:
        if role == B:
            cpus = []
            if pinned:
                probe_b(ctl, 0)
            if env.row.mech == "floor":
                floor_echo(env.shm.buf)
            else:
                while True:
                    v = recv()
                    if v < 0:
                        break
                    send(v)
            cpus.append(cpu_now())
            if pinned:
                probe_b(ctl, 1 << 40)
            return {"cpus": cpus}
        cpus = []
        pb = probe_a(ctl, 0) if pinned else None
        i = 0
        warm_end = clk() + env.warm_ns
        while True:
            i += 1
            send(i)
            v = recv()
            if v != i:
                raise RuntimeError("echo %r for %d" % (v, i))
            if i >= 100 and clk() >= warm_end:
                break
        ts = [clk()]
        app = ts.append
        end = ts[0] + env.win_ns
        now = ts[0]
        if env.row.mech == "floor":
            i = floor_window(env.shm.buf, i, end, app)
        else:
            while now < end:
                i += 1
                send(i)
                if recv() != i:
                    raise RuntimeError("wrong echo at %d" % i)
                now = clk()
                app(now)
        cpus.append(cpu_now())
        send(-1)
        pa = probe_a(ctl, 1 << 40) if pinned else None
        p50, p99, n = percentiles(ts)
        return {"p50": p50, "p99": p99, "n": n, "probe": (pb, pa), "cpus": cpus}
    finally:
        close()


def stream_body(role, env):
    make = STREAM_MECH[env.row.mech]
    if role == A:
        h = make(A, env)
        env.barrier.wait()
    else:
        env.barrier.wait()
        h = make(B, env)
    env.barrier.wait()
    ctl, pinned = env.ctl, env.row.mode == "pin"
    io_fn, close, extra = h
    clk = time.perf_counter_ns
    sched_yield = os.sched_yield
    try:
        if role == A:
            cpus = []
            pb = probe_a(ctl, 0) if pinned else None
            i, taken = 0, 0
            credit = 1 << 62 if env.row.mech == "zmq" else CREDIT
            while not up(ctl, C_STOP)[0]:
                if i - taken >= credit:
                    for _ in SPIN:
                        taken = up(ctl, C_TAKEN)[0]
                        if i - taken < credit or up(ctl, C_STOP)[0]:
                            break
                        sched_yield()  # a pinned producer's helper threads (zmq I/O) share its CPU
                    else:
                        raise TimeoutError("producer: no credit")
                    continue
                io_fn(i)
                i += 1
            cpus.append(cpu_now())
            pa = probe_a(ctl, 1 << 40) if pinned else None
            return {"sent": i, "probe": (pb, pa), "cpus": cpus}
        cpus = []
        if pinned:
            probe_b(ctl, 0)
        recv = io_fn
        expected, lost = 0, 0

        def take():
            nonlocal expected, lost
            v = recv()
            if v != expected:
                if v < expected:
                    raise RuntimeError("duplicate or reordered: %d after %d" % (v, expected - 1))
                lost += v - expected
            expected = v + 1
            pk(ctl, C_TAKEN, expected)

        warm_end = clk() + env.warm_ns
        while clk() < warm_end or expected < 20:
            take()
        t0 = clk()
        end = t0 + env.win_ns
        n, now = 0, t0
        while now < end:
            take()
            n += 1
            now = clk()
        cpus.append(cpu_now())
        pk(ctl, C_STOP, 1)
        if pinned:
            probe_b(ctl, 1 << 40)
        rate = n / ((now - t0) / 1e9)
        res = {"rate": rate, "gbs": rate * MIB / 1e9, "lost": lost, "n": n, "cpus": cpus}
        res.update(extra())
        res["lost"] += res.pop("lost_lib", 0)
        return res
    finally:
        close()


def _child_main(role, body, env, conn, cpus):
    try:
        signal.signal(signal.SIGINT, signal.SIG_IGN)  # the parent handles Ctrl-C
        signal.signal(signal.SIGALRM, signal.SIG_DFL)
        signal.alarm(CHILD_ALARM)
        try:
            libc().prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG
        except Exception:
            pass
        os.sched_setaffinity(0, cpus)
        res = body(role, env)
        conn.send(("ok", res))
    except BaseException:
        try:
            conn.send(("err", traceback.format_exc()[-3000:]))
        finally:
            os._exit(1)


# ============================================================ rows and parent


class Row:
    def __init__(self, key, kind, what, mode="pin", size="8 B", mech=None, ref=None, peer=None):
        self.key, self.kind, self.what, self.mode, self.size = key, kind, what, mode, size
        self.mech, self.ref, self.peer = mech, ref, peer


LAT_MECH = {
    "floor": mk_floor,
    "hcm-poll": mk_hcm_recv("poll"),
    "hcm-block": mk_hcm_recv(None),
    "hcm-sleep": mk_hcm_recv(0.0),
    "hcm-subloop": mk_hcm_subloop,
    "hcm-loan": mk_hcm_loan,
    "pipe": mk_pipe,
    "queue": mk_queue,
    "zmq": mk_zmq,
    "iox-poll": mk_iox(False),
    "iox-block": mk_iox(True),
    "iox-loan": mk_iox_loan,
}
STREAM_MECH = {"floor": ms_floor, "hcm": ms_hcm, "iox": ms_iox, "zmq": ms_zmq}

MODE_TXT = {"pin": "pinned", "unp": "unpinned", "one": "1 process"}


def build_rows():
    R = []
    L = lambda *a, **k: R.append(Row(*a, **k))  # noqa: E731
    # per-call (one process)
    L("call-len", "call", "len(b\"\") (reference)", "one", "", ref=None)
    L("call-publish", "call", "hcm pub.publish(1.0)", "one", "8 B", ref="call-len")
    L("call-subscribe", "call", "hcm sub.subscribe()", "one", "8 B", ref="call-len")
    L("call-subscribe-noexp", "call", "hcm sub.subscribe(), expiry=None", "one", "8 B", ref="call-len")
    L("call-receive", "call", "hcm sub.receive() (sample ready)", "one", "8 B", ref="call-len")
    L("call-loan-1M", "call", "hcm with pub.loan() as b: b[0]=i (1 MiB array)", "one", "1 MiB", ref="call-len")
    L("call-loanview-1M", "call", "hcm loan + with sub.view() as v: v.data[0]", "one", "1 MiB", ref="call-len")
    L("call-iox-send", "call", "iceoryx2 pub.send_copy(c_double(1.0))", "one", "8 B", ref="call-len", peer="iceoryx2")
    L("call-iox-receive", "call", "iceoryx2 receive()+payload().contents+delete()", "one", "8 B", ref="call-len", peer="iceoryx2")
    # latency, pinned
    L("floor-8B-pin", "lat", "Python floor: shared_memory+struct spin", "pin", mech="floor")
    L("poll-8B-pin", "lat", "hcm polling: receive(), spin=poll", "pin", mech="hcm-poll", ref="floor-8B-pin")
    L("block-8B-pin", "lat", "hcm blocking: receive() default", "pin", mech="hcm-block", ref="floor-8B-pin")
    L("sleep-8B-pin", "lat", "hcm receive(), spin=0 (futex at once)", "pin", mech="hcm-sleep", ref="pipe-8B-pin")
    L("subloop-8B-pin", "lat", "hcm loop on subscribe()", "pin", mech="hcm-subloop", ref="floor-8B-pin")
    L("pipe-8B-pin", "lat", "multiprocessing.Pipe send/recv", "pin", mech="pipe", ref="floor-8B-pin")
    L("queue-8B-pin", "lat", "multiprocessing.Queue put/get", "pin", mech="queue", ref="floor-8B-pin")
    L("zmq-8B-pin", "lat", "pyzmq PAIR ipc://", "pin", mech="zmq", ref="floor-8B-pin", peer="pyzmq")
    L("ioxpoll-8B-pin", "lat", "iceoryx2 polling receive()", "pin", mech="iox-poll", ref="floor-8B-pin", peer="iceoryx2")
    L("ioxblock-8B-pin", "lat", "iceoryx2 blocking: Listener.timed_wait", "pin", mech="iox-block", ref="floor-8B-pin", peer="iceoryx2")
    L("loan-1M-pin", "lat", "hcm zero copy: loan()/view(), polling", "pin", "1 MiB", mech="hcm-loan", ref="poll-8B-pin")
    L("ioxloan-1M-pin", "lat", "iceoryx2 zero copy: loan_slice/receive, polling", "pin", "1 MiB", mech="iox-loan", ref="ioxpoll-8B-pin", peer="iceoryx2")
    # latency, unpinned
    L("floor-8B-unp", "lat", "Python floor: shared_memory+struct spin", "unp", mech="floor")
    L("poll-8B-unp", "lat", "hcm polling: receive(), spin=poll", "unp", mech="hcm-poll", ref="floor-8B-unp")
    L("block-8B-unp", "lat", "hcm blocking: receive() default", "unp", mech="hcm-block", ref="floor-8B-unp")
    L("pipe-8B-unp", "lat", "multiprocessing.Pipe send/recv", "unp", mech="pipe", ref="floor-8B-unp")
    L("queue-8B-unp", "lat", "multiprocessing.Queue put/get", "unp", mech="queue", ref="floor-8B-unp")
    L("zmq-8B-unp", "lat", "pyzmq PAIR ipc://", "unp", mech="zmq", ref="floor-8B-unp", peer="pyzmq")
    L("ioxpoll-8B-unp", "lat", "iceoryx2 polling receive()", "unp", mech="iox-poll", ref="floor-8B-unp", peer="iceoryx2")
    L("ioxblock-8B-unp", "lat", "iceoryx2 blocking: Listener.timed_wait", "unp", mech="iox-block", ref="floor-8B-unp", peer="iceoryx2")
    # 1 MiB streams, pinned
    L("floor-1M-stream", "tput", "Python floor: shared_memory ring, numpy copies", "pin", "1 MiB", mech="floor")
    L("hcm-1M-stream", "tput", "hcm publish(array) / receive()", "pin", "1 MiB", mech="hcm", ref="floor-1M-stream")
    L("iox-1M-stream", "tput", "iceoryx2 slice loan+memmove / receive+memmove", "pin", "1 MiB", mech="iox", ref="floor-1M-stream", peer="iceoryx2")
    L("zmq-1M-stream", "tput", "pyzmq PAIR ipc://, copy=False", "pin", "1 MiB", mech="zmq", ref="floor-1M-stream", peer="pyzmq")
    # the tutorial's benchmark
    L("seed", "seed", "tutorial benchmark_publish_subscribe()", "one", "8 B")
    return R


ROWS = build_rows()
BYKEY = {r.key: r for r in ROWS}
PEER_MOD = {"iceoryx2": iox2, "pyzmq": zmq}


def peer_missing(row):
    return row.peer is not None and PEER_MOD[row.peer] is None


class Env(types.SimpleNamespace):
    def topic(self, t):
        return "%s/%s" % (self.key_rep, t)


def _unlink_quiet(name):
    try:
        shm_pub_sub.unlink(name)
    except FileNotFoundError:
        pass


class Failed(Exception):
    pass


def run_pair(row, rep, args):
    body = lat_body if row.kind == "lat" else stream_body
    env = Env(row=row, key_rep="%s.%d" % (row.key.replace("-", "_"), rep), warm_ns=args.warm_ns, win_ns=args.win_ns)
    env.ctl = mmap.mmap(-1, 4096)
    env.barrier = CTX.Barrier(2, timeout=15)
    env.shm = env.pipe = env.queues = None
    topics = [env.topic(t) for t in ("ping", "pong", "stream")]
    if row.mech == "floor":
        env.shm = shared_memory.SharedMemory(create=True, size=64 + (STREAM_SLOTS * MIB if row.kind == "tput" else 64))
    elif row.mech == "pipe":
        env.pipe = CTX.Pipe()
    elif row.mech == "queue":
        env.queues = (CTX.Queue(), CTX.Queue())
    cpus = all_cpus()
    placement = [[cpus[0]], [cpus[1]]] if row.mode == "pin" else [cpus, cpus]
    procs, conns, res = [], [], {}
    try:
        for role in (A, B):
            r, w = CTX.Pipe(duplex=False)
            p = CTX.Process(target=_child_main, args=(role, body, env, w, placement[role]), daemon=True)
            p.start()
            w.close()
            procs.append(p)
            conns.append(r)
        deadline = time.monotonic() + MEAS_TIMEOUT
        pending = {conns[A]: A, conns[B]: B}
        while pending:
            left = deadline - time.monotonic()
            if left <= 0:
                raise Failed("timeout after %.0f s" % MEAS_TIMEOUT)
            for c in multiprocessing.connection.wait(list(pending), timeout=left):
                role = pending.pop(c)
                try:
                    status, val = c.recv()
                except EOFError:
                    raise Failed("child %s died (exit %s)" % ("AB"[role], procs[role].exitcode)) from None
                if status != "ok":
                    raise Failed("child %s failed:\n%s" % ("AB"[role], val))
                res[role] = val
        for p in procs:
            p.join(5)
        if row.kind == "lat":
            out = res[A]
            out["cpus"] = (out.get("cpus"), res[B].get("cpus"))
        else:
            out = res[B]
            out["probe"] = res[A].get("probe")
            out["cpus"] = (res[A].get("cpus"), out.get("cpus"))
        ca, cb = out["cpus"]
        out["same_cpu"] = bool(ca and cb and any(x == y and x >= 0 for x, y in zip(ca, cb)))
        return out
    finally:
        for p in procs:
            if p.is_alive():
                p.kill()
            p.join(5)
        for c in conns:
            c.close()
        for t in topics:
            _unlink_quiet(t)
        if env.shm is not None:
            env.shm.close()
            env.shm.unlink()
        if env.pipe is not None:
            for c in env.pipe:
                c.close()
        if env.queues is not None:
            for q in env.queues:
                q.close()
        env.ctl.close()


def run_in_child(fn, cpu, timeout=60):
    r, w = CTX.Pipe(duplex=False)
    p = CTX.Process(target=_child_main, args=(A, lambda role, env: fn(), None, w, [cpu]), daemon=True)
    p.start()
    w.close()
    try:
        if not r.poll(timeout):
            raise Failed("timeout after %d s" % timeout)
        try:
            status, val = r.recv()
        except EOFError:
            raise Failed("child died (exit %s)" % p.exitcode) from None
        if status != "ok":
            raise Failed("child failed:\n%s" % val)
        return val
    finally:
        p.join(5)
        if p.is_alive():
            p.kill()
            p.join(5)
        r.close()


# ============================================================== per-call costs


def per_call(args, rep):
    """One process. timeit-style loops (best of `trials`), ns per call."""
    trials = 3 if args.quick else 7
    target_s = 0.004 if args.quick else 0.015
    out = {}

    def best(stmt, g, setup="pass", n=None, cap=None):
        t = timeit.Timer(stmt, setup=setup, globals=g)
        if n is None:
            k = 200
            while True:
                d = t.timeit(k)
                if d > 0.002:
                    break
                k *= 4
            n = max(200, int(k * target_s / d))
        if cap:
            n = min(n, cap)
        return min(t.repeat(trials, n)) / n * 1e9

    out["call-len"] = best("f(a)", {"f": len, "a": b""})
    base = "call.%d" % rep
    pub = shm_pub_sub.Publisher(base + "/f", 0.0, 32768)
    sub = shm_pub_sub.Subscriber(base + "/f", 0.0)
    sub0 = shm_pub_sub.Subscriber(base + "/f", 0.0, expiry=None)
    out["call-publish"] = best("f(a)", {"f": pub.publish, "a": 1.0})
    out["call-subscribe"] = best("f()", {"f": sub.subscribe})
    out["call-subscribe-noexp"] = best("f()", {"f": sub0.subscribe})
    fill = "for _ in range(%d): p(1.0)"
    nrecv = 30000
    out["call-receive"] = best("f()", {"f": sub.receive, "p": pub.publish}, setup=fill % nrecv, n=nrecv)
    if sub.lost:
        raise RuntimeError("receive lost %d" % sub.lost)
    for o in (pub, sub, sub0):
        o.close()
    big = np.zeros(N64, np.int64)
    pb = shm_pub_sub.Publisher(base + "/big", big, 4)
    sb = shm_pub_sub.Subscriber(base + "/big", big, spin=POLL_SPIN)
    loan, view = pb.loan, sb.view

    def loan_write():
        with loan() as b:
            b[0] = 1

    def loan_view():
        with loan() as b:
            b[0] = 1
        with view() as v:
            return v.data[0]

    out["call-loan-1M"] = best("f()", {"f": loan_write})
    out["call-loanview-1M"] = best("f()", {"f": loan_view})
    pb.close()
    sb.close()
    for t in ("/f", "/big"):
        _unlink_quiet(base + t)
    if iox2 is not None:
        keep = {"node": _iox_node()}
        keep["svc"] = _iox_ps(keep["node"], base + "/iox", ctypes.c_double, 32768)
        ipub = keep["pub"] = keep["svc"].publisher_builder().create()
        isub = keep["sub"] = keep["svc"].subscriber_builder().buffer_size(32768).create()
        receive = isub.receive

        def rd():
            s = receive()
            v = s.payload().contents.value
            s.delete()
            return v

        x = ctypes.c_double(1.0)
        out["call-iox-send"] = best("f(a)", {"f": ipub.send_copy, "a": x}, cap=20000)
        while receive() is not None:  # drain: the ring is lossy by default
            pass
        nr = 20000
        out["call-iox-receive"] = best("f()", {"f": rd, "p": ipub.send_copy, "a": x}, setup="for _ in range(%d): p(a)" % nr, n=nr)
        del rd, receive
        _iox_close(keep)
    return out


# ============================================================ seed benchmark


def seed_run(wrapped):
    """The tutorial's function, stdout captured. Returns what it printed, our
    own wall time of the call and what a new Subscriber reads afterwards."""
    _unlink_quiet("benchmark")
    recs = []
    mod = shm_pub_sub
    if wrapped:
        real = shm_pub_sub.Subscriber

        class RecSub:  # records every value subscribe() returned to the loop
            def __init__(self, *a, **k):
                self._s = real(*a, **k)
                self.seen = []
                recs.append(self)

            def subscribe(self):
                r = self._s.subscribe()
                self.seen.append(r[0])
                return r

        mod = types.SimpleNamespace(Publisher=shm_pub_sub.Publisher, Subscriber=RecSub)
    ns = {"shm_pub_sub": mod, "time": time}
    exec(compile(SEED_SRC, "<seed tutorial>", "exec"), ns)
    buf = io.StringIO()
    t0 = time.perf_counter()
    with contextlib.redirect_stdout(buf):
        ns["benchmark_publish_subscribe"]()
    wall = time.perf_counter() - t0
    text = buf.getvalue()
    m = re.search(r"Throughput: (\d+) messages/second", text)
    d = re.search(r"Duration: ([0-9.]+) seconds", text)
    after = shm_pub_sub.Subscriber("benchmark", 0).latest()
    out = {
        "printed_rate": int(m.group(1)) if m else None,
        "printed_duration": float(d.group(1)) if d else None,
        "wall": wall,
        "latest_after": after,
        "text": text,
    }
    if wrapped and recs:
        seen = recs[0].seen[100:]  # after the warm-up
        out["distinct_in_loop"] = sorted(set(seen))
        out["last_in_loop"] = seen[-1] if seen else None
    _unlink_quiet("benchmark")
    return out


# ============================================================ environment


def _proc_ticks():
    out = {}
    for d in os.listdir("/proc"):
        if not d.isdigit():
            continue
        try:
            with open("/proc/%s/stat" % d) as f:
                s = f.read()
        except OSError:
            continue
        lp, rp = s.find("("), s.rfind(")")
        f = s[rp + 2 :].split()
        try:
            out[int(d)] = (s[lp + 1 : rp], int(f[11]) + int(f[12]))
        except (IndexError, ValueError):
            pass
    return out


def _share(cpu, dur=0.25):
    os.sched_setaffinity(0, [cpu])
    c0, t0 = time.process_time(), time.perf_counter()
    while time.perf_counter() - t0 < dur:
        pass
    return (time.process_time() - c0) / (time.perf_counter() - t0)


def env_record(label):
    with open("/proc/loadavg") as f:
        load = f.read().strip()
    clk = time.perf_counter_ns
    t0 = clk()
    for _ in range(200000):
        clk()
    clock_ns = (clk() - t0) / 200000
    a = _proc_ticks()
    w0 = time.perf_counter()
    shares, kids = {}, []
    for c in all_cpus():
        r, w = CTX.Pipe(duplex=False)
        p = CTX.Process(target=_child_main, args=(A, (lambda c: lambda role, env: _share(c))(c), None, w, [c]), daemon=True)
        p.start()
        w.close()
        kids.append((c, p, r))
    for c, p, r in kids:
        shares[c] = r.recv()[1] if r.poll(10) else -1.0
        p.join(5)
        r.close()
    wall = time.perf_counter() - w0
    b = _proc_ticks()
    hz = os.sysconf("SC_CLK_TCK")
    ours = {os.getpid()} | {p.pid for _, p, _ in kids}
    busy = []
    for pid, (comm, ticks) in b.items():
        if pid in ours:
            continue
        before = a.get(pid, (comm, 0))[1]
        pct = 100.0 * (ticks - before) / hz / wall
        if ticks >= before and pct >= 10:
            busy.append("%s(%d) %.0f%%" % (comm, pid, pct))
    lines = [
        "loadavg_%s=%s" % (label, load),
        "busy_processes_%s=%s" % (label, ", ".join(busy)),
        "PROBE perf_counter_ns=%.1f ns ncpu=%d %s"
        % (clock_ns, len(shares), " ".join("cpu%d_share=%.3f" % (c, s) for c, s in sorted(shares.items()))),
    ]
    return lines, min(shares.values()) if shares else 1.0


# ============================================================ cleanup


def hcm_files():
    return sorted(f for f in glob.glob("/dev/shm/*") if (".%s." % DOMAIN) in os.path.basename(f))


def iox_files():
    pats = ["/dev/shm/%s*" % IOX_PREFIX, IOX_ROOT + "/**/%s*" % IOX_PREFIX]
    return sorted({f for p in pats for f in glob.glob(p, recursive=True)})


def cleanup(iox_root_existed, default_iox_before):
    """Removes what this run created; returns report lines and a failure flag."""
    lines, failed = [], False
    left = []
    try:
        left = [t["name"] for t in shm_pub_sub.topics(DOMAIN)]
    except Exception as e:  # pragma: no cover
        lines.append("hcm topics(): %s" % e)
    for t in left:
        _unlink_quiet(t)
    files = hcm_files()
    if left or files:
        failed = True
    lines.append(
        "hcm: topics left in domain %s: %d%s; files left in /dev/shm: %d"
        % (DOMAIN, len(left), (" (" + ", ".join(left) + "; unlinked now)") if left else "", len(files))
    )
    ifiles = iox_files()
    mgmt = [f for f in ifiles if f.endswith(".global_mgmt")]
    other = [f for f in ifiles if f not in mgmt]
    for f in ifiles:
        with contextlib.suppress(OSError):
            os.unlink(f)
    # empty node directories of our nodes, and the root if this run created it
    for d in sorted(glob.glob(IOX_ROOT + "/nodes/*/"), reverse=True):
        with contextlib.suppress(OSError):
            if not os.listdir(d) and any(os.path.dirname(f.rstrip("/")) == d.rstrip("/") for f in ifiles):
                os.rmdir(d)
    if not iox_root_existed and os.path.isdir(IOX_ROOT):
        if not [f for f in glob.glob(IOX_ROOT + "/**", recursive=True) if os.path.isfile(f)]:
            shutil.rmtree(IOX_ROOT, ignore_errors=True)
    if iox2 is not None:
        lines.append(
            "iceoryx2 (prefix %s): %d file(s) left after every node was dropped: %d *.global_mgmt "
            "(iceoryx2 leaves one per prefix by design) + %d other%s; all removed"
            % (IOX_PREFIX, len(ifiles), len(mgmt), len(other), (" (" + ", ".join(other[:5]) + ")") if other else "")
        )
        if other:
            failed = True
        new_default = sorted(set(glob.glob("/dev/shm/iox2_*")) - default_iox_before)
        if new_default:
            lines.append("WARNING: new /dev/shm/iox2_* files appeared during the run (not ours, left alone): %d" % len(new_default))
    if os.path.isdir(ZMQ_DIR):
        stale = os.listdir(ZMQ_DIR)
        shutil.rmtree(ZMQ_DIR, ignore_errors=True)
        lines.append("zmq: %d ipc endpoint file(s) left in %s (removed with the directory)" % (len(stale), ZMQ_DIR))
    return lines, failed


# ============================================================ report


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--repeats", type=int, default=5)
    ap.add_argument("--quick", action="store_true", help="1 repeat, short windows (smoke test)")
    ap.add_argument("--warm-ms", type=float, default=50)
    ap.add_argument("--window-ms", type=float, default=250)
    ap.add_argument("--only", default="", help="comma-separated row keys or substrings (references are added)")
    ap.add_argument("--list", action="store_true")
    args = ap.parse_args()
    if args.list:
        for r in ROWS:
            print("%-22s %-5s %-9s %-6s %s%s" % (r.key, r.kind, MODE_TXT[r.mode], r.size, r.what, ("   [ratio to %s]" % r.ref) if r.ref else ""))
        return 0
    if args.quick:
        args.repeats = 1
        args.warm_ms, args.window_ms = min(args.warm_ms, 20), min(args.window_ms, 60)
    args.warm_ns, args.win_ns = int(args.warm_ms * 1e6), int(args.window_ms * 1e6)

    rows = ROWS
    if args.only:
        want = [w.strip() for w in args.only.split(",") if w.strip()]
        keep = {r.key for r in ROWS if any(w in r.key for w in want)}
        if any(BYKEY[k].kind == "call" for k in keep):
            keep |= {r.key for r in ROWS if r.kind == "call"}  # one child measures them all
        for _ in range(3):
            keep |= {BYKEY[k].ref for k in keep if BYKEY[k].ref}
        rows = [r for r in ROWS if r.key in keep]
    if len(all_cpus()) < 2:
        print("note: fewer than 2 CPUs allowed; pinned rows are n/a")

    iox_root_existed = os.path.isdir(IOX_ROOT)
    default_iox_before = set(glob.glob("/dev/shm/iox2_*"))
    if zmq is not None:
        os.makedirs(ZMQ_DIR, exist_ok=True)
    _probe_poll_spin()
    _unlink_quiet("probe/spin")
    for r in ROWS:
        r.what = r.what.replace("spin=poll", "spin=-1" if POLL_SPIN < 0 else "spin=1e6")

    def ver(mod):
        try:
            from importlib.metadata import version

            return version(mod)
        except Exception:
            return "?"

    print("# hcm Python benchmark (bench/python/bench_py.py)")
    print(
        "date_utc=%s python=%s numpy=%s hcm=%s pyzmq=%s iceoryx2=%s"
        % (
            time.strftime("%Y%m%dT%H%M%SZ", time.gmtime()),
            platform.python_version(),
            np.__version__,
            ver("hcm"),
            ver("pyzmq") if zmq else "not installed",
            ver("iceoryx2") if iox2 else "not installed",
        )
    )
    print("kernel=%s cpus=%s domain=%s repeats=%d warm=%.0f ms window=%.0f ms" % (platform.platform(), all_cpus(), DOMAIN, args.repeats, args.warm_ms, args.window_ms))
    env_start, share_start = env_record("start")
    print("\n".join(env_start))
    if share_start < 0.9:
        print("WARNING: a pinned spinning process got < 90 % of a CPU: numbers are not representative")
    for n in NOTES:
        print("NOTE:", n)
    print()

    results = {r.key: [] for r in rows}  # per repeat: dict or None (failed) or "n/a"
    failures = []
    t_start = time.monotonic()
    interrupted = False
    try:
        for rep in range(args.repeats):
            tag = "[%d/%d]" % (rep + 1, args.repeats)
            call_rows = [r for r in rows if r.kind == "call"]
            if call_rows:
                try:
                    pc = run_in_child(lambda: per_call(args, rep), all_cpus()[0])
                except Failed as e:
                    pc = {}
                    failures.append("%s per-call: %s" % (tag, e))
                    print("%s per-call FAILED: %s" % (tag, e))
                for r in call_rows:
                    v = pc.get(r.key)
                    results[r.key].append(None if v is None and not peer_missing(r) else ("n/a" if v is None else v))
                ref = pc.get("call-len")
                print("%s per-call ns: %s" % (tag, "  ".join("%s=%.0f" % (k[5:], v) for k, v in pc.items())) + ("  (len ref %.1f ns)" % ref if ref else ""))
            rounds = 1 if args.quick else STREAM_ROUNDS
            sched = [(r, 0) for r in rows if r.kind == "lat"]
            sched += [(r, k) for k in range(rounds) for r in rows if r.kind == "tput"]
            for r, k in sched:
                tag = "[%d/%d]" % (rep + 1, args.repeats) if r.kind == "lat" or rounds == 1 else "[%d/%d.%d]" % (rep + 1, args.repeats, k + 1)
                if peer_missing(r):
                    results[r.key].append("n/a")
                    continue
                if r.mode == "pin" and len(all_cpus()) < 2:
                    results[r.key].append("n/a")
                    continue
                try:
                    res = run_pair(r, rep * 10 + k, args)
                except Failed as e:
                    failures.append("%s %s: %s" % (tag, r.key, e))
                    print("%s %-16s FAILED: %s" % (tag, r.key, e))
                    results[r.key].append(None)
                    continue
                results[r.key].append(res)
                if r.mode == "pin":
                    pr = res.get("probe") or (None, None)
                    probe = "probe %4s /%4s ns" % tuple("%.0f" % p if p else "-" for p in pr)
                else:
                    ca, cb = res.get("cpus") or (None, None)
                    probe = ("cpu A %s B %s" % (",".join(map(str, ca or [])), ",".join(map(str, cb or [])))).ljust(18)
                    if res.get("same_cpu"):
                        probe += " SAME CPU"
                if r.kind == "lat":
                    print("%s %-16s %-46s %-8s %-6s %s  p50 %8s µs  p99 %8s µs  (%d round trips)" % (tag, r.key, r.what, MODE_TXT[r.mode], r.size, probe, fmt_t(res["p50"]), fmt_t(res["p99"]), res["n"]))
                else:
                    print("%s %-16s %-46s %-8s %-6s %s  %10s msg/s %7.2f GB/s  lost %d" % (tag, r.key, r.what, MODE_TXT[r.mode], r.size, probe, fmt_rate(res["rate"]), res["gbs"], res["lost"]))
            if any(r.kind == "seed" for r in rows):
                try:
                    s = run_in_child(lambda: seed_run(False), all_cpus()[0])
                    results["seed"].append(s)
                    print("%s seed             tutorial benchmark: printed Duration %.3f s, Throughput %d msg/s; wall %.2f ms; latest() after = %r" % (tag, s["printed_duration"], s["printed_rate"], s["wall"] * 1e3, s["latest_after"]))
                except Failed as e:
                    failures.append("%s seed: %s" % (tag, e))
                    results["seed"].append(None)
    except KeyboardInterrupt:
        interrupted = True
        print("\ninterrupted")
    seed_wrapped = None
    if not interrupted and any(r.kind == "seed" for r in rows):
        try:
            seed_wrapped = run_in_child(lambda: seed_run(True), all_cpus()[0])
        except Failed as e:
            failures.append("seed (wrapped): %s" % e)
    meas_s = time.monotonic() - t_start

    # ---------------------------------------------------------------- tables
    def vals(key, field=None):
        out = []
        for v in results.get(key, []):
            if isinstance(v, dict):
                out.append(v.get(field))
            elif isinstance(v, float):
                out.append(v)
            else:
                out.append(None)
        return out

    # A ratio pairs a row with its reference measured in the same repeat (or
    # stream round), seconds apart; the tables give the median of these
    # per-pair ratios. Unlike the C benchmark, pairs are not matched by
    # placement: the Python probe (a few hundred ns of interpreter time per hop)
    # does not separate the host's placements (see docs/performance.md).
    def ratios(key, ref, field, with_note=False):
        a, b = vals(key, field), vals(ref, field)
        out = [x / y for x, y in zip(a, b) if x is not None and y]
        return (out, "") if with_note else out

    def same_cpu(v):
        return isinstance(v, dict) and v.get("same_cpu")

    def na_text(r):
        if peer_missing(r):
            return "n/a (not installed: pip install %s)" % r.peer
        return "failed" if any(v is None for v in results[r.key]) else "n/a"

    print("\n## Per-call cost in one process (ns/call, best of %d timeit loops per repeat; median [min–max] over %d repeats)\n" % (3 if args.quick else 7, args.repeats))
    print("| row | call | ns/call | ratio to len(b\"\") |")
    print("|---|---|---|---|")
    for r in rows:
        if r.kind != "call":
            continue
        v = vals(r.key)
        if not any(x is not None for x in v):
            print("| %s | %s | %s | |" % (r.key, r.what, na_text(r)))
            continue
        rr = ratios(r.key, "call-len", None) if r.ref else []
        print("| %s | %s | %s | %s |" % (r.key, r.what, med_rng(v, lambda x: "%.0f" % x if x >= 10 else "%.1f" % x), med_rng(rr, fmt_x) if rr else ""))

    print("\n## Latency: one-way µs (RTT/2), median [min–max] over %d repeats\n" % args.repeats)
    print("| row | what | mode | size | p50 | p99 | probe ns / placement | ratio to | p50 ratio | p99 ratio |")
    print("|---|---|---|---|---|---|---|---|---|---|")
    for r in rows:
        if r.kind != "lat":
            continue
        p50 = vals(r.key, "p50")
        if not any(x is not None for x in p50):
            print("| %s | %s | %s | %s | %s | | | | | |" % (r.key, r.what, MODE_TXT[r.mode], r.size, na_text(r)))
            continue
        probes = [p for v in results[r.key] if isinstance(v, dict) for p in (v.get("probe") or ()) if p]
        pr = med_rng(probes, lambda x: "%.0f" % x) if probes else ""
        if r.mode == "unp":
            same = sum(bool(same_cpu(v)) for v in results[r.key])
            pr = ("A and B on one CPU at the end in %d of %d" % (same, len(p50))) if same else ""
        rr50, note = ratios(r.key, r.ref, "p50", True) if r.ref else ([], "")
        rr99 = ratios(r.key, r.ref, "p99") if r.ref else []
        print(
            "| %s | %s | %s | %s | %s | %s | %s | %s | %s | %s |"
            % (r.key, r.what, MODE_TXT[r.mode], r.size, med_rng(p50, fmt_t), med_rng(vals(r.key, "p99"), fmt_t), pr, r.ref or "", (med_rng(rr50, fmt_x) + note) if rr50 else "", fmt_x(statistics.median(rr99)) if rr99 else "")
        )

    nst = args.repeats * (1 if args.quick else STREAM_ROUNDS)
    print("\n## Throughput: 1 MiB one-way stream, lossless (credit %d), median [min–max] over %d runs (%d repeats x %d interleaved rounds)\n" % (CREDIT, nst, args.repeats, nst // args.repeats))
    print("| row | what | mode | msg/s | GB/s | lost (max) | ratio to | GB/s ratio |")
    print("|---|---|---|---|---|---|---|---|")
    for r in rows:
        if r.kind != "tput":
            continue
        g = vals(r.key, "gbs")
        if not any(x is not None for x in g):
            print("| %s | %s | %s | %s | | | | |" % (r.key, r.what, MODE_TXT[r.mode], na_text(r)))
            continue
        lost = max(x for x in vals(r.key, "lost") if x is not None)
        rr, note = ratios(r.key, r.ref, "gbs", True) if r.ref else ([], "")
        print("| %s | %s | %s | %s | %s | %d | %s | %s |" % (r.key, r.what, MODE_TXT[r.mode], med_rng(vals(r.key, "rate"), fmt_rate), med_rng(g, lambda x: "%.2f" % x), lost, r.ref or "", (med_rng(rr, fmt_x) + note) if rr else ""))

    seeds = [s for s in results.get("seed", []) if isinstance(s, dict)]
    if seeds:
        print("\n## The tutorial's benchmark, verbatim, %d run(s)\n" % len(seeds))
        print("| run | printed Duration | printed Throughput | wall time of the call | Subscriber(\"benchmark\", 0).latest() after |")
        print("|---|---|---|---|---|")
        for i, s in enumerate(seeds):
            print("| %d | %.3f s | %s msg/s | %.2f ms | %r |" % (i + 1, s["printed_duration"], "{:,}".format(s["printed_rate"]).replace(",", " "), s["wall"] * 1e3, s["latest_after"]))
        med_rate = statistics.median(s["printed_rate"] for s in seeds)
        med_dur = statistics.median(10000 / s["printed_rate"] for s in seeds)
        print(
            "\nmedian: %.2f ms, %s msg/s as printed; original (research/original.md §10 P1, another run, "
            "information only): %.1f ms, %s msg/s -> %.2fx its throughput"
            % (med_dur * 1e3, "{:,}".format(int(med_rate)).replace(",", " "), ORIGINAL_P1[0] * 1e3, "{:,}".format(ORIGINAL_P1[1]).replace(",", " "), med_rate / ORIGINAL_P1[1])
        )
        if seed_wrapped:
            print(
                "wrapped run (subscribe() recorded, not timed): the read loop saw %d distinct value(s) %s, last %r"
                % (len(seed_wrapped["distinct_in_loop"]), seed_wrapped["distinct_in_loop"][:5], seed_wrapped["last_in_loop"])
            )
        print("printed text of the last run:\n" + "\n".join("    " + ln for ln in seeds[-1]["text"].rstrip().split("\n")))

    # ---------------------------------------------------------------- goals
    print("\n## Goals\n")
    goals = []

    def goal(name, key, ref, field, limit, le=True, unit="µs", info=False):
        rk, rf = BYKEY.get(key), BYKEY.get(ref)
        if key not in results or ref not in results:
            return
        if (rk and peer_missing(rk)) or (rf and peer_missing(rf)):
            goals.append("n/a  %s: n/a (not installed: pip install %s)" % (name, (rk if peer_missing(rk) else rf).peer))
            return
        rr, note = ratios(key, ref, field, True)
        if not rr:
            goals.append("FAIL %s: not measured" % name)
            return
        m = statistics.median(rr)
        passed = m <= limit if le else m >= limit
        verdict = "info" if info else ("PASS" if passed else "MISS")
        a, b = vals(key, field), vals(ref, field)
        ma = statistics.median([x for x in a if x is not None])
        mb = statistics.median([x for x in b if x is not None])
        f = (lambda x: "%.0f ns" % x) if unit == "ns" else (lambda x: "%.2f GB/s" % x) if unit == "GB/s" else (lambda x: fmt_t(x) + " µs")
        goals.append(
            "%s %s: ratio %s (limit %s %sx; per-pair %s); medians %s vs %s"
            % (verdict, name, fmt_x(m), "<=" if le else ">=", limit, med_rng(rr, fmt_x) + note, f(ma), f(mb))
        )

    goal("hcm polling 8 B one-way p50 <= 0.5x the shared_memory+struct floor (pinned)", "poll-8B-pin", "floor-8B-pin", "p50", 0.5)
    goal("hcm polling 8 B one-way p50 <= 0.5x the floor (unpinned)", "poll-8B-unp", "floor-8B-unp", "p50", 0.5)
    goal("vs iceoryx2: publish per call <= 0.5x send_copy", "call-publish", "call-iox-send", None, 0.5, unit="ns")
    goal("vs iceoryx2: receive per call <= 0.5x receive+payload+delete", "call-receive", "call-iox-receive", None, 0.5, unit="ns")
    goal("vs iceoryx2: polling 8 B one-way p50 <= 0.5x (pinned)", "poll-8B-pin", "ioxpoll-8B-pin", "p50", 0.5)
    goal("vs iceoryx2: polling 8 B one-way p50 <= 0.5x (unpinned)", "poll-8B-unp", "ioxpoll-8B-unp", "p50", 0.5)
    goal("vs iceoryx2: blocking 8 B one-way p50 <= 0.5x (pinned)", "block-8B-pin", "ioxblock-8B-pin", "p50", 0.5)
    goal("vs iceoryx2: blocking 8 B one-way p50 <= 0.5x (unpinned)", "block-8B-unp", "ioxblock-8B-unp", "p50", 0.5)
    goal("vs iceoryx2: 1 MiB zero-copy one-way p50 <= 0.5x (pinned)", "loan-1M-pin", "ioxloan-1M-pin", "p50", 0.5)
    goal("vs iceoryx2: 1 MiB copying stream >= 2x GB/s (pinned)", "hcm-1M-stream", "iox-1M-stream", "gbs", 2.0, le=False, unit="GB/s")
    goal("1 MiB NumPy zero-copy one-way p50 <= 5x the 8 B one-way (polling, pinned)", "loan-1M-pin", "poll-8B-pin", "p50", 5.0)
    goal("sleep paths: hcm receive(), spin=0 vs iceoryx2 Listener (pinned)", "sleep-8B-pin", "ioxblock-8B-pin", "p50", 0.5, info=True)
    goal("hcm 1 MiB copying stream vs the Python floor ring", "hcm-1M-stream", "floor-1M-stream", "gbs", 0.8, le=False, unit="GB/s", info=True)
    for r in rows:
        if r.kind == "tput" and not peer_missing(r):
            lost = [x for x in vals(r.key, "lost") if x is not None]
            if lost:
                goals.append("%s %s lossless: lost %d (max over repeats; must be 0)" % ("PASS" if max(lost) == 0 else "MISS", r.key, max(lost)))
    if seeds:
        bad = [s["latest_after"] for s in seeds if s["latest_after"] != 9999]
        goals.append("%s tutorial benchmark reads the last value: latest() after each run = 9999 in %d of %d runs%s" % ("PASS" if not bad else "MISS", len(seeds) - len(bad), len(seeds), ("; wrapped run: last value read in the loop %r" % seed_wrapped["last_in_loop"]) if seed_wrapped else ""))
    for g in goals:
        print("- " + g)

    # ---------------------------------------------------------------- end
    print()
    env_end, share_end = env_record("end")
    print("\n".join(env_end))
    if share_end < 0.9:
        print("WARNING: a pinned spinning process got < 90 % of a CPU at the end")
    clean_lines, clean_failed = cleanup(iox_root_existed, default_iox_before)
    print("\n".join(clean_lines))
    for n in NOTES:
        print("NOTE:", n)
    for f in failures:
        print("FAILED:", f.split("\n")[0])
    print("measurements: %.0f s; failed measurements: %d; goals missed: %d" % (meas_s, len(failures), sum(g.startswith("MISS") for g in goals)))
    if interrupted:
        return 130
    return 1 if failures or clean_failed else 0


if __name__ == "__main__":
    sys.exit(main())
