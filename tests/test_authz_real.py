"""test_authz_real.py — Require trees from real rule sets (issue 12): the
small Bad Bot Blocker-shaped tree of the issue, and the Apache Ultimate Bad
Bot Blocker itself (tests/data/third_party/bad-bot-blocker, used as shipped:
Include'd in a <Directory>, as its README says).

Each entry must name the rule whose effect denied (not the alternatives
that merely did not grant), list every responsible rule, say which
BrowserMatchNoCase / SetEnvIfNoCase line set the variable from which header
value, and count exactly the provider calls httpd logged (AH01626)."""
import os
import re
import shutil
import subprocess

import pytest

import harness

DATA = os.path.join(os.path.dirname(__file__), "data", "third_party",
                    "bad-bot-blocker")
BLOCKER_FILES = ["globalblacklist", "blacklist-user-agents",
                 "whitelist-domains", "bad-referrer-words", "blacklist-ips",
                 "whitelist-ips"]

SMALL = '''
BrowserMatchNoCase "zgrab" bad_bot
<Directory "{docroot}/small">
  <RequireAny>
    <RequireAll>
      Require all granted
      Require not env bad_bot
    </RequireAll>
    <RequireAny>
      Require env good_bot
      Require ip 66.249.64.0/19
    </RequireAny>
  </RequireAny>
</Directory>
<Directory "{docroot}/bb">
    Include custom.d/globalblacklist.conf
</Directory>
LogLevel authz_core:debug
'''

ZGRAB = {"User-Agent": "zgrab/0.x"}
BROWSER = {"User-Agent": "Mozilla/5.0 (X11; Linux x86_64; rv:120.0) "
                         "Gecko/20100101 Firefox/120.0"}
SPAM = {"User-Agent": BROWSER["User-Agent"],
        "Referer": "http://www.esopini.com/page"}

REQUESTS = [("/small/x.txt", ZGRAB), ("/small/x.txt", BROWSER),
            ("/bb/x.txt", ZGRAB), ("/bb/x.txt", BROWSER), ("/bb/x.txt", SPAM)]


def build(with_module):
    h = harness.Httpd("azreal", with_module=with_module)
    os.makedirs(os.path.join(h.root, "custom.d"))
    for f in BLOCKER_FILES:
        shutil.copy(os.path.join(DATA, f + ".conf"),
                    os.path.join(h.root, "custom.d", f + ".conf"))
    h.conf(SMALL)
    for d in ("small", "bb"):
        h.mkdir("htdocs/" + d)
        h.write("htdocs/%s/x.txt" % d, "x\n")
    return h.start()


@pytest.fixture(scope="module")
def srv():
    h = build(True)
    yield h
    h.cleanup()


d = harness.field


def blocker_line(needle):
    with open(os.path.join(DATA, "globalblacklist.conf")) as f:
        for i, line in enumerate(f, 1):
            if needle in line:
                return i
    raise AssertionError(needle)


def leaf_calls(log_text):
    """httpd's own count: AH01626 lines of Require leaves."""
    return len(re.findall(r"AH01626: authorization result of Require ", log_text))


def send(h, uri, headers):
    before = len(h.read_error_log())
    r, e = harness.response_and_entry(h, lambda: h.get(uri, headers=headers))
    return r, e, h.read_error_log()[before:]


