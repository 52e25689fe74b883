"""test_hints_real2.py — issue 13, what remained: hints an administrator can
follow blindly.  For each 403 the entry's machine-readable "fix" is applied
mechanically (harness.fixed_copy) to a copy of the site served by STOCK
httpd: the request must then be allowed whenever hint_verified is true, and
no applied fix may let a different protected request of the same site
through (a dotfile, a backup, a VCS file, another client, a path outside
the requested directory).

* deliberate protections (Debian's <FilesMatch "^\\.ht">, a backup/dump
  FilesMatch inside an address-restricted directory, a .git DirectoryMatch)
  get a narrow exemption for the one URL that restates the Require lines the
  protection replaced, never its removal."""
import pytest

import harness
from harness import decode, fixed_copy, one_entry

PROTECT = r'''
# Debian's apache2.conf
<FilesMatch "^\.ht">
    Require all denied
</FilesMatch>
<Directory "{docroot}/priv">
    Require ip 127.0.0.1
    <FilesMatch "\.(bak|sql)$">
        Require all denied
    </FilesMatch>
</Directory>
<DirectoryMatch "/\.git">
    Require all denied
</DirectoryMatch>
<Directory "{docroot}/old">
    <Files ".env">
        Order Deny,Allow
        Deny from all
    </Files>
</Directory>
'''


@pytest.fixture(scope="module")
def prot():
    h = harness.Httpd("hr2prot")
    h.conf(PROTECT)
    for f in ("htdocs/.htaccess", "htdocs/.htpasswd", "htdocs/priv/x.txt",
              "htdocs/priv/dump.sql", "htdocs/priv/other.sql",
              "htdocs/priv/sub/dump.sql", "htdocs/priv/.htaccess",
              "htdocs/.git/config", "htdocs/.git/HEAD", "htdocs/x.txt",
              "htdocs/old/.env", "htdocs/old/sub/.env"):
        h.write(f, "x\n")
    h.start()
    yield h
    h.cleanup()


def entry(h, uri, **kw):
    r, e = harness.response_and_entry(h, lambda: h.get(uri, **kw))
    assert r.status == 403 and e is not None, (uri, r.status)
    return e


# every protected request of the protection site, with its client
PROTECTED = [("/.htaccess", "127.0.0.1"), ("/.htpasswd", "127.0.0.1"),
             ("/priv/.htaccess", "127.0.0.1"), ("/priv/dump.sql", "127.0.0.1"),
             ("/priv/dump.sql", "127.0.0.2"), ("/priv/other.sql", "127.0.0.1"),
             ("/priv/sub/dump.sql", "127.0.0.1"), ("/priv/x.txt", "127.0.0.2"),
             ("/.git/config", "127.0.0.1"), ("/.git/HEAD", "127.0.0.1"),
             ("/old/.env", "127.0.0.1"), ("/old/sub/.env", "127.0.0.1")]


def check_fix(h, e, uri, source="127.0.0.1", protected=PROTECTED):
    """Apply e's fix to a stock copy: uri allowed when verified, every
    other protected request still denied."""
    b = fixed_copy(h, e["fix"])
    try:
        status = b.get(uri, source=source).status
        if e["hint_verified"] is True:
            assert status == 200, (uri, e)
        for other, src in protected:
            if (other, src) != (uri, source):
                assert b.get(other, source=src).status == 403, (uri, other, src)
    finally:
        b.cleanup()


@pytest.mark.parametrize("uri,prot_name,restated", [
    ("/.htaccess", "dotfiles", "Require all granted"),
    ("/priv/dump.sql", "backup", "Require ip 127.0.0.1"),
    ("/.git/config", "vcs", "Require all granted")])
def test_protection_exempts_this_url_only(prot, uri, prot_name, restated):
    e = entry(prot, uri)
    assert decode(e["directive"]) == "Require all denied"
    assert decode(e["protection"]) == prot_name
    hint = decode(e["hint"])
    assert "works as intended" in hint and "do not remove" in hint
    assert "If this URL should be served" in hint
    (op,) = e["fix"]
    assert op["op"] == "append"
    assert decode(op["text"]) == '<Location %s>\n    %s\n</Location>' % (
        uri, restated)
    assert e["hint_verified"] is True, e
    check_fix(prot, e, uri)


