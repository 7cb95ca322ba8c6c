"""The API in one process: the seed-compatible calls, the types that default
values select, subscribe/receive/wait/latest, zero copy, close, repr and
docstrings."""
import inspect
import struct
import time

import numpy as np
import pytest

import shm_pub_sub
from cases import POSE
from shm_pub_sub import Publisher, Subscriber


def bits(x):
    return struct.pack("<d", x)


# ---- the seed's constructors and calls -----------------------------------------


def test_publisher_and_subscriber_take_positional_arguments(cleanup_topics):
    pub = Publisher("seed/positional", 0.0, 5)
    sub = Subscriber("seed/positional", 0.0)
    pub.publish(21.5)
    assert sub.subscribe() == (21.5, True)
    assert pub.buffer_num == 5
    pub.close()
    sub.close()


def test_publisher_and_subscriber_take_keyword_arguments(cleanup_topics):
    pub = Publisher(name="seed/keyword", default_value=0, buffer_num=4)
    sub = Subscriber(name="seed/keyword", default_value=0)
    pub.publish(7)
    assert sub.subscribe() == (7, True)
    assert pub.buffer_num == 4
    pub.close()
    sub.close()


def test_publish_takes_data_by_keyword_as_its_signature_says(cleanup_topics):
    pub = Publisher("seed/keyword", 0)
    sub = Subscriber("seed/keyword", 0)
    assert str(inspect.signature(pub.publish)) == "(data)"
    pub.publish(data=8)
    assert sub.subscribe() == (8, True)
    pub.close()
    sub.close()


def test_buffer_num_defaults_to_3(cleanup_topics):
    pub = Publisher("seed/default-slots", 0)
    assert pub.buffer_num == 3
    assert shm_pub_sub.topics()[0]["buffer_num"] == 3
    pub.close()


@pytest.mark.parametrize("n", [1, 65536])
def test_buffer_num_accepts_the_bounds_1_and_65536(n, cleanup_topics):
    pub = Publisher("seed/bounds", 0, n)
    assert pub.buffer_num == n == min(n, shm_pub_sub.MAX_BUFFER_NUM)
    pub.close()


def test_bool_default_makes_a_bool_topic(cleanup_topics):
    pub = Publisher("types/bool", False)
    sub = Subscriber("types/bool", False)
    assert pub.type == sub.type == "bool"
    for v in (True, False):
        pub.publish(v)
        got = sub.receive(timeout=1)
        assert got is v
    pub.close()
    sub.close()


def test_int_default_makes_an_int64_topic(cleanup_topics):
    pub = Publisher("types/int", 0)
    sub = Subscriber("types/int", 0)
    assert pub.type == sub.type == "int64"
    assert shm_pub_sub.type_info(0)["size"] == 8
    for v in (2**63 - 1, -(2**63)):
        pub.publish(v)
        got = sub.receive(timeout=1)
        assert type(got) is int and got == v
    pub.close()
    sub.close()


def test_int_outside_int64_raises_overflow_error(cleanup_topics):
    pub = Publisher("types/int", 0)
    for v in (2**63, -(2**63) - 1, 10**30):
        with pytest.raises(OverflowError):
            pub.publish(v)
    pub.close()


def test_float_default_makes_a_float64_topic_never_float32(cleanup_topics):
    pub = Publisher("types/float", 0.0)
    sub = Subscriber("types/float", 0.0)
    assert pub.type == sub.type == "float64"
    assert shm_pub_sub.type_info(0.0)["type"] == "float64"
    for v in (3.7, 16777217.0, 0.1):  # none of these is a float32
        pub.publish(v)
        got = sub.receive(timeout=1)
        assert type(got) is float and bits(got) == bits(v)
    pub.publish(3.7)
    assert sub.subscribe() == (3.7, True)
    pub.close()
    sub.close()


def test_numpy_scalar_default_makes_a_topic_of_its_dtype_returning_scalars(cleanup_topics):
    pub = Publisher("types/f32", np.float32(0))
    sub = Subscriber("types/f32", np.float32(0))
    assert sub.type == "float32"
    pub.publish(np.float32(1.5))
    got = sub.receive(timeout=1)
    assert type(got) is np.float32 and got == 1.5
    pub.close()
    sub.close()


