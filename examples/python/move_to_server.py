#!/usr/bin/env python3
"""move_to_server.py - a "move to" action server: one axis, one step at a time.

The same action as examples/move_to_server.c (goal and result float64, feedback
the C struct MoveFeedback {double position, progress}), so either client,
C or Python, can drive it. Every step publishes feedback; a cancel request is
seen at the next step and ends the goal CANCELED where the axis stands.
Targets beyond +-LIMIT are rejected at once.

    python3 examples/python/move_to_server.py [ACTION] [--seconds S]
            [--step-ms MS] [--speed D] [--limit L]

Runs until Ctrl-C (or for S seconds), then removes the action's segment.
"""
import argparse
import math
import signal
import sys
import threading
import time

import numpy as np

import shm_action

MOVE_FEEDBACK = np.dtype([("position", "<f8"), ("progress", "<f8")])


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("action", nargs="?", default="robot/move_to")
    ap.add_argument("--seconds", type=float, default=0.0)
    ap.add_argument("--step-ms", type=float, default=20.0)
    ap.add_argument("--speed", type=float, default=1.0)
    ap.add_argument("--limit", type=float, default=1000.0)
    args = ap.parse_args()
    axis = {"position": 0.0}

    def accept(target: float) -> bool:
        ok = math.isfinite(target) and abs(target) <= args.limit
        if not ok:
            print(f"py-move-to-server: goal -> {target}: rejected (beyond +-{args.limit})",
                  flush=True)
        return ok

    def move_to(goal) -> float:
        target, start = goal.goal, axis["position"]
        way = abs(target - start)
        print(f"py-move-to-server: goal {goal.id} -> {target:.3f} accepted "
              f"(axis at {start:.3f})", flush=True)
        while axis["position"] != target:
            time.sleep(args.step_ms / 1000)
            if goal.cancel_requested:  # the client asked; we stop where we are
                goal.canceled()
                break
            d = target - axis["position"]
            step = d if abs(d) <= args.speed else math.copysign(args.speed, d)
            axis["position"] += step
            progress = abs(axis["position"] - start) / way if way else 1.0
            goal.publish_feedback((axis["position"], progress))
        print(f"py-move-to-server: goal {goal.id} ended at {axis['position']:.3f}", flush=True)
        return axis["position"]

    stop = threading.Event()
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    with shm_action.ActionServer(args.action, 0.0, np.zeros((), MOVE_FEEDBACK), 0.0, move_to,
                                 accept_callback=accept,
                                 feedback_type_name="MoveFeedback"):
        print(f"py-move-to-server: serving '{args.action}'", flush=True)
        stop.wait(args.seconds if args.seconds > 0 else None)
    shm_action.unlink(args.action)
    print(f"py-move-to-server: stopped; axis at {axis['position']:.3f}", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
