"""test_foundation.py — the base every explanation builds on: one strict JSON
entry per final 403 naming module and phase, nothing for allowed requests,
the same facts for mod_log_config, ForbiddenExplainLog, every MPM, graceful
restarts.  Real httpd, real files, real requests."""
import os
import re
import subprocess
import time

import pytest

import harness
from harness import decode, one_entry

SITE_CONF = harness.KINDS_CONF + """
<Directory "{docroot}/quiet">
    ForbiddenExplain Off
    Require all denied
</Directory>
<Location "/quietloc">
    ForbiddenExplain Off
    Require all denied
</Location>
<Directory "{docroot}/files">
    <Files "quiet.txt">
        ForbiddenExplain Off
        Require all denied
    </Files>
    <Files "loud.txt">
        Require all denied
    </Files>
</Directory>
<Directory "{docroot}/idx">
    <Files "index.html">
        Require all denied
    </Files>
</Directory>
<Directory "{docroot}/satany">
    Order allow,deny
    Deny from all
    Require all granted
    Satisfy Any
</Directory>
<Location "/errdoc">
    Require all denied
    ErrorDocument 403 /ok.txt
</Location>
"""


def build_site(h):
    h.conf(SITE_CONF)
    h.write("htdocs/ok.txt", "ok\n")
    h.write("htdocs/deny/secret.txt", "s\n")
    h.write("htdocs/compat/secret.txt", "s\n")
    h.mkdir("htdocs/noindex")
    h.write("htdocs/noindex/a.txt", "a\n")
    h.write("htdocs/perm/secret.txt", "s\n", mode=0o000)
    h.mkdir("htdocs/private", mode=0o700, owner=("root", "root"))
    h.write("htdocs/private/inner.txt", "s\n")
    h.mkdir("htdocs/nosym")
    h.write("htdocs/target.txt", "t\n")
    os.symlink(os.path.join(h.docroot, "target.txt"),
               os.path.join(h.docroot, "nosym", "link.txt"))
    h.mkdir("htdocs/ht")
    h.write("htdocs/ht/.htaccess", "RewriteEngine On\nRewriteRule ^blocked - [F]\n")
    h.write("htdocs/ht/blocked", "b\n")
    h.write("htdocs/quiet/x.txt", "q\n")
    h.write("htdocs/quietloc/x.txt", "q\n")
    h.write("htdocs/files/quiet.txt", "q\n")
    h.write("htdocs/files/loud.txt", "l\n")
    h.write("htdocs/idx/index.html", "i\n")
    h.write("htdocs/satany/x.txt", "x\n")


# uri -> (reason, module, phase)
EXPECTED = {
    "/deny/secret.txt": ("authz", "mod_authz_core.c", "access_checker_ex"),
    "/compat/secret.txt": ("access-compat", "mod_access_compat.c", "access_checker"),
    "/noindex/": ("no-index", "mod_autoindex.c", "handler"),
    "/perm/secret.txt": ("fs-permission", "core.c", "handler"),
    "/private/inner.txt": ("fs-permission", "core.c", "map_to_storage"),
    "/nosym/link.txt": ("symlink", "core.c", "map_to_storage"),
    "/srvforbid": ("rewrite", "mod_rewrite.c", "translate_name"),
    "/ht/blocked": ("rewrite", "mod_rewrite.c", "fixups"),
}
SMOKE = ["/deny/secret.txt", "/compat/secret.txt", "/srvforbid", "/ht/blocked",
         "/private/inner.txt"]


@pytest.fixture(scope="module")
def site():
    h = harness.Httpd(name="found")
    build_site(h)
    h.start()
    yield h
    h.cleanup()


