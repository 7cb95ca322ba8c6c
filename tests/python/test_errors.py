"""Errors: the documented exception for every bad input, the message naming
what is wrong, nothing published by a failed publish(), and every error an
shm_pub_sub.Error."""
import math
import os
import subprocess

import numpy as np
import pytest

import shm_pub_sub
from shm_pub_sub import Publisher, Subscriber
from support import child_env, python_args

BAD_NAMES = {
    "empty": "",
    "only_slash": "/",
    "201_chars": "a" * 201,
    "nul": "a\0b",
    "space": "bad name",
    "double_slash": "a//b",
    "trailing_slash": "a/",
    "non_ascii": "temp\u00e9rature",
    "backslash": "a\\b",
}

# id -> (call, the built-in exception it must raise)
BAD_INPUTS = {}
for _k, _n in BAD_NAMES.items():
    BAD_INPUTS[f"publisher_name_{_k}"] = (lambda n=_n: Publisher(n, 0), ValueError)
    BAD_INPUTS[f"subscriber_name_{_k}"] = (lambda n=_n: Subscriber(n, 0), ValueError)
BAD_INPUTS.update({
    "unlink_name_space": (lambda: shm_pub_sub.unlink("bad name"), ValueError),
    "buffer_num_0": (lambda: Publisher("t", 0, 0), ValueError),
    "buffer_num_negative": (lambda: Publisher("t", 0, -1), ValueError),
    "buffer_num_65537": (lambda: Publisher("t", 0, 65537), ValueError),
    "buffer_num_2_pow_64": (lambda: Publisher("t", 0, 2**64), ValueError),
    "buffer_num_float": (lambda: Publisher("t", 0, 3.0), TypeError),
    "buffer_num_keyword_float": (lambda: Publisher("t", 0, buffer_num=2.5), TypeError),
    "buffer_num_bool": (lambda: Publisher("t", 0, True), TypeError),
    "max_size_0": (lambda: Publisher("t", "", max_size=0), ValueError),
    "max_size_negative": (lambda: Publisher("t", b"", max_size=-1), ValueError),
    "max_size_over_4_GiB": (lambda: Publisher("t", b"", max_size=2**32 + 1), ValueError),
    "max_size_on_an_int_topic": (lambda: Publisher("t", 0, max_size=8), ValueError),
    "subscriber_max_size_2_pow_40": (lambda: Subscriber("t", "", max_size=2**40), ValueError),
    "ring_of_65536_slots_of_2_GiB": (
        lambda: Publisher("t", "", 65536, max_size=2**31), ValueError),
    "array_of_1_TiB": (
        lambda: Publisher("t", np.broadcast_to(np.uint8(0), (2**20, 2**20))), ValueError),
    "array_with_a_zero_extent": (lambda: Publisher("t", np.zeros((0,), np.uint8)), ValueError),
    "expiry_negative": (lambda: Subscriber("t", 0.0, expiry=-1.0), ValueError),
    "expiry_nan": (lambda: Subscriber("t", 0.0, expiry=math.nan), ValueError),
    "receive_timeout_negative": (lambda: Subscriber("t", 0.0).receive(timeout=-0.5), ValueError),
    "wait_timeout_negative": (lambda: Subscriber("t", 0.0).wait(-1), ValueError),
    "view_timeout_negative": (lambda: Subscriber("t", 0.0).view(timeout=-1), ValueError),
    "default_value_none": (lambda: Publisher("t", None), TypeError),
    "default_value_list": (lambda: Publisher("t", [1, 2]), TypeError),
    "default_value_big_endian_array": (lambda: Publisher("t", np.zeros(3, ">f8")), TypeError),
    "default_value_complex_array": (lambda: Publisher("t", np.zeros(3, np.complex128)), TypeError),
    "type_name_on_an_int_topic": (lambda: Publisher("t", 0, type_name="X"), ValueError),
    "type_name_with_a_space": (
        lambda: Publisher("t", np.zeros((), [("a", "<i4")]), type_name="bad name"), ValueError),
    "mode_without_owner_read_write": (lambda: Publisher("t", 0, mode=0o400), ValueError),
    "mode_with_bits_outside_0777": (lambda: Publisher("t", 0, mode=0o4777), ValueError),
    "domain_with_a_space": (lambda: Publisher("t", 0, domain="bad domain"), ValueError),
    "domain_of_33_chars": (lambda: Subscriber("t", 0, domain="d" * 33), ValueError),
    "loan_on_a_str_topic_without_size": (lambda: Publisher("t", "").loan(), ValueError),
    "loan_size_on_a_fixed_size_topic": (lambda: Publisher("t", 0).loan(8), ValueError),
    "loan_size_over_max_size": (lambda: Publisher("t", b"", max_size=8).loan(9), ValueError),
    "unlink_a_missing_topic": (lambda: shm_pub_sub.unlink("missing"), FileNotFoundError),
    "publish_int_above_int64": (lambda: Publisher("t", 0).publish(2**63), OverflowError),
})


