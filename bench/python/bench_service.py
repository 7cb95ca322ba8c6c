#!/usr/bin/env python3
"""Python <-> Python service call round trip (module ``shm_service``), and the
Python call overhead over the same call in C, measured in the same run.

Method (docs/performance-services.md):

* Python row: two fresh processes per measurement (fork). B serves
  ``ServiceServer("bench/svc", echo, 0, 0)`` (8-byte ints; the callback runs on
  the server's own thread, as by default); A calls ``ServiceClient.call(i)``
  in a loop: warm-up >= 50 ms and >= 100 calls, then a 250 ms window with one
  ``time.perf_counter_ns()`` read per call (the end of one call is the start
  of the next), so each sample is one full round trip *including* the timing
  loop itself (its cost is measured separately, same loop around a no-op, and
  printed, not subtracted). Every response is checked (== request).
  Pinned: A on CPU 0, B (and its callback thread) on CPU 1; unpinned: any CPU.
* C row, same run: ``hcm_bench --only svc-8B --repeats 3`` (the hcm_bench
  rows svc-8B-pin / svc-8B-unp: hcm_client_call against a handler thread
  started with hcm_server_start, default spin on both sides, 8-byte requests
  and responses). Its RT p50 medians are parsed from the "Service calls"
  table.
* Python call overhead = Python RT p50 (median over repeats) - C RT p50
  (median over its repeats), per placement. Goal: <= 3 us.

    .venv/bin/python bench/python/bench_service.py             # 5 repeats
    .venv/bin/python bench/python/bench_service.py --quick     # 1 repeat, short windows
    .venv/bin/python bench/python/bench_service.py --hcm-bench PATH

Exit status: 0 when every measurement ran (a missed goal is a result), 1 when
one failed or something was left in /dev/shm, 130 on Ctrl-C.
"""
from __future__ import annotations

import argparse
import multiprocessing
import os
import re
import statistics
import subprocess
import sys
import time

DOMAIN = "svcbench%d" % os.getpid()
os.environ["HCM_DOMAIN"] = DOMAIN  # inherited by the forked children

try:
    import shm_service
except ImportError as e:  # pragma: no cover
    sys.exit("bench_service: cannot import shm_service (%s); run `make python` first" % e)

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
CTX = multiprocessing.get_context("fork")
NAME = "bench/svc"
GOAL_US = 3.0


def pin(cpu):
    if cpu is not None:
        os.sched_setaffinity(0, {cpu})  # this thread; threads started later inherit it


def server_main(cpu, ready, stop):
    pin(cpu)
    with shm_service.ServiceServer(NAME, lambda x: x, 0, 0):
        ready.set()
        stop.wait(120)