def test_issue_tree_names_the_refusing_rule(srv):
    r, e, log = send(srv, "/small/x.txt", ZGRAB)
    assert r.status == 403
    l_any = srv.conf_line_of('<Directory "%s/small">' % srv.docroot) + 1
    assert d(e, "decided_by") == "rule"
    assert d(e, "directive") == "Require not env bad_bot"
    assert d(e, "file") == srv.conf_file and e["line"] == l_any + 3
    assert d(e, "section") == (
        '<Directory "%s/small"> (%s:%d) > <RequireAny> (:%d) > <RequireAll> '
        '(:%d)' % (srv.docroot, srv.conf_file, l_any - 1, l_any, l_any + 1))
    # every responsible rule, with its effect
    assert [(d(x, "directive"), x["line"], d(x, "effect"))
            for x in e["responsible"]] == [
        ("Require not env bad_bot", l_any + 3, "denied"),
        ("Require env good_bot", l_any + 6, "denied"),
        ("Require ip 66.249.64.0/19", l_any + 7, "denied")]
    # the alternatives are said to have not granted, not to have decided
    assert "did not grant either: `Require env good_bot`" in d(e, "detail")
    # where bad_bot came from: the BrowserMatchNoCase line, the header value
    src = e["env_source"]
    assert len(src) == 1
    assert d(src[0], "var") == "bad_bot"
    assert d(src[0], "directive") == 'BrowserMatchNoCase "zgrab" bad_bot'
    assert d(src[0], "file") == srv.conf_file
    assert src[0]["line"] == srv.conf_line_of('BrowserMatchNoCase "zgrab"')
    assert d(src[0], "attribute") == "User-Agent"
    assert d(src[0], "value") == "zgrab/0.x" and src[0]["matched"] is True
    assert e["trail_calls"] == leaf_calls(log) == 4
    # the trail says what httpd's AH01626 lines say, in order
    ours = [(d(t, "directive"), d(t, "effect") or d(t, "result"))
            for t in e["trail"]]
    theirs = re.findall(r"AH01626: authorization result of (Require [^:]*): "
                        r"(\w+)", log)
    assert ours == theirs


def test_issue_tree_browser_allowed(srv):
    r, e, _ = send(srv, "/small/x.txt", BROWSER)
    assert r.status == 200 and e is None


def test_blocker_bad_bot(srv):
    r, e, log = send(srv, "/bb/x.txt", ZGRAB)
    assert r.status == 403
    gbl = os.path.join(srv.root, "custom.d", "globalblacklist.conf")
    assert d(e, "directive") == "Require not env bad_bot"
    assert d(e, "file") == gbl
    assert e["line"] == blocker_line("Require not env bad_bot")
    assert d(e, "decided_by") == "rule"
    # no cap drops calls: every one httpd made is counted
    calls = leaf_calls(log)
    assert calls > 150
    assert e["trail_calls"] == calls
    assert len(e["trail"]) + e["trail_omitted"] == calls
    assert e["responsible_count"] == calls - 1   # all but "all granted"
    src = e["env_source"][0]
    assert d(src, "file") == gbl
    assert src["line"] == blocker_line('BrowserMatchNoCase "(?:\\b)zgrab(?:\\b)"')
    assert d(src, "value") == "zgrab/0.x"
    assert "bad_bot was set by `BrowserMatchNoCase" in d(e, "env_origin")
    # a deliberate block: an exemption for this client, not the removal
    assert "works as intended" in d(e, "hint")
    assert "do not remove the rule" in d(e, "hint")
    # the whole explanation fits one error-log line
    assert "truncated" not in e


def test_blocker_spam_referrer(srv):
    r, e, log = send(srv, "/bb/x.txt", SPAM)
    assert r.status == 403
    assert d(e, "directive") == "Require not env spam_ref"
    assert e["line"] == blocker_line("Require not env spam_ref")
    src = e["env_source"][0]
    assert d(src, "attribute") == "Referer"
    assert d(src, "value") == SPAM["Referer"]
    assert src["line"] == blocker_line(r"Referer ~*esopini\.com spam_ref")
    assert e["trail_calls"] == leaf_calls(log)


def test_blocker_browser_allowed(srv):
    r, e, _ = send(srv, "/bb/x.txt", BROWSER)
    assert r.status == 200 and e is None


def test_statuses_identical_without_module(srv):
    stock = build(False)
    try:
        for uri, hdrs in REQUESTS:
            assert stock.get(uri, headers=hdrs).status == \
                srv.get(uri, headers=hdrs).status, (uri, hdrs)
    finally:
        stock.cleanup()


