#!/usr/bin/env python3
"""calc_client.py - calls the C example service calc_server from Python.

The request is the C struct AddRequest {int64 a, b} ("<2q"), written as a
structured NumPy dtype named with request_type_name; the response an int64.

    python3 examples/python/calc_client.py [SERVICE] [--count N]
"""
import argparse
import sys
import time

import numpy as np

import shm_service

ADD_REQUEST = np.dtype([("a", "<i8"), ("b", "<i8")])


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("service", nargs="?", default="calc/add")
    ap.add_argument("--count", type=int, default=5)
    args = ap.parse_args()
    with shm_service.ServiceClient(args.service, np.zeros((), ADD_REQUEST), 0,
                                   request_type_name="AddRequest") as client:
        for i in range(args.count):
            t0 = time.perf_counter()
            total = client.call((i, 1000 * i), timeout=1.0)
            dt = (time.perf_counter() - t0) * 1e6
            print(f"py-calc-client: {i} + {1000 * i} = {total}  (round trip {dt:.1f} us)")
            if total != i + 1000 * i:
                return 1
        try:
            client.call((2**63 - 1, 1))
        except shm_service.RemoteError as e:
            print(f"py-calc-client: INT64_MAX + 1 -> RemoteError: {e}")
        else:
            return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
