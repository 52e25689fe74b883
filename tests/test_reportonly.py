"""test_reportonly.py — report-only rules (issue 17): <ForbiddenExplainReportOnly>
evaluated with httpd's real providers on live traffic, never enforced.

Two servers serve the same site: A with the candidate containers, B with
the containers removed (everything else identical, module loaded).  The
candidates come from real rule sets: the Apache Ultimate Bad Bot Blocker
as shipped (tests/data/third_party/bad-bot-blocker, MIT, see its NOTE):
its SetEnvIf/BrowserMatch lines in force, its Require block (lines
8158-8668 of globalblacklist.conf, with the two files it Includes) as the
candidate; and an address allowlist for /admin.  The same Require block is
also enforced in /bbreal with LogLevel authz_core:debug, so httpd's own
trace (AH01626) is the reference for the candidate's verdict and calls.

Asserted: a request the candidate would deny is served exactly as by B
(status, headers, body, access-log line) and produces exactly one entry
with report_only true naming the deciding rule with file:line; a request
it would grant produces none; 403s by httpd carry report_only_would_deny;
.htaccess works under AllowOverride AuthConfig and is a 500 without it;
bad candidates are refused at startup with file:line; candidates that can
never grant or never deny are reported at startup; what the providers
touch (Vary, their own log lines, r->user) stays as without the container.
"""
import base64
import hashlib
import os
import re
import shutil

import pytest

import harness

DATA = os.path.join(os.path.dirname(__file__), "data", "third_party",
                    "bad-bot-blocker")
INCLUDED = ["blacklist-user-agents", "whitelist-domains", "bad-referrer-words",
            "blacklist-ips", "whitelist-ips"]
RO_OPEN, RO_CLOSE = "<ForbiddenExplainReportOnly>", "</ForbiddenExplainReportOnly>"

d = harness.field

ZGRAB = {"User-Agent": "zgrab/0.x"}
BROWSER = {"User-Agent": "Mozilla/5.0 (X11; Linux x86_64; rv:120.0) "
                         "Gecko/20100101 Firefox/120.0"}
SPAM = {"User-Agent": BROWSER["User-Agent"],
        "Referer": "http://www.esopini.com/page"}


def split_blocker():
    """globalblacklist.conf as (its SetEnvIf part, its Require block)."""
    with open(os.path.join(DATA, "globalblacklist.conf")) as f:
        lines = f.read().split("\n")
    start = next(i for i, l in enumerate(lines) if l.strip() == "<RequireAny>")
    end = max(i for i, l in enumerate(lines) if l.strip() == "</RequireAny>")
    return "\n".join(lines[:start]), "\n".join(lines[start:end + 1]), start + 1


ENV_PART, RULE_PART, RULE_FIRST_LINE = split_blocker()

SITE = '''
Include custom.d/bb-env.conf
<Directory "{docroot}/bb">
    Require all granted
    <ForbiddenExplainReportOnly>
    Include custom.d/bb-rules.conf
    </ForbiddenExplainReportOnly>
</Directory>
<Directory "{docroot}/bbreal">
    Include custom.d/bb-rules.conf
</Directory>
<Location "/admin">
    <ForbiddenExplainReportOnly>
        Require ip 10.1.2.0/24 127.0.0.2
    </ForbiddenExplainReportOnly>
</Location>
<Location "/admin/locked">
    Require all denied
</Location>
<Directory "{docroot}/ht">
    AllowOverride AuthConfig
</Directory>
<Directory "{docroot}/htbad">
    AllowOverride AuthConfig
</Directory>
<Directory "{docroot}/htno">
    AllowOverride FileInfo
</Directory>
<Directory "{docroot}/htno2">
    AllowOverride FileInfo
</Directory>
<Directory "{docroot}/expr">
    <ForbiddenExplainReportOnly>
        Require expr %{{HTTP:X-Probe}} == 'yes'
    </ForbiddenExplainReportOnly>
</Directory>
<Directory "{docroot}/auth">
    AuthType Basic
    AuthName "ro"
    AuthUserFile {root}/users
    Require valid-user
    <ForbiddenExplainReportOnly>
        Require user alice
    </ForbiddenExplainReportOnly>
</Directory>
<AuthzProviderAlias ip lan-only 10.0.0.0/8>
</AuthzProviderAlias>
<Directory "{docroot}/alias">
    Require all denied
    <ForbiddenExplainReportOnly>
        Require lan-only
    </ForbiddenExplainReportOnly>
</Directory>
<Location "/lim">
    <Limit POST>
        <ForbiddenExplainReportOnly>
            Require ip 10.9.9.9
        </ForbiddenExplainReportOnly>
    </Limit>
</Location>
<Location "/quiet">
    ForbiddenExplain Off
    <ForbiddenExplainReportOnly>
        Require ip 10.9.9.9
    </ForbiddenExplainReportOnly>
</Location>
<Directory "{docroot}/rw">
    RewriteEngine On
    RewriteRule ^a\\.txt$ x.txt
    <ForbiddenExplainReportOnly>
        Require ip 10.9.9.9
    </ForbiddenExplainReportOnly>
</Directory>
<Directory "{docroot}/needuser">
    <ForbiddenExplainReportOnly>
        Require valid-user
    </ForbiddenExplainReportOnly>
</Directory>
LogLevel warn authz_core:debug authz_user:debug
ForbiddenExplainLog logs/fx.json
'''