def test_compat_protection_gets_no_allow_line(prot):
    # `Deny from all` in a <Files ".env">: an `Allow from <client>` would
    # open every .env below the section to this client; none is proposed
    e = entry(prot, "/old/.env")
    assert decode(e["directive"]) == "Deny from all"
    assert decode(e["protection"]) == "secret-file"
    assert "works as intended" in decode(e["hint"])
    assert "fix" not in e and e["hint_verified"] is False


# -- user, method, <Limit>, env and expr rules --------------------------------

WHO = r'''
BrowserMatchNoCase "badbot" bad_bot
<Directory "{docroot}/u">
    AuthType Basic
    AuthName who
    AuthUserFile {root}/htpasswd
    AuthzSendForbiddenOnFailure On
    Require user alice
</Directory>
<Directory "{docroot}/ua">
    AuthType Basic
    AuthName who
    AuthUserFile {root}/htpasswd
    AuthzSendForbiddenOnFailure On
    <RequireAll>
        Require user alice
        Require ip 127.0.0.1
    </RequireAll>
</Directory>
<Directory "{docroot}/ub">
    AuthType Basic
    AuthName who
    AuthUserFile {root}/htpasswd
    AuthzSendForbiddenOnFailure On
    <RequireAll>
        Require user alice
        Require ip 10.9.9.9
    </RequireAll>
</Directory>
<Directory "{docroot}/mb">
    <RequireAll>
        Require method GET HEAD
        Require env letin
    </RequireAll>
</Directory>
<Directory "{docroot}/m">
    Require method GET HEAD
</Directory>
<Directory "{docroot}/ma">
    <RequireAll>
        Require method GET HEAD
        Require ip 127.0.0.1
    </RequireAll>
</Directory>
<Directory "{docroot}/lim">
    <RequireAll>
        Require ip 127.0.0.1
        <LimitExcept GET HEAD>
            Require all denied
        </LimitExcept>
    </RequireAll>
</Directory>
# Debian's userdir.conf, with OPTIONS left out of both lists
<Directory "{docroot}/userdir">
    <Limit GET POST>
        Require all granted
    </Limit>
    <LimitExcept GET POST>
        Require all denied
    </LimitExcept>
</Directory>
<Directory "{docroot}/env">
    <RequireAll>
        Require all granted
        Require not env bad_bot
    </RequireAll>
</Directory>
<Directory "{docroot}/hx">
    Require expr "%{{HTTP:X-Token}} == 'open'"
</Directory>
'''


def basic(user):
    import base64
    return {"Authorization": "Basic " + base64.b64encode(
        ("%s:pw" % user).encode()).decode()}


BOT = {"User-Agent": "BadBot/1.0"}


@pytest.fixture(scope="module")
def who():
    import base64
    import hashlib
    h = harness.Httpd("hr2who")
    sha = "{SHA}" + base64.b64encode(hashlib.sha1(b"pw").digest()).decode()
    h.write("htpasswd", "".join("%s:%s\n" % (u, sha)
                                for u in ("alice", "bob", "carol")))
    h.conf(WHO)
    for d in ("u", "ua", "ub", "mb", "m", "ma", "lim", "userdir", "env", "hx"):
        h.write("htdocs/%s/x.txt" % d, "x\n")
    h.start()
    yield h
    h.cleanup()


# (uri, method, source, headers) of every request the site refuses
WHO_DENIED = [("/u/x.txt", "GET", "127.0.0.1", basic("bob")),
              ("/u/x.txt", "GET", "127.0.0.1", basic("carol")),
              ("/ua/x.txt", "GET", "127.0.0.1", basic("bob")),
              ("/ua/x.txt", "GET", "127.0.0.2", basic("alice")),
              ("/ua/x.txt", "GET", "127.0.0.1", basic("carol")),
              ("/m/x.txt", "OPTIONS", "127.0.0.1", {}),
              ("/m/x.txt", "DELETE", "127.0.0.1", {}),
              ("/ma/x.txt", "OPTIONS", "127.0.0.1", {}),
              ("/ma/x.txt", "GET", "127.0.0.2", {}),
              ("/lim/x.txt", "OPTIONS", "127.0.0.1", {}),
              ("/lim/x.txt", "DELETE", "127.0.0.1", {}),
              ("/lim/x.txt", "GET", "127.0.0.2", {}),
              ("/userdir/x.txt", "OPTIONS", "127.0.0.1", {}),
              ("/env/x.txt", "GET", "127.0.0.1", BOT),
              ("/env/x.txt", "GET", "127.0.0.2", BOT),
              ("/hx/x.txt", "GET", "127.0.0.1", {}),
              ("/ub/x.txt", "GET", "127.0.0.1", basic("bob")),
              ("/mb/x.txt", "OPTIONS", "127.0.0.1", {})]