def test_str_topic_round_trips_unicode_up_to_max_size(cleanup_topics):
    pub = Publisher("types/str", "", max_size=16)
    sub = Subscriber("types/str", "", max_size=16)
    assert pub.type == "string" and pub.max_size == 16
    for v in ("", "h\u00e9llo", "\u65e5\u672c\u8a9e\u306e\u30c6", "x" * 16):  # the last: 15 and 16 bytes
        pub.publish(v)
        got = sub.receive(timeout=1)
        assert type(got) is str and got == v
    with pytest.raises(ValueError, match="max_size 16"):
        pub.publish("\u00e9" * 9)  # 18 bytes of UTF-8
    pub.close()
    sub.close()


def test_str_and_bytes_max_size_defaults_to_4096(cleanup_topics):
    pub = Publisher("types/bytes", b"")
    sub = Subscriber("types/bytes", b"")
    assert pub.max_size == shm_pub_sub.DEFAULT_MAX_SIZE == 4096
    pub.publish(b"\xff" * 4096)
    assert sub.receive(timeout=1) == b"\xff" * 4096
    with pytest.raises(ValueError):
        pub.publish(b"\xff" * 4097)
    pub.close()
    sub.close()


def test_bytes_topic_takes_any_bytes_like_value_and_returns_bytes(cleanup_topics):
    pub = Publisher("types/bytes", b"", max_size=64)
    sub = Subscriber("types/bytes", b"", max_size=64)
    assert pub.type == "bytes"
    for v in (b"", bytes(range(64)), bytearray(b"abc"), memoryview(b"xyz"),
              np.arange(4, dtype=np.uint8)):
        pub.publish(v)
        got = sub.receive(timeout=1)
        assert type(got) is bytes and got == bytes(v)
    pub.close()
    sub.close()


def test_array_topic_fixes_dtype_and_shape_from_the_default(cleanup_topics):
    default = np.zeros((2, 3), np.int16)
    pub = Publisher("types/array", default)
    sub = Subscriber("types/array", default)
    assert pub.type == "int16[2,3]" and pub.max_size == 12
    value = np.arange(6, dtype=np.int16).reshape(2, 3) - 3
    pub.publish(value)
    got = sub.receive(timeout=1)
    assert got.dtype == np.int16 and got.shape == (2, 3) and (got == value).all()
    pub.publish(value.T.copy().T)  # a non-contiguous view with the same dtype/shape
    assert (sub.receive(timeout=1) == value).all()
    pub.close()
    sub.close()


def test_received_arrays_are_independent_of_later_samples(cleanup_topics):
    pub = Publisher("types/array", np.zeros(3))
    sub = Subscriber("types/array", np.zeros(3))
    received = []
    for k in range(5):
        pub.publish(np.full(3, float(k)))
        received.append(sub.receive(timeout=1))
        with pytest.raises(TimeoutError):
            sub.receive(timeout=0)
    assert [r.tolist() for r in received] == [[float(k)] * 3 for k in range(5)]
    received[0][:] = 99.0  # ours to change
    pub.publish(np.full(3, 5.0))
    assert sub.receive(timeout=1).tolist() == [5.0] * 3
    pub.close()
    sub.close()


def test_structured_dtype_with_type_name_round_trips(cleanup_topics):
    pub = Publisher("types/pose", np.zeros((), POSE), type_name="Pose")
    sub = Subscriber("types/pose", np.zeros((), POSE), type_name="Pose")
    assert pub.type == "struct Pose '<I3d8s?'"
    pub.publish((9, [1.0, -2.0, 3.5], b"robot", True))
    got = sub.receive(timeout=1)
    assert got.dtype == POSE and got.shape == ()
    assert (int(got["id"]), got["pos"].tolist(), got["name"].item(), bool(got["ok"])) == (
        9, [1.0, -2.0, 3.5], b"robot", True)
    pub.close()
    sub.close()


