"""Helpers for the tests: child processes whose output is read line by line
while they run, and where things are."""
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

TESTS = Path(__file__).resolve().parent
REPO = TESTS.parents[1]
SEED = TESTS / "seed_examples"


def child_env(extra=None):
    """The environment of a child: ours (so HCM_DOMAIN is the test's domain),
    unbuffered UTF-8 output, and this directory on the import path."""
    env = dict(os.environ)
    env["PYTHONUNBUFFERED"] = "1"
    env["PYTHONIOENCODING"] = "utf-8"
    env["PYTHONPATH"] = os.pathsep.join(
        p for p in (str(TESTS), env.get("PYTHONPATH", "")) if p
    )
    if extra:
        env.update(extra)
    return env


def python_args(code):
    """argv that runs `code` with this interpreter."""
    return [sys.executable, "-c", code]


class Child:
    """A running child process. Its stdout and stderr are collected by two
    threads, so a test can wait for a line while the child runs."""

    def __init__(self, args, env=None, cwd=None):
        self.args = args
        self.proc = subprocess.Popen(
            args,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            env=env if env is not None else child_env(),
            cwd=cwd,
            text=True,
            encoding="utf-8",
            errors="replace",
            bufsize=1,
        )
        self.out = []
        self.err = []
        self._cond = threading.Condition()
        self._readers = [
            threading.Thread(target=self._read, args=(self.proc.stdout, self.out), daemon=True),
            threading.Thread(target=self._read, args=(self.proc.stderr, self.err), daemon=True),
        ]
        for t in self._readers:
            t.start()

    def _read(self, stream, sink):
        for line in stream:
            with self._cond:
                sink.append(line.rstrip("\n"))
                self._cond.notify_all()
        with self._cond:
            self._cond.notify_all()

    @property
    def pid(self):
        return self.proc.pid

    def stdout(self):
        with self._cond:
            return "\n".join(self.out)

    def stderr(self):
        with self._cond:
            return "\n".join(self.err)

    def lines(self):
        with self._cond:
            return list(self.out)

    def wait_for(self, match, timeout=10.0, count=1):
        """Waits until `count` stdout lines satisfy `match` (a substring or a
        predicate); returns those lines. Fails with the output so far if the
        child exits or the timeout passes first."""
        pred = match if callable(match) else (lambda line: match in line)
        deadline = time.monotonic() + timeout
        with self._cond:
            while True:
                found = [line for line in self.out if pred(line)]
                if len(found) >= count:
                    return found[:count]
                left = deadline - time.monotonic()
                if left <= 0 or (self.proc.poll() is not None and not self._reading()):
                    raise AssertionError(
                        f"{self.args!r}: no {count} line(s) matching {match!r} "
                        f"(exit status {self.proc.poll()})\n--- stdout ---\n"
                        + "\n".join(self.out[-50:])
                        + "\n--- stderr ---\n"
                        + "\n".join(self.err[-50:])
                    )
                self._cond.wait(min(left, 0.1))

    def _reading(self):
        return any(t.is_alive() for t in self._readers)

    def wait(self, timeout=10.0):
        """Waits for the exit and for all output; returns the exit status."""
        rc = self.proc.wait(timeout)
        for t in self._readers:
            t.join(timeout)
        return rc

    def stop(self, sig=signal.SIGTERM, timeout=5.0):
        """Sends `sig` if still running, waits; kills after `timeout`.
        Returns the exit status."""
        if self.proc.poll() is None:
            try:
                self.proc.send_signal(sig)
            except ProcessLookupError:
                pass
        try:
            return self.wait(timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            return self.wait(timeout)


def find_c_examples(names=("talker", "listener")):
    """Paths of C example programs (default talker and listener), built if needed."""
    targets = [f"hcm_example_{n}" for n in names]
    build = REPO / "build"
    if (build / "build.ninja").exists() or (build / "Makefile").exists():
        # bring an existing build tree up to date (a no-op when it is)
        subprocess.run(
            ["cmake", "--build", str(build), "--target", *targets],
            cwd=REPO, check=True, capture_output=True,
        )
    candidates = [build] + sorted(REPO.glob("build-*"))
    for d in candidates:
        paths = [d / "examples" / n for n in names]
        if all(p.is_file() and os.access(p, os.X_OK) for p in paths):
            return paths
    subprocess.run(
        ["cmake", "-S", ".", "-B", "build", "-G", "Ninja"], cwd=REPO, check=True,
        capture_output=True,
    )
    subprocess.run(
        ["cmake", "--build", "build", "--target", *targets], cwd=REPO, check=True,
        capture_output=True,
    )
    return [build / "examples" / n for n in names]


def find_cli():
    """Path of the `hcm` command-line tool: $HCM_CLI if set, else
    build/tools/hcm (or build-*/tools/hcm) under the repository; None if
    there is none. It is not built here: `make test` builds it first."""
    env = os.environ.get("HCM_CLI")
    if env:
        return Path(env)
    for d in [REPO / "build"] + sorted(REPO.glob("build-*")):
        p = d / "tools" / "hcm"
        if p.is_file() and os.access(p, os.X_OK):
            return p
    return None


def feed_until(pub, value, child, match, timeout=10.0, period=0.02):
    """Publishes `value` every `period` seconds until the child prints a line
    matching `match`; returns that line."""
    deadline = time.monotonic() + timeout
    while True:
        pub.publish(value)
        try:
            return child.wait_for(match, timeout=period)[0]
        except AssertionError:
            if time.monotonic() > deadline or child.proc.poll() is not None:
                return child.wait_for(match, timeout=0)[0]  # fails with the output
