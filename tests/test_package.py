"""test_package.py — the module ships like a distribution module (issue 18).

Always (cheap, nothing on the machine changes):
  * one version: AC_INIT in configure.ac is the source; NEWS, the Debian
    changelog and the RPM spec say the same; the running module logs it.

Only with FX_PACKAGE_TEST=1 or CI=true (they take a minute or two, and the
last one installs and purges a package on this machine):
  * `make dist` produces a tarball that configures and builds elsewhere;
  * scripts/build-deb.sh builds the .deb (lintian: no error or warning),
    whose files are where Debian's apache2 expects them;
  * the .deb installs with apt-get, `a2enmod forbidden_explain` enables it
    in a copy of /etc/apache2 (APACHE_CONFDIR), the system's apache2 serves
    that copy on a free 127.0.0.1 port and explains a real 403 in its error
    log, and after a2dismod and `apt-get purge` /etc/apache2, /var/lib/apache2
    and the module directory are exactly as before.  FX_DEB=/path/x.deb uses
    a package already built instead of building one.
The system apache2 service is never started or stopped, port 80 never used.
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


def debian_version():
    """(upstream, full) of debian/changelog's newest entry."""
    first = _read("debian/changelog").splitlines()[0]
    m = re.match(r"^libapache2-mod-forbidden-explain \(((?:\d+:)?([^-)]+)-[^)]+)\) ", first)
    assert m, first
    return m.group(2), m.group(1)


def test_version_single_source_and_news():
    v = configure_version()
    assert re.fullmatch(r"\d+\.\d+\.\d+", v), v
    assert news_version() == v, "NEWS' newest entry is not configure.ac's version"


def test_debian_changelog_has_the_version():
    assert debian_version()[0] == configure_version()


SPEC = "rpm/mod_forbidden_explain.spec"


def test_rpm_spec_has_the_version():
    spec = _read(SPEC)
    m = re.search(r"^Version:\s*(\S+)\s*$", spec, re.M)
    assert m and m.group(1) == configure_version(), m
    # the newest %changelog entry names the same version
    m = re.search(r"^%changelog\n\* .* - (\S+)-\d+\s*$", spec, re.M)
    assert m and m.group(1) == configure_version(), m


