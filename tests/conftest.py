"""conftest.py — pytest fixtures over tests/harness.py: `make_httpd` builds
throwaway servers and always stops and removes them, pass or fail."""
import os
import sys

import pytest

sys.path.insert(0, os.path.dirname(__file__))
import harness  # noqa: E402


@pytest.fixture
def make_httpd():
    made = []

    def factory(**kw):
        h = harness.Httpd(**kw)
        made.append(h)
        return h
    yield factory
    for h in made:
        h.cleanup()


def pytest_report_header(config):
    return "module: %s  apache: %s  libexec: %s  root: %s" % (
        harness.MODULE, harness.APACHE, harness.LIBEXEC, harness.RUN_AS_ROOT)