@pytest.mark.parametrize("uri", sorted(EXPECTED))
def test_each_403_kind_has_one_entry(site, uri):
    assert site.get(uri).status == 403
    e = one_entry(site, uri)
    reason, module, phase = EXPECTED[uri]
    assert (e["reason"], e["module"], e["phase"]) == (reason, module, phase)
    assert e["status"] == 403
    assert e["method"] == "GET"
    assert e["client_ip"] == "127.0.0.1"
    assert "peer_ip" not in e          # same as client_ip here
    assert e["request_id"]
    assert e["detail"] and e["hint"]


def test_allowed_request_writes_nothing(site):
    before = len(site.entries())
    r = site.get("/ok.txt")
    assert r.status == 200 and r.body == b"ok\n"
    assert len(site.entries()) == before
    assert not [l for l in site.access_lines() if '/ok.txt' in l and 'reason=-' not in l]


def test_forbidden_explain_off_silences_scope(site):
    assert site.get("/quiet/x.txt").status == 403
    assert site.entries_for("/quiet/x.txt") == []
    # httpd's own line is still there, unchanged
    assert "AH01630: client denied by server configuration: %s/quiet/x.txt" % site.docroot \
        in site.read_error_log()


def test_forbidden_explain_off_in_location_and_files(site):
    """Off works in <Location> and <Files>; On stays the default next to
    it."""
    for uri in ("/quietloc/x.txt", "/files/quiet.txt"):
        before = len(site.entries())
        assert site.get(uri).status == 403
        assert len(site.entries()) == before, uri
    assert site.get("/files/loud.txt").status == 403
    assert one_entry(site, "/files/loud.txt")["reason"] == "authz"


def test_forbidden_explain_off_in_virtual_host(make_httpd):
    h = make_httpd(name="vhostoff")
    h.conf('<Directory "{docroot}/deny">\n Require all denied\n</Directory>')
    h.conf('<VirtualHost 127.0.0.1:{port}>\n  ServerName loud.test\n</VirtualHost>')
    h.conf('<VirtualHost 127.0.0.1:{port}>\n  ServerName quiet.test\n'
           '  ForbiddenExplain Off\n</VirtualHost>')
    h.write("htdocs/deny/x", "x")
    h.start()
    assert h.get("/deny/x", headers={"Host": "quiet.test"}).status == 403
    assert h.entries() == []
    assert h.get("/deny/x", headers={"Host": "loud.test"}).status == 403
    assert len(h.entries_for("/deny/x")) == 1


def test_stock_lines_are_kept(site):
    site.get("/deny/secret.txt")
    log = site.read_error_log()
    assert "[authz_core:error]" in log and "AH01630: client denied by server configuration" in log
    assert "[access_compat:error]" in log or site.get("/compat/secret.txt").status == 403


def test_index_subrequest_denial_names_the_subrequest(site):
    assert site.get("/idx/").status == 403
    e = one_entry(site, "/idx/")
    assert e["reason"] == "authz"
    assert e["module"] == "mod_authz_core.c"
    assert e["phase"] == "access_checker_ex"
    assert decode(e["subrequest_uri"]) == "/idx/index.html"
    assert e["via"] == "mod_dir.c (fixups)"


def test_satisfy_any_success_is_not_a_403(site):
    before = len(site.entries())
    assert site.get("/satany/x.txt").status == 200
    assert len(site.entries()) == before


def test_error_document_keeps_one_entry(site):
    r = site.get("/errdoc")
    assert r.status == 403
    assert r.body == b"ok\n"          # the ErrorDocument was served
    e = one_entry(site, "/errdoc")
    assert (e["reason"], e["phase"]) == ("authz", "access_checker_ex")


def test_access_log_sees_reason_env(site):
    site.get("/deny/secret.txt")
    lines = [l for l in site.access_lines() if "GET /deny/secret.txt" in l]
    assert lines and all("reason=authz" in l for l in lines)
    lines = [l for l in site.access_lines() if "GET /ok.txt" in l]
    assert lines and all("reason=-" in l for l in lines)