def test_running_module_logs_its_version(make_httpd):
    """The version compiled in (configure's fx_release.h) is the one in
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
    log = h.read_error_log()
    assert "resuming normal operations" in log
    assert "mod_forbidden_explain/" not in log


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
    try:
        tree = os.path.join(work, "tree")
        copy_source(tree)
        run(["autoreconf", "-fi"], tree)
        run(["./configure", "-q"], tree)
        run(["make", "-s", "dist"], tree)
        tarballs = glob.glob(os.path.join(tree, "mod_forbidden_explain-*.tar.gz"))
        assert len(tarballs) == 1, tarballs
        yield tarballs[0]
    finally:
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
    for want in ("configure", "Makefile.in", "src/fx_release.h.in", "NEWS",
                 "mod_forbidden_explain.c", "tests/harness.py",
                 "conf-examples/debian/forbidden_explain.load"):
        assert want in rel, want
    # no build output and nothing configure writes
    bad = [n for n in rel if re.search(
        r"(\.(o|lo|la|so|pyc)$|__pycache__|^src/fx_release\.h$|^Makefile$|"
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
        with open(os.path.join(tree, "src", "fx_release.h")) as f:
            assert '"%s"' % v in f.read()
    finally:
        shutil.rmtree(work, ignore_errors=True)


# -- the Debian package ------------------------------------------------------

PKG = "libapache2-mod-forbidden-explain"
APT = ["apt-get", "-y", "-q", "-o", "DPkg::Lock::Timeout=300"]


def apt_env():
    env = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
    return env


def installed(pkg=PKG):
    p = subprocess.run(["dpkg-query", "-W", "-f=${Status}", pkg],
                       capture_output=True, text=True)
    return p.returncode == 0 and "installed" in p.stdout.split()


@pytest.fixture(scope="module")
def deb():
    given = os.environ.get("FX_DEB")
    if given:
        yield os.path.abspath(given)
        return
    out = tempfile.mkdtemp(prefix="fx-deb-")
    try:
        log = run(["sh", os.path.join(SRC, "scripts", "build-deb.sh"), out], SRC,
                  timeout=900)
        m = re.search(r"^built: (\S+\.deb)$", log, re.M)
        assert m, log
        if shutil.which("lintian"):
            assert "lintian: no error or warning" in log, log
        yield m.group(1)
    finally:
        shutil.rmtree(out, ignore_errors=True)


def deb_files(path):
    out = run(["dpkg-deb", "-c", path], SRC)
    names = set()
    for line in out.splitlines():
        name = line.split()[5]
        names.add(name[1:] if name.startswith("./") else name)
    return names


@needs_package_tests
def test_deb_contents(deb):
    v = debian_version()[1]
    assert os.path.basename(deb) == "%s_%s_%s.deb" % (
        PKG, v, run(["dpkg", "--print-architecture"], SRC).strip())
    files = deb_files(deb)
    for want in ("/usr/lib/apache2/modules/mod_forbidden_explain.so",
                 "/etc/apache2/mods-available/forbidden_explain.load",
                 "/etc/apache2/mods-available/forbidden_explain.conf",
                 "/usr/share/doc/%s/README.gz" % PKG,
                 "/usr/share/doc/%s/NEWS.gz" % PKG,
                 "/usr/share/doc/%s/README.Debian" % PKG,
                 "/usr/share/doc/%s/copyright" % PKG,
                 "/usr/share/doc/%s/examples/demo/demo-site.conf" % PKG,
                 "/usr/share/doc/%s/examples/pipelines/rsyslog-forbidden-explain.conf" % PKG,
                 "/usr/share/doc/%s/pipelines.md.gz" % PKG,
                 "/usr/bin/fx-audit", "/usr/bin/fx-can-i", "/usr/bin/fx-log",
                 "/usr/share/man/man1/fx-log.1.gz"):
        assert want in files, (want, sorted(files))
    info = run(["dpkg-deb", "-f", deb, "Depends", "Conffiles"], SRC)
    # dh_apache2 ties the module to the httpd ABI it was built against
    assert "apache2-api-20120211" in info, info
    work = tempfile.mkdtemp(prefix="fx-debctl-")
    try:
        run(["dpkg-deb", "-e", deb, work], SRC)
        ctl = os.listdir(work)
        with open(os.path.join(work, "conffiles")) as f:
            conffiles = f.read().split()
        assert sorted(conffiles) == [
            "/etc/apache2/mods-available/forbidden_explain.conf",
            "/etc/apache2/mods-available/forbidden_explain.load"]
        # --noenable: installing enables nothing; removal still disables
        assert "postinst" not in ctl, ctl
        with open(os.path.join(work, "postrm")) as f:
            assert "apache2_invoke dismod" in f.read()
    finally:
        shutil.rmtree(work, ignore_errors=True)


def snapshot(*roots):
    """Every path under roots: type, mode, owner, and content hash or link
    target, so that anything added, removed or changed shows."""
    import hashlib
    state = {}
    for root in roots:
        if not os.path.lexists(root):
            state[root] = "absent"
            continue
        for d, dirs, files in os.walk(root):
            for n in dirs + files + ([] if d != root else [""]):
                p = os.path.join(d, n) if n else d
                st = os.lstat(p)
                if os.path.islink(p):
                    what = "link " + os.readlink(p)
                elif os.path.isdir(p):
                    what = "dir"
                else:
                    with open(p, "rb") as f:
                        what = "file " + hashlib.sha256(f.read()).hexdigest()
                state[p] = "%o %d:%d %s" % (st.st_mode, st.st_uid, st.st_gid, what)
    return state


def sh(cmd, env=None, check=True, timeout=120):
    p = subprocess.run(cmd, capture_output=True, text=True, env=env,
                       timeout=timeout)
    if check:
        assert p.returncode == 0, "%s failed (%d):\n%s\n%s" % (
            cmd, p.returncode, p.stdout[-3000:], p.stderr[-3000:])
    return p


def site_copy(work, port):
    """A copy of /etc/apache2 whose envvars put every run, lock and log
    file under work, listening on 127.0.0.1:port only, with one site of
    our own instead of the enabled ones."""
    conf = os.path.join(work, "apache2")
    shutil.copytree("/etc/apache2", conf, symlinks=True)
    for d in ("run", "lock", "log", "state", "htdocs/deny"):
        os.makedirs(os.path.join(work, d), exist_ok=True)
    for d in (work, os.path.join(work, "htdocs"), os.path.join(work, "htdocs/deny")):
        os.chmod(d, 0o755)
    for rel, text in (("htdocs/deny/x.txt", "secret\n"), ("htdocs/index.html", "ok\n")):
        with open(os.path.join(work, rel), "w") as f:
            f.write(text)
        os.chmod(os.path.join(work, rel), 0o644)
    with open(os.path.join(conf, "envvars"), "a") as f:
        f.write("\n# tests/test_package.py: everything under %s\n" % work
                + "export APACHE_PID_FILE=%s/run/apache2.pid\n" % work
                + "export APACHE_RUN_DIR=%s/run\n" % work
                + "export APACHE_LOCK_DIR=%s/lock\n" % work
                + "export APACHE_LOG_DIR=%s/log\n" % work)
    with open(os.path.join(conf, "ports.conf"), "w") as f:
        f.write("Listen 127.0.0.1:%d\n" % port)
    for n in os.listdir(os.path.join(conf, "sites-enabled")):
        os.unlink(os.path.join(conf, "sites-enabled", n))
    with open(os.path.join(conf, "sites-available", "fx-package-test.conf"), "w") as f:
        f.write("""<VirtualHost 127.0.0.1:{port}>
    ServerName 127.0.0.1
    DocumentRoot {work}/htdocs
    <Directory {work}/htdocs>
        Require all granted
    </Directory>
    <Directory {work}/htdocs/deny>
        Require all denied
    </Directory>