# -- issue 13: hints an administrator can follow as written -----------------
#
# Each fix is applied mechanically (apply_fix below, the "fix" convention
# shared by every subsystem) to the module server's own configuration,
# which is then served by stock httpd (the LoadModule line of the module
# commented out): the request must be allowed when hint_verified is true,
# and other protected requests of the same site must stay denied.

# Nextcloud's data/.htaccess as Setup::protectDataDirectory() writes it.
NEXTCLOUD_DATA_HTACCESS = """# Generated by Nextcloud on 2026-01-01 00:00:00
# Deployed in Nextcloud data directory
# Do not change this file

# Section for Apache 2.4 to 2.6
<IfModule mod_authz_core.c>
  Require all denied
</IfModule>
<IfModule mod_access_compat.c>
  Order Allow,Deny
  Deny from all
  Satisfy All
</IfModule>

# Section for Apache 2.2
<IfModule !mod_authz_core.c>
  <IfModule !mod_access_compat.c>
    <IfModule mod_authz_host.c>
      Order Allow,Deny
      Deny from all
    </IfModule>
    Satisfy All
  </IfModule>
</IfModule>

# Section for Apache 2.2 to 2.6
<IfModule mod_autoindex.c>
  IndexIgnore *
</IfModule>
"""

HINTS = r'''
RemoteIPHeader X-Forwarded-For
RemoteIPInternalProxy 127.0.0.1
# Debian's apache2.conf
<FilesMatch "^\.ht">
    Require all denied
</FilesMatch>
Alias /backup {root}/srv/backup
Alias /other {root}/srv/other
# munin's apache24.conf
Alias /munin {root}/srv/munin
<Directory {root}/srv/munin>
    Require local
    Options None
</Directory>
<Directory "{docroot}/nextcloud">
    AllowOverride All
</Directory>
<DirectoryMatch "/\.git">
    Require all denied
</DirectoryMatch>
<Directory "{docroot}/legacy">
    Order Deny,Allow
    Deny from all
</Directory>
<Directory "{docroot}/hx">
    Require expr "%{{HTTP:X-Token}} == 'open' && %{{HTTP_USER_AGENT}} =~ /curl/"
</Directory>
'''


def apply_fix(fix):
    """Apply a "fix" array as the convention defines it."""
    for step in fix:
        op = step["op"]
        if op == "run":
            subprocess.run([d(a, None) if False else harness.decode(a)
                            for a in step["argv"]], check=True)
            continue
        path = harness.decode(step["file"])
        lines = open(path).read().split("\n") if os.path.exists(path) else []
        if op == "replace":
            i = step["line"] - 1
            assert harness.decode(step["old"]) in lines[i]
            lines[i] = harness.decode(step["new"])
        elif op == "delete":
            i = step["line"] - 1
            assert harness.decode(step["old"]) in lines[i]
            del lines[i]
        elif op == "insert":
            at = step["after_line"]
            lines[at:at] = harness.decode(step["text"]).split("\n")
        elif op == "append":
            lines += harness.decode(step["text"]).split("\n")
        else:
            raise AssertionError("unknown op " + op)
        with open(path, "w") as f:
            f.write("\n".join(lines))


class StockCopy:
    """The module server's files, served by stock httpd after a fix."""

    def __init__(self, h):
        self.h = h
        self.conf = open(h.conf_file).read()
        self.files = {}

    def save(self, path):
        self.files[path] = open(path).read()

    def start(self, fix):
        h = self.h
        h.stop()
        with open(h.conf_file, "w") as f:
            f.write(self.conf)
        for path, text in self.files.items():
            with open(path, "w") as f:
                f.write(text)
        apply_fix(fix)
        text = open(h.conf_file).read().replace(
            "LoadModule forbidden_explain_module", "#LoadModule fx")
        with open(h.conf_file, "w") as f:
            f.write(text)
        subprocess.run([harness.APACHE, "-f", h.conf_file, "-k", "start"],
                       check=True, env=harness.httpd_env(h.env))
        h._wait_up()
        h.started = True

    def stop(self):
        self.h.stop()

    def restore(self):
        """Stop stock httpd and serve the module's files, as before, again."""
        self.stop()
        for path, text in self.files.items():
            with open(path, "w") as f:
                f.write(text)
        with open(self.h.conf_file, "w") as f:
            f.write(self.conf)
        self.h.start()


