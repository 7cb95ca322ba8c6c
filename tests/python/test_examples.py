"""The Python example scripts (examples/python/) against the C examples, so
that they cannot rot: each runs as its user would run it."""
import subprocess
import sys
from pathlib import Path

import pytest

import shm_action
import shm_pub_sub
import shm_service
from support import find_c_examples

REPO = Path(__file__).resolve().parents[2]
EXAMPLES = REPO / "examples" / "python"


@pytest.fixture(scope="module")
def c_bins():
    names = ("talker", "listener", "calc_server", "calc_client", "move_to_server",
             "move_to_client")
    return dict(zip(names, find_c_examples(names)))


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


def run_move_to_pair(server_cmd, client_args, client_cmd_of):
    """Starts a move_to server, runs one client to completion, stops the server."""
    server = subprocess.Popen(server_cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                              text=True)
    try:
        run = subprocess.run(client_cmd_of(client_args), capture_output=True, text=True,
                             timeout=60)
    finally:
        server.send_signal(2)
        sout, serr = server.communicate(timeout=20)
    assert server.returncode == 0, serr
    try:  # the C server leaves its segment (no --unlink); the Python one removes it
        shm_action.unlink("robot/move_to")
    except FileNotFoundError:
        pass
    return run, sout


def py_move_to_client(args):
    return [sys.executable, str(EXAMPLES / "move_to_client.py"), "--wait", "10",
            "--timeout", "20", *args]


def test_python_move_to_client_example_drives_the_c_server_to_succeeded(c_bins):
    run, sout = run_move_to_pair([str(c_bins["move_to_server"]), "--seconds", "30",
                                  "--step-ms", "20"], ["--target", "5"], py_move_to_client)
    assert run.returncode == 0, run.stderr
    assert "py-move-to-client: feedback 5: position    5.000  progress 100.0%" in run.stdout
    assert "py-move-to-client: succeeded at position 5.000" in run.stdout
    assert "move_to_server: goal 1 succeeded at 5.000" in sout


def test_python_move_to_client_example_cancels_the_c_server_goal(c_bins):
    run, sout = run_move_to_pair([str(c_bins["move_to_server"]), "--seconds", "30",
                                  "--step-ms", "20"], ["--target", "50", "--cancel-after", "3"],
                                 py_move_to_client)
    assert run.returncode == 0, run.stderr
    assert "py-move-to-client: canceling after 3 feedbacks" in run.stdout
    assert "py-move-to-client: canceled at position" in run.stdout
    assert "move_to_server: goal 1 canceled at" in sout


def py_move_to_server():
    return [sys.executable, str(EXAMPLES / "move_to_server.py"), "--seconds", "30",
            "--step-ms", "20"]


def test_c_move_to_client_example_drives_the_python_server_to_succeeded(c_bins):
    run, sout = run_move_to_pair(py_move_to_server(), ["--target", "4"],
                                 lambda a: [str(c_bins["move_to_client"]), "--wait", "10",
                                            "--timeout", "20", *a])
    assert run.returncode == 0, run.stderr
    assert "move_to_client: succeeded at position 4.000" in run.stdout
    assert "py-move-to-server: goal 1 -> 4.000 accepted" in sout
    assert "py-move-to-server: goal 1 ended at 4.000" in sout


def test_c_move_to_client_example_cancels_the_python_server_goal(c_bins):
    run, sout = run_move_to_pair(py_move_to_server(), ["--target", "50", "--cancel-after", "3"],
                                 lambda a: [str(c_bins["move_to_client"]), "--wait", "10",
                                            "--timeout", "20", *a])
    assert run.returncode == 0, run.stderr
    assert "move_to_client: status canceling" in run.stdout
    assert "move_to_client: canceled at position" in run.stdout


def test_the_python_move_to_server_example_rejects_a_target_beyond_its_limit(c_bins):
    run, sout = run_move_to_pair(py_move_to_server(), ["--target", "4000"],
                                 lambda a: [str(c_bins["move_to_client"]), "--wait", "10",
                                            "--timeout", "20", *a])
    assert run.returncode == 1  # the C client: 1 when the goal was rejected
    assert "move_to_client: rejected" in run.stdout
    assert "py-move-to-server: goal -> 4000.0: rejected" in sout