def timing_loop_ns(n=200000):
    """ns per iteration of the measuring loop around a no-op (the part of
    each Python sample that is not the call)."""
    samples = [0] * n
    clock, noop, bad, k = time.perf_counter_ns, int, 0, 0
    t0 = clock()
    for i in range(n):
        bad += noop(i) != i
        t1 = clock()
        samples[k] = t1 - t0
        t0 = t1
        k += 1
    samples.sort()
    return samples[len(samples) // 2]


def client_main(cpu, warm_s, window_s, out):
    pin(cpu)
    try:
        c = shm_service.ServiceClient(NAME, 0, 0)
        call = c.call
        i, start = 0, time.monotonic()
        while i < 100 or time.monotonic() - start < warm_s:
            if call(i) != i:
                raise AssertionError("warm-up: wrong response")
            i += 1
        cap = 4 << 20  # preallocated: no list growth (a large copy) inside the window
        samples = [0] * cap
        clock = time.perf_counter_ns
        end = clock() + int(window_s * 1e9)
        bad = n = 0
        t0 = clock()
        while t0 < end and n < cap:
            bad += call(i) != i
            t1 = clock()
            samples[n] = t1 - t0
            t0 = t1
            i += 1
            n += 1
        c.close()
        del samples[n:]
        samples.sort()
        out.send(("ok", samples[(n - 1) // 2], samples[int((n - 1) * 0.99)], n, bad,
                  timing_loop_ns()))
    except BaseException as e:  # noqa: BLE001 - reported by the parent
        out.send(("error", repr(e)))


def measure(cpus, warm_s, window_s):
    """One Python measurement in two fresh processes: (p50 ns, p99 ns, calls,
    loop ns) or raises."""
    ready, stop = CTX.Event(), CTX.Event()
    server = CTX.Process(target=server_main, args=(cpus[1], ready, stop), daemon=True)
    server.start()
    try:
        if not ready.wait(10):
            raise RuntimeError("server did not start")
        rx, tx = CTX.Pipe(duplex=False)
        client = CTX.Process(target=client_main, args=(cpus[0], warm_s, window_s, tx),
                             daemon=True)
        client.start()
        if not rx.poll(warm_s + window_s + 30):
            client.kill()
            raise RuntimeError("client did not report")
        res = rx.recv()
        client.join(10)
        if res[0] != "ok":
            raise RuntimeError("client: " + res[1])
        _, p50, p99, n, bad, loop = res
        if bad:
            raise RuntimeError("%d wrong responses" % bad)
        return p50, p99, n, loop
    finally:
        stop.set()
        server.join(10)
        if server.is_alive():
            server.kill()
            server.join()
        try:  # as hcm_bench does after every measurement
            shm_service.unlink(NAME)
        except shm_service.TopicNotFoundError:
            pass


def run_c(hcm_bench, repeats, quick):
    """RT p50 in us of svc-8B-pin / svc-8B-unp from hcm_bench (same run)."""
    args = [hcm_bench, "--only", "svc-8B", "--repeats", str(repeats)]
    if quick:
        args += ["--warm-ms", "20", "--window-ms", "60"]
    print("$ " + " ".join(args), flush=True)
    proc = subprocess.run(args, capture_output=True, text=True)
    out = proc.stdout
    rows = {}
    for key in ("svc-8B-pin", "svc-8B-unp", "floor-8B-pin", "floor-8B-unp"):
        # the "Service calls" table: | key | what | mode | size | RT p50 [..] | RT p99 [..] | ...
        m = re.search(r"^\| %s \| [^|]* \| [^|]* \| [^|]* \| ([0-9.]+)(?: \[[^]]*\])? \| "
                      r"([0-9.]+)" % re.escape(key), out, re.M)
        if m:
            rows[key] = (float(m.group(1)), float(m.group(2)))
    env = [l for l in out.splitlines() if l.startswith(("loadavg_", "PROBE", "busy_processes_"))]
    goals = [l for l in out.splitlines()
             if l.startswith("- ") and "service call" in l and not l.startswith("- n/a")]
    if proc.returncode != 0 or "svc-8B-pin" not in rows or "svc-8B-unp" not in rows:
        print(out[-3000:] + proc.stderr[-2000:])
        raise RuntimeError("hcm_bench failed (status %d)" % proc.returncode)
    return rows, env, goals


def fmt_us(ns):
    us = ns / 1000.0
    return "%.3f" % us if us < 1 else "%.2f" % us if us < 10 else "%.1f" % us


def leftovers():
    prefix = "hcm.%s." % DOMAIN
    left = [n for n in os.listdir("/dev/shm") if n.startswith(prefix)]
    for n in left:
        os.unlink(os.path.join("/dev/shm", n))
    return left


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--repeats", type=int, default=5)
    ap.add_argument("--quick", action="store_true", help="1 repeat, short windows")
    ap.add_argument("--c-repeats", type=int, default=3, help="repeats of the C rows")
    ap.add_argument("--hcm-bench", default=os.path.join(REPO, "build-bench", "bench", "hcm_bench"))
    a = ap.parse_args()
    warm_s, window_s = (0.02, 0.06) if a.quick else (0.05, 0.25)
    repeats = 1 if a.quick else a.repeats
    if os.cpu_count() < 2:
        sys.exit("bench_service: needs 2 CPUs")
    if not os.access(a.hcm_bench, os.X_OK):
        sys.exit("bench_service: %s not built (cmake --build build-bench)" % a.hcm_bench)

    with open("/proc/loadavg") as f:
        print("# bench_service: %d repeat(s), warm-up %.0f ms, window %.0f ms, domain %s; "
              "loadavg_start=%s" % (repeats, warm_s * 1e3, window_s * 1e3, DOMAIN,
                                    f.read().strip()), flush=True)
    failures = 0
    c_rows, c_env, c_goals = run_c(a.hcm_bench, 1 if a.quick else a.c_repeats, a.quick)
    for line in c_env + c_goals:
        print("  C: " + line)

    modes = {"pinned": (0, 1), "unpinned": (None, None)}
    res = {m: [] for m in modes}
    for rep in range(repeats):
        for mode, cpus in modes.items():
            try:
                p50, p99, n, loop = measure(cpus, warm_s, window_s)
                res[mode].append((p50, p99, loop))
                print("[%d/%d] py-svc-8B-%s  RT p50 %s us  p99 %s us  (%d calls; timing loop "
                      "%d ns)" % (rep + 1, repeats, mode[:3], fmt_us(p50), fmt_us(p99), n, loop),
                      flush=True)
            except Exception as e:  # noqa: BLE001
                failures += 1
                print("[%d/%d] py-svc-8B-%s FAILED: %s" % (rep + 1, repeats, mode[:3], e),
                      flush=True)

    print("\n## Python <-> Python service call, 8-byte int, round trip µs, median [min–max] "
          "over %d repeat(s)\n" % repeats)
    print("| row | mode | RT p50 | RT p99 | timing loop (ns, included) | C RT p50 (svc-8B) "
          "| Python call overhead = Py RT − C RT | goal ≤ %.0f µs |" % GOAL_US)
    print("|---|---|---|---|---|---|---|---|")
    verdicts = []
    for mode in modes:
        r = res[mode]
        if not r:
            print("| py-svc-8B-%s | %s | failed | | | | | |" % (mode[:3], mode))
            continue
        p50s = [x[0] for x in r]
        p99s = [x[1] for x in r]
        loop = statistics.median(x[2] for x in r)
        c_us = c_rows["svc-8B-" + mode[:3]][0]
        py_us = statistics.median(p50s) / 1000.0
        over = py_us - c_us
        ok = over <= GOAL_US
        verdicts.append((mode, ok, py_us, c_us, over))
        print("| py-svc-8B-%s | %s | %s [%s–%s] | %s [%s–%s] | %.0f | %.3f | %.2f | %s |" % (
            mode[:3], mode, fmt_us(statistics.median(p50s)), fmt_us(min(p50s)),
            fmt_us(max(p50s)), fmt_us(statistics.median(p99s)), fmt_us(min(p99s)),
            fmt_us(max(p99s)), loop, c_us, over, "PASS" if ok else "MISS"))
    print("\n## Goal\n")
    for mode, ok, py_us, c_us, over in verdicts:
        print("- %s Python call overhead (%s) = Python RT − C RT = %.2f − %.3f = %.2f µs "
              "(limit <= %.1f µs)" % ("PASS" if ok else "MISS", mode, py_us, c_us, over, GOAL_US))
    left = leftovers()
    with open("/proc/loadavg") as f:
        print("\nloadavg_end=%s; failed measurements: %d; leftover segments: %d%s" % (
            f.read().strip(), failures, len(left), (" " + str(left)) if left else ""))
    return 1 if failures or left else 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    except KeyboardInterrupt:
        leftovers()
        sys.exit(130)