HOSTILE = [
    b'/deny/q"uote',
    b'/deny/back\\slash',
    b'/deny/crlf%0d%0aInjected:%20yes',
    b'/deny/nul%00byte',
    b'/deny/bad-utf8-%ff%fe%c3%28',
    b'/deny/ctl%01%07%1b%7f',
    b'/deny/pct%25252e',
    b'/deny/' + b'A' * 7000,
]


@pytest.mark.parametrize("target", HOSTILE, ids=range(len(HOSTILE)))
def test_hostile_uris_keep_the_line_strict_json(site, target):
    r = site.request(None, raw_target=target)
    assert r.status in (403, 404, 400, 414)
    if r.status != 403:
        return
    time.sleep(0.15)
    # Parse the raw line as it sits in the file, unmodified.
    raw_lines = [l for l in site.read_error_log().splitlines()
                 if "[forbidden_explain:" in l]
    last = raw_lines[-1]
    assert len(last) < 8192
    obj, rest = harness.strict_json(last[last.index("{"):])
    assert rest == ""
    assert all(0x20 <= ord(c) < 0x7f and c != "\\" for c in last[last.index("{"):])
    from urllib.parse import unquote_to_bytes
    got = unquote_to_bytes(obj["uri"])
    if "truncated" in obj:
        assert "uri" in obj["truncated"]
        want = unquote_to_bytes(target.decode("latin-1"))
        assert want.startswith(got) and len(got) < len(want)
    else:
        assert got == unquote_to_bytes(target.decode("latin-1"))


def test_forbidden_explain_log_file_and_pipe(make_httpd):
    h = make_httpd(name="ownlog")
    own = os.path.join(h.logs, "forbidden.json")
    piped = os.path.join(h.logs, "piped.json")
    h.conf('ForbiddenExplainLog %s' % own)
    h.conf('<VirtualHost 127.0.0.1:{port}>\n  ServerName main.test\n</VirtualHost>')
    h.conf('<VirtualHost 127.0.0.1:{port}>\n'
           '  ServerName piped.test\n'
           '  ForbiddenExplainLog "|/bin/sh -c \'cat >> %s\'"\n'
           '</VirtualHost>' % piped)
    h.conf('<Directory "{docroot}/deny">\n Require all denied\n</Directory>')
    h.write("htdocs/deny/x", "x")
    h.start()
    assert h.get("/deny/x").status == 403
    assert h.get('/deny/q%22%5c%0a', headers={"Host": "piped.test"}).status == 403
    assert h.get("/ok-missing").status == 404
    time.sleep(0.5)
    with open(own) as f:
        lines = f.read().splitlines()
    assert len(lines) == 1
    obj, rest = harness.strict_json(lines[0])
    assert rest == "" and obj["uri"] == "/deny/x" and obj["reason"] == "authz"
    # the error-log entry holds the same facts, in its %HH encoding
    assert [harness.decoded(x) for x in h.entries_for("/deny/x")] == [obj]
    deadline = time.time() + 5
    while time.time() < deadline and not (os.path.exists(piped) and os.path.getsize(piped)):
        time.sleep(0.1)
    with open(piped) as f:
        plines = f.read().splitlines()
    assert len(plines) == 1
    pobj, _ = harness.strict_json(plines[0])
    assert pobj["uri"] == '/deny/q"\\\n'


def test_log_level_directive(make_httpd):
    h = make_httpd(name="lvl")
    h.conf("ForbiddenExplainLogLevel notice")
    h.conf('<Directory "{docroot}/deny">\n Require all denied\n</Directory>')
    h.write("htdocs/deny/x", "x")
    h.start()
    h.get("/deny/x")
    time.sleep(0.2)
    assert "[forbidden_explain:notice]" in h.read_error_log()
    rc, out = h.configtest()
    assert rc == 0
    h2 = make_httpd(name="lvlbad")
    h2.conf("ForbiddenExplainLogLevel loud")
    rc, out = h2.configtest()
    assert rc != 0
    assert "ForbiddenExplainLogLevel: unknown level 'loud'" in out
    assert "httpd.conf" in out   # httpd names file and line


