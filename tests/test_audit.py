"""test_audit.py — the audit (issue 15): predicted 403s from the running
configuration (src/fx_audit.c: the forbidden-explain-audit handler and
ForbiddenExplainAudit at startup) and exposures found through the what-if
simulator by tools/fx-audit.

Real httpd on a site seeded with each predicted 403 and each exposure; a
clean site must give no finding.  Every prediction is also checked against
what a real request gets, so the audit cannot agree with itself only.
The exposure tests need the simulator (SetHandler forbidden-explain-whatif,
branch h-whatif): they are skipped, saying so, when the module lacks it."""
import json
import os
import shutil
import subprocess

import pytest

from harness import Httpd, MODULE, RUN_AS_ROOT, free_port, strict_json, ENTRY_RE

TOOL = os.path.join(os.path.dirname(__file__), "..", "tools", "fx-audit")
UNTRUSTED = "203.0.113.7"

pytestmark = pytest.mark.skipif(not RUN_AS_ROOT,
                                reason="the seeds need root-owned 0700 directories")


def has_whatif():
    with open(MODULE, "rb") as f:
        return b"forbidden-explain-whatif" in f.read()


needs_whatif = pytest.mark.skipif(
    not has_whatif(),
    reason="the what-if simulator (SetHandler forbidden-explain-whatif, branch "
           "h-whatif) is not in this module: exposures cannot be probed")

ENDPOINTS = """
<Location /.fx-audit>
    SetHandler forbidden-explain-audit
</Location>
<Location /.fx-whatif>
    SetHandler forbidden-explain-whatif
</Location>
"""


def line_after(h, opener, needle):
    """Line of the first `needle` after the line holding `opener`."""
    with open(h.conf_file) as f:
        lines = f.read().splitlines()
    start = next(i for i, l in enumerate(lines) if opener in l)
    for i in range(start, len(lines)):
        if needle in lines[i]:
            return i + 1
    raise AssertionError((opener, needle))


def run_tool(h, *args, whatif=False):
    cmd = ["/usr/bin/python3", TOOL, "--audit-url",
           "http://127.0.0.1:%d/.fx-audit" % h.port]
    if whatif:
        cmd += ["--whatif-url", "http://127.0.0.1:%d/.fx-whatif" % h.port]
    p = subprocess.run(cmd + list(args), capture_output=True, text=True, timeout=60)
    return p.returncode, p.stdout, p.stderr


def audit_doc(h, **kw):
    r = h.get("/.fx-audit", **kw)
    assert r.status == 200, (r.status, r.body[:500])
    return json.loads(r.body)


def findings_of(doc):
    return [f for sv in doc["servers"] for f in sv["findings"]]


