"""Values of every supported kind, shared by the tests and their child
processes (which import this module by name)."""
import math
import struct

import numpy as np

POSE = np.dtype([("id", "<u4"), ("pos", "<f8", (3,)), ("name", "S8"), ("ok", "?")])
DEMO_SAMPLE = np.dtype([("counter", "<u8"), ("sent_ns", "<i8"), ("value", "<f8")])


def _image(k):
    img = np.zeros((480, 640, 3), np.uint8)
    img[..., 0] = (np.arange(640, dtype=np.uint32) * (k + 1) % 256).astype(np.uint8)
    img[..., 1] = (np.arange(480, dtype=np.uint32)[:, None] + k) % 256
    img[k::7, :, 2] = 255
    return img


def _pose(i, pos, name, ok):
    v = np.zeros((), POSE)
    v["id"], v["pos"], v["name"], v["ok"] = i, pos, name, ok
    return v


def cases():
    """kind -> (default_value, values to publish, extra keyword arguments)."""
    return {
        "bool": (False, [True, False, True], {}),
        "int": (0, [0, -1, 2**63 - 1, -(2**63), 42], {}),
        "float": (0.0, [3.7, 16777217.0, -0.0, math.inf, -math.inf, 5e-324, math.nan], {}),
        "str": ("", ["", "héllo wörld", "日本語のテキスト", "x" * 256], {"max_size": 256}),
        "bytes": (b"", [b"", b"\x00\xff" * 10, bytes(range(256))], {"max_size": 256}),
        "image": (np.zeros((480, 640, 3), np.uint8), [_image(k) for k in range(3)], {}),
        "struct": (
            np.zeros((), POSE),
            [_pose(1, [1.0, 2.0, 3.0], b"alpha", True),
             _pose(2**32 - 1, [-0.5, 1e300, -1e-300], b"12345678", False),
             _pose(0, [0.0, 0.0, 0.0], b"", True)],
            {"type_name": "Pose"},
        ),
    }


def same(a, b):
    """Exactly equal: same type, and for floats the same bits (nan, -0.0);
    arrays of the same dtype, shape and bytes."""
    if isinstance(a, np.ndarray) or isinstance(b, np.ndarray):
        return (type(a) is type(b) and a.dtype == b.dtype and a.shape == b.shape
                and a.tobytes() == b.tobytes())
    if type(a) is not type(b):
        return False
    if isinstance(a, float):
        return struct.pack("<d", a) == struct.pack("<d", b)
    return a == b