@pytest.fixture(scope="module")
def hsrv():
    h = harness.Httpd("azhint", extra_modules=["remoteip"])
    h.conf(HINTS)
    for f, text in (("srv/backup/x.txt", "b\n"), ("srv/backup/.htpasswd", "u:x\n"),
                    ("srv/other/y.txt", "o\n"), ("srv/munin/index.html", "m\n"),
                    ("htdocs/nextcloud/data/admin/files/x.txt", "n\n"),
                    ("htdocs/.htaccess", "# nothing\n"),
                    ("htdocs/.git/config", "[core]\n"),
                    ("htdocs/hx/x.txt", "h\n"),
                    ("htdocs/legacy/x.txt", "l\n")):
        h.write(f, text)
    h.write("htdocs/nextcloud/data/.htaccess", NEXTCLOUD_DATA_HTACCESS)
    h.start()
    yield h
    h.cleanup()


def entry_for(h, uri, **kw):
    r, e = harness.response_and_entry(h, lambda: h.get(uri, **kw))
    assert r.status == 403 and e is not None, (uri, r.status)
    return e


def test_debian_root_denies_alias_target(hsrv):
    h = hsrv
    e = entry_for(h, "/backup/x.txt")
    root_line = h.conf_line_of("<Directory />")
    target = os.path.join(h.root, "srv", "backup")
    assert d(e, "directive") == "Require all denied"
    assert e["line"] == root_line + 2
    assert d(e, "protection") == "filesystem-root"
    assert e["hint_verified"] is True
    assert "replace" not in d(e, "hint") and "do not change it" in d(e, "hint")
    section = '<Directory "%s">\n    Require all granted\n</Directory>' % target
    assert [{k: d(s, k) if isinstance(s[k], str) else s[k] for k in s}
            for s in e["fix"]] == [
        {"op": "insert", "file": h.conf_file, "after_line": root_line - 1,
         "text": section}]
    stock = StockCopy(h)
    try:
        stock.start(e["fix"])
        assert h.get("/backup/x.txt").status == 200
        # still protected: outside the requested directory, and a dotfile
        assert h.get("/other/y.txt").status == 403
        assert h.get("/backup/.htpasswd").status == 403
    finally:
        stock.restore()


def test_munin_require_local_behind_remoteip(hsrv):
    h = hsrv
    xff = {"X-Forwarded-For": "203.0.113.7"}
    e = entry_for(h, "/munin/", headers=xff)
    local = h.conf_line_of("Require local")
    assert d(e, "directive") == "Require local" and e["line"] == local
    assert d(e, "client_ip") == "203.0.113.7"
    # every blocker: the rule, and Debian's <Directory /> behind it
    blk = [(d(b, "directive"), b["line"]) for b in e["blockers"]]
    assert blk == [("Require local", local),
                   ("Require all denied", h.conf_line_of("<Directory />") + 2)]
    assert "removing `Require local` would not help" in d(e, "hint")
    assert e["hint_verified"] is True
    assert [(d(s, "op"), s["after_line"], d(s, "text")) for s in e["fix"]] == [
        ("insert", local, "Require ip 203.0.113.7")]
    stock = StockCopy(h)
    try:
        stock.start(e["fix"])
        assert h.get("/munin/", headers=xff).status == 200
        # this client's address only
        assert h.get("/munin/", headers={
            "X-Forwarded-For": "203.0.113.8"}).status == 403
        assert h.get("/other/y.txt").status == 403
    finally:
        stock.restore()


