#!/usr/bin/env python3
"""talker.py - a Python publisher of the demo's struct topic, at a fixed rate.

Publishes DemoSample {counter, sent_ns (CLOCK_MONOTONIC), value (a sine)},
the same type as examples/talker.c, so the C listener can read it:

    python3 examples/python/talker.py [TOPIC] [--rate HZ] [--seconds S] [--unlink]
"""
import argparse
import math
import signal
import sys
import time

import numpy as np

import shm_pub_sub

DEMO_SAMPLE = np.dtype([("counter", "<u8"), ("sent_ns", "<i8"), ("value", "<f8")])


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("topic", nargs="?", default="demo/sensor")
    ap.add_argument("--rate", type=float, default=20.0)
    ap.add_argument("--seconds", type=float, default=None)
    ap.add_argument("--unlink", action="store_true", help="remove the topic at exit")
    args = ap.parse_args()

    stop = False

    def on_signal(signum, frame):
        nonlocal stop
        stop = True

    signal.signal(signal.SIGINT, on_signal)
    signal.signal(signal.SIGTERM, on_signal)

    period = 1.0 / args.rate
    end = None if args.seconds is None else time.monotonic() + args.seconds
    n = 0
    with shm_pub_sub.Publisher(args.topic, np.zeros((), DEMO_SAMPLE), 8,
                               type_name="DemoSample") as pub:
        print(f"py-talker: publishing {pub.type} on '{args.topic}' at {args.rate:g} Hz", flush=True)
        next_t = time.monotonic()
        while not stop and (end is None or time.monotonic() < end):
            with pub.loan() as s:  # zero copy: fill the slot in place
                s["counter"] = n
                s["value"] = math.sin(n * 0.1)
                s["sent_ns"] = time.clock_gettime_ns(time.CLOCK_MONOTONIC)
            n += 1
            next_t += period
            time.sleep(max(0.0, next_t - time.monotonic()))
    if args.unlink:
        shm_pub_sub.unlink(args.topic)
    print(f"py-talker: sent {n} samples", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
