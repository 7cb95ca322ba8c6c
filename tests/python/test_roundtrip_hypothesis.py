"""Property tests: int64 and float64 values come back exactly (float: the
same bits) through publish() and receive() in one process."""
import math
import struct

from hypothesis import example, given, settings
from hypothesis import strategies as st

import shm_pub_sub

INT64 = st.integers(min_value=-(2**63), max_value=2**63 - 1)
FLOAT64 = st.floats(allow_nan=True, allow_infinity=True, allow_subnormal=True, width=64)


def bits(x):
    return struct.pack("<d", x)


def from_bits(u):
    return struct.unpack("<d", struct.pack("<Q", u))[0]


def test_every_int64_round_trips_exactly_through_publish_and_receive(cleanup_topics):
    pub = shm_pub_sub.Publisher("hyp/int", 0, 4)
    sub = shm_pub_sub.Subscriber("hyp/int", 0)

    @settings(max_examples=400, deadline=None, database=None)
    @example(-(2**63))
    @example(2**63 - 1)
    @example(0)
    @example(-1)
    @example(2**53 + 1)
    @given(INT64)
    def check(v):
        pub.publish(v)
        got = sub.receive(timeout=5)
        assert type(got) is int and got == v

    check()
    pub.close()
    sub.close()


def test_every_float64_round_trips_bit_for_bit_through_publish_and_receive(cleanup_topics):
    pub = shm_pub_sub.Publisher("hyp/float", 0.0, 4)
    sub = shm_pub_sub.Subscriber("hyp/float", 0.0)

    @settings(max_examples=400, deadline=None, database=None)
    @example(math.nan)
    @example(-math.nan)
    @example(math.inf)
    @example(-math.inf)
    @example(-0.0)
    @example(0.0)
    @example(5e-324)  # smallest subnormal
    @example(-2.225073858507201e-308)  # largest subnormal
    @example(2.2250738585072014e-308)  # smallest normal
    @example(1.7976931348623157e308)
    @example(3.7)
    @example(16777217.0)
    @given(FLOAT64)
    def check(x):
        pub.publish(x)
        got = sub.receive(timeout=5)
        assert type(got) is float and bits(got) == bits(x)

    check()
    pub.close()
    sub.close()


def test_every_64_bit_pattern_round_trips_as_a_float64(cleanup_topics):
    """Any bit pattern, including NaNs with payloads and signalling NaNs."""
    pub = shm_pub_sub.Publisher("hyp/bits", 0.0, 4)
    sub = shm_pub_sub.Subscriber("hyp/bits", 0.0)

    @settings(max_examples=400, deadline=None, database=None)
    @example(0x7FF0000000000001)  # signalling NaN
    @example(0xFFF8000000000000)  # negative quiet NaN
    @example(0x7FF8DEADBEEF0001)  # quiet NaN with a payload
    @example(0x8000000000000001)  # negative smallest subnormal
    @given(st.integers(min_value=0, max_value=2**64 - 1))
    def check(u):
        x = from_bits(u)
        pub.publish(x)
        got = sub.receive(timeout=5)
        assert struct.unpack("<Q", bits(got))[0] == u

    check()
    pub.close()
    sub.close()