def test_unique_id_is_the_request_id(make_httpd):
    h = make_httpd(name="uid", extra_modules=["unique_id"])
    h.conf('LogFormat "%{{UNIQUE_ID}}e %>s %U" uid\nCustomLog logs/uid_log uid')
    h.conf('<Directory "{docroot}/deny">\n Require all denied\n</Directory>')
    h.write("htdocs/deny/x", "x")
    h.start()
    h.get("/deny/x")
    e = one_entry(h, "/deny/x")
    time.sleep(0.2)
    with open(os.path.join(h.logs, "uid_log")) as f:
        uid = f.read().split()[0]
    assert e["request_id"] == uid


def test_upstream_403_through_mod_proxy(make_httpd):
    back = make_httpd(name="back", with_module=False)
    back.conf('<Directory "{docroot}/app">\n Require all denied\n</Directory>')
    back.write("htdocs/app/x", "x")
    back.start()
    front = make_httpd(name="front", extra_modules=["proxy", "proxy_http"])
    front.conf("ProxyPass /app/ http://127.0.0.1:%d/app/" % back.port)
    front.start()
    assert front.get("/app/x").status == 403
    e = one_entry(front, "/app/x")
    assert (e["reason"], e["module"], e["phase"]) == ("upstream", "mod_proxy.c", "handler")
    assert e["handler"] == "proxy-server"
    # the front end itself wrote no stock denial line
    assert "AH01630" not in front.read_error_log()


def test_configtest_rejects_unknown_shadowed_directive(make_httpd):
    """Shadowing must not make httpd accept a directive whose module is
    not loaded."""
    h = make_httpd(name="shadowrej")
    harness_mods = list(harness.BASE_MODULES)
    try:
        harness.BASE_MODULES.remove("rewrite")
        h.conf("RewriteEngine On")
        rc, out = h.configtest()
    finally:
        harness.BASE_MODULES[:] = harness_mods
    assert rc != 0
    assert "Invalid command 'RewriteEngine'" in out


@pytest.mark.parametrize("mpm", ["prefork", "worker", "event"])
def test_smoke_under_each_mpm_and_graceful(make_httpd, mpm):
    h = make_httpd(name="mpm-" + mpm, mpm=mpm)
    build_site(h)
    h.start()

    def check_round():
        for uri in SMOKE:
            assert h.get(uri).status == 403, uri
        assert h.get("/ok.txt").status == 200
        time.sleep(0.2)
        for uri in SMOKE:
            got = h.entries_for(uri, settle=False)
            assert got, uri
            e = got[-1]
            assert (e["reason"], e["module"], e["phase"]) == EXPECTED[uri], (mpm, uri, e)
        return len(h.entries(settle=False))

    n1 = check_round()
    assert n1 == len(SMOKE)
    h.graceful()
    n2 = check_round()
    assert n2 == 2 * len(SMOKE)
    assert "exit signal" not in h.read_error_log()


# -- the entry's line in the error log -----------------------------------
# The entry goes through ap_log_rerror (src/fx_report.c); these hold its line
# to what httpd itself writes for the same request.
PREFIX_RE = re.compile(
    r"^\[(?P<time>\w{3} \w{3} [ \d]\d \d\d:\d\d:\d\d\.\d{6} \d{4})\] "
    r"\[(?P<module>\w+):(?P<level>\w+)\] \[pid (?P<pid>\d+)(?::tid (?P<tid>\d+))?\] "
    r"\[client (?P<client>[\d.]+:\d+)\] (?P<message>.*)$")