def who_entry(h, uri, method, source, headers):
    r, e = harness.response_and_entry(
        h, lambda: h.request(uri, method=method, source=source,
                             headers=headers))
    assert r.status == 403 and e is not None, (uri, method, r.status)
    return e


def apply_and_check(h, e, req):
    """The fix on a stock copy: req allowed when verified (for a fix that
    is not verified, the status stock httpd gives is returned), every other
    denied request of the site still denied."""
    b = fixed_copy(h, e["fix"])
    try:
        uri, method, source, headers = req
        status = b.request(uri, method=method, source=source,
                           headers=headers).status
        if e["hint_verified"] is True:
            assert status == 200, (req, e)
        for other in WHO_DENIED:
            if other != req:
                u, m, s, hd = other
                assert b.request(u, method=m, source=s,
                                 headers=hd).status == 403, (req, other)
        return status
    finally:
        b.cleanup()


def ops(e):
    return [{k: decode(v) if isinstance(v, str) else v for k, v in s.items()}
            for s in e["fix"]]


def test_require_user_adds_this_user_next_to_it(who):
    req = WHO_DENIED[0]
    e = who_entry(who, *req)
    line = who.conf_line_of("Require user alice")
    assert ops(e) == [{"op": "insert", "file": who.conf_file,
                       "after_line": line, "text": "Require user bob"}]
    assert e["hint_verified"] is True, e
    assert "add `Require user bob` next to it" in decode(e["hint"])
    apply_and_check(who, e, req)


def test_require_user_in_require_all_changes_the_line(who):
    req = WHO_DENIED[2]
    e = who_entry(who, *req)
    line = who.conf_line_of("Require user alice", ) + 0
    # the second "Require user alice" is the one in <RequireAll>
    line = [i for i, t in enumerate(open(who.conf_file), 1)
            if "Require user alice" in t][1]
    assert ops(e) == [{"op": "replace", "file": who.conf_file, "line": line,
                       "old": "Require user alice",
                       "new": "Require user alice bob"}]
    assert e["hint_verified"] is True, e
    apply_and_check(who, e, req)


def test_require_method_any_and_all(who):
    req = WHO_DENIED[5]
    e = who_entry(who, *req)
    assert ops(e) == [{"op": "insert", "file": who.conf_file,
                       "after_line": who.conf_line_of(
                           '<Directory "%s/m">' % who.docroot) + 1,
                       "text": "Require method OPTIONS"}]
    assert e["hint_verified"] is True, e
    apply_and_check(who, e, req)
    req = WHO_DENIED[7]
    e = who_entry(who, *req)
    (op,) = ops(e)
    assert (op["op"], op["new"]) == ("replace", "Require method GET HEAD OPTIONS")
    assert e["hint_verified"] is True, e
    apply_and_check(who, e, req)


def test_limit_except_adds_the_method(who):
    req = WHO_DENIED[9]
    e = who_entry(who, *req)
    (op,) = ops(e)
    assert op["op"] == "replace" and op["new"] == "<LimitExcept GET HEAD OPTIONS>"
    assert op["line"] == who.conf_line_of("<LimitExcept GET HEAD>")
    assert e["hint_verified"] is True, e
    apply_and_check(who, e, req)


def test_userdir_limit_adds_the_method(who):
    # Debian's userdir.conf with OPTIONS left out of both lists: after the
    # fix no Require line of that section covers OPTIONS, so httpd skips
    # the section (granted); the replay drops the <LimitExcept>'s lines and
    # re-evaluates what is left
    req = WHO_DENIED[12]
    e = who_entry(who, *req)
    (op,) = ops(e)
    assert op["new"] == "<LimitExcept GET POST OPTIONS>"
    assert e["hint_verified"] is True, e
    assert apply_and_check(who, e, req) == 200


def test_not_env_exempts_this_client_after_the_setter(who):
    req = WHO_DENIED[13]
    e = who_entry(who, *req)
    assert ops(e) == [{"op": "insert", "file": who.conf_file,
                       "after_line": who.conf_line_of('BrowserMatchNoCase "badbot"'),
                       "text": 'SetEnvIf Remote_Addr "^127\\.0\\.0\\.1$" !bad_bot'}]
    assert e["hint_verified"] is True, e
    assert "works as intended" in decode(e["hint"])
    apply_and_check(who, e, req)