HTACCESS = "# candidate\n<ForbiddenExplainReportOnly>\nRequire ip 10.9.9.9\n</ForbiddenExplainReportOnly>\n"
FILES = ["bb", "bbreal", "admin", "admin/locked", "ht", "htno", "htno2", "expr",
         "auth", "needuser", "alias", "lim", "quiet", "rw", "htbad"]
MTIME = 1700000000


def without_containers(text):
    return re.sub(r"[ \t]*<ForbiddenExplainReportOnly>.*?</ForbiddenExplainReportOnly>\n",
                  "", text, flags=re.S)


def build(with_containers):
    h = harness.Httpd("ro" + ("A" if with_containers else "B"))
    os.makedirs(os.path.join(h.root, "custom.d"))
    for f in INCLUDED:
        shutil.copy(os.path.join(DATA, f + ".conf"),
                    os.path.join(h.root, "custom.d", f + ".conf"))
    h.write("custom.d/bb-env.conf", ENV_PART + "\n")
    h.write("custom.d/bb-rules.conf", "\n" * (RULE_FIRST_LINE - 1) + RULE_PART + "\n")
    pw = base64.b64encode(hashlib.sha1(b"pw").digest()).decode()
    h.write("users", "alice:{SHA}%s\nbob:{SHA}%s\n" % (pw, pw))
    site = SITE if with_containers else without_containers(SITE)
    h.conf(site)
    for sub in FILES:
        h.mkdir("htdocs/" + sub)
        p = h.write("htdocs/%s/x.txt" % sub, "x in %s\n" % sub)
        os.utime(p, (MTIME, MTIME))
    p = h.write("htdocs/admin/index.html", "index of admin\n")
    os.utime(p, (MTIME, MTIME))
    ht = HTACCESS if with_containers else ""
    h.write("htdocs/ht/.htaccess", ht)
    h.write("htdocs/htno/.htaccess", ht)
    h.write("htdocs/htno2/.htaccess", "Require ip 10.9.9.9\n")
    h.write("htdocs/htbad/.htaccess", "<ForbiddenExplainReportOnly>\n"
            "Require nosuch x\n</ForbiddenExplainReportOnly>\n"
            if with_containers else "Require nosuch x\n")
    return h.start()


@pytest.fixture(scope="module")
def pair():
    a = build(True)
    b = None
    try:
        b = build(False)
        yield a, b
    finally:
        a.cleanup()
        if b:
            b.cleanup()


def ours(h):
    return [e for e in h.entries() if e.get("report_only")]


def send(h, uri, **kw):
    """Response, the entries this request added, and its error-log text."""
    before_log = len(h.read_error_log())
    before = len(h.entries(settle=False))
    r = h.get(uri, **kw)
    got = h.entries()[before:]
    return r, got, h.read_error_log()[before_log:]


def same_response(ra, rb):
    drop = {"date"}
    ha = [(k, v) for k, v in ra.headers if k.lower() not in drop]
    hb = [(k, v) for k, v in rb.headers if k.lower() not in drop]
    assert ra.status == rb.status
    assert ha == hb
    assert ra.body == rb.body