@pytest.fixture(scope="module")
def seeded():
    h = Httpd("audit", extra_modules=["status"])
    root = h.root
    port2 = free_port()
    # an untraversable DocumentRoot parent (a second host, own port)
    h.mkdir("private", 0o700, owner=("root", "root"))
    h.write("private/site/index.html", "p")
    # an Alias target 0700 owned by root
    h.mkdir("locked", 0o700, owner=("root", "root"))
    h.write("locked/index.html", "x")
    h.write("htdocs/index.html", "home")
    # Indexes off and no index file
    h.write("htdocs/noidx/page.html", "n")
    # an ignored .htaccess (AllowOverride None) and a forbidden directive
    h.write("htdocs/ign/.htaccess", "Require all denied\n")
    h.write("htdocs/ign/x.html", "i")
    h.write("htdocs/bad/.htaccess", "RewriteEngine On\nRequire all denied\n")
    h.write("htdocs/bad/x.html", "b")
    # an Options word outside AllowOverride Options=...
    h.write("htdocs/optlist/.htaccess", "Options -Indexes +ExecCGI\n")
    h.write("htdocs/optlist/x.html", "o")
    # AllowOverride Nonfatal=Override: the forbidden line is skipped
    h.write("htdocs/nonfatal/.htaccess", "Require all denied\n")
    h.write("htdocs/nonfatal/x.html", "f")
    # a symlink Options refuses
    h.write("htdocs/nosym/target.html", "t")
    os.symlink(os.path.join(h.docroot, "nosym/target.html"),
               os.path.join(h.docroot, "nosym/link.html"))
    # SymLinksIfOwnerMatch: a root-owned link to www-data's file
    h.write("htdocs/owner/target.html", "o", owner=("www-data", "www-data"))
    os.symlink(os.path.join(h.docroot, "owner/target.html"),
               os.path.join(h.docroot, "owner/link.html"))
    # exposures
    h.write("htdocs/.git/config", "[core]\n")
    h.write("htdocs/.git/HEAD", "ref: refs/heads/main\n")
    h.write("htdocs/.env", "DB_PASSWORD=x\n")
    h.write("htdocs/.htpasswd", "bob:$apr1$x$y\n")
    h.write("htdocs/index.php", "<?php ?>")
    h.write("htdocs/index.php.bak", "<?php $pw='x'; ?>")
    h.write("htdocs/dump.sql", "INSERT INTO users VALUES (1);\n")
    h.write("htdocs/pub/a.txt", "a")        # a listing (Indexes on)
    h.conf("""
ForbiddenExplainAudit On
Alias /locked {root}/locked
<Directory {root}/locked>
    Require all granted
</Directory>
<Directory {docroot}/noidx>
    Options -Indexes
</Directory>
<Directory {docroot}/bad>
    AllowOverride FileInfo
</Directory>
<Directory {docroot}/nosym>
    Options -FollowSymLinks
</Directory>
<Directory {docroot}/nonfatal>
    AllowOverride FileInfo Nonfatal=Override
</Directory>
<Directory {docroot}/optlist>
    AllowOverride Options=Indexes
</Directory>
<Directory {docroot}/owner>
    Options -FollowSymLinks +SymLinksIfOwnerMatch
</Directory>
<Location /server-status>
    SetHandler server-status
</Location>
""" + ENDPOINTS + """
Listen 127.0.0.1:%d
<VirtualHost 127.0.0.1:%d>
    ServerName private.example
    DocumentRoot {root}/private/site
</VirtualHost>
""" % (port2, port2))
    h.port2 = port2
    h.start()
    yield h
    h.stop()
    h.cleanup()


@pytest.fixture(scope="module")
def clean():
    h = Httpd("audit-clean")
    h.write("htdocs/index.html", "home")
    h.write("htdocs/about/index.html", "about")
    h.conf("ForbiddenExplainAudit On\n"
           "<Directory {docroot}/later>\n    Options -Indexes\n</Directory>\n"
           + ENDPOINTS)
    h.start()
    yield h
    h.stop()
    h.cleanup()


def expected_predictions(h):
    conf = h.conf_file
    d = h.docroot
    return {
        ("untraversable", h.root + "/private/site", conf,
         line_after(h, "<VirtualHost", "DocumentRoot")),
        ("untraversable", h.root + "/locked", conf,
         h.conf_line_of("Alias /locked")),
        ("no-index", d + "/noidx/", conf,
         line_after(h, "<Directory %s/noidx>" % d, "Options -Indexes")),
        ("htaccess-ignored", d + "/ign/.htaccess", conf,
         line_after(h, '<Directory "%s">' % d, "AllowOverride None")),
        ("htaccess-forbidden-directive", d + "/bad/.htaccess", conf,
         line_after(h, "<Directory %s/bad>" % d, "AllowOverride FileInfo")),
        ("htaccess-forbidden-directive", d + "/optlist/.htaccess", conf,
         line_after(h, "<Directory %s/optlist>" % d, "AllowOverride Options=Indexes")),
        ("htaccess-ignored-directive", d + "/nonfatal/.htaccess", conf,
         line_after(h, "<Directory %s/nonfatal>" % d, "Nonfatal=Override")),
        ("symlink-refused", d + "/nosym/link.html", conf,
         line_after(h, "<Directory %s/nosym>" % d, "Options -FollowSymLinks")),
        ("symlink-refused", d + "/owner/link.html", conf,
         line_after(h, "<Directory %s/owner>" % d, "SymLinksIfOwnerMatch")),
    }