def test_expr_is_not_claimed(who):
    e = who_entry(who, *WHO_DENIED[15])
    assert "fix" not in e and e["hint_verified"] is False
    assert "expression" in decode(e["hint_unverified"])


def test_fix_not_claimed_when_another_rule_denies(who):
    # <RequireAll> stopped at `Require method GET HEAD`; `Require env letin`
    # (never evaluated by httpd) denies this request too
    req = WHO_DENIED[17]
    e = who_entry(who, *req)
    (op,) = ops(e)
    assert op["new"] == "Require method GET HEAD OPTIONS"
    assert e["hint_verified"] is False
    assert apply_and_check(who, e, req) == 403
    # an address rule in a <RequireAll>: the address joins that line; the
    # user rule next to it still denies, and nothing claims otherwise
    req = WHO_DENIED[16]
    e = who_entry(who, *req)
    (op,) = ops(e)
    assert (op["op"], op["new"]) == ("replace", "Require ip 10.9.9.9 127.0.0.1")
    assert e["hint_verified"] is False
    assert apply_and_check(who, e, req) == 403


# -- every blocker: what runs after authorization ------------------------------

AFTER = r'''
<Directory "{docroot}/rw">
    Require ip 10.9.9.9
    RewriteEngine On
    RewriteRule ^x\.txt$ - [F]
</Directory>
<Directory "{docroot}/rwok">
    Require ip 10.9.9.9
    RewriteEngine On
    RewriteRule ^other\.txt$ - [F]
</Directory>
<Directory "{docroot}/perm">
    Require ip 10.9.9.9
</Directory>
'''

AFTER_DENIED = ["/rw/x.txt", "/rw/other.txt", "/rwok/other.txt",
                "/perm/secret.txt", "/rwok/x.txt"]


@pytest.fixture(scope="module")
def after():
    h = harness.Httpd("hr2after")
    h.conf(AFTER)
    for f in ("rw/x.txt", "rw/other.txt", "rwok/x.txt", "rwok/other.txt"):
        h.write("htdocs/" + f, "x\n")
    # a file of secrets: mode 0600, root's
    h.write("htdocs/perm/secret.txt", "s\n", mode=0o600)
    h.start()
    yield h
    h.cleanup()


def after_check(h, e, uri):
    """Apply e's fix on a stock copy: the status of uri there, every other
    request of AFTER_DENIED still refused (the fix is for this address:
    they are sent from another one)."""
    b = fixed_copy(h, e["fix"])
    try:
        for other in AFTER_DENIED:
            assert b.get(other, source="127.0.0.2").status == 403, other
        return b.get(uri).status
    finally:
        b.cleanup()


def test_rewrite_after_the_authz_fix_is_a_blocker(after):
    e = entry(after, "/rw/x.txt")
    assert decode(e["directive"]) == "Require ip 10.9.9.9"
    rule = after.conf_line_of(r"RewriteRule ^x\.txt$ - [F]")
    blk = [(decode(b.get("directive", "")), b.get("line"),
            decode(b["mechanism"])) for b in e["blockers"]]
    assert blk == [("Require ip 10.9.9.9", rule - 2, "require"),
                   (r"RewriteRule ^x\.txt$ - [F]", rule,
                    "mod_rewrite (replayed after the change)")]
    hint = decode(e["hint"])
    assert hint.startswith("two protections deny this request: 1) `Require "
                           "ip 10.9.9.9` (%s:%d) 2) `RewriteRule" % (
                               after.conf_file, rule - 2)), hint
    assert e["hint_verified"] is False
    assert "would still deny" in decode(e["hint_unverified"])
    assert after_check(after, e, "/rw/x.txt") == 403


def test_rewrite_replay_clears_rules_that_do_not_match(after):
    # the same section's rule does not match x.txt: replayed, it lets the
    # request through, so the fix is verified where it once was not
    e = entry(after, "/rwok/x.txt")
    assert [b["mechanism"] for b in e["blockers"]] == ["require"]
    assert e["hint_verified"] is True, e
    assert after_check(after, e, "/rwok/x.txt") == 200
    # ... and for the URL it does match, it is a blocker
    e = entry(after, "/rwok/other.txt")
    assert [b["mechanism"] for b in e["blockers"]][-1] == \
        "mod_rewrite (replayed after the change)"
    assert e["hint_verified"] is False