def test_nextcloud_data_both_protections(hsrv):
    h = hsrv
    e = entry_for(h, "/nextcloud/data/admin/files/x.txt")
    ht = os.path.join(h.docroot, "nextcloud", "data", ".htaccess")
    assert d(e, "reason") == "access-compat"
    assert d(e, "directive") == "Deny from all" and e["line"] == 11
    assert [(d(b, "directive"), d(b, "file"), b["line"], d(b, "mechanism"))
            for b in e["blockers"]] == [
        ("Deny from all", ht, 11, "access-compat"),
        ("Order Allow,Deny", ht, 10, "access-compat (no Allow line matches)"),
        ("Require all denied", ht, 7, "require")]
    hint = d(e, "hint")
    assert hint.startswith("two protections deny this request: 1) `Deny from "
                           "all`")
    assert "2) `Require all denied`" in hint
    # never the literal edit that makes a 500
    assert "remove 'all'" not in hint
    assert "fix" not in e and e["hint_verified"] is False
    assert "`Order Allow,Deny` (%s:10) denies too" % ht in hint
    # why every blocker matters: without the Deny line the Order line still
    # denies (AH01797); without both, Require all denied (AH01630)
    stock = StockCopy(h)
    stock.save(ht)
    try:
        stock.start([{"op": "delete", "file": ht, "line": 11,
                      "old": "Deny from all"}])
        assert h.get("/nextcloud/data/admin/files/x.txt").status == 403
        assert "AH01797" in h.read_error_log().splitlines()[-1]
        stock.start([{"op": "delete", "file": ht, "line": 11,
                      "old": "Deny from all"},
                     {"op": "delete", "file": ht, "line": 10,
                      "old": "Order Allow,Deny"}])
        assert h.get("/nextcloud/data/admin/files/x.txt").status == 403
        assert "AH01630" in h.read_error_log().splitlines()[-1]
    finally:
        stock.restore()


def test_deliberate_protections_work_as_intended(hsrv):
    h = hsrv
    e = entry_for(h, "/.htaccess")
    assert d(e, "protection") == "dotfiles"
    assert "works as intended" in d(e, "hint")
    # the narrow exemption of this URL only (tests/test_hints_real2.py
    # applies such fixes), never a change to the protection
    assert [(d(s, "op"), d(s, "text")) for s in e["fix"]] == [
        ("append", "<Location /.htaccess>\n    Require all granted\n"
                   "</Location>")]
    e = entry_for(h, "/.git/config")
    assert d(e, "protection") == "vcs"
    assert d(e, "section").startswith('<DirectoryMatch "/%5C.git">'.replace(
        "%5C", "\\"))
    assert "do not remove or widen the protection" in d(e, "hint")


def test_expr_names_the_headers_it_read(hsrv):
    e = entry_for(hsrv, "/hx/x.txt", headers={"X-Token": "closed",
                                              "User-Agent": "curl/8"})
    assert d(e, "rule_saw") == "expr"
    assert d(e, "expr_headers") == "X-Token: closed; USER-AGENT: curl/8"
    e = entry_for(hsrv, "/hx/x.txt", headers={"User-Agent": "wget"})
    assert d(e, "expr_headers") == "X-Token: (absent); USER-AGENT: wget"


def test_compat_allow_for_this_client_verified(hsrv):
    h = hsrv
    e = entry_for(h, "/legacy/x.txt")
    deny = h.conf_line_of("Deny from all")
    assert d(e, "directive") == "Deny from all"
    assert "remove 'all'" not in d(e, "hint")
    assert e["hint_verified"] is True
    assert [(d(s, "op"), s["after_line"], d(s, "text")) for s in e["fix"]] == [
        ("insert", deny, "Allow from 127.0.0.1")]
    stock = StockCopy(h)
    try:
        stock.start(e["fix"])
        assert h.get("/legacy/x.txt").status == 200
        # this client only
        assert h.get("/legacy/x.txt", source="127.0.0.2").status == 403
        assert h.get("/other/y.txt").status == 403
    finally:
        stock.restore()