def test_type_info_gives_the_c_declaration_of_each_kind():
    expected = [
        (False, "bool", "t = hcm_type_scalar(HCM_TYPE_BOOL);"),
        (0, "int64", "t = hcm_type_scalar(HCM_TYPE_INT64);"),
        (0.0, "float64", "t = hcm_type_scalar(HCM_TYPE_FLOAT64);"),
        ("", "string", "t = hcm_type_scalar(HCM_TYPE_STRING);"),
        (b"", "bytes", "t = hcm_type_scalar(HCM_TYPE_BYTES);"),
    ]
    for default, name, c in expected:
        info = shm_pub_sub.type_info(default)
        assert (info["type"], info["c"]) == (name, c)
    info = shm_pub_sub.type_info(np.zeros((480, 640, 3), np.uint8))
    assert info["type"] == "uint8[480,640,3]" and info["size"] == 480 * 640 * 3
    assert info["c"] == "hcm_type_array(&t, HCM_TYPE_UINT8, 3, (uint32_t[]){480, 640, 3});"
    info = shm_pub_sub.type_info(np.zeros((), POSE), type_name="Pose")
    assert info["c"] == 'hcm_type_struct(&t, "Pose", "<I3d8s?", 37);'
    assert shm_pub_sub.type_info("", max_size=100)["max_size"] == 100


# ---- subscribe(): newest sample, freshness -----------------------------------------


def test_subscribe_returns_the_newest_sample(cleanup_topics):
    pub = Publisher("fresh", 0, 5)
    sub = Subscriber("fresh", 0)
    for v in (1, 2, 3):
        pub.publish(v)
    assert sub.subscribe() == (3, True)
    assert sub.subscribe() == (3, True)  # again, while fresh
    pub.close()
    sub.close()


def test_subscribe_before_any_publisher_returns_the_default_and_false(
        cleanup_topics, record_property):
    default = 12.25
    sub = Subscriber("nobody/here", default)
    start = time.perf_counter()
    for _ in range(1000):
        data, ok = sub.subscribe()
    record_property("measured_subscribe_without_data_us",
                    round((time.perf_counter() - start) * 1e3, 3))
    assert data is default and ok is False
    assert shm_pub_sub.topics() == []
    sub.close()


def test_subscribe_on_a_topic_nothing_was_published_on_returns_the_default_and_false(
        cleanup_topics):
    pub = Publisher("silent", 0)
    sub = Subscriber("silent", 5)
    assert sub.subscribe() == (5, False)
    pub.close()
    sub.close()


def test_subscribe_success_turns_false_after_the_default_expiry_of_2_seconds(cleanup_topics):
    pub = Publisher("expiry", 0.0)
    sub = Subscriber("expiry", 0.0)
    assert sub.expiry == 2.0
    pub.publish(1.5)
    assert sub.subscribe() == (1.5, True)
    time.sleep(2.3)
    assert sub.subscribe() == (1.5, False)  # the value stays, but it is stale
    pub.close()
    sub.close()


def test_expiry_argument_sets_the_freshness_window_and_0_means_never(cleanup_topics):
    pub = Publisher("expiry", 0.0)
    short = Subscriber("expiry", 0.0, expiry=0.2)
    never = Subscriber("expiry", 0.0, expiry=0)
    none = Subscriber("expiry", 0.0, expiry=None)
    assert (short.expiry, never.expiry, none.expiry) == (0.2, 0.0, 0.0)
    pub.publish(2.5)
    time.sleep(0.5)
    assert short.subscribe() == (2.5, False)
    assert never.subscribe() == (2.5, True)
    assert none.subscribe() == (2.5, True)
    pub.close()


def test_latest_returns_none_before_data_and_then_the_newest_whatever_its_age(cleanup_topics):
    pub = Publisher("latest", 0)
    sub = Subscriber("latest", 0, expiry=0.1)
    assert sub.latest() is None
    pub.publish(1)
    pub.publish(2)
    time.sleep(0.3)
    assert sub.subscribe() == (2, False)
    assert sub.latest() == 2
    pub.close()
    sub.close()