def leaf_lines(log):
    # greedy up to the last ": " (IPv6 addresses hold colons); httpd may
    # append ", referer: ..."
    log = re.sub(r", referer: .*$", "", log, flags=re.M)
    return re.findall(r"AH01626: authorization result of (Require .*): (\w+)\s*$",
                      log, re.M)


def rules_file(h):
    return os.path.join(h.root, "custom.d", "bb-rules.conf")


def blocker_line(needle):
    with open(os.path.join(DATA, "globalblacklist.conf")) as f:
        for i, line in enumerate(f, 1):
            if needle in line:
                return i
    raise AssertionError(needle)


@pytest.mark.parametrize("headers,rule", [
    (ZGRAB, "Require not env bad_bot"),
    (SPAM, "Require not env spam_ref"),
])
def test_bad_bot_candidate_would_deny(pair, headers, rule):
    a, b = pair
    ra, got, log = send(a, "/bb/x.txt", headers=headers)
    rb = b.get("/bb/x.txt", headers=headers)
    same_response(ra, rb)
    assert ra.status == 200 and ra.body == b"x in bb\n"
    assert len(got) == 1, got
    e = got[0]
    assert e["report_only"] is True and e["status"] == 200
    assert d(e, "reason") == "authz" and d(e, "decided_by") == "rule"
    assert d(e, "directive") == rule
    assert d(e, "file") == rules_file(a) and e["line"] == blocker_line(rule)
    assert d(e, "section").startswith('<Directory "%s/bb"> (%s:' % (a.docroot, a.conf_file))
    assert "> <ForbiddenExplainReportOnly> (:" in d(e, "section")
    assert d(e, "report_only_result") == "denied"
    assert d(e, "rule_saw") == "env"
    assert e["env_source"][0]["matched"] is True
    # the candidate added no httpd line: the only AH01626 is /bb's own
    # `Require all granted` (mod_authz_core never saw the candidate)
    assert leaf_lines(log) == [("Require all granted", "granted")]
    # httpd enforcing the same block agrees, call for call
    rr, _, real_log = send(a, "/bbreal/x.txt", headers=headers)
    assert rr.status == 403
    theirs = leaf_lines(real_log)
    assert e["trail_calls"] == len(theirs)
    mine = [(d(t, "directive"), d(t, "effect") or d(t, "result"))
            for t in e["trail"]]
    assert len(mine) == min(16, len(theirs)) and mine == theirs[:len(mine)]
    assert e["trail_omitted"] == len(theirs) - len(mine)


def test_bad_bot_candidate_grants_a_browser(pair):
    a, b = pair
    ra, got, _ = send(a, "/bb/x.txt", headers=BROWSER)
    same_response(ra, b.get("/bb/x.txt", headers=BROWSER))
    assert ra.status == 200 and got == []
    rr, _, _ = send(a, "/bbreal/x.txt", headers=BROWSER)
    assert rr.status == 200


def test_admin_allowlist(pair):
    a, b = pair
    ra, got, _ = send(a, "/admin/x.txt")
    same_response(ra, b.get("/admin/x.txt"))
    assert ra.status == 200 and len(got) == 1
    e = got[0]
    assert e["report_only"] is True
    assert d(e, "directive") == "Require ip 10.1.2.0/24 127.0.0.2"
    assert e["line"] == a.conf_line_of("Require ip 10.1.2.0/24")
    assert d(e, "file") == a.conf_file
    assert d(e, "rule_saw") == "client_ip 127.0.0.1"
    assert d(e, "client_ip") == "127.0.0.1"
    assert e["trail_calls"] == 1
    assert d(e, "report_only_container") == "<ForbiddenExplainReportOnly> (%s:%d)" % (
        a.conf_file, a.conf_line_of("Require ip 10.1.2.0/24") - 1)
    # the allowlisted address: served, no entry
    ra, got, _ = send(a, "/admin/x.txt", source="127.0.0.2")
    assert ra.status == 200 and got == []
    # a directory URL: the request is evaluated once, mod_dir's index
    # sub-request not again (the uri is r->uri after mod_dir's redirect)
    ra, got, _ = send(a, "/admin/")
    same_response(ra, b.get("/admin/"))
    assert ra.status == 200 and ra.body == b"index of admin\n"
    assert len(got) == 1 and d(got[0], "uri") == "/admin/index.html"