def test_audit_predicts_every_seeded_403(seeded):
    doc = audit_doc(seeded)
    got = {(f["kind"], f["path"], f.get("file"), f.get("line"))
           for f in findings_of(doc)}
    want = expected_predictions(seeded)
    assert want <= got, (want - got, json.dumps(doc, indent=1)[:4000])
    # nothing else is predicted: the exposures are not 403s
    assert got == want, got - want
    # each host with the name and port a probe for it needs
    main = doc["servers"][0]
    assert main["is_main"] and main["port"] == seeded.port
    assert main["vhost"] == "127.0.0.1:%d" % seeded.port
    assert doc["servers"][1]["port"] == seeded.port2
    assert doc["servers"][1]["names"] == ["private.example"]
    by_kind = {f["kind"]: f for f in findings_of(doc)
               if "/optlist/" not in f["path"]}
    opt = [f for f in findings_of(doc) if "/optlist/" in f["path"]][0]
    assert "Option +ExecCGI is not in the AllowOverride Options= list" in opt["detail"]
    assert "fix" not in opt
    # the component that denies, with its mode and owner, and the fix
    priv = [f for f in findings_of(doc) if f["path"].endswith("/private/site")][0]
    assert priv["vhost"] == "private.example:%d" % seeded.port2
    assert seeded.root + "/private " in priv["detail"] and "0700" in priv["detail"]
    assert "root:root" in priv["detail"]
    argvs = [s["argv"] for s in priv["fix"] if s["op"] == "run"]
    assert argvs and argvs[-1][0] == "chmod" and argvs[-1][-1] == seeded.root + "/private"
    owner = [f for f in findings_of(doc) if f["path"].endswith("/owner/link.html")][0]
    assert "owned by root, its target by www-data" in owner["detail"]
    assert owner["fix"] == [{"op": "run", "argv": ["chown", "-h", "www-data",
                                                   seeded.docroot + "/owner/link.html"]}]
    assert by_kind["htaccess-forbidden-directive"]["path_line"] == 2
    assert "Require needs AllowOverride AuthConfig" in \
        by_kind["htaccess-forbidden-directive"]["detail"]
    fix = by_kind["htaccess-forbidden-directive"]["fix"][0]
    assert fix["op"] == "replace" and fix["new"] == "AllowOverride FileInfo AuthConfig"
    # sorted by severity within each host
    for sv in doc["servers"]:
        ranks = [["high", "medium", "low", "info"].index(f["severity"])
                 for f in sv["findings"]]
        assert ranks == sorted(ranks)


def test_predictions_are_what_requests_get(seeded):
    """Each prediction is httpd's own answer to a real request."""
    assert seeded.get("/locked/index.html").status == 403
    assert seeded.get("/noidx/").status == 403
    assert seeded.get("/bad/x.html").status == 500
    assert seeded.get("/optlist/x.html").status == 500
    assert seeded.get("/nonfatal/x.html").status == 200      # skipped, not 500
    assert seeded.get("/nosym/link.html").status == 403
    assert seeded.get("/owner/link.html").status == 403
    assert seeded.get("/owner/target.html").status == 200
    # the ignored .htaccess denies nothing: the rule is not active
    assert seeded.get("/ign/x.html").status == 200
    r = seeded.request("/index.html", headers={"Host": "private.example"})
    s2 = Httpd.__new__(Httpd)
    s2.port = seeded.port2
    assert Httpd.request(s2, "/index.html",
                         headers={"Host": "private.example:%d" % seeded.port2}
                         ).status == 403
    assert r.status == 200          # the main host is unaffected


def test_applying_the_fix_removes_the_finding(seeded):
    doc = audit_doc(seeded)
    f = [f for f in findings_of(doc) if f["path"] == seeded.root + "/locked"][0]
    try:
        for step in f["fix"]:
            subprocess.run(step["argv"], check=True)
        assert seeded.get("/locked/index.html").status == 200
        paths = {g["path"] for g in findings_of(audit_doc(seeded))}
        assert seeded.root + "/locked" not in paths
    finally:
        shutil.chown(seeded.root + "/locked", "root", "root")
        os.chmod(seeded.root + "/locked", 0o700)


def test_clean_site_has_no_findings(clean):
    doc = audit_doc(clean)
    assert findings_of(doc) == [], findings_of(doc)
    rc, out, err = run_tool(clean, "--no-exposures")
    assert rc == 0, (out, err)
    assert "no findings" in out


