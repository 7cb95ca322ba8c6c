"""The Python example scripts (examples/python/) against the C examples, so
that they cannot rot: each runs as its user would run it."""
import subprocess
import sys
from pathlib import Path

import pytest

import shm_pub_sub
import shm_service
from support import find_c_examples

REPO = Path(__file__).resolve().parents[2]
EXAMPLES = REPO / "examples" / "python"


@pytest.fixture(scope="module")
def c_bins():
    talker, listener, server, client = find_c_examples(
        ("talker", "listener", "calc_server", "calc_client"))
    return {"talker": talker, "listener": listener, "calc_server": server, "calc_client": client}


def test_python_listener_example_reads_the_c_talker(c_bins):
    listener = subprocess.Popen([sys.executable, str(EXAMPLES / "listener.py"), "--count", "5"],
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    talker = subprocess.Popen([str(c_bins["talker"]), "--rate", "50", "--seconds", "10"],
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        out, err = listener.communicate(timeout=30)
    finally:
        talker.terminate()
        talker.communicate(timeout=10)
    assert listener.returncode == 0, err
    assert "py-listener: received 5, lost 0" in out
    shm_pub_sub.unlink("demo/sensor")


def test_c_listener_example_reads_the_python_talker(c_bins):
    listener = subprocess.Popen([str(c_bins["listener"]), "--count", "5", "--seconds", "20"],
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    talker = subprocess.Popen([sys.executable, str(EXAMPLES / "talker.py"), "--rate", "50",
                               "--seconds", "20"],
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        out, err = listener.communicate(timeout=30)
    finally:
        talker.terminate()
        tout, terr = talker.communicate(timeout=10)
    assert listener.returncode == 0, err
    assert "listener: received 5, lost 0" in out
    assert talker.returncode == 0, terr
    shm_pub_sub.unlink("demo/sensor")


def test_python_calc_client_example_calls_the_c_calc_server(c_bins):
    server = subprocess.Popen([str(c_bins["calc_server"]), "--seconds", "30"],
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        assert server.stdout.readline().startswith("calc_server: serving")
        run = subprocess.run([sys.executable, str(EXAMPLES / "calc_client.py"), "--count", "3"],
                             capture_output=True, text=True, timeout=30)
    finally:
        server.send_signal(2)
        sout, serr = server.communicate(timeout=10)
    assert run.returncode == 0, run.stderr
    assert "py-calc-client: 2 + 2000 = 2002" in run.stdout
    assert "INT64_MAX + 1 -> RemoteError" in run.stdout and "overflows int64" in run.stdout
    assert server.returncode == 0, serr
    assert "calc_server: served 3 calls" in sout
    shm_service.unlink("calc/add")