@pytest.mark.parametrize("mpm", ["event", "prefork"])
def test_entry_line_has_httpds_layout_and_referer(make_httpd, mpm):
    """Same time format, pid, tid and client as httpd's AH01630 line of the
    same request, and the same escaped ', referer: ' suffix byte for byte."""
    h = make_httpd(name="layout", mpm=mpm)
    h.conf('<Directory "{docroot}/deny">\n Require all denied\n</Directory>')
    h.write("htdocs/deny/x", "x")
    h.start()
    referer = b'http://r.test/a\\b"c\td\xe9'
    assert h.get("/deny/x", headers={"Referer": referer}).status == 403
    time.sleep(0.2)
    lines = h.read_error_log().splitlines()
    ah = [l for l in lines if "[authz_core:error]" in l]
    ours = [l for l in lines if "[forbidden_explain:" in l]
    assert len(ah) == 1 and len(ours) == 1, lines[-5:]
    a, o = PREFIX_RE.match(ah[0]), PREFIX_RE.match(ours[0])
    assert a and o, (ah, ours)
    assert (o["pid"], o["tid"], o["client"]) == (a["pid"], a["tid"], a["client"])
    assert (o["module"], o["level"]) == ("forbidden_explain", "warn")
    suffix = ", referer: " + ah[0].rsplit(", referer: ", 1)[1]
    assert "\\\\" in suffix and "\\t" in suffix and "\\xe9" in suffix, suffix
    assert ours[0].endswith(suffix)
    assert one_entry(h, "/deny/x")["reason"] == "authz"


def test_entry_line_follows_error_log_format(make_httpd):
    """With ErrorLogFormat, httpd formats the entry's line like any other,
    once-per-request lines included."""
    h = make_httpd(name="elf")
    h.conf('ErrorLogFormat "[%{{cu}}t] [%-m:%l] [%L] %M"\n'
           'ErrorLogFormat request "[%{{cu}}t] <request:%L> %m"')
    h.conf('<Directory "{docroot}/deny">\n Require all denied\n</Directory>')
    h.write("htdocs/deny/x", "x")
    h.start()
    assert h.get("/deny/x").status == 403
    e = one_entry(h, "/deny/x")
    assert e["reason"] == "authz"
    line = [l for l in h.read_error_log().splitlines() if "forbidden_explain" in l][-1]
    assert re.match(r"^\[\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d{6}\] \[forbidden_explain:warn\] "
                    r"\[[^\]]+\] \{", line), line
    assert "<request:" in h.read_error_log()


def test_entry_line_obeys_per_directory_log_level(make_httpd):
    """LogLevel, global and per <Directory>, decides as it does for
    ap_log_rerror; the access-log facts are published either way."""
    h = make_httpd(name="perdir")
    h.conf("LogLevel warn forbidden_explain:error")
    h.conf('<Directory "{docroot}/loud">\n Require all denied\n'
           ' LogLevel forbidden_explain:warn\n</Directory>')
    h.conf('<Directory "{docroot}/quiet">\n Require all denied\n</Directory>')
    h.write("htdocs/loud/x", "x")
    h.write("htdocs/quiet/x", "x")
    h.start()
    assert h.get("/quiet/x").status == 403
    assert h.get("/loud/x").status == 403
    assert h.entries_for("/quiet/x") == []
    assert len(h.entries_for("/loud/x")) == 1
    quiet = [l for l in h.access_lines() if "/quiet/x" in l]
    assert quiet and "reason=authz" in quiet[0], quiet


def test_silent_403_still_gets_an_error_log_id(make_httpd):
    """%L in the access log names the error-log id of the request once
    anything was logged for it, as with lines httpd writes itself."""
    h = make_httpd(name="logid")
    h.conf('LogFormat "%L %>s %U" lid\nCustomLog logs/lid_log lid')
    h.conf("RewriteEngine On\nRewriteRule ^/silent - [F]")
    h.start()
    assert h.get("/silent").status == 403
    assert one_entry(h, "/silent")["reason"] == "rewrite"
    time.sleep(0.2)
    with open(os.path.join(h.logs, "lid_log")) as f:
        lid, status, uri = f.read().split()
    assert (status, uri) == ("403", "/silent") and lid != "-"
