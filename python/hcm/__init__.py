"""hcm: the Handy Communication Manager for Python.

Topics (publish/subscribe) over POSIX shared memory, written in C. The seed
tutorial's API lives in the module :mod:`shm_pub_sub`; this package holds the
extension and re-exports the same names.
"""
from hcm._hcm import (  # noqa: F401
    HCM_VERSION,
    MAX_BUFFER_NUM,
    DEFAULT_MAX_SIZE,
    BusyError,
    CorruptSegmentError,
    Error,
    IntegerOverflowError,
    InvalidArgumentError,
    Loan,
    OverrunError,
    PeerDeadError,
    RemoteError,
    ServiceClient,
    ServiceServer,
    PermissionDeniedError,
    Publisher,
    Subscriber,
    SystemCallError,
    TopicNotFoundError,
    TypeMismatchError,
    View,
    WaitTimeoutError,
    reclaim,
    topics,
    type_info,
    unlink,
    unlink_service,
)

__version__ = "0.1.0"