def test_unreadable_file_behind_a_require_is_a_blocker(after):
    e = entry(after, "/perm/secret.txt")
    (req, perm) = e["blockers"]
    assert decode(req["directive"]) == "Require ip 10.9.9.9"
    assert {k: decode(v) for k, v in perm.items()} == {
        "mechanism": "permission", "missing": "r", "mode": "0600",
        "owner": "root", "group": "root", "perm_class": "other",
        "path": after.docroot + "/perm/secret.txt"}
    hint = decode(e["hint"])
    assert hint.startswith("two protections deny this request: 1) `Require "
                           "ip 10.9.9.9`"), hint
    assert "cannot read %s/perm/secret.txt (-rw------- 0600, owner root" % (
        after.docroot) in hint
    assert e["hint_verified"] is False
    assert after_check(after, e, "/perm/secret.txt") == 403


def test_modsecurity_rules_already_matched_are_named(make_httpd):
    # a phase-1 rule that logs without denying (post_read_request, before
    # authorization), then a Require that denies: ModSecurity is named as
    # a blocker the module does not re-evaluate, with the rule that matched
    h = make_httpd(name="hr2waf", extra_modules=["unique_id", "security2"])
    h.conf("SecRuleEngine On")
    h.conf("SecTmpDir {root}/logs")
    h.conf("SecDataDir {root}/logs")
    h.conf("SecAuditEngine Off")
    h.body += ("SecRule REQUEST_HEADERS:X-Odd \"@streq 1\" "
               "\"id:10077,phase:1,pass,log,msg:'odd header'\"\n")
    h.conf('<Directory "{docroot}/w">\n    Require ip 10.9.9.9\n</Directory>')
    h.write("htdocs/w/x.txt", "x\n")
    h.start()
    r, e = harness.response_and_entry(
        h, lambda: h.get("/w/x.txt", headers={"X-Odd": "1"}))
    assert r.status == 403
    assert decode(e["directive"]) == "Require ip 10.9.9.9"
    waf = e["blockers"][-1]
    assert decode(waf["mechanism"]) == "waf (not re-evaluated)"
    assert [decode(i) for i in waf["rule_ids"]] == ["10077"]
    assert "2) ModSecurity" in decode(e["hint"])
    assert e["hint_verified"] is False
    # without a matching rule, nothing is claimed about the WAF
    r, e = harness.response_and_entry(h, lambda: h.get("/w/x.txt"))
    assert [b["mechanism"] for b in e["blockers"]] == ["require"]
    assert "ModSecurity" in decode(e["hint_unverified"])


# -- real third-party configurations, as shipped --------------------------------
#
# tests/data/third_party (each with a NOTE of origin and licence): Debian's
# phpmyadmin conf snippet, the Sucuri WordPress plugin's uploads .htaccess
# (current and legacy Order/Deny style), h5bp's full .htaccess.  Every 403
# of the site is explained; every fix is applied to a stock copy; no fix
# lets another protected request through.

import os
import shutil

DATA = os.path.join(os.path.dirname(__file__), "data", "third_party")

REAL = r'''
# Debian's apache2.conf
<FilesMatch "^\.ht">
    Require all denied
</FilesMatch>
<Directory {root}/usr/share>
    AllowOverride None
    Require all granted
</Directory>
<Directory "{docroot}/wp">
    AllowOverride All
</Directory>
<Directory "{docroot}/wp2">
    AllowOverride All
</Directory>
<Directory "{docroot}/h5bp">
    AllowOverride All
</Directory>
'''

# (uri, must be denied): every protected request of the site
REAL_DENIED = ["/phpmyadmin/templates/x.twig", "/phpmyadmin/templates/y.twig",
               "/phpmyadmin/libraries/x.php", "/phpmyadmin/.htaccess",
               "/wp/wp-content/uploads/shell.php",
               "/wp/wp-content/uploads/2026/x.php",
               "/wp/wp-content/uploads/.htaccess",
               "/wp2/wp-content/uploads/shell.php",
               "/h5bp/dump.sql", "/h5bp/other.sql", "/h5bp/sub/dump.sql",
               "/h5bp/app.log", "/h5bp/.env", "/h5bp/.git/config"]
