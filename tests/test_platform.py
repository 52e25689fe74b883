"""test_platform.py — versions and platforms (issue 14):

* configure states the supported httpd range and refuses an older one with
  a clear message (fake apxs scripts reporting 2.4.40, or only headers that
  say 2.4.47), and accepts the real one;
* version-dependent behaviour follows the running httpd
  (fx_httpd_at_least, reported at debug level);
* under mpm-itk (Debian's libapache2-mpm-itk, when installed) the
  filesystem explanation is not computed from the credentials of a child
  that may switch users per request: the entry says so;
* every request hook is observed, whatever the number of modules: every
  mod_*.so that loads in a minimal configuration, all at once.
"""
import glob
import os
import re
import shutil
import subprocess
import tempfile

import pytest

import harness
from harness import field

SRC = os.path.abspath(os.path.join(os.path.dirname(__file__), ".."))


def _configure_copy():
    """A copy of the configured source tree (configure, Makefile.in and
    build-aux as scripts/build.sh left them) to run configure in."""
    if not os.path.exists(os.path.join(SRC, "configure")):
        pytest.skip("configure not generated (run scripts/build.sh)")
    d = tempfile.mkdtemp(prefix="fx-configure-")
    dst = os.path.join(d, "src")
    shutil.copytree(SRC, dst, symlinks=True, ignore=shutil.ignore_patterns(
        ".git", ".libs", "*.o", "*.lo", "*.slo", "*.so", "*.la", "tests",
        "bench", "autom4te.cache", "config.status", "config.log"))
    return d, dst


def _fake_apxs(d, version, includedir=None):
    path = os.path.join(d, "apxs-fake")
    real_inc = subprocess.check_output(["apxs", "-q", "INCLUDEDIR"],
                                       text=True).strip()
    with open(path, "w") as f:
        f.write("#!/bin/sh\n"
                "# answers -q like apxs, for an httpd of another version\n"
                'case "$2" in\n'
                "  HTTPD_VERSION) echo '%s' ;;\n"
                "  INCLUDEDIR) echo '%s' ;;\n"
                "  LIBEXECDIR) echo '%s' ;;\n"
                "  *) exec apxs \"$@\" ;;\n"
                "esac\n" % (version, includedir or real_inc, harness.LIBEXEC))
    os.chmod(path, 0o755)
    return path


def _configure(dst, apxs):
    p = subprocess.run(["./configure", "-q", "--with-apxs=" + apxs], cwd=dst,
                       capture_output=True, text=True, timeout=300)
    return p.returncode, p.stdout + p.stderr


def test_configure_refuses_httpd_older_than_2_4_48():
    d, dst = _configure_copy()
    try:
        rc, out = _configure(dst, _fake_apxs(d, "2.4.40"))
        assert rc != 0, out
        assert "httpd 2.4.40 is too old" in out, out
        assert "2.4.48" in out and "http_ssl.h" in out, out
        # no apxs version, only headers that say 2.4.47
        inc = os.path.join(d, "include")
        os.makedirs(inc)
        with open(os.path.join(inc, "ap_release.h"), "w") as f:
            f.write("#define AP_SERVER_MAJORVERSION_NUMBER 2\n"
                    "#define AP_SERVER_MINORVERSION_NUMBER 4\n"
                    "#define AP_SERVER_PATCHLEVEL_NUMBER   47\n")
        rc, out = _configure(dst, _fake_apxs(d, "", includedir=inc))
        assert rc != 0 and "httpd 2.4.47 is too old" in out, out
        # nothing to tell the version by
        rc, out = _configure(dst, _fake_apxs(d, "", includedir=d))
        assert rc != 0 and "cannot tell which httpd version" in out, out
    finally:
        shutil.rmtree(d, ignore_errors=True)


def test_configure_accepts_supported_httpd():
    d, dst = _configure_copy()
    try:
        rc, out = _configure(dst, _fake_apxs(d, "2.4.48"))
        assert rc == 0, out
        rc, out = _configure(dst, shutil.which("apxs"))
        assert rc == 0, out
        with open(os.path.join(dst, "config.log")) as f:
            log = f.read()
        real = subprocess.check_output(["apxs", "-q", "HTTPD_VERSION"],
                                       text=True).strip()
        assert "FX_HTTPD_VERSION='%s'" % real in log
        rc, out = _configure(dst, _fake_apxs(d, "2.5.1"))
        assert rc == 0 and "newer than the supported 2.4.x" in out, out
    finally:
        shutil.rmtree(d, ignore_errors=True)


# --------------------------------------------------------------------------
# the running httpd, and credentials under mpm-itk

def test_startup_names_the_running_httpd(make_httpd):
    h = make_httpd(name="plat-ver")
    h.conf("LogLevel warn forbidden_explain:debug")
    h.start()
    v = subprocess.check_output([harness.APACHE, "-v"], text=True)
    running = re.search(r"Apache/(\d+\.\d+\.\d+)", v).group(1)
    m = re.search(r"forbidden_explain: running httpd (\S+), built against "
                  r"(\S+); .*UnsafeAllow3F: (yes|no)\); server credentials "
                  r"read once per child", h.read_error_log())
    assert m, h.read_error_log()[-2000:]
    assert m.group(1) == running
    major, minor, patch = (int(x) for x in running.split("."))
    assert m.group(3) == ("yes" if (major, minor, patch) >= (2, 4, 60)
                          else "no")


def _itk_module():
    """Debian's libapache2-mpm-itk, installed, or its mpm_itk.so extracted
    somewhere (FX_ITK_MODULE=/path/mpm_itk.so: `apt-get download
    libapache2-mpm-itk && dpkg-deb -x ...` avoids the package's postinst,
    which switches the system's MPM)."""
    for p in (os.environ.get("FX_ITK_MODULE"),
              os.path.join(harness.LIBEXEC, "mpm_itk.so")):
        if p and os.path.exists(p):
            return p
    return None


@pytest.mark.skipif(not harness.RUN_AS_ROOT, reason="mpm-itk needs root")
@pytest.mark.skipif(_itk_module() is None,
                    reason="mpm-itk not installed (libapache2-mpm-itk) and "
                           "FX_ITK_MODULE not set")
def test_itk_credentials_are_read_per_request(make_httpd):
    """Under mpm-itk the child starts as root and switches to the
    AssignUserID user during the request: the entry names that user, not
    root (what a per-child read gives) nor the User directive's."""
    import pwd
    nobody = pwd.getpwnam("nobody")
    h = make_httpd(name="plat-itk", mpm="prefork")
    h.global_conf = "LoadModule mpm_itk_module %s\n" % _itk_module()
    h.mkdir("htdocs/priv")
    h.write("htdocs/priv/x.txt", "x", mode=0o600)
    h.conf("AssignUserID nobody %s\nLogLevel warn forbidden_explain:debug"
           % __import__("grp").getgrgid(nobody.pw_gid).gr_name)
    h.start()
    assert "server credentials read per request (mpm-itk)" in \
        h.read_error_log()
    r = h.request("/priv/x.txt")
    assert r.status == 403
    e = harness.one_entry(h, "/priv/x.txt")
    assert field(e, "server_user").startswith(
        "uid=%d(nobody)" % nobody.pw_uid), e
    assert "mpm-itk" in field(e, "credentials")
    assert e["reason"].startswith("fs"), e
    assert field(e, "perm_class") == "other", e
