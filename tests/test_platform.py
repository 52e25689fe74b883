"""test_platform.py — versions and platforms (issue 14):

* configure states the supported httpd range and refuses an older one with
  a clear message (fake apxs scripts reporting 2.4.40, or only headers that
  say 2.4.47), and accepts the real one;
* version-dependent behaviour follows the running httpd
  (fx_httpd_at_least, reported at debug level);
* under mpm-itk (Debian's libapache2-mpm-itk, when installed) the
  filesystem explanation is not computed from the credentials of a child
  that may switch users per request: the entry says so; with a module
  named mod_ruid2.c linked (a stand-in) the walk is refused with a reason;
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


# --------------------------------------------------------------------------
# every request hook observed

HERE = os.path.dirname(os.path.abspath(__file__))
INCLUDE = os.path.join(HERE, "..", "include")


def build_manyhooks(tmp):
    src = os.path.join(tmp, "mod_fx_manyhooks.c")
    shutil.copy(os.path.join(HERE, "mod_fx_manyhooks.c"), src)
    subprocess.run(["apxs", "-c", "mod_fx_manyhooks.c"], cwd=tmp, check=True,
                   capture_output=True)
    return os.path.join(tmp, ".libs", "mod_fx_manyhooks.so")


def test_hooks_beyond_any_fixed_table_are_observed(make_httpd):
    """300 declining hooks per phase in front of the one that answers 403:
    module and phase are still named, nothing is left unobserved, and what
    is not a 403 is served as before (the takeover keeps every hook)."""
    tmp = tempfile.mkdtemp(prefix="fx-manyhooks-")
    try:
        so = build_manyhooks(tmp)
        h = make_httpd(name="plat-many")
        h.conf("LoadModule fx_manyhooks_module %s" % so)
        h.conf("LogLevel warn forbidden_explain:debug")
        h.write("htdocs/manyhooks-handler/x.txt", "x")
        h.write("htdocs/manyhooks-fixups/x.txt", "x")
        h.write("htdocs/ok.txt", "fine")
        h.start()
        for path, phase in (("/manyhooks-handler/x.txt", "handler"),
                            ("/manyhooks-fixups/x.txt", "fixups"),
                            ("/manyhooks-pre/x.txt", "pre_translate_name")):
            assert h.request(path).status == 403
            e = harness.one_entry(h, path)
            assert e["module"] == "mod_fx_manyhooks.c", e
            assert e["phase"] == phase, e
        r = h.request("/ok.txt")
        assert r.status == 200 and r.body == b"fine"
        assert h.request("/nothere").status == 404
        log = h.read_error_log()
        assert "unobserved" not in log
        n = int(re.search(r"observing (\d+) request hooks", log).group(1))
        assert n > 7 * 300, n
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def _module_roots():
    """("/", LIBEXEC) and, from FX_EXTRA_MODULES_ROOT (colon-separated),
    trees of libapache2-mod-* packages extracted with `dpkg-deb -x` (their
    postinst would enable them in the system's configuration):
        cd /tmp && apt-get download libapache2-mod-fcgid ... &&
        for d in *.deb; do dpkg-deb -x $d /tmp/fx-extra; done
        FX_EXTRA_MODULES_ROOT=/tmp/fx-extra"""
    roots = [("/", harness.LIBEXEC)]
    for r in filter(None, os.environ.get("FX_EXTRA_MODULES_ROOT",
                                         "").split(":")):
        roots.append((r, os.path.join(r, "usr/lib/apache2/modules")))
    return roots


def _module_table():
    """Every mod_*.so of every root: short name -> (LoadModule name, path,
    dependencies), names and dependencies from mods-available/*.load."""
    table = {}
    for root, libdir in _module_roots():
        known = {}
        for load in glob.glob(os.path.join(root, "etc/apache2/mods-available/"
                                           "*.load")):
            with open(load) as f:
                text = f.read()
            deps = re.findall(r"^# Depends:\s*(.*)$", text, re.M)
            for name, path in re.findall(r"^\s*LoadModule\s+(\S+)\s+(\S+)",
                                         text, re.M):
                known[os.path.basename(path)] = (
                    name, os.path.basename(load)[:-5],
                    deps[0].split() if deps else [])
        for path in sorted(glob.glob(os.path.join(libdir, "mod_*.so"))):
            base = os.path.basename(path)
            if base.startswith("mod_mpm_"):
                continue
            name, short, deps = known.get(
                base, (base[4:-3] + "_module", base[4:-3], []))
            table.setdefault(short, (name, path, deps))
    return table


def _with_deps(short, table, seen=None):
    """short and what it depends on, dependencies first."""
    seen = set() if seen is None else seen
    out = []
    for d in table.get(short, (None, None, []))[2]:
        if d in table and d not in seen and not d.startswith("mpm_"):
            out += _with_deps(d, table, seen)
    if short not in seen:
        seen.add(short)
        out.append(short)
    return out


def test_every_packaged_module_loaded(make_httpd):
    """Every module in LIBEXEC that loads in a minimal configuration, all
    at once, with this module: a 403 still names module and phase, and no
    hook is left unobserved."""
    table = _module_table()
    base = set(harness.BASE_MODULES)
    probe = make_httpd(name="plat-probe", with_module=False)
    loadable = []
    for short in table:
        if short in base:
            continue
        chain = [m for m in _with_deps(short, table) if m not in base]
        probe.global_conf = "".join("LoadModule %s %s\n" % table[m][:2]
                                    for m in chain)
        rc, _ = probe.configtest()
        if rc == 0:
            for m in chain:
                if m not in loadable:
                    loadable.append(m)
    assert len(loadable) > 60, loadable     # Debian ships ~100
    h = make_httpd(name="plat-all")
    h.global_conf = "".join("LoadModule %s %s\n" % table[m][:2]
                            for m in loadable)
    h.global_conf += "ScriptSock %s/logs/cgid.sock\n" % h.root
    h.conf("LogLevel warn forbidden_explain:debug")
    h.mkdir("htdocs/deny")
    h.conf('<Directory "{docroot}/deny">\n    Require all denied\n'
           '</Directory>\n<Directory "{docroot}/noindex">\n'
           '    Options -Indexes\n</Directory>')
    h.mkdir("htdocs/noindex")
    h.write("htdocs/ok.txt", "fine")
    h.start()
    assert h.request("/ok.txt").status == 200
    assert h.request("/deny/").status == 403
    e = harness.one_entry(h, "/deny/")
    assert (e["module"], e["phase"]) == ("mod_authz_core.c",
                                         "access_checker_ex"), e
    assert h.request("/noindex/").status == 403
    e = harness.one_entry(h, "/noindex/")
    assert e["module"] != "unknown" and e["phase"] == "handler", e
    log = h.read_error_log()
    assert "unobserved" not in log
    n = int(re.search(r"observing (\d+) request hooks", log).group(1))
    print("modules loaded: %d (+%d base), request hooks observed: %d"
          % (len(loadable), len(base), n))


@pytest.mark.skipif(not harness.RUN_AS_ROOT, reason="needs User www-data")
def test_ruid2_refuses_the_permission_walk(make_httpd):
    """With a module named mod_ruid2.c linked (a stand-in: Debian 12 has no
    mod_ruid2 package), the entry does not name a denying component or a
    server user: it says why it cannot tell, still with module and phase."""
    tmp = tempfile.mkdtemp(prefix="fx-ruid2-")
    try:
        shutil.copy(os.path.join(HERE, "mod_fx_fake_ruid2.c"),
                    os.path.join(tmp, "mod_ruid2.c"))
        subprocess.run(["apxs", "-c", "mod_ruid2.c"], cwd=tmp, check=True,
                       capture_output=True)
        h = make_httpd(name="plat-ruid2")
        h.conf("LoadModule ruid2_module %s/.libs/mod_ruid2.so" % tmp)
        h.conf("LogLevel warn forbidden_explain:debug")
        h.mkdir("htdocs/priv")
        h.write("htdocs/priv/x.txt", "x", mode=0o600)
        h.start()
        assert "server credentials read never (mod_ruid2)" in \
            h.read_error_log()
        assert h.request("/priv/x.txt").status == 403
        e = harness.one_entry(h, "/priv/x.txt")
        assert field(e, "credentials").startswith("cannot tell: mod_ruid2"), e
        assert "server_user" not in e and "perm_class" not in e, e
        assert e["module"] == "core.c" and e["phase"] == "handler", e
        assert "mod_ruid2" in field(e, "detail"), e
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