def test_fail_on_exit_codes(seeded, clean):
    rc, out, err = run_tool(seeded, "--no-exposures", "--fail-on", "high")
    assert rc == 1, (out, err)
    assert "HIGH" in out and "untraversable" in out
    rc, out, _ = run_tool(clean, "--no-exposures", "--fail-on", "high")
    assert rc == 0
    # one low finding: a directory that appears with Indexes off, no index
    later = os.path.join(clean.docroot, "later")
    os.mkdir(later)
    os.chmod(later, 0o755)
    try:
        rc, out, _ = run_tool(clean, "--no-exposures", "--fail-on", "medium")
        assert rc == 0, out
        rc, out, _ = run_tool(clean, "--no-exposures", "--fail-on", "low")
        assert rc == 1 and "no-index" in out, out
        rc, out, _ = run_tool(clean, "--no-exposures", "--json")
        rep = json.loads(out)
        assert [f["kind"] for sv in rep["servers"] for f in sv["findings"]] == ["no-index"]
    finally:
        os.rmdir(later)
    # an audit endpoint that is not there is an error, not "clean"
    p = subprocess.run(["/usr/bin/python3", TOOL, "--no-exposures", "--audit-url",
                        "http://127.0.0.1:%d/nothing-here" % clean.port],
                       capture_output=True, text=True, timeout=30)
    assert p.returncode == 2 and "404" in p.stderr
    p = subprocess.run(["/usr/bin/python3", TOOL, "--audit-url",
                        "http://127.0.0.1:%d/.fx-audit" % free_port()],
                       capture_output=True, text=True, timeout=30)
    assert p.returncode == 2


def test_handler_refuses_untrusted_clients_and_other_methods(seeded):
    # loopback by default, but not through a proxy
    assert seeded.get("/.fx-audit", headers={"X-Forwarded-For": UNTRUSTED}).status == 403
    assert seeded.get("/.fx-audit", method="POST", body=b"{}").status == 405


def test_handler_trusted_clients_setting():
    h = Httpd("audit-trust")
    h.write("htdocs/index.html", "x")
    h.conf("<Location /.fx-audit>\n    SetHandler forbidden-explain-audit\n"
           "    ForbiddenExplainTrustedClients 127.0.0.1\n</Location>\n")
    with h:
        h.start()
        assert h.get("/.fx-audit", source="127.0.0.2").status == 403
        r = h.get("/.fx-audit", source="127.0.0.1")
        assert r.status == 200 and json.loads(r.body)["servers"]
        # ForbiddenExplainAudit is Off by default: nothing at startup
        import time
        deadline = time.time() + 10
        while "resuming normal operations" not in h.read_error_log() \
                and time.time() < deadline:
            time.sleep(0.05)
        assert "resuming normal operations" in h.read_error_log()
        assert '"event":"audit' not in h.read_error_log()


def wait_startup_lines(h, timeout=10):
    """The audit's startup lines.  The listening socket is open before the
    second configuration pass ends: wait for the summary line."""
    import time
    deadline = time.time() + timeout
    while True:
        lines = _startup_lines(h.read_error_log())
        if any(l["event"] == "audit-summary" for l in lines) or time.time() > deadline:
            return lines
        time.sleep(0.05)


def _startup_lines(text):
    out = []
    for line in text.splitlines():
        m = ENTRY_RE.search(line)
        if m and '"event":"audit' in line:
            obj, rest = strict_json(m.group(2))
            assert rest == ""
            out.append(obj)
    return out


def test_startup_notices_and_the_server_starts(seeded):
    from harness import decode
    lines = wait_startup_lines(seeded)
    found = [l for l in lines if l["event"] == "audit"]
    summary = [l for l in lines if l["event"] == "audit-summary"]
    assert len(summary) == 1, lines     # the second pass only
    got = {(l["kind"], decode(l["path"]), decode(l.get("file", "")) or None,
            l.get("line")) for l in found}
    assert got == expected_predictions(seeded), got
    assert summary[0]["findings"] == len(found)
    assert "[forbidden_explain:notice]" in seeded.read_error_log()
    # httpd -t prints nothing of ours
    rc, out = seeded.configtest()
    assert rc == 0 and "audit" not in out, out