def test_own_log_gets_the_same_entry(pair):
    a, _ = pair
    _, got, _ = send(a, "/admin/x.txt")
    with open(os.path.join(a.logs, "fx.json")) as f:
        last = harness.strict_json(f.read().splitlines()[-1])[0]
    assert last["report_only"] is True
    assert last["request_id"] == got[0]["request_id"]
    assert last["directive"] == "Require ip 10.1.2.0/24 127.0.0.2"


def test_access_log_untouched(pair):
    a, b = pair
    n_a, n_b = len(a.access_lines()), len(b.access_lines())
    a.get("/admin/x.txt")
    b.get("/admin/x.txt")
    la, lb = a.access_lines()[n_a:], b.access_lines()[n_b:]
    assert len(la) == len(lb) == 1
    # "%h %>s "%r" reason=%{FORBIDDEN_REASON}e": FORBIDDEN_* stay unset
    assert la == lb and la[0].endswith("reason=- at=-")


def test_httpd_403_says_whether_candidate_denies_too(pair):
    a, b = pair
    r, got, _ = send(a, "/admin/locked/x.txt")
    assert r.status == 403 and len(got) == 1
    e = got[0]
    # the regular explanation is the one B gives (only report_only_* added;
    # B's line numbers differ: its config lacks the containers)
    _, gb, _ = send(b, "/admin/locked/x.txt")
    eb = gb[0]
    assert set(e) - set(eb) == {"report_only_would_deny", "report_only_result",
                                "report_only_rule", "report_only_container"}
    assert set(eb) <= set(e)
    def same(v):
        # a hint names rules by file:line, and the two configs differ there
        return re.sub(r"\S+/conf/httpd\.conf:\d+", "CONF:N", v) \
            if isinstance(v, str) else v
    for k in ("reason", "module", "phase", "directive", "decided_by",
              "trail_calls", "detail", "hint", "rule_saw", "ah"):
        assert same(e[k]) == same(eb[k]), k
    assert [(t["directive"], t["result"]) for t in e["trail"]] == \
        [(t["directive"], t["result"]) for t in eb["trail"]]
    assert "report_only" not in e
    assert d(e, "directive") == "Require all denied"
    assert e["report_only_would_deny"] is True
    assert d(e["report_only_rule"], "directive") == "Require ip 10.1.2.0/24 127.0.0.2"
    assert e["report_only_rule"]["line"] == a.conf_line_of("Require ip 10.1.2.0/24")
    r, got, _ = send(a, "/admin/locked/x.txt", source="127.0.0.2")
    assert r.status == 403 and len(got) == 1
    assert got[0]["report_only_would_deny"] is False
    assert d(got[0], "report_only_result") == "granted"


def test_htaccess_under_authconfig(pair):
    a, b = pair
    ra, got, _ = send(a, "/ht/x.txt")
    same_response(ra, b.get("/ht/x.txt"))
    assert ra.status == 200 and len(got) == 1
    e = got[0]
    assert d(e, "directive") == "Require ip 10.9.9.9"
    assert d(e, "file") == os.path.join(a.docroot, "ht", ".htaccess")
    assert e["line"] == 3


def test_htaccess_without_authconfig_is_500_like_require(pair):
    a, _ = pair
    r, got, log = send(a, "/htno/x.txt")
    assert r.status == 500 and not [e for e in got if e.get("report_only")]
    assert "<ForbiddenExplainReportOnly not allowed here" in log
    # what httpd does with a plain Require there
    r2 = a.get("/htno2/x.txt")
    assert r2.status == 500


def test_bad_candidate_in_htaccess_is_500_like_a_bad_require(pair):
    a, b = pair
    ra, got, log = send(a, "/htbad/x.txt")
    rb, _, blog = send(b, "/htbad/x.txt")
    assert ra.status == rb.status == 500
    assert "Unknown Authz provider: nosuch" in log
    assert "Unknown Authz provider: nosuch" in blog


def test_expression_vary_is_not_added(pair):
    a, b = pair
    hdr = {"X-Probe": "no"}
    ra, got, _ = send(a, "/expr/x.txt", headers=hdr)
    rb = b.get("/expr/x.txt", headers=hdr)
    same_response(ra, rb)
    assert ra.header("Vary") is None
    assert len(got) == 1 and d(got[0], "rule_saw") == "expr"
    assert d(got[0], "expr_headers") == "X-Probe: no"
    ra, got, _ = send(a, "/expr/x.txt", headers={"X-Probe": "yes"})
    assert ra.status == 200 and got == [] and ra.header("Vary") is None


