"""test_package.py — the module ships like a distribution module (issue 18).

Always (cheap, nothing on the machine changes):
  * one version: AC_INIT in configure.ac is the source; NEWS, the Debian
    changelog and the RPM spec say the same; the running module logs it.

Only with FX_PACKAGE_TEST=1 or CI=true (they take a minute or two, and the
last one installs and purges a package on this machine):
  * `make dist` produces a tarball that configures and builds elsewhere.
"""
import glob
import os
import re
import shutil
import subprocess
import tarfile
import tempfile
import time

import pytest

import harness

SRC = os.path.abspath(os.path.join(os.path.dirname(__file__), ".."))
PACKAGE_TESTS = (os.environ.get("FX_PACKAGE_TEST") == "1"
                 or os.environ.get("CI") == "true")
needs_package_tests = pytest.mark.skipif(
    not PACKAGE_TESTS, reason="set FX_PACKAGE_TEST=1 (CI=true does too)")


def _read(rel):
    with open(os.path.join(SRC, rel)) as f:
        return f.read()


def configure_version():
    m = re.search(r"^AC_INIT\(\[mod_forbidden_explain\],\s*\[([^\]]+)\]",
                  _read("configure.ac"), re.M)
    assert m, "no AC_INIT([mod_forbidden_explain], [VERSION]...) in configure.ac"
    return m.group(1)


def news_version():
    m = re.search(r"^(\d+\.\d+\.\d+\S*) \(", _read("NEWS"), re.M)
    assert m, "NEWS has no 'X.Y.Z (date)' heading"
    return m.group(1)


def test_version_single_source_and_news():
    v = configure_version()
    assert re.fullmatch(r"\d+\.\d+\.\d+", v), v
    assert news_version() == v, "NEWS' newest entry is not configure.ac's version"


def test_running_module_logs_its_version(make_httpd):
    """The version compiled in (configure's fx_version.h) is the one in
    configure.ac, and the module logs it once per start at level info."""
    h = make_httpd(name="version")
    h.conf("LogLevel warn forbidden_explain:info")
    h.start()
    time.sleep(0.2)
    lines = [l for l in h.read_error_log().splitlines()
             if "[forbidden_explain:info]" in l and " loaded" in l]
    assert len(lines) == 1, h.read_error_log()[-2000:]
    assert lines[0].endswith("mod_forbidden_explain/%s loaded" % configure_version())


def test_version_not_logged_at_default_level(make_httpd):
    """Under LogLevel warn (Debian's default) the start adds no line."""
    h = make_httpd(name="version-quiet")
    h.start()
    time.sleep(0.2)
    assert "[forbidden_explain:" not in h.read_error_log()


# -- make dist ---------------------------------------------------------------

def copy_source(dst):
    """The source files only (what git tracks, or the unpacked tarball's
    files when there is no git): never a build output of the work tree."""
    os.makedirs(dst, exist_ok=True)
    try:
        names = subprocess.run(
            ["git", "-C", SRC, "ls-files", "-co", "--exclude-standard", "-z"],
            check=True, capture_output=True).stdout.split(b"\0")
    except (OSError, subprocess.CalledProcessError):
        names = None
    if not names or names == [b""]:
        shutil.copytree(SRC, dst, dirs_exist_ok=True, symlinks=True)
        return
    for n in filter(None, names):
        rel = n.decode()
        s, d = os.path.join(SRC, rel), os.path.join(dst, rel)
        if not os.path.lexists(s):
            continue            # deleted in the work tree, not yet committed
        os.makedirs(os.path.dirname(d), exist_ok=True)
        shutil.copy2(s, d, follow_symlinks=False)


def run(cmd, cwd, timeout=600, env=None):
    p = subprocess.run(cmd, cwd=cwd, capture_output=True, text=True,
                       timeout=timeout, env=env)
    assert p.returncode == 0, "%s failed (%d):\n%s\n%s" % (
        cmd, p.returncode, p.stdout[-3000:], p.stderr[-3000:])
    return p.stdout


@pytest.fixture(scope="module")
def dist_tarball():
    work = tempfile.mkdtemp(prefix="fx-dist-")
    tree = os.path.join(work, "tree")
    copy_source(tree)
    run(["autoreconf", "-fi"], tree)
    run(["./configure", "-q"], tree)
    run(["make", "-s", "dist"], tree)
    tarballs = glob.glob(os.path.join(tree, "mod_forbidden_explain-*.tar.gz"))
    assert len(tarballs) == 1, tarballs
    yield tarballs[0]
    shutil.rmtree(work, ignore_errors=True)


@needs_package_tests
def test_dist_tarball_builds(dist_tarball):
    v = configure_version()
    assert os.path.basename(dist_tarball) == "mod_forbidden_explain-%s.tar.gz" % v
    with tarfile.open(dist_tarball) as t:
        names = t.getnames()
    top = "mod_forbidden_explain-%s/" % v
    assert all(n == top.rstrip("/") or n.startswith(top) for n in names)
    rel = {n[len(top):] for n in names}
    for want in ("configure", "Makefile.in", "src/fx_version.h.in", "NEWS",
                 "mod_forbidden_explain.c", "tests/harness.py",
                 "conf-examples/debian/forbidden_explain.load"):
        assert want in rel, want
    # no build output and nothing configure writes
    bad = [n for n in rel if re.search(
        r"(\.(o|lo|la|so|pyc)$|__pycache__|^src/fx_version\.h$|^Makefile$|"
        r"^config\.(status|log)$|^tests/unit/test_[a-z_]+$)", n)]
    assert not bad, bad
    work = tempfile.mkdtemp(prefix="fx-distbuild-")
    try:
        with tarfile.open(dist_tarball) as t:
            t.extractall(work)
        tree = os.path.join(work, top)
        run(["./configure", "-q"], tree)
        run(["make", "-s", "mod_forbidden_explain.so"], tree)
        so = os.path.join(tree, "mod_forbidden_explain.so")
        assert os.path.getsize(so) > 10000
        with open(os.path.join(tree, "src", "fx_version.h")) as f:
            assert '"%s"' % v in f.read()
    finally:
        shutil.rmtree(work, ignore_errors=True)
