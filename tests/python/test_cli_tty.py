"""`hcm top` on a terminal: the q key quits and the terminal is restored.

Runs the real binary on a pseudo-terminal (pty), as a user would see it.
"""
import os
import pty
import select
import subprocess
import termios
import time

import pytest

from support import find_cli


def _cli():
    path = find_cli()
    assert path is not None, "the hcm tool is not built (make test builds it: build/tools/hcm)"
    return str(path)


def _read_until(fd, needle, limit_s=20.0):
    """Reads from fd until `needle` appears; returns everything read."""
    out = b""
    end = time.monotonic() + limit_s
    while needle not in out and time.monotonic() < end:
        ready, _, _ = select.select([fd], [], [], 0.2)
        if ready:
            try:
                chunk = os.read(fd, 4096)
            except OSError:  # EIO: the child closed the terminal
                break
            if not chunk:
                break
            out += chunk
    return out


@pytest.fixture
def tty():
    main, sub = pty.openpty()
    yield main, sub
    os.close(main)
    os.close(sub)


def _start_top(sub):
    return subprocess.Popen([_cli(), "top", "--interval", "0.2"], stdin=sub, stdout=sub,
                            stderr=sub, start_new_session=True)


def test_top_on_a_terminal_quits_on_q(tty, domain):
    main, sub = tty
    subprocess.run([_cli(), "pub", "tty/t", "1", "--type", "int64"], check=True, timeout=30,
                   capture_output=True)
    proc = _start_top(sub)
    try:
        seen = _read_until(main, b"tty/t")
        assert b"tty/t" in seen, seen
        assert b"\x1b[H\x1b[2J" in seen  # a terminal gets a refreshing screen
        os.write(main, b"q")
        assert proc.wait(timeout=20) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        subprocess.run([_cli(), "clean"], timeout=30, capture_output=True)


def test_top_restores_the_terminal_modes_it_changed(tty, domain):
    main, sub = tty
    before = termios.tcgetattr(sub)
    proc = _start_top(sub)
    try:
        _read_until(main, b"q quits")
        during = termios.tcgetattr(sub)
        assert not during[3] & termios.ICANON  # keys arrive one by one while it runs
        os.write(main, b"q")
        assert proc.wait(timeout=20) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    after = termios.tcgetattr(sub)
    assert after[3] == before[3]  # ICANON and ECHO back as they were


def test_other_keys_do_not_quit_top(tty, domain):
    main, sub = tty
    proc = _start_top(sub)
    try:
        _read_until(main, b"q quits")
        os.write(main, b"x")
        # two more refreshes after the key: still running
        _read_until(main, b"q quits")
        _read_until(main, b"q quits")
        assert proc.poll() is None
        os.write(main, b"q")
        assert proc.wait(timeout=20) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