def basic(user):
    return {"Authorization": "Basic " + base64.b64encode(
        (user + ":pw").encode()).decode()}


def test_user_candidate_is_silent_and_names_the_user(pair):
    a, b = pair
    ra, got, log = send(a, "/auth/x.txt", headers=basic("bob"))
    same_response(ra, b.get("/auth/x.txt", headers=basic("bob")))
    assert ra.status == 200 and len(got) == 1
    e = got[0]
    assert d(e, "directive") == "Require user alice"
    assert d(e, "user") == "bob" and d(e, "rule_saw") == "user"
    # mod_authz_user's AH01663 (debug, on here) for bob would be the
    # candidate's line: providers stay silent while it is evaluated
    assert "AH01663" not in log
    ra, got, _ = send(a, "/auth/x.txt", headers=basic("alice"))
    assert ra.status == 200 and got == []


def test_candidate_needing_a_user_would_ask_for_one(pair):
    a, b = pair
    ra, got, _ = send(a, "/needuser/x.txt")
    same_response(ra, b.get("/needuser/x.txt"))
    assert ra.status == 200 and len(got) == 1
    assert d(got[0], "report_only_result") == "denied-no-user"
    assert "(401)" in d(got[0], "detail")


def test_candidate_inside_limit_covers_those_methods(pair):
    a, b = pair
    ra, got, _ = send(a, "/lim/x.txt")
    assert ra.status == 200 and got == []
    ra, got, _ = send(a, "/lim/x.txt", method="POST", body=b"x")
    rb = b.get("/lim/x.txt", method="POST", body=b"x")
    same_response(ra, rb)
    assert len(got) == 1 and d(got[0], "method") == "POST"
    assert got[0]["status"] == ra.status != 403
    assert d(got[0], "directive") == "Require ip 10.9.9.9"


def test_forbiddenexplain_off_silences_candidates(pair):
    a, _ = pair
    r, got, _ = send(a, "/quiet/x.txt")
    assert r.status == 200 and got == []


def test_internal_redirect_gives_one_entry(pair):
    a, b = pair
    ra, got, _ = send(a, "/rw/a.txt")
    same_response(ra, b.get("/rw/a.txt"))
    assert ra.status == 200 and ra.body == b"x in rw\n"
    assert len(got) == 1 and d(got[0], "directive") == "Require ip 10.9.9.9"


def test_alias_candidate_stays_out_of_httpds_trail(pair):
    a, _ = pair
    r, got, _ = send(a, "/alias/x.txt")
    assert r.status == 403 and len(got) == 1
    e = got[0]
    # httpd made one call (Require all denied); the candidate's alias calls
    # the wrapped ip provider, which must not record it
    assert e["trail_calls"] == 1 and len(e["trail"]) == 1
    assert d(e, "directive") == "Require all denied"
    assert e["report_only_would_deny"] is True
    assert d(e["report_only_rule"], "directive") == "Require lan-only"


# -- configuration checks (apache2 -t, no server started) -------------------

def configtest(make_httpd, body, with_module=True):
    h = make_httpd(name="rocfg", with_module=with_module)
    h.conf(body)
    rc, out = h.configtest()
    return h, rc, out


BAD = [
    # (lines inside the container, offending line index, message, httpd's
    #  own message for the same lines as enforced rules)
    (["Require nosuch x"], 0, "Unknown Authz provider: nosuch", True),
    (["Require all maybe"], 0,
     "Argument for 'Require all' must be 'granted' or 'denied'", True),
    (["Require not ip 10.0.0.1"], 0,
     "negative Require directive has no effect in <RequireAny> directive", True),
    (["<RequireNone>", "Require ip 10.0.0.1", "</RequireNone>"], 0,
     "<RequireNone> directive has no effect in <RequireAny> directive", True),
    (["<RequireAll>", "</RequireAll>"], 0,
     "<RequireAll> directive contains no authorization directives", True),
    (["<RequireAll>", "Require not ip 10.0.0.1", "</RequireAll>"], 0,
     "<RequireAll> directive contains only negative authorization directives",
     False),
    (["Options None"], 0, "Options is not an authorization rule", False),
    (["Deny from all"], 0, "Deny is not supported inside <ForbiddenExplainReportOnly>",
     False),
    ([RO_OPEN, "Require ip 10.0.0.1", RO_CLOSE], 0, "cannot be nested", False),
]