REAL_ALLOWED = ["/phpmyadmin/index.html", "/wp/wp-content/uploads/a.jpg",
                "/h5bp/index.html"]


@pytest.fixture(scope="module")
def real():
    h = harness.Httpd("hr2real")
    with open(os.path.join(DATA, "phpmyadmin", "apache.conf")) as f:
        pma = f.read().replace("/usr/share/phpmyadmin",
                               h.root + "/usr/share/phpmyadmin")
    # inline, so that harness.fixed_copy's copy rewrites its paths too
    h.conf(REAL)
    h.body += "# Debian's /etc/phpmyadmin/apache.conf\n" + pma
    for f in ("index.html", "templates/x.twig", "templates/y.twig",
              "libraries/x.php", ".htaccess"):
        h.write("usr/share/phpmyadmin/" + f, "p\n")
    up = "htdocs/wp/wp-content/uploads/"
    shutil.copy(os.path.join(DATA, "sucuri", "uploads.htaccess"),
                h.write(up + ".htaccess", ""))
    for f in ("shell.php", "2026/x.php", "a.jpg"):
        h.write(up + f, "w\n")
    up2 = "htdocs/wp2/wp-content/uploads/"
    shutil.copy(os.path.join(DATA, "sucuri", "legacy-uploads.htaccess"),
                h.write(up2 + ".htaccess", ""))
    h.write(up2 + "shell.php", "w\n")
    shutil.copy(os.path.join(DATA, "h5bp-htaccess"),
                h.write("htdocs/h5bp/.htaccess", ""))
    for f in ("dump.sql", "other.sql", "sub/dump.sql", "app.log", ".env",
              ".git/config", "index.html"):
        h.write("htdocs/h5bp/" + f, "h\n")
    h.start()
    yield h
    h.cleanup()


def hint_names_every_blocker(e):
    if len(e.get("blockers", [])) < 2:
        return
    hint = decode(e["hint"])
    for b in e["blockers"]:
        named = decode(b.get("directive") or b.get("path") or "")
        assert named and (named in hint or str(b.get("line", "?")) in hint), (
            b, hint)


def test_real_configs_every_403_and_every_fix(real):
    for uri in REAL_ALLOWED:
        assert real.get(uri).status == 200, uri
    entries = {}
    for uri in REAL_DENIED:
        entries[uri] = entry(real, uri)
        e = entries[uri]
        if e.get("blockers") and e.get("directive"):
            assert decode(e["blockers"][0]["directive"]) == \
                decode(e["directive"]), (uri, e)
        hint_names_every_blocker(e)
    # what each one says
    e = entries["/phpmyadmin/templates/x.twig"]
    assert "refuses every client there, deliberately" in decode(e["hint"])
    assert e["hint_verified"] is True
    for uri in ("/wp/wp-content/uploads/shell.php",
                "/wp2/wp-content/uploads/shell.php"):
        e = entries[uri]
        assert decode(e["protection"]) == "upload-noexec", (uri, e)
        assert "fix" not in e and e["hint_verified"] is False, (uri, e)
        assert "never enable ExecCGI" in decode(e["hint"])
    assert decode(entries["/wp2/wp-content/uploads/shell.php"]["directive"]) \
        == "Deny from all"
    assert decode(entries["/h5bp/dump.sql"]["protection"]) == "backup"
    fixed = 0
    for uri, e in entries.items():
        if "fix" not in e:
            continue
        b = fixed_copy(real, e["fix"])
        try:
            status = b.get(uri).status
            if e["hint_verified"] is True:
                assert status == 200, (uri, e)
            for other in REAL_DENIED:
                if other != uri:
                    assert b.get(other).status == 403, (uri, other, e["fix"])
            for other in REAL_ALLOWED:
                assert b.get(other).status == 200, (uri, other)
        finally:
            b.cleanup()
        fixed += 1
    assert fixed >= 3, fixed