# ---- receive(), wait() ----------------------------------------------------------


def test_receive_returns_every_sample_in_publish_order(cleanup_topics):
    pub = Publisher("order", 0, 8)
    sub = Subscriber("order", 0)
    for v in range(8):
        pub.publish(v * 10)
    assert [sub.receive(timeout=1) for _ in range(8)] == [v * 10 for v in range(8)]
    assert sub.lost == 0
    with pytest.raises(TimeoutError):
        sub.receive(timeout=0)
    pub.close()
    sub.close()


def test_receive_gets_what_was_published_after_the_subscriber_opened_before_the_topic_existed(
        cleanup_topics):
    sub = Subscriber("early", 0)
    pub = Publisher("early", 0)
    pub.publish(1)
    pub.publish(2)
    assert [sub.receive(timeout=1), sub.receive(timeout=1)] == [1, 2]
    pub.close()
    sub.close()


def test_receive_counts_samples_lost_when_the_ring_is_overrun(cleanup_topics):
    pub = Publisher("overrun", 0, 3)
    sub = Subscriber("overrun", 0)
    for v in range(10):
        pub.publish(v)
    assert sub.receive(timeout=1) == 7  # the ring keeps the newest 3
    assert sub.lost == 7
    assert [sub.receive(timeout=1), sub.receive(timeout=1)] == [8, 9]
    assert sub.lost == 7
    assert "lost=7" in repr(sub)
    pub.close()
    sub.close()


def test_wait_returns_false_on_timeout_and_true_when_a_sample_is_there(cleanup_topics):
    pub = Publisher("waiting", 0)
    sub = Subscriber("waiting", 0)
    assert sub.wait(0.05) is False
    assert sub.wait(timeout=0) is False
    pub.publish(1)
    assert sub.wait(5) is True
    assert sub.receive(timeout=0) == 1
    pub.close()
    sub.close()


def test_negative_spin_selects_the_documented_polling_mode(cleanup_topics):
    """Subscriber docstring: 'spin ... negative = poll until the timeout'."""
    pub = Publisher("spin", 0)
    sub = Subscriber("spin", 0, spin=-1)
    pub.publish(3)
    assert sub.receive(timeout=1) == 3
    pub.close()
    sub.close()


# ---- zero copy: loan() ------------------------------------------------------------


def test_loan_lets_numpy_write_the_sample_in_place(cleanup_topics):
    pub = Publisher("loan/array", np.zeros((2, 4), np.float32))
    sub = Subscriber("loan/array", np.zeros((2, 4), np.float32))
    with pub.loan() as buf:
        assert buf.dtype == np.float32 and buf.shape == (2, 4) and buf.flags.writeable
        np.add(np.arange(8, dtype=np.float32).reshape(2, 4), 0.5, out=buf)
    assert sub.receive(timeout=1).tolist() == (np.arange(8).reshape(2, 4) + 0.5).tolist()
    with pub.loan() as buf:
        buf[...] = 7
    assert (sub.receive(timeout=1) == 7).all()
    pub.close()
    sub.close()


def test_an_exception_in_a_loan_block_discards_the_sample(cleanup_topics):
    pub = Publisher("loan/discard", np.zeros(4, np.int32))
    sub = Subscriber("loan/discard", np.zeros(4, np.int32))
    pub.publish(np.ones(4, np.int32))
    assert sub.receive(timeout=1).tolist() == [1] * 4
    with pytest.raises(RuntimeError, match="abandon"):
        with pub.loan() as buf:
            buf[:] = 9
            raise RuntimeError("abandon")
    with pytest.raises(TimeoutError):
        sub.receive(timeout=0)
    assert sub.latest().tolist() == [1] * 4
    pub.publish(np.full(4, 2, np.int32))  # the publisher still works
    assert sub.receive(timeout=1).tolist() == [2] * 4
    pub.close()
    sub.close()


