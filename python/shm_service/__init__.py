"""shm_service: request/response over shared memory (hcm services).

    import shm_service

    def add_one(x):
        return x + 1

    server = shm_service.ServiceServer("calc/add_one", add_one, 0, 0)
    client = shm_service.ServiceClient("calc/add_one", 0, 0)
    client.call(41)            # -> 42 (timeout=5.0 seconds by default)

Every call carries an id and its response reaches exactly that call, even
with many clients in many processes and threads. The callback runs on a
thread of the server (the GIL is released while it waits); an exception in
it reaches the caller as RemoteError. A server that dies makes pending and
later calls raise PeerDeadError within 50 ms instead of timing out. Types
come from the request and response defaults, as in shm_pub_sub.
Full reference: docs/python.md.
"""
from hcm._hcm import (  # noqa: F401
    BusyError,
    CorruptSegmentError,
    Error,
    IntegerOverflowError,
    InvalidArgumentError,
    PeerDeadError,
    PermissionDeniedError,
    RemoteError,
    ServiceClient,
    ServiceServer,
    SystemCallError,
    TopicNotFoundError,
    TypeMismatchError,
    WaitTimeoutError,
    unlink_service as unlink,
)

__all__ = [
    "ServiceServer",
    "ServiceClient",
    "unlink",
    "Error",
    "TypeMismatchError",
    "InvalidArgumentError",
    "IntegerOverflowError",
    "PermissionDeniedError",
    "TopicNotFoundError",
    "WaitTimeoutError",
    "PeerDeadError",
    "RemoteError",
    "BusyError",
    "CorruptSegmentError",
    "SystemCallError",
]