@pytest.mark.parametrize("inner,bad_at,message,httpd_too", BAD)
def test_bad_candidates_refused_with_file_line(make_httpd, inner, bad_at,
                                               message, httpd_too):
    body = '<Directory "{docroot}">\n%s\n%s\n%s\n</Directory>' % (
        RO_OPEN, "\n".join(inner), RO_CLOSE)
    h, rc, out = configtest(make_httpd, body)
    assert rc != 0, out
    line = h.conf_line_of(RO_OPEN) + 1 + bad_at
    assert "Syntax error on line %d of %s" % (line, h.conf_file) in out, out
    assert message in out, out
    if httpd_too:
        # stock httpd refuses the same lines as enforced rules alike
        sbody = '<Directory "{docroot}">\n%s\n</Directory>' % "\n".join(inner)
        _, src, sout = configtest(make_httpd, sbody, with_module=False)
        assert src != 0 and message in sout, sout


def test_container_inside_require_container_refused(make_httpd):
    body = ('<Directory "{docroot}">\n<RequireAll>\nRequire all granted\n%s\n'
            'Require ip 10.0.0.1\n%s\n</RequireAll>\n</Directory>' % (RO_OPEN, RO_CLOSE))
    h, rc, out = configtest(make_httpd, body)
    assert rc != 0
    assert "Syntax error on line %d of %s" % (h.conf_line_of(RO_OPEN), h.conf_file) in out
    assert "cannot be inside <RequireAll>" in out


@pytest.mark.parametrize("inner,warning", [
    (["<RequireAll>", "Require all granted", "Require not all granted",
      "</RequireAll>"], "can never grant"),
    (["Require all denied"], "can never grant"),
    (["Require all granted"], "can never deny"),
    (["Require ip 10.0.0.1", "Require all granted"], "can never deny"),
    (["Require ip 10.0.0.1", "Require env X"], None),
])
def test_useless_candidates_reported_at_startup(make_httpd, inner, warning):
    body = '<Directory "{docroot}">\n%s\n%s\n%s\n</Directory>' % (
        RO_OPEN, "\n".join(inner), RO_CLOSE)
    h, rc, out = configtest(make_httpd, body)
    assert rc == 0, out
    at = "%s:%d" % (h.conf_file, h.conf_line_of(RO_OPEN))
    if warning:
        assert "<ForbiddenExplainReportOnly> at %s %s" % (at, warning) in out, out
    else:
        assert "can never" not in out, out


def test_conf_example_parses(make_httpd):
    """conf-examples/reportonly.conf, with its custom.d files made as it
    says, is accepted by apache2 -t."""
    here = os.path.dirname(os.path.abspath(__file__))
    with open(os.path.join(here, "..", "conf-examples", "reportonly.conf")) as f:
        example = f.read()
    h = make_httpd(name="roex")
    os.makedirs(os.path.join(h.root, "custom.d"))
    for f in INCLUDED:
        shutil.copy(os.path.join(DATA, f + ".conf"),
                    os.path.join(h.root, "custom.d", f + ".conf"))
    h.write("custom.d/bb-env.conf", ENV_PART + "\n")
    h.write("custom.d/bb-rules.conf", RULE_PART + "\n")
    h.body += example.replace("/var/www/html", h.docroot) + "\n"
    rc, out = h.configtest()
    assert rc == 0, out
    assert "can never" not in out


def test_candidates_survive_graceful_restarts(make_httpd):
    h = make_httpd(name="rogr")
    h.conf('<Location "/admin">\n%s\nRequire ip 10.1.2.0/24\n%s\n</Location>'
           % (RO_OPEN, RO_CLOSE))
    h.mkdir("htdocs/admin")
    h.write("htdocs/admin/x.txt", "x\n")
    h.start()
    for _ in range(2):
        h.graceful()
        r, got, _ = send(h, "/admin/x.txt")
        assert r.status == 200 and len(got) == 1
        assert d(got[0], "directive") == "Require ip 10.1.2.0/24"