</VirtualHost>
""".format(port=port, work=work))
    return conf


@needs_package_tests
@pytest.mark.skipif(not harness.RUN_AS_ROOT, reason="installs a package: needs root")
@pytest.mark.skipif(not (shutil.which("a2enmod") and shutil.which("apache2ctl")),
                    reason="Debian's apache2 (a2enmod, apache2ctl) not installed")
def test_deb_installs_enables_explains_and_purges(deb):
    so = "/usr/lib/apache2/modules/mod_forbidden_explain.so"
    ours = ["/etc/apache2/mods-available/forbidden_explain.load",
            "/etc/apache2/mods-available/forbidden_explain.conf", so]
    if installed() or any(os.path.lexists(p) for p in ours):
        pytest.skip("%s or its files are already on this machine: "
                    "the test would remove them" % PKG)
    watched = ("/etc/apache2", "/var/lib/apache2", "/usr/lib/apache2/modules",
               "/var/log/apache2", "/usr/share/doc/" + PKG)
    before = snapshot(*watched)
    work = tempfile.mkdtemp(prefix="fx-pkgsite-")
    port = harness.free_port()
    env = dict(os.environ, APACHE_CONFDIR=os.path.join(work, "apache2"),
               APACHE_STATE_DIRECTORY=os.path.join(work, "state"), LANG="C")
    started = False
    try:
        sh(APT + ["install", "--no-install-recommends", deb], env=apt_env(),
           timeout=600)
        assert installed()
        assert all(os.path.exists(p) for p in ours)
        # --noenable: the package enabled nothing in the real configuration
        assert not os.path.lexists("/etc/apache2/mods-enabled/forbidden_explain.load")

        conf = site_copy(work, port)
        sh(["a2enmod", "-q", "forbidden_explain"], env=env)
        sh(["a2ensite", "-q", "fx-package-test"], env=env)
        for ext in ("load", "conf"):
            link = os.path.join(conf, "mods-enabled", "forbidden_explain." + ext)
            assert os.readlink(link) == "../mods-available/forbidden_explain." + ext
        mods = sh(["apache2ctl", "-M"], env=env).stdout
        assert "forbidden_explain_module (shared)" in mods, mods

        sh(["apache2ctl", "-k", "start"], env=env)
        started = True
        deadline = time.time() + 20
        while True:
            try:
                harness.socket.create_connection(("127.0.0.1", port), 0.5).close()
                break
            except OSError:
                assert time.time() < deadline, "apache2 did not listen"
                time.sleep(0.1)
        h = harness.Httpd.__new__(harness.Httpd)   # only for request()
        h.port = port
        assert h.get("/deny/x.txt").status == 403
        assert h.get("/").status == 200         # allowed: no entry
        time.sleep(0.3)
        with open(os.path.join(work, "log", "error.log"), errors="replace") as f:
            log = f.read()
        lines = [l for l in log.splitlines() if "[forbidden_explain:warn]" in l]
        assert len(lines) == 1, log[-3000:]
        e, _ = harness.strict_json(lines[0][lines[0].index("{"):])
        assert (e["status"], e["reason"], e["module"]) == (403, "authz", "mod_authz_core.c")
        assert e["uri"] == "/deny/x.txt" and e["path"] == work + "/htdocs/deny/x.txt"
        site = os.path.join(conf, "sites-enabled", "fx-package-test.conf")
        with open(site) as f:
            want = [i for i, l in enumerate(f, 1) if "Require all denied" in l]
        assert (e["file"], e["line"], e["directive"]) == (site, want[0], "Require all denied"), e
        assert "[authz_core:error]" in log       # httpd's own line is still there

        sh(["apache2ctl", "-k", "stop"], env=env)
        started = False
        sh(["a2dismod", "-q", "forbidden_explain"], env=env)
        assert not os.path.lexists(os.path.join(conf, "mods-enabled", "forbidden_explain.load"))
    finally:
        if started:
            sh(["apache2ctl", "-k", "stop"], env=env, check=False)
            pid_file = os.path.join(work, "run", "apache2.pid")
            deadline = time.time() + 10
            while os.path.exists(pid_file) and time.time() < deadline:
                time.sleep(0.1)
        if installed():
            sh(APT + ["purge", PKG], env=apt_env(), timeout=600, check=False)
        shutil.rmtree(work, ignore_errors=True)
    assert not installed()
    after = snapshot(*watched)
    changed = sorted(set(before.items()) ^ set(after.items()))
    assert not changed, changed


# -- the RPM spec (checked on Debian: rpmspec, rpmbuild --nodeps) ------------

RPM_DEBIAN_PATHS = [  # what httpd-devel's macros.httpd would define
    "--define", "_httpd_apxs /usr/bin/apxs",
    "--define", "_httpd_moddir /usr/lib/apache2/modules",
    "--define", "_httpd_modconfdir /etc/httpd/conf.modules.d",
    "--define", "_httpd_mmn 20120211x8664",
]


@pytest.mark.skipif(not shutil.which("rpmspec"), reason="rpmspec not installed (Debian package rpm)")
def test_rpm_spec_parses():
    out = run(["rpmspec", "-P", SPEC] + RPM_DEBIAN_PATHS, SRC)
    assert re.search(r"^Version:\s*%s$" % re.escape(configure_version()), out, re.M)
    assert "Requires:       httpd-mmn = 20120211x8664" in out
    assert "/etc/httpd/conf.modules.d/10-forbidden_explain.conf" in out
    q = run(["rpmspec", "-q", "--qf", "%{name} %{version}\n", SPEC], SRC)
    assert q.split() == ["mod_forbidden_explain", configure_version()], q


@needs_package_tests
@pytest.mark.skipif(not shutil.which("rpmbuild"), reason="rpmbuild not installed (Debian package rpm)")
def test_rpm_builds_from_the_dist_tarball(dist_tarball):
    """rpmbuild -tb on the tarball (the spec inside it), with Debian's
    httpd paths and without BuildRequires (Debian has no httpd-devel):
    %prep, %build, %install, %check (unit tests) and %files all run."""
    top = tempfile.mkdtemp(prefix="fx-rpmbuild-")
    try:
        run(["rpmbuild", "-tb", "--nodeps", "--define", "_topdir " + top]
            + RPM_DEBIAN_PATHS + [dist_tarball], SRC, timeout=900)
        rpms = glob.glob(os.path.join(top, "RPMS", "*", "mod_forbidden_explain-%s-*.rpm"
                                      % configure_version()))
        assert len(rpms) == 1, rpms
        files = run(["rpm", "-qlp", rpms[0]], SRC).split()
        assert "/usr/lib/apache2/modules/mod_forbidden_explain.so" in files
        assert "/etc/httpd/conf.modules.d/10-forbidden_explain.conf" in files
        assert any(f.endswith("/LICENSE") for f in files)
        assert any(f.endswith("/pipelines/rsyslog-forbidden-explain.conf") for f in files)
        conf = run(["rpm", "-qcp", rpms[0]], SRC).split()
        assert conf == ["/etc/httpd/conf.modules.d/10-forbidden_explain.conf"], conf
        req = run(["rpm", "-qRp", rpms[0]], SRC)
        assert "httpd-mmn = 20120211x8664" in req, req
    finally:
        shutil.rmtree(top, ignore_errors=True)