def test_loan_on_a_str_topic_takes_the_size_and_gives_a_memoryview(cleanup_topics):
    pub = Publisher("loan/str", "", max_size=32)
    sub = Subscriber("loan/str", "", max_size=32)
    with pub.loan(5) as mv:
        assert isinstance(mv, memoryview) and len(mv) == 5
        mv[:] = b"hello"
        kept = mv
    assert sub.receive(timeout=1) == "hello"
    with pytest.raises(ValueError):  # released at the end of the block
        kept[0]
    pub.close()
    sub.close()


def test_publish_while_a_loan_is_active_raises_busy_error(cleanup_topics):
    pub = Publisher("loan/busy", 0)
    with pub.loan():
        with pytest.raises(shm_pub_sub.BusyError):
            pub.publish(1)
        with pytest.raises(shm_pub_sub.BusyError):
            pub.close()
    pub.close()


# ---- zero copy: view() ------------------------------------------------------------


def test_view_gives_the_next_sample_in_place_read_only(cleanup_topics):
    pub = Publisher("view", np.zeros(4))
    sub = Subscriber("view", np.zeros(4))
    pub.publish(np.arange(4.0))
    pub.publish(np.arange(4.0) * 2)
    with sub.view() as v:
        assert v.data.tolist() == [0.0, 1.0, 2.0, 3.0]
        assert v.seq == 0 and v.lost == 0 and v.timestamp > 0
        assert not v.data.flags.writeable
        with pytest.raises(ValueError):
            v.data[0] = 1.0
        assert v.intact()
    with sub.view(timeout=1) as v:
        assert v.seq == 1 and v.data.tolist() == [0.0, 2.0, 4.0, 6.0]
    pub.close()
    sub.close()


def test_view_of_a_bytes_topic_is_a_read_only_memoryview(cleanup_topics):
    pub = Publisher("view/bytes", b"")
    sub = Subscriber("view/bytes", b"")
    pub.publish(b"abc")
    with sub.view() as v:
        assert isinstance(v.data, memoryview) and v.data.readonly
        assert bytes(v.data) == b"abc"
    pub.close()
    sub.close()


def test_view_raises_overrun_error_at_exit_when_the_publisher_lapped_the_ring(cleanup_topics):
    pub = Publisher("view/lap", np.zeros(2), 2)
    sub = Subscriber("view/lap", np.zeros(2))
    pub.publish(np.zeros(2))
    with pytest.raises(shm_pub_sub.OverrunError, match="overwritten"):
        with sub.view() as v:
            assert v.intact()
            for k in range(1, 4):  # two slots: the viewed one is overwritten
                pub.publish(np.full(2, float(k)))
            assert not v.intact()
    pub.close()
    sub.close()


def test_view_blocks_other_reads_until_its_block_ends(cleanup_topics):
    pub = Publisher("view/busy", 0)
    sub = Subscriber("view/busy", 0)
    pub.publish(1)
    with sub.view():
        with pytest.raises(shm_pub_sub.BusyError):
            sub.receive(timeout=0)
    pub.close()
    sub.close()


# ---- close(), context managers, repr, docstrings -------------------------------


def test_close_detaches_and_can_be_repeated(cleanup_topics):
    pub = Publisher("closing", 0)
    sub = Subscriber("closing", 0)
    assert not pub.closed and not sub.closed
    pub.close()
    pub.close()
    sub.close()
    sub.close()
    assert pub.closed and sub.closed


def test_publisher_and_subscriber_are_context_managers_that_close(cleanup_topics):
    with Publisher("ctx", 0) as pub:
        with Subscriber("ctx", 0) as sub:
            pub.publish(4)
            assert sub.receive(timeout=1) == 4
    assert pub.closed and sub.closed


def test_a_late_subscriber_sees_the_last_value_after_the_publisher_closed(cleanup_topics):
    with Publisher("late", 0) as pub:
        pub.publish(99)
    sub = Subscriber("late", 0)
    assert sub.subscribe() == (99, True)
    sub.close()