@pytest.mark.parametrize("case", list(BAD_INPUTS))
def test_bad_input_raises_the_documented_builtin_exception(case, cleanup_topics):
    call, builtin = BAD_INPUTS[case]
    with pytest.raises(builtin):
        call()


@pytest.mark.parametrize("case", list(BAD_INPUTS))
def test_bad_input_error_is_an_shm_pub_sub_error(case, cleanup_topics):
    """The issue: 'everything derives from shm_pub_sub.Error'."""
    call, builtin = BAD_INPUTS[case]
    with pytest.raises(Exception) as info:
        call()
    assert isinstance(info.value, builtin)
    assert isinstance(info.value, shm_pub_sub.Error), (
        f"{type(info.value).__name__}({info.value}) is not an shm_pub_sub.Error")


def test_bad_names_are_named_in_the_message(cleanup_topics):
    with pytest.raises(ValueError, match="longer than 200"):
        Publisher("a" * 201, 0)
    with pytest.raises(ValueError, match="NUL"):
        Subscriber("a\0b", 0)
    with pytest.raises(ValueError, match="bad name"):
        Publisher("bad name", 0)


def test_exception_classes_derive_from_error_and_the_matching_builtin():
    expected = {
        "TypeMismatchError": TypeError,
        "InvalidArgumentError": ValueError,
        "PermissionDeniedError": PermissionError,
        "TopicNotFoundError": FileNotFoundError,
        "WaitTimeoutError": TimeoutError,
        "SystemCallError": OSError,
        "CorruptSegmentError": Exception,
        "BusyError": Exception,
        "OverrunError": Exception,
    }
    assert issubclass(shm_pub_sub.Error, Exception)
    for name, builtin in expected.items():
        cls = getattr(shm_pub_sub, name)
        assert issubclass(cls, shm_pub_sub.Error) and issubclass(cls, builtin), name


# ---- type mismatches between peers -------------------------------------------


def test_subscriber_expecting_int_on_a_float_topic_raises_type_error_naming_both(cleanup_topics):
    pub = Publisher("mismatch", 0.0)
    with pytest.raises(shm_pub_sub.TypeMismatchError) as info:
        Subscriber("mismatch", 0)
    assert isinstance(info.value, TypeError)
    assert "float64" in str(info.value) and "int64" in str(info.value)
    pub.close()


def test_subscriber_opened_before_a_topic_of_another_type_appears_raises_on_read(cleanup_topics):
    sub = Subscriber("mismatch", 0)
    assert sub.subscribe() == (0, False)
    pub = Publisher("mismatch", 0.0)
    pub.publish(1.5)
    for read in (sub.subscribe, sub.latest, lambda: sub.receive(timeout=1)):
        with pytest.raises(TypeError, match="float64") as info:
            read()
        assert isinstance(info.value, shm_pub_sub.TypeMismatchError)
        assert "int64" in str(info.value)
    pub.close()
    sub.close()


def test_second_publisher_of_another_type_raises_type_error_naming_both(cleanup_topics):
    first = Publisher("mismatch", 0.0)
    with pytest.raises(shm_pub_sub.TypeMismatchError) as info:
        Publisher("mismatch", 0)
    assert isinstance(info.value, TypeError)
    assert "float64" in str(info.value) and "int64" in str(info.value)
    first.close()


@pytest.mark.parametrize("theirs, ours, kw", [
    ("", b"", {}),
    (np.zeros((4, 4), np.uint8), np.zeros((4, 5), np.uint8), {}),
    (np.zeros(4, np.float32), np.zeros(4, np.float64), {}),
    (False, 0, {}),
    (np.zeros((), [("a", "<i4")]), np.zeros((), [("a", "<i4")]), {"type_name": "Other"}),
], ids=["str_vs_bytes", "shape", "float32_vs_float64", "bool_vs_int", "struct_name"])
def test_subscriber_of_another_type_raises_type_error(theirs, ours, kw, cleanup_topics):
    pub = Publisher("mismatch", theirs, type_name="Mine" if "type_name" in kw else None)
    with pytest.raises(shm_pub_sub.TypeMismatchError):
        Subscriber("mismatch", ours, **kw)
    pub.close()


# ---- publishing a value of the wrong type publishes nothing -------------------

