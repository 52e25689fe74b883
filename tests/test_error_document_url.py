"""test_error_document_url.py — a 403 whose ErrorDocument is a full URL.

httpd (ap_die_r, modules/http/http_request.c) answers such a 403 with a 302
to the URL: the client, mod_log_config's %>s and every later hook see 302.
The refusal was still decided, by a rule the administrator wants named:
the entry explains it and says what was sent ("status": 302,
"decided_status": 403, "error_document").  A redirect that is not the
ErrorDocument of a 403 gets no entry."""
import json
import os
import subprocess

from harness import field

FXLOG = os.path.join(os.path.dirname(__file__), "..", "tools", "fx-log")

SITE = """
<Directory "{docroot}/errurl">
    ErrorDocument 403 http://errors.example/denied
    Require all denied
</Directory>
<Directory "{docroot}/errpage">
    ErrorDocument 403 /page.html
    Require all denied
</Directory>
<Directory "{docroot}/urlok">
    ErrorDocument 403 http://errors.example/denied
    Require all granted
</Directory>
<Directory "{docroot}/ipurl">
    ErrorDocument 403 https://errors.example/ip
    Require ip 10.9.9.9
</Directory>
<Directory "{docroot}/candidate">
    Require all granted
    <ForbiddenExplainReportOnly>
        Require ip 10.1.2.0/24
    </ForbiddenExplainReportOnly>
</Directory>
RewriteEngine On
RewriteRule ^/moved/(.*) http://errors.example/denied [R=302,L]
"""


def line_in_section(h, section, needle):
    """The line of needle inside the <Directory> of section."""
    lines = open(h.conf_file).read().splitlines()
    start = next(i for i, l in enumerate(lines) if '/%s">' % section in l)
    return start + 1 + next(i for i, l in enumerate(lines[start:]) if needle in l)


def site(make_httpd, repeat=None):
    h = make_httpd(name="errurl")
    h.repeat = repeat
    h.conf(SITE)
    for d in ("errurl", "errpage", "urlok", "ipurl", "moved", "candidate"):
        h.write("htdocs/%s/x.txt" % d, "%s\n" % d)
    h.write("htdocs/page.html", "sorry\n")
    h.start()
    return h


def test_redirected_403_is_explained_with_the_status_sent(make_httpd):
    h = site(make_httpd)
    r = h.get("/errurl/x.txt")
    assert r.status == 302
    assert r.header("Location") == "http://errors.example/denied"
    got = h.entries_for("/errurl/x.txt")
    assert len(got) == 1, h.read_error_log()[-2000:]
    e = got[0]
    assert e["status"] == 302 and e["decided_status"] == 403, e
    assert field(e, "error_document") == "http://errors.example/denied"
    assert field(e, "directive") == "Require all denied", e
    assert e["line"] == line_in_section(h, "errurl", "Require all denied"), e
    assert field(e, "module") == "mod_authz_core.c"
    # the access log keeps httpd's status and gets the module's variables
    line = [l for l in h.access_lines() if "GET /errurl/x.txt" in l]
    assert len(line) == 1 and " 302 " in line[0], line
    assert "reason=authz" in line[0], line


def test_local_error_document_and_plain_redirects_unchanged(make_httpd):
    h = site(make_httpd)
    r = h.get("/errpage/x.txt")
    assert r.status == 403 and r.body == b"sorry\n"
    e = h.entries_for("/errpage/x.txt")
    assert len(e) == 1 and e[0]["status"] == 403 and "decided_status" not in e[0]
    # a granted request under the same ErrorDocument, and a RewriteRule
    # redirect to the same URL, are no refusal: no entry
    assert h.get("/urlok/x.txt").status == 200
    r = h.get("/moved/x.txt")
    assert r.status == 302 and r.header("Location") == "http://errors.example/denied"
    assert h.entries_for("/urlok/x.txt") == []
    assert h.entries_for("/moved/x.txt") == []


def test_repeats_of_a_redirected_403_keep_the_status_sent(make_httpd):
    h = site(make_httpd)           # the default, compact
    for _ in range(3):
        assert h.get("/ipurl/x.txt").status == 302
    got = h.entries_for("/ipurl/x.txt")
    assert len(got) == 3, got
    assert all(e["status"] == 302 and e["decided_status"] == 403
               for e in got), got
    full = [e for e in got if "repeat" not in e]
    assert len(full) == 1 and full[0]["decided_status"] == 403
    assert field(full[0], "directive") == "Require ip 10.9.9.9"
    assert full[0]["line"] == line_in_section(h, "ipurl", "Require ip"), full
    assert [e["repeat"] for e in got if "repeat" in e] == [1, 2]


def fxlog(*args):
    p = subprocess.run(["/usr/bin/python3", FXLOG] + list(args),
                       capture_output=True, timeout=60)
    assert p.returncode == 0, p.stderr
    return p.stdout.decode("utf-8"), p.stderr.decode("utf-8")


def test_fx_log_reads_redirected_denials_and_counts_report_only(make_httpd):
    """fx-log shows a denial sent as the ErrorDocument's 302 as a denial,
    and a served request's report-only entry as neither a denial nor a
    truncated line."""
    h = site(make_httpd)
    assert h.get("/errurl/x.txt").status == 302
    assert h.get("/errurl/x.txt").status == 302
    assert h.get("/candidate/x.txt").status == 200
    assert any(e.get("report_only") for e in h.entries())
    out, err = fxlog("--json", h.error_log)
    got = [json.loads(l) for l in out.splitlines() if l.strip()]
    assert [(e["status"], e["_kind"]) for e in got] == [(302, "full"),
                                                       (302, "repeat")], got
    assert got[0]["error_document"] == "http://errors.example/denied"
    assert "0 truncated line(s), 1 report-only" in err, err
    out, _ = fxlog(h.error_log)
    assert "302 (403 decided) authz" in out, out
    assert "sent:      302 to the ErrorDocument http://errors.example/denied" in out, out
    out, _ = fxlog("--summary", h.error_log)
    assert out.startswith("2 denials, 1 causes"), out
