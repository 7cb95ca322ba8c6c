"""Shared fixtures: every test runs in a fresh HCM_DOMAIN and must leave
nothing behind in /dev/shm."""
import os
import uuid

import pytest

# Every domain handed out in this session, for the final /dev/shm check
# (test_zz_dev_shm_clean.py).
USED_DOMAINS = []


def _entries(domain):
    prefix = f"hcm.{domain}."
    return sorted(n for n in os.listdir("/dev/shm") if n.startswith(prefix))


@pytest.fixture(autouse=True)
def domain(monkeypatch):
    """A fresh domain for this test; fails the test if it leaks segments."""
    name = "py" + uuid.uuid4().hex[:12]
    USED_DOMAINS.append(name)
    monkeypatch.setenv("HCM_DOMAIN", name)
    yield name
    left = _entries(name)
    for n in left:
        os.unlink(os.path.join("/dev/shm", n))
    assert not left, f"left behind in /dev/shm: {left}"


@pytest.fixture
def cleanup_topics(domain):
    """Unlinks (shm_pub_sub.unlink) every topic of the test's domain at the
    end of the test, before the leftover check of `domain`."""
    yield domain
    import shm_pub_sub

    for info in shm_pub_sub.topics(domain):
        try:
            shm_pub_sub.unlink(info["name"], domain)
        except shm_pub_sub.TopicNotFoundError:
            pass


@pytest.fixture
def spawn(cleanup_topics):
    """Starts child processes (support.Child) and makes sure every one of
    them is gone before the topics are unlinked."""
    from support import Child

    children = []

    def start(args, **kw):
        child = Child(args, **kw)
        children.append(child)
        return child

    yield start
    for child in children:
        child.stop()


def pytest_terminal_summary(terminalreporter):
    """Prints the measurements tests recorded with record_property."""
    lines = []
    for reports in terminalreporter.stats.values():
        for rep in reports:
            if getattr(rep, "when", None) != "call":
                continue
            for key, value in getattr(rep, "user_properties", ()):
                if key.startswith("measured_"):
                    lines.append(f"{rep.nodeid}: {key[9:]} = {value}")
    if lines:
        terminalreporter.section("measurements")
        for line in sorted(lines):
            terminalreporter.line(line)