def test_startup_notices_at_loglevel_warn():
    h = Httpd("audit-quiet")
    h.write("htdocs/noidx/a.html", "a")
    h.conf("ForbiddenExplainAudit On\n<Directory {docroot}/noidx>\n"
           "    Options -Indexes\n</Directory>\n")
    with h:
        h.start()
        lines = wait_startup_lines(h)
        # the harness's LogLevel warn: httpd writes server notices anyway
        assert [l["event"] for l in lines] == ["audit", "audit-summary"], lines
        assert lines[0]["kind"] == "no-index" and lines[1]["findings"] == 1
        # once per generation: a graceful restart audits again
        h.graceful()
        import time
        deadline = time.time() + 10
        while time.time() < deadline:
            lines = wait_startup_lines(h)
            if len(lines) >= 4:
                break
            time.sleep(0.05)
        assert [l["event"] for l in lines] == ["audit", "audit-summary"] * 2


def test_bounded_scan_and_findings_cap():
    """Many refused symlinks: at most 200 findings, the rest counted."""
    h = Httpd("audit-many")
    h.write("htdocs/index.html", "x")
    os.makedirs(os.path.join(h.docroot, "links"))
    for i in range(260):
        os.symlink("/etc/hostname", os.path.join(h.docroot, "links", "l%03d" % i))
    h.conf("<Directory {docroot}/links>\n    Options -FollowSymLinks\n</Directory>\n"
           + ENDPOINTS)
    with h:
        h.start()
        doc = audit_doc(h)
        assert len(findings_of(doc)) == 200
        assert doc["dropped"] == 60


# -- exposures (through the simulator) -----------------------------------

@needs_whatif
def test_exposures_found_with_the_granting_rule(seeded):
    rc, out, err = run_tool(seeded, "--json", whatif=True)
    assert rc == 1, (out, err)
    rep = json.loads(out)
    assert rep["exposures_checked"] is True
    main = [sv for sv in rep["servers"] if sv["document_root"] == seeded.docroot][0]
    exp = {(f["kind"], f["path"]): f for f in main["findings"]
           if f["kind"].startswith("exposure-")}
    for key in [("exposure-vcs", "/.git/config"), ("exposure-vcs", "/.git/HEAD"),
                ("exposure-secret", "/.env"), ("exposure-secret", "/.htpasswd"),
                ("exposure-backup", "/index.php.bak"), ("exposure-dump", "/dump.sql"),
                ("exposure-status", "/server-status"),
                ("exposure-listing", "/pub/")]:
        assert key in exp, (key, sorted(exp))
    # the rule that lets /.git/config through: the DocumentRoot's Require
    g = exp[("exposure-vcs", "/.git/config")]
    assert g["directive"] == "Require all granted"
    assert g["file"] == seeded.conf_file
    assert g["line"] == line_after(seeded, '<Directory "%s">' % seeded.docroot,
                                   "Require all granted")
    # nothing that is not on disk, nothing denied
    assert ("exposure-vcs", "/.svn/entries") not in exp
    assert ("exposure-listing", "/noidx/") not in exp
    assert ("exposure-listing", "/") not in exp         # it has index.html


@needs_whatif
def test_exposures_clean_site_none(clean):
    rc, out, err = run_tool(clean, "--json", whatif=True)
    assert rc == 0, (out, err)
    rep = json.loads(out)
    assert rep["exposures_checked"] is True
    assert [f for sv in rep["servers"] for f in sv["findings"]] == []


@needs_whatif
def test_exposure_denied_to_strangers_is_no_finding(seeded):
    """The same files behind a Require ip for loopback only: no finding."""
    h = Httpd("audit-protected")
    h.write("htdocs/index.html", "x")
    h.write("htdocs/.env", "A=b\n")
    h.conf('<Files ".env">\n    Require ip 127.0.0.1\n</Files>\n' + ENDPOINTS)
    with h:
        h.start()
        rc, out, err = run_tool(h, "--json", whatif=True)
        rep = json.loads(out)
        kinds = [(f["kind"], f["path"]) for sv in rep["servers"] for f in sv["findings"]]
        assert ("exposure-secret", "/.env") not in kinds, kinds
        assert rc == 0, (kinds, err)
