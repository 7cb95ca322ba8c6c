"""Shared fixtures: every test runs in a fresh HCM_DOMAIN and must leave
nothing behind in /dev/shm."""
import os
import uuid

import pytest


def _entries(domain):
    prefix = f"hcm.{domain}."
    return sorted(n for n in os.listdir("/dev/shm") if n.startswith(prefix))


@pytest.fixture(autouse=True)
def domain(monkeypatch):
    """A fresh domain for this test; fails the test if it leaks segments."""
    name = "py" + uuid.uuid4().hex[:12]
    monkeypatch.setenv("HCM_DOMAIN", name)
    yield name
    left = _entries(name)
    for n in left:
        os.unlink(os.path.join("/dev/shm", n))
    assert not left, f"left behind in /dev/shm: {left}"
