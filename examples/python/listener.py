#!/usr/bin/env python3
"""listener.py - a Python subscriber of the C talker's struct topic.

Reads struct DemoSample {uint64 counter; int64 sent_ns; double value} (the
C side declares it as hcm_type_struct(&t, "DemoSample", "<Qqd", 24)) through
a structured NumPy dtype, prints each sample with its one-way latency, and a
summary at the end (Ctrl-C or --seconds). Exits 1 if it received nothing.

    python3 examples/python/listener.py [TOPIC] [--seconds S] [--count N]
"""
import argparse
import signal
import statistics
import sys
import time

import numpy as np

import shm_pub_sub

DEMO_SAMPLE = np.dtype([("counter", "<u8"), ("sent_ns", "<i8"), ("value", "<f8")])


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("topic", nargs="?", default="demo/sensor")
    ap.add_argument("--seconds", type=float, default=None, help="stop after S seconds")
    ap.add_argument("--count", type=int, default=None, help="stop after N samples")
    args = ap.parse_args()

    stop = False

    def on_signal(signum, frame):  # SIGINT/SIGTERM end the loop cleanly
        nonlocal stop
        stop = True

    signal.signal(signal.SIGINT, on_signal)
    signal.signal(signal.SIGTERM, on_signal)

    sub = shm_pub_sub.Subscriber(args.topic, np.zeros((), DEMO_SAMPLE), type_name="DemoSample")
    print(f"py-listener: waiting on '{args.topic}' ({sub.type})", flush=True)
    latencies = []
    end = None if args.seconds is None else time.monotonic() + args.seconds
    with sub:
        while not stop:
            if end is not None and time.monotonic() >= end:
                break
            try:
                s = sub.receive(timeout=0.5)
            except shm_pub_sub.WaitTimeoutError:
                continue
            lat_us = (time.clock_gettime_ns(time.CLOCK_MONOTONIC) - int(s["sent_ns"])) / 1e3
            latencies.append(lat_us)
            print(f"py-listener: counter {int(s['counter']):6d}  value {float(s['value']):+.3f}"
                  f"  latency {lat_us:8.1f} us  lost {sub.lost}", flush=True)
            if args.count is not None and len(latencies) >= args.count:
                break
        lost = sub.lost
    if not latencies:
        print("py-listener: received nothing", file=sys.stderr)
        return 1
    print(f"py-listener: received {len(latencies)}, lost {lost}, "
          f"latency p50 {statistics.median(latencies):.1f} us, max {max(latencies):.1f} us",
          flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
