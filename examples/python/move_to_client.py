#!/usr/bin/env python3
"""move_to_client.py - sends one "move to" goal and follows it live.

Works against examples/move_to_server.c and examples/python/move_to_server.py:
the goal and the result are float64 positions, the feedback the C struct
MoveFeedback {double position, progress} ("<2d"), a structured NumPy dtype
here, named with feedback_type_name.

    python3 examples/python/move_to_client.py [ACTION] [--target X]
            [--cancel-after N] [--wait S] [--timeout S]

--cancel-after N cancels once N feedbacks have arrived (Ctrl-C cancels too);
the server decides when the goal ends CANCELED. Exit status 0 if the goal
ended as asked (SUCCEEDED; CANCELED when a cancel was asked), 1 otherwise.
"""
import argparse
import sys
import time

import numpy as np

import shm_action

MOVE_FEEDBACK = np.dtype([("position", "<f8"), ("progress", "<f8")])


def send(client: shm_action.ActionClient, target: float, wait_s: float):
    """Sends the goal, retrying for wait_s seconds while no server has made the action."""
    deadline = time.monotonic() + wait_s
    while True:
        try:
            return client.send_goal(target, timeout=wait_s)
        except FileNotFoundError:
            if time.monotonic() >= deadline:
                raise
            time.sleep(0.05)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("action", nargs="?", default="robot/move_to")
    ap.add_argument("--target", type=float, default=10.0)
    ap.add_argument("--cancel-after", type=int, default=0)
    ap.add_argument("--wait", type=float, default=5.0)
    ap.add_argument("--timeout", type=float, default=60.0)
    args = ap.parse_args()

    with shm_action.ActionClient(args.action, 0.0, np.zeros((), MOVE_FEEDBACK), 0.0,
                                 feedback_type_name="MoveFeedback") as client:
        goal = send(client, args.target, args.wait)
        print(f"py-move-to-client: goal {goal.id} -> {args.target:.3f} sent", flush=True)
        asked = False
        try:
            for n, fb in enumerate(goal.feedback(), 1):
                print(f"py-move-to-client: feedback {n}: position {float(fb['position']):8.3f}"
                      f"  progress {100 * float(fb['progress']):5.1f}%  ({goal.status})",
                      flush=True)
                if args.cancel_after and n >= args.cancel_after and not asked:
                    print(f"py-move-to-client: canceling after {n} feedbacks", flush=True)
                    goal.cancel()
                    asked = True
        except KeyboardInterrupt:
            print("py-move-to-client: Ctrl-C: canceling", flush=True)
            goal.cancel()
            asked = True
        try:
            result = goal.result(timeout=args.timeout)
        except TimeoutError:
            goal.cancel()
            print("py-move-to-client: no result in time; canceled", file=sys.stderr)
            return 1
        except shm_action.PeerDeadError as e:
            print(f"py-move-to-client: {e}", file=sys.stderr)
            return 1
        if result is None:
            print(f"py-move-to-client: {goal.status}")
        else:
            print(f"py-move-to-client: {goal.status} at position {result:.3f}")
        expected = shm_action.CANCELED if asked else shm_action.SUCCEEDED
        return 0 if goal.status == expected else 1


if __name__ == "__main__":
    sys.exit(main())