def test_repr_shows_the_topic_its_type_and_state(cleanup_topics):
    pub = Publisher("shown/topic", 0.0, 5)
    sub = Subscriber("shown/topic", 0.0)
    assert repr(pub) == "<shm_pub_sub.Publisher 'shown/topic' float64, buffer_num=5, max_size=8>"
    assert repr(sub) == "<shm_pub_sub.Subscriber 'shown/topic' float64, expiry=2000 ms, lost=0>"
    pub.close()
    sub.close()
    assert repr(pub) == "<shm_pub_sub.Publisher 'shown/topic' float64, closed>"
    assert repr(sub) == "<shm_pub_sub.Subscriber 'shown/topic' float64, closed>"


def test_every_public_name_has_a_docstring():
    missing = []
    assert shm_pub_sub.__doc__
    for name in shm_pub_sub.__all__:
        obj = getattr(shm_pub_sub, name)
        if isinstance(obj, int):  # MAX_BUFFER_NUM, DEFAULT_MAX_SIZE
            continue
        if not (obj.__doc__ or "").strip():
            missing.append(name)
        if inspect.isclass(obj) and not issubclass(obj, BaseException):
            for attr, member in vars(obj).items():
                if attr.startswith("_"):
                    continue
                if not (getattr(member, "__doc__", None) or "").strip():
                    missing.append(f"{name}.{attr}")
    assert missing == []


def test_constructor_docstrings_give_the_signatures():
    assert inspect.signature(Publisher).parameters.keys() >= {"name", "default_value", "buffer_num"}
    assert str(inspect.signature(Publisher)).startswith("(name, default_value, buffer_num=3")
    assert str(inspect.signature(Subscriber)).startswith("(name, default_value, *, expiry=2.0")


# ---- names, domains, several publishers -------------------------------------------


def test_a_second_publisher_of_the_same_type_joins_the_topic(cleanup_topics):
    first = Publisher("joined", 0)
    second = Publisher("joined", 0, 7)  # joins: the ring keeps its 3 slots
    sub = Subscriber("joined", 0)
    assert second.buffer_num == 3
    first.publish(1)
    second.publish(2)
    assert [sub.receive(timeout=1), sub.receive(timeout=1)] == [1, 2]
    first.close()
    second.close()
    sub.close()


def test_a_leading_slash_names_the_same_topic_and_200_chars_are_accepted(cleanup_topics):
    pub = Publisher("/imu", 0)
    sub = Subscriber("imu", 0)
    pub.publish(3)
    assert sub.receive(timeout=1) == 3
    long_name = "a" * 200
    with Publisher(long_name, 0):
        pass
    assert sorted(t["name"] for t in shm_pub_sub.topics()) == [long_name, "imu"]
    pub.close()
    sub.close()


def test_domain_argument_overrides_hcm_domain(domain, cleanup_topics):
    other = domain + "x"
    try:
        pub = Publisher("dom", 0, domain=other)
        pub.publish(5)
        assert Subscriber("dom", 0).latest() is None
        assert Subscriber("dom", 0, domain=other).latest() == 5
        assert [t["name"] for t in shm_pub_sub.topics(other)] == ["dom"]
        assert shm_pub_sub.topics() == []
        pub.close()
    finally:
        for t in shm_pub_sub.topics(other):
            shm_pub_sub.unlink(t["name"], other)


def test_topics_shows_a_lagging_subscriber_its_losses_and_staleness(cleanup_topics):
    pub = Publisher("seed/watched", 0, 2)
    sub = shm_pub_sub.Subscriber("seed/watched", 0)
    for v in range(1, 6):
        pub.publish(v)
    (t,) = shm_pub_sub.topics()
    assert (t["subscribers"], t["max_lag"], t["lost"], t["stale"]) == (1, 5, 0, False)
    assert [sub.receive(timeout=5), sub.receive(timeout=5)] == [4, 5]  # 2 slots: 1..3 gone
    (t,) = shm_pub_sub.topics()
    assert (t["max_lag"], t["lost"]) == (0, 3)
    pub.close()
    sub.close()
    (t,) = shm_pub_sub.topics()  # closed, but this process lives: not stale
    assert (t["subscribers"], t["stale"]) == (0, False)