WRONG_VALUES = {
    "wrong_size_array": (np.zeros((4, 4), np.uint8), np.zeros((4, 5), np.uint8), TypeError),
    "wrong_dtype_array": (np.zeros((4, 4), np.uint8), np.zeros((4, 4), np.int8), TypeError),
    "float_array_to_uint8_topic": (np.zeros((4, 4), np.uint8), np.zeros((4, 4)), TypeError),
    "scalar_to_array_topic": (np.zeros((4, 4), np.uint8), 5, TypeError),
    "str_to_array_topic": (np.zeros(4, np.uint8), "text", TypeError),
    "str_to_bytes_topic": (b"", "text", TypeError),
    "bytes_to_str_topic": ("", b"text", TypeError),
    "bool_to_int_topic": (0, True, TypeError),
    "float_to_int_topic": (0, 1.0, TypeError),
    "numpy_float_to_int_topic": (0, np.float64(1.0), TypeError),
    "int_to_bool_topic": (False, 1, TypeError),
    "str_to_float_topic": (0.0, "1.5", TypeError),
    "none_to_float_topic": (0.0, None, TypeError),
    "bool_to_float_topic": (0.0, True, TypeError),
    "int_above_int64": (0, 2**63, OverflowError),
    "int_below_int64": (0, -(2**63) - 1, OverflowError),
    "str_over_max_size": ("", "x" * 17, ValueError),
    "bytes_over_max_size": (b"", b"x" * 17, ValueError),
}


@pytest.mark.parametrize("case", list(WRONG_VALUES))
def test_publishing_a_wrong_value_raises_and_publishes_nothing(case, cleanup_topics):
    default, value, builtin = WRONG_VALUES[case]
    kw = {"max_size": 16} if isinstance(default, (str, bytes)) else {}
    pub = Publisher("wrong", default, **kw)
    sub = Subscriber("wrong", default, **kw)
    with pytest.raises(builtin):
        pub.publish(value)
    assert sub.latest() is None
    with pytest.raises(TimeoutError):
        sub.receive(timeout=0)
    assert shm_pub_sub.topics()[0]["publish_count"] == 0
    pub.close()
    sub.close()


def test_wrong_type_message_names_the_topic_type_and_the_value_type(cleanup_topics):
    pub = Publisher("wrong", 0)
    with pytest.raises(shm_pub_sub.TypeMismatchError, match=r"'wrong'.*int64.*float"):
        pub.publish(1.5)
    pub.close()


# ---- closed objects, timeouts -------------------------------------------------


@pytest.mark.parametrize("use", ["publish", "loan"])
def test_using_a_closed_publisher_raises_error(use, cleanup_topics):
    pub = Publisher("closed", 0)
    pub.close()
    with pytest.raises(shm_pub_sub.Error, match="closed"):
        pub.publish(1) if use == "publish" else pub.loan()


@pytest.mark.parametrize("use", ["subscribe", "latest", "receive", "wait", "view"])
def test_using_a_closed_subscriber_raises_error(use, cleanup_topics):
    sub = Subscriber("closed", 0)
    sub.close()
    with pytest.raises(shm_pub_sub.Error, match="closed"):
        getattr(sub, use)()


def test_receive_timeout_raises_timeout_error(cleanup_topics):
    sub = Subscriber("quiet", 0)
    with pytest.raises(shm_pub_sub.WaitTimeoutError) as info:
        sub.receive(timeout=0.05)
    assert isinstance(info.value, TimeoutError) and "quiet" in str(info.value)


def test_view_timeout_raises_timeout_error(cleanup_topics):
    pub = Publisher("quiet", 0)
    sub = Subscriber("quiet", 0)
    with pytest.raises(TimeoutError):
        with sub.view(timeout=0.05):
            pass
    assert isinstance(shm_pub_sub.WaitTimeoutError("x"), shm_pub_sub.Error)
    pub.close()


# ---- permissions --------------------------------------------------------------

AS_NOBODY = """
import os, sys, shm_pub_sub
os.setgroups([])
os.setgid(65534)
os.setuid(65534)
try:
    if sys.argv[1] == "publisher":
        shm_pub_sub.Publisher("secret/topic", 0.0)
    else:
        shm_pub_sub.Subscriber("secret/topic", 0.0).subscribe()
except PermissionError as e:
    print(type(e).__name__, isinstance(e, shm_pub_sub.Error), e)
else:
    print("opened")
"""


@pytest.mark.skipif(os.geteuid() != 0, reason="needs root to drop to nobody")
@pytest.mark.parametrize("role", ["publisher", "subscriber"])
def test_another_user_cannot_open_a_0600_topic_and_the_error_names_the_segment(
        role, domain, cleanup_topics):
    pub = Publisher("secret/topic", 0.0)  # mode 0600, owned by root
    pub.publish(1.0)
    proc = subprocess.run(python_args(AS_NOBODY) + [role], env=child_env(),
                          capture_output=True, text=True, timeout=30)
    assert proc.returncode == 0, proc.stderr
    kind, is_error, message = proc.stdout.strip().split(" ", 2)
    assert (kind, is_error) == ("PermissionDeniedError", "True")
    assert f"/dev/shm/hcm.{domain}.t.secret" in message
    pub.close()
