"""shm_action: long-running goals with feedback, result and cancel (hcm actions).

    import time
    import shm_action

    def move_to(goal):                       # runs on a thread of the server
        position = 0.0
        while position < goal.goal:
            if goal.cancel_requested:        # the client asked to cancel: we decide
                goal.canceled()
                return position
            position += 1.0
            goal.publish_feedback(position)  # reaches only this goal's client
            time.sleep(0.1)
        return position                      # SUCCEEDED with this result

    server = shm_action.ActionServer("robot/move_to", 0.0, 0.0, 0.0, move_to)
    client = shm_action.ActionClient("robot/move_to", 0.0, 0.0, 0.0)
    goal = client.send_goal(5.0)
    for position in goal.feedback():         # until the goal ends
        print("at", position)
    print(goal.status, goal.result(timeout=10))   # 'succeeded' 5.0

Statuses: 'pending', 'accepted', 'executing', 'canceling', 'succeeded',
'canceled', 'aborted', 'rejected'. A cancel works before acceptance (the goal
ends 'canceled' at once) and while the callback runs (cancel_requested turns
True; the callback decides). A server that dies makes the client's waits
raise PeerDeadError within 50 ms; a client that dies has its goals
cancel-requested. Full reference: docs/python.md.
"""
from hcm._hcm import (  # noqa: F401
    ActionClient,
    ActionServer,
    ClientGoalHandle,
    Error,
    InvalidArgumentError,
    PeerDeadError,
    ServerGoalHandle,
    TopicNotFoundError,
    TypeMismatchError,
    WaitTimeoutError,
    unlink_action as unlink,
)

PENDING = "pending"
ACCEPTED = "accepted"
EXECUTING = "executing"
CANCELING = "canceling"
SUCCEEDED = "succeeded"
CANCELED = "canceled"
ABORTED = "aborted"
REJECTED = "rejected"
FINAL = frozenset({SUCCEEDED, CANCELED, ABORTED, REJECTED})

__all__ = [
    "ActionServer",
    "ActionClient",
    "ServerGoalHandle",
    "ClientGoalHandle",
    "unlink",
    "Error",
    "InvalidArgumentError",
    "PeerDeadError",
    "TopicNotFoundError",
    "TypeMismatchError",
    "WaitTimeoutError",
    "PENDING",
    "ACCEPTED",
    "EXECUTING",
    "CANCELING",
    "SUCCEEDED",
    "CANCELED",
    "ABORTED",
    "REJECTED",
    "FINAL",
]