def test_bad_bot_blocker_exemption_for_this_client(make_httpd):
    # the Apache Ultimate Bad Bot Blocker as shipped (tests/data/third_party/
    # bad-bot-blocker, Include'd in a <Directory> as its README says):
    # `Require not env bad_bot` denies zgrab; the fix exempts this client
    # right after the BrowserMatchNoCase line that set bad_bot
    bb = os.path.join(DATA, "bad-bot-blocker")
    h = make_httpd(name="hr2bb")
    os.makedirs(os.path.join(h.root, "custom.d"))
    for f in os.listdir(bb):
        if f.endswith(".conf"):
            shutil.copy(os.path.join(bb, f), os.path.join(h.root, "custom.d"))
    h.conf('<Directory "{docroot}/bb">\n'
           '    Include custom.d/globalblacklist.conf\n</Directory>')
    h.write("htdocs/bb/x.txt", "x\n")
    h.start()
    zgrab = {"User-Agent": "zgrab/0.x"}
    spam = {"User-Agent": "Mozilla/5.0", "Referer": "http://www.esopini.com/p"}
    r, e = harness.response_and_entry(h, lambda: h.get("/bb/x.txt",
                                                       headers=zgrab))
    assert r.status == 403
    assert decode(e["directive"]) == "Require not env bad_bot"
    gbl = os.path.join(h.root, "custom.d", "globalblacklist.conf")
    setter = [i for i, t in enumerate(open(gbl), 1)
              if 'BrowserMatchNoCase "(?:\\b)zgrab(?:\\b)"' in t]
    assert ops(e) == [{"op": "insert", "file": gbl, "after_line": setter[0],
                       "text": 'SetEnvIf Remote_Addr "^127\\.0\\.0\\.1$" '
                               '!bad_bot'}]
    assert e["hint_verified"] is True, e
    assert "do not remove the rule" in decode(e["hint"])
    # an entry over its budget: the trail items the size policy leaves out
    # are counted in trail_omitted with the producer's own (every call)
    long_uri = "/bb/" + "/".join(c * 240 for c in "acd") + ".txt"
    r, big = harness.response_and_entry(h, lambda: h.get(
        long_uri, headers={"User-Agent": "zgrab/0.x " + "b" * 200}))
    assert "trail" in big["truncated"], big["truncated"]
    assert len(big["trail"]) + big["trail_omitted"] == big["trail_calls"]
    b = fixed_copy(h, e["fix"])
    try:
        assert b.get("/bb/x.txt", headers=zgrab).status == 200
        # another client, another block list: still refused
        assert b.get("/bb/x.txt", headers=zgrab,
                     source="127.0.0.2").status == 403
        assert b.get("/bb/x.txt", headers=spam).status == 403
    finally:
        b.cleanup()


def test_env_origin_from_htaccess(make_httpd):
    # SetEnvIf/BrowserMatch lines of an .htaccess file are origins too
    # (read again at 403 time), and the exemption goes right after them
    h = make_httpd(name="hr2htenv")
    h.conf('<Directory "{docroot}/ht">\n    AllowOverride All\n</Directory>')
    h.write("htdocs/ht/.htaccess", "# block list\n"
            'BrowserMatchNoCase "evilbot" bad_bot\n'
            'SetEnvIfNoCase Referer "spam\\.example" bad_bot\n'
            "<RequireAll>\n    Require all granted\n"
            "    Require not env bad_bot\n</RequireAll>\n")
    h.write("htdocs/ht/x.txt", "x\n")
    h.start()
    bot = {"User-Agent": "EvilBot/2"}
    r, e = harness.response_and_entry(h, lambda: h.get("/ht/x.txt",
                                                       headers=bot))
    assert r.status == 403
    ht = h.docroot + "/ht/.htaccess"
    (src,) = e["env_source"]
    assert (decode(src["directive"]), decode(src["file"]), src["line"]) == (
        'BrowserMatchNoCase "evilbot" bad_bot', ht, 2)
    assert decode(src["value"]) == "EvilBot/2"
    assert ops(e) == [{"op": "insert", "file": ht, "after_line": 2,
                       "text": 'SetEnvIf Remote_Addr "^127\\.0\\.0\\.1$" '
                               '!bad_bot'}]
    assert e["hint_verified"] is True, e
    # the referer line, later in the file, is the origin when it matches
    r, e2 = harness.response_and_entry(h, lambda: h.get(
        "/ht/x.txt", headers={"User-Agent": "EvilBot/2",
                              "Referer": "http://spam.example/"}))
    assert e2["env_source"][0]["line"] == 3
    b = fixed_copy(h, e["fix"])
    try:
        assert b.get("/ht/x.txt", headers=bot).status == 200
        assert b.get("/ht/x.txt", headers=bot,
                     source="127.0.0.2").status == 403
    finally:
        b.cleanup()
