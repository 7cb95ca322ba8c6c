"""shm_pub_sub: publish/subscribe over shared memory, as in the SHM tutorial.

    import shm_pub_sub
    pub = shm_pub_sub.Publisher("temperature_sensor", 0.0, 5)
    pub.publish(21.5)
    sub = shm_pub_sub.Subscriber("temperature_sensor", 0.0)
    data, is_success = sub.subscribe()

The type of a topic comes from the default value: ``bool``, ``int`` (int64),
``float`` (float64), ``str``/``bytes`` (``max_size=`` bytes, default 4096) or a
NumPy array or scalar. ``subscribe()`` returns the newest sample and whether
it is younger than the expiry (2 s by default); ``receive()`` returns every
sample in publish order and counts the ones it lost in ``.lost``.

Every error derives from :class:`shm_pub_sub.Error` and from the matching
built-in exception (``TypeError``, ``ValueError``, ``PermissionError``,
``TimeoutError``, ...). Full reference: docs/python.md.
"""
from hcm._hcm import (  # noqa: F401
    DEFAULT_MAX_SIZE,
    MAX_BUFFER_NUM,
    BusyError,
    CorruptSegmentError,
    Error,
    IntegerOverflowError,
    InvalidArgumentError,
    Loan,
    OverrunError,
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
)

__all__ = [
    "Publisher",
    "Subscriber",
    "Loan",
    "View",
    "Error",
    "TypeMismatchError",
    "InvalidArgumentError",
    "IntegerOverflowError",
    "PermissionDeniedError",
    "TopicNotFoundError",
    "WaitTimeoutError",
    "CorruptSegmentError",
    "BusyError",
    "OverrunError",
    "SystemCallError",
    "unlink",
    "topics",
    "reclaim",
    "type_info",
    "MAX_BUFFER_NUM",
    "DEFAULT_MAX_SIZE",
]
